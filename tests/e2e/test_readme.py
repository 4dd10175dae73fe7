"""The README's command 1, its CLI tour and its Python example, run as a user would (bootstrap
is a no-op); and what keeps the README a front door and the docs true."""

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
    section = text.split("## Five minutes from Python", 1)[1]
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


def test_readme_cli_tour(breast_cancer, tmp_path):
    """Every command of the README's CLI tour, in order, as a user types them in the repo."""
    text = (ROOT / "README.md").read_text()
    block = text.split("## Five minutes with the CLI", 1)[1].split("```bash\n", 1)[1]
    commands = [line.split("  #")[0].split()
                for line in block.split("```", 1)[0].splitlines() if line.strip()]
    assert [c[:2] for c in commands] == [["zkml", s] for s in (
        "export", "compile", "setup", "prove", "verify", "onchain")]
    env = {**os.environ, "ZKML_CIRCUITS_DIR": str(built(breast_cancer, tmp_path))}
    for command in commands:
        result = subprocess.run([sys.executable, "-m", "zkml.cli", *command[1:]], cwd=ROOT,
                                env=env, capture_output=True, text=True, timeout=600)
        assert result.returncode == 0, (command, result.stderr[-3000:])
    assert "recorded on-chain" in result.stdout


def test_readme_is_a_front_door_and_the_docs_name_every_api():
    """The README stays short and links the docs, which cover every name of zkml.__all__ and
    speak of the tool as it is."""
    import re

    import zkml

    readme = (ROOT / "README.md").read_text()
    assert len(readme.splitlines()) <= 250
    for link in re.findall(r"\]\((docs/[\w.]+\.md)", readme):
        assert (ROOT / link).is_file(), link
    api = (ROOT / "docs" / "api.md").read_text()
    for name in zkml.__all__:
        assert name == "__version__" or re.search(rf"::: zkml[\w.]*\.{name}$", api, re.M), name
    history = re.compile(r"\bissue \d+|before versions|this run's|the previous run|"
                         r"\bbefore issue\b", re.I)
    for page in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        found = history.findall(page.read_text())
        assert not found, (page.name, found)
