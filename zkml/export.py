"""torch -> ONNX, checked against onnxruntime on real samples before anything is built on it."""

from __future__ import annotations

import contextlib
import dataclasses
import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import ArtifactError, ExportError
from zkml.layout import Manifest, ModelLayout, atomic_path, read_json, write_json
from zkml.models.base import LoadedModel, ModelSource
from zkml.results import StageResult
from zkml.signature import Signature

log = logging.getLogger("zkml")

OPSET = 18  # ezkl's tract reads opset <= 18 graphs from torch's TorchScript exporter
DEFAULT_ATOL = 1e-4
CHECKED_SAMPLES = 32


@dataclass(frozen=True)
class ExportReport:
    """export.json: where the graph came from and how closely it matches the torch model."""

    model: str
    source: str
    opset: int
    inputs: list[dict[str, Any]]  # name, one subject's shape, dtype (zkml.signature)
    output_shapes: list[tuple[int, ...]]
    checked_samples: int  # 0 when the source was already ONNX: nothing to compare with
    atol: float
    max_abs_difference: list[float] | None  # per output, torch vs onnxruntime

    @classmethod
    def load(cls, layout: ModelLayout) -> ExportReport:
        raw = read_json(layout.export_report, "export report")
        try:
            return cls(raw["model"], raw["source"], int(raw["opset"]), list(raw["inputs"]),
                       [tuple(s) for s in raw["output_shapes"]],
                       int(raw["checked_samples"]), float(raw["atol"]),
                       raw["max_abs_difference"])
        except (KeyError, TypeError, ValueError):
            raise ArtifactError(f"{layout.export_report} is incomplete or from another zkml",
                                hint=f"run `zkml export {layout.name}` again") from None

    def as_dict(self) -> dict[str, Any]:
        return {"model": self.model, "source": self.source, "opset": self.opset,
                "inputs": self.inputs,
                "output_shapes": [list(s) for s in self.output_shapes],
                "checked_samples": self.checked_samples, "atol": self.atol,
                "max_abs_difference": self.max_abs_difference}


@dataclass(kw_only=True)
class ExportResult(StageResult):
    model: str
    onnx: Path
    report: ExportReport

    @property
    def max_abs_difference(self) -> float | None:
        diffs = self.report.max_abs_difference
        return None if diffs is None else max(diffs)

    def summary(self) -> str:
        if self.max_abs_difference is None:
            return f"{self.onnx} (from an ONNX file: nothing to compare with)"
        return (f"torch vs onnxruntime: max |diff| {self.max_abs_difference:.2e} on "
                f"{self.report.checked_samples} samples")


@dataclass
class ExportedModel:
    """What later stages need from export, read back from samples.json. Samples are subjects'
    flat rows (zkml.signature): every input flattened, in input order."""

    signature: Signature
    output_shapes: list[tuple[int, ...]]  # one subject's outputs (batch 1 on a batch axis)
    calibration: np.ndarray  # (samples, features) float64
    holdout: np.ndarray
    holdout_reference: list[np.ndarray]  # per output, (samples, elements) float model outputs
    holdout_labels: np.ndarray | None
    classes: list[str] | None
    default_subjects: int = 1  # subjects per proof without --batch (a torch example's batch)

    @classmethod
    def load(cls, layout: ModelLayout) -> ExportedModel:
        layout.require(layout.samples, layout.onnx, stage="export")
        data = read_json(layout.samples, "sample file")
        try:
            signature = Signature.from_dict(data["signature"])
            def rows(key: str) -> np.ndarray:
                return np.asarray(data[key], dtype=np.float64).reshape(
                    len(data[key]), signature.features)

            return cls(
                signature=signature,
                output_shapes=[tuple(s) for s in data["output_shapes"]],
                calibration=rows("calibration"),
                holdout=rows("holdout"),
                holdout_reference=[np.asarray(r, dtype=np.float64).reshape(
                    len(r), math.prod(shape)) for r, shape in
                    zip(data["holdout_reference"], data["output_shapes"], strict=True)],
                holdout_labels=None if data["holdout_labels"] is None
                else np.asarray(data["holdout_labels"]),
                classes=data.get("classes"),
                default_subjects=int(data.get("default_subjects", 1)),
            )
        except (KeyError, TypeError, ValueError):
            raise ArtifactError(f"{layout.samples} is incomplete or from another zkml",
                                hint=f"run `zkml export {layout.name}` again") from None

    def output_size(self, output: int) -> int:
        """Elements of one model output per subject."""
        return math.prod(self.output_shapes[output])


def _opset(onnx_path: Path) -> int:
    """The default-domain opset an ONNX file declares."""
    import onnx

    imports = onnx.load(str(onnx_path), load_external_data=False).opset_import
    return next((o.version for o in imports if o.domain in ("", "ai.onnx")), 0)


def _first_line(exc: Exception) -> str:
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:300]


# integer types ONNX's MatMul does not define, which converters write anyway (hummingbird-style
# trees match root-to-leaf paths with an int8 MatMul): ezkl proves them, onnxruntime refuses
NARROW_INTEGERS = {3: "int8", 2: "uint8", 5: "int16", 4: "uint16"}  # onnx.TensorProto codes


def onnx_session(onnx_path: Path, shown: Path | str | None = None) -> Any:
    """An onnxruntime session on the CPU, or an ExportError (naming `shown`, the user's file,
    when onnx_path is a copy) saying why the graph is refused. A graph onnxruntime refuses only
    for MatMuls of narrow integers runs as a copy that computes them in int32 (the same
    products while they fit the narrow type, which the fidelity report checks against ezkl's
    circuit)."""
    import onnxruntime as ort

    providers = ["CPUExecutionProvider"]
    try:
        return ort.InferenceSession(str(onnx_path), providers=providers)
    except Exception as exc:  # onnxruntime raises its own untyped errors
        refused = exc
    widened = _widened_matmuls(onnx_path)
    if widened is not None:
        with contextlib.suppress(Exception):
            return ort.InferenceSession(widened, providers=providers)
    raise ExportError(f"onnxruntime cannot load {shown or onnx_path}: {_first_line(refused)}",
                      hint="check the graph with onnxruntime") from None


def _widened_matmuls(onnx_path: Path) -> bytes | None:
    """The graph with every MatMul of narrow integers cast to int32 and back, or None when it
    has none."""
    import onnx
    from onnx import helper

    try:
        model = onnx.load(str(onnx_path))
        inferred = onnx.shape_inference.infer_shapes(model)
    except Exception:  # a graph ONNX cannot read or type has nothing to widen
        return None
    types = {v.name: v.type.tensor_type.elem_type for v in [
        *inferred.graph.value_info, *inferred.graph.input, *inferred.graph.output]}
    types.update({i.name: i.data_type for i in model.graph.initializer})
    nodes, widened = [], 0
    for k, node in enumerate(model.graph.node):
        narrow = types.get(node.input[0]) if node.op_type == "MatMul" else None
        if narrow not in NARROW_INTEGERS:
            nodes.append(node)
            continue
        widened += 1
        wide = [f"zkml_wide_{k}_{i}" for i in range(2)]
        nodes += [helper.make_node("Cast", [name], [w], to=onnx.TensorProto.INT32)
                  for name, w in zip(node.input, wide, strict=True)]
        nodes += [helper.make_node("MatMul", wide, [f"zkml_wide_{k}_out"]),
                  helper.make_node("Cast", [f"zkml_wide_{k}_out"], list(node.output),
                                   to=narrow)]
    if not widened:
        return None
    log.info("%s: %d MatMul(s) of narrow integers run in int32 for onnxruntime's reference",
             onnx_path, widened)
    del model.graph.node[:]
    model.graph.node.extend(nodes)
    return bytes(model.SerializeToString())


def run_onnx(onnx_path: Path, signature: Signature, rows: np.ndarray,
             shown: Path | str | None = None) -> list[np.ndarray]:
    """Outputs of the ONNX graph on each subject's flat row, one run per row, each input in
    its own dtype; per output, the rows' outputs stacked (any rank, scalars too)."""
    session = onnx_session(onnx_path, shown)
    try:
        runs = [session.run(None, signature.feeds(row[None])) for row in rows]
    except Exception as exc:  # onnxruntime raises its own untyped errors
        raise ExportError(f"onnxruntime cannot run {shown or onnx_path}: {_first_line(exc)}",
                          hint="check the graph (shapes, constant sizes) with onnxruntime"
                          ) from None
    if not runs:
        return []
    return [np.stack([np.asarray(outs[i]) for outs in runs]) for i in range(len(runs[0]))]


def _torch_inputs(signature: Signature, row: np.ndarray) -> list[Any]:
    """One subject's flat row as the torch module's arguments, each in its own dtype."""
    import torch

    return [torch.from_numpy(np.ascontiguousarray(array))
            for array in signature.feeds(row[None]).values()]


def _run_torch(module: Any, signature: Signature, samples: np.ndarray) -> list[np.ndarray]:
    import torch

    with torch.no_grad():
        outputs = [module(*_torch_inputs(signature, s)) for s in samples]
    if isinstance(outputs[0], torch.Tensor):
        outputs = [(o,) for o in outputs]
    return [np.stack([o[i].numpy() for o in outputs]) for i in range(len(outputs[0]))]


def _torch_to_onnx(model: LoadedModel, target: Path) -> None:
    """Export with a dynamic batch axis, so that the circuit can stack N subjects' rows."""
    import torch

    example = tuple(_torch_inputs(model.signature, model.holdout[0]))
    with torch.no_grad():
        result = model.module(*example)
    outputs = [f"output{i}" for i in range(1 if isinstance(result, torch.Tensor)
                                           else len(result))]
    names = [spec.name for spec in model.signature.inputs]
    try:
        torch.onnx.export(
            model.module,
            example,
            str(target),
            input_names=names,
            output_names=outputs,
            dynamic_axes={name: {0: "batch"} for name in [*names, *outputs]},
            opset_version=OPSET,
            dynamo=False,
        )
    except Exception as exc:
        raise ExportError(
            f"torch could not export {model.name} to ONNX: {type(exc).__name__}: {exc}",
            hint="the model must be traceable with a fixed input shape",
        ) from None


def _self_contained(source: Path, target: Path) -> None:
    """The user's ONNX file as one file: weights torch's default exporter keeps beside it
    (`model.onnx.data`) are read in, so the model folder needs nothing outside itself."""
    import onnx

    try:
        onnx.save(onnx.load(str(source)), str(target))
    except Exception as exc:  # protobuf's and onnx's own errors
        raise ExportError(f"{source} cannot be read with its weights: {_first_line(exc)}",
                          hint="keep an ONNX file's external data (its .data file) beside it"
                          ) from None


def recorded_source(layout: ModelLayout) -> ModelSource | None:
    """What the folder's model was exported from (source.json), if that is known."""
    if not layout.source_record.is_file():
        return None
    try:
        raw = read_json(layout.source_record, "source record")
        return ModelSource(**{k: raw[k] for k in ModelSource.__dataclass_fields__})
    except (ArtifactError, KeyError, TypeError):
        return None


def _refuse_another_source(layout: ModelLayout, origin: ModelSource) -> None:
    before = recorded_source(layout)
    if before is not None and before.source != origin.source:
        raise ArtifactError(
            f"{layout.root} holds a model exported from {before.source}; refusing to replace "
            f"it with {origin.source}",
            hint="pass --name to build it beside, or --force (or remove the folder) to "
            "replace it")


def _write(model: LoadedModel, layout: ModelLayout, atol: float) -> ExportReport:
    check_samples = model.holdout[:CHECKED_SAMPLES]
    with atomic_path(layout.onnx) as tmp:
        if model.onnx_path is not None:
            _self_contained(model.onnx_path, tmp)
            reference = run_onnx(tmp, model.signature, model.holdout, model.onnx_path)
            differences = None
        else:
            _torch_to_onnx(model, tmp)
            reference = _run_torch(model.module, model.signature, model.holdout)
            exported = run_onnx(tmp, model.signature, check_samples)
            differences = [
                float(np.max(np.abs(r[: len(check_samples)] - e), initial=0.0))
                for r, e in zip(reference, exported, strict=True)
            ]
            worst = max(differences, default=0.0)
            if worst > atol:
                raise ExportError(
                    f"ONNX output differs from torch by {worst:.3g} (tolerance {atol:g}) "
                    f"on {len(check_samples)} samples",
                    hint="the graph uses an op the exporter translates differently; "
                    "check it with onnxruntime, or raise --atol if the difference is expected",
                )
    if not reference:
        raise ExportError(f"{model.name} has no outputs: there is nothing to prove")
    report = ExportReport(
        model=model.name, source=model.description,
        opset=OPSET if model.onnx_path is None else _opset(layout.onnx),
        inputs=[spec.as_dict() for spec in model.signature.inputs],
        output_shapes=[tuple(r.shape[1:]) for r in reference],
        checked_samples=len(check_samples) if differences is not None else 0, atol=atol,
        max_abs_difference=differences,
    )
    write_json(
        layout.samples,
        {
            "signature": model.signature.as_dict(),
            "default_subjects": model.default_subjects,
            "output_shapes": [list(s) for s in report.output_shapes],
            "calibration": model.calibration.tolist(),
            "holdout": model.holdout.tolist(),
            "holdout_reference": [r.reshape(len(r), -1).astype(np.float64).tolist()
                                  for r in reference],
            "holdout_labels": None if model.holdout_labels is None
            else model.holdout_labels.tolist(),
            "classes": model.classes,
        },
        private=True,  # sample records can be as sensitive as the inputs proved later
    )
    write_json(layout.export_report, report.as_dict())
    return report


def export(model: LoadedModel, layout: ModelLayout, atol: float = DEFAULT_ATOL,
           force: bool = False) -> ExportResult:
    """Write model.onnx, samples.json, export.json and source.json; fail if ONNX and torch
    disagree, or (unless force) if the folder holds a model exported from another source.

    Always re-exports (a second at most); later stages stay cached if the bytes are the same.
    """
    start = time.perf_counter()
    with layout.lock(shared=False):
        layout.remove_stale_temporaries()
        if model.origin is not None and not force:
            _refuse_another_source(layout, model.origin)
        report = _write(model, layout, atol)
        if model.origin is not None:
            write_json(layout.source_record, dataclasses.asdict(model.origin))
        seconds = time.perf_counter() - start
        Manifest(layout).record("export", "", [layout.onnx, layout.samples,
                                               layout.export_report], seconds)
    return ExportResult(stage="export", seconds=seconds, model=model.name, onnx=layout.onnx,
                        report=report)
