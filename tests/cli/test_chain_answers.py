"""What a node answers is data: `zkml result` against fake registries (no model, no chain).
A malformed answer is one line with a hint; labels, revert strings and node messages that
carry terminal escapes are shown escaped, visible and inert; --json keeps them raw in valid
JSON; and reading asks for no signing key on a node that is not a local Anvil."""

import json

import pytest
from conftest import one_line_error, zkml
from eth_abi import encode
from fake_node import Refused, fake_node, good_version, registry_answers

from zkml.evm import rpc

REGISTRY = "0x" + "33" * 20
COMMITMENT = "0x5"
HOSTILE = [
    "\x1b[2J\x1b[31mAPPROVED by your bank\x1b[0m",  # clear the screen, colour
    "\x1b]8;;https://evil.example/\x07click here\x1b]8;;\x07\rbenign\u202e",  # OSC-8, BEL, CR
]
CONTROL = [chr(c) for c in range(32) if chr(c) != "\n"] + ["\x7f", "\x9b", "\u202e"]


@pytest.fixture(autouse=True)
def no_key(monkeypatch):
    """Reading needs no key: none is set, and the fake node is no local Anvil (it says Geth)."""
    monkeypatch.delenv(rpc.KEY_ENV, raising=False)


def result(tmp_path, address, *extra):
    return zkml(tmp_path, "result", COMMITMENT, "--rpc-url", f"http://{address}",
                "--registry", REGISTRY, *extra)


def test_a_consistent_registry_reads_without_a_key(tmp_path):
    with fake_node("answer", answer=registry_answers(good_version(), [128, 64])) as address:
        shown = result(tmp_path, address)
    assert shown.exit_code == 0, shown.output
    assert ("output 0   [malignant 1.0000, benign 0.5000] (stored as x·2^7, the output's "
            "fixed-point scale)") in shown.stdout
    assert "prediction malignant" in shown.stdout


@pytest.mark.parametrize(("info", "outputs", "raw", "says"), [
    (good_version(labels=["a", "b", "c"]), [1, 2], None, "3 label(s) for 2 classes"),
    (good_version(outputScales=[7, 7]), [1, 2], None, "2 output scale(s) for 1 output(s)"),
    (good_version(outputLengths=[3]), [1, 2], None, "outputs of 3 elements, yet 2 per subject"),
    (good_version(outputLengths=[], outputScales=[], labels=[]), [], None, "no outputs"),
    (good_version(outputLengths=[0, 2], outputScales=[7, 7], labels=[]), [1, 2], None,
     "an output of no elements"),
    (good_version(outputScales=[2**200]), [1, 2], None, "a scale of 2^"),
    (good_version(), [1, 2, 3], None, "answered resultOf with 3 output(s), yet its version 1 "
     "has 2"),
    (good_version(), [1, 2], {"versionInfo": "0x1234"}, "registry's versionInfo cannot be "
     "decoded"),
    (good_version(labels=["QQ", "b"]), [1, 2], "utf-8", "registry's versionInfo cannot be "
     "decoded"),
    (good_version(), [1, 2], {"versionCount": "0x" + "ff" * 32}, "says it has 1157"),
])
def test_a_malformed_answer_is_one_line(tmp_path, info, outputs, raw, says):
    answer = registry_answers(info, outputs, raw if isinstance(raw, dict) else None)
    if raw == "utf-8":  # a label that is no UTF-8: "QQ" (0x5151) becomes 0xfffe
        def answer(method, params, inner=answer):
            found = inner(method, params)
            return found.replace("5151", "fffe") if method == "eth_call" else found
    with fake_node("answer", answer=answer) as address:
        line = one_line_error(result(tmp_path, address), says)
    assert "check --rpc-url and --registry" in line


def assert_inert(text):
    held = [c for c in CONTROL if c in text]
    assert not held, f"{held} reached the terminal: {text!r}"


def test_labels_from_the_chain_are_shown_inert_and_kept_raw_in_json(tmp_path):
    info = good_version(labels=HOSTILE)
    with fake_node("answer", answer=registry_answers(info, [64, 200])) as address:
        shown = result(tmp_path, address)
        as_json = result(tmp_path, address, "--json")
    assert shown.exit_code == 0, shown.output
    assert_inert(shown.stdout + shown.stderr)
    assert "\\x1b[2J\\x1b[31mAPPROVED by your bank\\x1b[0m 0.5000" in shown.stdout
    assert "prediction \\x1b]8;;https://evil.example/\\x07click here\\x1b]8;;\\x07\\rbenign" \
        "\\u202e" in shown.stdout
    assert as_json.exit_code == 0, as_json.output
    assert_inert(as_json.stdout)
    assert as_json.stdout.isascii()
    recorded = json.loads(as_json.stdout)["result"]
    assert recorded["labels"] == HOSTILE and recorded["prediction"] == HOSTILE[1]


def test_a_revert_string_and_a_node_message_are_shown_inert(tmp_path):
    """A revert reason (Error(string)) and a node's own error message, both with escapes:
    one error line each, escaped, and --json stays valid JSON holding the text."""
    reason = "\x1b[2Jsee \x1b]8;;https://evil.example/\x07here\x1b]8;;\x07\nerror: fake line"
    revert = "0x08c379a0" + encode(["string"], [reason]).hex()
    answer = registry_answers(good_version(), [1, 2], {
        "versionInfo": Refused("execution reverted: " + reason, revert)})
    with fake_node("answer", answer=answer) as address:
        reverted = result(tmp_path, address)
        as_json = result(tmp_path, address, "--json")
        verbose = result(tmp_path, address, "-v")
    line = one_line_error(reverted, "the registry reverted")
    assert_inert(reverted.stderr)
    assert "Traceback" in verbose.stderr
    assert_inert(verbose.stderr)
    assert "\\x1b[2Jsee" in line and "\\nerror: fake line" in line
    assert json.loads(as_json.stdout)["ok"] is False and as_json.stdout.isascii()
    with fake_node("rpc-error", message="quota \x1b[2J\x1b]8;;https://evil/\x07x") as address:
        refused = result(tmp_path, address)
    line = one_line_error(refused, "refused", "quota \\x1b[2J\\x1b]8;;https://evil/\\x07x")
    assert_inert(refused.stderr)
