"""`zkml run` as a library call: every stage on one model, from source to on-chain result."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.inputs import PrivateInput, read_private_input
from zkml.layout import Manifest, ModelLayout
from zkml.model import Model, load
from zkml.progress import ProgressHook, ignore
from zkml.results import StageResult
from zkml.subjects import groups

DEFAULT_SAMPLE = 0  # the held-out sample `run` proves when no input is given
RUN_PROOF = "run-proof"  # manifest entry: the proof file `run` itself wrote last


@dataclass
class RunResult:
    """Every stage's result, in order, and what was proved."""

    model: str
    input: str  # what was proved: a file, or "held-out sample 0"
    stages: list[StageResult] = field(default_factory=list)
    proof: Path | None = None
    kept_user_proof: Path | None = None  # a proof.json `run` did not overwrite
    seconds: float = 0.0

    def stage(self, name: str) -> Any:
        return next(s for s in self.stages if s.stage == name)

    def __str__(self) -> str:
        done = ", ".join(s.stage for s in self.stages)
        return f"run {self.model}: proved {self.input} in {self.seconds:.1f} s ({done})"


def _proof_path(layout: ModelLayout) -> tuple[Path, Path | None]:
    """proof.json, unless one is there that `run` did not write (a user's): then beside it."""
    manifest = Manifest(layout)
    if layout.proof.exists() and not manifest.is_fresh(RUN_PROOF, ""):
        return layout.run_proof, layout.proof
    return layout.proof, None


def run(source: str = "breast_cancer", *, name: str | None = None,
        weights: Path | None = None, samples: Path | None = None,
        classes: list[str] | None = None, atol: float | None = None,
        circuits_dir: Path | None = None,
        options: CircuitOptions | None = None, optimize: str | None = None,
        input_file: Path | None = None, srs: Path | None = None, chain: bool = True,
        rpc_url: str | None = None, chain_id: int | None = None, force: bool = False,
        reuse_salt: bool = False, activation_delay: str | int | None = None,
        progress: ProgressHook = ignore) -> RunResult:
    """Export, compile, setup, prove, verify and, with chain, record on-chain (in a registry
    deployed with `activation_delay` when there is none to reuse). An input proved before is
    proved under a new commitment (the prove and onchain results say so), or with reuse_salt
    under its first one again (zkml.salts)."""
    start = time.perf_counter()
    model: Model = load(source, name=name, weights=weights, samples=samples, classes=classes,
                        circuits_dir=circuits_dir, progress=progress)  # every stage reports
    given = read_private_input(input_file) if input_file else None  # a bad file fails first
    if chain:  # so does a missing tool or node, not after every stage has run
        from zkml import chain as onchain

        onchain.check(rpc_url, chain_id, activation_delay=activation_delay)
    outcome = RunResult(model.name, str(input_file) if input_file else "")
    stages = outcome.stages
    stages.append(model.export(atol, force))
    stages.append(model.compile(options, optimize=optimize, force=force))
    stages.append(model.setup(srs, force))
    private = given
    if private is None:
        n = CircuitSettings.load(model.layout).subjects
        private = PrivateInput(groups(model.holdout, n)[DEFAULT_SAMPLE])
        outcome.input = (f"held-out sample {DEFAULT_SAMPLE}" if n == 1 else
                         f"held-out samples {DEFAULT_SAMPLE * n}-{DEFAULT_SAMPLE * n + n - 1}")
    path, kept = _proof_path(model.layout)
    outcome.proof, outcome.kept_user_proof = path, kept
    stages.append(model.prove(private.values, path, salts=private.salts, source=outcome.input,
                              reuse_salt=reuse_salt))
    if kept is None:
        Manifest(model.layout).record(RUN_PROOF, "", [path], stages[-1].seconds)
    stages.append(model.verify(path))
    if chain:
        stages.append(model.verifier())
        with onchain.deploy(model, rpc_url, chain_id,
                            activation_delay=activation_delay) as registry:
            stages.append(registry.submit(path))
    outcome.seconds = time.perf_counter() - start
    return outcome
