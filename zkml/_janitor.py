"""Removes what a zkml process leaves mid-write the moment it dies, even by SIGKILL.

Scratch folders (a witness holds the private input and its salt) and temporary files are
registered here while they exist. The first registration starts a janitor: a small process,
detached from this one (its own session, outside this process's tree), that reads a pipe from
it. However this process ends, the pipe closes; the janitor then removes whatever is still
registered and exits. `layout.remove_stale_scratch`, at the next zkml command, is the fallback
should the janitor itself be killed.

This file only uses the standard library: the janitor runs it by path, so it needs no zkml on
the path of the Python that runs it.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

_lock = threading.Lock()
_pipe: dict[int, int] = {}  # this process's id -> the write end of its janitor's pipe


def register(path: Path) -> None:
    """Remove path if this process dies before release(path)."""
    _tell("+", path)


def release(path: Path) -> None:
    _tell("-", path)


def _tell(op: str, path: Path) -> None:
    message = (json.dumps([op, os.fsdecode(path)]) + "\n").encode()
    with _lock:
        pid = os.getpid()
        if pid not in _pipe:
            fd = _start()
            if fd is None:
                return  # the next zkml command removes what a dead process left
            _pipe[pid] = fd
        try:
            os.write(_pipe[pid], message)
        except OSError:  # the janitor is gone: fall back as above
            os.close(_pipe.pop(pid))


def _start() -> int | None:
    read, write = os.pipe()
    try:
        starter = subprocess.Popen([sys.executable, "-I", "-S", __file__, str(read)],
                                   pass_fds=(read,), stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        starter.wait()  # it forks the janitor and returns at once
    except OSError:
        os.close(write)
        return None
    finally:
        os.close(read)
    return write


def _forget() -> None:
    """In a forked child: close the parent's pipe, so that its janitor sees it die."""
    global _lock
    _lock = threading.Lock()
    for fd in _pipe.values():
        with contextlib.suppress(OSError):
            os.close(fd)
    _pipe.clear()


os.register_at_fork(after_in_child=_forget)


def _remove(paths: set[str]) -> None:
    for _attempt in range(3):  # an ezkl worker may write a last file while it is being killed
        for path in paths:
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, ignore_errors=True)
            else:
                with contextlib.suppress(OSError):  # gone already
                    os.unlink(path)
        time.sleep(0.2)


def _watch(fd: int) -> None:
    held: set[str] = set()
    with os.fdopen(fd, "rb") as stream:
        for line in stream:  # until the process that writes it is gone
            try:
                op, path = json.loads(line)
            except ValueError:
                continue
            (held.add if op == "+" else held.discard)(path)
    _remove(held)


if __name__ == "__main__":
    if os.fork() == 0:  # the janitor: detached, so that its parent can return at once
        os.setsid()
        _watch(int(sys.argv[1]))
    os._exit(0)
