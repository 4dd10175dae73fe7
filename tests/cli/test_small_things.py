"""Small things a newcomer and an adversary tripped over, each as the CLI shows it."""

import json
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import one_line_error, zkml

from zkml.export import ExportedModel
from zkml.layout import ModelLayout

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]


def holdout(model_dir, i=0):
    return ExportedModel.load(ModelLayout(model_dir / "breast_cancer")).holdout[i].tolist()


def test_export_hint_names_an_option_that_exists(tmp_path):
    strict = zkml(tmp_path / "c", "export", "iris", "--atol", "1e-30")
    one_line_error(strict, "differs from torch", "raise --atol")
    assert zkml(tmp_path / "c", "export", "iris", "--atol", "1e-3").exit_code == 0


def test_excel_csv_with_a_byte_order_mark_proves(model_dir, tmp_path):
    csv = tmp_path / "excel.csv"
    csv.write_bytes(("\ufeff" + ",".join(f"f{i}" for i in range(30)) + "\n"
                     + ",".join(map(str, holdout(model_dir))) + "\n").encode())
    result = zkml(model_dir, "prove", "breast_cancer", "--input", csv, "-o", tmp_path / "p.json")
    assert result.exit_code == 0, result.stderr


def test_csv_rows_have_one_number_in_prove_and_prove_batch(model_dir, tmp_path):
    csv = tmp_path / "rows.csv"
    row = list(map(str, holdout(model_dir)))
    row[4] = "oops"
    csv.write_text(",".join(f"f{i}" for i in range(30)) + "\n" + ",".join(row) + "\n")
    one_line_error(zkml(model_dir, "prove", "breast_cancer", "--input", csv),
                   "rows.csv row 2: column 5 is not a number")
    batch = zkml(model_dir, "prove-batch", "breast_cancer", csv, "--out", tmp_path / "out")
    assert batch.exit_code == 1
    assert "failed row000002: row 2: column 5 is not a number" in batch.stderr


def test_a_small_salt_is_warned_about_once(model_dir, tmp_path):
    source = tmp_path / "salted.json"
    source.write_text(json.dumps({"input": holdout(model_dir), "salt": "0x5"}))
    result = zkml(model_dir, "prove", "breast_cancer", "--input", source, "-o",
                  tmp_path / "p.json")
    assert result.exit_code == 0, result.stderr
    assert result.stderr.count("can be guessed") == 1


def test_an_input_from_process_substitution(model_dir):
    values = json.dumps(holdout(model_dir, 3))
    result = subprocess.run(
        ["bash", "-c", f"{ROOT}/.venv/bin/zkml --circuits-dir {model_dir} prove breast_cancer "
         f"--input <(echo '{values}') -o {model_dir}/piped.json"],
        capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr
    assert (model_dir / "piped.json").is_file()


def test_a_symlinked_lock_is_not_followed(model_dir, tmp_path):
    lock = model_dir / "breast_cancer" / ".lock"
    lock.unlink(missing_ok=True)
    lock.symlink_to(tmp_path / "victim")
    one_line_error(zkml(model_dir, "verify", "breast_cancer"), "symbolic link")
    assert not (tmp_path / "victim").exists()


def test_a_foreign_proving_key_with_a_forged_digest_is_one_line(model_dir, iris_committed,
                                                                 tmp_path):
    from zkml.layout import file_version

    root = model_dir / "breast_cancer"
    shutil.copy(iris_committed.pk, root / "pk.key")
    manifest = json.loads((root / "manifest.json").read_text())
    manifest["files"]["pk.key"]["version"] = list(file_version(root / "pk.key"))
    (root / "manifest.json").write_text(json.dumps(manifest))
    source = tmp_path / "x.json"
    source.write_text(json.dumps(holdout(model_dir)))
    one_line_error(zkml(model_dir, "prove", "breast_cancer", "--input", source),
                   "proving failed", "zkml setup breast_cancer --force")
