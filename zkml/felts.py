"""BN254 scalar-field elements as ezkl writes them, and the fixed-point numbers they encode."""

from __future__ import annotations

# BN254 scalar field: every public instance is an element of it
FIELD_MODULUS = 0x30644E72E131A029B85045B68181585D2833E84879B9709143E1F593F0000001


def felt_to_int(felt: str) -> int:
    """ezkl writes field elements as 32 little-endian bytes in hex."""
    return int.from_bytes(bytes.fromhex(felt), "little")


def felt_hex(felt: str) -> str:
    """A field element as a 0x number: how contracts, explorers and people write it."""
    return f"0x{felt_to_int(felt):064x}"


def int_to_felt(value: int) -> str:
    return value.to_bytes(32, "little").hex()


def signed(value: int) -> int:
    """A field element as the signed integer it encodes (negatives are p - |x|)."""
    return value - FIELD_MODULUS if value > FIELD_MODULUS // 2 else value


def felts_to_floats(felts: list[str], scale: int) -> list[float]:
    """Fixed-point field elements as floats: what ezkl's felt_to_float computes."""
    return [signed(felt_to_int(f)) / 2**scale for f in felts]
