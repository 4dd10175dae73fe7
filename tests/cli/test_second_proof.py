"""The same input proved and recorded twice: both results stand, both salts stay, and the
second run says so."""

import json
import shutil
import stat
from pathlib import Path

import pytest
from conftest import one_line_error, zkml

from zkml.export import ExportedModel
from zkml.layout import ModelLayout

pytestmark = pytest.mark.integration


def test_running_twice_on_one_chain_keeps_both_results_and_both_salts(model_dir, tmp_path):
    from zkml.evm.anvil import Anvil

    layout = ModelLayout(model_dir / "breast_cancer")
    store = layout.secrets
    shutil.rmtree(store.root)  # this copy starts with no salts (the session's model holds many)
    sample = tmp_path / "sample.json"
    sample.write_text(json.dumps(ExportedModel.load(layout).holdout[7].tolist()))
    runs = []
    with Anvil() as node:
        for _ in range(2):
            result = zkml(model_dir, "--json", "run", "breast_cancer", "--input", sample,
                          "--rpc-url", node.url)
            assert result.exit_code == 0, result.stderr
            runs.append((result.stderr, {s["stage"]: s for s in
                                         json.loads(result.stdout)["stages"]}))
        first, second = (stages["onchain"]["subjects"][0] for _, stages in runs)
        c1, c2 = first["commitment"], second["commitment"]
        assert c1 != c2 and first["recorded_now"] and second["recorded_now"]
        for commitment, number in ((c1, 1), (c2, 2)):  # both stay recorded
            read = zkml(model_dir, "--json", "result", commitment, "--rpc-url", node.url)
            assert json.loads(read.stdout)["result"]["result_id"] == number, read.stderr
    quiet, said = runs[0][0], runs[1][0]
    assert "WARNING" not in quiet.replace("WARNING INSECURE SRS", "")
    (repeat,) = runs[1][1]["prove"]["repeats"]
    assert (repeat["earlier"], repeat["commitment"]) == (c1, c2)
    assert f"{sample} was proved before under commitment {c1} (its salt stays in " \
           f"{store.salt(c1)}); this proof commits to it under a new commitment {c2}" in said
    notice = (f"this records a second result for the same input under a new commitment {c2}; "
              f"the first, {c1} (result #1 of version 1), stays recorded and its salt stays in "
              f"{store.salt(c1)}")
    assert runs[1][1]["onchain"]["warnings"] == [notice] and notice in said
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700
    for commitment in (c1, c2):  # both salts on disk, owner-only, each giving its commitment
        assert stat.S_IMODE(store.salt(commitment).stat().st_mode) == 0o600
        check = zkml(model_dir, "commitment", "breast_cancer", "--input", sample, "--secret",
                     store.salt(commitment))
        assert check.exit_code == 0 and f"matches: {commitment} is" in check.stdout
    copy = json.loads(Path(runs[1][1]["prove"]["secret"]).read_text())  # beside run's proof
    assert copy["subjects"] == json.loads(store.salt(c2).read_text())["subjects"]
    again = zkml(model_dir, "prove", "breast_cancer", "--input", sample, "--reuse-salt", "-o",
                 tmp_path / "again.json")  # KZG: one column in two proofs would not hide it
    one_line_error(again, f"was proved before under KZG commitment {c1}",
                   "--commitment poseidon")
    assert not (tmp_path / "again.json").exists()
    salts = [json.loads(store.salt(c).read_text())["subjects"][0]["salt"] for c in (c1, c2)]
    printed = [again.stdout, again.stderr] + [text for run in runs for text in (
        run[0], json.dumps(run[1]))]
    forms = [form for salt in salts for form in (salt[2:], str(int(salt, 16)))]
    assert not [form for form in forms for text in printed if form in text.lower()]
