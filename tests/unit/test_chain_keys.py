import pytest

from zkml.errors import ChainError
from zkml.evm.chain import ANVIL_DEV_KEY, is_local_anvil, signing_key


def test_local_means_loopback_and_anvil():
    assert is_local_anvil("http://127.0.0.1:8545", "anvil/v1.7.1")
    assert is_local_anvil("http://localhost:8545", "anvil/v1.7.1")
    assert not is_local_anvil("http://10.1.2.3:8545", "anvil/v1.7.1")
    assert not is_local_anvil("http://127.0.0.1:8545", "Geth/v1.14")


def test_dev_key_only_on_local_anvil():
    assert signing_key("http://127.0.0.1:1", True, None) == ANVIL_DEV_KEY
    with pytest.raises(ChainError, match="no signing key"):
        signing_key("https://rpc.example", False, None)
    with pytest.raises(ChainError, match="refusing to send Anvil's public dev key"):
        signing_key("https://rpc.example", False, ANVIL_DEV_KEY.upper().replace("0X", "0x"))
    assert signing_key("https://rpc.example", False, "0x" + "11" * 32) == "0x" + "11" * 32
