"""The cache every stage runs under: a stage whose inputs, options and outputs are unchanged
does no work and says so; `force` redoes it.

It sits below the stages (zkml.pipeline, zkml.keys, zkml.evm.verifier) so that imports run one
way: stages -> cached_stage, never back.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml.layout import Manifest, ModelLayout

# stages that read what a stage writes: redoing the stage makes theirs stale
DOWNSTREAM = {"compile": ["setup", "verifier"], "setup": ["verifier"]}


@dataclass(frozen=True)
class StageRun:
    cached: bool
    seconds: float


def cached_stage(
    layout: ModelLayout,
    stage: str,
    inputs: list[Path],
    options: dict[str, Any],
    outputs: list[Path],
    work: Callable[[], None],
    force: bool,
) -> StageRun:
    """Run work() unless the manifest shows the same inputs and options already made outputs.

    Holds the model folder's exclusive lock: no prove reads a half-replaced key meanwhile. The
    stage and the stages downstream of it are dropped from the manifest before work starts, and
    the stage is recorded only after it ends, so a stage killed midway is redone by the next
    run and nothing built on its old outputs counts as current.
    """
    with layout.lock(shared=False):
        layout.remove_stale_temporaries()
        manifest = Manifest(layout)
        key = manifest.stage_key(inputs, options)
        if not force and manifest.is_fresh(stage, key):
            return StageRun(True, 0.0)
        manifest.invalidate([stage, *DOWNSTREAM.get(stage, [])])
        manifest.save()
        start = time.perf_counter()
        work()
        seconds = time.perf_counter() - start
        Manifest(layout).record(stage, key, outputs, seconds)
        return StageRun(False, seconds)
