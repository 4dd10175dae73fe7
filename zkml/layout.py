"""Where every artifact of one model lives, and the manifest that lets stages trust a cache."""

from __future__ import annotations

import contextlib
import fcntl
import functools
import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml.errors import ArtifactError

MANIFEST_VERSION = 1
_held_locks: set[str] = set()  # model folders this process holds a lock on


def default_circuits_dir() -> Path:
    return Path(os.environ.get("ZKML_CIRCUITS_DIR", "circuits"))


def default_cache_dir() -> Path:
    """Shared across models and clones: SRS files are big and slow to make, and keyed by logrows."""
    base = os.environ.get("ZKML_CACHE_DIR") or Path.home() / ".cache" / "zkml"
    return Path(base)


@dataclass(frozen=True)
class ModelLayout:
    """Paths of one model's artifacts under circuits/<name>/."""

    root: Path

    @classmethod
    def for_model(cls, name: str, circuits_dir: Path | None = None) -> ModelLayout:
        return cls((circuits_dir or default_circuits_dir()) / name)

    @property
    def name(self) -> str:
        return self.root.name

    onnx = property(lambda self: self.root / "model.onnx")
    samples = property(lambda self: self.root / "samples.json")
    export_report = property(lambda self: self.root / "export.json")
    settings = property(lambda self: self.root / "settings.json")
    calibration_data = property(lambda self: self.root / "calibration.json")
    compiled = property(lambda self: self.root / "model.compiled")
    fidelity = property(lambda self: self.root / "fidelity.json")
    optimize_report = property(lambda self: self.root / "optimize.json")  # compile --optimize
    srs_record = property(lambda self: self.root / "srs.json")
    vk = property(lambda self: self.root / "vk.key")
    pk = property(lambda self: self.root / "pk.key")
    proof = property(lambda self: self.root / "proof.json")
    manifest = property(lambda self: self.root / "manifest.json")
    verifier_sol = property(lambda self: self.root / "Verifier.sol")
    evm_build = property(lambda self: self.root / "evm.json")  # ABIs and bytecode
    deployments = property(lambda self: self.root / "deployments.json")  # per chain id

    @contextlib.contextmanager
    def lock(self, shared: bool) -> Iterator[None]:
        """Readers (prove, verify) share the model folder; a stage that writes it is alone.

        Re-entrant within a process, so a prove that verifies its own proof, or a stage that
        runs another, does not wait for itself.
        """
        key = str(self.root.resolve())
        if key in _held_locks:
            yield
            return
        self.root.mkdir(parents=True, exist_ok=True)
        with open(self.root / ".lock", "a+") as handle:
            fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
            _held_locks.add(key)
            try:
                yield
            finally:
                _held_locks.discard(key)
                fcntl.flock(handle, fcntl.LOCK_UN)

    def remove_stale_temporaries(self) -> None:
        """Temp files of a writer that was killed (SIGKILL skips cleanup); call under lock."""
        for stale in self.root.glob(".*.tmp"):
            stale.unlink(missing_ok=True)

    def require(self, *paths: Path, stage: str) -> None:
        """Fail with the command that makes a missing artifact, instead of an ezkl I/O error."""
        for path in paths:
            if not path.is_file():
                raise ArtifactError(
                    f"{path} is missing",
                    hint=f"run `zkml {stage} {self.name}` first",
                )

    def relative(self, path: Path) -> str:
        return str(path.relative_to(self.root))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


@functools.lru_cache(maxsize=64)
def _sha256_of_version(path: str, size: int, mtime_ns: int) -> str:
    return sha256_file(Path(path))


def sha256_file_stat_cached(path: Path) -> str:
    """sha256, recomputed only when the file's size or mtime changed (SRS files are large)."""
    stat = path.stat()
    return _sha256_of_version(str(path.resolve()), stat.st_size, stat.st_mtime_ns)


@contextlib.contextmanager
def atomic_path(target: Path, private: bool = False) -> Iterator[Path]:
    """Yield a temporary sibling of target; move it into place only if the block succeeds.

    An interrupted or failed stage then never leaves a half-written artifact behind. private
    files (anything holding inputs or sample records) stay owner-only.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    if not private:
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp_path, 0o666 & ~umask)  # mkstemp's 0600 is for secrets only
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_json(path: Path, data: Any, private: bool = False) -> None:
    with atomic_path(path, private) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def read_json(path: Path, what: str) -> Any:
    try:
        return json.loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"{what} not found: {path}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ArtifactError(f"{what} is not valid JSON: {path} ({exc})") from None


class Manifest:
    """circuits/<name>/manifest.json: per stage, the key it was built from and its outputs' digests.

    A stage is fresh when its key (a hash of its inputs' digests and options) matches and each
    output still has the recorded size and sha256. Digests are re-read only when size or mtime
    changed, so a cached check of a 100 MB proving key costs a stat, not a hash.
    """

    def __init__(self, layout: ModelLayout):
        self.layout = layout
        self.data: dict[str, Any] = {"version": MANIFEST_VERSION, "stages": {}, "files": {}}
        if layout.manifest.is_file():
            with contextlib.suppress(Exception):
                loaded = json.loads(layout.manifest.read_text())
                if loaded.get("version") == MANIFEST_VERSION:
                    self.data = loaded

    def _name(self, path: Path) -> str:
        return self.layout.relative(path) if path.is_relative_to(self.layout.root) else path.name

    def digest(self, path: Path) -> str:
        rel = self.layout.relative(path) if path.is_relative_to(self.layout.root) else str(path)
        stat = path.stat()
        known = self.data["files"].get(rel)
        if known and known["size"] == stat.st_size and known["mtime_ns"] == stat.st_mtime_ns:
            return known["sha256"]
        sha = sha256_file(path)
        self.data["files"][rel] = {
            "size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": sha
        }
        return sha

    def stage_key(self, inputs: list[Path], options: dict[str, Any]) -> str:
        # named relative to the model folder (or by file name outside it), so a moved or copied
        # folder stays fresh: only content and options decide
        names = [self._name(p) for p in inputs]
        material = {"inputs": dict(zip(names, map(self.digest, inputs), strict=True)),
                    "options": options}
        return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()

    def is_fresh(self, stage: str, key: str) -> bool:
        record = self.data["stages"].get(stage)
        if not record or record["key"] != key:
            return False
        for rel, sha in record["outputs"].items():
            path = self.layout.root / rel
            if not path.is_file() or self.digest(path) != sha:
                return False
        return True

    def record(self, stage: str, key: str, outputs: list[Path], seconds: float) -> None:
        self.data["stages"][stage] = {
            "key": key,
            "outputs": {self.layout.relative(p): self.digest(p) for p in outputs},
            "seconds": round(seconds, 3),
        }
        self.save()

    def invalidate_from(self, stages: list[str]) -> None:
        for stage in stages:
            self.data["stages"].pop(stage, None)

    def save(self) -> None:
        self.data["files"] = {
            rel: info
            for rel, info in self.data["files"].items()
            if (self.layout.root / rel).is_file() or Path(rel).is_absolute()
        }
        write_json(self.layout.manifest, self.data)
