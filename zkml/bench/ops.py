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
    from zkml import pipeline, proving
    from zkml.circuit import CircuitOptions
    from zkml.layout import ModelLayout

    layout = ModelLayout(Path(args["root"]))
    if op == "zkml_compile":
        pipeline.compile_model(layout, CircuitOptions(**args.get("options", {})), force=True)
    elif op == "zkml_setup":
        proving.setup(layout, force=args.get("force", True))
    elif op == "zkml_prove":
        proving.prove(layout, json.loads(layout.bench_input.read_text()), layout.bench_proof)
    elif op == "zkml_verify":
        proving.verify(layout, layout.bench_proof)


def _plain(op: str, args: dict[str, Any]) -> None:
    """ezkl called directly, in this process, as a user of its Python API would."""
    import asyncio
    import importlib

    from zkml.layout import ModelLayout, ScratchLayout

    ezkl: Any = importlib.import_module("ezkl")  # its stubs mark defaulted arguments required
    plain, files = ModelLayout(Path(args["root"])), ScratchLayout(Path(args["root"]))
    srs = str(args.get("srs", ""))
    if op == "ezkl_settings":
        run_args = ezkl.PyRunArgs()
        for key, value in args["run_args"].items():
            # JSON turned its (name, size) pairs into lists
            setattr(run_args, key, [tuple(v) for v in value] if key == "variables" else value)
        ezkl.gen_settings(str(plain.onnx), str(plain.settings), py_run_args=run_args)
        calibration = args.get("calibration") or {}
        ezkl.calibrate_settings(str(plain.calibration_data), str(plain.onnx),
                                str(plain.settings), "resources", **calibration)
    elif op == "ezkl_compile":
        ezkl.compile_circuit(str(plain.onnx), str(plain.compiled), str(plain.settings))
    elif op == "ezkl_srs":
        ezkl.gen_srs(srs, int(args["logrows"]))
    elif op == "ezkl_setup":
        ezkl.setup(str(plain.compiled), str(plain.vk), str(plain.pk), srs_path=srs)
    elif op in ("ezkl_witness", "ezkl_prove"):  # prove: the raw calls zkml's prove wraps
        ezkl.gen_witness(str(files.input), str(plain.compiled), str(files.witness))
    if op in ("ezkl_prove", "ezkl_prove_only"):
        ezkl.prove(str(files.witness), str(plain.compiled), str(plain.pk), str(plain.proof),
                   srs_path=srs)
    elif op == "ezkl_verify":
        ezkl.verify(str(plain.proof), str(plain.settings), str(plain.vk), srs_path=srs)
    elif op == "ezkl_verifier":
        async def write() -> None:
            try:
                await ezkl.create_evm_verifier(str(plain.vk), str(plain.settings),
                                               str(plain.verifier_sol), str(files.abi),
                                               srs_path=srs)
            except Exception:  # noqa: BLE001 - offline: the .sol is written, solc's download fails
                if not plain.verifier_sol.exists():
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
