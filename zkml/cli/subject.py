"""What a data subject runs: recompute their commitment, and the page that shows their
results."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from zkml.cli.app import (
    Context,
    common,
    err,
    main,
    out,
    pass_ctx,
)
from zkml.errors import VerificationFailed


@main.command("commitment", short_help="Recompute your commitment from input and salt.")
@click.argument("model")
@click.option("--input", "input_file", required=True, type=click.Path(path_type=Path),
              help="The private input the proof was made of (as `zkml prove --input`).")
@click.option("--secret", "secret_file", required=True, type=click.Path(path_type=Path),
              help="The file that holds the salt: circuits/MODEL/secrets/<commitment>.json, "
              "or the proof.secret.json copy beside a proof.")
@common
@pass_ctx
def commitment_cmd(obj: Context, model: str, input_file: Path, secret_file: Path) -> None:
    """Recompute the commitment of your input and salt and check it against the secret file.

    What a data subject runs, offline, to see that a recorded result is about them. Exit 0
    when every subject's commitment matches, 1 when one does not.
    """
    from zkml import recompute

    check = recompute.check_secret(obj.layout(model), input_file, secret_file)
    obj.summary["commitment"] = {"subjects": [c.__dict__ for c in check]}
    for c in check:
        who = f"subject {c.index}: " if len(check) > 1 else ""
        if c.matches:
            obj.out.print(f"[bold green]matches[/]: {who}{c.computed} is the commitment of "
                          "this input and salt", soft_wrap=True)
        else:
            obj.out.print(f"[bold red]differs[/]: {who}the input and salt give {c.computed}, "
                          f"the secret file names {c.claimed}", soft_wrap=True)
    if not all(c.matches for c in check):
        raise VerificationFailed("the commitment of this input and salt is not the one in "
                                 f"{secret_file}", hint="check --input and the model")


@main.command("serve", short_help="Serve the subject's page on 127.0.0.1.")
@click.option("--port", type=click.IntRange(0, 65535), default=0, show_default=True,
              help="Loopback port (0: a free one).")
@click.option("--rpc-url", envvar="ZKML_RPC_URL",
              help="The node the page reads, through this server: its URL (and any key in it) "
              "is never served [$ZKML_RPC_URL].")
@click.option("--registry", help="Prefill the page's registry [default: the chain's in "
              "deployments.json, when --rpc-url is given].")
@common
@pass_ctx
def serve_cmd(obj: Context, port: int, rpc_url: str | None, registry: str | None) -> None:
    """Serve the subject's page on 127.0.0.1 until Ctrl-C (or open zkml/web/index.html)."""
    import signal

    from zkml import web

    for stop in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(stop, lambda *_: sys.exit(0))
    config = web.page_config(rpc_url, registry, obj.circuits_dir)
    with web.serve(port, config, rpc_url) as server:
        out.print(f"the subject's page: {server.url}", soft_wrap=True)
        via = " through this server (read-only calls; the node's URL is not served)" \
            if rpc_url else ""
        out.print(f"  it reads the registry over JSON-RPC{via}; a salt file dropped on it (a "
                  "subject's circuits/MODEL/secrets/<commitment>.json, or a proof.secret.json) "
                  "never leaves the browser. Ctrl-C stops.", soft_wrap=True)
        try:
            server.wait()
        except KeyboardInterrupt:
            err.print("stopping")
