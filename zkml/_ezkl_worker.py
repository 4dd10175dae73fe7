"""The ezkl worker process (see zkml._ezkl): runs ezkl calls sent over a pipe, one at a time.

Its stdout and stderr (where ezkl's native code prints) go to a scratch file, returned with a
failure as the call's log. It dies with the thread that started it.
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import os
import pickle
import signal
import sys
import tempfile
from typing import Any

from zkml._ezkl import receive, send

# these return futures that need a running event loop at call time, not only when awaited
ASYNC_FUNCTIONS = {"create_evm_verifier", "deploy_evm", "verify_evm", "get_srs"}
PR_SET_PDEATHSIG = 1


def _die_with_parent(parent: int) -> None:
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(1)


class _Records(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.INFO)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(record.getMessage())


def _run(ezkl: Any, function: str, args: tuple, kwargs: dict[str, Any]) -> Any:
    if isinstance(kwargs.get("py_run_args"), dict):
        run_args = ezkl.PyRunArgs()
        for key, value in kwargs["py_run_args"].items():
            setattr(run_args, key, value)
        kwargs = {**kwargs, "py_run_args": run_args}
    fn = getattr(ezkl, function)
    if function in ASYNC_FUNCTIONS:
        async def awaited() -> Any:
            return await fn(*args, **kwargs)

        return asyncio.run(awaited())
    return _picklable(fn(*args, **kwargs))


def _picklable(value: Any) -> Any:
    """ezkl's curve points (kzg_commit's PyG1Affine) as {"x", "y"}: pickle cannot send them."""
    if type(value).__name__ == "PyG1Affine":
        return {"x": value.x, "y": value.y}
    if isinstance(value, list):
        return [_picklable(v) for v in value]
    return value


def main() -> None:
    read_fd, write_fd, parent = (int(a) for a in sys.argv[1:4])
    _die_with_parent(parent)
    # whatever ezkl creates is owner-only: a witness holds the private input and its salt;
    # zkml.layout.atomic_path gives an artifact its shareable mode once it is written
    os.umask(0o077)
    requests, replies = os.fdopen(read_fd, "rb"), os.fdopen(write_fd, "wb")
    sink = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the process
    os.dup2(sink.fileno(), 1)
    os.dup2(sink.fileno(), 2)
    records = _Records()
    logger = logging.getLogger("ezkl")
    logger.addHandler(records)
    logger.propagate = False
    import ezkl

    while True:
        try:
            function, args, kwargs = receive(requests)
        except EOFError:
            return
        sink.seek(0)
        sink.truncate()
        records.lines.clear()
        try:
            reply = ("ok", _run(ezkl, function, args, kwargs), "")
        except BaseException as exc:  # noqa: BLE001 - PanicException is a BaseException
            sink.seek(0)
            log = "\n".join([*records.lines, sink.read().decode(errors="replace")])
            reply = ("error", str(exc).strip() or type(exc).__name__, log[-20000:])
        try:
            send(replies, reply)
        except (pickle.PicklingError, TypeError, AttributeError) as exc:
            send(replies, ("error", f"ezkl's {function} returned an unreadable result: {exc}",
                           ""))


if __name__ == "__main__":
    main()
