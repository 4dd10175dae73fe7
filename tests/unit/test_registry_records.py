"""Without a chain: deployments.json (registries and versions per chain), the verifier choice,
commitments as users type them, and the registry's errors as zkml names them."""

import json

import pytest

from zkml.errors import ChainError
from zkml.evm import registry
from zkml.evm.verifier import EIP170_LIMIT


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
