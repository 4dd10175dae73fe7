"""Finding the external programs zkml drives: solc, anvil and forge.

They come from npm (`scripts/bootstrap` installs them into this checkout's node_modules/; a
project that installed zkml as a package runs `npm install solc @foundry-rs/anvil-linux-amd64`
in its own folder). Each is looked up as $TOOL (upper case), then in the node_modules/ of the
current folder or one above it, or of this checkout, then on PATH.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from importlib import resources
from pathlib import Path

from zkml.errors import ToolMissing
from zkml.layout import atomic_path, default_cache_dir

NPM_PACKAGES = {
    "anvil": "@foundry-rs/anvil-linux-amd64",
    "forge": "@foundry-rs/forge-linux-amd64",
    "solc": "solc",
}
INSTALL_HINT = ("run scripts/bootstrap in a zkml checkout, or `npm install solc@0.8.37 "
                "@foundry-rs/anvil-linux-amd64@1.7.1` in your project, or put it on PATH")


def node_modules() -> list[Path]:
    """node_modules folders to search, nearest first."""
    here = Path.cwd().resolve()
    folders = [Path(os.environ["ZKML_NODE_MODULES"])] if os.environ.get("ZKML_NODE_MODULES") \
        else []
    folders += [p / "node_modules" for p in (here, *here.parents)]
    checkout = Path(__file__).resolve().parents[2] / "node_modules"  # an editable install
    return [f for f in dict.fromkeys([*folders, checkout]) if f.is_dir()]


def _npm_package(tool: str) -> Path | None:
    for folder in node_modules():
        package = folder / NPM_PACKAGES[tool]
        if package.is_dir():
            return package
    return None


def find(tool: str) -> Path:
    """$TOOL (upper case) if set, else the npm copy, else one on PATH."""
    override = os.environ.get(tool.upper())
    if override:
        path = Path(override)
        if not (path.is_file() and os.access(path, os.X_OK)):
            raise ToolMissing(f"${tool.upper()} points to {path}, which is not an executable")
        return path
    if tool == "solc":
        on_path = shutil.which("solc")  # a native compiler is faster than solcjs
        if on_path:
            return Path(on_path)
        module = _npm_package("solc")
        if module is not None and shutil.which("node"):
            return _solcjs_launcher(module)
    else:
        package = _npm_package(tool)
        if package is not None and (package / "bin" / tool).is_file():
            return package / "bin" / tool
        on_path = shutil.which(tool)
        if on_path:
            return Path(on_path)
    raise ToolMissing(f"{tool} is not installed", hint=INSTALL_HINT)


def _solcjs_launcher(module: Path) -> Path:
    """An executable `solc` (what py-solc-x needs) that runs the wrapper shipped in the
    package with this npm solc module; made once per (wrapper, module) in the cache."""
    wrapper = Path(str(resources.files("zkml.evm") / "solc.js"))
    text = f'#!/bin/sh\nZKML_SOLC_MODULE="{module}" exec node "{wrapper}" "$@"\n'
    digest = hashlib.sha256(text.encode()).hexdigest()[:16]
    launcher = default_cache_dir() / "bin" / f"solc-{digest}"
    if not launcher.is_file():
        with atomic_path(launcher) as tmp:
            tmp.write_text(text)
            tmp.chmod(0o755)
    return launcher
