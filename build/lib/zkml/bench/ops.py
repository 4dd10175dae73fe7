"""The operations `zkml.bench.runner.step` times, each run as `python -m zkml.bench.ops OP ARGS`
in a process of its own: zkml's stages, and ezkl's Python API called directly."""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path
from typing import Any


def _zkml(op: str, args: dict[str, Any]) -> None:
    from zkml import keys, pipeline, proof
    from zkml.circuit import CircuitOptions
    from zkml.layout import ModelLayout

    layout = ModelLayout(Path(args["root"]))
    if op == "zkml_compile":
        pipeline.compile_model(layout, CircuitOptions(**args.get("options", {})), force=True)
    elif op == "zkml_setup":
        keys.setup(layout, force=args.get("force", True))
    elif op == "zkml_prove":
        proof.prove(layout, json.loads(Path(args["input"]).read_text()),
                    Path(args["root"]) / "bench-proof.json")
    elif op == "zkml_verify":
        proof.verify(layout, Path(args["root"]) / "bench-proof.json")


def _plain(op: str, args: dict[str, Any]) -> None:
    """ezkl called directly, in this process, as a user of its Python API would."""
    import asyncio
    import importlib

    ezkl: Any = importlib.import_module("ezkl")  # its stubs mark defaulted arguments required
    root = Path(args["root"])
    srs = str(args.get("srs", ""))
    if op == "ezkl_settings":
        run_args = ezkl.PyRunArgs()
        for key, value in args["run_args"].items():
            # JSON turned its (name, size) pairs into lists
            setattr(run_args, key, [tuple(v) for v in value] if key == "variables" else value)
        ezkl.gen_settings(str(root / "model.onnx"), str(root / "settings.json"),
                          py_run_args=run_args)
        calibration = args.get("calibration") or {}
        ezkl.calibrate_settings(str(root / "calibration.json"), str(root / "model.onnx"),
                                str(root / "settings.json"), "resources", **calibration)
    elif op == "ezkl_compile":
        ezkl.compile_circuit(str(root / "model.onnx"), str(root / "model.compiled"),
                             str(root / "settings.json"))
    elif op == "ezkl_srs":
        ezkl.gen_srs(srs, int(args["logrows"]))
    elif op == "ezkl_setup":
        ezkl.setup(str(root / "model.compiled"), str(root / "vk.key"), str(root / "pk.key"),
                   srs_path=srs)
    elif op == "ezkl_witness":
        ezkl.gen_witness(str(root / "input.json"), str(root / "model.compiled"),
                         str(root / "witness.json"))
    elif op == "ezkl_prove":  # the raw calls zkml's prove wraps: witness, then prove
        ezkl.gen_witness(str(root / "input.json"), str(root / "model.compiled"),
                         str(root / "witness.json"))
        ezkl.prove(str(root / "witness.json"), str(root / "model.compiled"),
                   str(root / "pk.key"), str(root / "proof.json"), srs_path=srs)
    elif op == "ezkl_prove_only":
        ezkl.prove(str(root / "witness.json"), str(root / "model.compiled"),
                   str(root / "pk.key"), str(root / "proof.json"), srs_path=srs)
    elif op == "ezkl_verify":
        ezkl.verify(str(root / "proof.json"), str(root / "settings.json"), str(root / "vk.key"),
                    srs_path=srs)
    elif op == "ezkl_verifier":
        async def write() -> None:
            try:
                await ezkl.create_evm_verifier(str(root / "vk.key"), str(root / "settings.json"),
                                               str(root / "Verifier.sol"),
                                               str(root / "Verifier.abi"), srs_path=srs)
            except Exception:  # noqa: BLE001 - offline: the .sol is written, solc's download fails
                if not (root / "Verifier.sol").exists():
                    raise

        asyncio.run(write())


def main() -> None:
    op, args = sys.argv[1], json.loads(sys.argv[2])
    sink = os.open(os.devnull, os.O_WRONLY)  # ezkl's native prints: not part of the report
    saved = os.dup(1)
    os.dup2(sink, 1)
    start = time.perf_counter()
    (_zkml if op.startswith("zkml_") else _plain)(op, args)
    seconds = time.perf_counter() - start
    os.dup2(saved, 1)
    print(json.dumps({"seconds": seconds}), flush=True)
    from zkml import _ezkl

    _ezkl.stop_all()  # reaped here, so that this process's rusage counts the ezkl worker too
    os._exit(0)  # skip interpreter teardown: ezkl's runtime threads can abort it


if __name__ == "__main__":
    main()
