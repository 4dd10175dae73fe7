"""torch -> ONNX, checked against onnxruntime on real samples before anything is built on it."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import ExportError
from zkml.layout import ModelLayout, atomic_path, read_json, write_json
from zkml.models.base import LoadedModel

OPSET = 18  # ezkl's tract reads opset <= 18 graphs from torch's TorchScript exporter
DEFAULT_ATOL = 1e-4


@dataclass
class ExportedModel:
    """What later stages need from export, read back from samples.json."""

    input_shape: tuple[int, ...]
    output_shapes: list[tuple[int, ...]]
    calibration: np.ndarray
    holdout: np.ndarray
    holdout_reference: list[np.ndarray]  # float model outputs on holdout, one array per output
    holdout_labels: np.ndarray | None
    classes: list[str] | None

    @classmethod
    def load(cls, layout: ModelLayout) -> ExportedModel:
        layout.require(layout.samples, layout.onnx, stage="export")
        data = read_json(layout.samples, "sample file")
        shape = tuple(data["input_shape"])
        return cls(
            input_shape=shape,
            output_shapes=[tuple(s) for s in data["output_shapes"]],
            calibration=np.asarray(data["calibration"], dtype=np.float32).reshape(-1, *shape[1:]),
            holdout=np.asarray(data["holdout"], dtype=np.float32).reshape(-1, *shape[1:]),
            holdout_reference=[np.asarray(r, dtype=np.float64) for r in data["holdout_reference"]],
            holdout_labels=None if data["holdout_labels"] is None
            else np.asarray(data["holdout_labels"]),
            classes=data.get("classes"),
        )


def run_onnx(onnx_path: Path, samples: np.ndarray) -> list[np.ndarray]:
    """Outputs of the ONNX graph on each sample (batch 1, as the circuit sees it), stacked."""
    import onnxruntime as ort

    try:
        session = ort.InferenceSession(str(onnx_path), providers=["CPUExecutionProvider"])
    except Exception as exc:
        raise ExportError(f"onnxruntime cannot load {onnx_path}: {exc}") from None
    input_name = session.get_inputs()[0].name
    per_sample = [session.run(None, {input_name: s[None].astype(np.float32)}) for s in samples]
    return [np.concatenate([outs[i] for outs in per_sample]) for i in range(len(per_sample[0]))]


def _run_torch(module: Any, samples: np.ndarray) -> list[np.ndarray]:
    import torch

    with torch.no_grad():
        outputs = [module(torch.from_numpy(s[None])) for s in samples]
    if isinstance(outputs[0], torch.Tensor):
        outputs = [(o,) for o in outputs]
    return [np.concatenate([o[i].numpy() for o in outputs]) for i in range(len(outputs[0]))]


def _torch_to_onnx(model: LoadedModel, target: Path) -> None:
    import torch

    example = torch.from_numpy(model.holdout[:1])
    try:
        torch.onnx.export(
            model.module,
            example,
            str(target),
            input_names=["input"],
            opset_version=OPSET,
            dynamo=False,
        )
    except Exception as exc:
        raise ExportError(
            f"torch could not export {model.name} to ONNX: {type(exc).__name__}: {exc}",
            hint="the model must be traceable with a fixed input shape",
        ) from None


def export(model: LoadedModel, layout: ModelLayout, atol: float = DEFAULT_ATOL) -> dict[str, Any]:
    """Write model.onnx, samples.json and export.json; fail if ONNX and torch disagree."""
    layout.root.mkdir(parents=True, exist_ok=True)
    check_samples = model.holdout[:32]
    with atomic_path(layout.onnx) as tmp:
        if model.onnx_path is not None:
            shutil.copyfile(model.onnx_path, tmp)
            reference = run_onnx(tmp, model.holdout)
            differences = None
        else:
            _torch_to_onnx(model, tmp)
            reference = _run_torch(model.module, model.holdout)
            exported = run_onnx(tmp, check_samples)
            differences = [
                float(np.max(np.abs(r[: len(check_samples)] - e)))
                for r, e in zip(reference, exported, strict=True)
            ]
            worst = max(differences)
            if worst > atol:
                raise ExportError(
                    f"ONNX output differs from torch by {worst:.3g} (tolerance {atol:g}) "
                    f"on {len(check_samples)} samples",
                    hint="the graph uses an op the exporter translates differently; "
                    "check it with onnxruntime, or raise --atol if the difference is expected",
                )
    report = {
        "model": model.name,
        "source": model.description,
        "opset": OPSET,
        "input_shape": list(model.input_shape),
        "output_shapes": [[1, *r.shape[1:]] for r in reference],
        "checked_samples": len(check_samples) if differences is not None else 0,
        "atol": atol,
        "max_abs_difference": differences,
    }
    write_json(
        layout.samples,
        {
            "input_shape": list(model.input_shape),
            "output_shapes": report["output_shapes"],
            "calibration": model.calibration.tolist(),
            "holdout": model.holdout.tolist(),
            "holdout_reference": [r.tolist() for r in reference],
            "holdout_labels": None if model.holdout_labels is None
            else model.holdout_labels.tolist(),
            "classes": model.classes,
        },
        private=True,  # sample records can be as sensitive as the inputs proved later
    )
    write_json(layout.export_report, report)
    return report
