"""On chain: the verifier, a registry's deployment and versions, recording a proof, reading a
result, and a local node."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click
from rich.markup import escape

from zkml.cli.app import (
    Context,
    common,
    err,
    main,
    out,
    pass_ctx,
    run_stage,
)
from zkml.cli.options import (
    activation_delay_option,
    force_option,
    rpc_options,
)
from zkml.cli.render import (
    fixed_point,
    render_audit,
    render_deployment,
    render_onchain,
)
from zkml.results import inert, split_outputs, to_json


@main.command("verifier", short_help="Generate and compile MODEL's Solidity verifier.")
@click.argument("model")
@force_option
@common
@pass_ctx
def verifier_cmd(obj: Context, model: str, force: bool) -> None:
    """Generate and compile MODEL's Solidity verifier and its registry contract."""
    from zkml.proving import build_verifier

    result = run_stage(obj, "verifier", lambda: build_verifier(obj.layout(model), force))
    err.print(f"  {escape(result.summary())} (optimizer on, runs=1)", soft_wrap=True)


@main.command("deploy", short_help="Deploy a registry, add MODEL as a version, retire one.")
@click.argument("model", required=False)
@click.option("--rpc-url", envvar="ZKML_RPC_URL", required=True,
              help="The node to deploy to (e.g. from `zkml anvil`) [$ZKML_RPC_URL].")
@click.option("--chain-id", type=int, envvar="ZKML_CHAIN_ID",
              help="Refuse an RPC on any other chain [$ZKML_CHAIN_ID].")
@click.option("--registry", help="Add MODEL as a new version of this registry (its owner's key "
              "signs) [default: deploy a new registry].")
@click.option("--verifier", "verifier", type=click.Choice(["auto", "own", "shared"]),
              default="auto", show_default=True,
              help="own: deploy MODEL's verifier; shared: ezkl's reusable verifier (deployed "
              "once per chain) with MODEL's verifying-key artifact, cheaper to deploy, dearer "
              "per proof; auto: own unless it exceeds 24 KB.")
@click.option("--retire", "retire", type=click.IntRange(1), multiple=True,
              help="Retire this version of the registry (repeatable; after adding MODEL; at "
              "once).")
@activation_delay_option
@common
@pass_ctx
def deploy_cmd(obj: Context, model: str | None, rpc_url: str, chain_id: int | None,
               registry: str | None, verifier: str, retire: tuple[int, ...],
               activation_delay: str | None) -> None:
    """Deploy a registry with MODEL as version 1, or add MODEL to --registry; --retire VERSION.

    A version records proofs at once and counts for currentResultOf after the registry's
    activation delay. Registries and their versions go to deployments.json (per chain id) in
    the circuits folder.
    """
    from zkml import chain

    if model is None and not retire:
        raise click.UsageError("give MODEL to deploy, or --retire VERSION")
    if model is None:
        result = run_stage(obj, "deploy", lambda: chain.retire(
            retire, rpc_url, registry=registry, chain_id=chain_id,
            circuits_dir=obj.circuits_dir))
    else:
        result = run_stage(obj, "deploy", lambda: chain.add_version(
            obj.layout(model), rpc_url, registry=registry, verifier=verifier, retire=retire,
            chain_id=chain_id, activation_delay=activation_delay))
        if result.deployment is not None:
            render_deployment(result.deployment, activation=False)  # the summary says it
    obj.out.print(f"{escape(str(result))} via {result.rpc_url}", soft_wrap=True)


@main.command("onchain", short_help="Record a proof's results in a registry.")
@click.argument("model")
@click.argument("proof_file", required=False, type=click.Path(path_type=Path))
@rpc_options
@click.option("--registry", help="Record in this registry, in the version of MODEL's key "
              "[default: one recorded for the chain, or a new registry].")
@activation_delay_option
@common
@pass_ctx
def onchain_cmd(obj: Context, model: str, proof_file: Path | None, rpc_url: str | None,
                chain_id: int | None, registry: str | None, activation_delay: str | None) -> None:
    """Record a proof's results on-chain: one eth_call check, then one transaction.

    Exit 0 recorded, 1 rejected (INVALID) or failed, 3 already recorded (every subject of the
    proof has a result in that version; they stand).
    """
    from zkml import chain

    layout = obj.layout(model)

    def submit() -> Any:
        with chain.deploy(layout, rpc_url, chain_id, registry=registry,
                          activation_delay=activation_delay) as handle:
            return handle.submit(proof_file or layout.proof)

    render_onchain(obj, layout, run_stage(obj, "onchain", submit))


@main.command("result", short_help="Read what a registry records for a commitment.")
@click.argument("commitment")
@click.option("--rpc-url", envvar="ZKML_RPC_URL", required=True,
              help="The node to read from [$ZKML_RPC_URL].")
@click.option("--chain-id", type=int, envvar="ZKML_CHAIN_ID",
              help="Refuse an RPC on any other chain [$ZKML_CHAIN_ID].")
@click.option("--registry", help="The registry [default: the chain's in deployments.json].")
@click.option("--model-version", "version", type=click.IntRange(1), metavar="V",
              help="Read this version's result [default: what currentResultOf returns (the "
              "newest active version holding one), else the newest version holding one].")
@common
@pass_ctx
def result_cmd(obj: Context, commitment: str, rpc_url: str, chain_id: int | None,
               registry: str | None, version: int | None) -> None:
    """Print what a registry records for COMMITMENT: version, outputs with labels, block, tx;
    and for each version holding it, its key and verifier, checked against the local files."""
    from zkml import chain
    from zkml.evm.results import utc

    recorded = chain.result(commitment, rpc_url, registry=registry, version=version,
                            chain_id=chain_id, circuits_dir=obj.circuits_dir)
    obj.summary["result"] = to_json(recorded)
    r = inert(recorded)  # as shown: the chain's strings (labels, ...) are data, never control
    name = f" ({r.model})" if r.model else ""
    status = {"active": "[green]active[/]", "retired": "[yellow]retired[/]"}.get(
        r.status, f"[yellow]pending[/]: counts for currentResultOf from {utc(r.activates_at)}")
    console = obj.out
    console.print(f"commitment {r.commitment}", soft_wrap=True)
    console.print(f"  registry   {r.registry} on chain {r.chain_id}", soft_wrap=True)
    console.print(f"  version    {r.version}{escape(name)}, {status}; result "
                  f"#{r.result_id} of that version", soft_wrap=True)
    for k, (values, scale) in enumerate(zip(split_outputs(r.outputs, r.output_lengths),
                                            r.output_scales, strict=True)):
        labels = r.labels if k == 0 and len(r.labels) == len(values) else None
        shown = ", ".join(f"{labels[i]} {v:.4f}" if labels else f"{v:.4f}"
                          for i, v in enumerate(values))
        console.print(f"  output {k}   {escape(f'[{shown}]')} ({fixed_point(scale)})",
                      soft_wrap=True)
    if r.prediction is not None:
        console.print(f"  prediction {escape(r.prediction)}", soft_wrap=True)
    console.print(f"  block      {r.block}", soft_wrap=True)
    console.print(f"  transaction {r.transaction or '(its event was not found)'}",
                  soft_wrap=True)
    current = ("this result" if r.current_version == r.version else
               f"version {r.current_version}'s result" if r.current_version else
               "nothing (NoResult): no active version holds a result for it")
    console.print(f"  current    currentResultOf returns {current}", soft_wrap=True)
    if r.other_versions:
        console.print(f"  also recorded by version(s) {', '.join(map(str, r.other_versions))} "
                      "(--model-version V reads one)", soft_wrap=True)
    for audit in r.audits:
        render_audit(console, audit)


@main.command("anvil", short_help="Run a local Anvil node until Ctrl-C.")
def anvil_cmd() -> None:
    """Run a local Anvil node on a free loopback port until Ctrl-C."""
    import signal

    from zkml.evm.anvil import Anvil

    for stop in (signal.SIGTERM, signal.SIGHUP):  # like Ctrl-C: stop the node on the way out
        signal.signal(stop, lambda *_: sys.exit(0))
    with Anvil() as node:
        out.print(f"Anvil at {node.url} (chain 31337). Ctrl-C stops it.")
        out.print(f"  export ZKML_RPC_URL={node.url}")
        try:
            node.wait()
        except KeyboardInterrupt:
            err.print("stopping Anvil")
