"""The `zkml` command: parse options, call the library, render its typed results.

Nothing else lives here: every command is a few lines over `zkml.*` functions that a test or a
notebook calls the same way. The library logs to the "zkml" logger and reports progress
through one hook; this module decides how both look.
"""

from __future__ import annotations

import errno
import json
import logging
import os
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zkml.errors import VerificationFailed, ZkmlError
from zkml.felts import felt_hex
from zkml.layout import ModelLayout, default_circuits_dir
from zkml.results import split_outputs, to_json


def _console(stderr: bool) -> Console:
    """Wide when not a terminal: a pipe or a log file gets whole lines, never numbers split."""
    stream = sys.stderr if stderr else sys.stdout
    return Console(stderr=stderr, highlight=False,
                   width=None if stream.isatty() else 10_000)


err = _console(stderr=True)
out = _console(stderr=False)
DISK_ERRORS = {errno.ENOSPC, errno.EDQUOT, errno.EACCES, errno.EROFS, errno.EPERM,
               errno.ENOTDIR, errno.ENAMETOOLONG}


class _LogToConsole(logging.Handler):
    """The library's log records, as the CLI shows them (warnings always, the rest with -v)."""

    def emit(self, record: logging.LogRecord) -> None:
        if record.levelno >= logging.WARNING:
            err.print(f"[bold yellow]WARNING[/] {escape(record.getMessage())}", soft_wrap=True)
        else:
            err.print(f"[dim]{escape(record.getMessage())}[/]", soft_wrap=True)


class Context:
    def __init__(self, verbose: bool, as_json: bool, circuits_dir: Path | None):
        self.verbose = verbose
        self.as_json = as_json
        # given by --circuits-dir or $ZKML_CIRCUITS_DIR, or the default (./circuits)
        self.circuits_given = circuits_dir or (
            default_circuits_dir() if os.environ.get("ZKML_CIRCUITS_DIR") else None)
        self.circuits_dir = circuits_dir or default_circuits_dir()
        self.summary: dict[str, Any] = {}
        handler = _LogToConsole()
        logger = logging.getLogger("zkml")
        logger.handlers = [handler]
        logger.propagate = False
        logger.setLevel(logging.INFO if verbose else logging.WARNING)

    @property
    def out(self) -> Console:
        """Results go to stdout, or with --json to stderr: stdout then carries only JSON."""
        return err if self.as_json else out

    def layout(self, name: str) -> ModelLayout:
        from zkml.models import unknown_model

        layout = ModelLayout.for_model(name, self.circuits_dir)
        if not layout.root.is_dir():
            raise unknown_model(name, self.circuits_dir)
        return layout

    def record(self, result: Any) -> None:
        self.summary.setdefault("stages", []).append(to_json(result))


def _stage_line(result: Any, elapsed: float | None = None) -> None:
    cached = getattr(result, "cached", False)
    seconds = result.seconds if elapsed is None else elapsed
    note = "[dim]cached, nothing to do[/]" if cached else f"{seconds:6.2f} s"
    err.print(f"[green]✓[/] {result.stage:<8} {note}")
    for warning in getattr(result, "warnings", []):
        err.print(f"[bold yellow]WARNING[/] {escape(warning)}", soft_wrap=True)


@contextmanager
def _spinner(label: str) -> Iterator[None]:
    with err.status(f"[bold]{label}[/] …"):
        yield


def _run_stage(obj: Context, label: str, action: Callable[[], Any]) -> Any:
    """Run one library call under a spinner, then print its line and record it for --json."""
    start = time.perf_counter()
    with _spinner(label):
        result = action()
    _stage_line(result, time.perf_counter() - start)
    obj.record(result)
    return result


class ZkmlGroup(click.Group):
    """The one place where errors meet the user: one line, a hint, an exit code."""

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
            obj = ctx.obj
            if isinstance(obj, Context) and obj.verbose:
                err.print(traceback.format_exc(), markup=False)
            label = "INVALID" if isinstance(exc, VerificationFailed) else "error"
            hint = f" [dim]— {escape(exc.hint)}[/]" if exc.hint else ""
            err.print(f"[bold red]{label}:[/] {escape(exc.message)}{hint}", soft_wrap=True)
            if isinstance(obj, Context) and obj.as_json:
                out.print_json(json.dumps({**obj.summary, "ok": False, "error": exc.message,
                                           "error_kind": type(exc).__name__}))
            ctx.exit(getattr(exc, "exit_code", 1))


def _common(fn: Callable) -> Callable:
    """-v and --json, accepted after the subcommand as well as before it."""

    def context(ctx: click.Context) -> Context:
        obj = ctx.find_object(Context)  # the group made it before any subcommand option
        assert obj is not None
        return obj

    def set_verbose(ctx: click.Context, _: Any, value: bool) -> None:
        if value:
            context(ctx).verbose = True
            logging.getLogger("zkml").setLevel(logging.INFO)

    def set_json(ctx: click.Context, _: Any, value: bool) -> None:
        if value:
            context(ctx).as_json = True

    fn = click.option("-v", "--verbose", is_flag=True, expose_value=False, callback=set_verbose,
                      help="Show tracebacks on errors and the library's log.")(fn)
    return click.option("--json", is_flag=True, expose_value=False, callback=set_json,
                        help="Print a machine-readable summary on stdout.")(fn)


@click.group(cls=ZkmlGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks on errors.")
@click.option("--json", "as_json", is_flag=True, help="Print a machine-readable summary.")
@click.option("--circuits-dir", type=click.Path(path_type=Path), default=None,
              help="Where model artifacts live [default: ./circuits or $ZKML_CIRCUITS_DIR].")
@click.version_option(package_name="zkml")
@click.pass_context
def main(ctx: click.Context, verbose: bool, as_json: bool, circuits_dir: Path | None) -> None:
    """Prove ML inference in zero knowledge: export, compile, setup, prove, verify, on-chain."""
    from zkml.layout import remove_stale_scratch

    ctx.obj = Context(verbose, as_json, circuits_dir)
    remove_stale_scratch()  # witnesses left by a zkml process that was killed


@main.result_callback()
@click.pass_obj
def _finish(obj: Context, *_: Any, **__: Any) -> None:
    if obj.as_json:
        out.print_json(json.dumps({**obj.summary, "ok": True}))


pass_ctx = click.make_pass_decorator(Context)


# ------------------------------------------------------------------------------ shared options


def source_options(fn: Callable) -> Callable:
    fn = click.option("--name", help="Artifact folder name [default: from MODEL].")(fn)
    fn = click.option("--weights", type=click.Path(path_type=Path),
                      help="State dict for MODEL given as file.py:Class.")(fn)
    fn = click.option("--samples", type=click.Path(path_type=Path),
                      help="Real sample inputs for calibration: JSON, CSV or .npy rows; for "
                      "several inputs JSON keyed by input name, a list per input, ezkl's "
                      "input_data or .npz.")(fn)
    fn = click.option("--classes", help="Names of a classifier's outputs, comma-separated, in "
                      "order (e.g. benign,malignant).")(fn)
    fn = click.option("--atol", type=click.FloatRange(0, min_open=True), default=None,
                      help="Largest |torch - ONNX| output difference export accepts "
                      "[default: 1e-4].")(fn)
    return fn


def circuit_options(fn: Callable) -> Callable:
    fn = click.option("--input-visibility", type=click.Choice(["committed", "private"]),
                      default="committed", show_default=True,
                      help="committed: the input stays private and the proof publishes a "
                      "salted commitment to it (what the registry keys results by); private: "
                      "no commitment.")(fn)
    fn = click.option("--commitment", type=click.Choice(["auto", "kzg", "poseidon"]),
                      default="auto", show_default=True,
                      help="The commitment scheme: auto is kzg for up to 7 inputs per proof "
                      "(cheapest to prove and verify), poseidon above (less verifier gas).")(fn)
    fn = click.option("--weights-visibility", "weights_visibility",
                      type=click.Choice(["fixed", "hashed"]), default="fixed", show_default=True,
                      help="hashed keeps weights private, committed by a public Poseidon hash.")(fn)
    fn = click.option("--batch", "subjects", type=click.IntRange(1), default=1,
                      show_default=True, help="Private inputs (subjects) per proof.")(fn)
    fn = click.option("--max-error-pct", type=click.FloatRange(0, min_open=True), default=0.5,
                      show_default=True, help="Error budget: the largest |circuit - float| "
                      "allowed on held-out samples, as % of each output's spread (p99 - p1 of "
                      "its float values).")(fn)
    fn = click.option("--max-error", type=click.FloatRange(0), default=None,
                      help="Error budget in absolute terms, for every output (replaces "
                      "--max-error-pct).")(fn)
    fn = click.option("--decision-threshold", type=float, default=None,
                      help="A single-output model's decision boundary: no held-out decision "
                      "may flip across it (float above, circuit below, or the reverse).")(fn)
    fn = click.option("--min-agreement", type=click.FloatRange(0, 1), default=1.0,
                      show_default=True, help="A classifier's least share of held-out samples "
                      "on which the circuit keeps the float model's argmax.")(fn)
    fn = click.option("--target", type=click.Choice(["resources", "accuracy"]),
                      default="resources", show_default=True, help="ezkl calibration target.")(fn)
    fn = click.option("--max-logrows", type=click.IntRange(9, 26), default=None,
                      help="The largest circuit, 2^L rows: a model that needs more is cut into "
                      "segments of at most 2^L rows each, proved apart and verified as one "
                      "chain [default: 18: a segment's proof peaks near 2 GB].")(fn)
    fn = click.option("--optimize", type=click.Choice(["time", "size", "accuracy"]),
                      help="Search settings for the fastest proof, smallest key or least error, "
                      "inside the error budget (records why in optimize.json).")(fn)
    return fn


def force_option(fn: Callable) -> Callable:
    return click.option("--force", is_flag=True, help="Redo the stage even if cached.")(fn)


def rpc_options(fn: Callable) -> Callable:
    fn = click.option("--chain-id", type=int, envvar="ZKML_CHAIN_ID",
                      help="Refuse an --rpc-url on any other chain [$ZKML_CHAIN_ID].")(fn)
    return click.option("--rpc-url", envvar="ZKML_RPC_URL",
                        help="Use this node [default: a throwaway local Anvil; $ZKML_RPC_URL].")(fn)


def _options(input_visibility: str, commitment: str, weights_visibility: str, subjects: int,
             max_error_pct: float, max_error: float | None, decision_threshold: float | None,
             min_agreement: float, target: str, max_logrows: int | None) -> Any:
    from zkml.circuit import CircuitOptions

    return CircuitOptions(input_visibility=input_visibility, commitment=commitment,
                          weights=weights_visibility, subjects=subjects,
                          max_error=max_error, max_error_pct=max_error_pct,
                          decision_threshold=decision_threshold, min_agreement=min_agreement,
                          calibration_target=target, max_logrows=max_logrows)


def printable(text: str) -> str:
    """Text from an input file (a batch id), with control characters shown as escapes: an id
    must not move the cursor, clear the screen or fake a line of output."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)


def _classes(text: str | None) -> list[str] | None:
    return None if not text else [c.strip() for c in text.split(",")]


# ------------------------------------------------------------------------------------ renderers


def _render_export(obj: Context, result: Any) -> None:
    if result.max_abs_difference is not None:
        err.print(f"  {escape(result.summary())}")


def _render_compile(obj: Context, result: Any) -> None:
    report = result.fidelity
    if result.search:
        err.print(f"  chose {escape(result.search)}", soft_wrap=True)
    table = Table(title=f"fidelity: circuit vs float model on {report.samples} held-out samples",
                  title_justify="left")
    for column in ("output", "spread", "budget", "max |err|", "margin", "flips", "agrees",
                   "float acc", "circuit acc"):
        table.add_column(column, justify="right", no_wrap=True)
    pct = lambda v: "-" if v is None else f"{v:.1%}"  # noqa: E731
    for o in report.outputs:
        style = "" if o.within_budget else "[bold red]"
        table.add_row(str(o.output), f"{o.spread:.3g}",
                      f"{o.budget:.3g} ({o.budget_pct:.3g} %)",
                      f"{style}{o.max_abs_error:.3g} ({o.error_pct:.3g} %)",
                      f"{style}{o.margin:.3g}",
                      "-" if o.decision_flips is None else
                      f"{o.decision_flips} at {o.decision_threshold:g}",
                      f"{pct(o.agreement)} ({o.agreement_kind})", pct(o.float_accuracy),
                      pct(o.circuit_accuracy))
    err.print(table)
    err.print(f"  budget: {escape(result.options.describe_budget())}", soft_wrap=True)
    err.print(f"  {escape(result.summary())}", soft_wrap=True)


def _render_setup(obj: Context, result: Any) -> None:
    err.print(f"  {escape(result.summary())}", soft_wrap=True)


def _label(values: list[float], classes: list[str] | None) -> str:
    if classes and len(classes) == len(values) and len(values) > 1:
        return f"  -> {classes[max(range(len(values)), key=values.__getitem__)]}"
    return ""


def _render_instances(console: Console, instances: Any, classes: list[str] | None) -> None:
    subjects = instances.subjects
    for i in range(len(instances.outputs)):
        for j in range(subjects):
            row = instances.row(i, j)
            who = f" subject {j}" if subjects > 1 else ""
            shown = ", ".join(f"{v:.4f}" for v in row)
            console.print(f"public output {i}{who}: [{shown}]{_label(row, classes)}",
                          soft_wrap=True)
    for j, commitment in enumerate(instances.input_commitments):
        console.print(f"input commitment {j}: {commitment}", soft_wrap=True)
    if instances.weights_commitment:
        console.print("weights commitment: "
                      + ", ".join(map(felt_hex, instances.weights_commitment)),
                      soft_wrap=True)


def _classes_of(layout: ModelLayout) -> list[str] | None:
    from zkml.export import ExportedModel

    return ExportedModel.load(layout).classes


def _render_segments(result: Any) -> None:
    """A segmented proof: each segment's witness and proof times, peak memory and worker."""
    table = Table(title=f"segments ({escape(result.engine)})", title_justify="left")
    for column in ("segment", "witness", "prove", "peak", "where"):
        table.add_column(column, justify="right" if column != "where" else "left",
                         no_wrap=True)
    for run in result.segments:
        table.add_row(str(run.segment + 1), f"{run.witness_seconds:.2f} s",
                      f"{run.prove_seconds:.2f} s",
                      "-" if run.peak_mb is None else f"{run.peak_mb:,.0f} MB", run.where)
    err.print(table)
    err.print(f"  critical path {result.critical_path_seconds:.1f} s (witnesses in order, then "
              f"the longest proof after its witness), wall {result.wall_seconds:.1f} s")


def _render_prove(obj: Context, layout: ModelLayout, result: Any) -> None:
    if getattr(result, "segments", None):
        _render_segments(result)
    err.print(f"  proof {result.path} ({result.size / 1e3:.1f} kB), verified before writing")
    if result.secret is not None:
        err.print(f"  salt of the input commitment kept in {result.secret} (owner-only; never "
                  "in the proof or on chain)")
    _render_instances(obj.out, result.instances, _classes_of(layout))


def _render_verify(obj: Context, layout: ModelLayout, result: Any) -> None:
    obj.out.print(f"[bold green]verified[/]: {result.proof} is a valid proof for model "
                  f"{layout.name}", soft_wrap=True)
    _render_instances(obj.out, result.instances, _classes_of(layout))
    if result.local_srs:
        err.print("[yellow]note:[/] keys use a locally generated development SRS")


def _render_deployment(d: Any) -> None:
    kind = "shared verifier" if d.shared else "own verifier"
    spent = [f"{what} {gas:,} gas" for what, gas in (
        ("registry", d.registry_gas), ("verifier", d.verifier_gas), ("addVersion", d.version_gas))
        if gas]
    err.print(f"  registry {d.registry}, version {d.version} ({kind} {d.verifier}) on chain "
              f"{d.chain_id}" + (f": {', '.join(spent)}" if spent else ""), soft_wrap=True)


def _render_onchain(obj: Context, layout: ModelLayout, result: Any) -> None:
    d = result.deployment
    if result.deployed_now:
        _render_deployment(d)
    classes = _classes_of(layout)
    obj.out.print(f"[bold green]recorded on-chain[/] ({result.rpc_url}, chain {result.chain_id})"
                  f": one transaction, {result.gas:,} gas for {len(result.subjects)} "
                  f"inference(s) ({result.gas // max(1, len(result.subjects)):,} per inference)",
                  soft_wrap=True)
    obj.out.print(f"  registry {d.registry}, version {d.version}; transaction "
                  f"{result.transaction} in block {result.block}", soft_wrap=True)
    for s in result.subjects:
        state = "recorded now" if s.recorded_now else "already recorded, unchanged"
        parts = []
        for values, scale in zip(split_outputs(s.outputs, result.output_lengths),
                                 result.output_scales, strict=True):
            shown = ", ".join(f"{v:.4f}" for v in values)
            parts.append(f"[{shown}] (fixed point, scale 2^{scale}){_label(values, classes)}")
        obj.out.print(f"  subject {s.commitment[:18]}…: result #{s.result_id} ({state}): "
                      + "; ".join(parts), soft_wrap=True)


# ------------------------------------------------------------------------------------ commands


@main.command("export")
@click.argument("model")
@source_options
@click.option("--force", is_flag=True,
              help="Replace a model exported into the same folder from another source.")
@_common
@pass_ctx
def export_cmd(obj: Context, model: str, name: str | None, weights: Path | None,
               samples: Path | None, classes: str | None, atol: float | None,
               force: bool) -> None:
    """Export MODEL to ONNX and check it against onnxruntime.

    MODEL is a bundled model (breast_cancer, digits, digits_mlp, iris), a file.onnx, or
    file.py:callable where callable() returns (module, example_input); with --weights,
    file.py:Class.
    """
    import zkml

    m = zkml.load(model, name=name, weights=weights, samples=samples, classes=_classes(classes),
                  circuits_dir=obj.circuits_dir)
    _render_export(obj, _run_stage(obj, "export", lambda: m.export(atol, force)))
    err.print(f"  next: zkml compile {m.name}")


@main.command("compile")
@click.argument("model")
@circuit_options
@force_option
@_common
@pass_ctx
def compile_cmd(obj: Context, model: str, force: bool, optimize: str | None,
                **circuit: Any) -> None:
    """Build MODEL's circuit: settings, calibration on its samples, fidelity report."""
    import zkml
    from zkml.progress import Progress

    def progress(event: Progress) -> None:
        if event.message and not event.starting and event.result is None:  # the ladder's steps
            err.print(f"  {escape(event.message)}", soft_wrap=True)

    m = zkml.Model(None, obj.layout(model))
    _render_compile(obj, _run_stage(obj, "compile", lambda: m.compile(
        _options(**circuit), optimize=optimize, force=force, progress=progress)))


@main.command("setup")
@click.argument("model")
@click.option("--srs", "srs_file", type=click.Path(path_type=Path),
              help="SRS from a KZG ceremony [default: a cached local one, development only].")
@force_option
@_common
@pass_ctx
def setup_cmd(obj: Context, model: str, srs_file: Path | None, force: bool) -> None:
    """Make MODEL's proving and verifying keys against an SRS."""
    import zkml

    m = zkml.Model(None, obj.layout(model))
    _render_setup(obj, _run_stage(obj, "setup", lambda: m.setup(srs_file, force)))


@main.command("prove")
@click.argument("model")
@click.option("--input", "input_file", type=click.Path(path_type=Path), required=True,
              help="The private input: JSON list, {\"input\": ..., \"salt\": ...}, an object "
              "keyed by input name, ezkl's {\"input_data\": ...}, a CSV row (a header row is "
              "skipped), .npy or .npz.")
@click.option("--output", "-o", type=click.Path(path_type=Path),
              help="Proof file [default: circuits/MODEL/proof.json].")
@click.option("--workers", type=click.IntRange(1),
              help="A segmented model: segments proved at once, each by its own ezkl process "
              "[default: from cores and free memory].")
@click.option("--ray", "ray_address",
              help="A segmented model: prove its segments on Ray (`local` or a cluster "
              "address; RAY_AUTH_TOKEN for token auth).")
@_common
@pass_ctx
def prove_cmd(obj: Context, model: str, input_file: Path, output: Path | None,
              workers: int | None, ray_address: str | None) -> None:
    """Prove MODEL's inference on a private input; the proof is verified before it is written.

    A segmented model's segments are proved as independent jobs; a stopped run resumes from
    the segments it finished (kept beside the proof until the chain is whole)."""
    from zkml import _ezkl, proof, segments
    from zkml.inputs import read_private_input

    _ezkl.prewarm()  # ezkl's worker starts while the input and the keys are checked
    layout = obj.layout(model)
    private = read_private_input(input_file)
    target = output or layout.proof
    if not segments.is_segmented(layout):
        if workers or ray_address:
            raise ZkmlError(f"{model} is one circuit: --workers and --ray spread a segmented "
                            "model's proofs", hint="for many inputs, use `zkml prove-batch`")
        _render_prove(obj, layout, _run_stage(obj, "prove", lambda: proof.prove(
            layout, private.values, target, str(input_file), salts=private.salts)))
        return

    def progress(event: Any) -> None:
        if event.message.startswith("segment"):
            err.print(f"  {escape(event.message)}", soft_wrap=True)

    with layout.lock(shared=True):
        result = _run_stage(obj, "prove", lambda: segments.prove(
            layout, private.values, target, str(input_file), salts=private.salts,
            workers=workers, ray_address=ray_address, progress=progress))
    _render_prove(obj, layout, result)


@main.command("verify")
@click.argument("model")
@click.argument("proof_file", required=False, type=click.Path(path_type=Path))
@click.option("--vk", type=click.Path(path_type=Path),
              help="Verifying key [default: MODEL's]; must be the one MODEL's setup made.")
@_common
@pass_ctx
def verify_cmd(obj: Context, model: str, proof_file: Path | None, vk: Path | None) -> None:
    """Verify PROOF_FILE against MODEL's key; print its bound public outputs. Exit 1 if invalid."""
    from zkml import _ezkl, proof

    _ezkl.prewarm()
    layout = obj.layout(model)
    path = proof_file or layout.proof
    _render_verify(obj, layout, _run_stage(obj, "verify", lambda: proof.verify(layout, path, vk)))


@main.command("verifier")
@click.argument("model")
@force_option
@_common
@pass_ctx
def verifier_cmd(obj: Context, model: str, force: bool) -> None:
    """Generate and compile MODEL's Solidity verifier and its registry contract."""
    from zkml.evm.verifier import build_verifier

    result = _run_stage(obj, "verifier", lambda: build_verifier(obj.layout(model), force))
    err.print(f"  {escape(result.summary())} (optimizer on, runs=1)", soft_wrap=True)


@main.command("deploy")
@click.argument("model", required=False)
@click.option("--rpc-url", envvar="ZKML_RPC_URL", required=True,
              help="The node to deploy to (e.g. from `zkml anvil`) [$ZKML_RPC_URL].")
@click.option("--chain-id", type=int, envvar="ZKML_CHAIN_ID",
              help="Refuse an RPC on any other chain [$ZKML_CHAIN_ID].")
@click.option("--registry", help="Add MODEL as a new version of this registry (its owner's key "
              "signs) [default: deploy a new registry].")
@click.option("--verifier", "verifier", type=click.Choice(["auto", "own", "shared"]),
              default="auto", show_default=True,
              help="own: deploy MODEL's verifier; shared: ezkl's reusable verifier (deployed "
              "once per chain) with MODEL's verifying-key artifact, cheaper to deploy, dearer "
              "per proof; auto: own unless it exceeds 24 KB.")
@click.option("--retire", "retire", type=click.IntRange(1), multiple=True,
              help="Retire this version of the registry (repeatable; after adding MODEL).")
@_common
@pass_ctx
def deploy_cmd(obj: Context, model: str | None, rpc_url: str, chain_id: int | None,
               registry: str | None, verifier: str, retire: tuple[int, ...]) -> None:
    """Deploy a registry with MODEL as version 1, or add MODEL to --registry; --retire VERSION.

    Registries and their versions go to deployments.json (per chain id) in the circuits folder.
    """
    from zkml import chain

    if model is None and not retire:
        raise click.UsageError("give MODEL to deploy, or --retire VERSION")
    if model is None:
        result = _run_stage(obj, "deploy", lambda: chain.retire(
            retire, rpc_url, registry=registry, chain_id=chain_id,
            circuits_dir=obj.circuits_dir))
    else:
        result = _run_stage(obj, "deploy", lambda: chain.add_version(
            obj.layout(model), rpc_url, registry=registry, verifier=verifier, retire=retire,
            chain_id=chain_id))
        if result.deployment is not None:
            _render_deployment(result.deployment)
    obj.out.print(f"{escape(str(result))} via {result.rpc_url}", soft_wrap=True)


@main.command("onchain")
@click.argument("model")
@click.argument("proof_file", required=False, type=click.Path(path_type=Path))
@rpc_options
@click.option("--registry", help="Record in this registry, in the version of MODEL's key "
              "[default: one recorded for the chain, or a new registry].")
@_common
@pass_ctx
def onchain_cmd(obj: Context, model: str, proof_file: Path | None, rpc_url: str | None,
                chain_id: int | None, registry: str | None) -> None:
    """Record a proof's results on-chain: one eth_call check, then one transaction.

    Exit 0 recorded, 1 rejected (INVALID) or failed, 3 already recorded (every subject of the
    proof has a result in that version; they stand).
    """
    from zkml import chain

    layout = obj.layout(model)

    def submit() -> Any:
        with chain.deploy(layout, rpc_url, chain_id, registry=registry) as handle:
            return handle.submit(proof_file or layout.proof)

    _render_onchain(obj, layout, _run_stage(obj, "onchain", submit))


@main.command("result")
@click.argument("commitment")
@click.option("--rpc-url", envvar="ZKML_RPC_URL", required=True,
              help="The node to read from [$ZKML_RPC_URL].")
@click.option("--chain-id", type=int, envvar="ZKML_CHAIN_ID",
              help="Refuse an RPC on any other chain [$ZKML_CHAIN_ID].")
@click.option("--registry", help="The registry [default: the chain's in deployments.json].")
@click.option("--version", "version", type=click.IntRange(1),
              help="Read this version's result [default: the newest active version holding "
              "one, else the newest retired one].")
@_common
@pass_ctx
def result_cmd(obj: Context, commitment: str, rpc_url: str, chain_id: int | None,
               registry: str | None, version: int | None) -> None:
    """Print what a registry records for COMMITMENT: version, outputs with labels, block, tx."""
    from zkml import chain

    recorded = chain.result(commitment, rpc_url, registry=registry, version=version,
                            chain_id=chain_id, circuits_dir=obj.circuits_dir)
    obj.summary["result"] = to_json(recorded)
    r = recorded
    name = f" ({r.model})" if r.model else ""
    status = "[green]active[/]" if r.active else "[yellow]retired[/]"
    console = obj.out
    console.print(f"commitment {r.commitment}", soft_wrap=True)
    console.print(f"  registry   {r.registry} on chain {r.chain_id}", soft_wrap=True)
    console.print(f"  version    {r.version}{escape(name)}, {status}; result #{r.result_id} of "
                  "that version", soft_wrap=True)
    for k, (values, scale) in enumerate(zip(split_outputs(r.outputs, r.output_lengths),
                                            r.output_scales, strict=True)):
        labels = r.labels if k == 0 and len(r.labels) == len(values) else None
        shown = ", ".join(f"{labels[i]} {v:.4f}" if labels else f"{v:.4f}"
                          for i, v in enumerate(values))
        console.print(f"  output {k}   {escape(f'[{shown}]')} (fixed point, scale 2^{scale})",
                      soft_wrap=True)
    if r.prediction is not None:
        console.print(f"  prediction {escape(r.prediction)}", soft_wrap=True)
    console.print(f"  block      {r.block}", soft_wrap=True)
    console.print(f"  transaction {r.transaction or '(its event was not found)'}",
                  soft_wrap=True)
    if r.other_versions:
        console.print(f"  also recorded by version(s) {', '.join(map(str, r.other_versions))} "
                      "(--version V reads one)", soft_wrap=True)


@main.command("commitment")
@click.argument("model")
@click.option("--input", "input_file", required=True, type=click.Path(path_type=Path),
              help="The private input the proof was made of (as `zkml prove --input`).")
@click.option("--secret", "secret_file", required=True, type=click.Path(path_type=Path),
              help="The proof.secret.json that holds the salt(s).")
@_common
@pass_ctx
def commitment_cmd(obj: Context, model: str, input_file: Path, secret_file: Path) -> None:
    """Recompute the commitment of your input and salt and check it against proof.secret.json.

    What a data subject runs, offline, to see that a recorded result is about them. Exit 0
    when every subject's commitment matches, 1 when one does not.
    """
    from zkml import subjects

    check = subjects.check_secret(obj.layout(model), input_file, secret_file)
    obj.summary["commitment"] = {"subjects": [c.__dict__ for c in check]}
    for c in check:
        who = f"subject {c.index}: " if len(check) > 1 else ""
        if c.matches:
            obj.out.print(f"[bold green]matches[/]: {who}{c.computed} is the commitment of "
                          "this input and salt", soft_wrap=True)
        else:
            obj.out.print(f"[bold red]differs[/]: {who}the input and salt give {c.computed}, "
                          f"the secret file names {c.claimed}", soft_wrap=True)
    if not all(c.matches for c in check):
        raise VerificationFailed("the commitment of this input and salt is not the one in "
                                 f"{secret_file}", hint="check --input and the model")


@main.command("serve")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Loopback port (0: a free one).")
@click.option("--rpc-url", envvar="ZKML_RPC_URL",
              help="Prefill the page's RPC URL [$ZKML_RPC_URL].")
@click.option("--registry", help="Prefill the page's registry [default: the chain's in "
              "deployments.json, when --rpc-url is given].")
@_common
@pass_ctx
def serve_cmd(obj: Context, port: int, rpc_url: str | None, registry: str | None) -> None:
    """Serve the subject's page on 127.0.0.1 until Ctrl-C (or open zkml/web/index.html)."""
    import signal

    from zkml import web

    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, lambda *_: sys.exit(0))
    config = web.page_config(rpc_url, registry, obj.circuits_dir)
    with web.serve(port, config) as server:
        out.print(f"the subject's page: {server.url}", soft_wrap=True)
        out.print("  it reads the registry over JSON-RPC; a proof.secret.json dropped on it "
                  "never leaves the browser. Ctrl-C stops.", soft_wrap=True)
        try:
            server.wait()
        except KeyboardInterrupt:
            err.print("stopping")


@main.command("anvil")
def anvil_cmd() -> None:
    """Run a local Anvil node on a free loopback port until Ctrl-C."""
    import signal

    from zkml.evm.anvil import Anvil

    for stop in (signal.SIGTERM, signal.SIGHUP):  # like Ctrl-C: stop the node on the way out
        signal.signal(stop, lambda *_: sys.exit(0))
    with Anvil() as node:
        out.print(f"Anvil at {node.url} (chain 31337). Ctrl-C stops it.")
        out.print(f"  export ZKML_RPC_URL={node.url}")
        try:
            node.wait()
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
@_common
@pass_ctx
def regress_cmd(obj: Context, update_baseline: bool, config: Path | None, baseline: Path | None,
                only: tuple[str, ...]) -> None:
    """Re-run the model zoo and compare outputs, circuit shape, gas and sizes with a baseline."""
    from zkml import regress

    zoo = regress.load_zoo(config or regress.find_config(Path.cwd()))
    entries = zoo.select(only)
    circuits = obj.circuits_given or zoo.circuits
    err.print(f"  zoo of {len(entries)} from {zoo.declared_in}, built in {circuits}")
    with _spinner("regress"):
        report = regress.run(entries, circuits, baseline or zoo.baseline,
                             update_baseline, progress=lambda p: err.print(f"  {p.message} …"))
    err.print(f"[green]✓[/] regress  {report.seconds:6.2f} s")
    obj.summary["regression"] = {"models": report.current, "moved": to_json(report.moved),
                                 "over_budget": to_json(report.over_budget)}
    if report.updated:
        obj.out.print(f"baseline written: {report.baseline_path} ({len(entries)} models)")
        return
    if report.over_budget:
        table = Table(title="proof regression: left the error budget", title_justify="left")
        for column in ("model", "output", "max |error|", "% of spread", "budget", "budget %"):
            table.add_column(column, no_wrap=True)
        for b in report.over_budget:
            table.add_row(b.model, str(b.output), f"{b.max_abs_error:.3g}",
                          f"{b.error_pct:.3g}", f"{b.budget:.3g}", f"{b.budget_pct:.3g}")
        err.print(table)
    if report.moved:
        table = Table(title="proof regression: what moved", title_justify="left")
        for column in ("model", "metric", "baseline", "now", "change", "allowed"):
            table.add_column(column, no_wrap=True)
        for m in report.moved:
            table.add_row(m.model, m.metric, str(m.baseline), str(m.current), m.change, m.allowed)
        err.print(table)
    report.raise_for_failures()
    obj.out.print(f"[bold green]no regressions[/]: {len(entries)} models match "
                  f"{report.baseline_path}")


@main.command("prove-batch")
@click.argument("model")
@click.argument("inputs", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path),
              help="Output folder [default: circuits/MODEL/batch/<inputs name>].")
@click.option("--workers", type=click.IntRange(1),
              help="Worker threads, each driving its own ezkl process [default: from cores and "
              "free memory].")
@click.option("--ray", "ray_address", help="Run on Ray: `local` or a cluster address.")
@_common
@pass_ctx
def prove_batch_cmd(obj: Context, model: str, inputs: Path, out: Path | None,
                    workers: int | None, ray_address: str | None) -> None:
    """Prove many private inputs (JSON lines, CSV rows or a folder of files); resumable."""
    from rich.progress import Progress as Bar

    from zkml import batch
    from zkml.progress import Progress

    layout = obj.layout(model)
    target = out or layout.batch_dir(inputs)
    with Bar(console=err, transient=True) as bar:
        task = bar.add_task("proving", total=None)

        def progress(event: Progress) -> None:
            bar.update(task, completed=event.done, total=event.total)
            if event.failed:
                err.print(f"  [yellow]failed[/] {escape(printable(event.message))}",
                          soft_wrap=True)

        start = time.perf_counter()
        summary = batch.run(layout, inputs, target, workers, ray_address, progress)
    err.print(f"[green]✓[/] batch    {time.perf_counter() - start:6.2f} s")
    obj.summary["batch"] = summary.counts()
    obj.out.print(summary.describe(target), soft_wrap=True)
    summary.raise_for_failures()


@main.command("bench")
@click.option("--out", type=click.Path(path_type=Path), default=Path("bench"),
              show_default=True, help="Results folder.")
@click.option("--model", "models", multiple=True,
              help="Bundled models to compare with plain ezkl [default: all].")
@click.option("--repeats", type=click.IntRange(1), default=3, show_default=True)
@click.option("--part", "parts", multiple=True,
              type=click.Choice(["models", "commitments", "gas", "lookups", "large", "sweep",
                                 "versions", "long", "split"]),
              help="Only these parts [default: all].")
@click.option("--batch", "batch_inputs", type=click.IntRange(1), default=None,
              help="Instead: prove-batch throughput on this many inputs (1, 2 workers, Ray, "
              "and a kill + resume).")
@_common
@pass_ctx
def bench_cmd(obj: Context, out: Path, models: tuple[str, ...], repeats: int,
              parts: tuple[str, ...], batch_inputs: int | None) -> None:
    """Benchmark zkml against plain ezkl: times, peak memory, sizes, gas; JSON, Markdown, PNG."""
    from zkml import bench

    def note(event: Any) -> None:
        err.print(f"  {escape(event.message)} …", soft_wrap=True)

    start = time.perf_counter()
    if batch_inputs:
        bench.run_batch_bench(out, batch_inputs, note)
    else:
        bench.run(out, list(models) or None, repeats, list(parts) or None, note)
    err.print(f"[green]✓[/] bench    {time.perf_counter() - start:6.2f} s")
    obj.out.print(f"results in {out}/")


@main.command("run")
@click.argument("model", default="breast_cancer")
@source_options
@circuit_options
@click.option("--input", "input_file", type=click.Path(path_type=Path),
              help="Private input to prove [default: the model's first held-out sample].")
@click.option("--srs", "srs_file", type=click.Path(path_type=Path), help="Ceremony SRS file.")
@click.option("--chain/--no-chain", default=True, show_default=True,
              help="Also record the result on-chain.")
@rpc_options
@force_option
@_common
@pass_ctx
def run_cmd(obj: Context, model: str, name: str | None, weights: Path | None,
            samples: Path | None, classes: str | None, atol: float | None,
            input_file: Path | None,
            srs_file: Path | None, chain: bool, rpc_url: str | None, chain_id: int | None,
            force: bool, optimize: str | None, **circuit: Any) -> None:
    """All stages on MODEL: export, compile, setup, prove, verify, record on-chain."""
    from zkml import workflow
    from zkml.progress import Progress

    renderers: dict[str, Callable[[Any], None]] = {}
    layout_box: list[ModelLayout] = []
    spinner: list[Any] = []

    def progress(event: Progress) -> None:
        if event.starting:
            spinner.append(err.status(f"[bold]{escape(event.message)}[/]"))
            spinner[-1].__enter__()
            return
        if event.result is None:
            if event.message:
                err.print(f"  {escape(event.message)}", soft_wrap=True)
            return
        if spinner:
            spinner.pop().__exit__(None, None, None)
        _stage_line(event.result)
        obj.record(event.result)
        render = renderers.get(event.stage)
        if render:
            render(event.result)

    def remember_layout(result: Any) -> None:
        layout_box.append(ModelLayout(result.onnx.parent))
        _render_export(obj, result)

    renderers.update({
        "export": remember_layout,
        "compile": lambda r: _render_compile(obj, r),
        "setup": lambda r: _render_setup(obj, r),
        "prove": lambda r: _render_prove(obj, layout_box[0], r),
        "verify": lambda r: _render_verify(obj, layout_box[0], r),
        "verifier": lambda r: err.print(f"  {escape(r.summary())}", soft_wrap=True),
        "onchain": lambda r: _render_onchain(obj, layout_box[0], r),
    })
    try:
        result = workflow.run(
            model, name=name, weights=weights, samples=samples, classes=_classes(classes),
            atol=atol, circuits_dir=obj.circuits_dir, options=_options(**circuit),
            optimize=optimize, input_file=input_file, srs=srs_file, chain=chain,
            rpc_url=rpc_url, chain_id=chain_id, force=force, progress=progress)
    finally:
        while spinner:
            spinner.pop().__exit__(None, None, None)
    err.print(f"  proved {result.input}")
    if result.kept_user_proof is not None:
        err.print(f"  kept your {result.kept_user_proof} (made by `zkml prove`); this run's "
                  f"proof is {result.proof}")
    obj.summary["seconds"] = round(result.seconds, 3)
    err.print(f"[bold]done[/] in {result.seconds:.1f} s")


if __name__ == "__main__":
    main()
