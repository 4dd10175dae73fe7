"""A subject's commitment recomputed from the model's public artifacts: what a data subject,
who holds the input and the salt, checks a proof's `input_commitments`, the registry's key and a
salt file against. It reads the settings and, for KZG, the verifying key and SRS (never the
proving key or a witness), so it sits above the stages that make them; the scheme itself is
zkml.subjects. A segmented model's subject is committed by its first segment's key."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from zkml import _ezkl, segments
from zkml.circuit import CircuitSettings
from zkml.errors import CircuitError
from zkml.export import ExportedModel
from zkml.felts import felt_hex
from zkml.inputs import parse_input, parse_salt, read_private_input
from zkml.keys import current_keys
from zkml.layout import ModelLayout, read_json
from zkml.subjects import message, point_bytes, points_key


def commitment(layout: ModelLayout, row: Any, salt: int) -> str:
    """A subject's input commitment computed outside the circuit, as a 0x number: what the data
    subject, who holds the input (all of its inputs: an array, a list per input or an object
    keyed by input name, as `prove` takes it) and the salt, checks a proof's
    `input_commitments` (and the registry's key, and proof.secret.json) against. Needs the
    model's settings, and for "kzg" its verifying key and SRS: public files, not the proving
    key or any witness."""
    settings = CircuitSettings.load(layout)
    if settings.commitment is None:
        raise CircuitError(f"{layout.name}'s circuit publishes no commitment to its input",
                           hint="compile it with --input-visibility committed")
    signature = ExportedModel.load(layout).signature
    (flat,) = parse_input(row, signature, "input")
    felts = message(flat, salt, settings.input_scale, signature)
    if settings.commitment == "poseidon":
        return felt_hex(str(_ezkl.call("poseidon_hash", felts)[0]))
    keys = current_keys(layout, proving=False)
    circuit = layout.segment(0) if segments.is_segmented(layout) else layout  # its input's
    points = _ezkl.call("kzg_commit", felts, str(circuit.vk), str(circuit.settings),
                        str(keys.checked_srs()))
    if len(points) != keys.commitment_points:
        raise CircuitError(f"{layout.name}'s proofs carry {keys.commitment_points} point(s) per "
                           f"subject; this input spans {len(points)}",
                           hint=f"run `zkml setup {layout.name} --force`")
    return points_key(b"".join(point_bytes(p) for p in points))


@dataclass(frozen=True)
class CommitmentCheck:
    """One subject of a proof.secret.json: the commitment its input and salt give, and the one
    the file names (what the registry keys the subject's result by)."""

    index: int
    computed: str
    claimed: str
    matches: bool


def check_secret(layout: ModelLayout, input_file: Path, secret_file: Path) -> list[CommitmentCheck]:
    """Recompute each subject's commitment from its private input (as given to `zkml prove`)
    and the salt in a salt file (a proof's proof.secret.json, or one subject's file in the
    model's store, secrets/<commitment>.json), offline, and compare it with the commitment the
    file names: how a data subject checks that a recorded result is about them."""
    raw = read_json(secret_file, "secret file")
    entries = raw.get("subjects") if isinstance(raw, dict) else None
    if not isinstance(entries, list) or not entries or not all(
            isinstance(e, dict) and "salt" in e and "commitment" in e for e in entries):
        raise CircuitError(f"{secret_file} is not a salt file",
                           hint='it holds {"subjects": [{"salt": …, "commitment": …}]}: '
                           "a proof.secret.json, or secrets/<commitment>.json")
    settings = CircuitSettings.load(layout)
    if len(entries) not in (1, settings.subjects):
        raise CircuitError(f"{secret_file} holds {len(entries)} subject(s); {layout.name}'s "
                           f"proofs have {settings.subjects}", hint="check the model")
    private = read_private_input(input_file)  # one subject's input for a one-subject file
    rows = parse_input(private.values, ExportedModel.load(layout).signature, str(input_file),
                       len(entries))
    checks = []
    for j, (row, entry) in enumerate(zip(rows, entries, strict=True)):
        computed = commitment(layout, row, parse_salt(entry["salt"], secret_file))
        try:
            claimed = f"0x{int(str(entry['commitment']), 16):064x}"
        except ValueError:
            claimed = str(entry["commitment"])[:80]
        checks.append(CommitmentCheck(j, computed, claimed, computed == claimed))
    return checks
