"""One error root; each subclass names the stage that failed and its message says what to do."""

from __future__ import annotations


class ZkmlError(Exception):
    """Root of every error zkml raises on purpose; the CLI shows it as one line plus a hint."""

    def __init__(self, message: str, hint: str | None = None):
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        """The message and its hint, as the CLI shows them: a notebook's traceback keeps both."""
        return f"{self.message} — {self.hint}" if self.hint else self.message


class ModelError(ZkmlError):
    """A model source could not be loaded (bad path, bad callable, bad state dict)."""


class ExportError(ZkmlError):
    """Export to ONNX failed or the ONNX graph disagrees with the torch model."""


class InputError(ZkmlError):
    """A user-supplied input file is missing, malformed, mis-shaped or out of range."""


class CircuitError(ZkmlError):
    """Settings, calibration or compilation of the circuit failed."""


class SrsError(ZkmlError):
    """The structured reference string is missing, corrupt or too small."""


class SetupError(ZkmlError):
    """Key generation failed."""


class ProofError(ZkmlError):
    """Witness generation or proving failed, or a proof file is unreadable."""


class VerificationFailed(ZkmlError):
    """The proof does not verify: tampered, made for another model, or wrong keys."""


class ArtifactError(ZkmlError):
    """An artifact a stage needs is missing or corrupt."""


class ToolMissing(ZkmlError):
    """An external program zkml needs is not installed."""


class ClusterError(ZkmlError):
    """The Ray cluster of a batch cannot be reached, or refuses this client."""


class ChainError(ZkmlError):
    """The RPC is unreachable, the chain is not the expected one, or a transaction failed."""


class RegressionFailed(ZkmlError):
    """Proof regression: something proved, paid or verified differs from the baseline."""
