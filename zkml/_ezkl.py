"""The one door to ezkl: quiet its native logging and turn its failures into zkml errors.

ezkl's Rust side prints fidelity tables and logs straight to the process's stdout/stderr,
and a Rust panic surfaces as pyo3's PanicException, a BaseException that `except Exception`
misses. Both are handled here so no caller has to remember.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import tempfile
from collections.abc import Callable, Iterator
from typing import Any

from zkml.errors import ZkmlError


class EzklFailure(Exception):
    """What ezkl said when it failed, with the tail of its native log."""

    def __init__(self, message: str, log: str):
        super().__init__(message)
        self.log = log


@contextlib.contextmanager
def _captured_native_output() -> Iterator[Callable[[], str]]:
    """Redirect fds 1 and 2 (where Rust writes) to a temp file for the duration of a call."""
    with tempfile.TemporaryFile(mode="w+b") as sink:
        saved = [os.dup(1), os.dup(2)]
        try:
            os.dup2(sink.fileno(), 1)
            os.dup2(sink.fileno(), 2)

            def read() -> str:
                sink.seek(0)
                return sink.read().decode(errors="replace")

            yield read
        finally:
            os.dup2(saved[0], 1)
            os.dup2(saved[1], 2)
            for fd in saved:
                os.close(fd)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


@contextlib.contextmanager
def _captured_ezkl_logging() -> Iterator[_Records]:
    """ezkl also logs through Python logging (logger 'ezkl'); keep those records, not spam."""
    logger = logging.getLogger("ezkl")
    records = _Records()
    saved = logger.propagate
    logger.addHandler(records)
    logger.propagate = False
    try:
        yield records
    finally:
        logger.removeHandler(records)
        logger.propagate = saved


def call(function: str, *args: Any, **kwargs: Any) -> Any:
    """Run ezkl.<function>; raise EzklFailure on any ezkl error or panic."""
    import ezkl

    fn = getattr(ezkl, function)
    with _captured_native_output() as read_native, _captured_ezkl_logging() as records:
        read_log = lambda: "\n".join([*records.lines, read_native()])  # noqa: E731
        try:
            if function in ASYNC_FUNCTIONS:
                return asyncio.run(_in_event_loop(fn, *args, **kwargs))
            return fn(*args, **kwargs)
        except (KeyboardInterrupt, SystemExit, ZkmlError):
            raise
        except BaseException as exc:  # noqa: BLE001 - PanicException is a BaseException
            message = str(exc).strip() or type(exc).__name__
            raise EzklFailure(message, read_log()) from exc


# these return futures that need a running event loop at call time, not only when awaited
ASYNC_FUNCTIONS = {"create_evm_verifier", "deploy_evm", "verify_evm", "get_srs"}


async def _in_event_loop(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
    return await fn(*args, **kwargs)
