"""What every stage reports, how a typed result becomes JSON for `--json`, and how text from
outside (a chain, a node, an input file) is shown: as data, never as terminal control."""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

T = TypeVar("T")


@dataclass(kw_only=True)
class StageResult:
    """Common to every stage's result: whether the cache made it a no-op, and its cost."""

    stage: str
    cached: bool = False
    seconds: float = 0.0
    warnings: list[str] = field(default_factory=list)

    def __str__(self) -> str:
        """One line, as the CLI reports the stage: `setup: proving key 21.0 MB, … (3.41 s)`
        (the repr, every field, is for debugging)."""
        done = "cached, nothing to do" if self.cached else f"{self.seconds:.2f} s"
        detail = self.summary()
        warned = "".join(f"; WARNING {w}" for w in self.warnings)
        return f"{self.stage}: {detail} ({done}){warned}" if detail else \
            f"{self.stage}: {done}{warned}"

    def summary(self) -> str:
        """What a person wants to know of the result besides its stage and time."""
        return ""


def split_outputs(values: list[Any], lengths: list[int]) -> list[list[Any]]:
    """A subject's outputs as the registry stores them (every model output concatenated), one
    list per model output."""
    ends = [sum(lengths[:k + 1]) for k in range(len(lengths))]
    return [values[end - length:end] for end, length in zip(ends, lengths, strict=True)]


def rounded(values: list[float], limit: int = 8) -> str:
    """Numbers as a person reads them: 4 decimals, the first few of a long list."""
    shown = ", ".join(f"{v:.4f}" for v in values[:limit])
    return f"[{shown}{', …' if len(values) > limit else ''}]"


def to_json(value: Any) -> Any:
    """Dataclasses, paths and tuples as plain JSON values (numbers rounded where they are times)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_json(getattr(value, f.name)) for f in dataclasses.fields(value)
                if not f.name.startswith("_")}
    if isinstance(value, dict):
        return {str(k): to_json(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_json(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    return value


def inert(value: T) -> T:
    """`value` with every control or format character of its strings (ESC and so every
    CSI/OSC sequence, BEL, CR, newline, C1 codes, bidi overrides) written as its escape, e.g.
    `\\x1b`: visible and inert on a terminal, so that a registry's labels, a revert string or
    a node's error message cannot clear the screen, fake a line or hide a link. Strings inside
    dataclasses, lists, tuples and dicts are treated alike (a copy); anything else is returned
    as it is. Idempotent."""
    if isinstance(value, str):
        return "".join(c if c.isprintable() else c.encode("unicode_escape").decode()
                       for c in value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return dataclasses.replace(value, **{
            f.name: inert(getattr(value, f.name)) for f in dataclasses.fields(value) if f.init})
    if isinstance(value, list | tuple):
        return type(value)(inert(v) for v in value)
    if isinstance(value, dict):
        return {inert(k): inert(v) for k, v in value.items()}  # type: ignore[return-value]
    return value
