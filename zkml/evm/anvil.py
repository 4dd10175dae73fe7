"""A local Anvil node on a free loopback port, started, checked and always stopped."""

from __future__ import annotations

import ctypes
import json
import signal
import socket
import subprocess
import time
import urllib.request
from pathlib import Path
from types import TracebackType

from zkml.errors import ChainError
from zkml.evm import tools

# EIP-170 caps contracts at 24 KB; verifiers of larger circuits exceed it, so the local node
# lifts the cap (and zkml warns that such a verifier will not deploy on mainnet).
CODE_SIZE_LIMIT = 1_000_000
STARTUP_SECONDS = 20


_libc = ctypes.CDLL("libc.so.6", use_errno=True)
PR_SET_PDEATHSIG = 1


def _die_with_parent() -> None:
    """In the node's process before exec: be killed when the thread that started it dies."""
    _libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def rpc(url: str, method: str, params: list | None = None, timeout: float = 5) -> object:
    """One JSON-RPC call without web3, for readiness checks."""
    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params or []})
    request = urllib.request.Request(url, body.encode(), {"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=timeout) as response:
        return json.loads(response.read())["result"]


class Anvil:
    """`with Anvil() as node:` runs a throwaway chain at node.url; it stops on exit, error or ^C.
    `host` is the loopback address it listens on (zkml signs with Anvil's dev key only at
    127.0.0.1, localhost or ::1: see rpc.is_local_anvil)."""

    def __init__(self, binary: Path | None = None, code_size_limit: int = CODE_SIZE_LIMIT,
                 host: str = "127.0.0.1"):
        self.binary = binary or tools.find("anvil")
        self.code_size_limit = code_size_limit
        self.host = host
        self.process: subprocess.Popen[bytes] | None = None
        self.url = ""

    def __enter__(self) -> Anvil:
        for _attempt in range(3):  # the free port can be taken between probe and bind
            port = free_port(self.host)
            self.url = f"http://{self.host}:{port}"
            self.process = subprocess.Popen(
                [str(self.binary), "--host", self.host, "--port", str(port), "--silent",
                 "--code-size-limit", str(self.code_size_limit)],
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
                start_new_session=True,  # ^C reaches zkml, which then stops the node itself
                preexec_fn=_die_with_parent,  # and a SIGKILLed zkml takes its node along
            )
            try:
                if self._wait_ready():
                    return self
            except BaseException:
                self.stop()
                raise
        raise ChainError("Anvil did not start on a free loopback port after 3 tries")

    def _wait_ready(self) -> bool:
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:  # type: ignore[union-attr]
                error = self.process.stderr.read().decode(errors="replace")  # type: ignore[union-attr]
                if "in use" in error:
                    return False
                raise ChainError(f"Anvil exited at start: {error.strip()[:300]}")
            try:
                client = str(rpc(self.url, "web3_clientVersion", timeout=1))
            except OSError:
                time.sleep(0.1)
                continue
            if not client.lower().startswith("anvil"):
                raise ChainError(f"{self.binary} answered as {client!r}, not Anvil")
            return True
        self.stop()
        raise ChainError(f"Anvil did not answer at {self.url} within {STARTUP_SECONDS} s")

    def wait(self) -> None:
        """Until the node exits (or Ctrl-C)."""
        if self.process is not None:
            self.process.wait()

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        if self.process and self.process.stderr:
            self.process.stderr.close()

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()
