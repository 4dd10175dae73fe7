"""Prove machine-learning inference in zero knowledge: torch -> ONNX -> ezkl circuit -> proof.

    import zkml

    m = zkml.load("breast_cancer")     # a bundled model, "net.py:build" or "model.onnx"
    m.compile()
    m.setup()
    proof = m.prove(m.holdout[0])      # proof.outputs, proof.path
    m.verify(proof)
    with zkml.chain.deploy(m) as registry:    # a throwaway local Anvil, or rpc_url=...
        registry.submit(proof)                # recorded under (version, commitment)

Names are imported on first use, so `import zkml` is instant and pulls in neither torch nor
ezkl (ezkl itself only ever runs in worker processes, see zkml._ezkl).
"""

from __future__ import annotations

import importlib
import logging
from typing import Any

__version__ = "0.2.0"
# the library logs to "zkml" and never prints: without a handler of the application's (the
# CLI sets its own), Python's last-resort handler would print its warnings to stderr
logging.getLogger("zkml").addHandler(logging.NullHandler())

_EXPORTS = {
    "load": "zkml.model",
    "Model": "zkml.model",
    "run": "zkml.workflow",
    "RunResult": "zkml.workflow",
    "CircuitOptions": "zkml.circuit",
    "ExportResult": "zkml.export",
    "CompileResult": "zkml.pipeline",
    "FidelityReport": "zkml.fidelity",
    "BudgetExceeded": "zkml.fidelity",
    "SetupResult": "zkml.keys",
    "Proof": "zkml.proof",
    "Verification": "zkml.proof",
    "VerifierResult": "zkml.evm.verifier",
    "OnchainResult": "zkml.evm.registry",
    "Deployment": "zkml.evm.registry",
    "DeployResult": "zkml.evm.registry",
    "VersionInfo": "zkml.evm.results",
    "RecordedResult": "zkml.evm.results",
    "Progress": "zkml.progress",
    "ZkmlError": "zkml.errors",
    "VerificationFailed": "zkml.errors",
}
__all__ = ["__version__", "chain", *_EXPORTS]


def __getattr__(name: str) -> Any:
    if name == "chain":
        return importlib.import_module("zkml.chain")
    if name in _EXPORTS:
        return getattr(importlib.import_module(_EXPORTS[name]), name)
    raise AttributeError(f"module 'zkml' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(__all__)
