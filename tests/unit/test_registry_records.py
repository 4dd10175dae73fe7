"""Without a chain: deployments.json (registries and versions per chain), the verifier choice,
commitments as users type them, the registry's errors as zkml names them, and the subject's
page as files and as `zkml serve` serves them, relaying its node's answers (fake nodes) without
ever serving the node's URL."""

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path
from types import SimpleNamespace

import pytest
from fake_node import fake_node

from zkml.errors import ChainError
from zkml.evm import registry
from zkml.evm.deployments import Deployments
from zkml.evm.results import duration_text, parse_commitment, utc
from zkml.evm.verifier import EIP170_LIMIT

ROOT = Path(__file__).resolve().parents[2]


def chain(chain_id=31337, identity="anvil 0x" + "01" * 32, throwaway=False):
    """What Deployments asks of an rpc.Chain (tests/integration/test_read_only.py has real
    Anvils' identities)."""
    return SimpleNamespace(chain_id=chain_id, identity=identity, throwaway=throwaway,
                           unrecorded={})


ANVIL, RESTARTED = chain(), chain(identity="anvil 0x" + "02" * 32)
MAINNET = chain(1, "genesis 0xd4e5")


def test_deployments_track_registries_and_versions_per_chain(tmp_path):
    records = Deployments(tmp_path, ANVIL)
    assert records.default_registry() is None
    records.registry("0xR")["versions"]["1"] = {"model": "breast_cancer"}
    records.registry("0xR")["versions"]["2"] = {"model": "credit_v2"}
    records.use("0xR")
    Deployments(tmp_path, MAINNET).use("0xMain")
    again = Deployments(tmp_path, ANVIL)
    assert again.default_registry() == "0xR"
    assert Deployments(tmp_path, MAINNET).default_registry() == "0xMain"
    assert again.model_of("0xR", 2) == "credit_v2"
    assert again.model_of("0xR", 3) is None
    saved = json.loads((tmp_path / "deployments.json").read_text())
    assert set(saved) == {"31337", "1"} and saved["31337"]["identity"] == ANVIL.identity


def test_another_chain_of_the_same_id_sees_no_records_and_replaces_them(tmp_path):
    """A restarted Anvil (same id, another identity) ignores the old chain's records, not an
    error; its first change replaces them. Other chains' records stay."""
    Deployments(tmp_path, ANVIL).use("0xOld")
    Deployments(tmp_path, MAINNET).use("0xMain")
    restarted = Deployments(tmp_path, RESTARTED)
    assert restarted.default_registry() is None and restarted.registries() == {}
    assert Deployments(tmp_path, ANVIL).default_registry() == "0xOld"  # unchanged
    restarted.use("0xNew")
    assert Deployments(tmp_path, ANVIL).default_registry() is None
    assert Deployments(tmp_path, RESTARTED).default_registry() == "0xNew"
    assert Deployments(tmp_path, MAINNET).default_registry() == "0xMain"


def test_a_throwaway_chain_is_remembered_while_it_lives_never_written(tmp_path):
    Deployments(tmp_path, ANVIL).use("0xKept")
    gone = chain(identity="", throwaway=True)
    throwaway = Deployments(tmp_path, gone)
    assert throwaway.default_registry() is None  # not even the live chain's
    throwaway.registry("0xGone")["versions"]["1"] = {"model": "m"}
    throwaway.use("0xGone")
    again = Deployments(tmp_path, gone)  # the same chain, later in its call
    assert again.default_registry() == "0xGone" and again.model_of("0xGone", 1) == "m"
    assert Deployments(tmp_path, ANVIL).default_registry() == "0xKept"
    assert "0xGone" not in (tmp_path / "deployments.json").read_text()


def test_an_older_zkml_file_counts_only_for_chains_that_do_not_restart(tmp_path):
    """Records without identity (an older zkml's): a chain known by its genesis block adopts
    them; an Anvil ignores them (they were another run's)."""
    (tmp_path / "deployments.json").write_text(json.dumps({
        "31337": {"default": "0xDemo", "registries": {"0xDemo": {}}},
        "1": {"default": "0xMain", "registries": {"0xMain": {"versions": {"1": {
            "model": "credit"}}}}}}))
    assert Deployments(tmp_path, ANVIL).default_registry() is None
    mainnet = Deployments(tmp_path, MAINNET)
    assert mainnet.default_registry() == "0xMain" and mainnet.model_of("0xMain", 1) == "credit"
    mainnet.use("0xMain")
    assert json.loads((tmp_path / "deployments.json").read_text())["1"]["identity"] == \
        MAINNET.identity


@pytest.mark.parametrize("text", ["[]", "{", '{"1": 5}', '{"1": {"registries": 1}}',
                                  '{"1": {"default": 7}}', '{"1": {"identity": 7}}',
                                  '{"1": {"default": "0xA", "default": "0xB"}}'])
def test_malformed_deployments_are_rewritten_not_a_traceback(tmp_path, text):
    (tmp_path / "deployments.json").write_text(text)
    records = Deployments(tmp_path, MAINNET)  # adopts a record without identity
    assert records.default_registry() is None
    records.use("0xR")
    assert Deployments(tmp_path, MAINNET).default_registry() == "0xR"


def test_verifier_choice():
    assert registry.choose_verifier("auto", EIP170_LIMIT) is False  # own: cheaper per proof
    assert registry.choose_verifier("auto", EIP170_LIMIT + 1) is True  # own cannot deploy
    assert registry.choose_verifier("own", 10**6) is False
    assert registry.choose_verifier("shared", 100) is True
    with pytest.raises(ChainError, match="unknown verifier choice"):
        registry.choose_verifier("cheapest", 100)


def test_commitments_as_users_type_them():
    key = "0x518b0398d171b36a1eda204ccb496efb10bfdd8aeb088ceec0caa1754d5f1856"
    assert parse_commitment(key) == int(key, 16)
    assert parse_commitment(key.upper().replace("0X", "0x")) == int(key, 16)
    assert parse_commitment("12345") == 12345
    for bad in ("0x", "salt", "0xzz", hex(2**256), "-1"):
        with pytest.raises(ChainError):
            parse_commitment(bad)


def test_registry_errors_named():
    recorded = registry._explain("AlreadyRecorded", [2, 5, 1])
    assert recorded.exit_code == 3
    assert recorded.message.startswith(f"already recorded: result #1 for subject 0x{5:064x} "
                                       "in version 2")
    retired = registry._explain("VersionIsRetired", [1])
    assert "version 1 of the registry is retired" in retired.message
    assert "zkml deploy MODEL --registry" in retired.hint
    assert "NotOwner" in registry._explain("NotOwner", ["0xabc"]).message
    assert "(NoResult)" in registry._explain("NoResult", [1, 7]).message
    assert "Mystery" in registry._explain("Mystery", []).message


# ---- the subject's page ---------------------------------------------------------------------


def test_vendored_ethers_is_the_pinned_npm_file():
    from zkml import web

    for vendored, (package, inside) in web.VENDORED.items():
        installed = ROOT / "node_modules" / package / inside
        assert installed.exists(), "run scripts/bootstrap (npm ci)"
        assert (web.web_dir() / vendored).read_bytes() == installed.read_bytes()
        version = json.loads((ROOT / "node_modules" / package / "package.json").read_text())
        lock = json.loads((ROOT / "package-lock.json").read_text())["packages"]
        assert lock[f"node_modules/{package}"]["version"] == version["version"]
        assert lock[f"node_modules/{package}"]["integrity"].startswith("sha512-")
        assert json.loads((ROOT / "package.json").read_text())["dependencies"][package] == \
            version["version"]  # pinned exactly


def test_the_page_loads_nothing_from_elsewhere():
    from zkml import web

    html = (web.web_dir() / "index.html").read_text()
    for tag in ("<script", "<link", "<img", "<iframe"):
        for chunk in html.split(tag)[1:]:
            attributes = chunk.split(">", 1)[0]
            assert "http" not in attributes and "//" not in attributes, attributes
    assert "innerHTML" not in (web.web_dir() / "app.js").read_text()  # labels come from chain
    for _, (name, _) in web.FILES.items():
        assert (web.web_dir() / name).is_file()


def _get(url, host=None, body=None, headers=None):
    """GET, or POST `body`: (status, headers, body)."""
    request = urllib.request.Request(url, data=body, headers={
        **({"Host": host} if host else {}), **(headers or {})})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def _post(server, payload, **headers):
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    return _get(server.url + "rpc", body=body,
                headers={"Content-Type": "application/json", **headers})


def _ask(server, method, params=()):
    status, _, body = _post(server, {"jsonrpc": "2.0", "id": 7, "method": method,
                                     "params": list(params)})
    assert status == 200, body
    answer = json.loads(body)
    assert answer["id"] == 7 and answer["jsonrpc"] == "2.0"
    return answer


SECRETS = ("hunter2", "KEY0123456789", "apikeyvalue", "dXNlcjpodW50ZXIy")  # the last: base64


def node_url(address):
    return f"http://user:hunter2@{address}/v3/KEY0123456789?apikey=apikeyvalue"


def test_serve_serves_the_page_and_nothing_else():
    from zkml import web

    config = {"registry": "0x" + "ab" * 20}
    with web.serve(0, config) as server:
        assert server.url.startswith("http://127.0.0.1:")
        status, headers, body = _get(server.url)
        assert status == 200 and b'id="drop-zone"' in body
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        status, _, body = _get(server.url + "config.json")
        assert status == 200 and json.loads(body) == config  # no node: the page asks for one
        assert _post(server, {"method": "eth_chainId"})[0] == 404  # and relays nothing
        status, _, body = _get(server.url + "vendor/ethers.umd.min.js")
        assert hashlib.sha256(body).digest() == hashlib.sha256(
            (web.web_dir() / "vendor/ethers.umd.min.js").read_bytes()).digest()
        for path in ("../pyproject.toml", "__init__.py", "vendor/", "%2e%2e/README.md"):
            assert _get(server.url + path)[0] == 404, path
        # a page elsewhere, rebinding its name onto the loopback address, is refused
        assert _get(server.url, host="evil.example:80")[0] == 403
    with pytest.raises(OSError):
        _get(server.url)  # stopped


def test_serve_relays_the_pages_reads_and_never_serves_the_node_url(monkeypatch):
    """The node's URL carries a password and API keys: the page gets the server's own /rpc,
    which relays only the read-only methods app.js calls; no body or header of any answer
    (files, config.json, relayed answers, refusals, a node's error echoing what it was sent, a
    node past its deadline, a dead node) holds a credential."""
    from zkml import web
    from zkml.evm import rpc

    monkeypatch.setattr(rpc, "RPC_TIMEOUT_SECONDS", 1)
    seen = []

    def check(status, headers, body):
        text = (json.dumps(headers) + body.decode(errors="replace"))
        assert not [s for s in SECRETS if s in text], text
        seen.append(status)
        return status, headers, body

    answers = {"eth_blockNumber": "0x10", "eth_call": "0x" + "00" * 31 + "02",
               "eth_getLogs": []}
    with fake_node("answer", answer=lambda method, params: answers[method]) as address, \
            web.serve(0, {"registry": "0x" + "ab" * 20}, node_url(address)) as server:
        for path in list(web.FILES) + ["/config.json", "/nothing"]:
            check(*_get(server.url + path.lstrip("/")))
        config = json.loads(_get(server.url + "config.json")[2])
        assert config["rpcUrl"] == server.url + "rpc"
        assert _ask(server, "eth_chainId")["result"] == "0x1"
        assert _ask(server, "eth_blockNumber")["result"] == "0x10"
        assert _ask(server, "eth_call", [{"to": "0x" + "ab" * 20, "data": "0x"}, "latest"]
                    )["result"] == answers["eth_call"]
        assert _ask(server, "eth_getLogs", [{}])["result"] == []
        for method in ("eth_sendRawTransaction", "eth_accounts", "anvil_setBalance", None):
            refused = _ask(server, method)
            assert refused["error"]["code"] == -32601 and "relays only" in \
                refused["error"]["message"]
        for bad in (b"{", b"[]", b'{"method": "eth_call", "params": 5}'):
            assert check(*_post(server, bad))[0] == 400
        # not the page's own request: a form from elsewhere, another origin, another host
        assert check(*_post(server, {"method": "eth_chainId"},
                            **{"Content-Type": "text/plain"}))[0] == 415
        assert check(*_post(server, {"method": "eth_chainId"},
                            Origin="https://evil.example"))[0] == 403
        assert check(*_post(server, {"method": "eth_chainId"}, Host="evil.example:80"))[0] \
            == 403
        assert _post(server, {"jsonrpc": "2.0", "id": 1, "method": "eth_chainId"},
                     Origin=server.url.rstrip("/"))[0] == 200  # the page's own
    with fake_node("echo") as address, web.serve(0, {}, node_url(address)) as server:
        status, headers, body = check(*_post(server, {"jsonrpc": "2.0", "id": 1,
                                                      "method": "eth_call", "params": []}))
        assert "no access for" in json.loads(body)["error"]["message"]  # scrubbed, relayed
    with fake_node("trickle") as address, web.serve(0, {}, node_url(address)) as server:
        status, headers, body = check(*_post(server, {"jsonrpc": "2.0", "id": 1,
                                                      "method": "eth_blockNumber"}))
        assert json.loads(body)["error"]["message"] == "did not answer eth_blockNumber within 1 s"
    from zkml.evm.anvil import free_port

    with web.serve(0, {}, node_url(f"127.0.0.1:{free_port()}")) as server:
        status, headers, body = check(*_post(server, {"jsonrpc": "2.0", "id": 1,
                                                      "method": "eth_chainId"}))
        assert "is unreachable" in json.loads(body)["error"]["message"]
    assert len(seen) > 15


def test_page_config_refuses_nonsense():
    from zkml import web

    with pytest.raises(ChainError):
        web.page_config(None, "0x1234")
    with pytest.raises(ChainError):
        web.page_config("ftp://node", None)
    with pytest.raises(ChainError):
        web.serve(0, {}, "ftp://node").__enter__()
    from web3 import Web3

    address = "0x" + "ab" * 20
    assert web.page_config(None, address) == {"registry": Web3.to_checksum_address(address)}


def test_activation_delays_as_users_type_them():
    day = 86_400
    for text, seconds in [("0", 0), ("2d", 2 * day), ("48h", 2 * day), ("90m", 5_400),
                          ("45s", 45), ("1w", 7 * day), ("1d12h", 36 * 3_600), ("3600", 3_600),
                          (" 2D ", 2 * day), (7, 7), ("365d", 365 * day)]:
        assert registry.parse_activation_delay(text) == seconds, text
    for bad in ("", "soon", "-1", "2 days", "1.5h", "d", "366d", 365 * day + 1, "h2"):
        with pytest.raises(ChainError):
            registry.parse_activation_delay(bad)
    assert [duration_text(s) for s in (0, 45, 5_400, 36 * 3_600, 2 * day, day)] == [
        "0", "45 s", "90 minutes", "36 hours", "2 days", "1 day"]
    assert utc(0) == "1970-01-01 00:00:00 UTC"
