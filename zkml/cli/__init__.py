"""The `zkml` command: parse options, call the library, render its typed results.

Nothing else lives here: every command is a few lines over `zkml.*` functions that a test or a
notebook calls the same way. The library logs to the "zkml" logger and reports progress
through one hook; this package decides how both look (zkml/cli/app.py), one module per
command group.
"""

from zkml.cli import batch, chain, ci, pipeline, subject  # noqa: F401  (they register)
from zkml.cli.app import main

__all__ = ["main"]
