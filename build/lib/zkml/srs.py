"""Structured reference strings: a cached local one for development, or a ceremony file.

ezkl's `get_srs` downloads and cannot work offline; `gen_srs` makes a new random SRS on every
call, and keys and proofs are tied to the exact file, so a local SRS is made once per logrows and
kept. Whoever generated it knows its toxic waste and could forge proofs: it is for development
and tests only, never for proofs that others must trust.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from zkml import _ezkl
from zkml.errors import SrsError
from zkml.layout import atomic_path, default_cache_dir

LOCAL_SRS_WARNING = (
    "INSECURE SRS: generated locally for development; whoever made it can forge proofs. "
    "For production pass --srs with a file from a public KZG ceremony."
)
MAX_LOGROWS = 26


@dataclass(frozen=True)
class Srs:
    path: Path
    logrows: int
    local: bool  # True: generated here, insecure outside development


def srs_logrows(path: Path) -> int:
    """The k of a halo2 KZG params file, after checking the file is complete."""
    if not path.is_file():
        raise SrsError(f"SRS file not found: {path}")
    with path.open("rb") as fh:
        header = fh.read(4)
    if len(header) < 4:
        raise SrsError(f"{path} is not an SRS file (too short)")
    (k,) = struct.unpack("<I", header)
    # halo2 writes k, 2^k G1 points twice (monomial and Lagrange, 64 bytes each), then two G2 points
    expected = 4 + 2 * 64 * (1 << k) + 256 if 0 < k <= MAX_LOGROWS else None
    if expected != path.stat().st_size:
        raise SrsError(
            f"{path} is not a valid KZG SRS file (corrupt, truncated or another format)",
            hint="use a halo2/ezkl KZG params file, or omit --srs to use a local development SRS",
        )
    return k


def _points_consistent(path: Path) -> bool:
    """Whether an SRS file's points are what a KZG setup makes: the G1 and G2 generators,
    τ·G1 and τ·G2 on their curves and agreeing (one pairing check, e(τG1, G2) = e(G1, τG2)).

    A degenerate file (zeros, garbage, an identity τ·G2) would let anyone forge proofs; this
    check refuses it. An SRS whose τ someone knows cannot be detected: use a public ceremony's.
    halo2 stores the points' coordinates in Montgomery form, little-endian.
    """
    from py_ecc import optimized_bn128 as bn
    from py_ecc.fields import field_properties

    q = field_properties["bn128"]["field_modulus"]
    inverse_r = pow(pow(2, 256, q), -1, q)
    data = path.read_bytes()

    def coordinate(at: int) -> int:
        return int.from_bytes(data[at:at + 32], "little") * inverse_r % q

    def g1(at: int) -> tuple:
        return bn.FQ(coordinate(at)), bn.FQ(coordinate(at + 32)), bn.FQ.one()

    def g2(at: int) -> tuple:
        return (bn.FQ2([coordinate(at), coordinate(at + 32)]),
                bn.FQ2([coordinate(at + 64), coordinate(at + 96)]), bn.FQ2.one())

    generator, tau_g1 = g1(4), g1(68)
    g2_generator, tau_g2 = g2(len(data) - 256), g2(len(data) - 128)
    if not (bn.eq(generator, bn.G1) and bn.eq(g2_generator, bn.G2)
            and bn.is_on_curve(tau_g1, bn.b) and bn.is_on_curve(tau_g2, bn.b2)):
        return False
    return bool(bn.pairing(g2_generator, tau_g1) == bn.pairing(tau_g2, generator))


def local_srs(logrows: int, cache_dir: Path | None = None) -> Srs:
    path = (cache_dir or default_cache_dir()) / "srs" / f"kzg{logrows}.srs"
    if not path.is_file():
        with atomic_path(path) as tmp:
            try:
                _ezkl.call("gen_srs", str(tmp), logrows)
            except _ezkl.EzklFailure as exc:
                raise SrsError(f"generating a local SRS (logrows {logrows}) failed: {exc}") from exc
    return Srs(path=path, logrows=srs_logrows(path), local=True)


def resolve(logrows: int, user_srs: Path | None = None, cache_dir: Path | None = None) -> Srs:
    """The SRS to make keys with: the user's file if given (checked), else the cached local one."""
    if user_srs is None:
        return local_srs(logrows, cache_dir)
    k = srs_logrows(user_srs)
    if k < logrows:
        raise SrsError(
            f"SRS {user_srs} has logrows {k} but the circuit needs {logrows}",
            hint=f"use an SRS with at least 2^{logrows} points (a ceremony's k={logrows} file)",
        )
    if not _points_consistent(user_srs):
        raise SrsError(
            f"{user_srs} is not a KZG SRS: its points are not generators and powers of one "
            "secret (degenerate or corrupt: proofs against it could be forged)",
            hint="use the params file of a public KZG ceremony",
        )
    return Srs(path=user_srs.resolve(), logrows=k, local=False)
