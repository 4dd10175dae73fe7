"""zkml as an installed package, outside this checkout: the wheel carries everything it needs
(weights, the app contract, the solc wrapper) and proves the default model from an empty folder."""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.integration, pytest.mark.slow]  # ~20 s: .ci/run runs the slow tier


def test_wheel_installed_elsewhere_runs_from_an_empty_folder(tmp_path):
    dist, target, work = tmp_path / "dist", tmp_path / "site", tmp_path / "empty"
    work.mkdir()
    source = tmp_path / "source"  # setuptools builds in the source tree: not in this checkout
    tracked = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                             check=True).stdout.decode().split("\0")
    for name in (n for n in tracked if (ROOT / n).is_file()):
        (source / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / name, source / name)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "-q", "-w", str(dist), str(source)], check=True, capture_output=True)
    (wheel,) = dist.glob("zkml-*.whl")
    subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target",
                    str(target), str(wheel)], check=True, capture_output=True)
    env = {**os.environ, "PYTHONPATH": str(target),  # ahead of this checkout's editable install
           "ZKML_NODE_MODULES": str(ROOT / "node_modules")}  # as after `npm install` there
    env.pop("ZKML_CIRCUITS_DIR", None)
    where = subprocess.run([sys.executable, "-c", "import zkml.cli; print(zkml.cli.__file__)"],
                           cwd=work, env=env, capture_output=True, text=True, check=True)
    assert where.stdout.startswith(str(target))
    run = subprocess.run([sys.executable, "-m", "zkml.cli", "run", "--no-chain"], cwd=work,
                         env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "verified" in run.stdout and "proved held-out sample 0" in run.stderr
    verifier = subprocess.run([sys.executable, "-m", "zkml.cli", "verifier", "breast_cancer"],
                              cwd=work, env=env, capture_output=True, text=True, timeout=600)
    assert verifier.returncode == 0, verifier.stderr[-3000:]
    assert (work / "circuits" / "breast_cancer" / "evm.json").is_file()
    assert sorted(p.name for p in work.iterdir()) == ["circuits"]  # nothing else written here
