"""Options several commands share: the model source, the circuit, the chain."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import click


def source_options(fn: Callable) -> Callable:
    fn = click.option("--name", help="Artifact folder name [default: from MODEL].")(fn)
    fn = click.option("--weights", type=click.Path(path_type=Path),
                      help="State dict for MODEL given as file.py:Class.")(fn)
    fn = click.option("--samples", type=click.Path(path_type=Path),
                      help="Real sample inputs for calibration: JSON, CSV or .npy rows; for "
                      "several inputs JSON keyed by input name, a list per input, ezkl's "
                      "input_data or .npz.")(fn)
    fn = click.option("--classes", help="Names of a classifier's outputs, comma-separated, in "
                      "order (e.g. benign,malignant).")(fn)
    fn = click.option("--atol", type=click.FloatRange(0, min_open=True), default=None,
                      help="Largest |torch - ONNX| output difference export accepts "
                      "[default: 1e-4].")(fn)
    return fn


def circuit_options(fn: Callable) -> Callable:
    fn = click.option("--input-visibility", type=click.Choice(["committed", "private"]),
                      default="committed", show_default=True,
                      help="committed: the input stays private and the proof publishes a "
                      "salted commitment to it (what the registry keys results by); private: "
                      "no commitment.")(fn)
    fn = click.option("--commitment", type=click.Choice(["auto", "kzg", "poseidon"]),
                      default="auto", show_default=True,
                      help="The commitment scheme: auto is kzg for up to 7 inputs per proof "
                      "(cheapest to prove and verify), poseidon above (less verifier gas).")(fn)
    fn = click.option("--weights-visibility", "weights_visibility",
                      type=click.Choice(["fixed", "hashed"]), default="fixed", show_default=True,
                      help="hashed keeps weights private, committed by a public Poseidon hash.")(fn)
    fn = click.option("--batch", "subjects", type=click.IntRange(1), default=1,
                      show_default=True, help="Private inputs (subjects) per proof.")(fn)
    fn = click.option("--max-error-pct", type=click.FloatRange(0, min_open=True), default=0.5,
                      show_default=True, help="Error budget: the largest |circuit - float| "
                      "allowed on held-out samples, as % of each output's spread (p99 - p1 of "
                      "its float values).")(fn)
    fn = click.option("--max-error", type=click.FloatRange(0), default=None,
                      help="Error budget in absolute terms, for every output (replaces "
                      "--max-error-pct).")(fn)
    fn = click.option("--decision-threshold", type=float, default=None,
                      help="A single-output model's decision boundary: no held-out decision "
                      "may flip across it (float above, circuit below, or the reverse).")(fn)
    fn = click.option("--min-agreement", type=click.FloatRange(0, 1), default=1.0,
                      show_default=True, help="A classifier's least share of held-out samples "
                      "on which the circuit keeps the float model's argmax.")(fn)
    fn = click.option("--target", type=click.Choice(["resources", "accuracy"]),
                      default="resources", show_default=True, help="ezkl calibration target.")(fn)
    fn = click.option("--max-logrows", type=click.IntRange(9, 26), default=None,
                      help="The largest circuit, 2^L rows: a model that needs more is cut into "
                      "segments of at most 2^L rows each, proved apart and verified as one "
                      "chain [default: 18: a segment's proof peaks near 2 GB].")(fn)
    fn = click.option("--optimize", type=click.Choice(["time", "size", "accuracy"]),
                      help="Search settings for the fastest proof, smallest key or least error, "
                      "inside the error budget (records why in optimize.json).")(fn)
    return fn


def reuse_salt_option(fn: Callable) -> Callable:
    return click.option("--reuse-salt", is_flag=True,
                        help="An input proved before keeps its first commitment: its salt "
                        "from circuits/MODEL/secrets/ (Poseidon commitments only: a KZG one is "
                        "never proved twice) [default: a new salt, and a warning naming the "
                        "earlier commitment].")(fn)


def force_option(fn: Callable) -> Callable:
    return click.option("--force", is_flag=True, help="Redo the stage even if cached.")(fn)


def rpc_options(fn: Callable) -> Callable:
    fn = click.option("--chain-id", type=int, envvar="ZKML_CHAIN_ID",
                      help="Refuse an --rpc-url on any other chain [$ZKML_CHAIN_ID].")(fn)
    return click.option("--rpc-url", envvar="ZKML_RPC_URL",
                        help="Use this node [default: a throwaway local Anvil; $ZKML_RPC_URL].")(fn)


def activation_delay_option(fn: Callable) -> Callable:
    return click.option(
        "--activation-delay", metavar="DURATION",
        help="For a registry this deploys: how long each version it adds waits before it "
        "counts for currentResultOf, e.g. 2d, 48h, 90m, 0; fixed for the registry's life "
        "[default: 0 on a development chain (id 31337), 2d on any other].")(fn)


def circuit_from(input_visibility: str, commitment: str, weights_visibility: str, subjects: int,
             max_error_pct: float, max_error: float | None, decision_threshold: float | None,
             min_agreement: float, target: str, max_logrows: int | None) -> Any:
    from zkml.circuit import CircuitOptions

    return CircuitOptions(input_visibility=input_visibility, commitment=commitment,
                          weights=weights_visibility, subjects=subjects,
                          max_error=max_error, max_error_pct=max_error_pct,
                          decision_threshold=decision_threshold, min_agreement=min_agreement,
                          calibration_target=target, max_logrows=max_logrows)


def class_names(text: str | None) -> list[str] | None:
    return None if not text else [c.strip() for c in text.split(",")]
