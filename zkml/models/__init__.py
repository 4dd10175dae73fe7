"""Model sources: bundled example models, a user's torch code, or an existing ONNX file.

Every source resolves to a `LoadedModel` (zkml.models.base).
"""

from __future__ import annotations

import importlib.util
import logging
import sys
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import ModelError
from zkml.models.base import LoadedModel, ModelSource
from zkml.signature import InputSpec, Signature, read_signature

log = logging.getLogger("zkml")
DEFAULT_MODEL = "breast_cancer"
BUNDLED = ("breast_cancer", "digits", "digits_mlp", "iris")  # zkml.models.bundled.SPECS


def source_name(source: str) -> str:
    """The artifact folder name a source gets unless --name says otherwise: the bundled name,
    the ONNX file's, or file and callable (two callables of one file are two models)."""
    if source in BUNDLED or source.endswith(".onnx"):
        return Path(source).stem
    path, _, attr = source.rpartition(":")
    return f"{Path(path).stem}-{attr}" if path else Path(source).stem


def canonical_source(source: str) -> str:
    """The source as recorded: a bundled name, or its file's absolute path (and callable)."""
    if source in BUNDLED:
        return source
    if source.endswith(".onnx") or ":" not in source:
        return str(Path(source).resolve())
    path, _, attr = source.rpartition(":")
    return f"{Path(path).resolve()}:{attr}"


def unknown_model(source: str, circuits_dir: Path | None = None) -> ModelError:
    """An error for a name that is neither a source nor built: close names and what exists."""
    import difflib

    built = sorted(p.name for p in circuits_dir.iterdir() if p.is_dir()) \
        if circuits_dir is not None and circuits_dir.is_dir() else []
    close = difflib.get_close_matches(source, sorted({*BUNDLED, *built}), n=3, cutoff=0.6)
    hint = f"did you mean {' or '.join(close)}? " if close else ""
    hint += f"bundled models: {', '.join(BUNDLED)}"
    hint += f"; built in {circuits_dir}: {', '.join(built)}" if built else ""
    return ModelError(f"unknown model {source!r}: not a bundled model, a .onnx file, a "
                      "file.py:callable, or a built circuit", hint=hint)


def resolve(
    source: str,
    *,
    name: str | None = None,
    weights: Path | None = None,
    samples: Path | None = None,
    classes: list[str] | None = None,
) -> LoadedModel:
    """Turn what the user typed into a LoadedModel.

    source is a bundled name, `file.onnx`, or `file.py:attr` where attr is either a callable
    returning `(module, example_input)` (or `(module, example_input, class_names)`) or, with
    `weights`, an nn.Module class whose constructor takes no arguments and whose state dict is
    in that file. `classes` names a classifier's outputs, in order.
    """
    if source in BUNDLED:
        from zkml.models import bundled

        model = bundled.load(bundled.SPECS[source])
    elif source.endswith(".onnx"):
        model = _from_onnx(Path(source), samples)
    elif ":" in source:
        path, _, attr = source.rpartition(":")
        model = _from_python(Path(path), attr, weights, samples)
    else:
        raise unknown_model(source)
    model.name = name or source_name(source)
    if classes:
        model.classes = list(classes)
    if model.holdout_labels is not None:
        model.holdout_labels = _class_indices(model.holdout_labels, model.classes, samples)
    absolute = lambda p: None if p is None else str(Path(p).resolve())  # noqa: E731
    model.origin = ModelSource(canonical_source(source), absolute(weights), absolute(samples),
                               classes and list(classes))
    return model


def _load_attr(path: Path, attr: str) -> Any:
    if not path.is_file():
        raise ModelError(f"model file not found: {path}")
    spec = importlib.util.spec_from_file_location(f"zkml_user_model_{path.stem}", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules[spec.name] = module  # type: ignore[union-attr]
    try:
        spec.loader.exec_module(module)  # type: ignore[union-attr]
    except Exception as exc:
        raise ModelError(f"importing {path} failed: {type(exc).__name__}: {exc}") from exc
    if not hasattr(module, attr):
        raise ModelError(f"{path} has no attribute {attr!r}")
    return getattr(module, attr)


def _from_python(path: Path, attr: str, weights: Path | None, samples: Path | None) -> LoadedModel:
    import torch

    obj = _load_attr(path, attr)
    if weights is not None:
        if not (isinstance(obj, type) and issubclass(obj, torch.nn.Module)):
            raise ModelError(f"with --weights, {path}:{attr} must be an nn.Module class")
        if not weights.is_file():
            raise ModelError(f"weights file not found: {weights}")
        module = obj()
        try:
            state = torch.load(weights, map_location="cpu", weights_only=True)
            module.load_state_dict(state)
        except Exception as exc:
            raise ModelError(f"cannot load state dict {weights} into {attr}: {exc}") from exc
        example = getattr(module, "example_input", None)
        classes = getattr(module, "classes", None)
        if example is None:
            raise ModelError(
                f"{attr} needs an `example_input` attribute (a tensor of the input's shape)",
                hint="set self.example_input = torch.zeros(1, ...) in __init__",
            )
    else:
        try:
            built = obj()
            module, example = built[:2]
            classes = list(built[2]) if len(built) > 2 else getattr(module, "classes", None)
        except Exception as exc:
            raise ModelError(
                f"{path}:{attr}() must return (module, example_input): {exc}"
            ) from exc
    examples = [np.asarray(torch.as_tensor(e).detach().numpy())
                for e in (example if isinstance(example, tuple | list) else [example])]
    module.eval()
    signature = _torch_signature(examples)
    calibration, holdout, labels = _user_samples(samples, signature, examples)
    return LoadedModel(
        name=path.stem,
        description=f"{path}:{attr}",
        signature=signature,
        calibration=calibration,
        holdout=holdout,
        holdout_labels=labels,
        module=module,
        classes=None if classes is None else [str(c) for c in classes],
        files=[path] if weights is None else [path, weights],
        default_subjects=int(examples[0].shape[0]) if examples[0].ndim else 1,
    )


def _torch_signature(examples: list[np.ndarray]) -> Signature:
    """A torch model's inputs from its example input (a tensor, or a tuple of tensors for a
    forward() of several arguments), each exported with a dynamic batch axis."""
    if any(e.ndim == 0 for e in examples):
        raise ModelError("example inputs need a batch axis (shape [1, ...])",
                         hint="unsqueeze(0) the example input")
    names = ["input"] if len(examples) == 1 else [f"input{i}" for i in range(len(examples))]
    return Signature(tuple(
        InputSpec(name, (1, *e.shape[1:]), "float32" if e.dtype.kind == "f" else str(e.dtype))
        for name, e in zip(names, examples, strict=True)), batch_axis=True)


def _from_onnx(path: Path, samples: Path | None) -> LoadedModel:
    import onnx

    if not path.is_file():
        raise ModelError(f"ONNX file not found: {path}")
    try:
        graph = onnx.load(str(path)).graph
    except Exception as exc:
        raise ModelError(f"{path} is not a readable ONNX model: {exc}") from None
    signature = read_signature(graph, str(path))
    examples = [np.zeros(spec.shape, dtype=spec.dtype) for spec in signature.inputs]
    calibration, holdout, labels = _user_samples(samples, signature, examples)
    return LoadedModel(
        name=path.stem,
        description=str(path),
        signature=signature,
        calibration=calibration,
        holdout=holdout,
        holdout_labels=labels,
        onnx_path=path,
        files=[path],
    )


def _user_samples(samples: Path | None, signature: Signature, examples: list[np.ndarray]
                  ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """Split a user's sample file (or, lacking one, the example input) into calibration and
    holdout: subjects' flat rows (zkml.signature), and the holdout's labels as the file gives
    them (class indices or names), if it does."""
    from zkml.inputs import load_samples

    if samples is None:
        if signature.inputs:
            log.warning("no --samples: calibrating on the example input alone fits the circuit "
                        "to one point; pass --samples with rows of real inputs")
        arrays = [np.asarray(e, dtype=np.float64) for e in examples]
        count = len(arrays[0]) if signature.batch_axis else 1
        rows = np.concatenate([a.reshape(count, -1) for a in arrays], axis=1) if arrays \
            else np.zeros((1, 0))
        return rows.copy(), rows.copy(), None
    loaded = load_samples(samples, signature)
    data = loaded.rows
    labels = None if loaded.labels is None else np.asarray(loaded.labels, dtype=object)
    if len(data) < 2:
        log.warning("%s holds one sample: the circuit is calibrated on it and its fidelity "
                    "measured on the same one, which says little; give more rows", samples)
        return data, data, labels
    cut = max(1, int(len(data) * 0.75))
    return data[:cut], data[cut:], None if labels is None else labels[cut:]


def _class_indices(labels: np.ndarray, classes: list[str] | None, samples: Path | None
                   ) -> np.ndarray:
    """Sample labels as class indices: names looked up in the model's classes."""
    indices = []
    for label in labels:
        if isinstance(label, str):
            if not classes or label not in classes:
                raise ModelError(f"{samples}: label {label!r} is not one of the model's "
                                 f"classes ({', '.join(classes or []) or 'none named'})",
                                 hint="name the classes with --classes, or give indices")
            indices.append(classes.index(label))
        else:
            indices.append(int(label))
    return np.asarray(indices, dtype=np.int64)
