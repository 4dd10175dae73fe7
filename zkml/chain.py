"""On-chain verification as a library call: an application's registry of model versions.

    with zkml.chain.deploy(model, rpc_url=None) as registry:   # None: a throwaway local Anvil
        outcome = registry.submit(proof)                        # one transaction
        outcome.subjects[0].outputs
        registry.result(outcome.subjects[0].commitment)         # what an app reads

    zkml.chain.add_version("credit_v2", rpc_url, registry="0x…", retire=[1])   # an upgrade
    zkml.chain.result("0x…commitment", rpc_url)                 # the chain's default registry

On an `rpc_url`, a registry recorded for that chain (deployments.json in the circuits folder)
is reused when it is still there and has a version of this model's key that is not retired;
`registry=` names one (the model is added to it as a new version when it has none: the owner's
key signs). A new registry gets an activation delay (`activation_delay=`, "2d", "48h", seconds;
by default none on a development chain, id 31337, and two days elsewhere): a version it adds
counts for the app's current result only that long after it was added. A throwaway Anvil leaves
nothing in deployments.json. Reading (`result`, `connect`) needs no signing key.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterable
from dataclasses import replace
from pathlib import Path
from types import TracebackType
from typing import Any

from zkml.evm import registry as contracts
from zkml.evm import rpc
from zkml.evm.anvil import Anvil
from zkml.evm.deployments import Deployments
from zkml.evm.registry import Deployment, DeployResult, OnchainResult
from zkml.evm.results import RecordedResult, VersionInfo
from zkml.layout import ModelLayout, default_circuits_dir
from zkml.progress import Progress, ProgressHook, ignore
from zkml.proving import build_verifier


def _layout(model: Any) -> ModelLayout:
    """A Model, a model folder's layout, or a model's name under the default circuits folder."""
    if isinstance(model, ModelLayout):
        return model
    if isinstance(model, str):
        return ModelLayout.for_model(model)
    layout = getattr(model, "layout", None)
    if not isinstance(layout, ModelLayout):
        from zkml.errors import ModelError

        raise ModelError("this takes a zkml.Model, a ModelLayout or a model's name")
    return layout


class Registry:
    """An application's registry on a chain and, when opened for a model, the version its
    proofs go to. Stops the throwaway Anvil it runs on when closed."""

    def __init__(self, chain: rpc.Chain, address: str, circuits_dir: Path,
                 layout: ModelLayout | None = None, deployment: Deployment | None = None,
                 deployed_now: bool = False, anvil: Anvil | None = None,
                 progress: ProgressHook = ignore):
        self.chain = chain
        self.address = address
        self.circuits_dir = circuits_dir
        self.layout = layout
        self.deployment = deployment
        self.deployed_now = deployed_now
        self._anvil = anvil
        self.progress = progress

    def _deployment_for(self, layout: ModelLayout) -> Deployment:
        if self.deployment is not None and layout == self.layout:
            return self.deployment
        info = contracts.find_version(self.chain, self.address, layout)
        if info is None:
            from zkml.errors import ChainError

            raise ChainError(f"registry {self.address} has no version of {layout.name}'s "
                             "current key", hint="add it: registry.add_version(model)")
        return contracts.deployment_of(self.chain, self.address, info)

    def submit(self, proof: Any, model: Any = None,
               progress: ProgressHook | None = None) -> OnchainResult:
        """Verify natively, check by eth_call, then record the proof's results in one
        transaction, in the version of `model` (by default the model this registry was opened
        for): the "onchain" stage, reported to progress or the deploy's hook."""
        layout = _layout(model) if model is not None else self.layout
        if layout is None:
            from zkml.errors import ModelError

            raise ModelError("which model is this proof of? registry.submit(proof, model=…)")
        hook = progress or self.progress
        path = Path(getattr(proof, "path", proof))
        hook(Progress("onchain", "onchain …", starting=True))
        deployment = self._deployment_for(layout)
        result = contracts.submit(self.chain, deployment, layout, path,
                                  self.deployed_now and deployment == self.deployment)
        result.warnings += self._second_results(layout, result)
        hook(Progress("onchain", result=result))
        return result

    def _second_results(self, layout: ModelLayout, result: OnchainResult) -> list[str]:
        """What a submission recorded anew for an input whose earlier commitment (its salt
        kept in the model's store, zkml.salts) this registry holds a result for already."""
        from zkml import salts
        from zkml.errors import ChainError
        from zkml.evm.registry import NoResult

        notes = []
        for subject in result.subjects:
            if not subject.recorded_now:
                continue
            earlier = []  # (commitment and its result, where its salt is kept)
            for kept in salts.same_input(layout, subject.commitment):
                try:
                    recorded = self.result(kept.commitment)
                except NoResult:
                    continue
                except ChainError as exc:  # the transaction stands: say what is unknown
                    notes.append(f"the same input was proved before under {kept.commitment} "
                                 f"(its salt in {kept.path}); whether this registry holds its "
                                 f"result could not be read: {exc.message}")
                    continue
                earlier.append((f"{kept.commitment} (result #{recorded.result_id} of "
                                f"version {recorded.version})", kept.path))
            if len(earlier) == 1:
                (first, path), = earlier
                notes.append(f"this records a second result for the same input under a new "
                             f"commitment {subject.commitment}; the first, {first}, stays "
                             f"recorded and its salt stays in {path}")
            elif earlier:
                notes.append(f"this records result number {len(earlier) + 1} for the same "
                             f"input under a new commitment {subject.commitment}; the earlier "
                             "ones stay recorded, their salts kept: " + "; ".join(
                                 f"{what} in {path}" for what, path in earlier))
        return notes

    def add_version(self, model: Any, verifier: str = "auto") -> Deployment:
        """`model` as a new version (owner only): its own verifier or the shared one."""
        return contracts.add_version(self.chain, self.address, _layout(model), verifier)

    def retire(self, version: int) -> int:
        """Retire a version (owner only, final); returns the transaction's gas."""
        gas, _ = contracts.retire_version(self.chain, self.address, version, self.circuits_dir)
        return gas

    def result(self, commitment: int | str, version: int | None = None) -> RecordedResult:
        """What the registry holds for a subject (see contracts.read_result)."""
        return contracts.read_result(self.chain, self.address, commitment, version,
                                     Deployments(self.circuits_dir, self.chain))

    def versions(self) -> list[VersionInfo]:
        return contracts.versions(self.chain, self.address,
                                  Deployments(self.circuits_dir, self.chain))

    def version(self, version: int) -> VersionInfo:
        return contracts.version_info(self.chain, self.address, version,
                                      Deployments(self.circuits_dir, self.chain))

    @property
    def owner(self) -> str:
        return str(contracts.contract(self.chain, self.address).functions.owner().call())

    def transfer_ownership(self, next_owner: str) -> None:
        """Step 1 of 2 (owner): propose the next owner; it calls accept_ownership."""
        contracts.transfer_ownership(self.chain, self.address, next_owner)

    def accept_ownership(self) -> None:
        """Step 2 of 2, signed by the proposed owner."""
        contracts.accept_ownership(self.chain, self.address)

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
          layout: ModelLayout | None = None,
          activation_delay: str | int | None = None) -> None:
    """What recording on-chain needs, checked before any work it would waste: the activation
    delay asked for, the model's keys, current (when it has some already), the Solidity
    compiler, and Anvil or a reachable node on the expected chain with a key to sign."""
    from zkml.evm import tools
    from zkml.keys import current_keys

    if activation_delay is not None:
        contracts.parse_activation_delay(activation_delay)
    if layout is not None:
        current_keys(layout, proving=False)
    tools.find("solc")
    if rpc_url:
        rpc.connect(rpc_url, chain_id)
    else:
        tools.find("anvil")


def deploy(model: Any, rpc_url: str | None = None, chain_id: int | None = None, *,
           registry: str | None = None, verifier: str = "auto",
           activation_delay: str | int | None = None,
           progress: ProgressHook | None = None) -> Registry:
    """The registry where `model`'s proofs go, on rpc_url (or a throwaway local Anvil): the
    given `registry`, or one recorded for the chain, in the version of the model's key (one
    not retired first: a retired one refuses proofs), or else a new registry, with this
    activation delay, and the model as version 1. An existing registry keeps its own delay (a
    different one asked for is an error). Adding a model to an existing registry is its
    owner's act: add_version. progress (by default a zkml.Model's own hook) hears the
    deployment and every submit."""
    hook: ProgressHook = progress or getattr(model, "progress", None) or ignore
    layout = _layout(model)
    check(rpc_url, chain_id, layout, activation_delay)
    build_verifier(layout)  # before any node starts: a compile error needs no chain
    circuits_dir = layout.root.parent
    with contextlib.ExitStack() as stack:
        anvil = None if rpc_url else stack.enter_context(Anvil())
        chain = rpc.connect(rpc_url or anvil.url, chain_id if rpc_url else None)  # type: ignore[union-attr]
        chain.throwaway = anvil is not None  # gone with this call: nothing of it is recorded
        deployment = None
        if registry is not None:
            address = contracts.require_registry(chain, registry)
            info = contracts.find_version(chain, address, layout)
            if info is None:
                from zkml.errors import ChainError

                raise ChainError(f"registry {address} has no version of {layout.name}'s "
                                 "current key",
                                 hint=f"its owner adds one: `zkml deploy {layout.name} "
                                 f"--registry {address}`")
            deployment = contracts.deployment_of(chain, address, info)
            Deployments(circuits_dir, chain).use(address)
        elif rpc_url:
            deployment = contracts.recorded_deployment(chain, layout)
        deployed_now = deployment is None
        if deployment is None:
            hook(Progress("deploy", f"deploying {layout.name}'s verifier and registry on "
                          f"{chain.url} …"))
            deployment = contracts.deploy(chain, layout, verifier, activation_delay)
            hook(Progress("deploy", f"registry {deployment.registry} on chain "
                          f"{deployment.chain_id}, activation delay "
                          f"{contracts.duration_text(deployment.activation_delay)}"))
        else:
            contracts.check_activation_delay(chain, deployment.registry, activation_delay)
        stack.pop_all()  # the registry owns the node from here on
    return Registry(chain, deployment.registry, circuits_dir, layout, deployment, deployed_now,
                    anvil, hook)


def connect(rpc_url: str, registry: str | None = None, chain_id: int | None = None,
            circuits_dir: Path | None = None) -> Registry:
    """An existing registry: `registry`, or the chain's default one in deployments.json. No
    key is needed to read it; one is asked for by the first transaction (a new version, a
    retirement)."""
    circuits = Path(circuits_dir or default_circuits_dir())
    chain = rpc.connect(rpc_url, chain_id, signing=False)
    return Registry(chain, contracts.registry_for(chain, circuits, registry), circuits)


def add_version(model: Any, rpc_url: str, *, registry: str | None = None,
                verifier: str = "auto", retire: Iterable[int] = (),
                chain_id: int | None = None,
                activation_delay: str | int | None = None) -> DeployResult:
    """`model` as a new version of `registry` (a new registry with this activation delay when
    None), then retire the given versions: a model's upgrade in one call. A model that is a
    version of the registry already (active, or pending its activation) is not added twice.
    The new version counts for the app's current result from its activation time."""
    start = time.perf_counter()
    layout = _layout(model)
    check(rpc_url, chain_id, layout, activation_delay)  # before any build
    build_verifier(layout)
    circuits_dir = layout.root.parent
    chain = rpc.connect(rpc_url, chain_id)
    registry_gas = 0
    if registry is None:
        address, registry_gas = contracts.deploy_registry(chain, circuits_dir, activation_delay)
        existing = None
    else:
        address = contracts.require_registry(chain, registry)
        contracts.check_activation_delay(chain, address, activation_delay)
        existing = contracts.find_version(chain, address, layout)
        if existing is not None and existing.retired:
            existing = None  # retired: the owner adds it again, as a new version
    if existing is None:
        deployment = replace(contracts.add_version(chain, address, layout, verifier),
                             registry_gas=registry_gas)
    else:
        deployment = contracts.deployment_of(chain, address, existing)
        Deployments(circuits_dir, chain).use(address)
    retired, retire_gas, transactions = _retire(chain, address, retire, circuits_dir)
    delay = contracts.activation_delay_of(chain, address)
    warnings = []
    if registry is None and delay == 0 and chain.chain_id != contracts.DEV_CHAIN_ID:
        warnings.append("activation delay 0: a version this registry adds counts for "
                        "currentResultOf at once, so its owner can change an app's current "
                        "result for a subject without notice")
    return DeployResult(
        stage="deploy", seconds=time.perf_counter() - start, chain_id=chain.chain_id,
        rpc_url=chain.url, registry=address, deployed_registry=registry is None,
        deployment=deployment, added=existing is None, retired=retired,
        gas=registry_gas + deployment.verifier_gas + deployment.version_gas + retire_gas,
        activation_delay=delay, warnings=warnings, transactions=transactions)


def retire(versions: Iterable[int], rpc_url: str, *, registry: str | None = None,
           chain_id: int | None = None, circuits_dir: Path | None = None) -> DeployResult:
    """Retire versions of `registry` (or of the chain's default registry): owner only, final."""
    start = time.perf_counter()
    circuits = Path(circuits_dir or default_circuits_dir())
    chain = rpc.connect(rpc_url, chain_id)
    address = contracts.registry_for(chain, circuits, registry)
    retired, gas, transactions = _retire(chain, address, versions, circuits)
    return DeployResult(
        stage="deploy", seconds=time.perf_counter() - start, chain_id=chain.chain_id,
        rpc_url=chain.url, registry=address, deployed_registry=False, deployment=None,
        added=False, retired=retired, gas=gas,
        activation_delay=contracts.activation_delay_of(chain, address),
        transactions=transactions)


def _retire(chain: rpc.Chain, address: str, versions: Iterable[int],
            circuits_dir: Path) -> tuple[list[int], int, dict[str, str]]:
    retired, total, transactions = [], 0, {}
    for version in versions:
        gas, tx = contracts.retire_version(chain, address, int(version), circuits_dir)
        retired.append(int(version))
        total += gas
        transactions[f"retire version {version}"] = tx
    return retired, total, transactions


def result(commitment: int | str, rpc_url: str, *, registry: str | None = None,
           version: int | None = None, chain_id: int | None = None,
           circuits_dir: Path | None = None) -> RecordedResult:
    """What `registry` (or the chain's default one) holds for a commitment: in `version`, or
    the newest active version holding a result for it, else the newest retired one."""
    with connect(rpc_url, registry, chain_id, circuits_dir) as handle:
        return handle.result(commitment, version)
