"""Reading numeric inputs from users' files, with errors that name the file and the fix.

Error messages name the position of a bad value, never the value: inputs are private and
errors end up in logs. Batch inputs are streamed, one item at a time, so that a file of any
length costs the memory of one line.
"""

from __future__ import annotations

import csv
import io
import json
import logging
import math
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from zkml.errors import InputError
from zkml.layout import json_loads
from zkml.subjects import SALT_BITS

log = logging.getLogger("zkml")
MAX_DEPTH = 8  # nesting beyond any input shape zkml proves; deeper JSON is refused early
INPUT_SUFFIXES = (".json", ".csv", ".npy")


@dataclass(frozen=True)
class PrivateInput:
    """One private input as read from a file: its numbers (any nesting) and, if the file gave
    one, the salt of its commitment."""

    values: Any
    salts: list[int] | None = None  # one per subject of the proof


def new_salt() -> int:
    """Private randomness for an input commitment (the prover keeps it with the input)."""
    return secrets.randbits(SALT_BITS)


def parse_salt(raw: Any, source: Path | str, warn: bool = True) -> int:
    """A salt as given in an input file or by a caller: an integer, or a "0x…" hex string,
    below 2^128. A small one is accepted with a warning (by prove, once): it can be guessed."""
    value: Any = raw
    if isinstance(raw, str):
        try:
            value = int(raw, 16) if raw.lower().startswith("0x") else None
        except ValueError:
            value = None
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < 2**SALT_BITS:
        raise InputError(f"{source}: a salt must be an integer below 2^{SALT_BITS} "
                         "(a number or a 0x… hex string)",
                         hint="omit it and zkml draws one and keeps it beside the proof")
    if warn and value.bit_length() < SALT_BITS - 28:
        log.warning("%s: a salt with fewer than %d significant bits can be guessed; draw it "
                    "with a cryptographic random generator", source, SALT_BITS - 28)
    return value


def _depth(raw: Any) -> int:
    """Nesting depth of lists, without recursion (hostile files nest thousands deep)."""
    depth, level = 0, [raw]
    while level:
        lists = [item for item in level if isinstance(item, list)]
        if not lists:
            return depth
        depth += 1
        if depth > MAX_DEPTH:
            return depth
        level = [child for item in lists for child in item]
    return depth


def _loads(text: str, source: Path | str) -> Any:
    try:
        return json_loads(text)
    except RecursionError:
        raise InputError(f"{source} nests lists too deeply", hint="give a flat list of numbers"
                         ) from None


SKIPPED_HEADER = "skipped a header row (the first row, where no cell is a number)"


def _csv_rows(text: str, source: Path | str) -> list[list[float]]:
    """CSV rows, without a header row. A row is a header only if it is the first and none of
    its cells is a number, and skipping one is said, so a data row is never dropped silently.
    Rows are numbered as in the file, header included (as prove-batch names them)."""
    rows = [(number, [cell.strip() for cell in row])
            for number, row in enumerate(csv.reader(io.StringIO(text)), 1) if row]
    if rows and rows[0][0] == 1 and is_header(rows[0][1]):
        log.warning("%s: %s", source, SKIPPED_HEADER)
        rows = rows[1:]
    return [cells_to_numbers(row, f"{source} row {number}") for number, row in rows]


def is_header(row: list[str]) -> bool:
    return not any(_numeric(cell) for cell in row)


def _numeric(cell: str) -> bool:
    """A finite number: "nan" or "inf" in a first row read as a header, not as data."""
    try:
        return math.isfinite(float(cell))
    except ValueError:
        return False


def _parse_file(path: Path) -> Any:
    if not path.exists():  # a pipe (`--input <(...)`) is not a regular file, but readable
        raise InputError(f"input file not found: {path}")
    if path.is_dir():
        raise InputError(f"{path} is a folder, not an input file")
    suffix = path.suffix.lower()
    try:
        if suffix == ".npy":
            return _load_npy(path)
        text = path.read_text(encoding="utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
        if suffix == ".csv":
            return _csv_rows(text, path)
        return _loads(text, path)
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path} is not a readable {suffix.lstrip('.') or 'JSON'} file: {exc}",
            hint='give a JSON list of numbers, {"input": [...]}, a CSV row or a .npy',
        ) from None


MAX_VALUES = 10_000_000  # far beyond any input zkml proves; a header claiming more is refused


def _load_npy(path: Path) -> np.ndarray:
    """A .npy of real numbers whose header promises a sane size (read before allocating)."""
    with path.open("rb") as fh:
        version = np.lib.format.read_magic(fh)
        shape, _, dtype = (np.lib.format.read_array_header_1_0(fh) if version == (1, 0)
                           else np.lib.format.read_array_header_2_0(fh))
    if math.prod(shape) > MAX_VALUES:
        raise ValueError(f"its header claims {math.prod(shape)} values")
    if dtype.kind not in "iuf":
        raise ValueError(f"it holds {dtype} values, not real numbers")
    return np.load(path, allow_pickle=False)


def cells_to_numbers(cells: list[str], source: Path | str) -> list[float]:
    """A CSV row's cells as numbers, or an error naming the column (never the value)."""
    numbers = []
    for column, cell in enumerate(cells, 1):
        try:
            numbers.append(float(cell))
        except ValueError:
            raise InputError(f"{source}: column {column} is not a number",
                             hint="every cell of an input row must be a number") from None
    return numbers


def private_input(raw: Any, source: Path | str) -> PrivateInput:
    """The numbers of a JSON object in ezkl's or zkml's form, and its salts if it has them
    ("salt": one, or "salts": one per subject)."""
    if not isinstance(raw, dict):
        return PrivateInput(raw)
    for key in ("input_data", "input", "inputs"):
        if key in raw:
            given = raw.get("salts", [raw["salt"]] if "salt" in raw else None)
            if given is not None and not isinstance(given, list):
                raise InputError(f"{source}: \"salts\" must be a list, one per subject")
            # checked here, warned about once, where it is used (proof.prove)
            salts = None if given is None else [parse_salt(v, source, warn=False)
                                                for v in given]
            return PrivateInput(raw[key], salts)
    raise InputError(f"{source}: object has none of the keys input_data, input, inputs")


def read_private_input(path: Path) -> PrivateInput:
    """One private input file: JSON (a list, or an object with "input" and maybe "salt"), a CSV
    row (a header row is skipped) or a .npy."""
    return private_input(_parse_file(path), path)


def _to_float_array(raw: Any, source: Path | str) -> np.ndarray:
    if _depth(raw) > MAX_DEPTH:
        raise InputError(f"{source} nests lists too deeply", hint="give a flat list of numbers")
    if isinstance(raw, np.ndarray) and raw.dtype.kind not in "iuf":
        raise InputError(f"{source} holds {raw.dtype} values, not real numbers")
    odd = _not_a_number(raw)
    if odd:  # numpy would quietly read true/false as 1/0 and "5" as 5.0
        raise InputError(f"{source} holds {odd[0]} where numbers belong (element {odd[1]})",
                         hint="every value must be a JSON number")
    try:
        array = np.asarray(raw, dtype=np.float64)
    except (ValueError, TypeError, OverflowError):
        raise InputError(
            f"{source} holds non-numeric or ragged values",
            hint="every value must be a number, and every row the same length",
        ) from None
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad.ravel())[0])
        raise InputError(
            f"{source} holds a NaN or infinite value (element {index})",
            hint="a circuit proves finite fixed-point numbers only; clean the input first",
        )
    return array


def _not_a_number(raw: Any) -> tuple[str, int] | None:
    """What stands where a number belongs (true/false, text), if anything does, and its
    element's position in the flattened input; without recursion (hostile nesting)."""
    index, stack = 0, [iter([raw])]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, bool | np.bool_):
            return "true/false", index
        elif isinstance(item, str | bytes):
            return "text", index
        elif isinstance(item, list | tuple):
            stack.append(iter(item))
        else:
            index += 1
    return None


_END = object()


def parse_input(raw: Any, input_shape: tuple[int, ...], source: Path | str) -> np.ndarray:
    """One input from already-parsed data (a JSON value, a CSV row, an array)."""
    array = _to_float_array(private_input(raw, source).values, source)
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


def load_input(path: Path, input_shape: tuple[int, ...]) -> np.ndarray:
    """One private input file, reshaped to the model's input shape."""
    return parse_input(read_private_input(path).values, input_shape, path)


def load_samples(path: Path, input_shape: tuple[int, ...]) -> np.ndarray:
    """Several samples (rows), each of the model's input shape, for calibration and fidelity."""
    array = _to_float_array(private_input(_parse_file(path), path).values, path)
    per_sample = math.prod(input_shape)
    if array.size == 0 or array.size % per_sample:
        raise InputError(
            f"{path} has {array.size} values, not a whole number of samples of {per_sample}",
            hint=f"give rows of {per_sample} values (shape {list(input_shape)})",
        )
    return array.reshape((-1, *input_shape[1:])).astype(np.float32)


# ---------------------------------------------------------------------------- batch inputs


@dataclass(frozen=True)
class BatchItem:
    """One input of a batch, not yet checked against the model: its raw numbers or why it
    cannot be read."""

    id: str
    raw: Any = None
    salts: list[int] | None = None
    error: str | None = None  # one line, naming the position, never a value


def iter_batch(path: Path) -> Iterator[BatchItem]:
    """Stream a JSON-lines file, a CSV file (one input per row) or a folder of input files."""
    if path.is_dir():
        for file in sorted(p for p in path.iterdir() if p.suffix.lower() in INPUT_SUFFIXES):
            yield _guarded(file.stem, lambda file=file: read_private_input(file))
        return
    if not path.is_file():
        raise InputError(f"inputs not found: {path}",
                         hint="give a .jsonl or .csv file, or a folder of input files")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".ndjson"):
        raise InputError(f"{path}: unknown inputs format", hint="use .jsonl, .csv or a folder")
    with path.open(encoding="utf-8-sig", errors="replace", newline="") as lines:
        if suffix == ".csv":
            yield from _csv_items(lines, path)
        else:
            for number, line in enumerate(lines, 1):
                if line.strip():
                    yield _jsonl_item(line, number)


def _csv_items(lines: Any, path: Path) -> Iterator[BatchItem]:
    for number, row in enumerate(csv.reader(lines), 1):
        cells = [cell.strip() for cell in row]
        if not cells:
            continue
        if number == 1 and is_header(cells):
            log.warning("%s: %s", path, SKIPPED_HEADER)
            continue
        yield _guarded(f"row{number:06d}", lambda cells=cells, number=number: PrivateInput(
            cells_to_numbers(cells, f"row {number}")))


def _guarded(item_id: str, read: Any) -> BatchItem:
    try:
        private = read()
    except InputError as exc:
        return BatchItem(item_id, error=exc.message)
    return BatchItem(item_id, raw=private.values, salts=private.salts)


def _jsonl_item(line: str, number: int) -> BatchItem:
    item_id = f"line{number:06d}"
    source = f"line {number}"
    try:
        raw = _loads(line, source)
    except InputError as exc:
        return BatchItem(item_id, error=exc.message)
    except json.JSONDecodeError as exc:
        return BatchItem(item_id, error=f"{source} is not JSON ({exc.msg})")
    if isinstance(raw, dict) and raw.get("id") is not None:  # null: no id, the line's
        given = raw["id"]
        if isinstance(given, bool) or not isinstance(given, str | int | float):
            return BatchItem(item_id, error=f"{source}: an id must be a string or a number")
        item_id = str(given)
    return _guarded(item_id, lambda: private_input(raw, source))
