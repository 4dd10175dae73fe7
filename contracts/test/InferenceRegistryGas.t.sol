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
/// AcceptingVerifier, just as cold. What remains is the registry's work: checks, the subjects'
/// keys and the already-recorded check, encoding the verifier's calldata, decoding, one fresh
/// slot and one event per subject, the id counter; plus the cold access to the registry's own
/// account (2,600), which a real transaction pays within its 21,000 base. Not included: the
/// 21,000 base, a real transaction's calldata (~16 gas per nonzero byte: ~50k for a 3 KB
/// proof), and the real verifier (~375k with a KZG commitment, ~476k with Poseidon, for the
/// current 1-subject fixtures).
///
/// Measured (forge 1.7.1, solc 0.8.37, optimizer runs = 1 as deployed, evm osaka, 3072-byte
/// proof, every account and slot cold, as in a fresh transaction; `-vvvv` shows the Gas events):
///   Poseidon (commitments in the instances):
///     10 subjects × 2 outputs: 274,950 gas beyond the verifier = 27,495 per subject
///      1 subject  × 2 outputs:  39,044 gas, so each further subject adds 26,212
///   KZG (commitments in the proof: a key is keccak256 of 64 bytes copied from the proof, not
///   one calldata read):
///     10 subjects × 2 outputs: 275,656 gas beyond the verifier = 27,566 per subject
///      1 subject  × 2 outputs:  39,158 gas, so each further subject adds 26,278
///   per subject: 22,100 for its fresh slot (read cold to see whether it is recorded, then
///   written), 2,899 for its event (version, id and commitment indexed), ~1,300 its key,
///   decoding and packing; per proof ~12.9k: the version's Config slot (one cold read and the
///   result counter written back: 5,100), the registry account 2,600, encoding the 3 KB proof.
///   Nothing is stored per proof. Versions cost ~2.7k per proof over the single-model registry
///   of issue 16 (36,450 for 1 × 2 KZG): the Config read that immutables made free, the
///   version argument, the event's fourth topic.
///   With a 1-element weights commitment (Poseidon, 10 × 2): 277,297 (+2,347 per proof: the
///   version's weights hash, one more cold slot).
contract InferenceRegistryGasTest is RegistryTestBase {
    uint256 internal constant SUBJECTS = 10;
    uint256 internal constant PER_SUBJECT_LIMIT = 30_000;

    Shape internal tenByTwo;
    Shape internal oneByTwo;
    Shape internal tenByTwoWeights;
    Shape internal tenByTwoKzg;
    Shape internal oneByTwoKzg;
    InferenceRegistry internal ten;
    InferenceRegistry internal one;
    InferenceRegistry internal tenWeights;
    InferenceRegistry internal tenKzg;
    InferenceRegistry internal oneKzg;
    AcceptingVerifier internal probe;
    AcceptingVerifier internal probeAgain;

    // Deployed in setUp, a transaction of its own: every account and slot is cold in a test.
    function setUp() public {
        tenByTwo = _shape(SUBJECTS, 0, _list(2), _list(13));
        oneByTwo = _shape(1, 0, _list(2), _list(13));
        tenByTwoWeights = _shape(SUBJECTS, 1, _list(2), _list(13));
        tenByTwoKzg = _kzg(tenByTwo);
        oneByTwoKzg = _kzg(oneByTwo);
        ten = _deploy(tenByTwo, address(new AcceptingVerifier()));
        one = _deploy(oneByTwo, address(new AcceptingVerifier()));
        tenWeights = _deploy(tenByTwoWeights, address(new AcceptingVerifier()));
        tenKzg = _deploy(tenByTwoKzg, address(new AcceptingVerifier()));
        oneKzg = _deploy(oneByTwoKzg, address(new AcceptingVerifier()));
        probe = new AcceptingVerifier();
        probeAgain = new AcceptingVerifier();
    }

    /// The figures above, shown by `forge test -vvvv --match-contract InferenceRegistryGas`.
    event Gas(string what, uint256 gas);

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
        uint256 recorded = registry.submit(V, proof, instances);
        uint256 submit = start - gasleft();
        require(recorded == registry.versionInfo(V).subjects, "not all recorded");
        return submit - verifierCall;
    }

    function test_Gas_TenSubjectsTwoOutputs() public {
        uint256 beyond = _beyondVerifier(ten, probe, _proof(1), _instances(tenByTwo, 1));
        emit Gas("Poseidon, 10 subjects x 2 outputs, beyond the verifier", beyond);
        require(beyond / SUBJECTS < PER_SUBJECT_LIMIT, "registry costs too much per subject");
    }

    function test_Gas_TenSubjectsTwoOutputsWithWeightsCommitment() public {
        uint256 beyond =
            _beyondVerifier(tenWeights, probe, _proof(1), _instances(tenByTwoWeights, 1));
        emit Gas("Poseidon, 10 x 2 with a 1-element weights commitment", beyond);
        require(beyond / SUBJECTS < PER_SUBJECT_LIMIT, "registry costs too much per subject");
    }

    function test_Gas_MarginalSubject() public {
        uint256 batch = _beyondVerifier(ten, probe, _proof(1), _instances(tenByTwo, 1));
        uint256 single = _beyondVerifier(one, probeAgain, _proof(1), _instances(oneByTwo, 1));
        emit Gas("Poseidon, 1 subject x 2 outputs, beyond the verifier", single);
        require(batch > single, "measurement");
        // storage and bookkeeping of one more subject in the same proof
        require((batch - single) / (SUBJECTS - 1) < PER_SUBJECT_LIMIT, "marginal subject cost");
    }

    /// KZG: each subject's key is a keccak256 of its point, read from the proof.
    function test_Gas_Kzg_TenSubjectsTwoOutputs() public {
        uint256 beyond = _beyondVerifier(
            tenKzg, probe, _proof(tenByTwoKzg, 1, 1), _instances(tenByTwoKzg, 1)
        );
        emit Gas("KZG, 10 subjects x 2 outputs, beyond the verifier", beyond);
        require(beyond / SUBJECTS < PER_SUBJECT_LIMIT, "registry costs too much per subject");
    }

    function test_Gas_Kzg_MarginalSubject() public {
        uint256 batch = _beyondVerifier(
            tenKzg, probe, _proof(tenByTwoKzg, 1, 1), _instances(tenByTwoKzg, 1)
        );
        uint256 single = _beyondVerifier(
            oneKzg, probeAgain, _proof(oneByTwoKzg, 1, 1), _instances(oneByTwoKzg, 1)
        );
        emit Gas("KZG, 1 subject x 2 outputs, beyond the verifier", single);
        require(batch > single, "measurement");
        require((batch - single) / (SUBJECTS - 1) < PER_SUBJECT_LIMIT, "marginal subject cost");
    }
}
