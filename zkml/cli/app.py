"""The command group: consoles, the context every command gets, the one place where errors
meet the user (one line, a hint, an exit code), -v and --json anywhere, stage lines."""

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

from zkml.errors import VerificationFailed, ZkmlError
from zkml.layout import ModelLayout, default_circuits_dir
from zkml.results import inert, to_json


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
            err.print(f"[bold yellow]WARNING[/] {escape(inert(record.getMessage()))}",
                      soft_wrap=True)
        else:
            err.print(f"[dim]{escape(inert(record.getMessage()))}[/]", soft_wrap=True)


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


# `zkml --help` lists commands as a user meets them: the whole run, the pipeline's stages,
# the chain, what a data subject runs, then batches, CI and tools
COMMAND_ORDER = ("run", "export", "compile", "setup", "prove", "verify", "verifier", "deploy",
                 "onchain", "result", "commitment", "serve", "prove-batch", "regress", "bench",
                 "anvil")


class ZkmlGroup(click.Group):
    """The one place where errors meet the user: one line, a hint, an exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        known = [name for name in COMMAND_ORDER if name in self.commands]
        return known + sorted(set(self.commands) - set(known))

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
                err.print("\n".join(map(inert, traceback.format_exc().splitlines())),
                          markup=False)
            label = "INVALID" if isinstance(exc, VerificationFailed) else "error"
            hint = f" [dim]— {escape(inert(exc.hint))}[/]" if exc.hint else ""
            # one line whatever the message holds (a node's words, a revert string)
            err.print(f"[bold red]{label}:[/] {escape(inert(exc.message))}{hint}",
                      soft_wrap=True)
            if isinstance(obj, Context) and obj.as_json:
                print_json({**obj.summary, "ok": False, "error": exc.message,
                             "error_kind": type(exc).__name__})
            ctx.exit(getattr(exc, "exit_code", 1))


def common(fn: Callable) -> Callable:
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
        print_json({**obj.summary, "ok": True})


def print_json(summary: dict[str, Any]) -> None:
    """The --json summary: data as it is (a label from a chain, raw), every character outside
    ASCII written as a JSON escape, so that no byte of it is a terminal control."""
    out.print_json(json.dumps(summary), ensure_ascii=True)


pass_ctx = click.make_pass_decorator(Context)


def stage_line(result: Any, elapsed: float | None = None) -> None:
    cached = getattr(result, "cached", False)
    seconds = result.seconds if elapsed is None else elapsed
    note = "[dim]cached, nothing to do[/]" if cached else f"{seconds:6.2f} s"
    err.print(f"[green]✓[/] {result.stage:<8} {note}")
    for warning in getattr(result, "warnings", []):
        err.print(f"[bold yellow]WARNING[/] {escape(inert(warning))}", soft_wrap=True)


@contextmanager
def spinner(label: str) -> Iterator[None]:
    with err.status(f"[bold]{label}[/] …"):
        yield


def run_stage(obj: Context, label: str, action: Callable[[], Any]) -> Any:
    """Run one library call under a spinner, then print its line and record it for --json."""
    start = time.perf_counter()
    with spinner(label):
        result = action()
    stage_line(result, time.perf_counter() - start)
    obj.record(result)
    return result
