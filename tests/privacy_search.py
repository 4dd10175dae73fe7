"""How a private value could appear in a file: as a float, fixed point or a field element."""

import re

import numpy as np

from zkml.felts import FIELD_MODULUS, int_to_felt


def encodings(value: float, scale: int) -> set[str]:
    """Exact strings: the float as written, and the fixed-point value as a 32-byte felt (a small
    one is mostly zeros, which occur by chance across the words of a proof: see leaks)."""
    felt = int_to_felt(int(round(value * 2**scale)) % FIELD_MODULUS)
    return {repr(float(np.float32(value))), f"{value:.6f}", felt, bytes.fromhex(felt)[::-1].hex()}


def integer_forms(value: float, scale: int) -> set[str]:
    """The fixed-point value as a decimal integer; matched only as a whole token (see leaks)."""
    fixed = int(round(value * 2**scale))
    return {str(fixed), str(fixed % FIELD_MODULUS)} if abs(fixed) >= 1000 else set()


def leaks(text: str, values, scale: int) -> list[tuple[float, str]]:
    found = []
    for v in np.ravel(values):
        small = abs(round(float(v) * 2**scale)) < 1000
        for form in encodings(float(v), scale):
            felt = len(form) == 64
            if (re.search(rf"(?<![0-9a-fA-F]){form}(?![0-9a-fA-F])", text) if small and felt
                    else form in text):
                found.append((float(v), form))
        # not inside a longer number or a hex string, where short digit runs occur by chance
        found += [(float(v), form) for form in integer_forms(float(v), scale)
                  if re.search(rf"(?<![0-9a-fA-Fx.]){form}(?![0-9a-fA-F.])", text)]
    return found
