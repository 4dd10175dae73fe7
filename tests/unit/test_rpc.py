"""The one guarded path to a node, against misbehaving fake nodes: every failure is one line
with the URL redacted, and every request ends within its deadline."""

import time

import pytest
from fake_node import fake_node

from zkml.errors import ChainError
from zkml.evm import rpc

SECRETS = ("user", "hunter2", "KEY0123456789", "apikeyvalue")
KEY = "0x" + "42" * 32  # not a dev key: a node that is not a local Anvil needs one


def url_of(address):
    return f"http://user:hunter2@{address}/v3/KEY0123456789?apikey=apikeyvalue"


@pytest.mark.parametrize(("mode", "reason"), [
    ("500", "answered eth_getTransactionCount with HTTP 500"),
    ("rpc-error", "refused eth_getTransactionCount: backend unavailable"),
])
def test_a_failing_node_is_one_line_without_credentials(monkeypatch, mode, reason):
    monkeypatch.setenv(rpc.KEY_ENV, KEY)
    with fake_node(mode) as address:
        chain = rpc.connect(url_of(address))
        with pytest.raises(ChainError) as info:
            rpc.send(chain, {"to": "0x" + "11" * 20, "data": "0x"})
    message = f"{info.value.message} {info.value.hint}"
    assert reason in message and "\n" not in message
    assert f"http://***@{address}/v3/***?apikey=***" in message
    assert not [s for s in SECRETS if s in message]


def test_a_trickling_node_is_cut_off_at_the_deadline(monkeypatch):
    """One byte a second never trips a per-read timeout; the request's deadline does."""
    monkeypatch.setenv(rpc.KEY_ENV, KEY)
    monkeypatch.setattr(rpc, "RPC_TIMEOUT_SECONDS", 2)
    with fake_node("trickle") as address:
        chain = rpc.connect(url_of(address))  # chain id and client version answer at once
        start = time.monotonic()
        with pytest.raises(ChainError, match="did not answer eth_getTransactionCount within 2 s"):
            rpc.send(chain, {"to": "0x" + "11" * 20, "data": "0x"})
        assert time.monotonic() - start < 4
    with fake_node("trickle-all") as address:
        start = time.monotonic()
        with pytest.raises(ChainError, match=r"reach .*: it did not answer eth_chainId within"):
            rpc.connect(url_of(address))
        assert time.monotonic() - start < 4


def test_a_dripping_node_is_cut_off_at_the_deadline_and_says_so(monkeypatch):
    """Its headers at once, then its (valid) answer a byte every half second: the deadline cuts
    it mid-answer, and the error names the deadline, not a malformed answer."""
    monkeypatch.setenv(rpc.KEY_ENV, KEY)
    monkeypatch.setattr(rpc, "RPC_TIMEOUT_SECONDS", 2)
    with fake_node("drip", trickle_seconds=0.5) as address:
        chain = rpc.connect(url_of(address))
        start = time.monotonic()
        with pytest.raises(ChainError) as info:
            rpc.send(chain, {"to": "0x" + "11" * 20, "data": "0x"})
        assert time.monotonic() - start < 4
    assert "did not answer eth_getTransactionCount within 2 s" in info.value.message
    assert "JSON-RPC answer" not in info.value.message


def test_reading_needs_no_key(monkeypatch):
    """A node that is no local Anvil: connecting to read asks for no key; signing does."""
    monkeypatch.delenv(rpc.KEY_ENV, raising=False)
    with fake_node("rpc-error") as address:
        chain = rpc.connect(url_of(address), signing=False)
        assert chain.chain_id == 1 and not chain.local
        with pytest.raises(ChainError, match=f"no signing key is set — export {rpc.KEY_ENV}"):
            chain.account  # noqa: B018 - asked for by the first transaction
        with pytest.raises(ChainError, match="no signing key is set"):
            rpc.connect(url_of(address))


def test_scrub_removes_every_part_of_the_url_that_redact_hides():
    url = "https://alice:s3cret@rpc.example/v2/AbCdEf123456?key=zzz999&plain=yes#frag"
    echoed = (f"500 Server Error for url: {url} (user alice, token AbCdEf123456, s3cret; "
              "Authorization: Basic YWxpY2U6czNjcmV0)")
    scrubbed = rpc.scrub(echoed, url)
    for secret in ("alice", "s3cret", "AbCdEf123456", "zzz999", "frag", "YWxpY2U6czNjcmV0"):
        assert secret not in scrubbed
    assert "rpc.example" in scrubbed
