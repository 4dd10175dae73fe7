"""The `zkml` command: parse options, call the library, render. Nothing else lives here."""

from __future__ import annotations

import errno
import json
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zkml.errors import VerificationFailed, ZkmlError
from zkml.layout import ModelLayout, default_circuits_dir

err = Console(stderr=True, highlight=False)
out = Console(highlight=False, soft_wrap=True)
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM,
               errno.ENOTDIR}


class Context:
    def __init__(self, verbose: bool, as_json: bool, circuits_dir: Path):
        self.verbose = verbose
        self.as_json = as_json
        self.circuits_dir = circuits_dir
        self.summary: dict[str, Any] = {}
        # with --json, stdout carries only the JSON summary; human lines move to stderr
        self.out = err if as_json else out

    def layout(self, name: str) -> ModelLayout:
        return ModelLayout.for_model(name, self.circuits_dir)

    def stage(self, label: str, action: Callable[[], Any]) -> Any:
        """Run one stage under a spinner, then print one line with its timing (to stderr)."""
        start = time.perf_counter()
        with err.status(f"[bold]{label}[/] …"):
            result = action()
        elapsed = time.perf_counter() - start
        cached = getattr(result, "cached", False)
        note = "[dim]cached, nothing to do[/]" if cached else f"{elapsed:6.2f} s"
        err.print(f"[green]✓[/] {label:<8} {note}")
        for warning in getattr(result, "warnings", []):
            err.print(f"[bold yellow]WARNING[/] {warning}")
        entry = {"stage": label, "seconds": round(elapsed, 3)}
        if hasattr(result, "as_dict") and "stage" in result.as_dict():
            entry = {**result.as_dict(), **entry}
        self.summary.setdefault("stages", []).append(entry)
        return result


class ZkmlGroup(click.Group):
    """The one place where errors meet the user: one line, a hint, exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            try:
                return super().invoke(ctx)
            except OSError as exc:
                if exc.errno not in DISK_ERRORS:
                    raise
                where = f" {exc.filename}" if exc.filename else ""
                raise ZkmlError(f"cannot write{where}: {exc.strerror}",
                                hint="free disk space or choose a writable --circuits-dir; "
                                "nothing half-written was kept") from exc
        except ZkmlError as exc:
            if isinstance(ctx.obj, Context) and ctx.obj.verbose:
                err.print(traceback.format_exc(), markup=False)
            label = "INVALID" if isinstance(exc, VerificationFailed) else "error"
            hint = f" [dim]— {escape(exc.hint)}[/]" if exc.hint else ""
            err.print(f"[bold red]{label}:[/] {escape(exc.message)}{hint}", soft_wrap=True)
            obj = ctx.obj
            if isinstance(obj, Context) and obj.as_json:
                out.print_json(json.dumps({**obj.summary, "ok": False, "error": exc.message}))
            ctx.exit(1)


@click.group(cls=ZkmlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--circuits-dir", type=click.Path(path_type=Path), default=None,
              help="Where model artifacts live [default: ./circuits or $ZKML_CIRCUITS_DIR].")
@click.version_option(package_name="zkml")
@click.pass_context
def main(ctx: click.Context, verbose: bool, as_json: bool, circuits_dir: Path | None) -> None:
    """Prove ML inference in zero knowledge: export, compile, setup, prove, verify."""
    ctx.obj = Context(verbose, as_json, circuits_dir or default_circuits_dir())


pass_ctx = click.make_pass_decorator(Context)


def source_options(fn: Callable) -> Callable:
    fn = click.option("--name", help="Artifact folder name [default: from MODEL].")(fn)
    fn = click.option("--weights", type=click.Path(path_type=Path),
                      help="State dict for MODEL given as file.py:Class.")(fn)
    fn = click.option("--samples", type=click.Path(path_type=Path),
                      help="Real sample inputs (JSON/CSV/.npy rows) for calibration.")(fn)
    return fn


def circuit_options(fn: Callable) -> Callable:
    fn = click.option("--input-visibility", type=click.Choice(["private", "hashed"]),
                      default="private", show_default=True,
                      help="hashed also publishes a Poseidon hash of the private input.")(fn)
    fn = click.option("--weights-visibility", "weights_visibility",
                      type=click.Choice(["fixed", "hashed"]), default="fixed", show_default=True,
                      help="hashed keeps weights private, committed by a public Poseidon hash.")(fn)
    fn = click.option("--min-agreement", type=click.FloatRange(0, 1), default=0.95,
                      show_default=True, help="Least argmax agreement circuit vs float model.")(fn)
    fn = click.option("--target", type=click.Choice(["resources", "accuracy"]),
                      default="resources", show_default=True, help="ezkl calibration target.")(fn)
    fn = click.option("--optimize", type=click.Choice(["time", "size", "accuracy"]),
                      help="Search a grid of settings for the fastest proof, smallest key or "
                      "least error, within --min-agreement (records why in optimize.json).")(fn)
    return fn


def force_option(fn: Callable) -> Callable:
    return click.option("--force", is_flag=True, help="Redo the stage even if cached.")(fn)


def _options(input_visibility: str, weights_visibility: str, min_agreement: float, target: str,
             optimize: str | None):
    from zkml.circuit import CircuitOptions

    options = CircuitOptions(input_visibility=input_visibility, weights=weights_visibility,
                             min_agreement=min_agreement, calibration_target=target)
    return options, optimize


def _finish(obj: Context) -> None:
    if obj.as_json:
        out.print_json(json.dumps({**obj.summary, "ok": True}))


def _do_export(obj: Context, model: str, name: str | None, weights: Path | None,
               samples: Path | None) -> ModelLayout:
    from zkml import models, pipeline

    loaded = obj.stage("load", lambda: models.resolve(model, name=name, weights=weights,
                                                      samples=samples))
    layout = obj.layout(loaded.name)
    obj.summary["model"] = loaded.name
    result = obj.stage("export", lambda: pipeline.export_model(loaded, layout))
    if result.details["max_abs_difference"] is not None:
        err.print(f"  torch vs onnxruntime: max |diff| {result.details['max_abs_difference']:.2e}"
                  f" on {result.details['checked_samples']} samples")
    return layout


def _do_compile(obj: Context, layout: ModelLayout, choice: Any, force: bool) -> None:
    from zkml import optimize, pipeline
    from zkml.layout import read_json

    options, goal = choice
    if goal:
        def progress(o: Any) -> None:
            err.print(f"  trying {o.describe()}")

        result = obj.stage("compile", lambda: optimize.optimize(layout, goal, options, force,
                                                                progress))
        err.print(f"  chose {result.details['optimize']['reason']}")
    else:
        result = obj.stage("compile", lambda: pipeline.compile_model(layout, options, force))
    _render_fidelity(read_json(layout.fidelity, "fidelity report"))
    err.print(f"  logrows {result.details['logrows']}, rows {result.details['num_rows']}")


def _render_fidelity(report: dict) -> None:
    table = Table(title=f"fidelity: circuit vs float model on {report['samples']} held-out samples",
                  title_justify="left")
    for column in ("output", "max |err|", "mean |err|", "argmax agree", "float acc",
                   "circuit acc"):
        table.add_column(column, justify="right")
    for o in report["outputs"]:
        pct = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
        table.add_row(str(o["output"]), f"{o['max_abs_error']:.2e}", f"{o['mean_abs_error']:.2e}",
                      pct(o["agreement"]), pct(o.get("float_accuracy")),
                      pct(o.get("circuit_accuracy")))
    err.print(table)


def _do_setup(obj: Context, layout: ModelLayout, srs_file: Path | None, force: bool) -> None:
    from zkml import pipeline

    result = obj.stage("setup", lambda: pipeline.setup_keys(layout, srs_file, force))
    d = result.details
    err.print(f"  proving key {d['pk_bytes'] / 1e6:.1f} MB, verifying key {d['vk_bytes'] / 1e3:.1f}"
              f" kB, SRS {d['srs']}")


def _render_outputs(console: Console, instances: Any, classes: list[str] | None) -> None:
    for i, values in enumerate(instances.outputs):
        shown = ", ".join(f"{v:.4f}" for v in values)
        line = f"public output {i}: [{shown}]"
        if classes and len(classes) == len(values):
            best = max(range(len(values)), key=values.__getitem__)
            line += f"  -> {classes[best]}"
        console.print(line)
    if instances.input_hash:
        console.print(f"input hash: {', '.join(instances.input_hash)}")
    if instances.weights_commitment:
        console.print(f"weights commitment: {', '.join(instances.weights_commitment)}")


def _do_prove(obj: Context, layout: ModelLayout, input_file: Path | None,
              output: Path | None) -> Any:
    from zkml import proof
    from zkml.export import ExportedModel
    from zkml.inputs import load_input

    exported = ExportedModel.load(layout)
    if input_file is None:
        private_input, source = exported.holdout[0], "held-out sample 0"
    else:
        private_input, source = load_input(input_file, exported.input_shape), str(input_file)
    result = obj.stage("prove", lambda: proof.prove(layout, private_input, output or layout.proof,
                                                     source))
    err.print(f"  proof {result.path} ({result.size / 1e3:.1f} kB), verified before writing")
    obj.summary["proof"] = {"path": str(result.path), "bytes": result.size,
                            "seconds": round(result.seconds, 3), **result.instances.as_dict()}
    return result


def _do_verify(obj: Context, layout: ModelLayout, proof_file: Path | None,
               vk: Path | None) -> None:
    from zkml import proof
    from zkml.export import ExportedModel

    path = proof_file or layout.proof
    result = obj.stage("verify", lambda: proof.verify(layout, path, vk))
    obj.summary["verification"] = {"valid": True, "proof": str(path),
                                   **result.instances.as_dict()}
    obj.out.print(f"[bold green]verified[/]: {path} is a valid proof for model {layout.name}")
    _render_outputs(obj.out, result.instances, ExportedModel.load(layout).classes)
    if result.local_srs:
        err.print("[yellow]note:[/] keys use a locally generated development SRS")


def _do_verifier(obj: Context, layout: ModelLayout, force: bool) -> None:
    from zkml import pipeline

    result = obj.stage("verifier", lambda: pipeline.evm_verifier(layout, force))
    err.print(f"  {layout.verifier_sol}: {result.details['verifier_bytes']:,} bytes of runtime "
              "code (optimizer on, runs=1)")


def _do_onchain(obj: Context, layout: ModelLayout, proof_file: Path | None,
                rpc_url: str | None, chain_id: int | None) -> None:
    from zkml import pipeline

    result = obj.stage("onchain", lambda: pipeline.onchain_verify(
        layout, proof_file or layout.proof, rpc_url, chain_id))
    d = result.details
    if d["deployed_now"]:
        err.print(f"  deployed verifier {d['verifier']} ({d['verifier_gas']:,} gas) and registry "
                  f"{d['registry']} ({d['registry_gas']:,} gas) on chain {d['chain_id']}")
    obj.out.print(f"[bold green]verified on-chain[/] ({d['rpc_url']}, chain {d['chain_id']}): "
                  f"verifyProof {d['verify_gas']:,} gas, registry.submit {d['submit_gas']:,} gas, "
                  f"prediction {d['prediction']}")


def rpc_option(fn: Callable) -> Callable:
    fn = click.option("--chain-id", type=int, envvar="ZKML_CHAIN_ID",
                      help="Refuse an --rpc-url on any other chain [$ZKML_CHAIN_ID].")(fn)
    return click.option("--rpc-url", envvar="ZKML_RPC_URL",
                        help="Use this node [default: a throwaway local Anvil; $ZKML_RPC_URL].")(fn)


@main.command("export")
@click.argument("model")
@source_options
@pass_ctx
def export_cmd(obj: Context, model: str, name: str | None, weights: Path | None,
               samples: Path | None) -> None:
    """Export MODEL to ONNX and check it against onnxruntime.

    MODEL is a bundled model (breast_cancer, digits, digits_mlp, iris), a file.onnx, or
    file.py:callable where callable() returns (module, example_input); with --weights,
    file.py:Class.
    """
    _do_export(obj, model, name, weights, samples)
    _finish(obj)


@main.command("compile")
@click.argument("model")
@circuit_options
@force_option
@pass_ctx
def compile_cmd(obj: Context, model: str, force: bool, **circuit: Any) -> None:
    """Build MODEL's circuit: settings, calibration on its samples, fidelity report."""
    _do_compile(obj, obj.layout(model), _options(**circuit), force)
    _finish(obj)


@main.command("setup")
@click.argument("model")
@click.option("--srs", "srs_file", type=click.Path(path_type=Path),
              help="SRS from a KZG ceremony [default: a cached local one, development only].")
@force_option
@pass_ctx
def setup_cmd(obj: Context, model: str, srs_file: Path | None, force: bool) -> None:
    """Make MODEL's proving and verifying keys against an SRS."""
    _do_setup(obj, obj.layout(model), srs_file, force)
    _finish(obj)


@main.command("prove")
@click.argument("model")
@click.option("--input", "input_file", type=click.Path(path_type=Path), required=True,
              help="The private input: JSON list, {\"input_data\": ...}, CSV row or .npy.")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Proof file [default: circuits/MODEL/proof.json].")
@pass_ctx
def prove_cmd(obj: Context, model: str, input_file: Path, output: Path | None) -> None:
    """Prove MODEL's inference on a private input; the proof is verified before it is written."""
    from zkml.export import ExportedModel

    layout = obj.layout(model)
    result = _do_prove(obj, layout, input_file, output)
    _render_outputs(obj.out, result.instances, ExportedModel.load(layout).classes)
    _finish(obj)


@main.command("verify")
@click.argument("model")
@click.argument("proof_file", required=False, type=click.Path(path_type=Path))
@click.option("--vk", type=click.Path(path_type=Path), help="Verifying key [default: MODEL's].")
@pass_ctx
def verify_cmd(obj: Context, model: str, proof_file: Path | None, vk: Path | None) -> None:
    """Verify PROOF_FILE against MODEL's key; print its bound public outputs. Exit 1 if invalid."""
    _do_verify(obj, obj.layout(model), proof_file, vk)
    _finish(obj)


@main.command("verifier")
@click.argument("model")
@force_option
@pass_ctx
def verifier_cmd(obj: Context, model: str, force: bool) -> None:
    """Generate and compile MODEL's Solidity verifier and its registry contract."""
    _do_verifier(obj, obj.layout(model), force)
    _finish(obj)


@main.command("deploy")
@click.argument("model")
@click.option("--rpc-url", envvar="ZKML_RPC_URL", required=True,
              help="The node to deploy to (e.g. from `zkml anvil`) [$ZKML_RPC_URL].")
@click.option("--chain-id", type=int, envvar="ZKML_CHAIN_ID",
              help="Refuse an RPC on any other chain [$ZKML_CHAIN_ID].")
@pass_ctx
def deploy_cmd(obj: Context, model: str, rpc_url: str, chain_id: int | None) -> None:
    """Deploy MODEL's verifier and registry; addresses go to deployments.json per chain id."""
    from zkml import pipeline

    result = obj.stage("deploy", lambda: pipeline.deploy_contracts(obj.layout(model), rpc_url,
                                                                   chain_id))
    d = result.details
    obj.out.print(f"verifier {d['verifier']} ({d['verifier_gas']:,} gas), registry "
                  f"{d['registry']} ({d['registry_gas']:,} gas) on chain {d['chain_id']}")
    _finish(obj)


@main.command("onchain")
@click.argument("model")
@click.argument("proof_file", required=False, type=click.Path(path_type=Path))
@rpc_option
@pass_ctx
def onchain_cmd(obj: Context, model: str, proof_file: Path | None, rpc_url: str | None,
                chain_id: int | None) -> None:
    """Verify a proof on-chain (eth_call and transactions) and print the gas. Exit 1 if rejected."""
    _do_onchain(obj, obj.layout(model), proof_file, rpc_url, chain_id)
    _finish(obj)


@main.command("anvil")
def anvil_cmd() -> None:
    """Run a local Anvil node on a free loopback port until Ctrl-C."""
    from zkml.evm.anvil import Anvil

    with Anvil() as node:
        out.print(f"Anvil at {node.url} (chain 31337). Ctrl-C stops it.")
        out.print(f"  export ZKML_RPC_URL={node.url}")
        try:
            node.process.wait()  # type: ignore[union-attr]
        except KeyboardInterrupt:
            err.print("stopping Anvil")


@main.command("regress")
@click.option("--update-baseline", is_flag=True, help="Rewrite the baseline with this run.")
@click.option("--config", type=click.Path(path_type=Path), default=None,
              help="zkml.toml or pyproject.toml declaring the zoo [default: the nearest one "
              "from the current folder up].")
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="Baseline file [default: the one the zoo declares].")
@click.option("--only", multiple=True, help="Run only these zoo models (repeatable).")
@pass_ctx
def regress_cmd(obj: Context, update_baseline: bool, config: Path | None, baseline: Path | None,
                only: tuple[str, ...]) -> None:
    """Re-run the model zoo and compare outputs, circuit shape, gas and sizes with a baseline."""
    from zkml import regress
    from zkml.errors import RegressionFailed

    zoo = regress.load_zoo(config or regress.find_config(Path.cwd()))
    entries = [e for e in zoo.entries if not only or e.name in only]
    if not entries:
        raise click.BadParameter(f"no zoo model named {', '.join(only)} in {zoo.declared_in}",
                                 param_hint="--only")
    err.print(f"  zoo of {len(entries)} from {zoo.declared_in}")
    report = obj.stage("regress", lambda: regress.run(
        entries, obj.circuits_dir, baseline or zoo.baseline, update_baseline,
        progress=lambda name: err.print(f"  {name} …")))
    obj.summary["regression"] = {"models": report.current,
                                 "moved": [m.__dict__ for m in report.moved]}
    if report.updated:
        obj.out.print(f"baseline written: {report.baseline_path} ({len(entries)} models)")
    elif report.moved:
        table = Table(title="proof regression: what moved", title_justify="left")
        for column in ("model", "metric"):
            table.add_column(column, no_wrap=True)
        for column in ("baseline", "now", "change", "allowed"):
            table.add_column(column, overflow="fold")
        for m in report.moved:
            table.add_row(m.model, m.metric, str(m.baseline), str(m.current), m.change, m.allowed)
        err.print(table)
        raise RegressionFailed(
            f"{len(report.moved)} regression(s) against {report.baseline_path}",
            hint="fix the cause, or accept the change with `zkml regress --update-baseline`")
    else:
        obj.out.print(f"[bold green]no regressions[/]: {len(entries)} models match "
                      f"{report.baseline_path}")
    _finish(obj)


@main.command("prove-batch")
@click.argument("model")
@click.argument("inputs", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path),
              help="Output folder [default: circuits/MODEL/batch/<inputs name>].")
@click.option("--workers", type=click.IntRange(1), help="Worker processes [default: from cores "
              "and free memory].")
@click.option("--ray", "ray_address", help="Run on Ray: `local` or a cluster address.")
@pass_ctx
def prove_batch_cmd(obj: Context, model: str, inputs: Path, out: Path | None,
                    workers: int | None, ray_address: str | None) -> None:
    """Prove many private inputs (JSON lines, CSV rows or a folder of files); resumable."""
    from rich.progress import Progress

    from zkml import batch

    layout = obj.layout(model)
    target = out or layout.root / "batch" / inputs.stem
    with Progress(console=err, transient=True) as bar:
        task = bar.add_task("proving", total=None)

        def progress(outcome: Any, done: int, total: int) -> None:
            bar.update(task, completed=done, total=total)
            if not outcome.ok:
                err.print(f"  [yellow]failed[/] {outcome.id}: {escape(outcome.reason or '')}")

        summary = obj.stage("batch", lambda: batch.run(layout, inputs, target, workers,
                                                       ray_address, progress))
    obj.summary["batch"] = summary.as_dict()
    obj.out.print(
        f"{summary.valid}/{summary.total} valid proofs in {target}/proofs ({summary.proved_now} "
        f"proved now, {summary.already_done} already there, {len(summary.failures)} failed); "
        f"{summary.throughput_per_s:.2f} proofs/s on {summary.engine}"
        + (f" with {summary.workers} workers" if summary.workers else ""))
    if summary.failures:
        raise ZkmlError(f"{len(summary.failures)} of {summary.total} inputs failed "
                        f"(reasons above and in {target}/summary.json)",
                        hint="fix those inputs and re-run: proofs already made are kept")
    _finish(obj)


@main.command("bench")
@click.option("--out", type=click.Path(path_type=Path), default=None,
              help="Results folder [default: bench/].")
@click.option("--model", "models", multiple=True,
              help="Bundled models to compare with plain ezkl [default: all].")
@click.option("--repeats", type=click.IntRange(1), default=3, show_default=True)
@click.option("--sweep/--no-sweep", default=True, show_default=True,
              help="Also sweep model size (MLP widths, CNN channels).")
@click.option("--batch", "batch_inputs", type=click.IntRange(1), default=None,
              help="Instead: prove-batch throughput on this many inputs (1, 2 workers, Ray, "
              "and a kill + resume).")
@pass_ctx
def bench_cmd(obj: Context, out: Path | None, models: tuple[str, ...], repeats: int,
              sweep: bool, batch_inputs: int | None) -> None:
    """Benchmark zkml against plain ezkl: times, peak memory, sizes, gas; JSON, Markdown, PNG."""
    from zkml import bench

    target = out or bench.BENCH_DIR

    def note(msg: str) -> None:
        err.print(f"  {msg} …")

    if batch_inputs:
        obj.stage("bench", lambda: bench.run_batch_bench(target, batch_inputs, note))
    else:
        obj.stage("bench", lambda: bench.run(target, list(models) or None, repeats, sweep, note))
    obj.out.print(f"results in {target}/ (results.json, results.md, *.png)")
    _finish(obj)


@main.command("run")
@click.argument("model", default="breast_cancer")
@source_options
@circuit_options
@click.option("--input", "input_file", type=click.Path(path_type=Path),
              help="Private input to prove [default: the first held-out sample].")
@click.option("--srs", "srs_file", type=click.Path(path_type=Path), help="Ceremony SRS file.")
@click.option("--chain/--no-chain", default=True, show_default=True,
              help="Also verify on-chain.")
@rpc_option
@force_option
@pass_ctx
def run_cmd(obj: Context, model: str, name: str | None, weights: Path | None,
            samples: Path | None, input_file: Path | None, srs_file: Path | None, chain: bool,
            rpc_url: str | None, chain_id: int | None, force: bool, **circuit: Any) -> None:
    """All stages on MODEL: export, compile, setup, prove, verify, verify on-chain."""
    start = time.perf_counter()
    layout = _do_export(obj, model, name, weights, samples)
    _do_compile(obj, layout, _options(**circuit), force)
    _do_setup(obj, layout, srs_file, force)
    _do_prove(obj, layout, input_file, None)
    _do_verify(obj, layout, None, None)
    if chain:
        _do_verifier(obj, layout, force)
        _do_onchain(obj, layout, None, rpc_url, chain_id)
    total = time.perf_counter() - start
    obj.summary["seconds"] = round(total, 3)
    err.print(f"[bold]done[/] in {total:.1f} s")
    _finish(obj)


if __name__ == "__main__":
    main()
