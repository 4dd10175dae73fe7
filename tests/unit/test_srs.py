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


def real_srs(path, k):
    from zkml import _ezkl

    _ezkl.call("gen_srs", str(path), k)
    return path


def test_user_srs_large_enough_is_used_as_given(tmp_path):
    chosen = resolve(4, real_srs(tmp_path / "k5.srs", 5))
    assert chosen.logrows == 5 and not chosen.local


def test_degenerate_or_inconsistent_srs_is_refused(tmp_path):
    """All zeros (no generator, τ·G2 the identity) would let anyone forge proofs; so would
    τ·G2 from another secret than τ·G1."""
    with pytest.raises(SrsError, match="points are not generators and powers of one secret"):
        resolve(4, fake_srs(tmp_path / "zero.srs", 5))
    mixed = real_srs(tmp_path / "a.srs", 5).read_bytes()
    other = real_srs(tmp_path / "b.srs", 5).read_bytes()
    (tmp_path / "mixed.srs").write_bytes(mixed[:-128] + other[-128:])
    with pytest.raises(SrsError, match="not generators and powers of one secret"):
        resolve(4, tmp_path / "mixed.srs")
