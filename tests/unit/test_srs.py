import struct

import pytest

from zkml.errors import SrsError
from zkml.srs import resolve, srs_logrows


def fake_srs(path, k, extra=0):
    """A file with the size and header of a KZG params file for 2^k points."""
    path.write_bytes(struct.pack("<I", k) + b"\0" * (2 * 64 * (1 << k) + 256 + extra))
    return path


def test_logrows_read_from_header(tmp_path):
    assert srs_logrows(fake_srs(tmp_path / "k5.srs", 5)) == 5


@pytest.mark.parametrize("extra", [-1, 1])
def test_truncated_or_padded_srs_is_rejected(tmp_path, extra):
    with pytest.raises(SrsError, match="not a valid KZG SRS"):
        srs_logrows(fake_srs(tmp_path / "bad.srs", 5, extra))


def test_garbage_and_missing(tmp_path):
    (tmp_path / "g.srs").write_bytes(b"hello world")
    with pytest.raises(SrsError, match="not a valid KZG SRS"):
        srs_logrows(tmp_path / "g.srs")
    with pytest.raises(SrsError, match="not found"):
        srs_logrows(tmp_path / "missing.srs")


def test_user_srs_too_small_for_circuit(tmp_path):
    with pytest.raises(SrsError, match="has logrows 5 but the circuit needs 11"):
        resolve(11, fake_srs(tmp_path / "k5.srs", 5))


def test_user_srs_large_enough_is_used_as_given(tmp_path):
    chosen = resolve(4, fake_srs(tmp_path / "k5.srs", 5))
    assert chosen.logrows == 5 and not chosen.local
