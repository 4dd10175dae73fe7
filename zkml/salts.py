"""Every salt a proof commits with, kept in the model's owner-only store, one file per
commitment, written once and never overwritten or deleted by zkml.

A result on chain is keyed by a commitment to its subject's input and a secret salt: whoever
loses the salt can no longer show that the result is theirs. proof.secret.json beside a proof
is a copy, replaced by the next proof written to that path; secrets/<commitment>.json is where
the salt stays, in the same form (`zkml commitment --secret` and the subject's page take
either). Each also holds an HMAC of the subject's input, keyed by secrets/.input-key (a plain
hash of a small private input could be brute-forced, and would link one person's records across
models), and secrets/inputs/<HMAC>/ names every commitment made of that input: how a second
proof of the same input is noticed, and its earlier salt found for reuse.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import logging
import os
import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import InputError, ZkmlError
from zkml.inputs import new_salt, parse_salt
from zkml.layout import ModelLayout, SecretsLayout, read_json, write_json, write_json_once

log = logging.getLogger("zkml")


@dataclass(frozen=True)
class Kept:
    """A salt in the store: the commitment it makes with its subject's input, and its file."""

    commitment: str
    salt: int = field(repr=False)  # never in a log, nor in a result (Proof.reused is paths)
    path: Path
    created: str  # ISO 8601, UTC: the oldest of an input's commitments is its first


@dataclass(frozen=True)
class Repeat:
    """A subject whose input was proved before under another commitment."""

    subject: int  # its place in the proof
    commitment: str  # this proof's
    earlier: str  # the input's first commitment
    secret: Path  # where the earlier salt is kept

    def describe(self, source: str, subjects: int) -> str:
        what = f"subject {self.subject} of {source}" if subjects > 1 else source
        return (f"{what} was proved before under commitment {self.earlier} (its salt stays in "
                f"{self.secret}); this proof commits to it under a new commitment "
                f"{self.commitment}, so recording it makes a second result for the same input "
                "(with a Poseidon commitment, --reuse-salt proves it under the first one)")


def _digest(key: bytes, row: Any) -> str:
    """A subject's input as the store knows it: exact values, keyed."""
    return hmac.new(key, np.asarray(row, np.float64).ravel().tobytes(),
                    hashlib.sha256).hexdigest()


def _key(store: SecretsLayout, create: bool) -> bytes | None:
    """The store's HMAC key, made by the first proof (concurrent first proofs agree on one)."""
    if not store.input_key.is_file():
        if not create:
            return None
        write_json_once(store.input_key, secrets.token_bytes(32).hex())
    return bytes.fromhex(read_json(store.input_key, "the salt store's input key"))


def _read(store: SecretsLayout, commitment: str) -> tuple[Kept, str | None] | None:
    """A kept salt and its input's HMAC (None for a file taken in without one)."""
    path = store.salt(commitment)
    if not path.is_file():
        return None
    try:
        data = read_json(path, "kept salt")
        (entry,) = data["subjects"]
        salt = parse_salt(entry["salt"], path, warn=False)
        if entry["commitment"] != commitment:
            raise ValueError("another commitment")
    except (ZkmlError, KeyError, TypeError, ValueError):
        log.warning("%s is not a salt file zkml wrote; left as it is", path)
        return None
    digest = data.get("input_hmac")
    return Kept(commitment, salt, path, str(data.get("created", ""))), \
        digest if isinstance(digest, str) else None


def _of_input(store: SecretsLayout, digest: str) -> list[Kept]:
    """The salts kept for one input, oldest first."""
    folder = store.same_input(digest)
    if not folder.is_dir():
        return []
    found = []
    for name in sorted(os.listdir(folder)):
        with contextlib.suppress(ZkmlError):  # not a commitment: not zkml's
            read = _read(store, name)
            if read is not None and read[1] == digest:
                found.append(read[0])
    return sorted(found, key=lambda k: (k.created, k.commitment))


def earlier(layout: ModelLayout, rows: Any) -> list[list[Kept]]:
    """For each subject's row (as zkml.circuit.check_input gives them): the salts kept for the
    same input by earlier proofs of this model, oldest first."""
    store = layout.secrets
    key = _key(store, create=False)
    return [[] if key is None else _of_input(store, _digest(key, row)) for row in rows]


def choose(given: list[int] | None, kept: list[list[Kept]], reuse: bool) -> list[int]:
    """The salts of a proof: the given ones; with reuse, each subject's first salt kept for the
    same input (its first commitment again); else new ones."""
    if given is not None:
        return given
    return [found[0].salt if reuse and found else new_salt() for found in kept]


def repeats(kept: list[list[Kept]], commitments: list[str]) -> list[Repeat]:
    """The subjects that a proof commits to under a commitment new for their input (kept: as
    `earlier` found them before the proof)."""
    return [Repeat(j, c, found[0].commitment, found[0].path)
            for j, (found, c) in enumerate(zip(kept, commitments, strict=True))
            if found and c not in {k.commitment for k in found}]


def proved_before(kept: list[list[Kept]], reuse: bool, commitments: list[str] | None = None
                  ) -> list[str]:
    """The KZG commitments a proof would carry again: before proving, the ones --reuse-salt
    brings back; after, the ones its commitments repeat (a salt given again)."""
    if commitments is None:
        return [found[0].commitment for found in kept if reuse and found]
    return [c for found, c in zip(kept, commitments, strict=True)
            if c in {k.commitment for k in found}]


def refuse_second_kzg_proof(source: str, commitments: list[str]) -> None:
    """A KZG commitment's column has no random blinding rows: every proof that carries it
    reveals one evaluation of it at a random point, and its salt's blinders (2 per 254 values)
    leave every guess of a short input possible given one such evaluation, not two. So zkml
    never makes a second proof under a KZG commitment it has proved before."""
    if commitments:
        raise InputError(
            f"{source} was proved before under KZG commitment {commitments[0]}: a second "
            "proof carrying it would let anyone who sees both confirm a guess of the input",
            hint="prove it under a new commitment (without --reuse-salt or the earlier salt), "
            "or compile with --commitment poseidon, whose commitment may be proved again")


def given_kzg_salt(source: str) -> str:
    """The warning for a salt given to a KZG commitment: zkml sees the proofs of this model
    folder, not those made elsewhere (another version's) under the same commitment."""
    return (f"{source}: a given salt makes the same KZG commitment in every proof of this "
            "input; if one is already published (by another model or version), this one lets "
            "anyone who sees both confirm a guess of the input (a Poseidon commitment may be "
            "proved again)")


def reused(kept: list[list[Kept]], commitments: list[str]) -> list[Path]:
    """The salt files of the subjects that a proof commits to under a commitment made of their
    input before."""
    return [k.path for found, c in zip(kept, commitments, strict=True)
            for k in found if k.commitment == c]


def same_input(layout: ModelLayout, commitment: str) -> list[Kept]:
    """The other commitments kept for the input behind `commitment`, oldest first."""
    store = layout.secrets
    read = _read(store, commitment) if store.root.is_dir() else None
    if read is None or read[1] is None:
        return []
    return [k for k in _of_input(store, read[1]) if k.commitment != commitment]


def keep(layout: ModelLayout, rows: Any, salts: list[int], commitments: list[str],
         copy: Path | None = None) -> list[Path]:
    """Each subject's salt into the store, then (if given) the proof's copy beside it. A copy
    already there whose salts the store lacks is taken into the store before it is replaced."""
    store = layout.secrets
    store.make()
    key = _key(store, create=True)
    assert key is not None
    if copy is not None:
        _take_in(store, copy)
    now = datetime.now(UTC).isoformat(timespec="microseconds")
    paths = []
    for row, salt, commitment in zip(rows, salts, commitments, strict=True):
        digest = _digest(key, row)
        marker = store.same_input(digest) / commitment
        marker.parent.mkdir(mode=0o700, exist_ok=True)
        # the marker first: a salt file is never without it (a dangling marker is ignored)
        os.close(os.open(marker, os.O_WRONLY | os.O_CREAT, 0o600))
        write_json_once(store.salt(commitment), {
            "subjects": [_entry(salt, commitment)], "input_hmac": digest, "model": layout.name,
            "created": now})
        paths.append(store.salt(commitment))
    if copy is not None:
        write_json(copy, {"subjects": [_entry(s, c) for s, c in zip(
            salts, commitments, strict=True)]}, private=True)
    return paths


def _entry(salt: int, commitment: str) -> dict[str, str]:
    return {"salt": f"0x{salt:064x}", "commitment": commitment}


def _take_in(store: SecretsLayout, copy: Path) -> None:
    """The salts of a proof.secret.json that the store does not hold (written before it
    existed, or by hand), each as its own file, without an input HMAC (the input is unknown)."""
    if not copy.is_file():
        return
    try:
        entries = read_json(copy, "salt copy")["subjects"]
        pairs = [(parse_salt(e["salt"], copy, warn=False), store.salt(e["commitment"]).stem)
                 for e in entries]
    except (ZkmlError, KeyError, TypeError):
        return  # not a salt file: nothing in it to keep
    created = datetime.fromtimestamp(copy.stat().st_mtime, UTC).isoformat(
        timespec="microseconds")
    for salt, commitment in pairs:
        if write_json_once(store.salt(commitment), {
                "subjects": [_entry(salt, commitment)], "created": created,
                "taken_from": str(copy)}):
            log.info("kept the salt of %s from %s in %s", commitment, copy, store.root)
