"""Who may sign where, and what of an RPC URL may be shown: no node needed."""

import pytest

from zkml.errors import ChainError
from zkml.evm.rpc import (
    ANVIL_DEV_KEY,
    DEV_ADDRESSES,
    DEV_MNEMONIC,
    account_for,
    connect,
    is_local_anvil,
    redact,
)


def dev_keys():
    """The 20 accounts Hardhat funds (Anvil the first 10), derived from the mnemonic here."""
    from eth_account import Account

    Account.enable_unaudited_hdwallet_features()
    return [Account.from_mnemonic(DEV_MNEMONIC, account_path=f"m/44'/60'/0'/0/{i}").key.hex()
            for i in range(20)]


DEV_KEYS = dev_keys()


def test_every_account_a_dev_node_funds_is_listed():
    from eth_account import Account

    assert {Account.from_key(k).address for k in DEV_KEYS} == DEV_ADDRESSES
    assert len(DEV_ADDRESSES) == 20


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
