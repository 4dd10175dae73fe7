"""Benchmarks: zkml's pipeline side by side with plain ezkl on the same ONNX, every figure with
its ratio, plus a sweep over model size. One command (`zkml bench`) writes JSON, Markdown and
PNG plots into one folder.

Each measured step runs in a child process, so its peak memory (VmHWM, read by the child itself
at the end: rusage's max RSS would carry over the parent's size from before exec) belongs to that
step alone; its time is measured inside the child around the call.
"Plain ezkl" is what a user gets from ezkl's Python API with its calibrated defaults: the same
visibilities as zkml (private input), everything else left to gen_settings + calibrate.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml.layout import ModelLayout, write_json

BENCH_DIR = Path(__file__).resolve().parents[1] / "bench"
MODELS = ["breast_cancer", "digits", "digits_mlp"]
OPTIMIZED = ["breast_cancer"]  # also measured with `compile --optimize time` (a ~1.5 min search)
SWEEP = [("breast_cancer", {"hidden": h}) for h in (16, 64, 256)] + [
    ("digits", {"channels": c}) for c in (2, 4, 8)]
# the published reference the issue asks to sit beside (ezkl, MNIST MLP 784-56-10, resources)
PUBLISHED_MNIST = {"model": "MNIST MLP 784-56-10 (published, ezkl resources mode)",
                   "prove_s": 2.66, "peak_mb": 221}


# ---------------------------------------------------------------- child side: one timed step


def _child(op: str, args: dict[str, Any]) -> dict[str, Any]:
    from zkml import _ezkl, pipeline, proof
    from zkml.circuit import CircuitOptions
    from zkml.export import ExportedModel

    root = Path(args["root"])
    layout = ModelLayout(root)
    start = time.perf_counter()
    extra: dict[str, Any] = {}
    if op == "zkml_compile":
        pipeline.compile_model(layout, CircuitOptions(**args.get("options", {})), force=True)
    elif op == "zkml_setup":
        pipeline.setup_keys(layout, force=args.get("force", True))
    elif op == "zkml_prove":
        proof.prove(layout, ExportedModel.load(layout).holdout[0], root / "bench-proof.json")
    elif op == "zkml_verify":
        proof.verify(layout, root / "bench-proof.json")
    elif op == "ezkl_settings":  # plain ezkl: defaults, but the same (private) input
        import ezkl

        run_args = ezkl.PyRunArgs()
        run_args.input_visibility = "private"
        run_args.output_visibility = "public"
        run_args.param_visibility = "fixed"
        _ezkl.call("gen_settings", str(root / "model.onnx"), str(root / "settings.json"),
                   py_run_args=run_args)
        _ezkl.call("calibrate_settings", str(root / "calibration.json"),
                   str(root / "model.onnx"), str(root / "settings.json"), "resources")
    elif op == "ezkl_compile":
        _ezkl.call("compile_circuit", str(root / "model.onnx"), str(root / "model.compiled"),
                   str(root / "settings.json"))
    elif op == "ezkl_setup":
        _ezkl.call("setup", str(root / "model.compiled"), str(root / "vk.key"),
                   str(root / "pk.key"), srs_path=args["srs"])
    elif op == "ezkl_prove":  # the raw calls zkml's prove wraps: witness, then prove
        _ezkl.call("gen_witness", str(root / "input.json"), str(root / "model.compiled"),
                   str(root / "witness.json"))
        _ezkl.call("prove", str(root / "witness.json"), str(root / "model.compiled"),
                   str(root / "pk.key"), str(root / "proof.json"), srs_path=args["srs"])
    elif op == "ezkl_verify":
        _ezkl.call("verify", str(root / "proof.json"), str(root / "settings.json"),
                   str(root / "vk.key"), srs_path=args["srs"])
    else:
        raise ValueError(op)
    extra["seconds"] = time.perf_counter() - start
    extra["peak_mb"] = _peak_rss_mb()
    return extra


def _peak_rss_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    import resource

    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_step(op: str, **args: Any) -> dict[str, float]:
    """Run one step in a child; return its time and peak memory."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        process = subprocess.Popen(
            [sys.executable, "-m", "zkml.bench", op, json.dumps(args, default=str)],
            stdout=out, stderr=err,
        )
        process.wait()
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"bench step {op} failed: {stderr[-2000:]}")
    result = json.loads(stdout.strip().splitlines()[-1])
    return {"seconds": result["seconds"], "peak_mb": result["peak_mb"]}


def repeated(op: str, repeats: int, **args: Any) -> dict[str, float]:
    """Median time over repeats; the largest peak memory seen."""
    runs = [run_step(op, **args) for _ in range(repeats)]
    return {"seconds": statistics.median(r["seconds"] for r in runs),
            "peak_mb": max(r["peak_mb"] for r in runs), "runs": len(runs)}


# ---------------------------------------------------------------- parent side: whole benchmark


@dataclass
class Side:
    """One pipeline's figures for one model."""

    steps: dict[str, dict[str, float]]
    logrows: int
    num_rows: int
    pk_bytes: int
    vk_bytes: int
    proof_bytes: int
    verifier_bytes: int | None = None
    deploy_gas: int | None = None
    verify_gas: int | None = None
    argmax_agreement: float | None = None


def _onchain_figures(root: Path, rpc_url: str) -> dict[str, int]:
    """Verifier size, deploy gas and verify gas for the keys in root (zkml or plain ezkl)."""
    from zkml.evm import chain
    from zkml.evm.solc import compile_sources
    from zkml.evm.verifier import calldata, encode_verify_call, write_verifier_sol

    sol = root / "Bench.sol"
    write_verifier_sol(root / "vk.key", root / "settings.json", _srs_of(root), sol)
    build = compile_sources({"Bench.sol": sol})["Halo2Verifier"]
    connection = chain.connect(rpc_url)
    address, deploy_gas = chain.deploy(connection, build)
    proof_file = root / ("bench-proof.json" if (root / "bench-proof.json").exists()
                         else "proof.json")
    receipt = chain.send(connection, {"to": address,
                                      "data": encode_verify_call(calldata(proof_file))})
    return {"verifier_bytes": build["runtime_size"], "deploy_gas": deploy_gas,
            "verify_gas": receipt["gasUsed"]}


def _srs_of(root: Path) -> Path:
    record = root / "srs.json"
    if record.exists():
        return Path(json.loads(record.read_text())["srs_path"])
    return Path((root / "srs-path").read_text())


def bench_zkml(layout: ModelLayout, repeats: int, rpc_url: str | None) -> Side:
    from zkml.export import ExportedModel
    from zkml.layout import read_json
    from zkml.proof import KeyRecord

    steps = {
        "compile": repeated("zkml_compile", 1, root=layout.root),
        "setup": repeated("zkml_setup", 1, root=layout.root),
        "prove": repeated("zkml_prove", repeats, root=layout.root),
        "verify": repeated("zkml_verify", repeats, root=layout.root),
        "setup_rerun": repeated("zkml_setup", 1, root=layout.root, force=False),
    }
    # zkml's overhead: the same settings and keys, called raw (witness + prove, no checks)
    (layout.root / "input.json").write_text(json.dumps(
        {"input_data": [ExportedModel.load(layout).holdout[0].ravel().tolist()]}))
    steps["raw_prove"] = repeated("ezkl_prove", repeats, root=layout.root, srs=_srs_of(layout.root))
    settings = read_json(layout.settings, "settings")
    side = Side(steps, settings["run_args"]["logrows"], settings["num_rows"],
                layout.pk.stat().st_size, layout.vk.stat().st_size,
                KeyRecord.load(layout).proof_bytes,
                argmax_agreement=read_json(layout.fidelity, "f")["outputs"][0]["agreement"])
    if rpc_url:
        side.__dict__.update(_onchain_figures(layout.root, rpc_url))
    return side


def bench_plain_ezkl(layout: ModelLayout, scratch: Path, repeats: int,
                     rpc_url: str | None) -> Side:
    """The same ONNX and calibration data through raw ezkl calls with its defaults."""
    import shutil

    from zkml import srs
    from zkml.circuit import FIDELITY_SAMPLES, felts_to_floats
    from zkml.export import ExportedModel
    from zkml.layout import read_json

    root = scratch / f"ezkl-{layout.name}"
    root.mkdir(parents=True, exist_ok=True)
    for name in ("model.onnx", "calibration.json"):
        shutil.copy2(layout.root / name, root / name)
    exported = ExportedModel.load(layout)
    (root / "input.json").write_text(json.dumps(
        {"input_data": [exported.holdout[0].ravel().tolist()]}))
    steps = {"compile": repeated("ezkl_settings", 1, root=root)}
    compile_step = repeated("ezkl_compile", 1, root=root)
    steps["compile"]["seconds"] += compile_step["seconds"]
    settings = read_json(root / "settings.json", "settings")
    srs_path = srs.local_srs(settings["run_args"]["logrows"]).path
    (root / "srs-path").write_text(str(srs_path))
    steps["setup"] = repeated("ezkl_setup", 1, root=root, srs=srs_path)
    steps["prove"] = repeated("ezkl_prove", repeats, root=root, srs=srs_path)
    steps["verify"] = repeated("ezkl_verify", repeats, root=root, srs=srs_path)
    proof_bytes = len(json.loads((root / "proof.json").read_text())["proof"])
    agreement = _plain_agreement(root, exported, settings, FIDELITY_SAMPLES, felts_to_floats)
    side = Side(steps, settings["run_args"]["logrows"], settings["num_rows"],
                (root / "pk.key").stat().st_size, (root / "vk.key").stat().st_size, proof_bytes,
                argmax_agreement=agreement)
    if rpc_url:
        side.__dict__.update(_onchain_figures(root, rpc_url))
    return side


def bench_optimized(layout: ModelLayout, repeats: int, theirs: Side) -> dict[str, Any]:
    """The same model after `compile --optimize time` (search timed once, in this process)."""
    from zkml import optimize, pipeline
    from zkml.layout import read_json

    search = optimize.optimize(layout, "time")
    pipeline.setup_keys(layout)
    prove = repeated("zkml_prove", repeats, root=layout.root)
    settings = read_json(layout.settings, "settings")
    return {
        "search_s": search.seconds,
        "choice": search.details["optimize"]["reason"],
        "logrows": settings["run_args"]["logrows"],
        "prove_s": prove["seconds"],
        "prove_mb": prove["peak_mb"],
        "pk_bytes": layout.pk.stat().st_size,
        "argmax_agreement": read_json(layout.fidelity, "f")["outputs"][0]["agreement"],
        "prove_ratio": theirs.steps["prove"]["seconds"] / prove["seconds"],
        "ezkl_prove_s": theirs.steps["prove"]["seconds"],
        "ezkl_argmax_agreement": theirs.argmax_agreement,
    }


def _plain_agreement(root: Path, exported: Any, settings: dict, count: int,
                     to_floats: Callable) -> float:
    """Argmax agreement of plain ezkl's circuit with the float model on the same held-out set."""
    import numpy as np

    from zkml import _ezkl

    agree = 0
    samples = exported.holdout[:count]
    for i, sample in enumerate(samples):
        data = root / "sample.json"
        data.write_text(json.dumps({"input_data": [sample.ravel().tolist()]}))
        out = _ezkl.call("gen_witness", str(data), str(root / "model.compiled"), None)["outputs"]
        values = to_floats(out[0], settings["model_output_scales"][0])
        agree += int(np.argmax(values) == np.argmax(exported.holdout_reference[0][i]))
    return agree / len(samples)


def _prepare(name: str, params: dict[str, Any], circuits: Path) -> ModelLayout:
    from zkml import pipeline
    from zkml.models import bundled

    variants = {"breast_cancer": bundled.breast_cancer_spec, "digits": bundled.digits_spec}
    model = bundled.load(variants[name](**params) if params else bundled.SPECS[name])
    layout = ModelLayout.for_model(model.name, circuits)
    pipeline.export_model(model, layout)
    pipeline.compile_model(layout)
    pipeline.setup_keys(layout)
    return layout


def ratio(ours: float | None, theirs: float | None) -> float | None:
    return None if not ours or not theirs else theirs / ours


def run(out_dir: Path = BENCH_DIR, models: list[str] | None = None, repeats: int = 3,
        sweep: bool = True, progress: Callable[[str], None] = lambda msg: None) -> dict:
    from contextlib import ExitStack

    from zkml.evm.anvil import Anvil

    results: dict[str, Any] = {"repeats": repeats, "machine": _machine(), "models": {},
                               "sweep": [], "reference": PUBLISHED_MNIST}
    with tempfile.TemporaryDirectory(prefix="zkml-bench-") as scratch, ExitStack() as stack:
        rpc_url = stack.enter_context(Anvil()).url
        circuits = Path(scratch) / "circuits"
        for name in models or MODELS:
            progress(f"{name}: zkml")
            layout = _prepare(name, {}, circuits)
            ours = bench_zkml(layout, repeats, rpc_url)
            progress(f"{name}: plain ezkl")
            theirs = bench_plain_ezkl(layout, Path(scratch), repeats, rpc_url)
            results["models"][name] = _compare(ours, theirs)
            if name in OPTIMIZED:
                progress(f"{name}: zkml --optimize time")
                results["models"][name]["optimized"] = bench_optimized(layout, repeats, theirs)
            write_json(out_dir / "results.json", results)
        if sweep:
            for name, params in SWEEP:
                progress(f"sweep {name} {params}")
                layout = _prepare(name, params, circuits)
                side = bench_zkml(layout, 1, None)
                results["sweep"].append({"model": layout.name, **params,
                                         "logrows": side.logrows, "num_rows": side.num_rows,
                                         "pk_bytes": side.pk_bytes,
                                         "prove_s": side.steps["prove"]["seconds"],
                                         "prove_peak_mb": side.steps["prove"]["peak_mb"],
                                         "setup_s": side.steps["setup"]["seconds"],
                                         "setup_peak_mb": side.steps["setup"]["peak_mb"]})
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "results.json", results)
    (out_dir / "results.md").write_text(markdown(results))
    plot(results, out_dir)
    return results


def _compare(ours: Side, theirs: Side) -> dict[str, Any]:
    figures: dict[str, Any] = {}
    for step in ("compile", "setup", "prove", "verify"):
        for key, unit in (("seconds", "s"), ("peak_mb", "mb")):
            a, b = ours.steps[step][key], theirs.steps[step][key]
            figures[f"{step}_{unit}"] = {"zkml": a, "ezkl": b, "ratio": ratio(a, b)}
    for key in ("logrows", "num_rows", "pk_bytes", "vk_bytes", "proof_bytes", "verifier_bytes",
                "deploy_gas", "verify_gas", "argmax_agreement"):
        a, b = getattr(ours, key), getattr(theirs, key)
        figures[key] = {"zkml": a, "ezkl": b, "ratio": ratio(a, b)}
    figures["setup_rerun_s"] = ours.steps["setup_rerun"]["seconds"]
    raw = ours.steps["raw_prove"]["seconds"]
    figures["zkml_overhead"] = {"zkml_prove_s": ours.steps["prove"]["seconds"],
                                "raw_ezkl_same_settings_s": raw,
                                "overhead": ours.steps["prove"]["seconds"] / raw - 1}
    return figures


def _machine() -> dict[str, Any]:
    import platform

    import ezkl

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "ezkl": ezkl.__version__, "platform": platform.platform()}


ROWS = [("prove_s", "prove time (s)"), ("prove_mb", "prove peak memory (MB)"),
        ("setup_s", "setup time (s)"), ("setup_mb", "setup peak memory (MB)"),
        ("compile_s", "compile time (s)"), ("verify_s", "verify time (s)"),
        ("logrows", "logrows"), ("pk_bytes", "proving key (bytes)"), ("vk_bytes", "vk (bytes)"),
        ("proof_bytes", "proof (bytes)"), ("verifier_bytes", "verifier runtime (bytes)"),
        ("deploy_gas", "verifier deploy gas"), ("verify_gas", "verifyProof gas"),
        ("argmax_agreement", "argmax agreement, held-out")]


def _fmt(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:.3g}" if value < 1000 else f"{value:,.0f}"
    return f"{value:,}"


def markdown(results: dict[str, Any]) -> str:
    lines = [f"# zkml benchmark\n\nMachine: {results['machine']['cpus']} CPUs, ezkl "
             f"{results['machine']['ezkl']}; times are medians of {results['repeats']} runs, "
             "each step in its own process (peak memory = that process's max RSS). "
             "\"ezkl\" = plain ezkl with its calibrated defaults on the same ONNX and the same "
             "private input; ratio = ezkl / zkml (above 1: zkml is better, for agreement: "
             "equal is best).\n"]
    for name, figures in results["models"].items():
        lines += [f"\n## {name}\n", "| figure | zkml | plain ezkl | ratio |", "|---|---|---|---|"]
        for key, label in ROWS:
            f = figures[key]
            lines.append(f"| {label} | {_fmt(f['zkml'])} | {_fmt(f['ezkl'])} | "
                         f"{_fmt(f['ratio'])} |")
        lines.append(f"| setup re-run, unchanged model (s) | {_fmt(figures['setup_rerun_s'])} "
                     "| - | - |")
        if "optimized" in figures:
            o = figures["optimized"]
            lines.append(
                f"\nWith `compile --optimize time` ({o['search_s']:.0f} s search): logrows "
                f"{o['logrows']}, prove {o['prove_s']:.3f} s vs plain ezkl {o['ezkl_prove_s']:.2f}"
                f" s (**{o['prove_ratio']:.1f}×**), peak {o['prove_mb']:.0f} MB, proving key "
                f"{o['pk_bytes'] / 1e6:.1f} MB, argmax agreement {o['argmax_agreement']:.0%} "
                f"(plain ezkl {o['ezkl_argmax_agreement']:.0%}). Chosen: {o['choice']}.")
        overhead = figures["zkml_overhead"]
        lines.append(f"\nzkml's overhead over the same settings called raw: prove "
                     f"{overhead['zkml_prove_s']:.3f} s vs "
                     f"{overhead['raw_ezkl_same_settings_s']:.3f} s ({overhead['overhead']:+.1%};"
                     " zkml also checks the input and verifies its proof). zkml's setup includes "
                     "one probe proof that checks the keys.")
    ref = results["reference"]
    lines += ["\n## Beside the published MNIST MLP figure\n",
              "| model | prove (s) | prove peak memory (MB) |", "|---|---|---|",
              f"| {ref['model']} | {ref['prove_s']} | {ref['peak_mb']} |"]
    for name in ("digits_mlp",):
        if name in results["models"]:
            f = results["models"][name]
            lines.append(f"| digits MLP 64-32-10, zkml | {_fmt(f['prove_s']['zkml'])} | "
                         f"{_fmt(f['prove_mb']['zkml'])} |")
            lines.append(f"| digits MLP 64-32-10, plain ezkl | {_fmt(f['prove_s']['ezkl'])} | "
                         f"{_fmt(f['prove_mb']['ezkl'])} |")
    if results["sweep"]:
        lines += ["\n## Sweep over model size (zkml settings)\n",
                  "| model | logrows | rows | proving key (MB) | setup (s) | setup peak (MB) | "
                  "prove (s) | prove peak (MB) |", "|---|---|---|---|---|---|---|---|"]
        for s in results["sweep"]:
            lines.append(f"| {s['model']} | {s['logrows']} | {s['num_rows']:,} | "
                         f"{s['pk_bytes'] / 1e6:.1f} | {s['setup_s']:.2f} | "
                         f"{s['setup_peak_mb']:.0f} | {s['prove_s']:.2f} | "
                         f"{s['prove_peak_mb']:.0f} |")
    return "\n".join(lines) + "\n"


def plot(results: dict[str, Any], out_dir: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(results["models"])
    if names:
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        for ax, (key, label) in zip(axes, [("prove_s", "prove time (s)"),
                                           ("prove_mb", "prove peak memory (MB)"),
                                           ("pk_bytes", "proving key (MB)")], strict=True):
            scale = 1e6 if key == "pk_bytes" else 1
            xs = range(len(names))
            ax.bar([x - 0.2 for x in xs], [results["models"][n][key]["zkml"] / scale
                                           for n in names], 0.4, label="zkml")
            ax.bar([x + 0.2 for x in xs], [results["models"][n][key]["ezkl"] / scale
                                           for n in names], 0.4, label="plain ezkl")
            ax.set_xticks(list(xs), names)
            ax.set_title(label)
            ax.set_yscale("log")
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(out_dir / "zkml_vs_ezkl.png", dpi=110)
        plt.close(fig)
    if results["sweep"]:
        fig, axes = plt.subplots(1, 3, figsize=(13, 4))
        families = {"breast_cancer": "MLP 30-w-2 (w = 16, 64, 256)",
                    "digits": "CNN conv(c)-dense (c = 2, 4, 8)"}
        for prefix, label in families.items():
            rows = sorted((s for s in results["sweep"] if s["model"].startswith(prefix)),
                          key=lambda s: s["num_rows"])
            for ax, key, scale in zip(axes, ("prove_s", "prove_peak_mb", "pk_bytes"),
                                      (1, 1, 1e6), strict=True):
                ax.plot([s["logrows"] for s in rows], [s[key] / scale for s in rows], "o-",
                        label=label)
        for ax, label in zip(axes, ("prove time (s)", "prove peak memory (MB)",
                                    "proving key (MB)"), strict=True):
            ax.set_xlabel("logrows")
            ax.set_title(label)
        axes[0].legend()
        fig.tight_layout()
        fig.savefig(out_dir / "sweep.png", dpi=110)
        plt.close(fig)


if __name__ == "__main__":
    step_result = _child(sys.argv[1], json.loads(sys.argv[2]))
    print(json.dumps(step_result))


# ---------------------------------------------------------------- batch proving throughput


def batch_inputs(layout: ModelLayout, count: int, path: Path) -> Path:
    """count distinct inputs: the model's held-out and calibration rows, jittered for variety."""
    import numpy as np

    from zkml.export import ExportedModel

    exported = ExportedModel.load(layout)
    rows = np.concatenate([exported.holdout, exported.calibration])
    rng = np.random.default_rng(0)
    with path.open("w") as fh:
        for i in range(count):
            row = rows[i % len(rows)] + rng.normal(0, 0.05, rows.shape[1:]) * (i >= len(rows))
            fh.write(json.dumps({"id": f"rec{i:05d}", "input": row.astype(float).tolist()}) + "\n")
    os.chmod(path, 0o600)
    return path


def run_batch_bench(out_dir: Path = BENCH_DIR, count: int = 200,
                    progress: Callable[[str], None] = lambda msg: None) -> dict[str, Any]:
    """Throughput of prove-batch with 1 and 2 workers and on local Ray, and a kill + resume."""
    import signal

    from zkml import batch

    results: dict[str, Any] = {"inputs": count, "machine": _machine(), "runs": {}}
    with tempfile.TemporaryDirectory(prefix="zkml-batch-bench-") as scratch:
        layout = _prepare("breast_cancer", {}, Path(scratch) / "circuits")
        inputs = batch_inputs(layout, count, Path(scratch) / "inputs.jsonl")
        for label, kwargs in (("1 worker", {"workers": 1}), ("2 workers", {"workers": 2}),
                              ("ray local (2 CPUs)", {"ray_address": "local"})):
            progress(label)
            summary = batch.run(layout, inputs, Path(scratch) / label.replace(" ", "_"), **kwargs)
            results["runs"][label] = summary.as_dict()
        progress("kill midway, then resume")
        out = Path(scratch) / "killed"
        process = subprocess.Popen(
            [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(layout.root.parent),
             "prove-batch", layout.name, str(inputs), "--out", str(out), "--workers", "2"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        while len(list((out / "proofs").glob("*.json"))) < count // 3:
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        before = len(list((out / "proofs").glob("*.json")))
        resumed = batch.run(layout, inputs, out, workers=2)
        results["kill_resume"] = {"proofs_before_kill": before, **resumed.as_dict()}
    out_dir.mkdir(parents=True, exist_ok=True)
    write_json(out_dir / "batch.json", results)
    lines = [f"# prove-batch throughput ({count} inputs, breast_cancer, "
             f"{results['machine']['cpus']} CPUs)\n", "| engine | valid | seconds | proofs/s |",
             "|---|---|---|---|"]
    for label, s in results["runs"].items():
        lines.append(f"| {label} | {s['valid']}/{s['total']} | {s['seconds']:.1f} | "
                     f"{s['throughput_per_s']:.2f} |")
    k = results["kill_resume"]
    lines.append(f"\nKilled (SIGKILL) with {k['proofs_before_kill']} proofs written; the re-run "
                 f"found {k['already_done']} done, proved {k['proved_now']}, and ended with "
                 f"{k['valid']}/{k['total']} valid proofs.\n")
    (out_dir / "batch.md").write_text("\n".join(lines))
    return results
