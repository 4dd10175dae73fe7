"""Many private inputs: prove-batch."""

from __future__ import annotations

import time
from pathlib import Path

import click
from rich.markup import escape

from zkml.cli.app import (
    Context,
    common,
    err,
    main,
    pass_ctx,
)
from zkml.results import inert


@main.command("prove-batch", short_help="Prove many private inputs; resumable.")
@click.argument("model")
@click.argument("inputs", type=click.Path(path_type=Path))
@click.option("--out", type=click.Path(path_type=Path),
              help="Output folder [default: circuits/MODEL/batch/<inputs name>].")
@click.option("--workers", type=click.IntRange(1),
              help="Worker threads, each driving its own ezkl process [default: from cores and "
              "free memory].")
@click.option("--ray", "ray_address", help="Run on Ray: `local` or a cluster address.")
@common
@pass_ctx
def prove_batch_cmd(obj: Context, model: str, inputs: Path, out: Path | None,
                    workers: int | None, ray_address: str | None) -> None:
    """Prove many private inputs (JSON lines, CSV rows or a folder of files); resumable."""
    from rich.progress import Progress as Bar

    from zkml import batch, segments
    from zkml.errors import InputError
    from zkml.progress import Progress

    layout = obj.layout(model)
    if segments.is_segmented(layout):
        raise InputError(f"{model} is proved in segments, one input at a time",
                         hint=f"run `zkml prove {model}` for each input (--workers or --ray "
                         "spread its segments)")
    target = out or layout.batch_dir(inputs)
    with Bar(console=err, transient=True) as bar:
        task = bar.add_task("proving", total=None)

        def progress(event: Progress) -> None:
            bar.update(task, completed=event.done, total=event.total)
            if event.failed:
                err.print(f"  [yellow]failed[/] {escape(inert(event.message))}",
                          soft_wrap=True)

        start = time.perf_counter()
        summary = batch.run(layout, inputs, target, workers, ray_address, progress)
    err.print(f"[green]✓[/] batch    {time.perf_counter() - start:6.2f} s")
    obj.summary["batch"] = summary.counts()
    obj.out.print(summary.describe(target), soft_wrap=True)
    summary.raise_for_failures()
