"""web3 connection, the account that signs, and transactions with their gas."""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlparse

from zkml.errors import ChainError

# Anvil's first well-known dev account: public knowledge, so only ever used on a local chain.
ANVIL_DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
KEY_ENV = "ZKML_PRIVATE_KEY"
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


@dataclass
class Chain:
    w3: Any  # web3.Web3
    url: str
    chain_id: int
    account: Any  # eth_account LocalAccount
    local: bool


def is_local_anvil(url: str, client_version: str) -> bool:
    return urlparse(url).hostname in LOOPBACK and client_version.lower().startswith("anvil")


def signing_key(url: str, local: bool, configured: str | None) -> str:
    """The dev key only on a local Anvil; anywhere else a key the user set, never the dev key."""
    if configured is None:
        if not local:
            raise ChainError(
                f"{url} is not a local Anvil node, and no signing key is set",
                hint=f"export {KEY_ENV}=0x... with a funded key for that chain",
            )
        return ANVIL_DEV_KEY
    if configured.lower() == ANVIL_DEV_KEY and not local:
        raise ChainError(
            f"refusing to send Anvil's public dev key to {url}: anyone can drain its funds there",
            hint=f"set {KEY_ENV} to a key of your own",
        )
    return configured


def connect(url: str, expected_chain_id: int | None = None) -> Chain:
    from web3 import Web3

    w3 = Web3(Web3.HTTPProvider(url, request_kwargs={"timeout": 60}))
    try:
        chain_id = w3.eth.chain_id
        client = w3.client_version
    except Exception as exc:
        raise ChainError(
            f"cannot reach an Ethereum RPC at {url} ({type(exc).__name__})",
            hint="start a node (`zkml anvil`) or check --rpc-url",
        ) from None
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise ChainError(
            f"the RPC at {url} is chain {chain_id}, not the expected chain {expected_chain_id}",
            hint="check --rpc-url and --chain-id",
        )
    local = is_local_anvil(url, client)
    key = signing_key(url, local, os.environ.get(KEY_ENV))
    try:
        account = w3.eth.account.from_key(key)
    except Exception:
        raise ChainError(f"{KEY_ENV} is not a valid private key") from None
    return Chain(w3, url, chain_id, account, local)


def send(chain: Chain, tx: dict[str, Any]) -> Any:
    """Sign, send and wait for a transaction; a revert raises ChainError with the receipt."""
    tx = {
        "from": chain.account.address,
        "nonce": chain.w3.eth.get_transaction_count(chain.account.address),
        "chainId": chain.chain_id,
        **tx,
    }
    if "gas" not in tx:
        tx["gas"] = chain.w3.eth.estimate_gas(tx)
    if "gasPrice" not in tx and "maxFeePerGas" not in tx:
        tx["gasPrice"] = chain.w3.eth.gas_price
    signed = chain.account.sign_transaction(tx)
    tx_hash = chain.w3.eth.send_raw_transaction(signed.raw_transaction)
    receipt = chain.w3.eth.wait_for_transaction_receipt(tx_hash, timeout=120)
    if receipt["status"] != 1:
        raise ChainError(f"transaction {tx_hash.hex()} reverted")
    return receipt


def deploy(chain: Chain, contract_build: dict[str, Any], *args: Any) -> tuple[str, int]:
    """Deploy a compiled contract ({abi, bytecode, runtime_size}); return address and gas used."""
    abi, bytecode = contract_build["abi"], contract_build["bytecode"]
    contract = chain.w3.eth.contract(abi=abi, bytecode=bytecode)
    gas = 30_000_000  # set, so that building the transaction does not estimate (and fail) early
    data = contract.constructor(*args).build_transaction(
        {"from": chain.account.address, "gas": gas})["data"]
    try:
        receipt = send(chain, {"data": data, "gas": gas})
    except Exception as exc:
        raise ChainError(
            f"deploying a contract of {contract_build['runtime_size']} bytes failed: {exc}",
            hint="a contract above 24 KB needs the optimizer and, on a local node, Anvil's "
            "--code-size-limit raised",
        ) from None
    return receipt["contractAddress"], receipt["gasUsed"]
