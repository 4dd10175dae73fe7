"""Regression and benchmarks: what a team's CI runs, and the figures zkml is measured by."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import click
from rich.markup import escape
from rich.table import Table

from zkml.cli.app import (
    Context,
    common,
    err,
    main,
    pass_ctx,
    spinner,
)
from zkml.results import to_json


@main.command("regress", short_help="Compare the model zoo with its baseline.")
@click.option("--update-baseline", is_flag=True, help="Rewrite the baseline with this run.")
@click.option("--config", type=click.Path(path_type=Path), default=None,
              help="zkml.toml or pyproject.toml declaring the zoo [default: the nearest one "
              "from the current folder up].")
@click.option("--baseline", type=click.Path(path_type=Path), default=None,
              help="Baseline file [default: the one the zoo declares].")
@click.option("--only", multiple=True, help="Run only these zoo models (repeatable).")
@common
@pass_ctx
def regress_cmd(obj: Context, update_baseline: bool, config: Path | None, baseline: Path | None,
                only: tuple[str, ...]) -> None:
    """Re-run the model zoo and compare outputs, circuit shape, gas and sizes with a baseline."""
    from zkml import regress

    zoo = regress.load_zoo(config or regress.find_config(Path.cwd()))
    entries = zoo.select(only)
    circuits = obj.circuits_given or zoo.circuits
    err.print(f"  zoo of {len(entries)} from {zoo.declared_in}, built in {circuits}")
    with spinner("regress"):
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


@main.command("bench", short_help="Benchmark zkml against plain ezkl (all parts: hours).")
@click.option("--out", type=click.Path(path_type=Path), default=Path("bench"),
              show_default=True, help="Results folder.")
@click.option("--model", "models", multiple=True,
              help="Bundled models to compare with plain ezkl [default: all].")
@click.option("--repeats", type=click.IntRange(1), default=3, show_default=True,
              help="Timed runs of each prove and verify; the median is reported.")
@click.option("--part", "parts", multiple=True,
              type=click.Choice(["models", "commitments", "gas", "lookups", "large", "sweep",
                                 "versions", "long", "search", "split"]),
              help="Only these parts [default: all].")
@click.option("--batch", "batch_inputs", type=click.IntRange(1), default=None,
              help="Instead: prove-batch throughput on this many inputs (1, 2 workers, Ray, "
              "and a kill + resume).")
@common
@pass_ctx
def bench_cmd(obj: Context, out: Path, models: tuple[str, ...], repeats: int,
              parts: tuple[str, ...], batch_inputs: int | None) -> None:
    """Benchmark zkml against plain ezkl: times, peak memory, sizes, gas; JSON, Markdown, PNG.

    Every part runs by default: about two hours on two cores, and the split part's large
    models hours more; --part picks some (the models part alone: ~10 minutes). Results go to
    --out as results.json, results.md and plots.
    """
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
