"""The pins: requirements.lock holds exactly what pip installs, the wheel's dependency ranges are
bounded and hold the locked versions, and the copyable workflow installs from the lock."""

import re
import tomllib
from importlib import metadata
from pathlib import Path

import yaml
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def locked() -> dict[str, str]:
    pins = [line.split("==") for line in (ROOT / "requirements.lock").read_text().splitlines()
            if line and not line.startswith("#")]
    return {canonicalize_name(name): version for name, version in pins}


def direct() -> list[Requirement]:
    project = PYPROJECT["project"]
    extras = [r for group in project["optional-dependencies"].values() for r in group]
    return [Requirement(r) for r in project["dependencies"] + extras]


def closure() -> set[str]:
    """Every distribution `pip install -e .[dev,ray]` with --no-build-isolation installs."""
    todo = direct() + [Requirement(r) for r in PYPROJECT["build-system"]["requires"]]
    seen: set[str] = set()
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        for text in metadata.requires(requirement.name) or []:
            needed = Requirement(text)
            extras = requirement.extras or {""}
            if needed.marker is None or any(needed.marker.evaluate({"extra": e})
                                            for e in extras):
                todo.append(needed)
    return seen


def test_the_lock_holds_exactly_what_bootstrap_installs():
    assert set(locked()) == closure()  # nothing missing (ast-serialize, setuptools), none stale


def test_every_dependency_range_is_bounded_and_holds_the_locked_version():
    pins = locked()
    for requirement in direct():
        operators = {spec.operator for spec in requirement.specifier}
        assert operators & {"<", "~=", "=="}, f"{requirement} has no upper bound"
        version = pins[canonicalize_name(requirement.name)].split("+")[0]
        assert requirement.specifier.contains(version), f"{requirement} excludes {version}"


def test_the_copyable_workflow_installs_from_the_lock_and_caches_what_changes():
    text = (ROOT / ".github" / "workflows" / "zkml.yml").read_text()
    steps = yaml.safe_load(text)["jobs"]["regress"]["steps"]
    runs = "\n".join(step.get("run", "") for step in steps)
    assert "pip install -r .zkml-src/requirements.lock" in runs and "npm ci" in runs
    python = next(s for s in steps if s.get("uses", "").startswith("actions/setup-python"))
    assert python["with"]["cache"] == "pip"
    saved = next(s for s in steps if s.get("uses", "").startswith("actions/cache/save"))
    assert "hashFiles('.zkml-cache/srs/*')" in saved["with"]["key"]  # new sizes, new key
    assert not re.search(r"@v\d+\.\d+\.\d+", text)  # no zkml release tag: none exists


def test_bootstrap_counts_every_package_however_pip_gets_it():
    """pip says Collecting (downloaded), Processing (a local wheel) or Requirement already
    satisfied: bootstrap's counter must reach its total with any mix of them."""
    import subprocess

    pins = sorted(locked().items())
    forms = [lambda n, v: f"Collecting {n}=={v} (from -r requirements.lock (line 7))",
             lambda n, v: f"Processing /opt/wheels/{n}-{v}-py3-none-any.whl (from -r x (line 8))",
             lambda n, v: f"Requirement already satisfied: {n}=={v} in ./.venv/lib (from -r x)"]
    log = "\n".join(forms[i % 3](n, v) for i, (n, v) in enumerate(pins)) + "\n"
    counted = subprocess.run([str(ROOT / "scripts" / "pip-progress"), str(len(pins))],
                             input=log, capture_output=True, text=True, check=True).stderr
    lines = counted.splitlines()
    assert len(lines) == len(pins) and lines[-1].startswith(f"  [{len(pins)}/{len(pins)}] ")
