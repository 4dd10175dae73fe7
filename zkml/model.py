"""`zkml.load(...)` and `Model`: the pipeline as a notebook uses it.

    m = zkml.load("breast_cancer", progress=print)  # or "net.py:build", "model.onnx", ...
    m.compile(); m.setup()
    proof = m.prove(x)                        # proof.outputs, proof.path
    m.verify(proof)

Every method is a cached stage (re-running an unchanged one does nothing) and returns a typed
result whose str() is the line the CLI shows. Each reports its start and its result through
one progress hook: the Model's (`load(progress=...)`), or a method's own `progress=`.
Artifacts live in `circuits_dir/<name>/`, exactly where the CLI puts them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkml.circuit import CircuitOptions
from zkml.layout import ModelLayout, default_circuits_dir
from zkml.models import BUNDLED, source_name
from zkml.progress import Progress, ProgressHook, ignore


@dataclass
class Model:
    """A model source and the folder of its artifacts."""

    source: str | None  # None: only the artifacts of an earlier export are known
    layout: ModelLayout
    weights: Path | None = None
    samples: Path | None = None
    classes: list[str] | None = None
    progress: ProgressHook = field(default=ignore, repr=False)  # every method's, by default
    _exported: bool = field(default=False, repr=False)

    @property
    def name(self) -> str:
        return self.layout.name

    def _stage(self, stage: str, progress: ProgressHook | None,
               action: Callable[[ProgressHook], Any]) -> Any:
        """Run a stage, reporting its start and its result."""
        hook = progress or self.progress
        hook(Progress(stage, f"{stage} …", starting=True))
        result = action(hook)
        hook(Progress(stage, result=result))
        return result

    def export(self, atol: float | None = None, force: bool = False,
               progress: ProgressHook | None = None) -> Any:
        """torch -> ONNX, checked against onnxruntime (zkml.export.ExportResult); force
        replaces a model exported into this folder from another source."""
        from zkml import export, models
        from zkml.errors import ModelError

        if self.source is None:
            raise ModelError(f"{self.name} has artifacts but no known source to export from",
                             hint="load it by its source (a bundled name, file.py:callable, "
                             "file.onnx)")
        source = self.source

        def run(_: ProgressHook) -> Any:
            loaded = models.resolve(source, name=self.name, weights=self.weights,
                                    samples=self.samples, classes=self.classes)
            return export.export(loaded, self.layout, atol or export.DEFAULT_ATOL, force)

        result = self._stage("export", progress, run)
        self._exported = True
        return result

    def _ensure_exported(self) -> None:
        """Export once per Model when the source is known; else the folder must hold one."""
        if self.source is None:
            self.layout.require(self.layout.onnx, self.layout.samples, stage="export")
        elif not self._exported:
            self.export()

    def compile(self, options: CircuitOptions | None = None, *, optimize: str | None = None,
                force: bool = False, progress: ProgressHook | None = None,
                **overrides: Any) -> Any:
        """Settings, calibration, compiled circuit and fidelity report (CompileResult): the
        least proving work inside the error budget, or zkml.BudgetExceeded.

        `overrides` are CircuitOptions fields, e.g. `max_error_pct=0.1`, `max_error=0.01`,
        `decision_threshold=0.5` or `input_visibility="private"`; `optimize` ("time", "size"
        or "accuracy") searches settings first."""
        import dataclasses

        from zkml import pipeline

        self._ensure_exported()
        options = dataclasses.replace(options or CircuitOptions(), **overrides)
        if optimize:
            return self._stage("compile", progress, lambda hook: pipeline.optimize_model(
                self.layout, optimize, options, force, hook))
        return self._stage("compile", progress, lambda hook: pipeline.compile_model(
            self.layout, options, force, hook))

    def setup(self, srs: Path | str | None = None, force: bool = False,
              progress: ProgressHook | None = None) -> Any:
        """Proving and verifying keys (SetupResult); srs: a ceremony file, else a local one."""
        from zkml import proving

        return self._stage("setup", progress, lambda _: proving.setup(
            self.layout, None if srs is None else Path(srs), force))

    def prove(self, private_input: Any, output: Path | str | None = None,
              salts: list[int] | None = None, progress: ProgressHook | None = None,
              source: str = "input", reuse_salt: bool = False) -> Any:
        """Prove inference on private inputs (a Proof, verified before it is written): an
        array of subjects' flat rows (as `holdout` holds them), a dict keyed by input name or
        a list per input (each input's values of every subject in turn). salts: to reproduce
        earlier input commitments; reuse_salt: an input proved before keeps its first
        commitment (zkml.salts); source: how errors name the input."""
        from zkml import proving

        return self._stage("prove", progress, lambda _: proving.prove(
            self.layout, private_input, Path(output) if output else self.layout.proof,
            source, salts=salts, reuse_salt=reuse_salt))

    def verify(self, proof: Any = None, vk: Path | str | None = None,
               progress: ProgressHook | None = None) -> Any:
        """Verify a Proof or proof file natively (a Verification, or VerificationFailed)."""
        from zkml import proving
        from zkml.errors import ProofError

        path = getattr(proof, "path", proof) or self.layout.proof
        if not isinstance(path, str | Path):
            raise ProofError(f"verify takes a Proof or a proof file's path, not "
                             f"{type(path).__name__}")
        return self._stage("verify", progress, lambda _: proving.verify(
            self.layout, Path(path), None if vk is None else Path(vk)))

    def verifier(self, force: bool = False, progress: ProgressHook | None = None) -> Any:
        """The Solidity verifier and registry, compiled (VerifierResult)."""
        from zkml import proving

        return self._stage("verifier", progress,
                           lambda _: proving.build_verifier(self.layout, force))

    @property
    def holdout(self) -> np.ndarray:
        """Held-out samples of the model's data, inputs to try proofs on: one flat row each,
        every model input flattened in input order (zkml.signature)."""
        from zkml.export import ExportedModel

        self._ensure_exported()
        return ExportedModel.load(self.layout).holdout


def load(source: str, *, name: str | None = None, weights: Path | str | None = None,
         samples: Path | str | None = None, classes: list[str] | None = None,
         circuits_dir: Path | str | None = None, progress: ProgressHook = ignore) -> Model:
    """A model by its source (a bundled name, `file.onnx`, `file.py:callable`), or by the name
    of an existing artifacts folder (with the source its export recorded, if any: weights,
    samples and classes given here replace the recorded ones). Nothing heavy happens until a
    stage runs; `progress` (e.g. print) hears every stage's start and result."""
    if not isinstance(source, str) or not source:
        from zkml.errors import ModelError

        raise ModelError("load takes a model source: a bundled name, file.onnx or "
                         "file.py:callable")
    circuits = Path(circuits_dir) if circuits_dir else default_circuits_dir()
    known = source in BUNDLED or ":" in source or source.endswith(".onnx")
    if known:
        return Model(source, ModelLayout.for_model(name or source_name(source), circuits),
                     _path(weights), _path(samples), classes, progress)
    if not (circuits / source).is_dir():
        from zkml.models import unknown_model

        raise unknown_model(source, circuits)
    from zkml.export import recorded_source

    layout = ModelLayout.for_model(source, circuits)
    recorded = recorded_source(layout)
    if recorded is None:
        return Model(None, layout, _path(weights), _path(samples), classes, progress)
    return Model(recorded.source, layout, _path(weights or recorded.weights),
                 _path(samples or recorded.samples), classes or recorded.classes, progress)


def _path(value: Path | str | None) -> Path | None:
    return None if value is None else Path(value)
