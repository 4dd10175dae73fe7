"""The one hook through which long operations report progress; the CLI renders it."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from zkml.results import StageResult


@dataclass(frozen=True)
class Progress:
    """One step of a long operation: a stage done, an input proved, a candidate tried."""

    stage: str  # "export", "compile", ..., "batch", "optimize", "regress", "bench"
    message: str = ""
    done: int | None = None
    total: int | None = None
    starting: bool = False  # a stage of a workflow begins (a spinner's cue)
    result: StageResult | None = None  # set when a stage of a workflow has finished
    failed: bool = False  # e.g. one input of a batch that could not be proved

    def __str__(self) -> str:
        """A line for a log or print: `setup …` as a stage starts, the result's line when it
        ends, else the message (with a count)."""
        if self.result is not None:
            return str(self.result)
        if self.starting:
            return f"{self.stage} …"
        count = f" ({self.done}/{self.total})" if self.done is not None and self.total else ""
        return f"{self.stage}: {self.message}{count}"


ProgressHook = Callable[[Progress], None]


def ignore(_: Progress) -> None:
    """The default hook: report nothing."""
