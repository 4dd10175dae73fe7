"""The private input's values must not occur anywhere in the proof file."""

import json

import pytest
from privacy_search import encodings, leaks

from zkml.circuit import CircuitSettings
from zkml.export import ExportedModel
from zkml.felts import int_to_felt
from zkml.layout import secret_path
from zkml.subjects import blinders

pytestmark = pytest.mark.integration


def test_private_input_and_salt_not_in_proof(breast_cancer):
    private = ExportedModel.load(breast_cancer).holdout[0].ravel()
    scale = CircuitSettings.load(breast_cancer).input_scale
    text = breast_cancer.proof.read_text()
    data = json.loads(text)
    assert data["pretty_public_inputs"]["inputs"] == []
    found = leaks(text, private, scale)
    assert not found, f"private input values found in the proof: {found[:5]}"
    secret = json.loads(secret_path(breast_cancer.proof).read_text())["subjects"][0]
    assert secret_path(breast_cancer.proof).stat().st_mode & 0o077 == 0
    kept = breast_cancer.secrets.salt(secret["commitment"])  # the store's file, the lasting one
    assert json.loads(kept.read_text())["subjects"] == [secret]
    for private in (kept, breast_cancer.secrets.root):
        assert private.stat().st_mode & 0o077 == 0
    salt = int(secret["salt"], 16)
    hidden = [int_to_felt(b) for b in blinders(salt)]  # as the witness holds them
    hidden += [f"{b:064x}" for b in blinders(salt)]  # as a 0x number
    assert not [form for form in [secret["salt"][2:], *hidden] if form in text]


def test_search_finds_values_where_they_are(breast_cancer, tmp_path):
    """Positive control: the same search finds the input in the witness, which holds it."""
    from zkml.circuit import witness

    exported = ExportedModel.load(breast_cancer)
    private = exported.holdout[:1]
    scale = CircuitSettings.load(breast_cancer).input_scale
    witness(breast_cancer, private, [12345], exported.signature, tmp_path / "witness.json")
    text = (tmp_path / "witness.json").read_text()
    assert all(any(form in text for form in encodings(float(v), scale)) for v in private.ravel())
