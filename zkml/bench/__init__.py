"""`zkml bench`: zkml's pipeline beside plain ezkl on the same ONNX and the same private input,
every figure with its ratio, in one run that writes JSON, Markdown and PNG into one folder.

Every model is measured with zkml's defaults (the input committed, with a salt) and again
with `--input-visibility private`: the "commitment overhead" is the ratio of their proving times.

Parts (all by default):
- models: the bundled models, zkml (default compile) vs plain ezkl (its defaults): each step's
  time and peak memory in its own process, whole-process `zkml prove` vs a plain ezkl script,
  sizes, gas, agreement and error (absolute and % of the output's held-out spread); plus the
  `--optimize time` search on the default model (wall and CPU time).
- commitments: the commitment schemes side by side (KZG, Poseidon, none) on the default
  model, the credit MLP and LeNet-5.
- gas: N private inputs in one proof (N = 1, 4, 10, 32): registry gas per verified inference
  (the one transaction / N), how much of it is the verifier, and proving time per inference;
  at N = 4 and 10 both commitment schemes.
- lookups: models whose nonlinearities need lookup tables, three ways: zkml, plain ezkl and
  ezkl hand-tuned (with the same commitment as zkml); logrows against the bound
  ceil(log2(rows)) + 2, agreement, time.
- large: an MNIST-shape LeNet-5 and a 96-256-128-1 credit MLP, the same three ways, with where
  the largest model's proving time goes.
- sweep: zkml on bundled models of growing size (MLP widths, CNN channels).
- versions: a new model version in an application's registry with its own verifier vs ezkl's
  shared reusable verifier (with the model's VKA): what adding it costs the owner, what each
  proof costs the submitter, and after how many results the own verifier has paid for itself.
- long: a subject longer than one KZG commitment column (a 3,000-field record) beside the
  default model: zkml's layout (a pair of blinders after every 254 values, the key over every
  column's point), one column per subject (logrows raised until it fits), and Poseidon.
- search: on every model above (bundled, lookup-heavy, larger) and a 120k-parameter fraud MLP,
  zkml's compile (its settings search) beside plain ezkl's gen_settings + calibrate + compile,
  each in its own process: time, the circuit's area ((inner columns + tables) x 2^logrows),
  rows and error, with whole-process prove time and peak memory of both; and for the larger
  models where each circuit's cells come from, per layer (zkml.bench.profile).
- split: models too large for one circuit here, proved in segments beside plain ezkl
  (zkml.bench.split).
"""

from __future__ import annotations

import json
import math
import tempfile
import time
from contextlib import ExitStack
from dataclasses import asdict
from pathlib import Path
from typing import Any

import numpy as np

from zkml.bench import split
from zkml.bench.plain import Side, ezkl_side, layout_figures, plain_root
from zkml.bench.prepare import machine, prepare
from zkml.bench.runner import Measured, measure, step
from zkml.circuit import CircuitOptions, CircuitSettings
from zkml.export import ExportedModel
from zkml.fidelity import FidelityReport
from zkml.layout import BenchLayout, ModelLayout, ScratchLayout, read_json, write_json
from zkml.models.bundled import Spec
from zkml.progress import Progress, ProgressHook, ignore

PARTS = ("models", "commitments", "gas", "lookups", "large", "sweep", "versions", "long",
         "search", "split")
VERSION_MODELS = ["breast_cancer", "digits"]
MODELS = ["breast_cancer", "digits", "digits_mlp"]
SUBJECTS = [1, 4, 10, 32]
# ezkl by hand, per model: what a careful user finds by trying settings one at a time (run
# args, calibration arguments): 256^4 range checks, no Freivalds, and for lookup-heavy models
# the lowest scale (without rescaling multipliers) at which the model stays inside zkml's
# default error budget (0.5 % of the output's spread) with ezkl's lookup margin: the same
# accuracy as zkml, so the same work. It proves zkml's salted graph with ezkl's KZG commitment
# to the input: the same commitment as zkml, and like zkml without ezkl's range checks of the
# input and output (a salt's blinders are field elements: at scales above 5 they fail them).
_HAND = {"decomp_base": 256, "decomp_legs": 4, "disable_freivalds": True,
         "ignore_range_check_inputs_outputs": True}
HAND_TUNED: dict[str, tuple[dict[str, Any], dict[str, Any]]] = {
    "default": (_HAND, {"scales": [8]}),
    "wine_bn_sigmoid": (_HAND, {"scales": [7], "scale_rebase_multiplier": [1]}),
    "iris_tanh": (_HAND, {"scales": [7], "scale_rebase_multiplier": [1]}),
    "breast_cancer_gelu": (_HAND, {"scales": [7], "scale_rebase_multiplier": [1]}),
    "digits_softmax": (_HAND, {"scales": [9], "scale_rebase_multiplier": [1]}),
}
COMMITMENT_MODELS = ["breast_cancer", "credit_mlp", "lenet5"]
PRIVATE: dict[str, Any] = {"input_visibility": "private"}
SCHEMES = {"kzg": "zkml, KZG commitment", "poseidon": "zkml, Poseidon commitment"}
NO_COMMITMENT = "zkml, no commitment"


def _first_input(layout: ModelLayout) -> Path:
    from zkml.subjects import groups

    rows = groups(ExportedModel.load(layout).holdout, CircuitSettings.load(layout).subjects)[0]
    layout.bench_input.write_text(json.dumps(rows.astype(float).tolist()))
    return layout.bench_input


def zkml_side(layout: ModelLayout, repeats: int, rpc_url: str | None,
              options: dict[str, Any] | None = None, label: str = "zkml",
              stages: bool = True) -> Side:
    """zkml's steps on a prepared model, each in its own process, and its figures (without
    timing compile and setup again when not `stages`)."""
    import sys

    from zkml.keys import KeyRecord

    steps = {}
    if stages:
        steps = {"compile": step("zkml_compile", root=layout.root, options=options or {}),
                 "setup": step("zkml_setup", root=layout.root)}
    source = _first_input(layout)
    steps["prove"] = step("zkml_prove", repeats, root=layout.root, input=source)
    steps["verify"] = step("zkml_verify", repeats, root=layout.root)
    if stages:
        steps["setup_rerun"] = step("zkml_setup", root=layout.root, force=False)
    whole = [measure([sys.executable, "-m", "zkml.cli", "--circuits-dir", str(layout.root.parent),
                      "prove", layout.name, "--input", str(source), "-o",
                      str(layout.bench_proof)])[0] for _ in range(repeats)]
    steps["whole_prove"] = _median(whole)
    settings = CircuitSettings.load(layout)
    fidelity = FidelityReport.load(layout)
    side = Side(label, settings.logrows, settings.num_rows, layout.pk.stat().st_size,
                layout.vk.stat().st_size, KeyRecord.load(layout).proof_bytes, steps,
                fidelity.agreement, fidelity.max_abs_error,
                max(o.error_pct for o in fidelity.outputs),
                **layout_figures(read_json(layout.settings, "settings")))
    if rpc_url:
        gas = _gas(layout, rpc_url)
        side.verify_gas, side.verifier_bytes = gas["transaction_gas"], gas["verifier_bytes"]
    return side


def _median(runs: list[Measured]) -> Measured:
    import statistics

    wall = statistics.median(r.wall_seconds for r in runs)
    return Measured(wall, wall, max(r.peak_mb for r in runs))


def _gas(layout: ModelLayout, rpc_url: str) -> dict[str, int]:
    """The gas of the one transaction that verifies and records a proof (with no commitment,
    of verifyProof alone: there is no registry), of verifyProof alone, and the verifier's
    size."""
    from zkml import chain, proof
    from zkml.evm import rpc
    from zkml.evm.verifier import EvmBuild, build_verifier, calldata, encode_verify_call

    made = proof.prove(layout, json.loads(_first_input(layout).read_text()), layout.bench_proof)
    if CircuitSettings.load(layout).salted:
        with chain.deploy(layout, rpc_url) as registry:
            submitted = registry.submit(made)
            transaction, verifier = submitted.gas, submitted.deployment.verifier
            node = registry.chain
    else:
        build_verifier(layout)
        node = rpc.connect(rpc_url)
        verifier, _ = rpc.deploy(node, EvmBuild.load(layout).verifier)
        transaction = 0
    call = {"to": verifier, "data": encode_verify_call(calldata(made.path))}
    verify = int(rpc.send(node, call)["gasUsed"])
    return {"transaction_gas": transaction or verify, "verify_gas": verify,
            "verifier_bytes": int(EvmBuild.load(layout).verifier["runtime_size"])}


def compare(ours: Side, *others: Side) -> dict[str, Any]:
    """Every figure of every side, with the ratio other / zkml (above 1: zkml is better)."""
    def figures(side: Side) -> dict[str, Any]:
        row: dict[str, Any] = {k: v for k, v in asdict(side).items() if k != "steps"}
        for name, measured in side.steps.items():
            row[f"{name}_s"] = measured.seconds
            row[f"{name}_mb"] = measured.peak_mb
        return row

    table = {side.label: figures(side) for side in (ours, *others)}
    for side in others:
        table[side.label]["ratio"] = {
            key: (value / table["zkml"][key]) if isinstance(value, int | float)
            and not isinstance(value, bool) and table["zkml"].get(key) else None
            for key, value in table[side.label].items() if key != "label"}
    return table


# ---------------------------------------------------------------------------------- parts


def _without_commitment(spec: Spec, circuits: Path, repeats: int,
                        rpc_url: str) -> tuple[Side, ModelLayout]:
    """zkml on the same model with `--input-visibility private`: what the commitment costs."""
    layout = prepare(spec, circuits, CircuitOptions(**PRIVATE), name=f"{spec.name}_private")
    return zkml_side(layout, repeats, rpc_url, PRIVATE, NO_COMMITMENT, stages=False), layout


def _overhead(committed: ModelLayout, bare: ModelLayout, repeats: int) -> float:
    """zkml's proving time with the commitment / without it: proves of the two alternate, so
    that a busy moment of the machine slows both alike."""
    import statistics

    times: dict[Path, list[float]] = {committed.root: [], bare.root: []}
    for _ in range(repeats):
        for layout in (committed, bare):
            times[layout.root].append(step("zkml_prove", root=layout.root,
                                           input=_first_input(layout)).seconds)
    return statistics.median(times[committed.root]) / statistics.median(times[bare.root])


def part_models(results: dict[str, Any], circuits: Path, scratch: Path, names: list[str],
                repeats: int, rpc_url: str, progress: ProgressHook) -> None:
    from zkml.models import bundled

    for name in names:
        progress(Progress("bench", f"{name}: zkml and plain ezkl"))
        spec = bundled.SPECS[name]
        layout = prepare(spec, circuits)
        ours = zkml_side(layout, repeats, rpc_url)
        plain = ezkl_side(layout, scratch, "plain ezkl", repeats, rpc_url=rpc_url)
        bare, bare_layout = _without_commitment(spec, circuits, repeats, rpc_url)
        table = compare(ours, plain, bare)
        table["zkml"]["commitment_overhead"] = _overhead(layout, bare_layout, max(repeats, 5))
        results["models"][name] = table
    progress(Progress("bench", "breast_cancer: the --optimize time search"))
    results["optimize"] = _optimize_search(circuits)


def _optimize_search(circuits: Path) -> dict[str, Any]:
    """`zkml compile breast_cancer --optimize time` as a user runs it: wall and CPU time of the
    whole process tree, what it chose and the chosen circuit's error."""
    import sys

    layout = ModelLayout.for_model("breast_cancer", circuits)
    figures, _ = measure([sys.executable, "-m", "zkml.cli", "--circuits-dir", str(circuits),
                          "compile", "breast_cancer", "--optimize", "time", "--force"])
    fidelity = FidelityReport.load(layout)
    return {"seconds": figures.wall_seconds, "cpu_seconds": figures.cpu_seconds,
            "choice": read_json(layout.optimize_report, "optimize report")["reason"],
            "logrows": CircuitSettings.load(layout).logrows,
            "max_abs_error": fidelity.max_abs_error,
            "error_pct": max(o.error_pct for o in fidelity.outputs)}


def part_commitments(results: dict[str, Any], circuits: Path, repeats: int, rpc_url: str,
                     progress: ProgressHook) -> None:
    """The commitment schemes side by side, and none, on the same model: proving time and
    memory, proving key, logrows, the Poseidon chip's rows, and the transaction's gas."""
    from zkml.bench.zoo import LARGE
    from zkml.models import bundled

    specs = {**bundled.SPECS, **{spec.name: spec for spec in LARGE}}
    for name in COMMITMENT_MODELS:
        spec, table = specs[name], {}
        for scheme, label in SCHEMES.items():
            progress(Progress("bench", f"{name}: {label}"))
            options = CircuitOptions(commitment=scheme)
            layout = prepare(spec, circuits, options,
                              name=name if scheme == "kzg" else f"{name}_{scheme}")
            table[label] = zkml_side(layout, repeats, rpc_url, {"commitment": scheme}, label,
                                     stages=False)
            settings = read_json(layout.settings, "settings")
            table[label].hash_rows = settings["module_sizes"]["poseidon"][0]
        progress(Progress("bench", f"{name}: {NO_COMMITMENT}"))
        table[NO_COMMITMENT] = _without_commitment(spec, circuits, repeats, rpc_url)[0]
        results["commitments"][name] = {label: {**asdict(side), "prove_s":
                                                side.steps["prove"].seconds, "prove_mb":
                                                side.steps["prove"].peak_mb, "whole_prove_s":
                                                side.steps["whole_prove"].wall_seconds}
                                        for label, side in table.items()}


def part_gas(results: dict[str, Any], circuits: Path, scratch: Path, rpc_url: str,
             repeats: int, progress: ProgressHook) -> None:
    """zkml with its defaults: one transaction that verifies and records N results (and the
    other commitment scheme at N = 4 and 10); beside it plain ezkl, whose verifier only
    verifies (N rows in one private input, no commitments, nothing recorded)."""
    from zkml.models import bundled
    from zkml.subjects import KZG_MAX_SUBJECTS

    runs: list[tuple[int, str | None]] = [(n, None) for n in SUBJECTS]
    runs += [(n, "poseidon" if n <= KZG_MAX_SUBJECTS else "kzg") for n in (4, 10)]
    for n, scheme in runs:
        progress(Progress("bench", f"breast_cancer with {n} subject(s) per proof"
                          + (f", {scheme} commitment" if scheme else "")))
        options = CircuitOptions(subjects=n, commitment=scheme or "auto")
        layout = prepare(bundled.SPECS["breast_cancer"], circuits, options,
                          name=f"breast_cancer_n{n}" + (f"_{scheme}" if scheme else ""))
        prove = step("zkml_prove", 1 if n > 4 else repeats, root=layout.root,
                     input=_first_input(layout))
        gas = _gas(layout, rpc_url)
        settings = CircuitSettings.load(layout)
        row = {"subjects": n, "default": scheme is None, "commitment": settings.commitment,
               "logrows": settings.logrows, "num_rows": settings.num_rows,
               **gas, "gas_per_inference": gas["transaction_gas"] / n,
               "prove_s": prove.seconds, "prove_s_per_inference": prove.seconds / n,
               "prove_peak_mb": prove.peak_mb, "pk_bytes": layout.pk.stat().st_size}
        if scheme is None:
            plain = ezkl_side(layout, scratch, f"plain ezkl N={n}", 1, rpc_url=rpc_url, batch=n)
            row |= {"plain_ezkl_verify_gas": plain.verify_gas,
                    "plain_ezkl_verify_gas_per_inference": (plain.verify_gas or 0) / n,
                    "plain_ezkl_prove_s": plain.steps["prove"].seconds,
                    "plain_ezkl_logrows": plain.logrows}
        results["gas"].append(row)


def part_versions(results: dict[str, Any], circuits: Path, rpc_url: str,
                  progress: ProgressHook) -> None:
    """Real transactions on the bench's Anvil, per model: a registry, then the model added as
    a version with its own verifier and again with the shared one, the same proof submitted
    to each, and verifyProof alone on each verifier."""
    from zkml import proof
    from zkml.evm import registry, rpc
    from zkml.evm.verifier import calldata, encode_verify_call, vka_words
    from zkml.models import bundled

    chain = rpc.connect(rpc_url)
    for name in VERSION_MODELS:
        progress(Progress("bench", f"{name}: a new version, own verifier vs shared"))
        layout = prepare(bundled.SPECS[name], circuits)
        made = proof.prove(layout, json.loads(_first_input(layout).read_text()),
                           layout.bench_proof)
        address, registry_gas = registry.deploy_registry(chain, circuits)
        row: dict[str, Any] = {"model": name, "registry_gas": registry_gas}
        call = calldata(made.path)
        for kind in ("own", "shared"):
            deployment = registry.add_version(chain, address, layout, kind)
            submitted = registry.submit(chain, deployment, layout, made.path)
            if kind == "own":
                data = encode_verify_call(call)
            else:  # what a direct caller of the reusable verifier sends: the VKA as calldata
                from eth_abi import encode
                from eth_utils import function_signature_to_4byte_selector

                data = function_signature_to_4byte_selector(
                    "verifyProof(bytes,uint256[],bytes32[])") + encode(
                    ["bytes", "uint256[]", "bytes32[]"],
                    [call.proof, call.instances, vka_words(layout)])
            verify = int(rpc.send(chain, {"to": deployment.verifier, "data": data})["gasUsed"])
            row[kind] = {"verifier": deployment.verifier, "verifier_bytes":
                         deployment.verifier_bytes, "verifier_gas": deployment.verifier_gas,
                         "version_gas": deployment.version_gas, "submit_gas": submitted.gas,
                         "verify_gas": verify}
        own, shared = row["own"], row["shared"]
        # the shared verifier is deployed once per chain: not a cost of each version
        row["shared_verifier_gas"] = results.get("shared_verifier_gas") or shared["verifier_gas"]
        results["shared_verifier_gas"] = row["shared_verifier_gas"]
        row["own_new_version_gas"] = own["verifier_gas"] + own["version_gas"]
        row["shared_new_version_gas"] = shared["version_gas"]
        saved = row["own_new_version_gas"] - row["shared_new_version_gas"]
        extra = shared["submit_gas"] - own["submit_gas"]
        row["extra_gas_per_submit"] = extra
        row["break_even_results"] = math.ceil(saved / extra) if extra > 0 else 0
        results["versions"].append(row)


def part_long(results: dict[str, Any], circuits: Path, repeats: int, rpc_url: str,
              progress: ProgressHook) -> None:
    """How a subject spread over several KZG columns is committed, against the alternatives,
    beside the default model's single column: logrows, the subject's points, proving time and
    memory, proving key and the transaction's gas."""
    from zkml.bench.zoo import LONG_RECORD
    from zkml.keys import KeyRecord
    from zkml.models import bundled

    layouts = {("breast_cancer", "zkml, KZG"): lambda: prepare(bundled.SPECS["breast_cancer"],
                                                                circuits),
               ("long_record", "zkml, KZG"): lambda: prepare(LONG_RECORD, circuits),
               ("long_record", "KZG, one column per subject"): lambda: _one_column(
                   prepare(LONG_RECORD, circuits, name="long_record_one_column")),
               ("long_record", "zkml, Poseidon"): lambda: prepare(
                   LONG_RECORD, circuits, CircuitOptions(commitment="poseidon"),
                   name="long_record_poseidon")}
    for (name, label), make in layouts.items():
        progress(Progress("bench", f"{name}: {label}"))
        layout = make()
        side = zkml_side(layout, repeats, rpc_url, label=label, stages=False)
        results["long"].setdefault(name, {})[label] = {
            **asdict(side), "points": KeyRecord.load(layout).commitment_points,
            "prove_s": side.steps["prove"].seconds, "prove_mb": side.steps["prove"].peak_mb,
            "whole_prove_s": side.steps["whole_prove"].wall_seconds}


def _one_column(layout: ModelLayout) -> ModelLayout:
    """The circuit at the least logrows where each subject fits one commitment column."""
    from zkml import circuit, keys
    from zkml.keys import KeyRecord

    while KeyRecord.load(layout).commitment_points > 1:
        settings = read_json(layout.settings, "settings")
        settings["run_args"]["logrows"] += 1
        write_json(layout.settings, settings)
        circuit.compile_circuit(layout)
        keys.setup(layout)
    return layout


def _three_ways(spec: Spec, circuits: Path, scratch: Path, repeats: int, rpc_url: str,
                hand: tuple[dict[str, Any], dict[str, Any]]) -> dict[str, Any]:
    layout = prepare(spec, circuits)
    ours = zkml_side(layout, repeats, rpc_url)
    plain = ezkl_side(layout, scratch, "plain ezkl", repeats, rpc_url=rpc_url)
    tuned = ezkl_side(layout, scratch, "hand-tuned ezkl", repeats, hand[0], hand[1], rpc_url,
                      salted=True)
    bare, bare_layout = _without_commitment(spec, circuits, repeats, rpc_url)
    table = compare(ours, plain, tuned, bare)
    table["zkml"]["commitment_overhead"] = _overhead(layout, bare_layout, max(repeats, 2))
    bound = math.ceil(math.log2(max(2, ours.num_rows))) + 2
    table["zkml"]["logrows_bound"] = bound
    return table


def part_lookups(results: dict[str, Any], circuits: Path, scratch: Path, repeats: int,
                 rpc_url: str, progress: ProgressHook) -> None:
    from zkml.bench.zoo import LOOKUP_HEAVY

    for spec in LOOKUP_HEAVY:
        progress(Progress("bench", f"{spec.name}: zkml, plain ezkl, hand-tuned ezkl"))
        results["lookups"][spec.name] = _three_ways(spec, circuits, scratch, repeats, rpc_url,
                                                    HAND_TUNED.get(spec.name,
                                                                   HAND_TUNED["default"]))


def part_large(results: dict[str, Any], circuits: Path, scratch: Path, repeats: int,
               rpc_url: str, progress: ProgressHook) -> None:
    from zkml.bench.zoo import LARGE

    for spec in LARGE:
        progress(Progress("bench", f"{spec.name}: zkml, plain ezkl, hand-tuned ezkl"))
        table = _three_ways(spec, circuits, scratch, 1, rpc_url,
                            HAND_TUNED.get(spec.name, HAND_TUNED["default"]))
        results["large"][spec.name] = table
    largest = max(results["large"], key=lambda n: results["large"][n]["zkml"]["num_rows"])
    results["large_breakdown"] = {"model": largest, **_breakdown(circuits / largest, scratch)}


def _breakdown(root: Path, scratch: Path) -> dict[str, float]:
    """Where a proof's time goes: the witness, reading the proving key, and proving proper."""
    import shutil

    from zkml import subjects
    from zkml.keys import KeyRecord

    layout = ModelLayout(root)
    work = ModelLayout(scratch / "breakdown")
    work.root.mkdir(exist_ok=True)
    for name in ("compiled", "pk", "settings"):
        shutil.copy2(getattr(layout, name), getattr(work, name))
    rows = json.loads(_first_input(layout).read_text())
    salts = [0] * len(rows) if CircuitSettings.load(layout).salted else None
    ScratchLayout(work.root).input.write_text(json.dumps(subjects.input_data(
        np.asarray(rows, dtype=np.float32), salts, ExportedModel.load(layout).signature)))
    srs = KeyRecord.load(layout).srs_path
    witness = step("ezkl_witness", 1, root=work.root, srs=srs)
    proving = step("ezkl_prove_only", 1, root=work.root, srs=srs)
    started = time.perf_counter()
    work.pk.read_bytes()
    reading = time.perf_counter() - started
    return {"witness_s": witness.seconds, "prove_s": proving.seconds,
            "pk_read_s": reading, "pk_bytes": layout.pk.stat().st_size}


def part_sweep(results: dict[str, Any], circuits: Path, progress: ProgressHook) -> None:
    from zkml.models import bundled

    sweep = [bundled.breast_cancer_spec(h) for h in (16, 64, 256)]
    sweep += [bundled.digits_spec(c) for c in (2, 4, 8)]
    for spec in sweep:
        progress(Progress("bench", f"sweep: {spec.name}"))
        layout = prepare(spec, circuits)
        setup = step("zkml_setup", root=layout.root)
        prove = step("zkml_prove", root=layout.root, input=_first_input(layout))
        settings = CircuitSettings.load(layout)
        results["sweep"].append({"model": spec.name, "logrows": settings.logrows,
                                 "num_rows": settings.num_rows,
                                 "pk_bytes": layout.pk.stat().st_size,
                                 "setup_s": setup.seconds, "setup_peak_mb": setup.peak_mb,
                                 "prove_s": prove.seconds, "prove_peak_mb": prove.peak_mb})


def part_search(results: dict[str, Any], circuits: Path, scratch: Path, repeats: int,
                progress: ProgressHook) -> None:
    """zkml's compile beside plain ezkl's on every bench model (see the module's docstring);
    the larger models prove once per side."""
    from zkml.bench.profile import plain_profile, zkml_profile
    from zkml.bench.zoo import FRAUD_MLP, LARGE, LOOKUP_HEAVY
    from zkml.models import bundled

    large = [*LARGE, FRAUD_MLP]
    for spec in [*(bundled.SPECS[n] for n in MODELS), *LOOKUP_HEAVY, *large]:
        progress(Progress("bench", f"{spec.name}: zkml's compile and plain ezkl's"))
        layout = prepare(spec, circuits)
        times = 1 if spec in large else repeats
        ours = zkml_side(layout, times, None)
        plain = ezkl_side(layout, scratch, "plain ezkl", times)
        row: dict[str, Any] = {"search": read_json(layout.search_report, "search report")}
        for side in (ours, plain):
            row[side.label] = {**{k: v for k, v in asdict(side).items() if k != "steps"},
                               "area": side.area, **{
                                   f"{name}_{figure}": getattr(side.steps[name], attr)
                                   for name in ("compile", "whole_prove", "prove")
                                   for figure, attr in (("s", "seconds"), ("cpu_s", "cpu_seconds"),
                                                        ("mb", "peak_mb"))}}
        if spec in large:
            progress(Progress("bench", f"{spec.name}: where the rows come from"))
            row["profile"] = {"zkml": [asdict(layer) for layer in zkml_profile(layout)],
                              "plain ezkl": [asdict(layer) for layer in plain_profile(
                                  plain_root(scratch, plain.label, layout))]}
        results["search"][spec.name] = row


def run(out_dir: Path = Path("bench"), models: list[str] | None = None, repeats: int = 3,
        parts: list[str] | None = None, progress: ProgressHook = ignore) -> dict[str, Any]:
    """Run the parts (all by default) and write the results into out_dir."""
    from zkml.bench import report
    from zkml.evm.anvil import Anvil

    out = BenchLayout(out_dir)
    chosen = parts or list(PARTS)
    started = time.perf_counter()
    results: dict[str, Any] = {"repeats": repeats, "machine": machine(), "parts": chosen,
                               "models": {}, "commitments": {}, "gas": [], "lookups": {},
                               "large": {}, "sweep": [], "versions": [], "long": {},
                               "search": {}, "split": {}}
    with tempfile.TemporaryDirectory(prefix="zkml-bench-") as tmp, ExitStack() as stack:
        scratch = Path(tmp)
        circuits = scratch / "circuits"
        rpc_url = stack.enter_context(Anvil()).url
        out.root.mkdir(parents=True, exist_ok=True)
        parts_run = {
            "models": lambda: part_models(results, circuits, scratch, models or MODELS,
                                          repeats, rpc_url, progress),
            "commitments": lambda: part_commitments(results, circuits, repeats, rpc_url,
                                                    progress),
            "gas": lambda: part_gas(results, circuits, scratch, rpc_url, repeats, progress),
            "lookups": lambda: part_lookups(results, circuits, scratch, repeats, rpc_url,
                                            progress),
            "large": lambda: part_large(results, circuits, scratch, repeats, rpc_url,
                                        progress),
            "sweep": lambda: part_sweep(results, circuits, progress),
            "versions": lambda: part_versions(results, circuits, rpc_url, progress),
            "long": lambda: part_long(results, circuits, repeats, rpc_url, progress),
            "search": lambda: part_search(results, circuits, scratch, repeats, progress),
            "split": lambda: split.part_split(results, circuits, scratch, progress,
                                              lambda: write_json(out.results, results)),
        }
        for part in PARTS:
            if part in chosen:
                parts_run[part]()
                results["seconds"] = time.perf_counter() - started
                write_json(out.results, results)  # so far: a crash later keeps these
    results["seconds"] = time.perf_counter() - started
    write_json(out.results, results)
    out.report.write_text(report.markdown(results))
    report.plots(results, out)
    return results


def run_batch_bench(out_dir: Path, count: int, progress: ProgressHook = ignore
                    ) -> dict[str, Any]:
    from zkml.bench.batch import run as batch_run

    return batch_run(BenchLayout(out_dir), count, progress)


