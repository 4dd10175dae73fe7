"""`zkml bench --batch N`: prove-batch throughput (1 and 2 workers, local Ray), a kill and
resume, and a stream of 200,000 inputs: the driver's memory and the time to the first proof."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from zkml.layout import BatchLayout, BenchLayout, ModelLayout, write_json
from zkml.progress import Progress, ProgressHook, ignore

STREAM_INPUTS = 200_000
STREAM_WATCH_SECONDS = 60  # how long the 200k stream is watched before it is stopped


def batch_inputs(layout: ModelLayout, count: int, path: Path) -> Path:
    """count distinct inputs: the model's held-out and calibration rows, jittered for variety."""
    from zkml.export import ExportedModel

    exported = ExportedModel.load(layout)
    rows = np.concatenate([exported.holdout, exported.calibration])
    rng = np.random.default_rng(0)
    with path.open("w") as fh:
        for i in range(count):
            row = rows[i % len(rows)] + rng.normal(0, 0.05, rows.shape[1:]) * (i >= len(rows))
            fh.write(json.dumps({"id": f"rec{i:06d}", "input": row.astype(float).tolist()}) + "\n")
    os.chmod(path, 0o600)
    return path


def _command(layout: ModelLayout, inputs: Path, out: Path, workers: int) -> list[str]:
    return [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(layout.root.parent),
            "prove-batch", layout.name, str(inputs), "--out", str(out), "--workers",
            str(workers)]


def _rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


def stream(layout: ModelLayout, scratch: Path, workers: int = 2) -> dict[str, Any]:
    """200,000 inputs: when the first proof lands and how large the driver grows (the driver
    alone: its ezkl workers hold the keys whatever the input file's length)."""
    inputs = batch_inputs(layout, STREAM_INPUTS, BenchLayout.inputs(scratch, "stream"))
    out = BatchLayout(scratch / "stream")
    process = subprocess.Popen(_command(layout, inputs, out.root, workers),
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               start_new_session=True)
    start = time.monotonic()
    first_proof, peak = None, 0.0
    try:
        while time.monotonic() - start < STREAM_WATCH_SECONDS and process.poll() is None:
            peak = max(peak, _rss_mb(process.pid))
            if first_proof is None and out.proofs.is_dir() and \
                    next(out.proofs.glob("*.input.json"), None) is not None:
                first_proof = time.monotonic() - start
            time.sleep(0.05)
    finally:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
    proved = len(list(out.proofs.glob("*.input.json"))) if out.proofs.is_dir() else 0
    return {"inputs": STREAM_INPUTS, "input_file_mb": inputs.stat().st_size / 1e6,
            "first_proof_s": first_proof, "driver_peak_mb": peak,
            "watched_s": STREAM_WATCH_SECONDS, "proved_while_watched": proved}


def run(out: BenchLayout, count: int, progress: ProgressHook = ignore) -> dict[str, Any]:
    """Throughput with 1 and 2 workers and on local Ray, a kill and resume, the 200k stream."""
    from zkml import batch
    from zkml.bench.prepare import machine, prepare
    from zkml.models import bundled

    results: dict[str, Any] = {"inputs": count, "machine": machine(), "runs": {}}
    with tempfile.TemporaryDirectory(prefix="zkml-batch-bench-") as tmp:
        scratch = Path(tmp)
        layout = prepare(bundled.SPECS["breast_cancer"], scratch / "circuits")
        inputs = batch_inputs(layout, count, BenchLayout.inputs(scratch, "inputs"))
        for label, kwargs in (("1 worker", {"workers": 1}), ("2 workers", {"workers": 2}),
                              ("ray local (2 CPUs)", {"ray_address": "local"})):
            progress(Progress("bench", label))
            summary = batch.run(layout, inputs, scratch / label.replace(" ", "_"), **kwargs)
            results["runs"][label] = summary.counts()
        progress(Progress("bench", "kill midway, then resume"))
        killed = BatchLayout(scratch / "killed")
        process = subprocess.Popen(_command(layout, inputs, killed.root, 2),
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   start_new_session=True)
        while len(list(killed.proofs.glob("*.input.json"))
                  if killed.proofs.is_dir() else []) < count // 3:
            time.sleep(0.2)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        before = len(list(killed.proofs.glob("*.input.json")))
        resumed = batch.run(layout, inputs, killed.root, workers=2)
        results["kill_resume"] = {"proofs_before_kill": before, **resumed.counts()}
        progress(Progress("bench", f"a stream of {STREAM_INPUTS:,} inputs"))
        results["stream"] = stream(layout, scratch)
    out.root.mkdir(parents=True, exist_ok=True)
    write_json(out.batch_results, results)
    out.batch_report.write_text(markdown(results, count))
    return results


def markdown(results: dict[str, Any], count: int) -> str:
    lines = [f"# prove-batch throughput ({count} inputs, breast_cancer, "
             f"{results['machine']['cpus']} CPUs)\n", "| engine | valid | seconds | proofs/s |",
             "|---|---|---|---|"]
    for label, s in results["runs"].items():
        lines.append(f"| {label} | {s['valid']}/{s['total']} | {s['seconds']:.1f} | "
                     f"{s['throughput_per_s']:.2f} |")
    k = results["kill_resume"]
    lines.append(f"\nKilled (SIGKILL) with {k['proofs_before_kill']} proofs written; the re-run "
                 f"found {k['already_done']} done, proved {k['proved_now']}, and ended with "
                 f"{k['valid']}/{k['total']} valid proofs.\n")
    s = results["stream"]
    first = "none" if s["first_proof_s"] is None else f"{s['first_proof_s']:.1f} s"
    lines.append(f"A file of {s['inputs']:,} inputs ({s['input_file_mb']:.0f} MB), watched for "
                 f"{s['watched_s']} s: first proof after {first}, the driver's memory peaked at "
                 f"{s['driver_peak_mb']:.0f} MB, {s['proved_while_watched']} proofs made.\n")
    return "\n".join(lines)
