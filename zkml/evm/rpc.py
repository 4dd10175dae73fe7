"""The one guarded path to a node: every JSON-RPC request, its deadline, the account that
signs, and transactions with their gas.

Every request goes through `_request`: one overall deadline per request (a node that trickles
one byte every few seconds is cut off, not waited for), and every transport failure or refusal
by the node becomes a one-line ChainError whose URL is redacted. Only a simulated call's revert
(eth_call, eth_estimateGas) reaches web3, for the caller to decode. Reading needs no key: the
signing account is asked for only by what signs (`connect(..., signing=True)`, or the first
transaction).
"""

from __future__ import annotations

import base64
import contextlib
import functools
import http.client
import json
import os
import re
import socket
import ssl
import threading
import urllib.request
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote

from zkml.errors import ChainError
from zkml.results import inert

KEY_ENV = "ZKML_PRIVATE_KEY"
RPC_TIMEOUT_SECONDS = 15  # the whole request, from connecting to the last byte of the answer
RECEIPT_TIMEOUT_SECONDS = 120
MAX_RESPONSE_BYTES = 64 * 2**20  # far above any answer zkml asks for
REVERTING_METHODS = {"eth_call", "eth_estimateGas"}  # their errors are reverts to decode
LOOPBACK = {"127.0.0.1", "localhost", "::1"}
DEV_MNEMONIC = "test test test test test test test test test test test junk"
# The 20 accounts Hardhat funds from DEV_MNEMONIC (m/44'/60'/0'/0/0-19; Anvil funds the first
# 10): public knowledge, so their keys are only ever used on a local Anvil. Compared by address,
# so that no spelling of a key (0x or not, case, padding) slips past.
DEV_ADDRESSES = {
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC", "0x90F79bf6EB2c4f870365E785982E1f101E93b906",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9", "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f", "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720",
    "0xBcd4042DE499D14e55001CcbB24a551F3b954096", "0x71bE63f3384f5fb98995898A86B02Fb2426c5788",
    "0xFABB0ac9d68B0B445fB7357272Ff202C5651694a", "0x1CBd3b2770909D4e10f157cABC84C7264073C9Ec",
    "0xdF3e18d64BC6A983f673Ab319CCaE4f1a57C7097", "0xcd3B766CCDd6AE721141F452C550Ca635964ce71",
    "0x2546BcD3c84621e976D8185a91A922aE77ECEc30", "0xbDA5747bFD65F08deb54cb465eB87D40e51B197E",
    "0xdD2FD4581271e230360230F9337D5c0430Bf44C0", "0x8626f6940E2eb28930eFb4CeF49B2d1F2C9C1199",
}
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # account 0
_KEPT_SEGMENT = re.compile(r"^(v\d{1,2}|rpc|api|http|ws|eth|json-rpc)?$")  # never a secret


def _parts(url: str) -> Any:
    """The URL as zkml's HTTP client reads it (urllib3's parser); refused where readers could
    differ."""
    from urllib3.util import parse_url

    if any(c in url for c in "\\ \t\r\n") or not url.isprintable():
        raise ChainError("the RPC URL holds a backslash, space or control character",
                         hint="give a plain http(s)://host:port/path URL")
    try:
        parts = parse_url(url)
    except Exception:
        raise ChainError("the RPC URL cannot be parsed (check its host and port)",
                         hint="give a plain http(s)://host:port/path URL") from None
    if parts.scheme not in ("http", "https") or not parts.host:
        raise ChainError("the RPC URL must be http(s)://host[:port][/path]")
    return parts


def redact(url: str) -> str:
    """The URL without credentials: no user:password, no query or fragment values, and no path
    segment but short, well-known ones (Infura, Alchemy and others put API keys in the path)."""
    try:
        parts = _parts(url)
    except ChainError:
        return "<unusable URL>"
    host = parts.host + (f":{parts.port}" if parts.port else "")
    if parts.auth:
        host = f"***@{host}"
    path = "/".join(seg if _KEPT_SEGMENT.match(seg) else "***"
                    for seg in (parts.path or "").split("/"))
    query = "&".join(f"{pair.split('=', 1)[0]}=***" for pair in (parts.query or "").split("&")
                     if pair)
    return (f"{parts.scheme}://{host}{path}" + (f"?{query}" if query else "")
            + ("#***" if parts.fragment else ""))


def _secrets(url: str) -> list[str]:
    """What redact() hides, as it may appear in a message: longest first."""
    try:
        parts = _parts(url)
    except ChainError:
        return [url]
    found = [url, parts.auth or "", *(parts.auth or "").split(":", 1), parts.fragment or ""]
    if parts.auth:  # as the Authorization header carries it (a proxy may echo the header)
        found.append(base64.b64encode(unquote(parts.auth).encode()).decode())
    found += [seg for seg in (parts.path or "").split("/") if not _KEPT_SEGMENT.match(seg)]
    found += [pair.split("=", 1)[-1] for pair in (parts.query or "").split("&")]
    found += [unquote(s) for s in found]
    return sorted({s for s in found if len(s) >= 3}, key=len, reverse=True)


def scrub(text: str, url: str) -> str:
    """A message without the credentials the URL carries (a node or a proxy may echo them)."""
    text = text.replace(url, redact(url))
    for secret in _secrets(url):
        text = text.replace(secret, "***")
    return text


class NodeError(ChainError):
    """A request the node did not answer in time, could not be sent, or refused."""

    def __init__(self, shown: str, what: str, hint: str):
        super().__init__(f"the RPC at {shown} {what}", hint=hint)
        self.what = what  # "did not answer eth_call within 15 s", "is unreachable (...)", ...


def _web3(url: str) -> Any:
    """A web3 whose every request goes through _request (see the module's docstring)."""
    from web3 import Web3
    from web3.providers.base import JSONBaseProvider

    shown = redact(url)

    class GuardedProvider(JSONBaseProvider):
        def make_request(self, method: Any, params: Any) -> Any:
            return _request(url, shown, str(method), self.encode_rpc_request(method, params))

    return Web3(GuardedProvider())


def _request(url: str, shown: str, method: str, body: bytes,
             refusals: bool = False) -> dict[str, Any]:
    """One JSON-RPC request: its answer, or a one-line ChainError (a revert of eth_call or
    eth_estimateGas is an answer: web3 raises it for the caller to decode; with `refusals`,
    so is the node's error for any method)."""
    from zkml.layout import json_loads

    status, raw = _post(url, body, RPC_TIMEOUT_SECONDS, method, shown)
    try:
        answer = json_loads(raw.decode())
    except (UnicodeDecodeError, ValueError, RecursionError):
        answer = None
    if status >= 400 and not (isinstance(answer, dict) and "error" in answer):
        raise NodeError(shown, f"answered {method} with HTTP {status}",
                        hint="check the node and --rpc-url (its path, its API key)")
    if not isinstance(answer, dict) or not ("result" in answer or "error" in answer):
        raise NodeError(shown, f"gave no JSON-RPC answer to {method}",
                        hint="check --rpc-url: is it an Ethereum node?")
    error = answer.get("error")
    if error is not None and method not in REVERTING_METHODS and not refusals:
        text = error.get("message") if isinstance(error, dict) else error
        first = (str(text).strip().splitlines() or ["no reason given"])[0][:200]
        raise NodeError(shown, f"refused {method}: {inert(scrub(first, url))}",
                        hint=f"check that the account of {KEY_ENV} has funds on this chain"
                        if method == "eth_sendRawTransaction" else
                        "check the node (its logs, your plan's limits) and --rpc-url")
    return answer


def _post(url: str, body: bytes, deadline: float, method: str, shown: str) -> tuple[int, bytes]:
    """POST body to url; the whole exchange ends within `deadline` seconds, or the connection is
    cut (a per-read timeout would wait forever on a node that sends one byte at a time)."""
    parts = _parts(url)
    host = parts.host.strip("[]")
    port = parts.port or (443 if parts.scheme == "https" else 80)
    headers = {"Content-Type": "application/json", "Accept": "application/json"}
    if parts.auth:
        headers["Authorization"] = "Basic " + base64.b64encode(
            unquote(parts.auth).encode()).decode()
    proxy = None if urllib.request.proxy_bypass(host) else \
        urllib.request.getproxies().get(parts.scheme)
    target = parts.request_uri
    if proxy:  # as requests did: https through a CONNECT tunnel, http by absolute URL
        via = _parts(proxy)
        where, where_port = via.host.strip("[]"), via.port or 80
        if parts.scheme == "http":
            target = f"http://{parts.netloc.rpartition('@')[2]}{parts.request_uri}"
    else:
        where, where_port = host, port
    connection: http.client.HTTPConnection = (
        http.client.HTTPSConnection(where, where_port, timeout=deadline,
                                    context=ssl.create_default_context())
        if parts.scheme == "https" else
        http.client.HTTPConnection(where, where_port, timeout=deadline))
    if proxy and parts.scheme == "https":
        connection.set_tunnel(host, port)
    expired = threading.Event()

    def cut() -> None:
        expired.set()
        sock = connection.sock
        if sock is not None:
            with contextlib.suppress(OSError):  # already closed
                sock.shutdown(socket.SHUT_RDWR)

    timer = threading.Timer(deadline, cut)
    timer.daemon = True
    timer.start()
    try:
        connection.request("POST", target, body, headers)
        response = connection.getresponse()
        raw = response.read(MAX_RESPONSE_BYTES + 1)
        if expired.is_set():  # cut mid-answer: the part read is no answer
            raise TimeoutError
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or isinstance(exc, TimeoutError):
            raise NodeError(shown, f"did not answer {method} within {deadline:g} s",
                            hint="the node is stalled or overloaded: check it, or use another "
                            "--rpc-url") from None
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else \
            type(exc).__name__
        raise NodeError(shown, f"is unreachable ({reason})",
                        hint="start a node (`zkml anvil`) or check --rpc-url") from None
    finally:
        timer.cancel()
        connection.close()
    if len(raw) > MAX_RESPONSE_BYTES:
        raise NodeError(shown, f"answered {method} with over {MAX_RESPONSE_BYTES // 2**20} MB",
                        hint="check --rpc-url: is it an Ethereum node?")
    return response.status, raw


def call(url: str, method: str, params: list[Any], request_id: Any = 1,
         refusals: bool = False) -> dict[str, Any]:
    """One JSON-RPC request by the guarded path, as its answer: {"result": ...}, or an
    {"error": ...} (a revert of eth_call or eth_estimateGas; with `refusals`, the node's error
    for any method) whose strings are scrubbed of the credentials the URL carries. Anything
    else the node does wrong raises a one-line NodeError."""
    body = json.dumps({"jsonrpc": "2.0", "id": request_id, "method": method,
                       "params": params}).encode()
    answer = _request(url, redact(url), method, body, refusals)
    if answer.get("error") is not None:
        answer["error"] = _scrubbed(answer["error"], url)
    return answer


def _scrubbed(value: Any, url: str) -> Any:
    if isinstance(value, str):
        return scrub(value, url)
    if isinstance(value, dict):
        return {k: _scrubbed(v, url) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrubbed(v, url) for v in value]
    return value


@dataclass
class Chain:
    w3: Any  # web3.Web3, whose every request goes through _request
    url: str  # redacted: safe to print and store
    chain_id: int
    local: bool  # a local Anvil: its well-known dev key signs when no key is set
    client: str = ""  # web3_clientVersion
    _raw_url: str = ""  # with any credentials: never printed or stored
    throwaway: bool = False  # zkml's own Anvil for one call: nothing of it is written down
    unrecorded: dict[str, Any] = field(default_factory=dict)  # its deployments, while it lives

    def scrub(self, text: str) -> str:
        """A node's error message without the credentials its URL may carry."""
        return scrub(text, self._raw_url) if self._raw_url else text

    @functools.cached_property
    def account(self) -> Any:
        """The signing account (eth_account LocalAccount), asked for only when something is
        signed: reading a chain needs no key."""
        return account_for(self._raw_url or self.url, self.local, os.environ.get(KEY_ENV))

    @functools.cached_property
    def identity(self) -> str:
        """What tells this chain from another of the same id (deployments.json records by it):
        an Anvil's instance id, new on every start (Anvils started in the same second share
        their genesis block), else its genesis block's hash."""
        url = self._raw_url or self.url
        if self.client.lower().startswith("anvil"):
            found = call(url, "anvil_metadata", []).get("result")
            key, what = "instanceId", "anvil"
        else:
            found = call(url, "eth_getBlockByNumber", ["0x0", False]).get("result")
            key, what = "hash", "genesis"
        value = found.get(key) if isinstance(found, dict) else None
        if not isinstance(value, str) or not re.fullmatch(r"0x[0-9a-fA-F]{64}", value):
            raise ChainError(f"the RPC at {self.url} does not say which chain it is (no "
                             f"{'instance id' if what == 'anvil' else 'genesis block'})",
                             hint="check --rpc-url: is it an Ethereum node?")
        return f"{what} {value.lower()}"


def is_local_anvil(url: str, client_version: str) -> bool:
    host = (_parts(url).host or "").strip("[]")
    return host in LOOPBACK and client_version.lower().startswith("anvil")


def account_for(url: str, local: bool, configured: str | None) -> Any:
    """The dev account only on a local Anvil; anywhere else a key the user set, never a dev key."""
    from eth_account import Account

    if configured is None:
        if not local:
            raise ChainError(
                f"{redact(url)} is not a local Anvil node, and no signing key is set",
                hint=f"export {KEY_ENV}=0x... with a funded key for that chain",
            )
        return Account.from_key(ANVIL_DEV_KEY)
    try:
        account = Account.from_key(configured.strip())
    except Exception:
        raise ChainError(f"{KEY_ENV} is not a valid private key") from None
    if account.address in DEV_ADDRESSES and not local:
        raise ChainError(
            f"refusing to sign for {redact(url)} with a well-known Anvil/Hardhat dev key "
            f"({account.address}): anyone can take its funds there",
            hint=f"set {KEY_ENV} to a key of your own",
        )
    return account


def connect(url: str, expected_chain_id: int | None = None, signing: bool = True) -> Chain:
    """The node at url, checked to be on the expected chain; with `signing`, the account that
    signs is checked now (before any work a missing key would waste), else only when something
    is first signed."""
    _parts(url)  # refused before any request
    shown = redact(url)
    w3 = _web3(url)
    try:
        chain_id = w3.eth.chain_id
        client = w3.client_version
    except Exception as exc:
        why = f": it {exc.what}" if isinstance(exc, NodeError) else f" ({type(exc).__name__})"
        raise ChainError(f"cannot reach an Ethereum RPC at {shown}{why}",
                         hint="start a node (`zkml anvil`) or check --rpc-url") from None
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise ChainError(
            f"the RPC at {shown} is chain {chain_id}, not the expected chain {expected_chain_id}",
            hint="check --rpc-url and --chain-id",
        )
    chain = Chain(w3, shown, chain_id, is_local_anvil(url, client), str(client), url)
    if signing:
        chain.account  # noqa: B018 - asked for now: a missing key is said before any work
    return chain


class Reverted(ChainError):
    """A transaction was mined and reverted: the caller may know why (see registry.submit)."""

    def __init__(self, tx_hash: str, block: int):
        super().__init__(f"transaction {tx_hash} reverted")
        self.tx_hash, self.block = tx_hash, block


def send(chain: Chain, tx: dict[str, Any]) -> Any:
    """Sign, send and wait for a transaction; a refusal by the node (e.g. no funds), one that
    is not mined, or a revert (Reverted) raises ChainError."""
    try:
        tx = {
            "from": chain.account.address,
            "nonce": chain.w3.eth.get_transaction_count(chain.account.address),
            "chainId": chain.chain_id,
            **tx,
        }
        if "gas" not in tx:
            tx["gas"] = chain.w3.eth.estimate_gas(tx)
        if "gasPrice" not in tx and "maxFeePerGas" not in tx:
            tx["gasPrice"] = chain.w3.eth.gas_price
        signed = chain.account.sign_transaction(tx)
        tx_hash = chain.w3.eth.send_raw_transaction(signed.raw_transaction)
        receipt = chain.w3.eth.wait_for_transaction_receipt(tx_hash,
                                                           timeout=RECEIPT_TIMEOUT_SECONDS)
    except ChainError:
        raise
    except Exception as exc:
        from web3.exceptions import TimeExhausted

        if isinstance(exc, TimeExhausted):
            raise ChainError(f"the transaction was not mined within {RECEIPT_TIMEOUT_SECONDS} s",
                             hint="is the node mining? (a local Anvil mines on its own)"
                             ) from None
        raise ChainError("the node refused the transaction: "
                         f"{inert(chain.scrub(str(exc)))[:300]}",
                         hint=f"check that the account of {KEY_ENV} has funds on this chain"
                         ) from None
    if receipt["status"] != 1:
        raise Reverted("0x" + bytes(tx_hash).hex(), int(receipt["blockNumber"]))
    return receipt


def deploy(chain: Chain, contract_build: dict[str, Any], *args: Any) -> tuple[str, int]:
    """Deploy a compiled contract ({abi, bytecode, runtime_size}); return address and gas used."""
    abi, bytecode = contract_build["abi"], contract_build["bytecode"]
    data = chain.w3.eth.contract(abi=abi, bytecode=bytecode).constructor(*args) \
        .data_in_transaction  # encoded here: building it asks the node nothing
    try:
        receipt = send(chain, {"data": data, "gas": 30_000_000})
    except ChainError as exc:
        too_large = isinstance(exc, Reverted) or "size" in exc.message.lower()
        raise ChainError(
            f"deploying a contract of {contract_build['runtime_size']} bytes failed: "
            f"{exc.message}",
            hint="a contract above 24 KB needs the optimizer and, on a local node, Anvil's "
            "--code-size-limit raised" if too_large else exc.hint,
        ) from None
    return receipt["contractAddress"], receipt["gasUsed"]
