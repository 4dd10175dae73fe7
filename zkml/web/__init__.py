"""The subject's page: static HTML and JS, shipped in the package, served on loopback by
`zkml serve` (or opened as a file, with ?rpc=URL&registry=0x… in the address).

It reads a registry over JSON-RPC and shows what the registry records for the commitments in
a salt file dropped on it (0x….json, or proof.secret.json); nothing of that file leaves the
browser (app.js). Its one library, ethers (ABI encoding), comes from npm, pinned in
package-lock.json, and is vendored here byte for byte (vendor/ethers.umd.min.js; tests compare
it with node_modules/). The registry's ABI is registry-abi.js, written from the compiled
contract (`python -m zkml.web`).
"""

from __future__ import annotations

import contextlib
import http.server
import json
import threading
from collections.abc import Iterator
from importlib import resources
from pathlib import Path
from typing import Any

from zkml.errors import ChainError

FILES = {  # what the page is made of, and nothing else is served
    "/": ("index.html", "text/html; charset=utf-8"),
    "/index.html": ("index.html", "text/html; charset=utf-8"),
    "/app.js": ("app.js", "text/javascript; charset=utf-8"),
    "/registry-abi.js": ("registry-abi.js", "text/javascript; charset=utf-8"),
    "/style.css": ("style.css", "text/css; charset=utf-8"),
    "/vendor/ethers.umd.min.js": ("vendor/ethers.umd.min.js", "text/javascript; charset=utf-8"),
}
VENDORED = {"vendor/ethers.umd.min.js": ("ethers", "dist/ethers.umd.min.js")}  # npm file


def web_dir() -> Path:
    return Path(str(resources.files("zkml.web")))


def abi_script(abi: list[dict[str, Any]]) -> str:
    """registry-abi.js for this ABI."""
    return ("// Generated from zkml/contracts/InferenceRegistry.sol by `python -m zkml.web`. "
            "Do not edit.\nwindow.ZKML_REGISTRY_ABI = " + json.dumps(abi, indent=1) + ";\n")


def write_abi_script() -> Path:
    from zkml.evm.verifier import registry_build

    target = web_dir() / "registry-abi.js"
    target.write_text(abi_script(registry_build()["abi"]))
    return target


def page_config(rpc_url: str | None, registry: str | None,
                circuits_dir: Path | None = None, model: str | None = None) -> dict[str, Any]:
    """What the served page is prefilled with (config.json): the node, the registry (given, or
    the chain's default in the circuits folder's deployments.json) and the model's name when
    deployments.json knows it (the page names it in the `zkml commitment` command)."""
    config: dict[str, Any] = {}
    if registry:
        from web3 import Web3

        if not Web3.is_address(registry):
            raise ChainError(f"{registry!r} is not an address", hint="give the registry's 0x…")
        registry = Web3.to_checksum_address(registry)
    if rpc_url:
        from zkml.evm import rpc

        rpc._parts(rpc_url)  # refused before it reaches a page
        config["rpcUrl"] = rpc_url
        if circuits_dir is not None:
            from zkml.evm.registry import Deployments

            chain_id = rpc.connect(rpc_url).chain_id
            deployments = Deployments(circuits_dir)
            registry = registry or deployments.default_registry(chain_id)
            if registry is not None and model is None:
                model = _latest_model(deployments.registries(chain_id).get(registry, {}))
    config["registry"] = registry
    config["model"] = model
    return {k: v for k, v in config.items() if v}


def _latest_model(record: dict[str, Any]) -> str | None:
    versions = record.get("versions", {})
    numbers = sorted((int(v) for v in versions if str(v).isdigit()), reverse=True)
    for number in numbers:
        entry = versions[str(number)]
        if isinstance(entry, dict) and not entry.get("retired") and entry.get("model"):
            return str(entry["model"])
    return None


class PageServer:
    """The page on 127.0.0.1: its files, config.json, nothing else; answers only requests
    addressed to the loopback host (a page elsewhere cannot rebind a name onto it)."""

    def __init__(self, port: int, config: dict[str, Any]):
        root = web_dir()
        body_of = {path: (root / name).read_bytes() for path, (name, _) in FILES.items()}
        config_body = json.dumps(config).encode()
        allowed_hosts: set[str] = set()

        class Handler(http.server.BaseHTTPRequestHandler):
            def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - quiet
                pass

            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                if self.headers.get("Host", "") not in allowed_hosts:
                    self._send(403, b"forbidden\n", "text/plain")
                    return
                path = self.path.split("?", 1)[0]
                if path == "/config.json":
                    self._send(200, config_body, "application/json")
                elif path in FILES:
                    self._send(200, body_of[path], FILES[path][1])
                else:
                    self._send(404, b"not found\n", "text/plain")

            def _send(self, code: int, body: bytes, kind: str) -> None:
                self.send_response(code)
                self.send_header("Content-Type", kind)
                self.send_header("Content-Length", str(len(body)))
                self.send_header("Cache-Control", "no-store")
                self.send_header("X-Content-Type-Options", "nosniff")
                self.send_header("Referrer-Policy", "no-referrer")
                self.send_header("Content-Security-Policy",
                                 "default-src 'none'; script-src 'self'; style-src 'self'; "
                                 "connect-src 'self' http: https:; img-src 'self'; "
                                 "form-action 'none'; frame-ancestors 'none'; base-uri 'none'")
                self.end_headers()
                self.wfile.write(body)

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self.port = int(self.httpd.server_address[1])
        allowed_hosts.update({f"127.0.0.1:{self.port}", f"localhost:{self.port}"})
        self.url = f"http://127.0.0.1:{self.port}/"
        self._thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def start(self) -> PageServer:
        self._thread.start()
        return self

    def wait(self) -> None:
        self._thread.join()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


@contextlib.contextmanager
def serve(port: int = 0, config: dict[str, Any] | None = None) -> Iterator[PageServer]:
    """The page served on 127.0.0.1:port (0: a free port) until the block ends."""
    server = PageServer(port, config or {}).start()
    try:
        yield server
    finally:
        server.stop()
