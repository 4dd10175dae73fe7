"""How stage results look: one place for what export, compile, prove, verify, onchain and
result print, shared by the commands that run them alone and by `run`."""

from __future__ import annotations

from typing import Any

from rich.console import Console
from rich.markup import escape
from rich.table import Table

from zkml.cli.app import (
    Context,
    err,
)
from zkml.felts import felt_hex
from zkml.layout import ModelLayout
from zkml.results import inert, split_outputs


def render_export(obj: Context, result: Any) -> None:
    if result.max_abs_difference is not None:
        err.print(f"  {escape(result.summary())}")


def render_compile(obj: Context, result: Any) -> None:
    report = result.fidelity
    if result.search:
        err.print(f"  chose {escape(result.search)}", soft_wrap=True)
        for line in result.tried:
            err.print(f"    [dim]{escape(line)}[/]", soft_wrap=True)
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


def render_setup(obj: Context, result: Any) -> None:
    err.print(f"  {escape(result.summary())}", soft_wrap=True)


def label_of(values: list[float], classes: list[str] | None) -> str:
    if classes and len(classes) == len(values) and len(values) > 1:
        return f"  -> {classes[max(range(len(values)), key=values.__getitem__)]}"
    return ""


def render_instances(console: Console, instances: Any, classes: list[str] | None) -> None:
    subjects = instances.subjects
    for i in range(len(instances.outputs)):
        for j in range(subjects):
            row = instances.row(i, j)
            who = f" subject {j}" if subjects > 1 else ""
            shown = ", ".join(f"{v:.4f}" for v in row)
            console.print(f"public output {i}{who}: [{shown}]{label_of(row, classes)}",
                          soft_wrap=True)
    for j, commitment in enumerate(instances.input_commitments):
        console.print(f"input commitment {j}: {commitment}", soft_wrap=True)
    if instances.weights_commitment:
        console.print("weights commitment: "
                      + ", ".join(map(felt_hex, instances.weights_commitment)),
                      soft_wrap=True)


def classes_of(layout: ModelLayout) -> list[str] | None:
    from zkml.export import ExportedModel

    return ExportedModel.load(layout).classes


def render_segments(result: Any) -> None:
    """A segmented proof: each segment's witness and proof times, peak memory and worker."""
    table = Table(title=f"segments ({escape(result.engine)})", title_justify="left")
    for column in ("segment", "witness", "prove", "peak", "where"):
        table.add_column(column, justify="right" if column != "where" else "left",
                         no_wrap=True)
    for run in result.segments:
        table.add_row(str(run.segment + 1), f"{run.witness_seconds:.2f} s",
                      f"{run.prove_seconds:.2f} s",
                      "-" if run.peak_mb is None else f"{run.peak_mb:,.0f} MB", escape(run.where))
    err.print(table)
    err.print(f"  critical path {result.critical_path_seconds:.1f} s (witnesses in order, then "
              f"the longest proof after its witness), wall {result.wall_seconds:.1f} s")


def render_prove(obj: Context, layout: ModelLayout, result: Any) -> None:
    if getattr(result, "segments", None):
        render_segments(result)
    err.print(f"  proof {result.path} ({result.size / 1e3:.1f} kB), verified before writing")
    for kept in result.reused:
        err.print(escape(f"  reused the salt of {kept.stem} (kept in {kept}): the same "
                         "commitment as before"), soft_wrap=True)
    if result.kept:
        where = (f"salt kept in {result.kept[0]}" if len(result.kept) == 1 else
                 f"salts kept in {result.kept[0].parent}/, one file per commitment")
        err.print(escape(f"  {where} (owner-only, never overwritten; never in the proof or on "
                         f"chain), a copy in {result.secret}"), soft_wrap=True)
    render_instances(obj.out, result.instances, classes_of(layout))


def render_verify(obj: Context, layout: ModelLayout, result: Any, outputs: bool = True) -> None:
    """The verdict, and the proof's bound outputs unless they were just shown (by prove)."""
    obj.out.print(f"[bold green]verified[/]: {result.proof} is a valid proof for model "
                  f"{layout.name}" + ("" if outputs else " (the outputs above)"), soft_wrap=True)
    if outputs:
        render_instances(obj.out, result.instances, classes_of(layout))
    if result.local_srs:
        err.print("[yellow]note:[/] keys use a locally generated development SRS")


def fixed_point(scale: int) -> str:
    """How a registry stores an output: an integer, the value times 2^scale (an output's scale
    is its inputs' scales added up: input 2^14 times weights 2^14 gives 2^28)."""
    return f"stored as x·2^{scale}, the output's fixed-point scale"


def render_deployment(d: Any, activation: bool = True) -> None:
    from zkml.evm.results import duration_text, utc

    kind = "shared verifier" if d.shared else "own verifier"
    spent = [f"{what} {gas:,} gas" for what, gas in (
        ("registry", d.registry_gas), ("verifier", d.verifier_gas), ("addVersion", d.version_gas))
        if gas]
    err.print(f"  registry {d.registry}, version {d.version} ({kind} {d.verifier}) on chain "
              f"{d.chain_id}" + (f": {', '.join(spent)}" if spent else ""), soft_wrap=True)
    if activation and d.activates_at:
        err.print(f"  version {d.version} counts for currentResultOf from {utc(d.activates_at)}"
                  + (f" (activation delay {duration_text(d.activation_delay)})"
                     if d.version_gas else ""), soft_wrap=True)


def render_onchain(obj: Context, layout: ModelLayout, result: Any) -> None:
    d = result.deployment
    if result.deployed_now:
        render_deployment(d)
    classes = classes_of(layout)
    obj.out.print(f"[bold green]recorded on-chain[/] ({result.rpc_url}, chain {result.chain_id})"
                  f": one transaction, {result.gas:,} gas for {len(result.subjects)} "
                  f"inference(s) ({result.gas // max(1, len(result.subjects)):,} per inference)",
                  soft_wrap=True)
    where = "" if result.deployed_now else f"registry {d.registry}, version {d.version}; "
    obj.out.print(f"  {where}transaction {result.transaction} in block {result.block}",
                  soft_wrap=True)
    for s in result.subjects:
        state = "recorded now" if s.recorded_now else "already recorded, unchanged"
        parts = []
        for values, scale in zip(split_outputs(s.outputs, result.output_lengths),
                                 result.output_scales, strict=True):
            shown = ", ".join(f"{v:.4f}" for v in values)
            parts.append(f"[{shown}]{label_of(values, classes)} ({fixed_point(scale)})")
        obj.out.print(f"  subject {s.commitment[:18]}…: result #{s.result_id} ({state}): "
                      + "; ".join(parts), soft_wrap=True)


def render_audit(console: Console, a: Any) -> None:
    """A version's key and verifier on chain, against the local artifacts when there are."""
    def verdict(matches: bool | None, what: str) -> str:
        if matches is None:
            return ""
        return f"; [green]matches[/] {what}" if matches else f"; [bold red]DIFFERS[/] from {what}"

    model = escape(inert(a.local_model)) if a.local_model else None
    key = (verdict(a.vk_matches, f"{model}/vk.key") if model else
           "; no local model has this key")
    label = f"check v{a.version}"
    console.print(f"  {label:<10} key sha256 {a.vk_sha256}{key}", soft_wrap=True)
    if a.code_hash is None:
        code = "[bold red]NO CODE[/] at its address"
    elif a.code_unchanged:
        code = f"code hash {a.code_hash}, as recorded at addVersion"
    else:
        code = (f"code hash {a.code_hash}, [bold red]CHANGED[/] since addVersion recorded "
                f"{a.recorded_code_hash}")
    compiled = ("the reusable verifier compiled here" if a.vka else
                f"{model}'s compiled SegmentChain, its segments' verifiers and link layout"
                if a.segmented else f"{model}'s compiled verifier")
    console.print(f"             verifier {a.verifier}: {code}"
                  + (verdict(a.verifier_matches, compiled) if model else ""), soft_wrap=True)
    if a.vka:
        console.print(f"             VKA {a.vka}" + (verdict(a.vka_matches, f"{model}/vka.json")
                                             if model else ""), soft_wrap=True)
