"""Without a chain: deployments.json (registries and versions per chain), the verifier choice,
commitments as users type them, the registry's errors as zkml names them, and the subject's
page as files and as `zkml serve` serves them."""

import hashlib
import json
import urllib.error
import urllib.request
from pathlib import Path

import pytest

from zkml.errors import ChainError
from zkml.evm import registry
from zkml.evm.verifier import EIP170_LIMIT

ROOT = Path(__file__).resolve().parents[2]


def test_deployments_track_registries_and_versions_per_chain(tmp_path):
    records = registry.Deployments(tmp_path)
    assert records.default_registry(31337) is None
    records.registry(31337, "0xR")["versions"]["1"] = {"model": "breast_cancer"}
    records.registry(31337, "0xR")["versions"]["2"] = {"model": "credit_v2"}
    records.use(31337, "0xR")
    records.use(1, "0xMain")
    again = registry.Deployments(tmp_path)
    assert again.default_registry(31337) == "0xR" and again.default_registry(1) == "0xMain"
    assert again.model_of(31337, "0xR", 2) == "credit_v2"
    assert again.model_of(31337, "0xR", 3) is None
    assert set(json.loads((tmp_path / "deployments.json").read_text())) == {"31337", "1"}


@pytest.mark.parametrize("text", ["[]", "{", '{"31337": 5}', '{"31337": {"registries": 1}}',
                                  '{"31337": {"default": 7}}'])
def test_malformed_deployments_are_rewritten_not_a_traceback(tmp_path, text):
    (tmp_path / "deployments.json").write_text(text)
    records = registry.Deployments(tmp_path)
    assert records.default_registry(31337) is None
    records.use(31337, "0xR")
    assert registry.Deployments(tmp_path).default_registry(31337) == "0xR"


def test_verifier_choice():
    assert registry.choose_verifier("auto", EIP170_LIMIT) is False  # own: cheaper per proof
    assert registry.choose_verifier("auto", EIP170_LIMIT + 1) is True  # own cannot deploy
    assert registry.choose_verifier("own", 10**6) is False
    assert registry.choose_verifier("shared", 100) is True
    with pytest.raises(ChainError, match="unknown verifier choice"):
        registry.choose_verifier("cheapest", 100)


def test_commitments_as_users_type_them():
    key = "0x518b0398d171b36a1eda204ccb496efb10bfdd8aeb088ceec0caa1754d5f1856"
    assert registry.parse_commitment(key) == int(key, 16)
    assert registry.parse_commitment(key.upper().replace("0X", "0x")) == int(key, 16)
    assert registry.parse_commitment("12345") == 12345
    for bad in ("0x", "salt", "0xzz", hex(2**256), "-1"):
        with pytest.raises(ChainError):
            registry.parse_commitment(bad)


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


def _get(url, host=None):
    request = urllib.request.Request(url, headers={"Host": host} if host else {})
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_serve_serves_the_page_and_nothing_else():
    from zkml import web

    config = {"rpcUrl": "http://127.0.0.1:8545", "registry": "0x" + "ab" * 20}
    with web.serve(0, config) as server:
        assert server.url.startswith("http://127.0.0.1:")
        status, headers, body = _get(server.url)
        assert status == 200 and b'id="drop-zone"' in body
        assert "script-src 'self'" in headers["Content-Security-Policy"]
        assert headers["Referrer-Policy"] == "no-referrer"
        status, _, body = _get(server.url + "config.json")
        assert status == 200 and json.loads(body) == config
        status, _, body = _get(server.url + "vendor/ethers.umd.min.js")
        assert hashlib.sha256(body).digest() == hashlib.sha256(
            (web.web_dir() / "vendor/ethers.umd.min.js").read_bytes()).digest()
        for path in ("../pyproject.toml", "__init__.py", "vendor/", "%2e%2e/README.md"):
            assert _get(server.url + path)[0] == 404, path
        # a page elsewhere, rebinding its name onto the loopback address, is refused
        assert _get(server.url, host="evil.example:80")[0] == 403
    with pytest.raises(OSError):
        _get(server.url)  # stopped


def test_page_config_refuses_nonsense():
    from zkml import web

    with pytest.raises(ChainError):
        web.page_config(None, "0x1234")
    with pytest.raises(ChainError):
        web.page_config("ftp://node", None)
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
    assert [registry.duration_text(s) for s in (0, 45, 5_400, 36 * 3_600, 2 * day, day)] == [
        "0", "45 s", "90 minutes", "36 hours", "2 days", "1 day"]
    assert registry.utc(0) == "1970-01-01 00:00:00 UTC"
