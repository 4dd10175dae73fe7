"""A misbehaving JSON-RPC node for tests: it answers eth_chainId and web3_clientVersion, then
fails every other request its own way (HTTP 500, a JSON-RPC error, or one byte at a time)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

ANSWERED = {"eth_chainId": "0x1", "web3_clientVersion": "Geth/v1.14.0-fake"}


def _handler(mode: str, trickle_seconds: float) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            method = request["method"]
            if mode == "trickle-all" or (mode == "trickle" and method not in ANSWERED):
                self._trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + b"x" * 40)
            elif method in ANSWERED:
                self._answer({"jsonrpc": "2.0", "id": request["id"],
                              "result": ANSWERED[method]})
            elif mode == "500":
                self.send_error(500, "Internal Server Error")
            else:
                self._answer({"jsonrpc": "2.0", "id": request["id"],
                              "error": {"code": -32000, "message": "backend unavailable"}})

        def _answer(self, body: dict) -> None:
            data = json.dumps(body).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def _trickle(self, data: bytes) -> None:
            for byte in data:
                try:
                    self.wfile.write(bytes([byte]))
                    self.wfile.flush()
                except OSError:  # the client gave up: as it should
                    return
                time.sleep(trickle_seconds)

    return Handler


@contextlib.contextmanager
def fake_node(mode: str, trickle_seconds: float = 1.0) -> Iterator[str]:
    """A node on a free loopback port, yielding its address (host:port) until the block ends.
    mode: "500", "rpc-error", "trickle" (after chain id and client version) or "trickle-all"."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(mode, trickle_seconds))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
