"""Reading numeric inputs from users' files, with errors that name the file and the fix."""

from __future__ import annotations

import csv
import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import InputError


def _parse_file(path: Path) -> Any:
    if not path.is_file():
        raise InputError(f"input file not found: {path}")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return np.load(path, allow_pickle=False)
        text = path.read_text()
        if suffix == ".csv":
            return [[cell.strip() for cell in row] for row in csv.reader(text.splitlines()) if row]
        data = json.loads(text)
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path} is not a readable {suffix.lstrip('.') or 'JSON'} file: {exc}",
            hint="give a JSON list of numbers, {\"input_data\": [[...]]}, a CSV row or a .npy",
        ) from None
    return data


def _payload(raw: Any, source: Path | str) -> Any:
    """The numbers of a JSON object in ezkl's or zkml's form; anything else as it is."""
    if not isinstance(raw, dict):
        return raw
    for key in ("input_data", "input", "inputs"):
        if key in raw:
            return raw[key]
    raise InputError(f"{source}: object has none of the keys input_data, input, inputs")


def _has_bool(raw: Any) -> bool:
    if isinstance(raw, bool):
        return True
    return isinstance(raw, list) and any(_has_bool(item) for item in raw)


def _to_float_array(raw: Any, path: Path | str) -> np.ndarray:
    if _has_bool(raw):  # numpy would quietly read true/false as 1/0
        raise InputError(f"{path} holds true/false where numbers belong")
    try:
        array = np.asarray(raw, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise InputError(
            f"{path} holds non-numeric or ragged values",
            hint="every value must be a number, and every row the same length",
        ) from None
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(
            f"{path} holds a NaN or infinite value (element {index})",
            hint="a circuit proves finite fixed-point numbers only; clean the input first",
        )
    return array


def load_input(path: Path, input_shape: tuple[int, ...]) -> np.ndarray:
    """One private input, reshaped to the model's input shape."""
    return parse_input(_parse_file(path), input_shape, path)


def parse_input(raw: Any, input_shape: tuple[int, ...], source: Path | str) -> np.ndarray:
    """One input from already-parsed data (a JSON value, a CSV row, an array)."""
    array = _to_float_array(_payload(raw, source), source)
    expected = math.prod(input_shape)
    if array.size != expected:
        raise InputError(
            f"{source} has {array.size} values but the model takes {expected} "
            f"(shape {list(input_shape)})",
            hint="pass exactly one input of the model's shape",
        )
    if np.any(np.abs(array) > np.finfo(np.float32).max):
        raise InputError(f"{source} holds a value too large for float32",
                         hint="a circuit proves finite fixed-point numbers only")
    return array.reshape(input_shape).astype(np.float32)


def load_samples(path: Path, input_shape: tuple[int, ...]) -> np.ndarray:
    """Several samples (rows), each of the model's input shape, for calibration and fidelity."""
    array = _to_float_array(_payload(_parse_file(path), path), path)
    per_sample = math.prod(input_shape)
    if array.size == 0 or array.size % per_sample:
        raise InputError(
            f"{path} has {array.size} values, not a whole number of samples of {per_sample}",
            hint=f"give rows of {per_sample} values (shape {list(input_shape)})",
        )
    return array.reshape((-1, *input_shape[1:])).astype(np.float32)
