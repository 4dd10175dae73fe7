// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {Fixtures} from "./fixtures/Fixtures.sol";
import {LongPairVerifier} from "./fixtures/LongPairVerifier.sol";
import {LongRecordVerifier} from "./fixtures/LongRecordVerifier.sol";
import {RegistryTestBase} from "./RegistryTestBase.sol";

/// Subjects longer than one KZG commitment column, on real ezkl proofs (scripts/forge-fixtures):
/// a 3,000-field record whose model reads its last 16 fields (one subject per proof), and a
/// 2,800-field one with two subjects per proof, each subject spread over several columns. A
/// subject's key is keccak256 of all its points, so a look-alike record that differs only in
/// the fields the model reads (subject LB against LA) gets a key of its own.
contract LongInputProofsTest is RegistryTestBase {
    uint256 internal constant LONG = 1;
    uint256 internal constant PAIR = 2;

    InferenceRegistry internal registry;

    function setUp() public {
        registry = new InferenceRegistry(0);
        bytes32[] memory none = new bytes32[](0);
        address longVerifier = address(new LongRecordVerifier());
        address pairVerifier = address(new LongPairVerifier());
        require(registry.addVersion(Fixtures.longSpec(longVerifier), none) == LONG, "LONG");
        require(registry.addVersion(Fixtures.pairSpec(pairVerifier), none) == PAIR, "PAIR");
    }

    function _key(bytes memory proof, uint256 firstPoint, uint256 points)
        internal
        pure
        returns (uint256 key)
    {
        bytes memory picked = new bytes(64 * points);
        for (uint256 i = 0; i < picked.length; i++) picked[i] = proof[64 * firstPoint + i];
        return uint256(keccak256(picked));
    }

    function test_RealLong_KeyIsTheHashOfEveryPointOfTheSubject() public view {
        uint256 points = Fixtures.LONG_COMMITMENT_POINTS;
        require(points > 1, "the fixture spans several columns");
        bytes memory proof = Fixtures.longAProof();
        require(_key(proof, 0, points) == Fixtures.SUBJECT_LA_COMMITMENT, "all points");
        require(_key(proof, 0, 1) != Fixtures.SUBJECT_LA_COMMITMENT, "not the first alone");
        InferenceRegistry.Version memory info = registry.versionInfo(LONG);
        require(
            info.commitmentPoints == points
                && info.commitmentStride == Fixtures.LONG_COMMITMENT_STRIDE,
            "layout recorded"
        );
    }

    function test_RealLong_LookAlikeRecordGetsItsOwnKey() public {
        require(Fixtures.SUBJECT_LA_COMMITMENT != Fixtures.SUBJECT_LB_COMMITMENT, "two keys");
        // the look-alike first, as an attacker would: the real subject still records
        require(
            registry.submit(LONG, Fixtures.longBProof(), Fixtures.longBInstances()) == 1, "LB"
        );
        require(
            registry.submit(LONG, Fixtures.longAProof(), Fixtures.longAInstances()) == 1, "LA"
        );
        _expectOutputs(registry.resultOf(LONG, Fixtures.SUBJECT_LA_COMMITMENT),
            Fixtures.subjectLaOutputs());
        _expectOutputs(registry.resultOf(LONG, Fixtures.SUBJECT_LB_COMMITMENT),
            Fixtures.subjectLbOutputs());
    }

    function test_RealLong_TwoSubjectsPerProofEachKeyedByTheirPoints() public {
        uint256 points = Fixtures.PAIR_COMMITMENT_POINTS;
        uint256 stride = Fixtures.PAIR_COMMITMENT_STRIDE;
        require(points > 1 && stride >= points, "each subject spans several columns");
        bytes memory proof = Fixtures.pairProof();
        require(_key(proof, 0, points) == Fixtures.SUBJECT_P0_COMMITMENT, "subject 0");
        require(_key(proof, stride, points) == Fixtures.SUBJECT_P1_COMMITMENT, "subject 1");
        require(registry.submit(PAIR, proof, Fixtures.pairInstances()) == 2, "both recorded");
        _expectOutputs(registry.resultOf(PAIR, Fixtures.SUBJECT_P0_COMMITMENT),
            Fixtures.subjectP0Outputs());
        _expectOutputs(registry.resultOf(PAIR, Fixtures.SUBJECT_P1_COMMITMENT),
            Fixtures.subjectP1Outputs());
    }

    function test_RevertWhen_RealLongSecondPointTampered() public {
        bytes memory proof = Fixtures.longAProof();
        proof[64 + 40] ^= 0x01; // the second column's point: not covered by the old key
        _expectRevert(
            address(registry),
            abi.encodeCall(InferenceRegistry.submit, (LONG, proof, Fixtures.longAInstances())),
            abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector)
        );
        require(!registry.hasResult(LONG, Fixtures.SUBJECT_LA_COMMITMENT), "nothing recorded");
    }

    function test_RevertWhen_CommitmentLayoutIsNonsense() public {
        InferenceRegistry.VersionSpec memory spec = Fixtures.longSpec(address(this));
        spec.verifier = address(registry); // any code
        uint256[3][4] memory bad = [
            [uint256(0), 0, 1], // KZG without points
            [uint256(256), 256, 1], // more points than a version keeps
            [uint256(2), 4, 2], // subjects neither `points` nor `points + 1` apart
            [uint256(2), 1, 2] // overlapping subjects
        ];
        for (uint256 i = 0; i < bad.length; i++) {
            (spec.commitmentPoints, spec.commitmentStride, spec.subjects) =
                (bad[i][0], bad[i][1], bad[i][2]);
            _expectRevert(
                address(registry),
                abi.encodeCall(InferenceRegistry.addVersion, (spec, new bytes32[](0))),
                abi.encodeWithSelector(
                    InferenceRegistry.BadCommitmentLayout.selector, bad[i][0], bad[i][1]
                )
            );
        }
        spec.commitmentsInProof = false; // Poseidon keys are instances: no points
        (spec.commitmentPoints, spec.commitmentStride) = (1, 1);
        _expectRevert(
            address(registry),
            abi.encodeCall(InferenceRegistry.addVersion, (spec, new bytes32[](0))),
            abi.encodeWithSelector(InferenceRegistry.BadCommitmentLayout.selector, 1, 1)
        );
    }

    function test_RevertWhen_ProofTooShortForTheSubjectsPoints() public {
        // a version claiming more points than the proof's start can hold is refused before
        // any verification, not read past the proof
        InferenceRegistry.VersionSpec memory spec = Fixtures.longSpec(address(registry));
        (spec.commitmentPoints, spec.commitmentStride, spec.proofBytes) = (255, 255, 64);
        uint256 version = registry.addVersion(spec, new bytes32[](0));
        _expectRevert(
            address(registry),
            abi.encodeCall(
                InferenceRegistry.submit, (version, new bytes(64 * 254), Fixtures.longAInstances())
            ),
            abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector)
        );
    }

    function _expectOutputs(int256[] memory got, int256[] memory want) internal pure {
        require(_equal(got, want), "recorded outputs differ");
    }
}
