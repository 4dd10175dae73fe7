"""README command 1 in a subprocess, exactly as a user types it (bootstrap is a no-op here)."""

import os
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def test_readme_demo_command(tmp_path):
    env = {**os.environ, "ZKML_CIRCUITS_DIR": str(tmp_path / "circuits")}
    result = subprocess.run(
        [str(ROOT / "scripts" / "demo")], cwd=ROOT, env=env, capture_output=True, text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert "verified" in result.stdout
    assert "public output 0" in result.stdout
    assert "recorded on-chain" in result.stdout and "one transaction" in result.stdout
    assert "INSECURE SRS" in result.stderr  # the local SRS is never used silently
    produced = {p.name for p in (tmp_path / "circuits" / "breast_cancer").iterdir()}
    assert {"model.onnx", "circuit.onnx", "settings.json", "model.compiled", "fidelity.json",
            "vk.key", "pk.key", "keys.json", "proof.json", "proof.secret.json", "manifest.json",
            "Verifier.sol", "evm.json"} <= produced
    assert not [name for name in produced if name.endswith(".tmp")]
    assert not [name for name in produced if "witness" in name]
