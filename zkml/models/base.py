"""What every model source resolves to: the network plus real sample data.

Calibration and the fidelity report need real samples: calibrating on random noise gives
circuits that are wrong on data.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkml.signature import Signature


@dataclass(frozen=True)
class ModelSource:
    """What a model was loaded from, enough to load it again (`zkml run NAME`); recorded at
    export in source.json."""

    source: str  # a bundled name, or an absolute path: file.onnx or file.py:callable
    weights: str | None = None  # absolute
    samples: str | None = None  # absolute
    classes: list[str] | None = None


@dataclass
class LoadedModel:
    name: str
    description: str
    signature: Signature  # the inputs: names, shapes, dtypes (zkml.signature)
    calibration: np.ndarray  # (N, features) flat rows of samples that set the circuit's scales
    holdout: np.ndarray  # samples kept out of calibration, for the fidelity report
    holdout_labels: np.ndarray | None = None
    module: Any = None  # torch.nn.Module, when the source is torch
    onnx_path: Path | None = None  # when the source is already ONNX
    classes: list[str] | None = None  # names of a classifier's outputs, in order
    files: list[Path] = field(default_factory=list)  # what defines it: weights, ONNX, code
    default_subjects: int = 1  # subjects per proof without --batch: a torch example's batch
    origin: ModelSource | None = None  # set by zkml.models.resolve
