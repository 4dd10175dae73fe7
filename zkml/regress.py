"""Proof regression: re-run a zoo of fixed models on fixed inputs and compare with a baseline.

A team that ships a model and its verifier wants CI to fail when a change to the model, the
settings, the toolchain or a dependency changes what is proved (outputs, circuit shape), what it
costs (gas, sizes) or whether it still verifies. Timings are recorded but never compared.

The zoo is declared where the team's project is, in `zkml.toml` (`[regress]`) or
`pyproject.toml` (`[tool.zkml.regress]`); this repository declares the bundled zoo the same way.
Everything compared exactly comes from committed files (model weights or ONNX, fixed inputs):
weights trained at run time differ between CPUs.
"""

from __future__ import annotations

import functools
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from zkml import keys, models, pipeline, proving, segments
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.errors import ArtifactError, RegressionFailed, ZkmlError
from zkml.export import export
from zkml.fidelity import BudgetExceeded, FidelityReport
from zkml.inputs import PrivateInput, read_private_input
from zkml.layout import ModelLayout, ScratchLayout, read_json, sha256_file, write_json
from zkml.progress import Progress, ProgressHook, ignore

CONFIG_FILES = ("zkml.toml", "pyproject.toml")


class ConfigError(ZkmlError):
    """The zoo declaration is missing or malformed."""


@dataclass(frozen=True)
class ZooEntry:
    name: str  # artifact folder and baseline key
    source: str  # anything models.resolve accepts: a bundled name, file.onnx, file.py:callable
    inputs: tuple[Path, ...] = ()  # fixed inputs proved; none: the model's held-out sample 0
    options: CircuitOptions = field(default_factory=CircuitOptions)
    samples: Path | None = None
    weights: Path | None = None
    # outputs are compared exactly unless a tolerance is set (|now - then| <= abs + rel * |then|)
    abs_tolerance: float = 0.0
    rel_tolerance: float = 0.0


@dataclass(frozen=True)
class Zoo:
    entries: list[ZooEntry]
    baseline: Path
    declared_in: Path

    @property
    def circuits(self) -> Path:
        """Where the zoo builds unless told otherwise: beside its declaration, wherever the
        command runs from (its artifacts are then reused from any subfolder)."""
        return self.declared_in.parent / "circuits"

    def select(self, names: Iterable[str] = ()) -> list[ZooEntry]:
        """The zoo's models named (all of them when none is)."""
        wanted = list(names)
        unknown = [n for n in wanted if n not in {e.name for e in self.entries}]
        if unknown:
            raise ConfigError(f"no zoo model named {', '.join(unknown)} in {self.declared_in}",
                              hint="--only takes names from the zoo's [[models]] tables")
        return [e for e in self.entries if not wanted or e.name in wanted]


# keys of one [[...models]] table, as TOML spells them, with their types
_ENTRY_KEYS: dict[str, type | tuple[type, ...]] = {
    "name": str, "source": str, "inputs": list, "samples": str, "weights": str,
    "input-visibility": str, "weights-visibility": str, "target": str,
    "min-agreement": (int, float), "max-error": (int, float), "max-error-pct": (int, float),
    "decision-threshold": (int, float), "abs-tolerance": (int, float),
    "rel-tolerance": (int, float), "max-logrows": int, "inner-cols": int,
    "decomp-base": int, "decomp-legs": int,
}


def _table(path: Path) -> dict[str, Any] | None:
    """The regress table of a config file, or None if the file declares no zoo."""
    try:
        data = tomllib.loads(path.read_text())
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{path} is not readable TOML: {exc}") from None
    if path.name == "pyproject.toml":
        return data.get("tool", {}).get("zkml", {}).get("regress")
    return data.get("regress")


def find_config(start: Path) -> Path:
    """The nearest zkml.toml or pyproject.toml declaring a zoo, from start upwards."""
    for folder in [start.resolve(), *start.resolve().parents]:
        for name in CONFIG_FILES:
            candidate = folder / name
            if candidate.is_file() and _table(candidate) is not None:
                return candidate
    raise ConfigError(
        f"no model zoo is declared in {start.resolve()} or above",
        hint="add [tool.zkml.regress] to pyproject.toml or [regress] to zkml.toml "
        "(see the README's proof regression section), or pass --config",
    )


def load_zoo(config: Path) -> Zoo:
    """Parse a zoo declaration; paths in it are relative to the file that declares it."""
    table = _table(config)
    if table is None:
        raise ConfigError(f"{config} declares no zoo ([tool.zkml.regress] or [regress])")
    where = config.parent
    raw_models = table.get("models", [])
    if not isinstance(raw_models, list) or not raw_models:
        raise ConfigError(f"{config}: the zoo lists no models",
                          hint="add one [[tool.zkml.regress.models]] table per model")
    entries = [_entry(raw, where, config) for raw in raw_models]
    names = [e.name for e in entries]
    if len(set(names)) != len(names):
        raise ConfigError(f"{config}: model names repeat in the zoo")
    return Zoo(entries, where / str(table.get("baseline", "zkml-baseline.json")), config)


def _entry(raw: Any, where: Path, config: Path) -> ZooEntry:
    if not isinstance(raw, dict):
        raise ConfigError(f"{config}: each zoo model must be a table")
    for key, value in raw.items():
        kind = _ENTRY_KEYS.get(key)
        if kind is None:
            raise ConfigError(f"{config}: unknown key {key!r} in a zoo model",
                              hint=f"known keys: {', '.join(_ENTRY_KEYS)}")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise ConfigError(f"{config}: {key!r} has the wrong type")
    for key in ("name", "source"):
        if key not in raw:
            raise ConfigError(f"{config}: a zoo model has no {key!r}")
    source = raw["source"]
    if source not in models.BUNDLED:  # a file: relative to the config, keeping any :callable
        path, colon, attr = source.rpartition(":") if ":" in source else (source, "", "")
        source = f"{where / path}{colon}{attr}"
    optional = lambda key: None if key not in raw else where / raw[key]  # noqa: E731
    try:
        options = CircuitOptions(
            input_visibility=raw.get("input-visibility", CircuitOptions.input_visibility),
            commitment=raw.get("commitment", CircuitOptions.commitment),
            weights=raw.get("weights-visibility", CircuitOptions.weights),
            calibration_target=raw.get("target", CircuitOptions.calibration_target),
            min_agreement=float(raw.get("min-agreement", CircuitOptions.min_agreement)),
            max_error=None if "max-error" not in raw else float(raw["max-error"]),
            max_error_pct=float(raw.get("max-error-pct", CircuitOptions.max_error_pct)),
            decision_threshold=None if "decision-threshold" not in raw
            else float(raw["decision-threshold"]),
            max_logrows=raw.get("max-logrows"),
            num_inner_cols=raw.get("inner-cols"),
            decomp_base=raw.get("decomp-base"),
            decomp_legs=raw.get("decomp-legs"),
        )
    except ZkmlError as exc:
        raise ConfigError(f"{config}: model {raw['name']}: {exc.message}") from None
    return ZooEntry(
        name=raw["name"], source=source,
        inputs=tuple(where / str(p) for p in raw.get("inputs", [])), options=options,
        samples=optional("samples"), weights=optional("weights"),
        abs_tolerance=float(raw.get("abs-tolerance", 0.0)),
        rel_tolerance=float(raw.get("rel-tolerance", 0.0)),
    )


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
    "fidelity_agreement": ("absolute", 0.0),
    "fidelity_max_abs_error": ("relative", 0.05),
}


def measure(entry: ZooEntry, circuits_dir: Path, rpc_url: str) -> dict[str, Any]:
    """Run one zoo model through every stage; return its metrics (and, apart, timings)."""
    from zkml import chain
    from zkml.evm.verifier import calldata, encode_verify_call
    from zkml.export import ExportedModel
    from zkml.subjects import groups

    timings: dict[str, float] = {}

    def timed(stage: str, action: Callable[[], Any]) -> Any:
        start = time.perf_counter()
        result = action()
        timings[stage] = round(time.perf_counter() - start, 3)
        return result

    model = timed("load", lambda: models.resolve(entry.source, name=entry.name,
                                                 weights=entry.weights, samples=entry.samples))
    layout = ModelLayout.for_model(entry.name, circuits_dir)
    timed("export", lambda: export(model, layout))
    timed("compile", lambda: pipeline.compile_model(layout, entry.options))
    timed("setup", lambda: proving.setup(layout))
    subjects = CircuitSettings.load(layout).subjects
    fixed = ([read_private_input(p) for p in entry.inputs]
             or [PrivateInput(groups(ExportedModel.load(layout).holdout, subjects)[0])])
    outputs, verified = [], []
    with tempfile.TemporaryDirectory(prefix="zkml-regress-") as scratch:
        for k, private in enumerate(fixed):
            path = ScratchLayout(Path(scratch) / str(k)).proof
            path.parent.mkdir()
            prove = functools.partial(proving.prove, layout, private.values, path,
                                      f"fixed input {k}", salts=private.salts)
            timed(f"prove{k}", prove)
            verified.append(timed(f"verify{k}", functools.partial(proving.verify, layout, path)))
            outputs.append(verified[-1].instances.outputs)
        built = timed("verifier", lambda: proving.build_verifier(layout))
        first_proof = ScratchLayout(Path(scratch) / "0").proof
        instance_count = len(calldata(first_proof).instances)
        with chain.deploy(layout, rpc_url) as registry:
            onchain = timed("onchain", lambda: registry.submit(first_proof))
            verify_gas = registry.chain.w3.eth.estimate_gas(
                {"to": onchain.deployment.verifier,
                 "data": encode_verify_call(calldata(first_proof))})
    settings = read_json(layout.settings, "settings")
    fidelity = FidelityReport.load(layout)
    return {
        "model_files": {p.name: sha256_file(p) for p in model.files},
        "outputs": outputs,
        "native_verified": True,
        "onchain_verified": True,
        "logrows": settings["run_args"]["logrows"],
        "num_rows": settings["num_rows"],
        "total_assignments": settings["total_assignments"],
        "instances": instance_count,
        "verify_gas": verify_gas,
        "submit_gas": onchain.gas,
        "proof_bytes": keys.KeyRecord.load(layout).proof_bytes,
        "pk_bytes": sum(p.stat().st_size for p in segments.keys_of(layout, "pk")),
        "vk_bytes": sum(p.stat().st_size for p in segments.keys_of(layout, "vk")),
        "verifier_bytes": built.runtime_bytes,
        "fidelity_agreement": fidelity.agreement,
        "fidelity_max_abs_error": fidelity.max_abs_error,
        "fidelity": budget_record(fidelity),
        "timings_s": timings,
    }


def budget_record(report: FidelityReport) -> list[dict[str, Any]]:
    """Each output's error against its budget, as the baseline records it."""
    return [{"output": o.output, "max_abs_error": o.max_abs_error, "error_pct": o.error_pct,
             "budget": o.budget, "budget_pct": o.budget_pct, "spread": o.spread,
             "decision_flips": o.decision_flips, "within_budget": o.within_budget}
            for o in report.outputs]


@dataclass
class BudgetMiss:
    """A zoo model whose circuit left its error budget: no setting keeps it inside."""

    model: str
    output: int
    max_abs_error: float
    error_pct: float
    budget: float
    budget_pct: float
    message: str  # compile's one line: what misses, by how much, at which setting


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


def _output_name(k: int, i: int, j: int, inputs: int) -> str:
    return f"output[{i}][{j}]" if inputs == 1 else f"input[{k}].output[{i}][{j}]"


def _compare_outputs(model: str, before: list, now: list, entry: ZooEntry) -> list[Moved]:
    """Element by element; exact unless the zoo sets a tolerance (regression models)."""
    moved: list[Moved] = []
    if len(before) != len(now):
        return [Moved(model, "fixed inputs", len(before), len(now), "exact")]
    allowed = ("exact" if not (entry.abs_tolerance or entry.rel_tolerance)
               else f"±{entry.abs_tolerance:g} ±{entry.rel_tolerance:.2%}")
    for k, (old_input, new_input) in enumerate(zip(before, now, strict=True)):
        for i, (old_row, new_row) in enumerate(zip(old_input, new_input, strict=False)):
            if len(old_row) != len(new_row):
                moved.append(Moved(model, f"outputs[{i}] length", len(old_row), len(new_row),
                                   "exact"))
            for j, (old, new) in enumerate(zip(old_row, new_row, strict=False)):
                if abs(new - old) > entry.abs_tolerance + entry.rel_tolerance * abs(old):
                    moved.append(Moved(model, _output_name(k, i, j, len(before)), old, new,
                                       allowed))
    return moved


def compare(baseline: dict[str, Any], current: dict[str, Any],
            entries: list[ZooEntry]) -> list[Moved]:
    """Everything that moved beyond its tolerance. A changed model file is named first, so
    that moved outputs read as the consequence they are, not as drift."""
    moved: list[Moved] = []
    by_name = {e.name: e for e in entries}
    for model, now in current.items():
        before = baseline.get(model)
        if before is None:
            moved.append(Moved(model, "(model)", "absent", "new", "in baseline"))
            continue
        old_files, new_files = before.get("model_files", {}), now["model_files"]
        for name in sorted(set(old_files) | set(new_files)):
            if old_files.get(name) != new_files.get(name):
                moved.append(Moved(model, f"model changed: {name}",
                                   (old_files.get(name) or "absent")[:12],
                                   (new_files.get(name) or "absent")[:12], "same sha256"))
        moved += _compare_outputs(model, before["outputs"], now["outputs"], by_name[model])
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
    seconds: float
    over_budget: list[BudgetMiss] = field(default_factory=list)  # apart from what moved

    def raise_for_failures(self) -> None:
        """RegressionFailed when a model left its error budget or a figure moved."""
        if self.over_budget:
            first = self.over_budget[0]
            others = len({b.model for b in self.over_budget}) - 1
            raise RegressionFailed(
                f"{first.model} left its error budget: {first.message}"
                + (f"; and {others} more model(s)" if others else "")
                + (f"; and {len(self.moved)} regression(s) against {self.baseline_path}"
                   if self.moved else ""),
                hint="fix the cause, or widen the model's max-error-pct / max-error in the zoo "
                "if that error is acceptable")
        if self.moved:
            raise RegressionFailed(
                f"{len(self.moved)} regression(s) against {self.baseline_path}",
                hint="fix the cause, or accept the change with `zkml regress --update-baseline`")


def run(entries: list[ZooEntry], circuits_dir: Path, baseline_path: Path,
        update: bool = False, rpc_url: str | None = None,
        progress: ProgressHook = ignore) -> RegressionReport:
    """Measure every zoo model (on one throwaway Anvil unless rpc_url), then compare with the
    baseline, or with update write this run as the baseline (not when a model left its error
    budget: those are in over_budget, apart from what moved)."""
    from contextlib import ExitStack

    from zkml import chain
    from zkml.evm.anvil import Anvil

    if not update and not baseline_path.exists():
        raise ArtifactError(f"no regression baseline at {baseline_path}",
                            hint="create it with `zkml regress --update-baseline`")
    chain.check(rpc_url)  # a missing compiler or node fails before the first model is built
    start = time.perf_counter()
    current: dict[str, Any] = {}
    misses: list[BudgetMiss] = []
    with ExitStack() as stack:
        url = rpc_url or stack.enter_context(Anvil()).url
        for done, entry in enumerate(entries):
            progress(Progress("regress", entry.name, done, len(entries)))
            try:
                current[entry.name] = measure(entry, circuits_dir, url)
            except BudgetExceeded as exc:  # the model left its budget: nothing else to measure
                outputs = [o for o in exc.report.outputs if not o.within_budget]
                misses += [BudgetMiss(entry.name, o.output, o.max_abs_error, o.error_pct,
                                      o.budget, o.budget_pct, exc.message)
                           for o in outputs or [exc.report.worst]]
    seconds = time.perf_counter() - start
    if update and not misses:
        existing = read_json(baseline_path, "baseline") if baseline_path.exists() else {}
        write_json(baseline_path, {**existing, **current})
        return RegressionReport(current, [], baseline_path, True, seconds)
    moved = [] if update else compare(read_json(baseline_path, "baseline"), current, entries)
    return RegressionReport(current, moved, baseline_path, False, seconds, misses)
