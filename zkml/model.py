"""`zkml.load(...)` and `Model`: the pipeline as a notebook uses it.

    m = zkml.load("breast_cancer")            # or "net.py:build", "model.onnx", samples=...
    m.compile(); m.setup()
    proof = m.prove(x)                        # proof.outputs, proof.path
    m.verify(proof)

Every method is a cached stage (re-running an unchanged one does nothing) and returns a typed
result. Artifacts live in `circuits_dir/<name>/`, exactly where the CLI puts them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkml.circuit import CircuitOptions
from zkml.layout import ModelLayout, default_circuits_dir
from zkml.models import BUNDLED, source_name


@dataclass
class Model:
    """A model source and the folder of its artifacts."""

    source: str | None  # None: only the artifacts of an earlier export are known
    layout: ModelLayout
    weights: Path | None = None
    samples: Path | None = None
    classes: list[str] | None = None
    _exported: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return self.layout.name

    def export(self, atol: float | None = None) -> Any:
        """torch -> ONNX, checked against onnxruntime (zkml.export.ExportResult)."""
        from zkml import export, models
        from zkml.errors import ModelError

        if self.source is None:
            raise ModelError(f"{self.name} has artifacts but no known source to export from",
                             hint="load it by its source (a bundled name, file.py:callable, "
                             "file.onnx)")
        loaded = models.resolve(self.source, name=self.name, weights=self.weights,
                                samples=self.samples, classes=self.classes)
        result = export.export(loaded, self.layout, atol or export.DEFAULT_ATOL)
        self._exported = True
        return result

    def _ensure_exported(self) -> None:
        """Export once per Model when the source is known; else the folder must hold one."""
        if self.source is None:
            self.layout.require(self.layout.onnx, self.layout.samples, stage="export")
        elif not self._exported:
            self.export()

    def compile(self, options: CircuitOptions | None = None, *, optimize: str | None = None,
                force: bool = False, progress: Any = None, **overrides: Any) -> Any:
        """Settings, calibration, compiled circuit and fidelity report (CompileResult): the
        least proving work inside the error budget, or zkml.BudgetExceeded.

        `overrides` are CircuitOptions fields, e.g. `max_error_pct=0.1`, `max_error=0.01`,
        `decision_threshold=0.5` or `input_visibility="private"`; `optimize` ("time", "size"
        or "accuracy") searches settings first."""
        import dataclasses

        from zkml import optimize as search
        from zkml import pipeline
        from zkml.progress import ignore

        self._ensure_exported()
        options = dataclasses.replace(options or CircuitOptions(), **overrides)
        if optimize:
            return search.optimize(self.layout, optimize, options, force, progress or ignore)
        return pipeline.compile_model(self.layout, options, force, progress or ignore)

    def setup(self, srs: Path | str | None = None, force: bool = False) -> Any:
        """Proving and verifying keys (SetupResult); srs: a ceremony file, else a local one."""
        from zkml import keys

        return keys.setup(self.layout, None if srs is None else Path(srs), force)

    def prove(self, private_input: Any, output: Path | str | None = None,
              salts: list[int] | None = None) -> Any:
        """Prove inference on private inputs, one row per subject of the circuit (a Proof,
        verified before it is written). salts: to reproduce earlier input commitments."""
        from zkml import proof

        return proof.prove(self.layout, private_input,
                           Path(output) if output else self.layout.proof, salts=salts)

    def verify(self, proof: Any = None, vk: Path | str | None = None) -> Any:
        """Verify a Proof or proof file natively (a Verification, or VerificationFailed)."""
        from zkml import proof as proofs
        from zkml.errors import ProofError

        path = getattr(proof, "path", proof) or self.layout.proof
        if not isinstance(path, str | Path):
            raise ProofError(f"verify takes a Proof or a proof file's path, not "
                             f"{type(path).__name__}")
        return proofs.verify(self.layout, Path(path), None if vk is None else Path(vk))

    def verifier(self, force: bool = False) -> Any:
        """The Solidity verifier and registry, compiled (VerifierResult)."""
        from zkml.evm.verifier import build_verifier

        return build_verifier(self.layout, force)

    @property
    def holdout(self) -> np.ndarray:
        """Held-out samples of the model's data: inputs to try proofs on."""
        from zkml.export import ExportedModel

        self._ensure_exported()
        return ExportedModel.load(self.layout).holdout


def load(source: str, *, name: str | None = None, weights: Path | str | None = None,
         samples: Path | str | None = None, classes: list[str] | None = None,
         circuits_dir: Path | str | None = None) -> Model:
    """A model by its source (a bundled name, `file.onnx`, `file.py:callable`), or by the name
    of an existing artifacts folder. Nothing heavy happens until a stage runs."""
    if not isinstance(source, str) or not source:
        from zkml.errors import ModelError

        raise ModelError("load takes a model source: a bundled name, file.onnx or "
                         "file.py:callable")
    circuits = Path(circuits_dir) if circuits_dir else default_circuits_dir()
    folder = name or source_name(source)
    known = source in BUNDLED or ":" in source or source.endswith(".onnx")
    if not known and not (circuits / source).is_dir():
        from zkml.models import unknown_model

        raise unknown_model(source, circuits)
    return Model(source if known else None, ModelLayout.for_model(folder, circuits),
                 None if weights is None else Path(weights),
                 None if samples is None else Path(samples), classes)
