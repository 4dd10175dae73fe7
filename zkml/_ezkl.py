"""The one door to ezkl: every call runs in a worker process that can be stopped.

ezkl's native code can deadlock (its prove holds Python's GIL while its own threads wait for it
to log), panic (a pyo3 PanicException, or an abort that takes the whole process down), and it
prints straight to the process's stdout/stderr. So no ezkl call runs in zkml's own process: each
thread gets one worker process (`python -m zkml._ezkl_worker`) that imports ezkl, runs calls on
request and captures what ezkl prints. A worker that stops using CPU (a deadlock), outlives the
time limit or dies becomes an `EzklFailure` here, and the next call starts a fresh worker. A
worker exits when the thread that started it dies (PR_SET_PDEATHSIG), so none is ever orphaned.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import pickle
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any, BinaryIO

# no CPU used by the worker for this long means it is stuck, not busy: ezkl's work is CPU-bound
STALL_SECONDS = float(os.environ.get("ZKML_EZKL_STALL_SECONDS", "20"))
# an upper bound on any single call, however busy (a runaway circuit, a huge setup)
TIME_LIMIT_SECONDS = float(os.environ.get("ZKML_EZKL_TIME_LIMIT", "3600"))
_TICKS = os.sysconf("SC_CLK_TCK")
_HEADER = struct.Struct("<Q")


class EzklFailure(Exception):
    """What ezkl said when it failed, with the tail of its native log."""

    def __init__(self, message: str, log: str = "", stuck: bool = False):
        super().__init__(message)
        self.log = log
        self.stuck = stuck  # the worker deadlocked or ran out of time and was stopped


def one_line(text: str, limit: int = 500) -> str:
    """ezkl's message (a Rust assertion spans lines) as the one line an error shows; the whole
    text stays in the failure's log."""
    return "; ".join(line.strip() for line in text.splitlines() if line.strip())[:limit]


def send(stream: BinaryIO, message: Any) -> None:
    data = pickle.dumps(message)
    stream.write(_HEADER.pack(len(data)) + data)
    stream.flush()


def receive(stream: BinaryIO) -> Any:
    header = stream.read(_HEADER.size)
    if len(header) < _HEADER.size:
        raise EOFError
    (size,) = _HEADER.unpack(header)
    return pickle.loads(stream.read(size))


def _cpu_ticks(pid: int) -> int | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])  # utime + stime, all threads


class Worker:
    """One ezkl worker process, started on first use and restarted after a failure."""

    def __init__(self, command: list[str] | None = None) -> None:
        # the worker's command line; tests substitute one that hangs or crashes
        self.command = command or [sys.executable, "-m", "zkml._ezkl_worker"]
        self.process: subprocess.Popen[bytes] | None = None
        self._to: BinaryIO | None = None
        self._from: BinaryIO | None = None

    def _start(self) -> None:
        to_child_r, to_child_w = os.pipe()
        from_child_r, from_child_w = os.pipe()
        self.process = subprocess.Popen(
            [*self.command, str(to_child_r), str(from_child_w), str(os.getpid())],
            pass_fds=(to_child_r, from_child_w), stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        os.close(to_child_r)
        os.close(from_child_w)
        self._to = os.fdopen(to_child_w, "wb")
        self._from = os.fdopen(from_child_r, "rb")

    def ensure_started(self) -> None:
        if self.process is None or self.process.poll() is not None:
            self.stop()
            self._start()

    def call(self, function: str, args: tuple, kwargs: dict[str, Any],
             time_limit: float | None = None) -> Any:
        self.ensure_started()
        assert self.process and self._to and self._from
        try:
            send(self._to, (function, args, kwargs))
        except BrokenPipeError:
            self.stop()
            raise EzklFailure(f"ezkl's worker process exited before {function}") from None
        self._wait(function, time_limit or TIME_LIMIT_SECONDS)
        try:
            status, value, log = receive(self._from)
        except (EOFError, pickle.UnpicklingError):
            code = self.process.wait()
            self.stop()
            raise EzklFailure(f"ezkl crashed in {function} (worker exit status {code})") from None
        if status == "error":
            raise EzklFailure(one_line(value), log)
        return value

    def _wait(self, function: str, time_limit: float) -> None:
        """Until the worker answers; stop it if it deadlocks, overruns or dies."""
        assert self.process and self._from
        import select

        started = last_progress = time.monotonic()
        ticks = _cpu_ticks(self.process.pid)
        while True:
            ready, _, _ = select.select([self._from], [], [], 1.0)
            if ready:
                return
            now = time.monotonic()
            current = _cpu_ticks(self.process.pid)
            if current is None or self.process.poll() is not None:
                return  # it died: reading the pipe says so
            if current != ticks:
                ticks, last_progress = current, now
            if now - last_progress > STALL_SECONDS:
                self.stop()
                raise EzklFailure(
                    f"ezkl's {function} stopped making progress (no CPU used for "
                    f"{STALL_SECONDS:.0f} s: a deadlock) and was stopped", stuck=True)
            if now - started > time_limit:
                self.stop()
                raise EzklFailure(f"ezkl's {function} ran over its time limit of "
                                  f"{time_limit:.0f} s and was stopped", stuck=True)

    def stop(self) -> None:
        for stream in (self._to, self._from):
            if stream:
                with contextlib.suppress(OSError):
                    stream.close()
        self._to = self._from = None
        if self.process and self.process.poll() is None:
            self.process.kill()
            self.process.wait()
        self.process = None


_local = threading.local()
_workers: list[Worker] = []


def _worker() -> Worker:
    worker = getattr(_local, "worker", None)
    if worker is None:
        worker = _local.worker = Worker()
        _workers.append(worker)
    return worker


def ezkl_version() -> str:
    """The installed ezkl's version, without importing it here."""
    from importlib.metadata import version

    return version("ezkl")


def call(function: str, *args: Any, time_limit: float | None = None, **kwargs: Any) -> Any:
    """Run ezkl.<function>(*args, **kwargs) in this thread's worker; raise EzklFailure on any
    ezkl error, panic, crash, deadlock or overrun. A `py_run_args` dict becomes ezkl.PyRunArgs."""
    return _worker().call(function, args, kwargs, time_limit)


def prewarm() -> None:
    """Start this thread's worker now: it imports ezkl while the caller does other work."""
    _worker().ensure_started()


def reset_worker_peak() -> None:
    """Start this thread's worker if it is not running, and reset its peak resident memory to
    what it holds now (Linux's clear_refs), so that worker_peak_mb measures the next call."""
    worker = _worker()
    worker.ensure_started()
    assert worker.process is not None
    with contextlib.suppress(OSError):
        Path(f"/proc/{worker.process.pid}/clear_refs").write_text("5")


def worker_peak_mb() -> float | None:
    """The peak resident memory of this thread's worker since it started or since
    reset_worker_peak, in MB (None: no worker, or no /proc)."""
    worker = getattr(_local, "worker", None)
    if worker is None or worker.process is None:
        return None
    try:
        status = Path(f"/proc/{worker.process.pid}/status").read_text()
    except OSError:
        return None
    peak = next((line for line in status.splitlines() if line.startswith("VmHWM:")), None)
    return None if peak is None else int(peak.split()[1]) / 1024


def stop_thread_worker() -> None:
    """Stop this thread's worker now (threads that prove in parallel call this when done)."""
    worker = getattr(_local, "worker", None)
    if worker is not None:
        worker.stop()
        _local.worker = None


@atexit.register
def stop_all() -> None:
    """Stop (and reap) every worker this process started."""
    for worker in _workers:
        worker.stop()
