"""Batch proving: many private inputs, one circuit, a pool of workers, resumable.

Inputs are streamed and handed to the workers in bounded chunks, so a file of any length costs
the memory of a few items. Every proof is written atomically under a file name made from its
input's id, with a record beside it: the id, a keyed digest of the input (HMAC with a key kept
owner-only in the output folder: a plain hash of a small private input could be brute-forced)
and the verifying key it was proved with; its salts go to the model's store (zkml.salts), with
a copy beside it. A re-run proves again exactly the inputs whose proof is missing, whose input
changed, or whose keys changed. One bad input fails alone, with its
reason; the batch goes on.

Workers are threads, each driving its own ezkl worker process (zkml._ezkl), which dies with
it: a killed batch leaves no worker behind. With Ray (`zkml[ray]`), tasks receive the circuit's
artifacts once through Ray's object store instead of a shared disk.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import os
import queue
import secrets
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from zkml import _ezkl, proof
from zkml.circuit import CircuitSettings, check_input
from zkml.errors import ClusterError, InputError, ZkmlError
from zkml.export import ExportedModel
from zkml.inputs import BatchItem, iter_batch
from zkml.keys import current_keys
from zkml.layout import (
    BatchLayout,
    ModelLayout,
    ScratchLayout,
    atomic_path,
    folder_lock,
    read_json,
    remove_stale_scratch,
    remove_stale_temporaries,
    sha256_file,
    write_json,
)
from zkml.progress import Progress, ProgressHook, ignore
from zkml.salts import keep as keep_salts

log = logging.getLogger("zkml")
WORKER_BASE_BYTES = 400 * 2**20  # interpreter, ezkl and the SRS, measured by `zkml bench`
WORKER_BYTES_PER_PK_BYTE = 3  # proving holds the key and its working polynomials
IN_FLIGHT_PER_WORKER = 2  # items handed out ahead of the workers: bounded memory
# no dot: an id like "x.secret" must not name another id's salt or record file
SAFE_ID_CHARS = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
MAX_FILE_ID = 64


def file_id(item_id: str) -> str:
    """A file name for an id: the id itself if short and plain ASCII, else a readable prefix
    and a digest of the whole id (ids of any length or alphabet never break the batch)."""
    if 0 < len(item_id) <= MAX_FILE_ID and set(item_id) <= SAFE_ID_CHARS:
        return item_id
    prefix = "".join(c if c in SAFE_ID_CHARS else "_" for c in item_id[:24])
    return f"{prefix}-{hashlib.sha256(item_id.encode()).hexdigest()[:16]}"


@dataclass
class Outcome:
    id: str
    ok: bool
    reason: str | None = None
    outputs: list[list[float]] | None = None
    changed: bool = False  # proved again because its input or keys changed


@dataclass
class BatchSummary:
    model: str
    inputs: str
    path: Path  # summary.json
    total: int = 0
    proved_now: int = 0
    already_done: int = 0
    changed: int = 0  # among proved_now: inputs whose old proof no longer fitted
    valid: int = 0
    failures: list[dict[str, str]] = field(default_factory=list)
    workers: int = 1
    engine: str = "processes"
    seconds: float = 0.0
    throughput_per_s: float = 0.0

    def counts(self) -> dict[str, Any]:
        return {k: (str(v) if isinstance(v, Path) else v) for k, v in asdict(self).items()}

    def __str__(self) -> str:
        return self.describe(self.path.parent)

    def raise_for_failures(self) -> None:
        """A ZkmlError when any input failed (the proofs made are kept: a re-run resumes)."""
        if self.failures:
            raise ZkmlError(f"{len(self.failures)} of {self.total} inputs failed (each reason "
                            f"in {self.path})",
                            hint="fix those inputs and re-run: proofs already made are kept")

    def describe(self, target: Path) -> str:
        changed = f", {self.changed} of them for a changed input" if self.changed else ""
        return (f"{self.valid}/{self.total} valid proofs in {target}/proofs ({self.proved_now} "
                f"proved now{changed}, {self.already_done} already there, "
                f"{len(self.failures)} failed); {self.throughput_per_s:.2f} proofs/s on "
                f"{self.engine}" + (f" with {self.workers} workers" if self.workers else ""))


# ----------------------------------------------------------------------------------- planning


def plan_workers(pk_bytes: int, requested: int | None = None) -> int:
    """As many workers as cores, but only as many as free memory holds."""
    if requested:
        return requested
    per_worker = WORKER_BASE_BYTES + WORKER_BYTES_PER_PK_BYTE * pk_bytes
    return max(1, min(os.cpu_count() or 1, _available_memory() // per_worker))


def _available_memory() -> int:
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemAvailable:"):
            return int(line.split()[1]) * 1024
    return 2**30


@dataclass(frozen=True)
class Task:
    """One checked input, ready to prove."""

    id: str
    file_id: str
    rows: np.ndarray
    salts: list[int] | None
    digest: str
    changed: bool


class _Plan:
    """Turns streamed items into tasks, skipping inputs whose proof is current."""

    def __init__(self, layout: ModelLayout, out: BatchLayout):
        self.layout = layout
        self.out = out
        self.settings = CircuitSettings.load(layout)
        self.signature = ExportedModel.load(layout).signature
        self.vk = current_keys(layout, proving=True).vk_sha256
        self.key = _input_key(out)
        self.seen: dict[str, str] = {}  # file id -> id, to refuse repeats and collisions
        self.done: list[str] = []  # ids whose current proof was kept

    def digest(self, rows: np.ndarray, salts: list[int] | None) -> str:
        # float32 as the records always were; integers exactly
        exact = np.float32 if self.signature.all_float else np.float64
        message = rows.astype(exact).tobytes() + json.dumps(salts).encode()
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def tasks(self, items: Iterator[BatchItem]) -> Iterator[Task | Outcome]:
        """A Task for each input to prove, an Outcome for each that fails before proving."""
        for item in items:
            name = file_id(item.id)
            if name in self.seen:
                yield Outcome(f"{item.id} (repeated)", False,
                              f"id repeats (or maps to the same file as {self.seen[name]!r})")
                continue
            self.seen[name] = item.id
            if item.error is not None:
                yield Outcome(item.id, False, item.error)
                continue
            try:
                rows = check_input(self.settings, self.signature, item.raw,
                                   f"input {item.id!r}")
            except InputError as exc:
                yield Outcome(item.id, False, exc.message)
                continue
            digest = self.digest(rows, item.salts)
            record = _read_record(self.out, name)
            proof_file = self.out.proof(name)
            current = (record is not None and record.get("id") == item.id
                       and record.get("input_hmac") == digest and record.get("vk") == self.vk
                       and proof_file.is_file()
                       and record.get("proof_sha256") == sha256_file(proof_file))
            if current:
                self.done.append(item.id)
                continue
            yield Task(item.id, name, rows, item.salts, digest, changed=record is not None)


def _input_key(out: BatchLayout) -> bytes:
    if out.input_key.is_file():
        return bytes.fromhex(read_json(out.input_key, "batch input key"))
    key = secrets.token_bytes(32)
    write_json(out.input_key, key.hex(), private=True)
    return key


def _read_record(out: BatchLayout, name: str) -> dict[str, Any] | None:
    path = out.record(name)
    if not path.is_file():
        return None
    try:
        record = read_json(path, "input record")
    except ZkmlError:
        return None
    return record if isinstance(record, dict) else None


# ------------------------------------------------------------------------------------ workers


def prove_task(layout: ModelLayout, out: BatchLayout, task: Task, vk: str) -> Outcome:
    """One input in a worker thread: prove, self-verify, write atomically; never raises for a
    bad input. The record goes last: a proof without its record is proved again."""
    try:
        made = proof.prove(layout, task.rows, out.proof(task.file_id), source=task.id,
                           salts=task.salts)
    except ZkmlError as exc:
        return Outcome(task.id, False, exc.message)
    write_record(out, task, vk, made.instances.outputs)
    return Outcome(task.id, True, outputs=made.instances.outputs, changed=task.changed)


def write_record(out: BatchLayout, task: Task, vk: str, outputs: Any) -> None:
    """Beside a proof: what it was made for and of, so that a re-run can trust it or redo it
    (a proof file edited or replaced since no longer matches its digest)."""
    write_json(out.record(task.file_id), {
        "id": task.id, "input_hmac": task.digest, "vk": vk,
        "proof_sha256": sha256_file(out.proof(task.file_id)), "outputs": outputs})


def _local(layout: ModelLayout, out: BatchLayout, tasks: Iterator[Task | Outcome],
           workers: int, vk: str) -> Iterator[Outcome]:
    """Worker threads, each with its own ezkl process, fed through a bounded queue."""
    todo: queue.Queue[Task | None] = queue.Queue(maxsize=workers * IN_FLIGHT_PER_WORKER)
    done: queue.Queue[Outcome | BaseException | None] = queue.Queue()
    stop = threading.Event()

    def feed() -> None:
        try:
            for task in tasks:
                if stop.is_set():
                    break
                if isinstance(task, Outcome):
                    done.put(task)
                else:
                    todo.put(task)
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            done.put(exc)
        finally:
            for _ in range(workers):
                todo.put(None)

    def prove_loop() -> None:
        try:
            while (task := todo.get()) is not None:
                if not stop.is_set():
                    done.put(prove_task(layout, out, task, vk))
        except BaseException as exc:  # noqa: BLE001 - handed to the caller below
            done.put(exc)
        finally:
            _ezkl.stop_thread_worker()
            done.put(None)

    threads = [threading.Thread(target=feed, daemon=True, name="zkml-feed")]
    threads += [threading.Thread(target=prove_loop, daemon=True, name=f"zkml-prove-{i}")
                for i in range(workers)]
    for thread in threads:
        thread.start()
    running = workers
    try:
        while running:
            item = done.get()
            if item is None:
                running -= 1
            elif isinstance(item, BaseException):
                raise item
            else:
                yield item
    finally:
        stop.set()
        with contextlib.suppress(queue.Empty):
            while True:
                todo.get_nowait()  # unblock the feeder
        for _ in range(workers):
            with contextlib.suppress(queue.Full):
                todo.put_nowait(None)


# ------------------------------------------------------------------------------------- Ray


def _bundle(layout: ModelLayout) -> dict[str, bytes]:
    """What a worker needs to prove, so no worker recomputes keys or needs our disk."""
    paths = [layout.circuit_onnx, layout.compiled, layout.pk, layout.vk, layout.settings,
             layout.samples, layout.key_record, layout.onnx]
    files = {path.name: path.read_bytes() for path in paths}
    files["srs"] = current_keys(layout, proving=True).checked_srs().read_bytes()
    return files


def _materialize(scratch: Path, files: dict[str, bytes], name: str) -> ModelLayout:
    """The artifacts in an owner-only scratch folder, with their digests (known from the key
    record they were bundled with) in the manifest, so that no task hashes a key again."""
    from zkml.keys import KeyRecord
    from zkml.layout import Manifest, file_version

    layout = ModelLayout(scratch / name)
    layout.root.mkdir(mode=0o700)
    for file, data in files.items():
        if file != "srs":
            (layout.root / file).write_bytes(data)
    srs_path = ScratchLayout(scratch).srs
    srs_path.write_bytes(files["srs"])
    record = json.loads(files[layout.key_record.name])
    record["srs_path"] = str(srs_path)
    layout.key_record.write_text(json.dumps(record))
    keys = KeyRecord.load(layout)
    manifest = Manifest(layout)
    for path, sha in [(layout.settings, keys.settings_sha256), (layout.vk, keys.vk_sha256),
                      (layout.compiled, keys.compiled_sha256), (layout.pk, keys.pk_sha256)]:
        version = list(file_version(path))
        manifest.data["files"][layout.relative(path)] = {"size": version[0], "version": version,
                                                          "sha256": sha}
    manifest.save()
    return layout


def _ray_task(files: dict[str, bytes], name: str, task: Task
              ) -> tuple[Outcome, str | None, str | None]:
    """One input on a Ray worker, in a scratch folder that is gone when the task ends (one
    left by a killed worker is removed by the next zkml run on that machine)."""
    from zkml.layout import private_scratch

    with private_scratch("ray") as scratch:
        layout = _materialize(scratch, files, name)
        out = BatchLayout(scratch / "out")
        out.proofs.mkdir(parents=True)
        outcome = prove_task(layout, out, task, "")
        if not outcome.ok:
            return outcome, None, None
        secret = out.secret(task.file_id)
        return (outcome, out.proof(task.file_id).read_text(),
                secret.read_text() if secret.exists() else None)


AUTH_REFUSED = ("Unauthenticated", "InvalidAuthToken", "AuthenticationError")


def ray_session(address: str) -> tuple[Any, bool]:
    """Ray, connected to `address` (a cluster, or `local` for one on this machine), and whether
    this call connected it (the caller then shuts it down)."""
    try:
        import ray
    except ImportError:
        from zkml.errors import ToolMissing

        raise ToolMissing("Ray is not installed", hint="pip install 'zkml[ray]'") from None
    started_here = not ray.is_initialized()
    if started_here:
        _connect_ray(ray, address)
    return ray, started_here


def _connect_ray(ray: Any, address: str) -> None:
    """ray.init, its failures as one line that says what to do. Ray's native client prints a
    warning a second while it retries (20 s): that goes to the log (-v), not the terminal."""
    local = address == "local"
    failure: BaseException | None = None
    with _native_stderr() as said:
        try:
            ray.init(address=None if local else address,
                     num_cpus=os.cpu_count() if local else None, include_dashboard=False,
                     logging_level=logging.ERROR, log_to_driver=False)
        except Exception as exc:  # noqa: BLE001 - Ray raises ConnectionError, RuntimeError, ...
            failure = exc
    if said:
        log.info("Ray: %s", said.decode(errors="replace").strip()[-2000:])
    if failure is None:
        return
    chain: list[str] = []
    cause: BaseException | None = failure
    while cause is not None and len(chain) < 10:  # the causes Ray chains: auth is in one
        chain.append(str(cause))
        cause = cause.__cause__ or cause.__context__
    text = "\n".join(chain) + said.decode(errors="replace")
    if any(marker in text for marker in AUTH_REFUSED):
        token_mode = os.environ.get("RAY_AUTH_MODE", "").lower() == "token"
        raise ClusterError(
            f"the Ray cluster at {address} refused this client: it uses token authentication"
            + (" and this token is not its" if token_mode else ""),
            hint=("export RAY_AUTH_TOKEN with the cluster's token (`ray get-auth-token` on its "
                  "head node prints it)") if token_mode else
            ("export RAY_AUTH_MODE=token, and RAY_AUTH_TOKEN with the cluster's token (`ray "
             "get-auth-token` on its head node prints it; or copy its ~/.ray/auth_token)"),
        ) from None
    first = (str(failure).strip().splitlines() or [type(failure).__name__])[0][:300]
    raise ClusterError(f"cannot connect to the Ray cluster at {address}: {first}",
                       hint="check the address (`ray status` on the head node shows it), or "
                       "use --ray auto on a cluster node, --ray local for this machine") from None


@contextlib.contextmanager
def _native_stderr() -> Iterator[bytearray]:
    """Collect what native code writes to stderr (file descriptor 2) during the block; yields
    a buffer filled in when the block ends."""
    said = bytearray()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        try:
            yield said
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            sink.seek(0)
            said.extend(sink.read()[-20000:])


def _ray(layout: ModelLayout, out: BatchLayout, tasks: Iterator[Task | Outcome], address: str,
         vk: str) -> Iterator[Outcome]:
    ray, started_here = ray_session(address)
    try:
        shared = ray.put(_bundle(layout))  # once: every task gets the same object
        remote = ray.remote(_ray_task)
        limit = max(2, int(ray.available_resources().get("CPU", 1)) * IN_FLIGHT_PER_WORKER)
        pending: dict[Any, Task] = {}
        stream = iter(tasks)
        exhausted = False
        while pending or not exhausted:
            while not exhausted and len(pending) < limit:
                task = next(stream, None)
                if task is None:
                    exhausted = True
                elif isinstance(task, Outcome):
                    yield task
                else:
                    pending[remote.remote(shared, layout.name, task)] = task
            if not pending:
                break
            done, _ = ray.wait(list(pending), num_returns=1)
            task = pending.pop(done[0])
            outcome, text, secret = ray.get(done[0])
            if text is not None:
                if secret is not None:  # into the model's store, and the copy beside the proof
                    entries = json.loads(secret)["subjects"]
                    keep_salts(layout, task.rows, [int(e["salt"], 16) for e in entries],
                               [e["commitment"] for e in entries], out.secret(task.file_id))
                with atomic_path(out.proof(task.file_id)) as tmp:
                    tmp.write_text(text)
                write_record(out, task, vk, outcome.outputs)
            yield outcome
    finally:
        if started_here:
            ray.shutdown()


# ------------------------------------------------------------------------------------- batch


def run(layout: ModelLayout, inputs: Path, out_dir: Path, workers: int | None = None,
        ray_address: str | None = None, progress: ProgressHook = ignore) -> BatchSummary:
    """Prove every input of `inputs` into out_dir; see the module's docstring."""
    layout.require(layout.pk, layout.key_record, stage="setup")
    current_keys(layout, proving=True)  # stale or foreign keys: refuse before anything starts
    remove_stale_scratch()  # witnesses of a batch that was killed
    out = BatchLayout(out_dir)
    out.proofs.mkdir(parents=True, exist_ok=True)
    with folder_lock(out.root, shared=False):  # one batch per output folder at a time
        remove_stale_temporaries(out.proofs)  # from a batch that was killed
        return _run(layout, inputs, out, workers, ray_address, progress)


def _run(layout: ModelLayout, inputs: Path, out: BatchLayout, workers: int | None,
         ray_address: str | None, progress: ProgressHook) -> BatchSummary:
    plan = _Plan(layout, out)
    count = plan_workers(layout.pk.stat().st_size, workers)
    summary = BatchSummary(model=layout.name, inputs=str(inputs), path=out.summary,
                           workers=0 if ray_address else count,
                           engine=f"ray ({ray_address})" if ray_address else "processes")
    start = time.perf_counter()
    failures: dict[str, str] = {}
    tasks = plan.tasks(iter_batch(inputs))
    outcomes = (_ray(layout, out, tasks, ray_address, plan.vk) if ray_address
                else _local(layout, out, tasks, count, plan.vk))
    with tempfile.TemporaryFile("w+") as results:
        for outcome in outcomes:
            if outcome.ok:
                summary.proved_now += 1
                summary.changed += outcome.changed
                results.write(json.dumps({"id": outcome.id, "outputs": outcome.outputs}) + "\n")
            else:
                failures[outcome.id] = outcome.reason or "failed"
                progress(Progress("batch", f"{outcome.id}: {outcome.reason}", failed=True))
            progress(Progress("batch", outcome.id, summary.proved_now + len(failures)))
        summary.seconds = round(time.perf_counter() - start, 3)
        summary.already_done = len(plan.done)
        summary.valid = summary.proved_now + summary.already_done
        summary.total = summary.valid + len(failures)
        summary.failures = [{"id": k, "reason": v} for k, v in sorted(failures.items())]
        summary.throughput_per_s = round(summary.proved_now / summary.seconds, 3) \
            if summary.proved_now and summary.seconds else 0.0
        if summary.total == 0:
            raise InputError(f"no inputs in {inputs}")
        _write_summary(out, summary, results, plan.done)
    return summary


def _write_summary(out: BatchLayout, summary: BatchSummary, results: Any,
                   done: list[str]) -> None:
    """summary.json with every id's outputs, streamed: new results from a scratch file, kept
    ones from their records."""
    results.seek(0)
    with atomic_path(out.summary) as tmp, tmp.open("w") as fh:
        head = json.dumps(summary.counts(), indent=2)
        fh.write(head[:-2] + ',\n  "results": [')
        first = True
        for line in results:
            fh.write(("\n    " if first else ",\n    ") + line.strip())
            first = False
        for item_id in done:
            record = _read_record(out, file_id(item_id)) or {}
            entry = {"id": item_id, "outputs": record.get("outputs")}
            fh.write(("\n    " if first else ",\n    ") + json.dumps(entry))
            first = False
        fh.write("\n  ]\n}\n")
