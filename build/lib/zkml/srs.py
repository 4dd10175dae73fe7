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
    return Srs(path=user_srs.resolve(), logrows=k, local=False)
