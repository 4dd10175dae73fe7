"""The pipeline's commands, in its order: export, compile, setup, prove, verify, and run
(all of them, then on chain)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from zkml.cli.app import (
    Context,
    common,
    err,
    main,
    pass_ctx,
    run_stage,
    stage_line,
)
from zkml.cli.options import (
    activation_delay_option,
    circuit_from,
    circuit_options,
    class_names,
    force_option,
    reuse_salt_option,
    rpc_options,
    source_options,
)
from zkml.cli.render import (
    render_compile,
    render_export,
    render_onchain,
    render_prove,
    render_setup,
    render_verify,
)
from zkml.layout import ModelLayout


@main.command("export", short_help="Export MODEL to ONNX, checked against onnxruntime.")
@click.argument("model")
@source_options
@click.option("--force", is_flag=True,
              help="Replace a model exported into the same folder from another source.")
@common
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

    m = zkml.load(model, name=name, weights=weights, samples=samples, classes=class_names(classes),
                  circuits_dir=obj.circuits_dir)
    render_export(obj, run_stage(obj, "export", lambda: m.export(atol, force)))
    err.print(f"  next: zkml compile {m.name}")


@main.command("compile", short_help="Build MODEL's circuit inside its error budget.")
@click.argument("model")
@circuit_options
@force_option
@common
@pass_ctx
def compile_cmd(obj: Context, model: str, force: bool, optimize: str | None,
                **circuit: Any) -> None:
    """Build MODEL's circuit: settings, calibration on its samples, fidelity report."""
    import zkml
    from zkml.progress import Progress

    def progress(event: Progress) -> None:
        if event.message and not event.starting and event.result is None:  # the search's steps
            err.print(f"  {escape(event.message)}", soft_wrap=True)

    m = zkml.Model(None, obj.layout(model))
    render_compile(obj, run_stage(obj, "compile", lambda: m.compile(
        circuit_from(**circuit), optimize=optimize, force=force, progress=progress)))


@main.command("setup", short_help="Make MODEL's proving and verifying keys.")
@click.argument("model")
@click.option("--srs", "srs_file", type=click.Path(path_type=Path),
              help="SRS from a KZG ceremony [default: a cached local one, development only].")
@force_option
@common
@pass_ctx
def setup_cmd(obj: Context, model: str, srs_file: Path | None, force: bool) -> None:
    """Make MODEL's proving and verifying keys against an SRS."""
    import zkml

    m = zkml.Model(None, obj.layout(model))
    render_setup(obj, run_stage(obj, "setup", lambda: m.setup(srs_file, force)))


@main.command("prove", short_help="Prove MODEL on a private input.")
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
@reuse_salt_option
@common
@pass_ctx
def prove_cmd(obj: Context, model: str, input_file: Path, output: Path | None,
              workers: int | None, ray_address: str | None, reuse_salt: bool) -> None:
    """Prove MODEL's inference on a private input; the proof is verified before it is written.

    A segmented model's segments are proved as independent jobs; a stopped run resumes from
    the segments it finished (kept beside the proof until the chain is whole)."""
    from zkml import _ezkl, proving
    from zkml.inputs import read_private_input
    from zkml.progress import Progress

    _ezkl.prewarm()  # ezkl's worker starts while the input and the keys are checked
    layout = obj.layout(model)
    private = read_private_input(input_file)

    def progress(event: Progress) -> None:
        if event.message.startswith("segment"):
            err.print(f"  {escape(event.message)}", soft_wrap=True)

    render_prove(obj, layout, run_stage(obj, "prove", lambda: proving.prove(
        layout, private.values, output or layout.proof, str(input_file), salts=private.salts,
        reuse_salt=reuse_salt, workers=workers, ray_address=ray_address, progress=progress)))


@main.command("verify", short_help="Verify a proof; print its bound public outputs.")
@click.argument("model")
@click.argument("proof_file", required=False, type=click.Path(path_type=Path))
@click.option("--vk", type=click.Path(path_type=Path),
              help="Verifying key [default: MODEL's]; must be the one MODEL's setup made.")
@common
@pass_ctx
def verify_cmd(obj: Context, model: str, proof_file: Path | None, vk: Path | None) -> None:
    """Verify PROOF_FILE against MODEL's key; print its bound public outputs. Exit 1 if invalid."""
    from zkml import _ezkl, proving

    _ezkl.prewarm()
    layout = obj.layout(model)
    path = proof_file or layout.proof
    render_verify(obj, layout, run_stage(obj, "verify", lambda: proving.verify(
        layout, path, vk)))


@main.command("run", short_help="Every stage on MODEL, then record the result on chain.")
@click.argument("model", default="breast_cancer")
@source_options
@circuit_options
@click.option("--input", "input_file", type=click.Path(path_type=Path),
              help="Private input to prove [default: the model's first held-out sample].")
@click.option("--srs", "srs_file", type=click.Path(path_type=Path), help="Ceremony SRS file.")
@click.option("--chain/--no-chain", default=True, show_default=True,
              help="Also record the result on-chain.")
@rpc_options
@reuse_salt_option
@activation_delay_option
@force_option
@common
@pass_ctx
def run_cmd(obj: Context, model: str, name: str | None, weights: Path | None,
            samples: Path | None, classes: str | None, atol: float | None,
            input_file: Path | None,
            srs_file: Path | None, chain: bool, rpc_url: str | None, chain_id: int | None,
            reuse_salt: bool, activation_delay: str | None, force: bool,
            optimize: str | None, **circuit: Any) -> None:
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
        stage_line(event.result)
        obj.record(event.result)
        render = renderers.get(event.stage)
        if render:
            render(event.result)

    def remember_layout(result: Any) -> None:
        layout_box.append(ModelLayout(result.onnx.parent))
        render_export(obj, result)

    renderers.update({
        "export": remember_layout,
        "compile": lambda r: render_compile(obj, r),
        "setup": lambda r: render_setup(obj, r),
        "prove": lambda r: render_prove(obj, layout_box[0], r),
        "verify": lambda r: render_verify(obj, layout_box[0], r, outputs=False),
        "verifier": lambda r: err.print(f"  {escape(r.summary())}", soft_wrap=True),
        "onchain": lambda r: render_onchain(obj, layout_box[0], r),
    })
    try:
        result = workflow.run(
            model, name=name, weights=weights, samples=samples, classes=class_names(classes),
            atol=atol, circuits_dir=obj.circuits_dir, options=circuit_from(**circuit),
            optimize=optimize, input_file=input_file, srs=srs_file, chain=chain,
            rpc_url=rpc_url, chain_id=chain_id, force=force, reuse_salt=reuse_salt,
            activation_delay=activation_delay, progress=progress)
    finally:
        while spinner:
            spinner.pop().__exit__(None, None, None)
    err.print(f"  proved {result.input}")
    if result.kept_user_proof is not None:
        err.print(f"  kept your {result.kept_user_proof} (made by `zkml prove`); this run's "
                  f"proof is {result.proof}")
    obj.summary["seconds"] = round(result.seconds, 3)
    err.print(f"[bold]done[/] in {result.seconds:.1f} s")
