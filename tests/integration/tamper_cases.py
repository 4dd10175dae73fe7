"""Ways to forge a result from a valid (proof, instances): each must be rejected everywhere."""

from __future__ import annotations

from collections.abc import Callable

from zkml.evm.verifier import Calldata
from zkml.felts import FIELD_MODULUS

Tamper = Callable[[Calldata], Calldata]


def _instance(index: int, change: Callable[[int], int]) -> Tamper:
    def tamper(call: Calldata) -> Calldata:
        instances = list(call.instances)
        instances[index] = change(instances[index])
        return Calldata(call.proof, instances)

    return tamper


def _proof_bytes(change: Callable[[bytes], bytes]) -> Tamper:
    return lambda call: Calldata(change(call.proof), list(call.instances))


def _flip(position: int) -> Callable[[bytes], bytes]:
    def flip(proof: bytes) -> bytes:
        data = bytearray(proof)
        data[position] ^= 0x01
        return bytes(data)

    return flip


def cases(instance_count: int) -> dict[str, Tamper]:
    table: dict[str, Tamper] = {}
    for i in range(instance_count):
        table[f"instance {i} +1"] = _instance(i, lambda v: (v + 1) % FIELD_MODULUS)
        table[f"instance {i} -1"] = _instance(i, lambda v: (v - 1) % FIELD_MODULUS)
        table[f"instance {i} = 0"] = _instance(i, lambda v: 0)
        table[f"instance {i} + p"] = _instance(i, lambda v: v + FIELD_MODULUS)
    table["instances swapped"] = lambda c: Calldata(c.proof, c.instances[::-1])
    table["instance dropped"] = lambda c: Calldata(c.proof, c.instances[:-1])
    table["instance appended"] = lambda c: Calldata(c.proof, [*c.instances, 1])
    table["all instances zero"] = lambda c: Calldata(c.proof, [0] * len(c.instances))
    for position in (0, 31, 32 * 10, 1000, -33, -1):
        table[f"proof byte {position} flipped"] = _proof_bytes(_flip(position))
    table["proof truncated"] = _proof_bytes(lambda p: p[:-32])
    table["proof extended"] = _proof_bytes(lambda p: p + b"\0" * 32)
    table["proof empty"] = _proof_bytes(lambda p: b"")
    return table
