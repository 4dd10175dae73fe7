"""The door to ezkl: a worker that deadlocks, dies or overruns becomes an error, never a hang."""

import sys
import time

import pytest

from zkml import _ezkl


def test_a_worker_that_stops_using_cpu_is_stopped(monkeypatch):
    monkeypatch.setattr(_ezkl, "STALL_SECONDS", 1.5)
    hung = _ezkl.Worker([sys.executable, "-c", "import time, sys; time.sleep(120)"])
    start = time.monotonic()
    with pytest.raises(_ezkl.EzklFailure, match="stopped making progress") as info:
        hung.call("prove", (), {})
    assert info.value.stuck and time.monotonic() - start < 10
    assert hung.process is None  # killed, and the next call starts a fresh one


def test_a_busy_worker_over_its_time_limit_is_stopped():
    busy = _ezkl.Worker([sys.executable, "-c", "while True: pass"])
    with pytest.raises(_ezkl.EzklFailure, match="time limit of 2 s") as info:
        busy.call("setup", (), {}, time_limit=2)
    assert info.value.stuck


def test_a_worker_that_dies_is_an_error():
    dead = _ezkl.Worker([sys.executable, "-c", "import sys; sys.exit(3)"])
    with pytest.raises(_ezkl.EzklFailure, match="exited|crashed"):
        dead.call("prove", (), {})


def test_ezkl_errors_come_back_with_their_message(tmp_path):
    with pytest.raises(_ezkl.EzklFailure, match="No such file"):
        _ezkl.call("verify", str(tmp_path / "none.json"), str(tmp_path / "s.json"),
                   str(tmp_path / "vk.key"), srs_path=str(tmp_path / "srs"))


FAILING_WORKER = """
import os, sys
from zkml._ezkl import receive, send

requests, replies = os.fdopen(int(sys.argv[1]), "rb"), os.fdopen(int(sys.argv[2]), "wb")
receive(requests)
send(replies, ("error", "assertion `left == right` failed\\n  left: 512\\n right: 2048", "log"))
"""


def test_a_failure_that_spans_lines_is_one_line():
    """A Rust assertion (here from a proving key of another circuit) becomes one line; the
    whole text stays in the failure's log."""
    worker = _ezkl.Worker([sys.executable, "-c", FAILING_WORKER])
    with pytest.raises(_ezkl.EzklFailure) as info:
        worker.call("prove", (), {})
    worker.stop()
    assert str(info.value) == "assertion `left == right` failed; left: 512; right: 2048"
    assert info.value.log == "log"
