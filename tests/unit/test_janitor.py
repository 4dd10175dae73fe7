"""What a process leaves mid-write is removed the moment it dies, even by SIGKILL; private
inputs handed to ezkl are owner-only."""

import os
import subprocess
import sys
import time

from zkml.layout import write_private_text

KILLED = """
import os, signal, sys
from pathlib import Path
from zkml.layout import atomic_path, private_scratch

with private_scratch("witness") as scratch, atomic_path(Path(sys.argv[1])) as tmp:
    (scratch / "witness.json").write_text("private")
    tmp.write_text("half a proof")
    print(scratch, tmp, flush=True)
    os.kill(os.getpid(), signal.SIGKILL)
"""


def test_a_killed_process_leaves_no_scratch_or_temporary_file(tmp_path):
    result = subprocess.run([sys.executable, "-c", KILLED, str(tmp_path / "proof.json")],
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == -9
    scratch, tmp = result.stdout.split()
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline and (os.path.exists(scratch) or os.path.exists(tmp)):
        time.sleep(0.05)
    assert not os.path.exists(scratch) and not os.path.exists(tmp)
    assert list(tmp_path.iterdir()) == []


def test_private_text_is_owner_only_whatever_the_umask(tmp_path):
    old = os.umask(0)
    try:
        write_private_text(tmp_path / "input.json", "[1, 2, 3]")
    finally:
        os.umask(old)
    assert (tmp_path / "input.json").stat().st_mode & 0o777 == 0o600
