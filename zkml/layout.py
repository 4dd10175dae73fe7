"""Where every artifact lives, named once; the manifest that lets stages trust a cache; atomic
writes; and private scratch folders.

Every file name zkml writes appears in this module and nowhere else.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import functools
import hashlib
import json
import os
import re
import shutil
import sys
import tempfile
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml import _janitor
from zkml.errors import ArtifactError

MANIFEST_VERSION = 2  # 2: file digests keyed by size, mtime, ctime and inode
_locks_held = threading.local()  # per thread: the folders it holds a lock on
# a model name is a folder name and part of contract names: no separators, no dot-files, no ..
_MODEL_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,99}$")
SCRATCH_PREFIX = "zkml-"


def default_circuits_dir() -> Path:
    return Path(os.environ.get("ZKML_CIRCUITS_DIR", "circuits"))


def default_cache_dir() -> Path:
    """Shared across models and clones: SRS files are big and slow to make, and keyed by logrows."""
    base = os.environ.get("ZKML_CACHE_DIR") or Path.home() / ".cache" / "zkml"
    return Path(base)


def check_model_name(name: str) -> str:
    """Refuse names that would put artifacts outside the circuits folder."""
    if not isinstance(name, str) or not _MODEL_NAME.fullmatch(name) or ".." in name:
        raise ArtifactError(
            f"{name!r} is not a usable model name",
            hint="use letters, digits, '_', '-' and '.', starting with a letter or digit "
            "(pass --name to choose one)",
        )
    return name


@contextlib.contextmanager
def folder_lock(folder: Path, shared: bool) -> Iterator[None]:
    """Readers share a folder; a writer is alone. Re-entrant within a thread, so a prove that
    verifies its own proof, or a stage that runs another, does not wait for itself."""
    key = str(folder.resolve())
    held: set[str] = _locks_held.__dict__.setdefault("folders", set())
    if key in held:
        yield
        return
    folder.mkdir(parents=True, exist_ok=True)
    try:  # never through a symbolic link: it could point anywhere
        fd = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as exc:
        if exc.errno != errno.ELOOP:
            raise
        raise ArtifactError(f"{folder / '.lock'} is a symbolic link, which zkml does not follow",
                            hint="remove it: zkml makes its own lock file") from None
    with os.fdopen(fd, "r") as handle:
        fcntl.flock(handle, fcntl.LOCK_SH if shared else fcntl.LOCK_EX)
        held.add(key)
        try:
            yield
        finally:
            held.discard(key)
            fcntl.flock(handle, fcntl.LOCK_UN)


def remove_stale_temporaries(folder: Path) -> None:
    """Temp files of a writer that was killed (SIGKILL skips cleanup); call under the lock."""
    for stale in folder.glob(".*.tmp"):
        stale.unlink(missing_ok=True)


@dataclass(frozen=True)
class ModelLayout:
    """Paths of one model's artifacts under circuits/<name>/."""

    root: Path

    @classmethod
    def for_model(cls, name: str, circuits_dir: Path | None = None) -> ModelLayout:
        return cls((circuits_dir or default_circuits_dir()) / check_model_name(name))

    @property
    def name(self) -> str:
        return self.root.name

    onnx = property(lambda self: self.root / "model.onnx")
    samples = property(lambda self: self.root / "samples.json")
    export_report = property(lambda self: self.root / "export.json")
    source_record = property(lambda self: self.root / "source.json")  # what export built from
    settings = property(lambda self: self.root / "settings.json")
    calibration_data = property(lambda self: self.root / "calibration.json")
    circuit_onnx = property(lambda self: self.root / "circuit.onnx")  # zkml.subjects' graph
    compiled = property(lambda self: self.root / "model.compiled")
    fidelity = property(lambda self: self.root / "fidelity.json")
    optimize_report = property(lambda self: self.root / "optimize.json")  # compile --optimize
    search_report = property(lambda self: self.root / "search.json")  # what compile tried
    key_record = property(lambda self: self.root / "keys.json")  # what the keys were made from
    vk = property(lambda self: self.root / "vk.key")
    pk = property(lambda self: self.root / "pk.key")
    proof = property(lambda self: self.root / "proof.json")
    manifest = property(lambda self: self.root / "manifest.json")
    verifier_sol = property(lambda self: self.root / "Verifier.sol")
    evm_build = property(lambda self: self.root / "evm.json")  # ABIs and bytecode
    vka = property(lambda self: self.root / "vka.json")  # the key for the shared verifier
    run_proof = property(lambda self: self.root / "run-proof.json")  # run's, beside a user's
    # owner-only: every proof's salts, one file per commitment, never overwritten (zkml.salts)
    secrets = property(lambda self: SecretsLayout(self.root / "secrets"))
    # a segmented circuit (zkml.segments): one folder per segment, each laid out like a model's
    segments_dir = property(lambda self: self.root / "segments")
    # plain-ezkl baseline folders of the benchmark share this layout, and these files
    bench_input = property(lambda self: self.root / "bench-input.json")
    bench_proof = property(lambda self: self.root / "bench-proof.json")

    def segment(self, index: int) -> ModelLayout:
        return ModelLayout(self.segments_dir / f"{index:02d}")

    def batch_dir(self, inputs: Path) -> Path:
        return self.root / "batch" / inputs.stem

    def lock(self, shared: bool) -> contextlib.AbstractContextManager[None]:
        return folder_lock(self.root, shared)

    def remove_stale_temporaries(self) -> None:
        remove_stale_temporaries(self.root)

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

    def make_private(self) -> None:
        """Owner-only folder and files: for a model whose weights are private, every artifact
        (ONNX, compiled circuit, keys) holds them."""
        self.root.chmod(0o700)
        for path in self.root.iterdir():
            if path.is_file():
                path.chmod(0o600)


@dataclass(frozen=True)
class ScratchLayout:
    """The files of one ezkl call in a private scratch folder (see private_scratch)."""

    root: Path

    input = property(lambda self: self.root / "input.json")  # ezkl's input data: private
    witness = property(lambda self: self.root / "witness.json")  # holds the private input
    proof = property(lambda self: self.root / "proof.json")
    abi = property(lambda self: self.root / "Verifier.abi")
    srs = property(lambda self: self.root / "kzg.srs")


SECRET_SUFFIX = ".secret.json"
_COMMITMENT = re.compile(r"^0x[0-9a-f]{64}$")


def secret_path(proof_path: Path) -> Path:
    """A copy of the salts of a proof's input commitments, beside the proof: the next proof
    written to that path replaces it (the store, SecretsLayout, keeps every salt)."""
    return proof_path.with_name(proof_path.stem + SECRET_SUFFIX)


def proof_parts(proof_path: Path) -> Path:
    """Where a segmented proof's parts wait until the chain is whole (owner-only): a killed
    prove resumes from them."""
    return proof_path.with_name(proof_path.stem + ".segments")


@dataclass(frozen=True)
class SecretsLayout:
    """A model's owner-only store of salts (zkml.salts): secrets/<commitment>.json per subject
    commitment, and secrets/inputs/<input HMAC>/<commitment> naming the commitments made of one
    input."""

    root: Path

    input_key = property(lambda self: self.root / ".input-key")  # HMAC key for input digests
    inputs = property(lambda self: self.root / "inputs")

    def salt(self, commitment: str) -> Path:
        if not _COMMITMENT.fullmatch(commitment):  # it names a file: nothing else may
            raise ArtifactError(f"{commitment[:80]!r} is not a commitment (0x and 64 hex digits)")
        return self.root / f"{commitment}.json"

    def same_input(self, digest: str) -> Path:
        return self.inputs / digest

    def make(self) -> None:
        """The store's folders, owner-only whatever the umask (a wider mode is narrowed), with
        no temporary left by a writer that was killed."""
        for folder in (self.root, self.inputs):
            folder.mkdir(mode=0o700, parents=True, exist_ok=True)
            if folder.stat().st_mode & 0o077:
                folder.chmod(0o700)
        remove_dead_temporaries(self.root)


@dataclass(frozen=True)
class BatchLayout:
    """prove-batch's output folder: one proof and one input record per id, and a summary."""

    root: Path

    proofs = property(lambda self: self.root / "proofs")
    summary = property(lambda self: self.root / "summary.json")
    # HMAC key for input digests: a plain hash of a small private input could be brute-forced
    input_key = property(lambda self: self.root / ".input-key")

    def proof(self, file_id: str) -> Path:
        return self.proofs / f"{file_id}.json"

    def record(self, file_id: str) -> Path:
        """Beside each proof: the id it was made for and a keyed digest of its input."""
        return self.proofs / f"{file_id}.input.json"

    def secret(self, file_id: str) -> Path:
        return secret_path(self.proof(file_id))


@dataclass(frozen=True)
class BenchLayout:
    """`zkml bench`'s output folder."""

    root: Path

    results = property(lambda self: self.root / "results.json")
    report = property(lambda self: self.root / "results.md")
    versus_plot = property(lambda self: self.root / "zkml_vs_ezkl.png")
    sweep_plot = property(lambda self: self.root / "sweep.png")
    gas_plot = property(lambda self: self.root / "gas_per_inference.png")
    batch_results = property(lambda self: self.root / "batch.json")
    batch_report = property(lambda self: self.root / "batch.md")

    @staticmethod
    def inputs(folder: Path, name: str) -> Path:
        """A generated JSON-lines input file of the batch benchmark."""
        return folder / f"{name}.jsonl"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def file_version(path: Path) -> tuple[int, int, int, int]:
    """What identifies a file's content without reading it. ctime and inode change on any
    write or swap, even one that restores the size and mtime (`touch -d` cannot set ctime)."""
    stat = path.stat()
    return stat.st_size, stat.st_mtime_ns, stat.st_ctime_ns, stat.st_ino


@functools.lru_cache(maxsize=64)
def _sha256_of_version(path: str, version: tuple[int, int, int, int]) -> str:
    return sha256_file(Path(path))


def sha256_file_stat_cached(path: Path) -> str:
    """sha256, recomputed only when the file changed (SRS files are large)."""
    return _sha256_of_version(str(path.resolve()), file_version(path))


@contextlib.contextmanager
def atomic_path(target: Path, private: bool = False, replace: bool = True) -> Iterator[Path]:
    """Yield a temporary sibling of target; move it into place only if the block succeeds.

    An interrupted or failed stage then never leaves a half-written artifact behind. private
    files (anything holding inputs, sample records or private weights) stay owner-only, and so
    does every file written into an owner-only folder. Without replace, an existing target
    stays as it is and FileExistsError is raised.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_dead_temporaries(target.parent, target.name)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp",
                               dir=target.parent)
    os.close(fd)
    tmp_path = Path(tmp)
    _janitor.register(tmp_path)
    try:
        yield tmp_path
        # mkstemp's 0600 (and ezkl's worker's, see zkml._ezkl_worker) is for secrets only; set
        # once written (a writer may have replaced the file), unless the writer chose a mode
        if not private and target.parent.stat().st_mode & 0o077 and \
                not tmp_path.stat().st_mode & 0o077:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp_path, 0o666 & ~umask)
        if replace:
            os.replace(tmp_path, target)
        else:
            os.link(tmp_path, target)  # atomic, and fails if target exists
    finally:
        tmp_path.unlink(missing_ok=True)
        _janitor.release(tmp_path)


def remove_dead_temporaries(folder: Path, name: str = "*") -> None:
    """atomic_path's temporaries (of `name`) left by writers that no longer run (SIGKILL skips
    cleanup, and the janitor may have been killed too); a running writer's stay."""
    for stale in folder.glob(f".{name}.*.tmp"):
        parts = stale.name.removesuffix(".tmp").rsplit(".", 2)  # name, pid, mkstemp's random
        if len(parts) == 3 and parts[1].isdigit() and not _alive(int(parts[1])):
            stale.unlink(missing_ok=True)


def write_json(path: Path, data: Any, private: bool = False) -> None:
    with atomic_path(path, private) as tmp:
        tmp.write_text(json.dumps(data, indent=2) + "\n")


def write_json_once(path: Path, data: Any) -> bool:
    """A file that must outlive any crash and never change (a salt): owner-only, whole or
    absent, on disk before this returns, and never written over. False if it was there."""
    try:
        with atomic_path(path, private=True, replace=False) as tmp, tmp.open("w") as fh:
            fh.write(json.dumps(data, indent=2) + "\n")
            fh.flush()
            os.fsync(fh.fileno())
    except FileExistsError:
        return False
    folder = os.open(path.parent, os.O_RDONLY | os.O_DIRECTORY)
    try:  # the new name, too, survives a power cut
        os.fsync(folder)
    finally:
        os.close(folder)
    return True


JSON_DEPTH_LIMIT = 2000


class DuplicateKey(ValueError):
    """A JSON object names a key twice. Readers disagree on which value counts (Python's and a
    browser's take the last, others the first), so what zkml reads is refused."""

    def __init__(self, key: str):
        super().__init__(f'the key "{key}" appears twice in one object')
        self.key = key


DUPLICATE_KEY_HINT = "keep one of them: JSON readers disagree on which one counts"


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise DuplicateKey(key)
        found[key] = value
    return found


def json_loads(text: str) -> Any:
    """json.loads that refuses an object naming a key twice (DuplicateKey) and turns hostile
    nesting into a RecursionError, never a crash: web3's py_ecc raises the interpreter's
    recursion limit so high that the C stack overflows first."""
    limit = sys.getrecursionlimit()
    sys.setrecursionlimit(min(limit, JSON_DEPTH_LIMIT))
    try:
        return json.loads(text, object_pairs_hook=_unique_keys)
    finally:
        sys.setrecursionlimit(limit)


def read_json(path: Path, what: str) -> Any:
    try:
        return json_loads(path.read_text())
    except FileNotFoundError:
        raise ArtifactError(f"{what} not found: {path}") from None
    except DuplicateKey as exc:
        raise ArtifactError(f'{what} {path} names the key "{exc.key}" twice',
                            hint=DUPLICATE_KEY_HINT) from None
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
        raise ArtifactError(f"{what} is not valid JSON: {path} ({exc})") from None


@contextlib.contextmanager
def private_scratch(purpose: str) -> Iterator[Path]:
    """An owner-only temporary folder (witnesses, inputs), removed when the block ends.

    If this process is killed (SIGKILL skips this cleanup), zkml's janitor removes it at once.
    Its name carries this process's id, so that `remove_stale_scratch` can also tell the
    folders of a process that was killed from those of a running one.
    """
    path = Path(tempfile.mkdtemp(prefix=f"{SCRATCH_PREFIX}{os.getpid()}-{purpose}-"))
    _janitor.register(path)
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)
        _janitor.release(path)


def write_private_text(path: Path, text: str) -> None:
    """A new owner-only file (a private input handed to ezkl), whatever the umask."""
    with os.fdopen(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600), "w") as fh:
        fh.write(text)


def _alive(pid: int) -> bool:
    """Whether a process runs (a zombie, dead but not yet reaped, does not)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # a process of another user
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def remove_stale_scratch() -> int:
    """Remove the scratch folders of zkml processes that no longer run; return how many."""
    removed = 0
    for path in Path(tempfile.gettempdir()).glob(f"{SCRATCH_PREFIX}*-*"):
        pid = path.name[len(SCRATCH_PREFIX):].split("-", 1)[0]
        if not pid.isdigit() or not path.is_dir() or path.stat().st_uid != os.getuid():
            continue
        if not _alive(int(pid)):
            shutil.rmtree(path, ignore_errors=True)
            removed += 1
    return removed


def _well_formed(manifest: Any) -> bool:
    if not isinstance(manifest, dict) or manifest.get("version") != MANIFEST_VERSION:
        return False
    stages, files = manifest.get("stages"), manifest.get("files")
    return (isinstance(stages, dict) and isinstance(files, dict)
            and all(isinstance(s, dict) and isinstance(s.get("key"), str)
                    and isinstance(s.get("outputs"), dict) for s in stages.values())
            and all(isinstance(f, dict) and isinstance(f.get("version"), list)
                    and isinstance(f.get("sha256"), str) for f in files.values()))


class Manifest:
    """circuits/<name>/manifest.json: per stage, the key it was built from and its outputs' digests.

    A stage is fresh when its key (a hash of its inputs' digests and options) matches and each
    output still has the recorded sha256. Digests are re-read only when a file's size, mtime,
    ctime or inode changed, so a cached check of a 100 MB proving key costs a stat, not a hash.
    """

    def __init__(self, layout: ModelLayout):
        self.layout = layout
        self.data: dict[str, Any] = {"version": MANIFEST_VERSION, "stages": {}, "files": {}}
        if layout.manifest.is_file():
            with contextlib.suppress(Exception):
                loaded = json_loads(layout.manifest.read_text())
                if _well_formed(loaded):  # anything else: a cache to rebuild, not an error
                    self.data = loaded

    def _name(self, path: Path) -> str:
        return self.layout.relative(path) if path.is_relative_to(self.layout.root) else path.name

    def digest(self, path: Path) -> str:
        rel = self.layout.relative(path) if path.is_relative_to(self.layout.root) else str(path)
        version = list(file_version(path))
        known = self.data["files"].get(rel)
        if known and known["version"] == version:
            return str(known["sha256"])
        sha = sha256_file(path)
        self.data["files"][rel] = {"size": version[0], "version": version, "sha256": sha}
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

    def invalidate(self, stages: list[str]) -> None:
        for stage in stages:
            self.data["stages"].pop(stage, None)

    def save(self) -> None:
        self.data["files"] = {
            rel: info
            for rel, info in self.data["files"].items()
            if (self.layout.root / rel).is_file() or Path(rel).is_absolute()
        }
        write_json(self.layout.manifest, self.data)
