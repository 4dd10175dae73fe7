"""A model proved in segments (zkml.segments): cut in two at --max-logrows 12, proved, verified
as one chain; a tampered, swapped, dropped or replayed segment fails; the link between the
segments is a salted commitment that enumerating inputs does not find; a killed prove resumes."""

import itertools
import json
import os
import signal
import subprocess
import sys
import time

import numpy as np
import pytest
import segment_models

from zkml import _ezkl, proving, segments
from zkml.circuit import CircuitSettings
from zkml.errors import InputError, VerificationFailed
from zkml.export import ExportedModel
from zkml.layout import proof_parts
from zkml.recompute import commitment
from zkml.subjects import point_bytes

pytestmark = pytest.mark.integration


def test_the_model_is_cut_in_two_and_proved_as_one_chain(chain_mlp, tmp_path):
    chain = segments.chain_of(chain_mlp)
    assert chain is not None and len(chain.segments) == 2
    settings = CircuitSettings.load(chain_mlp)
    assert settings.logrows == segment_models.MAX_LOGROWS
    for i in range(2):  # each segment fits 2^L rows as it is laid out: no column wrapped
        assert segments.fits(CircuitSettings.load(chain_mlp.segment(i)), settings.logrows)
    assert settings.num_rows + 8 > 2**settings.logrows  # the whole would not

    exported = ExportedModel.load(chain_mlp)
    row = exported.holdout[2]
    made = segments.prove(chain_mlp, row, tmp_path / "p.json", workers=2)
    assert [r.segment for r in sorted(made.segments, key=lambda r: r.segment)] == [0, 1]
    assert made.critical_path_seconds > 0 and all(r.prove_seconds > 0 for r in made.segments)
    assert np.allclose(made.outputs[0], exported.holdout_reference[0][2], atol=0.01)
    assert not proof_parts(tmp_path / "p.json").exists()  # the parts go once the chain is whole
    checked = proving.verify(chain_mlp, tmp_path / "p.json")
    assert checked.instances.outputs == made.outputs
    salt = int(json.loads((tmp_path / "p.secret.json").read_text())["subjects"][0]["salt"], 16)
    assert made.instances.input_commitments == [commitment(chain_mlp, row, salt)]
    (kept,) = made.kept  # the salt stays in the model's store, as any proof's
    assert kept == chain_mlp.secrets.salt(made.instances.input_commitments[0])
    assert json.loads(kept.read_text())["subjects"][0]["salt"] == f"0x{salt:064x}"

    with pytest.raises(InputError, match="proved before under KZG commitment"):
        segments.prove(chain_mlp, row, tmp_path / "again.json", reuse_salt=True)  # its links too
    assert not (tmp_path / "again.json").exists()
    anew = segments.prove(chain_mlp, row, tmp_path / "anew.json")
    (repeat,) = anew.repeats  # a new commitment of the same input: said, like any proof's
    assert repeat.earlier == made.instances.input_commitments[0] and repeat.secret == kept
    assert anew.warnings and "--reuse-salt" in anew.warnings[0]


def _pieces(layout, path):
    key = segments.ChainKey.load(layout)
    return key, key.pieces(bytes(json.loads(path.read_text())["proof"]))


def _with_proof(path, target, raw):
    data = json.loads(path.read_text())
    data["proof"] = list(raw)
    target.write_text(json.dumps(data))
    return target


@pytest.fixture(scope="module")
def proved(chain_mlp, tmp_path_factory):
    """Chains of held-out rows 0 (salt 0, and a secret salt) and 1 (a secret salt)."""
    folder = tmp_path_factory.mktemp("chains")
    rows = ExportedModel.load(chain_mlp).holdout
    return {name: segments.prove(chain_mlp, rows[k], folder / f"{name}.json", salts=salts).path
            for name, k, salts in (("known", 0, [0]), ("a", 0, None), ("b", 1, None))}


@pytest.mark.parametrize("case", ["link", "swapped", "dropped", "replayed", "segment"])
def test_a_tampered_chain_does_not_verify(chain_mlp, proved, tmp_path, case):
    key, (head, tail) = _pieces(chain_mlp, proved["a"])
    if case == "link":  # one byte of the link's points in the second proof
        raw = head + bytes([tail[0] ^ 1]) + tail[1:]
    elif case == "swapped":
        raw = tail + head
    elif case == "dropped":
        raw = head
    elif case == "replayed":  # the second segment of another input's chain
        raw = head + _pieces(chain_mlp, proved["b"])[1][1]
    else:  # a byte past the link's points: the segment's own verifier refuses it
        raw = head + tail[:-40] + bytes([tail[-40] ^ 1]) + tail[-39:]
    with pytest.raises(VerificationFailed) as failed:
        proving.verify(chain_mlp, _with_proof(proved["a"], tmp_path / "t.json", raw))
    expected = {"link": "link from segment 1 to segment 2 is broken",
                "replayed": "link from segment 1 to segment 2 is broken",
                "swapped": "link from segment 1 to segment 2 is broken",
                "dropped": "bytes; a chain of this model's 2 segments",
                "segment": "segment 2 of"}[case]
    assert expected in failed.value.message


def test_enumerating_inputs_does_not_find_a_salted_link(chain_mlp, proved, tmp_path):
    """The link is a commitment to the activations where the model was cut: a deterministic
    function of the input. An attacker enumerates plausible inputs (a grid around the real one,
    which is on it), runs the public first segment on each and commits to its output as the
    second segment would, and keeps those that match the proof's link. With the salt known
    (here 0) the true input is found; with a secret salt nothing is."""
    chain = segments.chain_of(chain_mlp)
    parts = segments.segment_layouts(chain_mlp, chain)
    exported = ExportedModel.load(chain_mlp)
    row = exported.holdout[0]
    steps = np.linspace(-0.5, 0.5, 4)
    grid = [row + np.pad(np.asarray(d), (0, len(row) - 2)) for d in itertools.product(steps,
                                                                                    repeat=2)]
    grid.append(row)
    key = segments.ChainKey.load(chain_mlp)
    srs = str(json.loads(chain_mlp.key_record.read_text())["srs_path"])

    def link_of(path):
        head = _pieces(chain_mlp, path)[1][0]
        start = 64 * key.segments[0].link_offset
        return head[start:start + 64 * key.segments[0].link_points]

    def guess(candidate, salt):
        (out,) = segments.witnesses(parts[:1], chain, candidate, salt, True, exported.signature,
                                    tmp_path)
        points = _ezkl.call("kzg_commit", out["outputs"][0], str(parts[1].vk),
                            str(parts[1].settings), srs)
        return b"".join(point_bytes(p) for p in points)

    unsalted, salted = link_of(proved["known"]), link_of(proved["a"])
    guesses = [guess(c, 0) for c in grid]
    assert [k for k, g in enumerate(guesses) if g == unsalted] == [len(grid) - 1]
    assert not [k for k, g in enumerate(guesses) if g == salted]


def test_a_killed_prove_resumes_from_its_finished_segments(chain_mlp, tmp_path):
    """One worker proves the segments in turn; the run is killed once the first proof has
    landed beside the proof file, and the next run proves only the second."""
    row = ExportedModel.load(chain_mlp).holdout[4]
    source = tmp_path / "input.json"
    source.write_text(json.dumps({"input": row.tolist(), "salt": "0x" + "ab" * 32}))
    target = tmp_path / "p.json"
    parts = proof_parts(target)
    run = subprocess.Popen(
        [sys.executable, "-m", "zkml.cli", "--circuits-dir", str(chain_mlp.root.parent),
         "prove", chain_mlp.name, "--input", str(source), "-o", str(target), "--workers", "1"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline = time.monotonic() + 300
        while not (parts / "00.proof.json").exists() and not (parts / "01.proof.json").exists():
            assert run.poll() is None and time.monotonic() < deadline, "no segment was proved"
            time.sleep(0.05)
    finally:
        os.killpg(run.pid, signal.SIGKILL)
        run.wait()
    assert not target.exists()
    assert oct(parts.stat().st_mode & 0o777) == "0o700"  # it holds the salt
    done = segments.prove(chain_mlp, row, target, salts=["0x" + "ab" * 32])
    assert sorted(r.where == "kept" for r in done.segments) == [False, True]
    assert not parts.exists()
    proving.verify(chain_mlp, target)


@pytest.mark.slow
def test_one_transaction_records_a_segmented_result_under_the_subject(chain_mlp, proved,
                                                                      tmp_path):
    """On Anvil: the registry's version points at the SegmentChain contract; one transaction
    verifies both segments and the link and records the outputs under the subject's input
    commitment; the same chain again is already recorded; a broken link is rejected. The
    result's audit finds the chain, its segments' verifiers and its link layout to be the ones
    built here; a segment verifier's code replaced (Anvil's setCode standing in for a
    redeployment at its address) makes the chain refuse and the audit say it differs."""
    from rich.console import Console

    from zkml import chain
    from zkml.cli.render import render_audit
    from zkml.evm import registry
    from zkml.evm.verifier import EvmBuild, calldata, verify_call

    native = proving.verify(chain_mlp, proved["a"]).instances
    with chain.deploy(chain_mlp) as deployed:
        outcome = deployed.submit(proved["a"])
        (subject,) = outcome.subjects
        assert subject.commitment == native.input_commitments[0] and subject.recorded_now
        assert subject.outputs_fixed_point == native.outputs_fixed_point[0]
        assert 2 * 300_000 < outcome.gas < 30_000_000  # two verifications, one block
        recorded = deployed.result(subject.commitment)
        assert recorded.outputs_fixed_point == native.outputs_fixed_point[0]
        (audit,) = recorded.audits
        assert audit.local_model == chain_mlp.name and audit.segmented and audit.vk_matches
        assert audit.code_unchanged and audit.verifier_matches is True
        shown = Console(record=True, width=400)
        render_audit(shown, audit)
        assert f"as recorded at addVersion; matches {chain_mlp.name}'s compiled SegmentChain, " \
            "its segments' verifiers and link layout" in shown.export_text()
        with pytest.raises(registry.AlreadyRecorded):
            deployed.submit(proved["a"])
        head, tail = _pieces(chain_mlp, proved["b"])[1]
        broken = calldata(_with_proof(proved["b"], tmp_path / "t.json",
                                      head + bytes([tail[0] ^ 1]) + tail[1:]))
        verifier = outcome.deployment.verifier
        assert not verify_call(deployed.chain, verifier, broken)
        assert verify_call(deployed.chain, verifier, calldata(proved["b"]))
        w3 = deployed.chain.w3
        on_chain = w3.eth.contract(address=verifier, abi=EvmBuild.load(chain_mlp).verifier["abi"])
        first, second = on_chain.functions.segments().call()[0]
        w3.provider.make_request("anvil_setCode",
                                 [second, "0x" + bytes(w3.eth.get_code(first)).hex()])
        assert not verify_call(deployed.chain, verifier, calldata(proved["b"]))
        (audit,) = deployed.result(subject.commitment).audits
        assert audit.code_unchanged and audit.verifier_matches is False
