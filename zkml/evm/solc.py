"""Compiling Solidity offline: a native solc if there is one, else npm's solcjs behind a wrapper."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zkml.errors import ToolMissing, ZkmlError
from zkml.evm import tools

OPTIMIZER_RUNS = 1  # the verifier is deployed once and is large: optimise for size


class CompileError(ZkmlError):
    """solc rejected a contract."""


def compile_sources(sources: dict[str, Path], optimizer_runs: int = OPTIMIZER_RUNS,
                    ) -> dict[str, dict[str, Any]]:
    """Compile Solidity files; return {contract name: {abi, bytecode, runtime_size,
    runtime_keccak}}."""
    import solcx
    from solcx.exceptions import SolcError

    solc = tools.find("solc")
    standard_input = {
        "language": "Solidity",
        "sources": {name: {"content": path.read_text()} for name, path in sources.items()},
        "settings": {
            "optimizer": {"enabled": True, "runs": optimizer_runs},
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object",
                                            "evm.deployedBytecode.object"]}},
        },
    }
    try:
        output = solcx.compile_standard(standard_input, solc_binary=str(solc))
    except SolcError as exc:
        raise CompileError(f"solc failed: {str(exc).strip().splitlines()[0]}") from exc
    except OSError as exc:
        raise ToolMissing(f"cannot run {solc}: {exc}", hint=tools.INSTALL_HINT) from exc
    from Crypto.Hash import keccak

    contracts = {}
    for per_file in output["contracts"].values():
        for name, contract in per_file.items():
            runtime = bytes.fromhex(contract["evm"]["deployedBytecode"]["object"])
            contracts[name] = {
                "abi": contract["abi"],
                "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
                "runtime_size": len(runtime),
                # what a node's code at its address hashes to when the contract has no
                # immutables (ezkl's verifiers; a SegmentChain's code holds its own)
                "runtime_keccak": "0x" + keccak.new(digest_bits=256, data=runtime).hexdigest(),
            }
    return contracts
