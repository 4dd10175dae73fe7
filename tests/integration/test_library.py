"""The library as a notebook uses it: every stage reports through one progress hook, and its
results read as one line each."""

import pytest

import zkml

pytestmark = pytest.mark.integration


def test_every_stage_and_model_method_reports_its_start_and_result(model_dir):
    events = []
    m = zkml.load("breast_cancer", circuits_dir=model_dir, progress=events.append)
    m.compile()
    m.setup()
    proof = m.prove(m.holdout[:1], model_dir / "p.json")
    m.verify(proof)
    m.verifier()
    with zkml.chain.deploy(m) as registry:
        registry.submit(proof)
    ends = [e for e in events if e.starting or e.result is not None]
    stages = ["export", "compile", "setup", "prove", "verify", "verifier", "onchain"]
    assert [(e.stage, e.starting) for e in ends] == [(s, first) for s in stages
                                                     for first in (True, False)]
    for event in ends[1::2]:
        line = str(event.result)
        assert "\n" not in line and "seconds=" not in line and line.startswith(event.stage)
    assert any(e.stage == "deploy" and "registry 0x" in e.message for e in events)
    own = []
    m.verify(proof, progress=own.append)  # a method's own hook, instead of the Model's
    assert [e.stage for e in own] == ["verify", "verify"] and len(events) == len(ends) + 2
