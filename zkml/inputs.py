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
from zkml.layout import DUPLICATE_KEY_HINT, DuplicateKey, json_loads
from zkml.signature import Signature
from zkml.subjects import SALT_BITS

log = logging.getLogger("zkml")
MAX_DEPTH = 8  # nesting beyond any input shape zkml proves; deeper JSON is refused early
INPUT_SUFFIXES = (".json", ".csv", ".npy", ".npz")


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
                         hint="omit it and zkml draws one and keeps it (circuits/MODEL/secrets/)")
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
    except DuplicateKey as exc:
        raise InputError(f'{source} names the key "{exc.key}" twice',
                         hint=DUPLICATE_KEY_HINT) from None
    except RecursionError:
        raise InputError(f"{source} nests lists too deeply", hint="give a flat list of numbers"
                         ) from None


SKIPPED_HEADER = "skipped a header row (the first row, where no cell is a number)"


def _csv_rows(text: str, source: Path | str) -> np.ndarray:
    """CSV rows (whole flat rows: every input of a subject in input order), without a header
    row. A row is a header only if it is the first and none of its cells is a number, and
    skipping one is said, so a data row is never dropped silently. Rows are numbered as in the
    file, header included (as prove-batch names them)."""
    rows = [(number, [cell.strip() for cell in row])
            for number, row in enumerate(csv.reader(io.StringIO(text)), 1) if row]
    if rows and rows[0][0] == 1 and is_header(rows[0][1]):
        log.info("%s: %s", source, SKIPPED_HEADER)
        rows = rows[1:]
    numbers = [cells_to_numbers(row, f"{source} row {number}") for number, row in rows]
    if len({len(row) for row in numbers}) > 1:
        raise InputError(f"{source}: rows of different lengths",
                         hint="every row holds one whole sample")
    return np.asarray(numbers, dtype=np.float64)


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
        if suffix == ".npz":
            return _load_npz(path)
        text = path.read_text(encoding="utf-8-sig")  # Excel's "CSV UTF-8" starts with a BOM
        if suffix == ".csv":
            return _csv_rows(text, path)
        return _loads(text, path)
    except (ValueError, OSError, EOFError, UnicodeDecodeError) as exc:
        raise InputError(
            f"{path} is not a readable {suffix.lstrip('.') or 'JSON'} file: {exc}",
            hint='give a JSON list of numbers, {"input": [...]}, a CSV row, a .npy or a .npz',
        ) from None


MAX_VALUES = 10_000_000  # far beyond any input zkml proves; a header claiming more is refused


def _check_npy_header(fh: Any) -> None:
    """A .npy header that promises real numbers (or booleans) of a sane size, read before
    anything is allocated."""
    version = np.lib.format.read_magic(fh)
    shape, _, dtype = (np.lib.format.read_array_header_1_0(fh) if version == (1, 0)
                       else np.lib.format.read_array_header_2_0(fh))
    if math.prod(shape) > MAX_VALUES:
        raise ValueError(f"its header claims {math.prod(shape)} values")
    if dtype.kind not in "iufb":
        raise ValueError(f"it holds {dtype} values, not real numbers")


def _load_npy(path: Path) -> np.ndarray:
    """A .npy of real numbers whose header promises a sane size (read before allocating)."""
    with path.open("rb") as fh:
        _check_npy_header(fh)
    return np.load(path, allow_pickle=False)


def _load_npz(path: Path) -> dict[str, np.ndarray] | list[np.ndarray]:
    """A .npz: arrays keyed by input name, or numpy's arr_0, arr_1, ... in input order."""
    import zipfile

    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if len(names) > MAX_DEPTH * 64:
                raise ValueError(f"it holds {len(names)} arrays")
            for name in names:
                with archive.open(name) as fh:
                    _check_npy_header(fh)
    except zipfile.BadZipFile as exc:
        raise ValueError(str(exc)) from None
    with np.load(path, allow_pickle=False) as npz:
        arrays = {key: npz[key] for key in npz.files}
    keys = [f"arr_{i}" for i in range(len(arrays))]
    if sorted(arrays) == sorted(keys):
        return [arrays[k] for k in keys]
    return list(arrays.values()) if len(arrays) == 1 else arrays  # one array: any name


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
    """The inputs of a JSON object in ezkl's or zkml's form ("input_data", "input" or
    "inputs"; or the model's inputs keyed by name), and its salts if it has them ("salt": one,
    or "salts": one per subject)."""
    if not isinstance(raw, dict):
        return PrivateInput(raw)
    given = raw.get("salts", [raw["salt"]] if "salt" in raw else None)
    if given is not None and not isinstance(given, list):
        raise InputError(f"{source}: \"salts\" must be a list, one per subject")
    # checked here, warned about once, where it is used (proof.prove)
    salts = None if given is None else [parse_salt(v, source, warn=False) for v in given]
    for key in ("input_data", "input", "inputs"):
        if key in raw:
            return PrivateInput(raw[key], salts)
    named = {k: v for k, v in raw.items() if k not in ("salt", "salts", "id")}
    if not named:
        raise InputError(f"{source}: object has none of the keys input_data, input, inputs "
                         "nor any input's name")
    return PrivateInput(named, salts)


def read_private_input(path: Path) -> PrivateInput:
    """One private input file: JSON (a list, or an object with "input" and maybe "salt"), a CSV
    row (a header row is skipped), a .npy or a .npz (arrays named after the inputs)."""
    return private_input(_parse_file(path), path)


def _check_values(raw: Any, kind: str, source: Path | str, where: str) -> np.ndarray:
    """One input's values as a flat float64 array: numbers (true/false only for a boolean
    input), finite, whole numbers for an integer input, 0/1 for a boolean one."""
    if _depth(raw) > MAX_DEPTH:
        raise InputError(f"{source} nests lists too deeply", hint="give a flat list of numbers")
    if isinstance(raw, np.ndarray) and raw.dtype.kind not in "iufb":
        raise InputError(f"{source} holds {raw.dtype} values, not real numbers")
    odd = _not_a_number(raw, booleans=kind == "bool")
    if odd:  # numpy would quietly read true/false as 1/0 and "5" as 5.0
        raise InputError(f"{source} holds {odd[0]} where numbers belong (element "
                         f"{odd[1]}{where})",
                         hint="every value must be a JSON number (true/false only for a "
                         "boolean input)")
    try:
        array = np.asarray(raw, dtype=np.float64).ravel()
    except (ValueError, TypeError, OverflowError):
        raise InputError(
            f"{source} holds non-numeric or ragged values{where}",
            hint="every value must be a number, and every row the same length",
        ) from None
    bad = ~np.isfinite(array)
    if bad.any():
        index = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"{source} holds a NaN or infinite value (element {index}{where})",
            hint="a circuit proves finite fixed-point numbers only; clean the input first",
        )
    return array


def _check_kinds(rows: np.ndarray, signature: Signature, source: Path | str) -> None:
    """Every input's values fit its dtype: float32 range; whole numbers in an integer type's
    range; 0 or 1 for a boolean. The error names the element, never its value."""
    for spec, (start, end) in zip(signature.inputs, signature.offsets(), strict=True):
        part = rows[:, start:end]
        if spec.kind == "bool":
            bad = (part != 0) & (part != 1)
            what, hint = "is not a boolean (0/1, true/false)", "give true/false or 0/1"
        elif spec.kind == "int":
            info = np.iinfo(np.dtype(spec.dtype))
            bad = (part != np.round(part)) | (part < info.min) | (part > info.max)
            what, hint = f"is not a whole number in {spec.dtype}'s range", \
                "an integer input takes whole numbers"
        else:
            limit = float(np.finfo(np.dtype(spec.dtype)).max)
            bad = np.abs(part) > limit
            what, hint = f"is too large for {spec.dtype}", \
                "a circuit proves finite fixed-point numbers only"
        if bad.any():
            index = int(np.flatnonzero(bad.ravel())[0]) % spec.size
            raise InputError(f"{source}: {signature.element(start + index)} {what}", hint=hint)


def _per_input(raw: Any, signature: Signature, source: Path | str) -> list[Any] | None:
    """raw split into one value per model input, when its form names or orders them: an
    object keyed by input name, or (a model of several inputs) a list with one entry per input
    in input order, as ezkl's input_data. None: one flat array of whole rows."""
    names = [spec.name for spec in signature.inputs]
    if isinstance(raw, np.ndarray):  # from Python: subjects' flat rows
        return None
    if isinstance(raw, dict):
        unknown = [k for k in raw if k not in names]
        if unknown:
            raise InputError(f"{source}: no input named {unknown[0]!r} (the model's inputs: "
                             f"{', '.join(map(repr, names)) or 'none'})")
        missing = [n for n in names if n not in raw]
        if missing:
            raise InputError(f"{source}: input {missing[0]!r} is missing",
                             hint=f"give every input: {', '.join(map(repr, names))}")
        return [raw[n] for n in names]
    if len(names) > 1:
        if not isinstance(raw, list | tuple) or len(raw) != len(names):
            raise InputError(
                f"{source}: the model takes {len(names)} inputs; give one list per input, "
                "in input order, or an object keyed by input name",
                hint=f"the inputs: {signature.describe()}")
        return list(raw)
    return None


def parse_rows(raw: Any, signature: Signature, source: Path | str,
               count: int | None = None) -> np.ndarray:
    """Subjects' flat rows (zkml.signature) from already-parsed data: exactly `count` of them
    (the subjects of one proof), or as many as the data holds (samples). Per-input forms (an
    object keyed by name, a list per input, ezkl's input_data) hold every subject's values of
    that input in turn; a flat form (a list for a one-input model, CSV, .npy) holds whole
    rows."""
    parts = _per_input(raw, signature, source)
    if parts is None:  # whole rows (or nothing, for a model without inputs)
        kind = signature.inputs[0].kind if len(signature.inputs) == 1 else "float"
        chunks = [("", _check_values(raw, kind, source, ""), signature.features)]
    else:
        chunks = [(spec.name, _check_values(part, spec.kind, source,
                                            f" of input {spec.name!r}"), spec.size)
                  for part, spec in zip(parts, signature.inputs, strict=True)]
    rows = _count_rows(chunks, count, signature, source)
    flat = np.concatenate([a.reshape(rows, size) for _, a, size in chunks], axis=1) \
        if signature.features else np.zeros((rows, 0))
    _check_kinds(flat, signature, source)
    return flat


def _count_rows(chunks: list[tuple[str, np.ndarray, int]], count: int | None,
                signature: Signature, source: Path | str) -> int:
    """How many subjects' rows the chunks hold, the same for every input, or an error."""
    shape = (f"shape {list(signature.inputs[0].shape)}" if len(signature.inputs) == 1
             else signature.describe())
    counts = set()
    for name, array, size in chunks:
        of = f" (input {name!r})" if name and len(signature.inputs) > 1 else ""
        if count is not None:
            if array.size != size * count:
                per = "" if count == 1 else f" ({count} subjects of {size})"
                several = size and array.size % size == 0 and array.size // size > count
                raise InputError(
                    f"{source}{of} has {array.size} values but the model takes {size * count}"
                    f"{per} ({shape})"
                    + (f": it holds {array.size // size} inputs" if several else ""),
                    hint="prove many inputs with `zkml prove-batch MODEL FILE`" if several
                    else "pass exactly one input of the model's shape"
                    + ("" if count == 1 else " per subject"))
        elif size == 0 or array.size == 0 or array.size % size:
            if size == 0 and array.size == 0:
                continue
            raise InputError(f"{source}{of} has {array.size} values, not a whole number of "
                             f"samples of {size}", hint=f"give rows of {size} values ({shape})")
        else:
            counts.add(array.size // size)
    if len(counts) > 1:
        raise InputError(f"{source}: the inputs hold different numbers of samples "
                         f"({', '.join(map(str, sorted(counts)))})",
                         hint="give every input the same number of samples")
    return count if count is not None else (counts.pop() if counts else 1)


def _not_a_number(raw: Any, booleans: bool = False) -> tuple[str, int] | None:
    """What stands where a number belongs (true/false, unless booleans; text), if anything
    does, and its element's position in the flattened input; without recursion (hostile
    nesting)."""
    index, stack = 0, [iter([raw])]
    while stack:
        item = next(stack[-1], _END)
        if item is _END:
            stack.pop()
        elif isinstance(item, bool | np.bool_) and not booleans:
            return "true/false", index
        elif isinstance(item, str | bytes):
            return "text", index
        elif isinstance(item, list | tuple):
            stack.append(iter(item))
        else:
            index += 1
    return None


_END = object()


def _signature(model: Signature | tuple[int, ...]) -> Signature:
    return model if isinstance(model, Signature) else Signature.single(model)


def parse_input(raw: Any, model: Signature | tuple[int, ...], source: Path | str,
                subjects: int = 1) -> np.ndarray:
    """The inputs of one proof (its subjects' flat rows) from already-parsed data."""
    return parse_rows(private_input(raw, source).values, _signature(model), source, subjects)


def load_input(path: Path, model: Signature | tuple[int, ...], subjects: int = 1
               ) -> np.ndarray:
    """One private input file: its subjects' flat rows (zkml.signature)."""
    return parse_input(read_private_input(path).values, model, path, subjects)


@dataclass(frozen=True)
class Samples:
    """A sample file's rows and, when it gives them, each row's true class: a JSON object's
    "labels", one class index or class name per row (what the accuracy columns compare)."""

    rows: np.ndarray  # flat rows (zkml.signature)
    labels: list[int | str] | None = None


def load_samples(path: Path, model: Signature | tuple[int, ...]) -> Samples:
    """Several samples for calibration and fidelity."""
    signature = _signature(model)
    raw = _parse_file(path)
    labels = None
    if isinstance(raw, dict) and "labels" in raw:
        labels = _labels(raw["labels"], path)
        raw = {k: v for k, v in raw.items() if k != "labels"}
    rows = parse_rows(private_input(raw, path).values, signature, path) if signature.inputs \
        else np.zeros((1, 0))
    if labels is not None and len(labels) != len(rows):
        raise InputError(f"{path} gives {len(labels)} labels for {len(rows)} samples",
                         hint='give one "labels" entry per sample, in order')
    return Samples(rows, labels)


def _labels(raw: Any, path: Path) -> list[int | str]:
    if not isinstance(raw, list) or not all(
            isinstance(v, str) or (isinstance(v, int) and not isinstance(v, bool) and v >= 0)
            for v in raw):
        raise InputError(f'{path}: "labels" must be a list of class indices or class names',
                         hint='e.g. "labels": [0, 2, 1] or ["benign", "malignant"]')
    return list(raw)


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
            log.info("%s: %s", path, SKIPPED_HEADER)
            continue
        yield _guarded(f"row{number:06d}", lambda cells=cells, number=number: PrivateInput(
            np.asarray(cells_to_numbers(cells, f"row {number}"))))  # a whole flat row


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
