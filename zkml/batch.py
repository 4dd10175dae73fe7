"""Batch proving: many private inputs, one circuit, a pool of workers, resumable.

Every proof is written atomically under its input's id, so an interrupted batch re-run with the
same arguments proves only the ids that have no proof yet. One bad input fails alone, with its
reason; the batch goes on. Workers are local processes, or Ray tasks (`zkml[ray]`) that receive
the circuit's artifacts once through Ray's object store instead of a shared disk.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np

from zkml import proof
from zkml.errors import InputError, ZkmlError
from zkml.export import ExportedModel
from zkml.inputs import load_input, parse_input
from zkml.layout import ModelLayout, write_json

WORKER_BASE_BYTES = 400 * 2**20  # interpreter, ezkl and the SRS, measured by `zkml bench`
WORKER_BYTES_PER_PK_BYTE = 3  # proving holds the key and its working polynomials


@dataclass
class Item:
    id: str
    values: np.ndarray | None = None
    error: str | None = None  # why this input cannot be proved


@dataclass
class Outcome:
    id: str
    ok: bool
    reason: str | None = None
    seconds: float = 0.0


@dataclass
class BatchSummary:
    model: str
    inputs: str
    total: int
    proved_now: int
    already_done: int
    valid: int
    failures: list[dict[str, str]] = field(default_factory=list)
    workers: int = 1
    engine: str = "processes"
    seconds: float = 0.0
    throughput_per_s: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


# ------------------------------------------------------------------------------------ inputs


def read_inputs(path: Path, input_shape: tuple[int, ...]) -> list[Item]:
    """Inputs from a JSON-lines file, a CSV file (one input per row) or a folder of files."""
    if path.is_dir():
        files = sorted(p for p in path.iterdir() if p.suffix.lower() in (".json", ".csv", ".npy"))
        return [_item(p.stem, lambda p=p: load_input(p, input_shape)) for p in files]
    if not path.is_file():
        raise InputError(f"inputs not found: {path}",
                         hint="give a .jsonl or .csv file, or a folder of input files")
    lines = path.read_text(errors="replace").splitlines()
    if path.suffix.lower() == ".csv":
        rows = [r for r in csv.reader(lines) if r]
        if rows and not _numeric(rows[0][0]):
            rows = rows[1:]  # a header
        return [_item(f"row{i:06d}", lambda r=r, i=i: parse_input(r, input_shape, f"row {i}"))
                for i, r in enumerate(rows, 1)]
    if path.suffix.lower() in (".jsonl", ".ndjson"):
        return [_jsonl_item(line, i, input_shape)
                for i, line in enumerate(lines, 1) if line.strip()]
    raise InputError(f"{path}: unknown inputs format", hint="use .jsonl, .csv or a folder")


def _numeric(cell: str) -> bool:
    try:
        float(cell)
        return True
    except ValueError:
        return False


def _item(item_id: str, parse: Callable[[], np.ndarray]) -> Item:
    try:
        return Item(item_id, values=parse())
    except InputError as exc:
        return Item(item_id, error=exc.message)


def _jsonl_item(line: str, number: int, input_shape: tuple[int, ...]) -> Item:
    item_id = f"line{number:06d}"
    try:
        raw = json.loads(line)
    except json.JSONDecodeError as exc:
        return Item(item_id, error=f"line {number} is not JSON ({exc.msg})")
    if isinstance(raw, dict) and "id" in raw:
        item_id = _safe_id(str(raw["id"])) or item_id
    return _item(item_id, lambda: parse_input(raw, input_shape, f"line {number}"))


def _safe_id(text: str) -> str:
    """Ids name proof files: keep them to a harmless alphabet."""
    return "".join(c if c.isalnum() or c in "-_." else "_" for c in text).strip(".")[:100]


# ----------------------------------------------------------------------------------- workers


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


def prove_one(root: str, item_id: str, values: list, out_dir: str) -> Outcome:
    """One input in a worker: prove, self-verify, write atomically; never raises for bad input."""
    start = time.perf_counter()
    layout = ModelLayout(Path(root))
    try:
        array = np.asarray(values, dtype=np.float32)
        proof.prove(layout, array, Path(out_dir) / f"{item_id}.json", source=item_id)
    except ZkmlError as exc:
        return Outcome(item_id, False, exc.message, time.perf_counter() - start)
    return Outcome(item_id, True, None, time.perf_counter() - start)


def _local(layout: ModelLayout, todo: list[Item], proofs: Path, workers: int
           ) -> Iterator[Outcome]:
    # spawn, not fork: ezkl runs native thread pools that a forked child must not inherit
    with ProcessPoolExecutor(workers, mp_context=get_context("spawn")) as pool:
        futures = [pool.submit(prove_one, str(layout.root), item.id,
                               item.values.tolist(), str(proofs)) for item in todo]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


# ------------------------------------------------------------------------------------- Ray

RAY_ARTIFACTS = ["model.onnx", "model.compiled", "pk.key", "vk.key", "settings.json",
                 "samples.json", "srs.json"]


def _bundle(layout: ModelLayout) -> dict[str, bytes]:
    """What a worker needs to prove, so no worker recomputes keys or needs our disk."""
    files = {name: (layout.root / name).read_bytes() for name in RAY_ARTIFACTS}
    record = proof.KeyRecord.load(layout)
    files["srs"] = record.checked_srs().read_bytes()
    return files


_materialized: dict[str, Path] = {}  # per worker process: bundle digest -> local model folder


def _materialize(digest: str, files: dict[str, bytes]) -> Path:
    if digest not in _materialized:
        root = Path(tempfile.mkdtemp(prefix="zkml-ray-")) / "model"
        root.mkdir()
        for name, data in files.items():
            if name != "srs":
                (root / name).write_bytes(data)
        srs_path = root.parent / "kzg.srs"
        srs_path.write_bytes(files["srs"])
        record = json.loads(files["srs.json"])
        record["srs_path"] = str(srs_path)
        (root / "srs.json").write_text(json.dumps(record))
        _materialized[digest] = root
    return _materialized[digest]


def _ray_task(digest: str, files: dict[str, bytes], item_id: str, values: list
              ) -> tuple[Outcome, str | None]:
    root = _materialize(digest, files)
    with tempfile.TemporaryDirectory() as scratch:
        outcome = prove_one(str(root), item_id, values, scratch)
        path = Path(scratch) / f"{item_id}.json"
        return outcome, path.read_text() if outcome.ok else None


def _ray(layout: ModelLayout, todo: list[Item], proofs: Path, address: str
         ) -> Iterator[Outcome]:
    try:
        import ray
    except ImportError:
        from zkml.errors import ToolMissing

        raise ToolMissing("Ray is not installed", hint="pip install 'zkml[ray]'") from None
    import hashlib
    import logging

    from zkml.layout import atomic_path

    started_here = not ray.is_initialized()
    if started_here:
        local = address == "local"
        ray.init(address=None if local else address, num_cpus=os.cpu_count() if local else None,
                 include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    try:
        files = _bundle(layout)
        digest = hashlib.sha256(b"".join(files[k] for k in sorted(files))).hexdigest()
        shared = ray.put(files)  # once: every task gets the same object, not a copy of the disk
        task = ray.remote(_ray_task)
        pending = {task.remote(digest, shared, item.id, item.values.tolist()): item.id
                   for item in todo}
        while pending:
            done, _ = ray.wait(list(pending), num_returns=1)
            pending.pop(done[0])
            outcome, text = ray.get(done[0])
            if text is not None:
                with atomic_path(proofs / f"{outcome.id}.json") as tmp:
                    tmp.write_text(text)
            yield outcome
    finally:
        if started_here:
            ray.shutdown()


# ------------------------------------------------------------------------------------- batch


def run(layout: ModelLayout, inputs: Path, out_dir: Path, workers: int | None = None,
        ray_address: str | None = None,
        progress: Callable[[Outcome, int, int], None] = lambda o, done, total: None,
        ) -> BatchSummary:
    layout.require(layout.pk, layout.srs_record, stage="setup")
    items = read_inputs(inputs, ExportedModel.load(layout).input_shape)
    if not items:
        raise InputError(f"no inputs in {inputs}")
    if len({i.id for i in items}) != len(items):
        raise InputError(f"{inputs}: input ids repeat", hint="give every input a unique id")
    proofs = out_dir / "proofs"
    proofs.mkdir(parents=True, exist_ok=True)
    with ModelLayout(out_dir).lock(shared=False):  # one batch per output folder at a time
        ModelLayout(proofs).remove_stale_temporaries()  # from a batch that was killed
        return _run(layout, items, inputs, out_dir, proofs, workers, ray_address, progress)


def _run(layout: ModelLayout, items: list[Item], inputs: Path, out_dir: Path, proofs: Path,
         workers: int | None, ray_address: str | None,
         progress: Callable[[Outcome, int, int], None]) -> BatchSummary:
    done_before = {p.stem for p in proofs.glob("*.json")}  # atomic writes: present = complete
    todo = [i for i in items if i.values is not None and i.id not in done_before]
    failures = {i.id: i.error for i in items if i.error is not None}
    count = plan_workers(layout.pk.stat().st_size, workers)
    start = time.perf_counter()
    proved = 0
    if todo:
        outcomes = (_ray(layout, todo, proofs, ray_address) if ray_address
                    else _local(layout, todo, proofs, min(count, len(todo))))
        for outcome in outcomes:
            proved += outcome.ok
            if not outcome.ok:
                failures[outcome.id] = outcome.reason or "failed"
            progress(outcome, proved + len(failures), len(items))
    seconds = time.perf_counter() - start
    valid = sum(_still_valid(layout, proofs / f"{i.id}.json", failures, i.id) for i in items)
    summary = BatchSummary(
        model=layout.name, inputs=str(inputs), total=len(items), proved_now=proved,
        already_done=len(done_before & {i.id for i in items}), valid=valid,
        failures=[{"id": k, "reason": v} for k, v in sorted(failures.items())],
        workers=count if not ray_address else 0,
        engine=f"ray ({ray_address})" if ray_address else "processes",
        seconds=round(seconds, 3),
        throughput_per_s=round(proved / seconds, 3) if proved and seconds else 0.0,
    )
    write_json(out_dir / "summary.json", summary.as_dict())
    return summary


def _still_valid(layout: ModelLayout, path: Path, failures: dict[str, str], item_id: str) -> bool:
    """Verify every proof the batch holds, old and new: a done proof must still be valid."""
    if not path.exists():
        return False
    try:
        proof.verify(layout, path)
        return True
    except ZkmlError as exc:
        path.unlink()  # so that a re-run proves it again
        failures[item_id] = f"proof did not verify and was removed ({exc.message})"
        return False
