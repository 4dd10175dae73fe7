"""What a notebook user reads: errors that keep their hint, results and progress as one line."""

import subprocess
import sys
from pathlib import Path

from zkml.errors import ModelError
from zkml.keys import SetupResult
from zkml.progress import Progress


def test_an_error_keeps_its_hint():
    error = ModelError("unknown model 'wnie'", hint="did you mean wine?")
    assert str(error) == "unknown model 'wnie' — did you mean wine?"
    assert str(ModelError("no hint")) == "no hint"


def test_results_and_progress_read_as_the_cli_shows_them():
    result = SetupResult(stage="setup", seconds=14.757024236000007, srs=Path("/c/kzg11.srs"),
                         srs_local=True, logrows=11, pk_bytes=21_000_000, vk_bytes=1_500,
                         warnings=["INSECURE SRS"])
    assert str(result) == ("setup: proving key 21.0 MB, verifying key 1.5 kB, SRS /c/kzg11.srs "
                           "(14.76 s); WARNING INSECURE SRS")
    assert str(Progress("setup", "setup …", starting=True)) == "setup …"
    assert str(Progress("setup", result=result)) == str(result)
    assert str(Progress("batch", "patient-3", done=3, total=10)) == "batch: patient-3 (3/10)"
    cached = SetupResult(stage="setup", cached=True, srs=Path("s"), srs_local=False, logrows=1,
                         pk_bytes=0, vk_bytes=0)
    assert str(cached).endswith("(cached, nothing to do)")


def test_the_library_never_prints(tmp_path):
    """A skipped CSV header is a warning in the "zkml" log; a library user who configured no
    logging sees nothing (the CLI shows it)."""
    csv = tmp_path / "x.csv"
    csv.write_text("a,b\n1,2\n")
    code = ("import pathlib, sys; from zkml.inputs import read_private_input; "
            "read_private_input(pathlib.Path(sys.argv[1]))")
    result = subprocess.run([sys.executable, "-c", code, str(csv)], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0 and result.stdout == "" and result.stderr == ""
