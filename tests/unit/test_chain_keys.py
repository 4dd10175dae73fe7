"""Who may sign where, and what of an RPC URL may be shown: no node needed."""

import pytest

from zkml.errors import ChainError
from zkml.evm.rpc import (
    ANVIL_DEV_KEY,
    DEV_ADDRESSES,
    account_for,
    connect,
    is_local_anvil,
    redact,
)

# the ten accounts Anvil and Hardhat fund from the "test test ... junk" mnemonic
DEV_KEYS = [
    "ac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
    "5de4111afa1a4b94908f83103eb1f1706367c2e68ca870fc3fb9a804cdab365a",
    "7c852118294e51e653712a81e05800f419141751be58f605c371e15141b007a6",
    "47e179ec197488593b187f80a00eb0da91f1b9d0b13f8733639f19c30a34926a",
    "8b3a350cf5c34c9194ca85829a2df0ec3153be0318b5e2d3348e872092edffba",
    "92db14e403b83dfe3df233f83dfa3a0d7096f21ca9b0d6d6b8d88b2b4ec1564e",
    "4bbbf85ce3377467afe5d46f804f221813b2bb87f24d81f60f1fcdbf7cbf4356",
    "dbda1821b80551c9d65939329250298aa3472ba22feea921c0cf5d620ea67b97",
    "2a871d0798f97d79848a013d4936a73bf4cc922c825d33c1cf7073dff6d409c6",
]


def test_local_means_loopback_and_anvil():
    assert is_local_anvil("http://127.0.0.1:8545", "anvil/v1.7.1")
    assert is_local_anvil("http://localhost:8545", "anvil/v1.7.1")
    assert not is_local_anvil("http://10.1.2.3:8545", "anvil/v1.7.1")
    assert not is_local_anvil("http://127.0.0.1:8545", "Geth/v1.14")


def test_the_dev_account_only_on_a_local_anvil():
    assert account_for("http://127.0.0.1:1", True, None).key.hex() == ANVIL_DEV_KEY[2:]
    with pytest.raises(ChainError, match="no signing key"):
        account_for("https://rpc.example", False, None)
    mine = account_for("https://rpc.example", False, "0x" + "11" * 32)
    assert mine.address not in DEV_ADDRESSES


@pytest.mark.parametrize("key", DEV_KEYS)
@pytest.mark.parametrize("spell", [lambda k: "0x" + k, lambda k: k, lambda k: "0X" + k.upper(),
                                   lambda k: f"  0x{k}\n"], ids=["0x", "bare", "upper", "spaces"])
def test_every_well_known_dev_key_is_refused_off_anvil(key, spell):
    with pytest.raises(ChainError, match="well-known Anvil/Hardhat dev key"):
        account_for("https://user:secret@rpc.example/?apikey=secret", False, spell(key))
    assert account_for("http://127.0.0.1:8545", True, spell(key)).address in DEV_ADDRESSES


@pytest.mark.parametrize(("url", "shown"), [
    ("http://user:secret@host:8545/?apikey=secret", "http://***@host:8545/?apikey=***"),
    ("https://mainnet.infura.io/v3/0123456789abcdef0123456789abcdef",
     "https://mainnet.infura.io/v3/***"),
    ("https://eth-mainnet.g.alchemy.com/v2/Abc123def456ghi789jkl012",
     "https://eth-mainnet.g.alchemy.com/v2/***"),
    ("http://127.0.0.1:8545", "http://127.0.0.1:8545"),
    ("https://rpc.example/path#token", "https://rpc.example/***#***"),
    ("https://rpc.example/v2/abcdefghijklmnopqrstuvwxyzSECRET", "https://rpc.example/v2/***"),
    ("https://rpc.example/v3/sk.live.SECRETKEY12345;token=secret", "https://rpc.example/v3/***"),
    ("http://[::1]:8545/", "http://[::1]:8545/"),
    ("http://h:99999", "<unusable URL>"),
])
def test_credentials_are_redacted(url, shown):
    assert redact(url) == shown
    assert "secret" not in redact(url).lower()


@pytest.mark.parametrize("url", ["http://192.0.2.2:18546\\@127.0.0.1:1/",
                                 "http://host:1/ x", "ftp://host/", "http://h:99999"])
def test_ambiguous_or_broken_urls_are_refused_before_any_request(url):
    with pytest.raises(ChainError, match="RPC URL"):
        connect(url)
