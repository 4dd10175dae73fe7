"""Proof regression: re-run a zoo of fixed models on fixed inputs and compare with a baseline.

A team that ships a model and its verifier wants CI to fail when a change to the model, the
settings, the toolchain or a dependency changes what is proved (outputs, circuit shape), what it
costs (gas, sizes) or whether it still verifies. Timings are recorded but never compared.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkml import models, pipeline, proof
from zkml.circuit import CircuitOptions
from zkml.evm.anvil import Anvil
from zkml.export import ExportedModel
from zkml.layout import ModelLayout, read_json, write_json

BASELINE = Path(__file__).resolve().parents[1] / "regression" / "baseline.json"


@dataclass(frozen=True)
class ZooEntry:
    name: str  # artifact folder and baseline key
    source: str  # anything models.resolve accepts
    options: CircuitOptions = field(default_factory=CircuitOptions)
    input_index: int = 0  # the held-out sample proved
    samples: Path | None = None


ZOO = [
    ZooEntry("breast_cancer", "breast_cancer"),
    ZooEntry("digits", "digits"),
    ZooEntry("iris_committed", "iris", CircuitOptions(weights="hashed")),
]

# metric -> (kind, tolerance): exact, relative (fraction of the baseline) or absolute
RULES: dict[str, tuple[str, float]] = {
    "native_verified": ("exact", 0),
    "onchain_verified": ("exact", 0),
    "logrows": ("exact", 0),
    "num_rows": ("exact", 0),
    "total_assignments": ("exact", 0),
    "instances": ("exact", 0),
    "verify_gas": ("relative", 0.02),
    "submit_gas": ("relative", 0.02),
    "proof_bytes": ("relative", 0.05),
    "pk_bytes": ("relative", 0.05),
    "vk_bytes": ("relative", 0.05),
    "verifier_bytes": ("relative", 0.05),
    "fidelity_argmax_agreement": ("absolute", 0.0),
    "fidelity_max_abs_error": ("relative", 0.05),
}


def measure(entry: ZooEntry, circuits_dir: Path, rpc_url: str) -> dict[str, Any]:
    """Run one zoo model through every stage; return its metrics (and, apart, timings)."""
    timings: dict[str, float] = {}

    def timed(stage: str, action: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = action()
        timings[stage] = round(time.perf_counter() - start, 3)
        return result

    model = timed("load", lambda: models.resolve(entry.source, name=entry.name,
                                                 samples=entry.samples))
    layout = ModelLayout.for_model(entry.name, circuits_dir)
    timed("export", lambda: pipeline.export_model(model, layout))
    timed("compile", lambda: pipeline.compile_model(layout, entry.options))
    timed("setup", lambda: pipeline.setup_keys(layout))
    sample = ExportedModel.load(layout).holdout[entry.input_index]
    timed("prove", lambda: proof.prove(layout, sample, layout.proof))
    native = timed("verify", lambda: proof.verify(layout, layout.proof))
    built = timed("verifier", lambda: pipeline.evm_verifier(layout))
    onchain = timed("onchain", lambda: pipeline.onchain_verify(layout, layout.proof, rpc_url))
    settings = read_json(layout.settings, "settings")
    fidelity = read_json(layout.fidelity, "fidelity report")["outputs"][0]
    keys = proof.KeyRecord.load(layout)
    return {
        "outputs": native.instances.outputs,
        "native_verified": True,
        "onchain_verified": True,
        "logrows": settings["run_args"]["logrows"],
        "num_rows": settings["num_rows"],
        "total_assignments": settings["total_assignments"],
        "instances": len(native.instances.outputs[0]) + len(native.instances.input_hash)
        + len(native.instances.weights_commitment),
        "verify_gas": onchain.details["verify_gas"],
        "submit_gas": onchain.details["submit_gas"],
        "proof_bytes": keys.proof_bytes,
        "pk_bytes": layout.pk.stat().st_size,
        "vk_bytes": layout.vk.stat().st_size,
        "verifier_bytes": built.details["verifier_bytes"],
        "fidelity_argmax_agreement": fidelity["argmax_agreement"],
        "fidelity_max_abs_error": fidelity["max_abs_error"],
        "timings_s": timings,
    }


@dataclass
class Moved:
    model: str
    metric: str
    baseline: Any
    current: Any
    allowed: str

    @property
    def change(self) -> str:
        if isinstance(self.baseline, int | float) and isinstance(self.current, int | float) \
                and not isinstance(self.baseline, bool) and self.baseline:
            delta = self.current - self.baseline
            return f"{delta:+.6g} ({delta / abs(self.baseline):+.2%})"
        return "changed"


def compare(baseline: dict[str, Any], current: dict[str, Any]) -> list[Moved]:
    """Everything that moved beyond its tolerance; outputs are compared element by element."""
    moved: list[Moved] = []
    for model, now in current.items():
        before = baseline.get(model)
        if before is None:
            moved.append(Moved(model, "(model)", "absent", "new", "in baseline"))
            continue
        for i, (old_row, new_row) in enumerate(zip(before["outputs"], now["outputs"],
                                                   strict=False)):
            if len(old_row) != len(new_row):
                moved.append(Moved(model, f"outputs[{i}] length", len(old_row), len(new_row),
                                   "exact"))
            for j, (old, new) in enumerate(zip(old_row, new_row, strict=False)):
                if old != new:
                    moved.append(Moved(model, f"output[{i}][{j}]", old, new, "exact"))
        for metric, (kind, tolerance) in RULES.items():
            old, new = before.get(metric), now.get(metric)
            if kind == "exact" and old != new:
                moved.append(Moved(model, metric, old, new, "exact"))
            elif kind == "relative" and (old is None or abs(new - old) > tolerance * abs(old)):
                moved.append(Moved(model, metric, old, new, f"±{tolerance:.0%}"))
            elif kind == "absolute" and (old is None or abs(new - old) > tolerance):
                moved.append(Moved(model, metric, old, new, f"±{tolerance:g}"))
    return moved


@dataclass
class RegressionReport:
    current: dict[str, Any]
    moved: list[Moved]
    baseline_path: Path
    updated: bool


def run(entries: list[ZooEntry], circuits_dir: Path, baseline_path: Path = BASELINE,
        update: bool = False, rpc_url: str | None = None,
        progress: Callable[[str], None] = lambda name: None) -> RegressionReport:
    from contextlib import ExitStack

    current: dict[str, Any] = {}
    with ExitStack() as stack:
        url = rpc_url or stack.enter_context(Anvil()).url
        for entry in entries:
            progress(entry.name)
            current[entry.name] = measure(entry, circuits_dir, url)
    if update:
        existing = read_json(baseline_path, "baseline") if baseline_path.exists() else {}
        write_json(baseline_path, {**existing, **current})
        return RegressionReport(current, [], baseline_path, True)
    if not baseline_path.exists():
        from zkml.errors import ArtifactError

        raise ArtifactError(f"no regression baseline at {baseline_path}",
                            hint="create it with `zkml regress --update-baseline`")
    return RegressionReport(current, compare(read_json(baseline_path, "baseline"), current),
                            baseline_path, False)
