"""The README's command 1 and its Python example, run as a user would (bootstrap is a no-op)."""

import os
import subprocess
import sys
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


def test_readme_python_example(tmp_path):
    """The README's Python section, run as a user would paste it, in an empty folder."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## From Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    env = {k: v for k, v in os.environ.items() if k != "ZKML_CIRCUITS_DIR"}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    printed = result.stdout.splitlines()
    assert len(printed) == 2 and printed[0].startswith("[[") and int(printed[1].split()[0]) > 0
    assert (tmp_path / "circuits" / "breast_cancer" / "proof.json").is_file()
