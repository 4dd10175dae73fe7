"""The README's command 1 and its Python example, run as a user would (bootstrap is a no-op)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.integration


def built(breast_cancer, tmp_path):
    """A copy of the session's built default model: the README's commands then find compile
    and setup cached, as on a second run (the wheel test runs from nothing)."""
    import shutil

    shutil.copytree(breast_cancer.root, tmp_path / "circuits" / "breast_cancer")
    return tmp_path / "circuits"


def test_readme_demo_command(breast_cancer, tmp_path):
    env = {**os.environ, "ZKML_CIRCUITS_DIR": str(built(breast_cancer, tmp_path))}
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


def test_readme_python_example(breast_cancer, tmp_path):
    """The README's Python section, run as a user would paste it."""
    text = (ROOT / "README.md").read_text()
    section = text.split("## From Python", 1)[1]
    code = section.split("```python\n", 1)[1].split("```", 1)[0]
    circuits = built(breast_cancer, tmp_path / "work")
    env = {**os.environ, "ZKML_CIRCUITS_DIR": str(circuits)}
    result = subprocess.run([sys.executable, "-c", code], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stderr == ""  # the library never prints; progress=print does, on stdout
    printed = result.stdout.splitlines()
    for stage in ("export", "compile", "setup", "prove", "verify", "onchain"):
        assert f"{stage} …" in printed  # as it starts, then one line as it ends
        (done,) = [line for line in printed if line.startswith(f"{stage}: ")]
        assert "=" not in done.split(" (")[0]  # a sentence, not a dataclass's repr
    (compiled,) = [line for line in printed if line.startswith("compile: ")]
    assert "worst output 0: max |error| " in compiled and "budget " in compiled
    (outputs,) = [line for line in printed if line.startswith("[[")]
    assert int(printed[-2].split()[0]) > 0  # the gas
    assert printed[-1].startswith("version 1 (breast_cancer), active: result #1 [")
    assert (circuits / "breast_cancer" / "proof.json").stat().st_mtime > \
        breast_cancer.proof.stat().st_mtime
