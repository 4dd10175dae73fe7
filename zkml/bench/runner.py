"""Each measured step in its own process, so that its time and peak memory are its own.

`measure` runs a command and reads its wall time and the peak resident memory of the process
and every descendant it waited for (os.wait4's rusage; zkml's ezkl worker is one of them).
`step` runs one named operation of zkml.bench.ops in a child Python (`python -m
zkml.bench.ops OP ARGS`), which also reports the time of the operation alone, without the
interpreter's start-up.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Measured:
    seconds: float  # the operation alone (for a step), or the whole process (for a command)
    wall_seconds: float  # the whole process, interpreter start-up included
    peak_mb: float  # the largest resident size of the process or a descendant it waited for


def measure(command: list[str], env: dict[str, str] | None = None,
            cwd: Path | None = None) -> tuple[Measured, str]:
    """Run a command to the end; its figures and its stdout. A failure raises with stderr."""
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd)
        _, status, usage = os.wait4(process.pid, 0)
        wall = time.perf_counter() - start
        process.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} … failed: {stderr[-2000:]}")
    return Measured(wall, wall, usage.ru_maxrss / 1024), stdout


def step(op: str, repeats: int = 1, **args: Any) -> Measured:
    """One operation of zkml.bench.ops in child processes: median time, largest peak memory."""
    runs = []
    for _ in range(repeats):
        figures, stdout = measure([sys.executable, "-m", "zkml.bench.ops", op,
                                   json.dumps(args, default=str)])
        inner = json.loads(stdout.strip().splitlines()[-1])["seconds"]
        runs.append(Measured(inner, figures.wall_seconds, figures.peak_mb))
    return Measured(statistics.median(r.seconds for r in runs),
                    statistics.median(r.wall_seconds for r in runs),
                    max(r.peak_mb for r in runs))
