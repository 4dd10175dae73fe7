"""Bench part split: models too large for one circuit here, proved in segments (zkml.segments)
beside plain ezkl on the same ONNX and the same private input, in one run.

- credit_mlp_1m (1,049,665 parameters: the credit model widened and deepened) and lenet5_wide
  (LeNet-5 with twice the channels, 28x28): plain ezkl with its defaults, and zkml with its
  own (--max-logrows 18). Whole-process figures of proving one input: zkml's segments proved
  one at a time (one worker) against plain ezkl's one proof (peak memory: the process and its
  workers), zkml's summed per-segment witness and prove time against plain ezkl's, and zkml on
  a local Ray cluster of one node and of two, each node pinned to one core (taskset): the wall
  time of the whole prove.
- credit_mlp_3m (3,249,153 parameters): plain ezkl tried under the limits one job gets here
  (MEMORY_LIMIT_MB, TIME_LIMIT_S per step), and zkml proving it in segments.

Targets, checked in the report: zkml's peak <= 1/3 of plain ezkl's, its summed prove
time <= plain ezkl's, two Ray nodes' wall <= 0.6 x one node's.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

from zkml.bench.runner import Exceeded, Measured, measure, step
from zkml.export import ExportedModel
from zkml.layout import ModelLayout, ScratchLayout
from zkml.progress import Progress, ProgressHook, ignore

TARGETS = ["credit_mlp_1m", "lenet5_wide"]
BEYOND = "credit_mlp_3m"
MEMORY_LIMIT_MB = 20_000  # of this 24 GB machine, what one job may take
TIME_LIMIT_S = 30 * 60
SAMPLE_EVERY = 0.25  # seconds between memory samples of a long run (sampling costs CPU)
PEAK_RATIO, PROVE_RATIO, RAY_RATIO = 1 / 3, 1.0, 0.6


def _cli(layout: ModelLayout, *args: str) -> list[str]:
    return [sys.executable, "-m", "zkml.cli", "--json", "--circuits-dir",
            str(layout.root.parent), *args]


def _stage(stdout: str) -> dict[str, Any]:
    """The one stage a `zkml --json` command reports."""
    (stage,) = json.loads(stdout)["stages"]
    return dict(stage)


def _figures(measured: Measured) -> dict[str, Any]:
    return {k: round(v, 3) if isinstance(v, float) else v for k, v in asdict(measured).items()}


# ------------------------------------------------------------------------------ plain ezkl


def plain(layout: ModelLayout, scratch: Path, limited: bool = False) -> dict[str, Any]:
    """Plain ezkl's pipeline on the model's ONNX (its defaults, the input private), each step
    in its own process; with `limited`, every step stops at MEMORY_LIMIT_MB or TIME_LIMIT_S
    and the figures say where it stopped."""
    from zkml.bench.plain import PLAIN_RUN_ARGS

    root = scratch / f"plain-{layout.name}"
    root.mkdir(parents=True, exist_ok=True)
    files = ModelLayout(root)
    shutil.copy2(layout.onnx, files.onnx)
    exported = ExportedModel.load(layout)
    files.calibration_data.write_text(json.dumps(exported.signature.ezkl_data(
        exported.calibration)))
    ScratchLayout(root).input.write_text(json.dumps(exported.signature.ezkl_data(
        exported.holdout[:1])))
    limits: dict[str, Any] = {"memory_limit_mb": MEMORY_LIMIT_MB, "time_limit_s": TIME_LIMIT_S,
                              "every": SAMPLE_EVERY} if limited else {"every": SAMPLE_EVERY}
    found: dict[str, Any] = {"steps": {}}

    def run(name: str, op: str, **args: Any) -> bool:
        try:
            found["steps"][name] = _figures(_step(op, limits, root=root, **args))
            return True
        except Exceeded as exc:
            found["steps"][name] = {**_figures(exc.figures), "stopped": str(exc)}
            found["stopped"] = f"{name}: {str(exc).split('stopped: ', 1)[-1]}"
            return False

    if not run("settings", "ezkl_settings", run_args=PLAIN_RUN_ARGS, calibration={}):
        return found
    settings = json.loads(files.settings.read_text())
    found.update(logrows=settings["run_args"]["logrows"], num_rows=settings["num_rows"],
                 inner_cols=settings["run_args"]["num_inner_cols"])
    srs = root / f"kzg{found['logrows']}.srs"
    for name, op, args in (("compile", "ezkl_compile", {}), ("srs", "ezkl_srs",
                                                             {"srs": srs, "logrows":
                                                              found["logrows"]}),
                           ("setup", "ezkl_setup", {"srs": srs}),
                           ("prove", "ezkl_prove", {"srs": srs})):
        if not run(name, op, **args):
            return found
    found["pk_bytes"] = files.pk.stat().st_size
    return found


def _step(op: str, limits: dict[str, Any], **args: Any) -> Measured:
    """step() of zkml.bench.runner, under limits: one run, the operation's own time."""
    figures, stdout = measure([sys.executable, "-m", "zkml.bench.ops", op,
                               json.dumps(args, default=str)], **limits)
    inner = json.loads(stdout.strip().splitlines()[-1])["seconds"]
    return Measured(inner, figures.wall_seconds, figures.peak_mb, figures.cpu_seconds)


# ------------------------------------------------------------------------------ zkml


@contextlib.contextmanager
def local_cluster(nodes: int) -> Iterator[tuple[str, dict[str, str]]]:
    """A Ray cluster on this machine, token auth, node k pinned to core k (taskset) with one
    CPU: (its address, the environment that reaches it). Every process it starts is stopped."""
    ray = Path(sys.executable).parent / "ray"
    token = secrets.token_hex(16)
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    address = f"127.0.0.1:{port}"
    temp = tempfile.mkdtemp(prefix="zr-", dir="/tmp")  # short: Ray's socket paths
    env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": token}
    started: list[subprocess.Popen[bytes]] = []
    common = ["--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1",
              "--disable-usage-stats"]
    cores = os.cpu_count() or 1

    def start(k: int, *args: str) -> None:
        started.append(subprocess.Popen(
            ["taskset", "-c", str(k % cores), str(ray), "start", *args, *common], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True))

    try:
        start(0, "--head", "--port", str(port), "--temp-dir", temp,
              "--include-dashboard", "false")
        deadline = time.monotonic() + 120
        while not _listening(port):
            if time.monotonic() > deadline:
                raise RuntimeError("the Ray head did not start")
            time.sleep(0.2)
        for k in range(1, nodes):
            start(k, "--address", address)
        count = "import ray; ray.init(address=%r); print(sum(n['Alive'] for n in ray.nodes()))"
        while subprocess.run([sys.executable, "-c", count % address], env=env, text=True,
                             capture_output=True, timeout=120).stdout.strip() != str(nodes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"the Ray cluster did not reach {nodes} nodes")
            time.sleep(1)
        yield address, env
    finally:
        for process in started:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(process.pid, 9)
        _stop_token_processes(token)
        for process in started:
            process.wait(timeout=60)
        shutil.rmtree(temp, ignore_errors=True)


def _listening(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), timeout=1).close()
        return True
    except OSError:
        return False


def _stop_token_processes(token: str) -> None:
    """Ray's daemons leave their session: found by the token in their environment."""
    for _ in range(60):
        mine = []
        for proc in Path("/proc").glob("[0-9]*"):
            with contextlib.suppress(OSError):
                if token.encode() in (proc / "environ").read_bytes() and \
                        int(proc.name) != os.getpid():
                    mine.append(int(proc.name))
        if not mine:
            return
        for pid in mine:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, 9)
        time.sleep(0.5)


def zkml(spec: Any, circuits: Path, ray: bool = True, max_logrows: int | None = None,
         progress: ProgressHook = ignore) -> dict[str, Any]:
    """zkml on the model (its defaults, or --max-logrows): export, compile, setup (each in its
    own process), then one input proved whole-process: segments one at a time, then on Ray
    (1 and 2 nodes)."""
    from zkml.export import export
    from zkml.models import bundled

    layout = ModelLayout.for_model(spec.name, circuits)
    export(bundled.load(spec), layout)
    found: dict[str, Any] = {"steps": {}}
    options: dict[str, Any] = {} if max_logrows is None else {"max_logrows": max_logrows}
    for name, args in (("compile", {"options": options}), ("setup", {})):
        progress(Progress("bench", f"{spec.name}: zkml {name}"))
        found["steps"][name] = _figures(step(f"zkml_{name}", 1, root=layout.root, **args))
    settings = json.loads(layout.settings.read_text())
    chain = settings.get("segments") or {}
    found.update(logrows=settings["run_args"]["logrows"], num_rows=settings["num_rows"],
                 segments=[{"rows": s["rows"], "cut": s["cut"] and s["cut"]["tensors"]}
                           for s in chain.get("list", [])],
                 pk_bytes=sum(p.stat().st_size for p in layout.root.rglob("pk.key")))
    source = layout.root / "bench-input.json"
    source.write_text(json.dumps(ExportedModel.load(layout).holdout[0].tolist()))
    target = layout.root / "bench-proof.json"

    def prove(label: str, *extra: str, env: dict[str, str] | None = None) -> None:
        progress(Progress("bench", f"{spec.name}: zkml prove, {label}"))
        figures, stdout = measure(_cli(layout, "prove", layout.name, "--input", str(source),
                                       "-o", str(target), *extra), env=env,
                                  every=SAMPLE_EVERY)
        stage = _stage(stdout)
        runs = stage.get("segments") or []
        found["steps"][f"prove {label}"] = {
            **_figures(figures), "engine": stage.get("engine"),
            "witness_s": round(sum(r["witness_seconds"] for r in runs), 3),
            "prove_s": round(sum(r["prove_seconds"] for r in runs), 3),
            "critical_path_s": stage.get("critical_path_seconds"),
            "wall_s": stage.get("wall_seconds"), "segments": runs}

    prove("one at a time", *(["--workers", "1"] if found["segments"] else []))
    if ray and found["segments"]:
        for nodes in (1, 2):
            with local_cluster(nodes) as (address, env):
                prove(f"ray {nodes} node{'s' if nodes > 1 else ''}", "--ray", address, env=env)
    return found


def targets(ours: dict[str, Any], theirs: dict[str, Any]) -> dict[str, Any]:
    """The issue's three targets, each with its figures and whether it was met."""
    one = ours["steps"].get("prove one at a time", {})
    found: dict[str, Any] = {}
    theirs_prove = theirs.get("steps", {}).get("prove")
    if one and theirs_prove and "stopped" not in theirs_prove:
        ratio = one["peak_mb"] / theirs_prove["peak_mb"]
        found["peak"] = {"zkml_mb": one["peak_mb"], "ezkl_mb": theirs_prove["peak_mb"],
                         "ratio": round(ratio, 3), "met": ratio <= PEAK_RATIO}
        summed = one["witness_s"] + one["prove_s"]
        ratio = summed / theirs_prove["seconds"]
        found["prove"] = {"zkml_s": round(summed, 3), "ezkl_s": theirs_prove["seconds"],
                          "ratio": round(ratio, 3), "met": ratio <= PROVE_RATIO}
    single, double = (ours["steps"].get(f"prove ray {n}") for n in ("1 node", "2 nodes"))
    if single and double:
        ratio = double["wall_seconds"] / single["wall_seconds"]
        found["ray"] = {"one_node_s": single["wall_seconds"], "two_nodes_s":
                        double["wall_seconds"], "ratio": round(ratio, 3),
                        "met": ratio <= RAY_RATIO}
    return found


def part_split(results: dict[str, Any], circuits: Path, scratch: Path,
               progress: ProgressHook = ignore, save: Any = None) -> None:
    """Every model of the part, each saved (`save()`) as soon as it is measured: the part
    takes hours."""
    from zkml.bench.zoo import SPLIT

    specs = {spec.name: spec for spec in SPLIT}
    for name in [*TARGETS, BEYOND]:
        beyond = name == BEYOND
        ours = zkml(specs[name], circuits, ray=not beyond, progress=progress)
        progress(Progress("bench", f"{name}: plain ezkl"
                          + (" (under this machine's limits)" if beyond else "")))
        theirs = plain(ModelLayout.for_model(name, circuits), scratch, limited=beyond)
        results["split"][name] = {"description": specs[name].description, "zkml": ours,
                                  "plain_ezkl": theirs, "targets": targets(ours, theirs)}
        if save is not None:
            save()


# ------------------------------------------------------------------------------ the report


def _s(value: Any) -> str:
    return "-" if value is None else f"{value:,.1f}"


def markdown(results: dict[str, Any]) -> list[str]:
    """The part's section of results.md."""
    split = results.get("split")
    if not split:
        return []
    lines = ["\n## Beyond one circuit: segments (part split)\n",
             "zkml with its defaults (`--max-logrows 18`): the model cut into segments of at "
             "most 2^18 rows, each proved apart and verified as one chain; plain ezkl with its "
             "defaults on the same ONNX. Proving one input, whole process: zkml's segments one "
             "at a time (`--workers 1`) and on a local Ray cluster of one node and of two (each "
             "node one CPU, pinned to its own core). Peak memory: the process and its "
             "workers. Summed prove: every segment's witness and proof (zkml), the witness and "
             "the proof (plain ezkl), the operations alone.\n",
             "| model | pipeline | logrows | segments | rows | proving keys (MB) | compile (s) | "
             "setup (s) | summed prove (s) | whole prove, wall (s) | peak (MB) | Ray 1 node, "
             "wall (s) | Ray 2 nodes, wall (s) |", "|---|---|---|---|---|---|---|---|---|---|"
             "---|---|---|"]
    for name, row in split.items():
        ours, theirs = row["zkml"], row["plain_ezkl"]
        one = ours["steps"].get("prove one at a time", {})
        ray1 = ours["steps"].get("prove ray 1 node", {})
        ray2 = ours["steps"].get("prove ray 2 nodes", {})
        lines.append(
            f"| {name} | zkml | {ours['logrows']} | {len(ours['segments']) or 1} | "
            f"{ours['num_rows']:,} | {ours['pk_bytes'] / 1e6:,.0f} | "
            f"{_s(ours['steps']['compile']['seconds'])} | "
            f"{_s(ours['steps']['setup']['seconds'])} | "
            f"{_s(one.get('witness_s', 0) + one.get('prove_s', 0))} | "
            f"{_s(one.get('wall_seconds'))} | {_s(one.get('peak_mb'))} | "
            f"{_s(ray1.get('wall_seconds'))} | {_s(ray2.get('wall_seconds'))} |")
        steps = theirs.get("steps", {})
        prove = steps.get("prove", {})
        lines.append(
            f"| {name} | plain ezkl | {theirs.get('logrows', '-')} | 1 | "
            f"{theirs.get('num_rows', 0):,} x {theirs.get('inner_cols', '-')} columns | "
            f"{theirs.get('pk_bytes', 0) / 1e6:,.0f} | "
            f"{_s(steps.get('settings', {}).get('seconds', 0) + steps.get('compile', {}).get('seconds', 0))} | "  # noqa: E501
            f"{_s(steps.get('setup', {}).get('seconds'))} | {_s(prove.get('seconds'))} | "
            f"{_s(prove.get('wall_seconds'))} | {_s(prove.get('peak_mb'))} | - | - |")
    lines.append("\nTargets (zkml against plain ezkl, and against itself on Ray):\n")
    for name, row in split.items():
        t = row["targets"]
        said = []
        if "peak" in t:
            said.append(f"peak {t['peak']['ratio']:.2f}x plain ezkl's (target <= 0.33: "
                        f"{'met' if t['peak']['met'] else 'missed'})")
            said.append(f"summed prove {t['prove']['ratio']:.2f}x (target <= 1: "
                        f"{'met' if t['prove']['met'] else 'missed'})")
        if "ray" in t:
            said.append(f"2 Ray nodes {t['ray']['ratio']:.2f}x one node's wall (target <= 0.6: "
                        f"{'met' if t['ray']['met'] else 'missed'})")
        stopped = row["plain_ezkl"].get("stopped")
        if stopped:
            said.append(f"plain ezkl could not prove it here: {stopped}")
        lines.append(f"- {name} ({row['description']}): " + "; ".join(said) + ".")
    lines.append("\nEach segment of zkml's one-at-a-time prove (the profile of every figure "
                 "above):\n")
    lines += ["| model | segment | rows | witness (s) | prove (s) | peak (MB) |",
              "|---|---|---|---|---|---|"]
    for name, row in split.items():
        ours = row["zkml"]
        runs = ours["steps"].get("prove one at a time", {}).get("segments", [])
        for run, segment in zip(runs, ours["segments"], strict=False):
            lines.append(f"| {name} | {run['segment'] + 1} | {segment['rows']:,} | "
                         f"{run['witness_seconds']:.2f} | {run['prove_seconds']:.2f} | "
                         f"{_s(run['peak_mb'])} |")
    return lines
