"""Finding the external programs (solc, anvil, forge) that scripts/bootstrap installs from npm."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from zkml.errors import ToolMissing

REPO = Path(__file__).resolve().parents[2]
NODE_BIN = {
    "anvil": REPO / "node_modules" / "@foundry-rs" / "anvil-linux-amd64" / "bin" / "anvil",
    "forge": REPO / "node_modules" / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge",
}
SOLC_WRAPPER = REPO / "scripts" / "solc"


def find(tool: str) -> Path:
    """$TOOL (upper case) if set, else the copy bootstrap installed, else one on PATH."""
    override = os.environ.get(tool.upper())
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ToolMissing(f"${tool.upper()} points to {path}, which is not an executable")
        return path
    if tool == "solc":
        on_path = shutil.which("solc")
        if on_path:
            return Path(on_path)
        if (REPO / "node_modules" / "solc").is_dir() and shutil.which("node"):
            return SOLC_WRAPPER
    else:
        local = NODE_BIN[tool]
        if local.is_file():
            return local
        on_path = shutil.which(tool)
        if on_path:
            return Path(on_path)
    raise ToolMissing(
        f"{tool} is not installed",
        hint="run scripts/bootstrap (installs it from npm), or put it on PATH",
    )
