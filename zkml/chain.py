"""On-chain verification as a library call: a model's verifier and registry on a node.

    with zkml.chain.deploy(model, rpc_url=None) as registry:   # None: a throwaway local Anvil
        outcome = registry.submit(proof)                        # one transaction
        outcome.subjects[0].outputs

On an `rpc_url`, a deployment recorded for that chain (deployments.json) is reused when its
registry is still there and holds this model's key.
"""

from __future__ import annotations

import contextlib
from pathlib import Path
from types import TracebackType
from typing import Any

from zkml.evm import registry as registry_contract
from zkml.evm import rpc
from zkml.evm.anvil import Anvil
from zkml.evm.registry import Deployment, OnchainResult
from zkml.evm.verifier import build_verifier
from zkml.layout import ModelLayout
from zkml.progress import Progress, ProgressHook, ignore


def _layout(model: Any) -> ModelLayout:
    """A Model, a model folder's layout, or a model's name under the default circuits folder."""
    if isinstance(model, ModelLayout):
        return model
    if isinstance(model, str):
        return ModelLayout.for_model(model)
    layout = getattr(model, "layout", None)
    if not isinstance(layout, ModelLayout):
        from zkml.errors import ModelError

        raise ModelError("deploy takes a zkml.Model, a ModelLayout or a model's name")
    return layout


class Registry:
    """A model's registry on a chain; stops the throwaway Anvil it runs on when closed."""

    def __init__(self, layout: ModelLayout, chain: rpc.Chain, deployment: Deployment,
                 deployed_now: bool, anvil: Anvil | None = None,
                 progress: ProgressHook = ignore):
        self.layout = layout
        self.chain = chain
        self.deployment = deployment
        self.deployed_now = deployed_now
        self._anvil = anvil
        self.progress = progress

    def submit(self, proof: Any, progress: ProgressHook | None = None) -> OnchainResult:
        """Verify natively, check by eth_call, then record the proof's results in one
        transaction (the "onchain" stage, reported to progress or the deploy's hook)."""
        hook = progress or self.progress
        path = Path(getattr(proof, "path", proof))
        hook(Progress("onchain", "onchain …", starting=True))
        result = registry_contract.submit(self.chain, self.deployment, self.layout, path,
                                          self.deployed_now)
        hook(Progress("onchain", result=result))
        return result

    def close(self) -> None:
        if self._anvil is not None:
            self._anvil.stop()
            self._anvil = None

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()


def check(rpc_url: str | None = None, chain_id: int | None = None,
          layout: ModelLayout | None = None) -> None:
    """What recording on-chain needs, checked before any work it would waste: the model's
    keys, current (when it has some already), the Solidity compiler, and Anvil or a reachable
    node on the expected chain with a key to sign."""
    from zkml.evm import tools
    from zkml.keys import current_keys

    if layout is not None:
        current_keys(layout, proving=False)
    tools.find("solc")
    if rpc_url:
        rpc.connect(rpc_url, chain_id)
    else:
        tools.find("anvil")


def deploy(model: Any, rpc_url: str | None = None, chain_id: int | None = None,
           progress: ProgressHook | None = None) -> Registry:
    """The model's verifier and registry on rpc_url (or a throwaway local Anvil); progress
    (by default a zkml.Model's own hook) hears the deployment and every submit."""
    hook: ProgressHook = progress or getattr(model, "progress", None) or ignore
    layout = _layout(model)
    check(rpc_url, chain_id, layout)
    build_verifier(layout)  # before any node starts: a compile error needs no chain
    with contextlib.ExitStack() as stack:
        anvil = None if rpc_url else stack.enter_context(Anvil())
        chain = rpc.connect(rpc_url or anvil.url, chain_id if rpc_url else None)  # type: ignore[union-attr]
        deployment = registry_contract.recorded_deployment(chain, layout) if rpc_url else None
        deployed_now = deployment is None
        if deployment is None:
            hook(Progress("deploy", f"deploying {layout.name}'s verifier and registry on "
                          f"{chain.url} …"))
            deployment = registry_contract.deploy(chain, layout)
            hook(Progress("deploy", f"registry {deployment.registry} on chain "
                          f"{deployment.chain_id}"))
        stack.pop_all()  # the registry owns the node from here on
    return Registry(layout, chain, deployment, deployed_now, anvil, hook)
