"""deployments.json in the circuits folder: the registries zkml deployed or used on each
chain, their versions and the shared verifier, so that later commands find them."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from zkml.errors import ZkmlError
from zkml.evm import rpc
from zkml.layout import ModelLayout, read_json, write_json


def _same_chain(recorded: Any, identity: str) -> bool:
    if recorded is None:  # an older zkml's record: only a chain that does not restart
        return identity.startswith("genesis")
    return bool(recorded == identity)


class Deployments:
    """deployments.json in the circuits folder, as one chain sees it: the registries zkml
    deployed or used there with their versions, the shared verifier, and the chain's default
    registry (the last one deployed or used).

    Records are kept per chain id, each with the chain's identity (`rpc.Chain.identity`): a
    record made on another chain of the same id (a restarted Anvil) is ignored, not an error,
    and replaced by the first change. A throwaway chain (zkml's own Anvil, for one call) is
    not written to the file: its record lives with the chain (`Chain.unrecorded`) and ends with
    it. A record without identity (written by an older zkml) counts only on a chain known by
    its genesis block, one that does not restart. Anything unreadable is rewritten on the next
    change."""

    def __init__(self, circuits_dir: Path, chain: rpc.Chain):
        self.path = Path(circuits_dir) / "deployments.json"
        self.throwaway = chain.throwaway
        self.key = str(chain.chain_id)
        self.records: dict[str, Any] = {}
        self.record: dict[str, Any] = chain.unrecorded
        if not self.throwaway:
            if self.path.exists():
                try:
                    records = read_json(self.path, "deployments")
                except ZkmlError:
                    records = None
                if isinstance(records, dict):
                    self.records = {k: v for k, v in records.items() if isinstance(v, dict)}
            record = self.records.get(self.key, {})
            if not _same_chain(record.get("identity"), chain.identity):
                record = {}  # another chain's, of the same id: ignored
            self.record = {**record, "identity": chain.identity}
        if not isinstance(self.record.get("registries"), dict):
            self.record["registries"] = {}

    @classmethod
    def of(cls, layout: ModelLayout, chain: rpc.Chain) -> Deployments:
        return cls(layout.root.parent, chain)

    def registries(self) -> dict[str, Any]:
        return self.record["registries"]

    def registry(self, address: str) -> dict[str, Any]:
        record = self.registries().setdefault(address, {})
        if not isinstance(record.get("versions"), dict):
            record["versions"] = {}
        return record

    def default_registry(self) -> str | None:
        address = self.record.get("default")
        return address if isinstance(address, str) else None

    def use(self, address: str) -> None:
        self.registry(address)
        self.record["default"] = address
        self.save()

    def model_of(self, address: str, version: int) -> str | None:
        record = self.registry(address)["versions"].get(str(version))
        return record.get("model") if isinstance(record, dict) else None

    def shared_verifier(self) -> dict[str, Any] | None:
        record = self.record.get("shared_verifier")
        return record if isinstance(record, dict) else None

    def save(self) -> None:
        if not self.throwaway:
            write_json(self.path, {**self.records, self.key: self.record})
