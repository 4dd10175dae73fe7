// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {AcceptingVerifier} from "./MockVerifier.sol";
import {RegistryTestBase} from "./RegistryTestBase.sol";

/// Gas of submit beyond the verifier call. A bank pays per verified inference, targeting
/// ≤ 60k in total per inference at 10 inferences per proof, so the registry's share must stay
/// well below that: asserted < 30k per subject.
///
/// Method: gasleft() around registry.submit (its verifier is an AcceptingVerifier, which does
/// nothing) minus gasleft() around a direct call with the same arguments to another
/// AcceptingVerifier, just as cold. What remains is the registry's work: checks, the proof's
/// hash, proofUsed, encoding the verifier's calldata, decoding, one fresh slot and one event per
/// subject, the id counter; plus the cold access to the registry's own account (2,600), which a
/// real transaction pays within its 21,000 base. Not included: the 21,000 base, a real
/// transaction's calldata (~16 gas per nonzero byte: ~50k for a 3 KB proof), and the real
/// verifier (~470k for the current 1-subject fixtures).
///
/// Measured (forge 1.7.1, solc 0.8.37, optimizer runs = 1 as deployed, evm osaka, 3072-byte
/// proof, every account and slot cold, as in a fresh transaction):
///   10 subjects × 2 outputs: 289,575 gas beyond the verifier = 28,957 per subject
///    1 subject  × 2 outputs:  58,724 gas, so each further subject adds 25,650
///   per subject: 22,100 for its fresh slot (the already-recorded check reads it first),
///   2,524 for its event, ~1,000 decoding and packing; per proof ~33k: proofUsed 22,100,
///   id counter 5,000, registry account 2,600, hashing and encoding the 3 KB proof.
///   With a 1-element weights commitment: 289,726 (+151 per proof).
contract InferenceRegistryGasTest is RegistryTestBase {
    uint256 internal constant SUBJECTS = 10;
    uint256 internal constant PER_SUBJECT_LIMIT = 30_000;

    Shape internal tenByTwo;
    Shape internal oneByTwo;
    Shape internal tenByTwoWeights;
    InferenceRegistry internal ten;
    InferenceRegistry internal one;
    InferenceRegistry internal tenWeights;
    AcceptingVerifier internal probe;
    AcceptingVerifier internal probeAgain;

    // Deployed in setUp, a transaction of its own: every account and slot is cold in a test.
    function setUp() public {
        tenByTwo = _shape(SUBJECTS, 0, _list(2), _list(13));
        oneByTwo = _shape(1, 0, _list(2), _list(13));
        tenByTwoWeights = _shape(SUBJECTS, 1, _list(2), _list(13));
        ten = _deploy(tenByTwo, address(new AcceptingVerifier()));
        one = _deploy(oneByTwo, address(new AcceptingVerifier()));
        tenWeights = _deploy(tenByTwoWeights, address(new AcceptingVerifier()));
        probe = new AcceptingVerifier();
        probeAgain = new AcceptingVerifier();
    }

    /// submit's gas minus a direct verifier call's; arguments are read before measuring.
    function _beyondVerifier(
        InferenceRegistry registry,
        AcceptingVerifier cold,
        bytes memory proof,
        uint256[] memory instances
    ) internal returns (uint256) {
        uint256 start = gasleft();
        cold.verifyProof(proof, instances);
        uint256 verifierCall = start - gasleft();
        start = gasleft();
        uint256 recorded = registry.submit(proof, instances);
        uint256 submit = start - gasleft();
        require(recorded == registry.subjects(), "not all recorded");
        return submit - verifierCall;
    }

    function test_Gas_TenSubjectsTwoOutputs() public {
        uint256 beyond = _beyondVerifier(ten, probe, _proof(1), _instances(tenByTwo, 1));
        require(beyond / SUBJECTS < PER_SUBJECT_LIMIT, "registry costs too much per subject");
    }

    function test_Gas_TenSubjectsTwoOutputsWithWeightsCommitment() public {
        uint256 beyond =
            _beyondVerifier(tenWeights, probe, _proof(1), _instances(tenByTwoWeights, 1));
        require(beyond / SUBJECTS < PER_SUBJECT_LIMIT, "registry costs too much per subject");
    }

    function test_Gas_MarginalSubject() public {
        uint256 batch = _beyondVerifier(ten, probe, _proof(1), _instances(tenByTwo, 1));
        uint256 single = _beyondVerifier(one, probeAgain, _proof(1), _instances(oneByTwo, 1));
        require(batch > single, "measurement");
        // storage and bookkeeping of one more subject in the same proof
        require((batch - single) / (SUBJECTS - 1) < PER_SUBJECT_LIMIT, "marginal subject cost");
    }
}
