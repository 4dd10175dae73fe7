"""Misbehaving JSON-RPC nodes for tests. Each answers eth_chainId and web3_clientVersion, then
every other request its own way: HTTP 500, a JSON-RPC error, one byte at a time (the whole
answer, or only its body: a drip), an error echoing the credentials it was sent, or as a
registry whose answers the test writes (possibly inconsistent ones)."""

from __future__ import annotations

import contextlib
import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ANSWERED = {"eth_chainId": "0x1", "web3_clientVersion": "Geth/v1.14.0-fake"}
GENESIS = {"hash": "0x" + "ab" * 32, "number": "0x0"}

# (method, params) -> the JSON-RPC result
Answer = Callable[[str, list], Any]


class Refused(Exception):
    """Raised by an Answer: the node answers with this JSON-RPC error (a revert: data)."""

    def __init__(self, message: str, data: str | None = None):
        super().__init__(message)
        self.error = {"code": 3, "message": message, **({"data": data} if data else {})}


def _handler(mode: str, trickle_seconds: float, answer: Answer | None,
             message: str) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # quiet
            pass

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            method = request["method"]
            if mode == "trickle-all" or (mode == "trickle" and method not in ANSWERED):
                self._trickle(b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n" + b"x" * 40)
            elif mode == "drip" and method not in ANSWERED:
                body = json.dumps({"jsonrpc": "2.0", "id": request["id"], "result": "0x1"})
                self.wfile.write(f"HTTP/1.1 200 OK\r\nContent-Length: {len(body)}\r\n"
                                 "Content-Type: application/json\r\n\r\n".encode())
                self._trickle(body.encode())
            elif method in ANSWERED:
                self._answer({"jsonrpc": "2.0", "id": request["id"],
                              "result": ANSWERED[method]})
            elif mode == "answer" and answer is not None:
                try:
                    reply = {"result": answer(method, request["params"])}
                except Refused as refused:
                    reply = {"error": refused.error}
                self._answer({"jsonrpc": "2.0", "id": request["id"], **reply})
            elif mode == "500":
                self.send_error(500, "Internal Server Error")
            elif mode == "echo":  # as a careless proxy does: what it was sent, in its error
                self._answer({"jsonrpc": "2.0", "id": request["id"], "error": {
                    "code": -32000, "message": f"no access for {self.path} with "
                    f"{self.headers.get('Authorization')}", "data": self.path}})
            else:
                self._answer({"jsonrpc": "2.0", "id": request["id"],
                              "error": {"code": -32000, "message": message}})

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
def fake_node(mode: str, trickle_seconds: float = 1.0, answer: Answer | None = None,
              message: str = "backend unavailable") -> Iterator[str]:
    """A node on a free loopback port, yielding its address (host:port) until the block ends.
    mode: "500", "rpc-error" (its error: `message`), "trickle" (after chain id and client
    version), "trickle-all",
    "drip" (headers at once, then the body byte by byte), "echo" (an error quoting the path and
    Authorization header it was sent) or "answer" (every other request answered by
    `answer(method, params)`)."""
    server = ThreadingHTTPServer(("127.0.0.1", 0),
                                 _handler(mode, trickle_seconds, answer, message))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def registry_answers(info: dict[str, Any], outputs: list[int],
                     raw: dict[str, str | Refused] | None = None) -> Answer:
    """A node on which every address holds a registry with one version, `info` (versionInfo's
    fields by name, as the test wants them: consistent or not), that recorded `outputs` for
    every commitment. `raw` answers a view by name with these bytes (hex) instead, or refuses
    it (a Refused: a revert)."""
    from eth_abi import decode, encode
    from eth_utils import function_signature_to_4byte_selector

    from zkml.evm.verifier import registry_build

    views = {}
    for item in registry_build()["abi"]:
        if item.get("type") == "function":
            inputs = ",".join(_abi_type(i) for i in item["inputs"])
            selector = function_signature_to_4byte_selector(f"{item['name']}({inputs})").hex()
            views[selector] = item
    results = {"versionCount": [1], "owner": ["0x" + "11" * 20], "hasResult": [True],
               "resultOf": [outputs], "resultIdOf": [1], "resultBlockOf": [1], "deployedAt": [1],
               "versionInfo": [tuple(info[o["name"]] for o in _version_struct(views))],
               "activationDelaySeconds": [0], "currentResultOf": [1, outputs],
               "latestActiveVersion": [1]}

    def answer(method: str, params: list) -> Any:
        if method == "eth_getCode":
            return "0x6080"
        if method == "eth_getBlockByNumber":
            return GENESIS
        if method == "eth_getLogs":
            return []
        if method != "eth_call":
            raise AssertionError(f"unexpected {method}")
        data = params[0].get("data") or params[0].get("input")
        item = views[data[2:10]]
        decode([_abi_type(i) for i in item["inputs"]], bytes.fromhex(data[10:]))  # well formed
        if raw and item["name"] in raw:
            if isinstance(raw[item["name"]], Refused):
                raise raw[item["name"]]
            return raw[item["name"]]
        return "0x" + encode([_abi_type(o) for o in item["outputs"]],
                             results[item["name"]]).hex()

    return answer


def _version_struct(views: dict[str, Any]) -> list[dict[str, Any]]:
    (item,) = [v for v in views.values() if v["name"] == "versionInfo"]
    return item["outputs"][0]["components"]


def _abi_type(item: dict[str, Any]) -> str:
    """An ABI parameter's canonical type: a struct as its tuple of component types."""
    if not item["type"].startswith("tuple"):
        return item["type"]
    inner = ",".join(_abi_type(c) for c in item["components"])
    return f"({inner}){item['type'][len('tuple'):]}"


def good_version(**changes: Any) -> dict[str, Any]:
    """versionInfo's fields for a classifier of two labelled outputs, with `changes`."""
    info = {"verifier": "0x" + "22" * 20, "vka": "0x" + "00" * 20, "active": True,
            "commitmentsInProof": True, "subjects": 1, "instanceCount": 2,
            "outputsPerSubject": 2, "resultCount": 1, "vkHash": b"\1" * 32,
            "modelDigest": b"\2" * 32, "proofBytes": 100, "addedBlock": 1, "retiredBlock": 0,
            "weightsCommitment": [], "outputLengths": [2], "outputScales": [7],
            "labels": ["malignant", "benign"], "activatesAt": 0, "verifierCodeHash": b"\3" * 32,
            "commitmentPoints": 1, "commitmentStride": 1}
    return {**info, **changes}
