"""Keys, proofs, verification and the on-chain verifier of any compiled model: one circuit
(zkml.keys, zkml.proof, zkml.evm.verifier) or a chain of segments (zkml.segments). The stages
of one circuit know nothing of segments, and the segments build on them: the choice between
the two is made here, above both, so that neither imports the other."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zkml import keys, proof, segments
from zkml.errors import InputError
from zkml.evm import verifier
from zkml.layout import ModelLayout
from zkml.progress import ProgressHook, ignore


def setup(layout: ModelLayout, srs_file: Path | None = None, force: bool = False,
          cache_dir: Path | None = None) -> keys.SetupResult:
    """The model's keys (zkml.keys.setup, or every segment's and the chain's key)."""
    if segments.is_segmented(layout):
        return segments.setup(layout, srs_file, force, cache_dir)
    return keys.setup(layout, srs_file, force, cache_dir)


def prove(layout: ModelLayout, private_input: Any, proof_path: Path, source: str = "input",
          salts: list[int] | None = None, reuse_salt: bool = False,
          workers: int | None = None, ray_address: str | None = None,
          progress: ProgressHook = ignore) -> proof.Proof:
    """A proof of the model's inference (zkml.proof.prove); a segmented model's segments are
    proved as independent jobs, by `workers` processes or on Ray (`ray_address`)."""
    if segments.is_segmented(layout):
        with layout.lock(shared=True):  # a concurrent setup cannot swap keys midway
            return segments.prove(layout, private_input, proof_path, source, salts, reuse_salt,
                                  workers, ray_address, progress)
    if workers or ray_address:
        raise InputError(f"{layout.name} is one circuit: workers and Ray spread a segmented "
                         "model's proofs", hint="for many inputs, use `zkml prove-batch`")
    return proof.prove(layout, private_input, proof_path, source, salts=salts,
                       reuse_salt=reuse_salt)


def verify(layout: ModelLayout, proof_path: Path, vk: Path | None = None) -> proof.Verification:
    """Natively verify a proof of the model (a chain's: every link and every segment)."""
    if segments.is_segmented(layout):
        with layout.lock(shared=True):
            return segments.verify(layout, proof_path, vk)
    return proof.verify(layout, proof_path, vk)


def build_verifier(layout: ModelLayout, force: bool = False) -> verifier.VerifierResult:
    """The model's Solidity verifier, compiled (a chain's: its segments' and SegmentChain)."""
    if segments.is_segmented(layout):
        return segments.build_verifier(layout, force)
    return verifier.build_verifier(layout, force)


def deploy_verifier(chain: Any, layout: ModelLayout) -> tuple[str, int]:
    """The model's own verifier on chain (a chain's: its segments' verifiers and the
    SegmentChain over them): its address and the gas spent."""
    if segments.is_segmented(layout):
        return segments.deploy_verifier(chain, layout)
    from zkml.evm import rpc

    return rpc.deploy(chain, verifier.EvmBuild.load(layout).verifier)
