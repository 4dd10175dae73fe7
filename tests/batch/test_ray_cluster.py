"""prove-batch on a real Ray cluster with token authentication (Ray's default since 2.5x):
without the token it is one line saying what to set; with it, a two-node cluster proves the
batch. Each cluster runs on loopback, and only the processes this test started are stopped."""

import contextlib
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

from zkml import proof, proving
from zkml.evm.anvil import free_port
from zkml.export import ExportedModel
from zkml.layout import BatchLayout

pytest.importorskip("ray")
pytestmark = pytest.mark.integration

RAY = Path(sys.executable).parent / "ray"


class Cluster:
    """`ray start --head` (and more nodes) with token auth. Every process of the cluster
    carries this cluster's random token in its environment: that is how stop() finds exactly
    the processes it started, and none of anyone else's Ray."""

    def __init__(self) -> None:
        self.token = secrets.token_hex(16)
        self.port = free_port()
        self.address = f"127.0.0.1:{self.port}"
        self.temp = tempfile.mkdtemp(prefix="zr-", dir="/tmp")  # short: Ray's socket paths
        self.env = {**os.environ, "RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN": self.token}
        self.started: list[subprocess.Popen] = []  # the `ray start --block` commands

    def start(self, nodes: int) -> None:
        common = ["--block", "--node-ip-address", "127.0.0.1", "--num-cpus", "1",
                  "--disable-usage-stats"]
        self._ray("start", "--head", "--port", str(self.port), "--temp-dir", self.temp,
                  "--include-dashboard", "false", *common)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
                break
            except OSError:
                time.sleep(0.2)
        for _ in range(nodes - 1):
            self._ray("start", "--address", self.address, *common)
        count = "import ray; ray.init(address=%r); print(sum(n['Alive'] for n in ray.nodes()))"
        while time.monotonic() < deadline:
            alive = subprocess.run([sys.executable, "-c", count % self.address], env=self.env,
                                   capture_output=True, text=True, timeout=60).stdout.strip()
            if alive == str(nodes):
                return
            time.sleep(1)
        raise AssertionError(f"the cluster did not reach {nodes} nodes")

    def _ray(self, *args: str) -> None:
        self.started.append(subprocess.Popen(
            [str(RAY), *args], env=self.env, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True))

    def processes(self) -> list[int]:
        mine = []
        for proc in Path("/proc").glob("[0-9]*"):
            try:
                if self.token.encode() in (proc / "environ").read_bytes():
                    mine.append(int(proc.name))
            except OSError:
                continue
        return [pid for pid in mine if pid != os.getpid()]

    def stop(self) -> None:
        deadline = time.monotonic() + 30
        while (left := self.processes()) and time.monotonic() < deadline:
            for pid in left:
                with contextlib.suppress(ProcessLookupError):  # exited meanwhile
                    os.kill(pid, signal.SIGKILL)
            time.sleep(0.5)
        for process in self.started:
            process.wait(timeout=30)
        assert not self.processes(), "processes of the cluster outlived it"


@pytest.fixture
def cluster():
    started = Cluster()
    try:
        yield started
    finally:
        started.stop()


def inputs(layout, path, count):
    rows = ExportedModel.load(layout).holdout[:count]
    path.write_text("".join(json.dumps({"id": f"p{i}", "input": r.tolist()}) + "\n"
                            for i, r in enumerate(rows)))
    return path


def prove_batch(layout, source, out, address, env):
    return subprocess.run(
        [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(layout.root.parent),
         "prove-batch", layout.name, str(source), "--out", str(out), "--ray", address],
        env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.slow  # a cluster's start alone takes 20 s; the default tier's Ray is local
def test_a_token_cluster_without_the_token_is_one_line_naming_the_fix(breast_cancer, tmp_path,
                                                                       cluster):
    cluster.start(nodes=1)
    env = {k: v for k, v in os.environ.items() if not k.startswith("RAY_AUTH")}
    result = prove_batch(breast_cancer, inputs(breast_cancer, tmp_path / "in.jsonl", 1),
                         tmp_path / "out", cluster.address, env)
    assert result.returncode == 1
    assert result.stderr.splitlines()[-1].startswith("error: the Ray cluster at")
    assert "token authentication" in result.stderr and "RAY_AUTH_MODE=token" in result.stderr
    assert "Traceback" not in result.stderr and "gcs_client" not in result.stderr


@pytest.mark.slow
def test_prove_batch_on_a_two_node_cluster_with_token_auth(breast_cancer, tmp_path, cluster):
    cluster.start(nodes=2)
    source = inputs(breast_cancer, tmp_path / "in.jsonl", 4)
    result = prove_batch(breast_cancer, source, tmp_path / "out", cluster.address, cluster.env)
    assert result.returncode == 0, result.stderr
    assert f"4/4 valid proofs in {tmp_path / 'out'}/proofs" in result.stdout
    for i in range(4):
        proof.verify(breast_cancer, BatchLayout(tmp_path / "out").proof(f"p{i}"))


@pytest.mark.slow
def test_a_segmented_model_is_proved_on_a_two_node_cluster(chain_mlp, tmp_path, cluster):
    """Its two segments' proofs are Ray tasks, one CPU each: one on each node."""
    cluster.start(nodes=2)
    source = tmp_path / "input.json"
    source.write_text(json.dumps(ExportedModel.load(chain_mlp).holdout[5].tolist()))
    target = tmp_path / "p.json"
    result = subprocess.run(
        [sys.executable, "-m", "zkml.cli", "--json", "--circuits-dir",
         str(chain_mlp.root.parent), "prove", chain_mlp.name, "--input", str(source), "-o",
         str(target), "--ray", cluster.address],
        env=cluster.env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    (stage,) = json.loads(result.stdout)["stages"]
    assert stage["engine"] == f"ray ({cluster.address})"
    where = {run["where"] for run in stage["segments"]}
    assert len(where) == 2 and all(w.startswith("ray node ") for w in where)
    proving.verify(chain_mlp, target)
