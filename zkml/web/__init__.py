"""The subject's page: static HTML and JS, shipped in the package, served on loopback by
`zkml serve` (or opened as a file, with ?rpc=URL&registry=0x… in the address).

It reads a registry over JSON-RPC and shows what the registry records for the commitments in
a salt file dropped on it (0x….json, or proof.secret.json); nothing of that file leaves the
browser (app.js). Its one library, ethers (ABI encoding), comes from npm, pinned in
package-lock.json, and is vendored here byte for byte (vendor/ethers.umd.min.js; tests compare
it with node_modules/). The registry's ABI is registry-abi.js, written from the compiled
contract (`python -m zkml.web`).

Served with a node, the page reads it through the server's own /rpc: the few read-only
methods app.js calls are relayed by zkml's guarded RPC path (deadlines, credentials scrubbed),
so the node's URL, with whatever key or password it carries, never reaches the page or any
other local process that asks.
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
    "/favicon.svg": ("favicon.svg", "image/svg+xml"),
    "/vendor/ethers.umd.min.js": ("vendor/ethers.umd.min.js", "text/javascript; charset=utf-8"),
}
VENDORED = {"vendor/ethers.umd.min.js": ("ethers", "dist/ethers.umd.min.js")}  # npm file
# what app.js asks: the chain, the registry's views and events, a verifier's code (its hash)
RELAYED = ("eth_chainId", "eth_blockNumber", "eth_call", "eth_getLogs", "eth_getCode")
MAX_REQUEST_BYTES = 2**20  # far above any request app.js makes


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
    """What the served page is prefilled with (config.json) besides the node, which the server
    adds as its own /rpc: the registry (given, or the default of rpc_url's chain in the
    circuits folder's deployments.json) and the model's name when deployments.json knows it
    (the page names it in the `zkml commitment` command). Reading needs no key."""
    config: dict[str, Any] = {}
    if registry:
        from web3 import Web3

        if not Web3.is_address(registry):
            raise ChainError(f"{registry!r} is not an address", hint="give the registry's 0x…")
        registry = Web3.to_checksum_address(registry)
    if rpc_url:
        from zkml.evm import rpc

        rpc._parts(rpc_url)  # refused before anything is served
        if circuits_dir is not None:
            from zkml.evm.deployments import Deployments

            deployments = Deployments(circuits_dir, rpc.connect(rpc_url, signing=False))
            registry = registry or deployments.default_registry()
            if registry is not None:
                config["models"] = _models(deployments.registries().get(registry, {}))
                model = model or _latest_model(deployments.registries().get(registry, {}))
    config["registry"] = registry
    config["model"] = model
    return {k: v for k, v in config.items() if v}


def _models(record: dict[str, Any]) -> dict[str, str]:
    """Each version's model, as zkml added it: the page names the one a result came from."""
    versions = record.get("versions", {})
    return {str(v): str(entry["model"]) for v, entry in versions.items()
            if str(v).isdigit() and isinstance(entry, dict) and entry.get("model")}


def _latest_model(record: dict[str, Any]) -> str | None:
    versions = record.get("versions", {})
    numbers = sorted((int(v) for v in versions if str(v).isdigit()), reverse=True)
    for number in numbers:
        entry = versions[str(number)]
        if isinstance(entry, dict) and not entry.get("retired") and entry.get("model"):
            return str(entry["model"])
    return None


def relay(rpc_url: str, body: bytes) -> tuple[int, dict[str, Any]]:
    """The page's JSON-RPC request, relayed to the node when it is one of RELAYED: the HTTP
    status and JSON-RPC answer to send back. Nothing in it names the node's URL: the node's own
    errors are scrubbed of its credentials, and a node that fails is described without it
    ("did not answer eth_call within 15 s")."""
    from zkml.evm import rpc
    from zkml.layout import json_loads

    def error(code: int, message: str, request_id: Any = None) -> dict[str, Any]:
        return {"jsonrpc": "2.0", "id": request_id, "error": {"code": code, "message": message}}

    try:
        request = json_loads(body.decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        return 400, error(-32700, "not a JSON-RPC request")
    if not isinstance(request, dict) or not isinstance(request.get("params", []), list):
        return 400, error(-32600, "not a JSON-RPC request")
    request_id, method = request.get("id"), request.get("method")
    if method not in RELAYED:
        return 200, error(-32601, f"zkml serve relays only {', '.join(RELAYED)}", request_id)
    try:
        answer = rpc.call(rpc_url, method, request.get("params", []), request_id, refusals=True)
    except rpc.NodeError as exc:  # "did not answer eth_call within 15 s", ...
        return 200, error(-32603, exc.what, request_id)
    if answer.get("error") is not None:
        return 200, {"jsonrpc": "2.0", "id": request_id, "error": answer["error"]}
    return 200, {"jsonrpc": "2.0", "id": request_id, "result": answer.get("result")}


class PageServer:
    """The page on 127.0.0.1: its files, config.json and, with a node, /rpc (see relay);
    nothing else. It answers only requests addressed to the loopback host (a page elsewhere
    cannot rebind a name onto it), and /rpc only the page's own (JSON, from its origin)."""

    def __init__(self, port: int, config: dict[str, Any], rpc_url: str | None = None):
        if rpc_url:
            from zkml.evm import rpc

            rpc._parts(rpc_url)  # refused before anything is served
        root = web_dir()
        body_of = {path: (root / name).read_bytes() for path, (name, _) in FILES.items()}
        served_config = dict(config)
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
                    self._send(200, json.dumps(served_config).encode(), "application/json")
                elif path in FILES:
                    self._send(200, body_of[path], FILES[path][1])
                else:
                    self._send(404, b"not found\n", "text/plain")

            def do_POST(self) -> None:  # noqa: N802 - http.server's name
                origin = self.headers.get("Origin")
                if self.headers.get("Host", "") not in allowed_hosts or (
                        origin is not None and f"{origin}/" not in {
                            f"http://{host}/" for host in allowed_hosts}):
                    self._send(403, b"forbidden\n", "text/plain")
                elif self.path != "/rpc" or not rpc_url:
                    self._send(404, b"not found\n", "text/plain")
                elif self.headers.get_content_type() != "application/json":
                    self._send(415, b"JSON only\n", "text/plain")  # a cross-site form cannot
                else:
                    self._relay()

            def _relay(self) -> None:
                try:
                    length = int(self.headers.get("Content-Length", ""))
                except ValueError:
                    length = -1
                if not 0 <= length <= MAX_REQUEST_BYTES:
                    self._send(413, b"too large\n", "text/plain")
                    return
                code, answer = relay(rpc_url, self.rfile.read(length))  # type: ignore[arg-type]
                self._send(code, json.dumps(answer).encode(), "application/json")

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
        if rpc_url:
            served_config["rpcUrl"] = f"{self.url}rpc"  # the node itself stays here
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
def serve(port: int = 0, config: dict[str, Any] | None = None,
          rpc_url: str | None = None) -> Iterator[PageServer]:
    """The page served on 127.0.0.1:port (0: a free port) until the block ends; with rpc_url,
    the page reads that node through the server (its URL is never served)."""
    server = PageServer(port, config or {}, rpc_url).start()
    try:
        yield server
    finally:
        server.stop()
