"""Each measured step in its own process, so that its time and peak memory are its own.

`measure` runs a command and reads its wall time, its peak memory (the largest total resident
size of the process and its descendants, zkml's ezkl worker among them) and its CPU time (the
process's and its descendants'), sampled every SAMPLE_SECONDS. (rusage would not do: a child
inherits the parent's peak RSS through fork, and a worker killed with its parent is never
waited for, so its CPU time is nobody's.) CPU time says what a step costs when the machine is
shared: other processes stretch its wall time, not its CPU time.
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

SAMPLE_SECONDS = 0.01


def _tree(root: int) -> set[int]:
    """A process and all its descendants, now."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    tree, frontier = {root}, [root]
    while frontier:
        children = [pid for pid, parent in parents.items() if parent in frontier]
        tree.update(children)
        frontier = children
    return tree


_TICKS = os.sysconf("SC_CLK_TCK")


def tree_cpu_seconds(root: int, seen: dict[int, float]) -> None:
    """Update seen (pid -> CPU seconds so far) with the process tree's user + system time."""
    for pid in _tree(root):
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seen[pid] = max(seen.get(pid, 0.0), (int(fields[11]) + int(fields[12])) / _TICKS)
        except (OSError, ValueError, IndexError):
            continue


def tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants, now."""
    total = 0
    for pid in _tree(root):
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


@dataclass(frozen=True)
class Measured:
    seconds: float  # the operation alone (for a step), or the whole process (for a command)
    wall_seconds: float  # the whole process, interpreter start-up included
    peak_mb: float  # the largest total resident size of the process and its descendants
    cpu_seconds: float | None = None  # user + system time of the process and its descendants


class Exceeded(RuntimeError):
    """A command stopped at its memory or time limit; its figures until then."""

    def __init__(self, message: str, figures: Measured) -> None:
        super().__init__(message)
        self.figures = figures


def measure(command: list[str], env: dict[str, str] | None = None,
            cwd: Path | None = None, memory_limit_mb: float | None = None,
            time_limit_s: float | None = None, every: float = SAMPLE_SECONDS
            ) -> tuple[Measured, str]:
    """Run a command to the end; its figures and its stdout. A failure raises with stderr;
    a command over a limit is stopped with its descendants and raises Exceeded. Sampling
    takes CPU: a long command can be sampled less often (`every` seconds)."""
    import os
    import signal

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        start = time.perf_counter()
        limited = memory_limit_mb is not None or time_limit_s is not None
        # a limited command leads a process group of its own: stopped with its descendants
        process = subprocess.Popen(command, stdout=out, stderr=err, env=env, cwd=cwd,
                                   start_new_session=limited)
        peak = 0.0
        cpu: dict[int, float] = {}
        over = None
        while process.poll() is None:
            peak = max(peak, tree_rss_mb(process.pid))
            tree_cpu_seconds(process.pid, cpu)
            elapsed = time.perf_counter() - start
            if memory_limit_mb is not None and peak > memory_limit_mb:
                over = f"its memory passed {memory_limit_mb / 1000:.0f} GB"
            elif time_limit_s is not None and elapsed > time_limit_s:
                over = f"it ran over {time_limit_s / 60:.0f} minutes"
            if over:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
                raise Exceeded(f"{' '.join(command[:4])} … was stopped: {over}",
                               Measured(elapsed, elapsed, peak, sum(cpu.values())))
            time.sleep(every)
        wall = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode(errors="replace")
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(command[:4])} … failed: {stderr[-2000:]}")
    return Measured(wall, wall, peak, sum(cpu.values())), stdout


def step(op: str, repeats: int = 1, **args: Any) -> Measured:
    """One operation of zkml.bench.ops in child processes: median time, largest peak memory."""
    runs = []
    for _ in range(repeats):
        figures, stdout = measure([sys.executable, "-m", "zkml.bench.ops", op,
                                   json.dumps(args, default=str)])
        inner = json.loads(stdout.strip().splitlines()[-1])["seconds"]
        runs.append(Measured(inner, figures.wall_seconds, figures.peak_mb,
                             figures.cpu_seconds))
    return Measured(statistics.median(r.seconds for r in runs),
                    statistics.median(r.wall_seconds for r in runs),
                    max(r.peak_mb for r in runs),
                    statistics.median(r.cpu_seconds or 0.0 for r in runs))
