"""What every benchmark part starts from: a model built with zkml (export, compile with its
defaults or the options given, setup), and the machine the figures come from."""

from __future__ import annotations

import os
import platform
from pathlib import Path
from typing import Any

from zkml.circuit import CircuitOptions
from zkml.layout import ModelLayout
from zkml.models.bundled import Spec


def machine() -> dict[str, Any]:
    from zkml._ezkl import ezkl_version

    return {"cpus": os.cpu_count(), "python": platform.python_version(),
            "ezkl": ezkl_version(), "platform": platform.platform()}


def prepare(spec: Spec, circuits: Path, options: CircuitOptions | None = None,
             name: str | None = None) -> ModelLayout:
    """Export, compile and set up a model with zkml (what its steps are then timed against)."""
    from zkml import pipeline, proving
    from zkml.export import export
    from zkml.models import bundled

    model = bundled.load(spec)
    layout = ModelLayout.for_model(name or spec.name, circuits)
    export(model, layout)
    pipeline.compile_model(layout, options)
    proving.setup(layout)
    return layout
