"""`zkml run` checks what recording on-chain needs (the compiler, Anvil, a reachable node)
before its first stage, not after the whole pipeline has run."""

import time

import pytest
from conftest import one_line_error, zkml

from zkml.evm.anvil import free_port


@pytest.mark.parametrize(("args", "env", "fragment"), [
    (["--rpc-url", "http://127.0.0.1:{port}"], {}, "cannot reach an Ethereum RPC"),
    ([], {"SOLC": "/nonexistent/solc"}, "$SOLC points to /nonexistent/solc"),
    ([], {"ANVIL": "/nonexistent/anvil"}, "$ANVIL points to /nonexistent/anvil"),
])
def test_run_fails_before_its_first_stage(tmp_path, args, env, fragment):
    circuits = tmp_path / "circuits"
    args = [a.format(port=free_port()) for a in args]
    start = time.monotonic()
    one_line_error(zkml(circuits, "run", "iris", *args, env=env), fragment)
    assert time.monotonic() - start < 10
    assert not (circuits / "iris").exists()  # nothing was exported, let alone proved


@pytest.mark.integration
def test_deploy_checks_the_node_before_building_a_verifier(model_dir):
    root = model_dir / "breast_cancer"
    for built in ("evm.json", "Verifier.sol"):
        (root / built).unlink(missing_ok=True)
    one_line_error(zkml(model_dir, "deploy", "breast_cancer", "--rpc-url",
                        f"http://127.0.0.1:{free_port()}"), "cannot reach an Ethereum RPC")
    assert not (root / "evm.json").exists()
