// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IHalo2Verifier, InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {BreastCancerBatch4Verifier} from "./fixtures/BreastCancerBatch4Verifier.sol";
import {BreastCancerPoseidonVerifier} from "./fixtures/BreastCancerPoseidonVerifier.sol";
import {BreastCancerVerifier} from "./fixtures/BreastCancerVerifier.sol";
import {DigitsVerifier} from "./fixtures/DigitsVerifier.sol";
import {Fixtures} from "./fixtures/Fixtures.sol";
import {Relay} from "./MockVerifier.sol";
import {RegistryTestBase, Vm} from "./RegistryTestBase.sol";

/// The registry's rules on real ezkl proofs and verifiers (contracts/test/fixtures/, made by
/// scripts/forge-fixtures), in both commitment schemes. KZG (a subject's key is keccak256 of
/// the proof's j-th point; instances [outputs]): breast_cancer with 1 and with 4 subjects per
/// proof, digits (10 outputs) with 1. Poseidon (the key is instance j; instances [commitments]
/// [outputs]): breast_cancer with 1. Subjects: A (two different proofs), B, D (digits),
/// BATCH_0..5, PA (A's input and salt under Poseidon: another key).
///
/// Gas with the real verifiers: gasleft() around submit and around a direct verifyProof call
/// (to a second instance of the verifier, as cold), every account and slot cold as in a fresh
/// transaction; not included: the 21,000 base and the transaction's calldata (in brackets: 16
/// per nonzero byte, 4 per zero byte). Measured by test_Gas_RealSubmit (forge 1.7.1, solc
/// 0.8.37, optimizer runs = 1, evm osaka; ezkl 23.0.5 fixtures; `forge test --match-test
/// test_Gas_RealSubmit -vvvv` shows the Gas events):
///   breast_cancer, 1 subject, KZG (2,080-byte proof): submit 411,514 = verifyProof 374,537
///     + registry 36,977 [calldata 34,064]
///   digits, 1 subject, KZG (10 outputs, 3 storage words): submit 466,921 = 381,393 + 85,528
///     [37,608]
///   breast_cancer, 4 subjects, KZG (2,624 bytes): submit 545,652 = 430,831 + 114,821
///     [44,892], 136,413 per subject (vs 411,514 for a proof of one): the verifier costs 56k
///     more for 4 subjects than for 1, each further subject adds ~26k of registry work
///   breast_cancer, 1 subject, Poseidon (2,912 bytes): submit 512,863 = 475,697 + 37,166
///     [47,948]
/// KZG vs Poseidon, the same model and input: the Poseidon circuit computes the hash itself;
/// its proof is 832 bytes longer and its verifier costs 101,160 more (+27%), while the
/// registry's share barely moves (+189: a longer proof and one more instance to pass on, no
/// keccak of a point). With base and calldata: ~466.6k per KZG submit, ~581.8k per Poseidon
/// one (+25%). The registry's share matches the mock-verifier measurements of
/// InferenceRegistryGas.t.sol (~36.4k for one subject, ~25.9k per further one) within ~800.
contract RealProofsTest is RegistryTestBase {
    IHalo2Verifier internal bcVerifier;
    IHalo2Verifier internal digitsVerifier;
    IHalo2Verifier internal bc4Verifier;
    IHalo2Verifier internal bcpVerifier;
    InferenceRegistry internal bc; // breast_cancer, 1 subject per proof, KZG
    InferenceRegistry internal digits; // KZG
    InferenceRegistry internal bc4; // breast_cancer, 4 subjects per proof, KZG
    InferenceRegistry internal bcp; // breast_cancer, 1 subject per proof, Poseidon
    // Second instances of the verifiers, called directly by the gas test: as cold as the
    // registries' (an instance deployed in the test itself would be warm, 2,500 cheaper).
    IHalo2Verifier[4] internal probes;

    // Deployed in setUp, a transaction of its own: every account and slot is cold in a test.
    function setUp() public {
        bcVerifier = IHalo2Verifier(address(new BreastCancerVerifier()));
        digitsVerifier = IHalo2Verifier(address(new DigitsVerifier()));
        bc4Verifier = IHalo2Verifier(address(new BreastCancerBatch4Verifier()));
        bcpVerifier = IHalo2Verifier(address(new BreastCancerPoseidonVerifier()));
        bc = new InferenceRegistry(
            bcVerifier, Fixtures.BC_VK_HASH, Fixtures.BC_SUBJECTS,
            Fixtures.BC_COMMITMENTS_IN_PROOF, Fixtures.bcWeightsCommitment(),
            Fixtures.bcOutputLengths(), Fixtures.bcOutputScales()
        );
        digits = new InferenceRegistry(
            digitsVerifier, Fixtures.DIGITS_VK_HASH, Fixtures.DIGITS_SUBJECTS,
            Fixtures.DIGITS_COMMITMENTS_IN_PROOF, Fixtures.digitsWeightsCommitment(),
            Fixtures.digitsOutputLengths(), Fixtures.digitsOutputScales()
        );
        bc4 = new InferenceRegistry(
            bc4Verifier, Fixtures.BC4_VK_HASH, Fixtures.BC4_SUBJECTS,
            Fixtures.BC4_COMMITMENTS_IN_PROOF, Fixtures.bc4WeightsCommitment(),
            Fixtures.bc4OutputLengths(), Fixtures.bc4OutputScales()
        );
        bcp = new InferenceRegistry(
            bcpVerifier, Fixtures.BCP_VK_HASH, Fixtures.BCP_SUBJECTS,
            Fixtures.BCP_COMMITMENTS_IN_PROOF, Fixtures.bcpWeightsCommitment(),
            Fixtures.bcpOutputLengths(), Fixtures.bcpOutputScales()
        );
        probes = [
            IHalo2Verifier(address(new BreastCancerVerifier())),
            IHalo2Verifier(address(new DigitsVerifier())),
            IHalo2Verifier(address(new BreastCancerBatch4Verifier())),
            IHalo2Verifier(address(new BreastCancerPoseidonVerifier()))
        ];
    }

    // ---- helpers --------------------------------------------------------------------------

    function _rejected() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector);
    }

    function _alreadyRecorded(uint256 commitment, uint256 id)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(InferenceRegistry.AlreadyRecorded.selector, commitment, id);
    }

    function _wrongCount(uint256 expected, uint256 got) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(InferenceRegistry.WrongInstanceCount.selector, expected, got);
    }

    function _copy(uint256[] memory values) internal pure returns (uint256[] memory copy) {
        copy = new uint256[](values.length);
        for (uint256 i = 0; i < values.length; i++) copy[i] = values[i];
    }

    function _sameUints(uint256[] memory a, uint256[] memory b) internal pure returns (bool) {
        return keccak256(abi.encode(a)) == keccak256(abi.encode(b));
    }

    /// Bytes 64j .. 64j+63 of a proof: the j-th point (x ‖ y), a KZG subject's commitment.
    function _pointOf(bytes memory proof, uint256 j) internal pure returns (bytes memory point) {
        point = new bytes(0x40);
        for (uint256 b = 0; b < 0x40; b++) point[b] = proof[0x40 * j + b];
    }

    /// The proof's first `length` bytes (a copy).
    function _prefix(bytes memory proof, uint256 length) internal pure returns (bytes memory cut) {
        cut = new bytes(length);
        for (uint256 b = 0; b < length; b++) cut[b] = proof[b];
    }

    /// Signed value of a public instance (negatives are p - |x|).
    function _signed(uint256 felt) internal pure returns (int256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return felt > P / 2 ? -int256(P - felt) : int256(felt);
    }

    /// The outputs sit at instances[first ..] (one model output: a subject's row is contiguous).
    function _requireOutputsAt(uint256[] memory instances, uint256 first, int256[] memory outputs)
        internal
        pure
    {
        for (uint256 t = 0; t < outputs.length; t++) {
            require(_signed(instances[first + t]) == outputs[t], "outputs misplaced");
        }
    }

    /// KZG: no instance is the subject's key (it is a hash of the proof's point).
    function _requireNotAnInstance(uint256[] memory instances, uint256 key) internal pure {
        for (uint256 i = 0; i < instances.length; i++) {
            require(instances[i] != key, "a KZG key among the instances");
        }
    }

    /// The InferenceVerified event the registry emits for a newly recorded subject.
    function _requireEvent(
        Vm.Log memory log,
        InferenceRegistry registry,
        uint256 id,
        uint256 commitment,
        int256[] memory outputs
    ) internal pure {
        require(log.emitter == address(registry) && log.topics.length == 3, "event shape");
        require(log.topics[0] == INFERENCE_VERIFIED, "event signature");
        require(uint256(log.topics[1]) == id, "event id");
        require(uint256(log.topics[2]) == commitment, "event commitment");
        require(keccak256(log.data) == keccak256(abi.encode(outputs)), "event outputs");
    }

    /// Everything the registry says about a recorded subject.
    function _requireRecorded(
        InferenceRegistry registry,
        uint256 commitment,
        int256[] memory outputs,
        uint256 id,
        uint256 prediction
    ) internal view {
        _requireResult(registry, commitment, outputs);
        require(registry.resultIdOf(commitment) == id, "result id");
        require(registry.predictionOf(commitment) == prediction, "prediction");
    }

    /// Subject A recorded in `bc` with its exact outputs and prediction, under this id.
    function _requireA(uint256 id) internal view {
        _requireRecorded(
            bc, Fixtures.SUBJECT_A_COMMITMENT, Fixtures.subjectAOutputs(), id,
            Fixtures.SUBJECT_A_PREDICTION
        );
    }

    /// Subject PA recorded in `bcp`, under this id.
    function _requirePA(uint256 id) internal view {
        _requireRecorded(
            bcp, Fixtures.SUBJECT_PA_COMMITMENT, Fixtures.subjectPaOutputs(), id,
            Fixtures.SUBJECT_PA_PREDICTION
        );
    }

    /// Slot of word `word` of a commitment's result (`_results` is storage slot 3).
    function _slot(uint256 commitment, uint256 word) internal pure returns (bytes32) {
        return keccak256(abi.encode(word, keccak256(abi.encode(commitment, uint256(3)))));
    }

    function _lanes(int256 a, int256 b, int256 c, int256 d) internal pure returns (bytes32) {
        int256[4] memory lanes = [a, b, c, d];
        uint256 word;
        for (uint256 i = 0; i < 4; i++) word |= uint256(uint64(int64(lanes[i]))) << (64 * i);
        return bytes32(word);
    }

    // ---- the fixtures are what the Python side says they are -------------------------------

    function test_RealFixtures_Consistent() public {
        require(bc.commitmentsInProof() == Fixtures.BC_COMMITMENTS_IN_PROOF, "bc scheme");
        require(Fixtures.BC_COMMITMENTS_IN_PROOF, "bc is KZG");
        bytes memory proofA = Fixtures.bcAProof();
        uint256[] memory a = Fixtures.bcAInstances();
        // KZG: the instances are A's outputs only; its commitment is the proof's first point
        require(a.length == Fixtures.BC_INSTANCES && bc.instanceCount() == a.length, "bc count");
        require(a.length == Fixtures.BC_OUTPUTS_PER_SUBJECT, "bc instances are not the outputs");
        require(_chunkHash(proofA, 0) == Fixtures.SUBJECT_A_COMMITMENT, "A's commitment");
        _requireNotAnInstance(a, Fixtures.SUBJECT_A_COMMITMENT);
        require(_signed(a[0]) == Fixtures.SUBJECT_A_OUTPUT_0, "A's output 0");
        require(_signed(a[1]) == Fixtures.SUBJECT_A_OUTPUT_1, "A's output 1");
        require(proofA.length == Fixtures.BC_PROOF_BYTES, "proof size");
        // the second proof for A: same input and salt, so the same first point (the commitment
        // is deterministic) and the same instances; other bytes
        bytes memory proofA2 = Fixtures.bcA2Proof();
        require(_sameUints(Fixtures.bcA2Instances(), a), "A2 is not about A");
        require(_chunkHash(proofA2, 0) == _chunkHash(proofA, 0), "A2's point is not A's");
        require(keccak256(proofA2) != keccak256(proofA), "A2 = A");
        require(proofA2.length == Fixtures.BC_PROOF_BYTES, "A2 proof size");
        bytes memory proofB = Fixtures.bcBProof();
        require(_chunkHash(proofB, 0) == Fixtures.SUBJECT_B_COMMITMENT, "B's commitment");
        _requireOutputsAt(Fixtures.bcBInstances(), 0, Fixtures.subjectBOutputs());
        require(Fixtures.SUBJECT_A_COMMITMENT != Fixtures.SUBJECT_B_COMMITMENT, "A = B");
        // every proof verifies against its own verifier, straight
        require(bcVerifier.verifyProof(proofA, a), "bcA");
        require(bcVerifier.verifyProof(proofA2, a), "bcA2");
        require(bcVerifier.verifyProof(proofB, Fixtures.bcBInstances()), "bcB");
        require(bc.vkHash() == Fixtures.BC_VK_HASH && bc.outputsPerSubject() == 2, "bc shape");
        require(bc.subjects() == 1 && bc.modelCommitment().length == 0, "bc shape");
    }

    function test_RealFixtures_DigitsConsistent() public {
        require(digits.commitmentsInProof() && Fixtures.DIGITS_COMMITMENTS_IN_PROOF, "KZG");
        bytes memory proof = Fixtures.digitsProof();
        uint256[] memory d = Fixtures.digitsInstances();
        // 10 outputs and no commitment among the instances
        require(d.length == Fixtures.DIGITS_INSTANCES && digits.instanceCount() == 10, "digits");
        require(_chunkHash(proof, 0) == Fixtures.SUBJECT_D_COMMITMENT, "D's commitment");
        _requireNotAnInstance(d, Fixtures.SUBJECT_D_COMMITMENT);
        _requireOutputsAt(d, 0, Fixtures.subjectDOutputs());
        require(proof.length == Fixtures.DIGITS_PROOF_BYTES, "proof size");
        require(digitsVerifier.verifyProof(proof, d), "digits");
        require(digits.vkHash() == Fixtures.DIGITS_VK_HASH, "vkHash");
        require(digits.outputsPerSubject() == 10, "digits shape");
    }

    function test_RealFixtures_BatchConsistent() public {
        require(bc4.commitmentsInProof() && Fixtures.BC4_COMMITMENTS_IN_PROOF, "KZG");
        bytes memory proof = Fixtures.bc4Proof();
        uint256[] memory batch = Fixtures.bc4Instances();
        require(batch.length == Fixtures.BC4_INSTANCES && bc4.instanceCount() == 8, "bc4 count");
        require(proof.length == Fixtures.BC4_PROOF_BYTES, "bc4 proof size");
        bytes memory overlap = Fixtures.bc4OverlapProof();
        uint256[] memory overlapInstances = Fixtures.bc4OverlapInstances();
        require(overlap.length == Fixtures.BC4_PROOF_BYTES, "bc4Overlap proof size");
        for (uint256 j = 0; j < 4; j++) {
            // subject j's commitment is the proof's j-th point; its outputs row j
            require(_chunkHash(proof, j) == Fixtures.bc4Commitments()[j], "batch commitment");
            _requireNotAnInstance(batch, Fixtures.bc4Commitments()[j]);
            _requireOutputsAt(batch, 2 * j, Fixtures.bc4Outputs(j));
            require(
                _chunkHash(overlap, j) == Fixtures.bc4OverlapCommitments()[j],
                "overlap commitment"
            );
            _requireOutputsAt(overlapInstances, 2 * j, Fixtures.bc4OverlapOutputs(j));
        }
        // BATCH_2 and BATCH_3 again: the same points in another proof, at other places
        require(_chunkHash(overlap, 0) == _chunkHash(proof, 2), "BATCH_2's point");
        require(_chunkHash(overlap, 1) == _chunkHash(proof, 3), "BATCH_3's point");
        require(bc4Verifier.verifyProof(proof, batch), "bc4");
        require(bc4Verifier.verifyProof(overlap, overlapInstances), "bc4Overlap");
        require(bc4.vkHash() == Fixtures.BC4_VK_HASH && bc4.subjects() == 4, "bc4 shape");
    }

    function test_RealFixtures_PoseidonConsistent() public {
        require(!bcp.commitmentsInProof() && !Fixtures.BCP_COMMITMENTS_IN_PROOF, "Poseidon");
        bytes memory proof = Fixtures.bcpAProof();
        uint256[] memory pa = Fixtures.bcpAInstances();
        // Poseidon: [commitment] [outputs], the commitment is instance 0
        require(pa.length == Fixtures.BCP_INSTANCES && bcp.instanceCount() == 3, "bcp count");
        require(pa[0] == Fixtures.SUBJECT_PA_COMMITMENT, "PA's commitment");
        _requireOutputsAt(pa, 1, Fixtures.subjectPaOutputs());
        require(proof.length == Fixtures.BCP_PROOF_BYTES, "bcp proof size");
        // A's input and salt, another scheme: another key, the same outputs (same model)
        require(Fixtures.SUBJECT_PA_COMMITMENT != Fixtures.SUBJECT_A_COMMITMENT, "PA = A");
        require(_equal(Fixtures.subjectPaOutputs(), Fixtures.subjectAOutputs()), "PA's outputs");
        require(pa[1] == Fixtures.bcAInstances()[0] && pa[2] == Fixtures.bcAInstances()[1], "rows");
        require(_chunkHash(proof, 0) != Fixtures.SUBJECT_A_COMMITMENT, "A's point in bcpA");
        require(bcpVerifier.verifyProof(proof, pa), "bcpA");
        require(bcp.vkHash() == Fixtures.BCP_VK_HASH && bcp.outputsPerSubject() == 2, "shape");
    }

    // ---- recording -------------------------------------------------------------------------

    function test_RealProof_RecordedUnderItsCommitment() public {
        uint256 commitment = Fixtures.SUBJECT_A_COMMITMENT;
        require(!bc.hasResult(commitment) && bc.resultIdOf(commitment) == 0, "recorded before");
        VM.recordLogs();
        require(bc.submit(Fixtures.bcAProof(), Fixtures.bcAInstances()) == 1, "not recorded");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1, "one event");
        _requireEvent(logs[0], bc, 1, commitment, Fixtures.subjectAOutputs());
        _requireA(1);
        int256[] memory outputs = bc.resultOf(commitment);
        require(
            outputs.length == 2 && outputs[0] == Fixtures.SUBJECT_A_OUTPUT_0
                && outputs[1] == Fixtures.SUBJECT_A_OUTPUT_1,
            "exact fixed-point outputs"
        );
        require(bc.resultCount() == 1, "resultCount");
        // keyed by the point's hash only: no instance names a subject
        uint256[] memory a = Fixtures.bcAInstances();
        require(!bc.hasResult(a[0]) && !bc.hasResult(a[1]), "keyed by an instance");
    }

    /// Nothing is stored per proof: one slot for the subject (id and 2 outputs), the id counter.
    function test_RealProof_OneSlotPerSubjectNothingPerProof() public {
        VM.record();
        bc.submit(Fixtures.bcAProof(), Fixtures.bcAInstances());
        (, bytes32[] memory writes) = VM.accesses(address(bc));
        bytes32 slot = _slot(Fixtures.SUBJECT_A_COMMITMENT, 0);
        require(writes.length == 2, "storage writes");
        require(writes[0] == slot && writes[1] == bytes32(uint256(4)), "slots written");
        require(
            VM.load(address(bc), slot)
                == _lanes(1, Fixtures.SUBJECT_A_OUTPUT_0, Fixtures.SUBJECT_A_OUTPUT_1, 0),
            "packed lanes: id, outputs"
        );
        require(VM.load(address(bc), bytes32(uint256(4))) == bytes32(uint256(2)), "next id");
        // digits: 1 + 10 lanes in 3 words; the batch: 4 slots; each with the counter
        VM.record();
        digits.submit(Fixtures.digitsProof(), Fixtures.digitsInstances());
        (, writes) = VM.accesses(address(digits));
        require(writes.length == 3 + 1, "digits storage writes");
        int256[] memory v = Fixtures.subjectDOutputs();
        uint256 d = Fixtures.SUBJECT_D_COMMITMENT;
        require(VM.load(address(digits), _slot(d, 0)) == _lanes(1, v[0], v[1], v[2]), "word 0");
        require(VM.load(address(digits), _slot(d, 1)) == _lanes(v[3], v[4], v[5], v[6]), "word 1");
        require(VM.load(address(digits), _slot(d, 2)) == _lanes(v[7], v[8], v[9], 0), "word 2");
        VM.record();
        bc4.submit(Fixtures.bc4Proof(), Fixtures.bc4Instances());
        (, writes) = VM.accesses(address(bc4));
        require(writes.length == 4 + 1, "batch storage writes");
        for (uint256 j = 0; j < 4; j++) {
            require(writes[j] == _slot(Fixtures.bc4Commitments()[j], 0), "batch slot");
        }
    }

    function test_RevertWhen_RealSecondProofForSameSubject() public {
        bc.submit(Fixtures.bcAProof(), Fixtures.bcAInstances());
        // another valid proof about A: the same point (input and salt), other bytes; A is
        // recorded, so it is refused before the verifier, naming A and its id
        require(bcVerifier.verifyProof(Fixtures.bcA2Proof(), Fixtures.bcA2Instances()), "valid");
        _expectSubmitRevert(
            bc, Fixtures.bcA2Proof(), Fixtures.bcA2Instances(),
            _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        _requireA(1);
        require(bc.resultCount() == 1, "resultCount");
    }

    function test_RealProof_EitherProofOfASubjectRecordsTheSame() public {
        // whoever submits first, with whichever proof, A's result is the same
        require(bc.submit(Fixtures.bcA2Proof(), Fixtures.bcA2Instances()) == 1, "A2");
        _requireA(1);
        _expectSubmitRevert(
            bc, Fixtures.bcAProof(), Fixtures.bcAInstances(),
            _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        _requireA(1);
    }

    function test_RealProof_AnotherSubjectRecordedSeparately() public {
        bc.submit(Fixtures.bcAProof(), Fixtures.bcAInstances());
        VM.recordLogs();
        require(bc.submit(Fixtures.bcBProof(), Fixtures.bcBInstances()) == 1, "B not recorded");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1, "one event");
        _requireEvent(logs[0], bc, 2, Fixtures.SUBJECT_B_COMMITMENT, Fixtures.subjectBOutputs());
        _requireRecorded(
            bc, Fixtures.SUBJECT_B_COMMITMENT, Fixtures.subjectBOutputs(), 2,
            Fixtures.SUBJECT_B_PREDICTION
        );
        _requireA(1);
        require(bc.resultCount() == 2, "resultCount");
    }

    function test_RealProof_DigitsTenOutputs() public {
        uint256 commitment = Fixtures.SUBJECT_D_COMMITMENT;
        VM.recordLogs();
        require(digits.submit(Fixtures.digitsProof(), Fixtures.digitsInstances()) == 1, "digits");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1, "one event");
        _requireEvent(logs[0], digits, 1, commitment, Fixtures.subjectDOutputs());
        // 10 outputs: lanes 1..10 of 3 words
        _requireRecorded(
            digits, commitment, Fixtures.subjectDOutputs(), 1, Fixtures.SUBJECT_D_PREDICTION
        );
        require(bc.resultCount() == 0, "another registry recorded it");
        _expectSubmitRevert(
            digits, Fixtures.digitsProof(), Fixtures.digitsInstances(),
            _alreadyRecorded(commitment, 1)
        );
    }

    // ---- replay ----------------------------------------------------------------------------

    function test_RevertWhen_RealProofReplayed() public {
        bytes memory proof = Fixtures.bcAProof();
        bc.submit(proof, Fixtures.bcAInstances());
        bytes memory recorded = _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1);
        _expectSubmitRevert(bc, proof, Fixtures.bcAInstances(), recorded);
        // from another account: the same (msg.sender is irrelevant)
        Relay relay = new Relay();
        (bool ok, bytes memory reason) = address(relay).call(
            abi.encodeCall(Relay.submit, (bc, proof, Fixtures.bcAInstances()))
        );
        require(!ok && keccak256(reason) == keccak256(recorded), "relayed replay");
        // the same bytes with B's outputs: the point is still A's, recorded: refused before
        // the verifier
        _expectSubmitRevert(bc, proof, Fixtures.bcBInstances(), recorded);
        // B's replay names B, with its id
        bc.submit(Fixtures.bcBProof(), Fixtures.bcBInstances());
        _expectSubmitRevert(
            bc, Fixtures.bcBProof(), Fixtures.bcBInstances(),
            _alreadyRecorded(Fixtures.SUBJECT_B_COMMITMENT, 2)
        );
        _requireA(1);
        require(bc.resultCount() == 2, "replay recorded");
    }

    function test_RealProof_FrontRunnerGainsNothing() public {
        bytes memory proof = Fixtures.bcAProof();
        // the front-runner resends the pending calldata first, from another account
        Relay frontRunner = new Relay();
        require(frontRunner.submit(bc, proof, Fixtures.bcAInstances()) == 1, "copy recorded");
        // the original then fails early, but what apps read is exactly its outputs
        _expectSubmitRevert(
            bc, proof, Fixtures.bcAInstances(), _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        _requireA(1);
        // a batch the same way: the original names its subject 0
        require(frontRunner.submit(bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances()) == 4, "4");
        _expectSubmitRevert(
            bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances(),
            _alreadyRecorded(Fixtures.SUBJECT_BATCH_0_COMMITMENT, 1)
        );
        for (uint256 j = 0; j < 4; j++) {
            _requireResult(bc4, Fixtures.bc4Commitments()[j], Fixtures.bc4Outputs(j));
        }
        require(bc.resultCount() == 1 && bc4.resultCount() == 4, "resultCount");
    }

    // ---- tampering -------------------------------------------------------------------------

    /// Each public instance +1, zero, and + p (the same value mod p, not canonical): the
    /// verifier rejects the proof (count, weights and the already-recorded check pass; it runs
    /// before the outputs' range). Nothing is recorded or burnt: the untouched proof is accepted
    /// after. Poseidon: instance 0 is the commitment, a changed one a new subject, rejected too.
    function _checkTamperedInstances(
        InferenceRegistry registry,
        bytes memory proof,
        uint256[] memory good
    ) internal {
        for (uint256 i = 0; i < good.length; i++) {
            uint256[3] memory bad = [good[i] + 1, 0, good[i] + P];
            for (uint256 t = 0; t < bad.length; t++) {
                if (bad[t] == good[i]) continue; // a zero instance zeroed is the valid proof
                uint256[] memory instances = _copy(good);
                instances[i] = bad[t];
                _expectSubmitRevert(registry, proof, instances, _rejected());
            }
        }
        require(registry.resultCount() == 0, "a tampered proof recorded");
        require(registry.submit(proof, good) == registry.subjects(), "the genuine proof refused");
    }

    function test_RevertWhen_RealInstanceTampered() public {
        _checkTamperedInstances(bc, Fixtures.bcAProof(), Fixtures.bcAInstances());
    }

    function test_RevertWhen_RealDigitsInstanceTampered() public {
        _checkTamperedInstances(digits, Fixtures.digitsProof(), Fixtures.digitsInstances());
    }

    function test_RevertWhen_RealBatchInstanceTampered() public {
        _checkTamperedInstances(bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances());
    }

    function test_RevertWhen_RealPoseidonInstanceTampered() public {
        _checkTamperedInstances(bcp, Fixtures.bcpAProof(), Fixtures.bcpAInstances());
    }

    function test_RevertWhen_RealProofClaimsAnotherSubject() public {
        bytes memory proofA = Fixtures.bcAProof();
        bytes memory proofB = Fixtures.bcBProof();
        // A's proof carrying B's point (keyed B), with A's outputs, then with B's
        bytes memory proof = bytes.concat(proofA);
        _setPoint(proof, 0, _pointOf(proofB, 0));
        require(_chunkHash(proof, 0) == Fixtures.SUBJECT_B_COMMITMENT, "test data");
        _expectSubmitRevert(bc, proof, Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(bc, proof, Fixtures.bcBInstances(), _rejected());
        // A's proof with B's outputs: still about A, whose outputs they are not
        _expectSubmitRevert(bc, proofA, Fixtures.bcBInstances(), _rejected());
        // A's outputs swapped
        uint256[] memory instances = Fixtures.bcAInstances();
        (instances[0], instances[1]) = (instances[1], instances[0]);
        _expectSubmitRevert(bc, proofA, instances, _rejected());
        // two subjects of a batch swapped (their points and rows together)
        bytes memory batchProof = bytes.concat(Fixtures.bc4Proof());
        _setPoint(batchProof, 0, _pointOf(Fixtures.bc4Proof(), 1));
        _setPoint(batchProof, 1, _pointOf(Fixtures.bc4Proof(), 0));
        uint256[] memory batch = Fixtures.bc4Instances();
        (batch[0], batch[2]) = (batch[2], batch[0]);
        (batch[1], batch[3]) = (batch[3], batch[1]);
        _expectSubmitRevert(bc4, batchProof, batch, _rejected());
        require(bc.resultCount() == 0 && bc4.resultCount() == 0, "recorded");
        // once A is recorded, B's proof carrying A's point records nothing: refused before the
        // verifier, A's result untouched
        bc.submit(proofA, Fixtures.bcAInstances());
        proof = bytes.concat(proofB);
        _setPoint(proof, 0, _pointOf(proofA, 0));
        _expectSubmitRevert(
            bc, proof, Fixtures.bcBInstances(), _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        _requireA(1);
        require(!bc.hasResult(Fixtures.SUBJECT_B_COMMITMENT), "B recorded");
    }

    /// Single bytes flipped (one bit, then the other seven), the first point (bytes 0..63, the
    /// subject's commitment under KZG) included, and the proof padded or truncated: the
    /// verifier rejects all (ezkl's checks the proof's length). Nothing recorded or burnt.
    function _checkFlippedBytes(
        InferenceRegistry registry,
        bytes memory good,
        uint256[] memory instances
    ) internal {
        uint256 n = good.length;
        uint256[11] memory positions =
            [uint256(0), 1, 31, 32, 63, 64, 100, 127, n / 2, n - 32, n - 1];
        for (uint256 i = 0; i < positions.length; i++) {
            bytes memory proof = bytes.concat(good); // a copy
            proof[positions[i]] ^= bytes1(0x01);
            _expectSubmitRevert(registry, proof, instances, _rejected());
            proof[positions[i]] ^= bytes1(0xff); // every other bit of the byte
            _expectSubmitRevert(registry, proof, instances, _rejected());
        }
        _expectSubmitRevert(registry, bytes.concat(good, hex"00"), instances, _rejected());
        _expectSubmitRevert(registry, bytes.concat(good, new bytes(32)), instances, _rejected());
        _expectSubmitRevert(registry, _prefix(good, n - 32), instances, _rejected());
        require(registry.resultCount() == 0, "recorded");
        require(registry.submit(good, instances) == registry.subjects(), "the genuine refused");
    }

    function test_RevertWhen_RealProofBytesFlipped() public {
        _checkFlippedBytes(bc, Fixtures.bcAProof(), Fixtures.bcAInstances());
    }

    function test_RevertWhen_RealBatchProofBytesFlipped() public {
        _checkFlippedBytes(bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances());
    }

    function test_RevertWhen_RealPoseidonProofBytesFlipped() public {
        _checkFlippedBytes(bcp, Fixtures.bcpAProof(), Fixtures.bcpAInstances());
    }

    /// KZG, the subject recorded: a flipped byte in its point makes another key, a new subject,
    /// so the verifier must reject it (never AlreadyRecorded); anywhere else the point is still
    /// the recorded subject's: refused before the verifier.
    function test_RevertWhen_RealProofPointFlippedAfterRecording() public {
        bytes memory good = Fixtures.bcAProof();
        bc.submit(good, Fixtures.bcAInstances());
        bytes memory recorded = _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1);
        uint256 n = good.length;
        uint256[9] memory positions = [uint256(0), 1, 31, 32, 63, 64, 100, n / 2, n - 1];
        for (uint256 i = 0; i < positions.length; i++) {
            bytes memory proof = bytes.concat(good);
            proof[positions[i]] ^= bytes1(0x01);
            bool inPoint = positions[i] < 0x40;
            _expectSubmitRevert(
                bc, proof, Fixtures.bcAInstances(), inPoint ? _rejected() : recorded
            );
        }
        _expectSubmitRevert(bc, bytes.concat(good, hex"00"), Fixtures.bcAInstances(), recorded);
        // the batch: a byte of any subject's point flipped is a new subject, for the verifier
        bytes memory batchGood = Fixtures.bc4Proof();
        bc4.submit(batchGood, Fixtures.bc4Instances());
        for (uint256 j = 0; j < 4; j++) {
            uint256[2] memory ends = [0x40 * j, 0x40 * j + 63]; // the point's first, last byte
            for (uint256 e = 0; e < ends.length; e++) {
                bytes memory proof = bytes.concat(batchGood);
                proof[ends[e]] ^= bytes1(0x01);
                _expectSubmitRevert(bc4, proof, Fixtures.bc4Instances(), _rejected());
            }
        }
        bytes memory outside = bytes.concat(batchGood);
        outside[0x40 * 4] ^= bytes1(0x01);
        _expectSubmitRevert(
            bc4, outside, Fixtures.bc4Instances(),
            _alreadyRecorded(Fixtures.SUBJECT_BATCH_0_COMMITMENT, 1)
        );
        require(bc.resultCount() == 1 && bc4.resultCount() == 4, "recorded");
        _requireA(1);
    }

    /// KZG: a proof too short to hold its subjects' points is rejected, before and after A is
    /// recorded (the registry reads no point past the proof's end; the verifier would refuse it
    /// too, so these fixtures cannot tell which did). A's point alone is A: already recorded,
    /// refused before the verifier, recording nothing.
    function test_RevertWhen_RealProofTooShortForItsPoints() public {
        bytes memory good = Fixtures.bcAProof();
        _expectSubmitRevert(bc, "", Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(bc, _prefix(good, 63), Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(bc, _prefix(good, 64), Fixtures.bcAInstances(), _rejected());
        bytes memory batch = Fixtures.bc4Proof();
        _expectSubmitRevert(
            bc4, _prefix(batch, 0x40 * 4 - 1), Fixtures.bc4Instances(), _rejected()
        );
        bc.submit(good, Fixtures.bcAInstances());
        _expectSubmitRevert(bc, _prefix(good, 63), Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(
            bc, _prefix(good, 64), Fixtures.bcAInstances(),
            _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        require(bc.resultCount() == 1 && bc4.resultCount() == 0, "recorded");
    }

    // ---- the wrong registry ----------------------------------------------------------------

    function test_RevertWhen_RealProofSentToAnotherModelsRegistry() public {
        // digits (10 output instances) to breast_cancer (2): refused on the count
        _expectSubmitRevert(
            bc, Fixtures.digitsProof(), Fixtures.digitsInstances(),
            _wrongCount(Fixtures.BC_INSTANCES, Fixtures.DIGITS_INSTANCES)
        );
        // and the other way
        _expectSubmitRevert(
            digits, Fixtures.bcAProof(), Fixtures.bcAInstances(),
            _wrongCount(Fixtures.DIGITS_INSTANCES, Fixtures.BC_INSTANCES)
        );
        // the 4-subject circuit's proof to the 1-subject registry of the same model, and back
        _expectSubmitRevert(
            bc, Fixtures.bc4Proof(), Fixtures.bc4Instances(),
            _wrongCount(Fixtures.BC_INSTANCES, Fixtures.BC4_INSTANCES)
        );
        _expectSubmitRevert(
            bc4, Fixtures.bcAProof(), Fixtures.bcAInstances(),
            _wrongCount(Fixtures.BC4_INSTANCES, Fixtures.BC_INSTANCES)
        );
        // the same model in the other scheme: Poseidon has the commitment among the instances
        _expectSubmitRevert(
            bc, Fixtures.bcpAProof(), Fixtures.bcpAInstances(),
            _wrongCount(Fixtures.BC_INSTANCES, Fixtures.BCP_INSTANCES)
        );
        _expectSubmitRevert(
            bcp, Fixtures.bcAProof(), Fixtures.bcAInstances(),
            _wrongCount(Fixtures.BCP_INSTANCES, Fixtures.BC_INSTANCES)
        );
        require(
            bc.resultCount() + digits.resultCount() + bc4.resultCount() + bcp.resultCount() == 0,
            "recorded"
        );
    }

    function test_RevertWhen_RealProofMeetsAnotherVerifier() public {
        // a registry shaped for breast_cancer, mistakenly pinned to the digits verifier: the
        // count matches, so the verifier itself must refuse (its key is digits')
        InferenceRegistry mismatched = new InferenceRegistry(
            digitsVerifier, Fixtures.BC_VK_HASH, Fixtures.BC_SUBJECTS,
            Fixtures.BC_COMMITMENTS_IN_PROOF, Fixtures.bcWeightsCommitment(),
            Fixtures.bcOutputLengths(), Fixtures.bcOutputScales()
        );
        _expectSubmitRevert(mismatched, Fixtures.bcAProof(), Fixtures.bcAInstances(), _rejected());
        // the breast_cancer verifier refuses digits' proof cut to its instance count as well
        uint256[] memory cut = new uint256[](Fixtures.BC_INSTANCES);
        uint256[] memory d = Fixtures.digitsInstances();
        for (uint256 i = 0; i < cut.length; i++) cut[i] = d[i];
        _expectSubmitRevert(bc, Fixtures.digitsProof(), cut, _rejected());
        // across schemes, same model: the Poseidon proof with its outputs only, as KZG expects
        // (keyed by its first point), and A's KZG proof under a Poseidon commitment
        uint256[] memory outputs = new uint256[](2);
        (outputs[0], outputs[1]) = (Fixtures.bcpAInstances()[1], Fixtures.bcpAInstances()[2]);
        _expectSubmitRevert(bc, Fixtures.bcpAProof(), outputs, _rejected());
        _expectSubmitRevert(bcp, Fixtures.bcAProof(), Fixtures.bcpAInstances(), _rejected());
        // a KZG-shaped registry pinned to the Poseidon verifier, and the reverse
        InferenceRegistry kzgOnPoseidon = new InferenceRegistry(
            bcpVerifier, Fixtures.BC_VK_HASH, 1, true, Fixtures.bcWeightsCommitment(),
            Fixtures.bcOutputLengths(), Fixtures.bcOutputScales()
        );
        _expectSubmitRevert(
            kzgOnPoseidon, Fixtures.bcAProof(), Fixtures.bcAInstances(), _rejected()
        );
        InferenceRegistry poseidonOnKzg = new InferenceRegistry(
            bcVerifier, Fixtures.BCP_VK_HASH, 1, false, Fixtures.bcpWeightsCommitment(),
            Fixtures.bcpOutputLengths(), Fixtures.bcpOutputScales()
        );
        _expectSubmitRevert(
            poseidonOnKzg, Fixtures.bcpAProof(), Fixtures.bcpAInstances(), _rejected()
        );
        require(mismatched.resultCount() == 0 && bc.resultCount() == 0, "recorded");
        require(bcp.resultCount() + kzgOnPoseidon.resultCount() == 0, "recorded");
        require(poseidonOnKzg.resultCount() == 0, "recorded");
    }

    // ---- 4 subjects per proof --------------------------------------------------------------

    function test_RealBatch_RecordsFourSubjectsInOneTransaction() public {
        uint256[] memory commitments = Fixtures.bc4Commitments();
        VM.recordLogs();
        require(bc4.submit(Fixtures.bc4Proof(), Fixtures.bc4Instances()) == 4, "recorded count");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 4, "one event per subject");
        for (uint256 j = 0; j < 4; j++) {
            int256[] memory outputs = Fixtures.bc4Outputs(j);
            _requireEvent(logs[j], bc4, j + 1, commitments[j], outputs);
            _requireResult(bc4, commitments[j], outputs);
            require(bc4.resultIdOf(commitments[j]) == j + 1, "result id");
        }
        require(bc4.predictionOf(Fixtures.SUBJECT_BATCH_0_COMMITMENT)
            == Fixtures.SUBJECT_BATCH_0_PREDICTION, "prediction 0");
        require(bc4.predictionOf(Fixtures.SUBJECT_BATCH_1_COMMITMENT)
            == Fixtures.SUBJECT_BATCH_1_PREDICTION, "prediction 1");
        require(bc4.predictionOf(Fixtures.SUBJECT_BATCH_2_COMMITMENT)
            == Fixtures.SUBJECT_BATCH_2_PREDICTION, "prediction 2");
        require(bc4.predictionOf(Fixtures.SUBJECT_BATCH_3_COMMITMENT)
            == Fixtures.SUBJECT_BATCH_3_PREDICTION, "prediction 3");
        require(bc4.resultCount() == 4, "resultCount");
        _expectSubmitRevert(
            bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances(),
            _alreadyRecorded(Fixtures.SUBJECT_BATCH_0_COMMITMENT, 1)
        );
    }

    function test_RealBatch_RecordsOnlyNewSubjects() public {
        bc4.submit(Fixtures.bc4Proof(), Fixtures.bc4Instances());
        // BATCH_2 and BATCH_3 again (same inputs and salts), then BATCH_4 and BATCH_5
        uint256[] memory commitments = Fixtures.bc4OverlapCommitments();
        require(commitments[0] == Fixtures.SUBJECT_BATCH_2_COMMITMENT, "overlap fixture");
        require(commitments[1] == Fixtures.SUBJECT_BATCH_3_COMMITMENT, "overlap fixture");
        VM.recordLogs();
        require(
            bc4.submit(Fixtures.bc4OverlapProof(), Fixtures.bc4OverlapInstances()) == 2,
            "recorded count"
        );
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 2, "events only for the new subjects");
        for (uint256 j = 0; j < 4; j++) {
            int256[] memory outputs = Fixtures.bc4OverlapOutputs(j);
            _requireResult(bc4, commitments[j], outputs);
            // BATCH_2, BATCH_3 keep ids 3 and 4; BATCH_4, BATCH_5 get 5 and 6
            require(bc4.resultIdOf(commitments[j]) == j + 3, "result id");
            if (j >= 2) _requireEvent(logs[j - 2], bc4, j + 3, commitments[j], outputs);
        }
        require(bc4.resultCount() == 6, "resultCount");
        // now every subject of either proof is recorded: each names its subject 0
        _expectSubmitRevert(
            bc4, Fixtures.bc4OverlapProof(), Fixtures.bc4OverlapInstances(),
            _alreadyRecorded(Fixtures.SUBJECT_BATCH_2_COMMITMENT, 3)
        );
        _expectSubmitRevert(
            bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances(),
            _alreadyRecorded(Fixtures.SUBJECT_BATCH_0_COMMITMENT, 1)
        );
    }

    function test_RealBatch_OverlapFirstThenTheBatch() public {
        require(bc4.submit(Fixtures.bc4OverlapProof(), Fixtures.bc4OverlapInstances()) == 4, "4");
        // BATCH_2..5 have ids 1..4; the other proof's new subjects are its first two
        VM.recordLogs();
        require(bc4.submit(Fixtures.bc4Proof(), Fixtures.bc4Instances()) == 2, "recorded count");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 2, "events only for the new subjects");
        uint256[] memory commitments = Fixtures.bc4Commitments();
        for (uint256 j = 0; j < 4; j++) {
            _requireResult(bc4, commitments[j], Fixtures.bc4Outputs(j));
            require(bc4.resultIdOf(commitments[j]) == (j < 2 ? j + 5 : j - 1), "result id");
            if (j < 2) _requireEvent(logs[j], bc4, j + 5, commitments[j], Fixtures.bc4Outputs(j));
        }
        require(bc4.resultCount() == 6, "resultCount");
    }

    // ---- Poseidon: the commitment is instance 0 ---------------------------------------------

    function test_RealPoseidon_RecordedUnderInstanceZero() public {
        uint256 commitment = Fixtures.SUBJECT_PA_COMMITMENT;
        bytes memory proof = Fixtures.bcpAProof();
        VM.recordLogs();
        require(bcp.submit(proof, Fixtures.bcpAInstances()) == 1, "not recorded");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1, "one event");
        _requireEvent(logs[0], bcp, 1, commitment, Fixtures.subjectPaOutputs());
        _requirePA(1);
        int256[] memory outputs = bcp.resultOf(commitment);
        require(
            outputs.length == 2 && outputs[0] == Fixtures.SUBJECT_PA_OUTPUT_0
                && outputs[1] == Fixtures.SUBJECT_PA_OUTPUT_1,
            "exact fixed-point outputs"
        );
        require(bcp.resultCount() == 1, "resultCount");
        // not keyed by the proof's first point, nor under A's KZG key (another scheme)
        require(!bcp.hasResult(_chunkHash(proof, 0)), "keyed by the proof's point");
        require(!bcp.hasResult(Fixtures.SUBJECT_A_COMMITMENT), "under A's KZG key");
        // one slot, the counter: nothing per proof either
        bytes32 slot = _slot(commitment, 0);
        require(
            VM.load(address(bcp), slot)
                == _lanes(1, Fixtures.SUBJECT_PA_OUTPUT_0, Fixtures.SUBJECT_PA_OUTPUT_1, 0),
            "packed lanes: id, outputs"
        );
    }

    function test_RevertWhen_RealPoseidonReplayed() public {
        bytes memory proof = Fixtures.bcpAProof();
        uint256[] memory instances = Fixtures.bcpAInstances();
        Relay frontRunner = new Relay();
        require(frontRunner.submit(bcp, proof, instances) == 1, "copy recorded");
        bytes memory recorded = _alreadyRecorded(Fixtures.SUBJECT_PA_COMMITMENT, 1);
        _expectSubmitRevert(bcp, proof, instances, recorded);
        // the proof's bytes name no subject: changed anywhere, the first point included, the
        // commitment is still PA's, recorded: refused before the verifier
        uint256[4] memory positions = [uint256(0), 63, 64, proof.length - 1];
        for (uint256 i = 0; i < positions.length; i++) {
            bytes memory changed = bytes.concat(proof);
            changed[positions[i]] ^= bytes1(0x01);
            _expectSubmitRevert(bcp, changed, instances, recorded);
        }
        // the same bytes under another commitment: a new subject, the verifier's to refuse
        uint256[] memory other = _copy(instances);
        other[0] = Fixtures.SUBJECT_A_COMMITMENT;
        _expectSubmitRevert(bcp, proof, other, _rejected());
        _requirePA(1);
        require(bcp.resultCount() == 1, "replay recorded");
    }

    /// The commitment instance replaced (another subject's key, A's KZG key, off by one, zero,
    /// + p): rejected, before and after PA is recorded (a new key goes to the verifier).
    function test_RevertWhen_RealPoseidonCommitmentTampered() public {
        bytes memory proof = Fixtures.bcpAProof();
        uint256 pa = Fixtures.SUBJECT_PA_COMMITMENT;
        uint256[5] memory bad = [Fixtures.SUBJECT_A_COMMITMENT, pa + 1, pa - 1, 0, pa + P];
        for (uint256 round = 0; round < 2; round++) {
            for (uint256 i = 0; i < bad.length; i++) {
                uint256[] memory instances = Fixtures.bcpAInstances();
                instances[0] = bad[i];
                _expectSubmitRevert(bcp, proof, instances, _rejected());
                require(!bcp.hasResult(bad[i]), "recorded under a tampered commitment");
            }
            if (round == 0) {
                require(bcp.resultCount() == 0, "recorded");
                require(bcp.submit(proof, Fixtures.bcpAInstances()) == 1, "genuine refused");
            }
        }
        _requirePA(1);
        require(bcp.resultCount() == 1, "resultCount");
    }

    /// The same input and salt in both schemes: two subjects, each recorded in its registry.
    function test_RealProof_BothSchemesRecordTheSameOutputs() public {
        require(bc.submit(Fixtures.bcAProof(), Fixtures.bcAInstances()) == 1, "KZG");
        require(bcp.submit(Fixtures.bcpAProof(), Fixtures.bcpAInstances()) == 1, "Poseidon");
        _requireA(1);
        _requirePA(1);
        require(!bc.hasResult(Fixtures.SUBJECT_PA_COMMITMENT), "PA in the KZG registry");
        require(_equal(bc.resultOf(Fixtures.SUBJECT_A_COMMITMENT),
            bcp.resultOf(Fixtures.SUBJECT_PA_COMMITMENT)), "outputs differ by scheme");
    }

    // ---- gas -------------------------------------------------------------------------------

    /// gasleft() around submit; arguments are built before measuring.
    function _submitGas(InferenceRegistry registry, bytes memory proof, uint256[] memory instances)
        internal
        returns (uint256 gas)
    {
        uint256 start = gasleft();
        uint256 recorded = registry.submit(proof, instances);
        gas = start - gasleft();
        require(recorded == registry.subjects(), "not all recorded");
    }

    /// gasleft() around a direct verifyProof call to a verifier not called before (cold).
    function _verifyGas(IHalo2Verifier verifier, bytes memory proof, uint256[] memory instances)
        internal
        returns (uint256 gas)
    {
        uint256 start = gasleft();
        bool ok = verifier.verifyProof(proof, instances);
        gas = start - gasleft();
        require(ok, "verifier refused");
    }

    /// A transaction's calldata cost for submit(proof, instances), not in the figures above:
    /// 16 per nonzero byte, 4 per zero byte (EIP-2028; EIP-7623's floor does not bind, as
    /// verification costs far more than the calldata).
    function _calldataGas(bytes memory proof, uint256[] memory instances)
        internal
        pure
        returns (uint256 gas)
    {
        bytes memory data = abi.encodeCall(InferenceRegistry.submit, (proof, instances));
        for (uint256 i = 0; i < data.length; i++) gas += data[i] == 0 ? 4 : 16;
    }

    /// The figures in this contract's comment, emitted so that
    /// `forge test -vvvv --match-test test_Gas_RealSubmit` shows them.
    event Gas(string what, uint256 gas);

    function test_Gas_RealSubmit() public {
        // verifier alone, on the probes (cold, like the registry's call to its verifier)
        uint256 bcVerify = _verifyGas(probes[0], Fixtures.bcAProof(), Fixtures.bcAInstances());
        uint256 digitsVerify =
            _verifyGas(probes[1], Fixtures.digitsProof(), Fixtures.digitsInstances());
        uint256 bc4Verify = _verifyGas(probes[2], Fixtures.bc4Proof(), Fixtures.bc4Instances());
        uint256 bcpVerify =
            _verifyGas(probes[3], Fixtures.bcpAProof(), Fixtures.bcpAInstances());
        uint256 bcSubmit = _submitGas(bc, Fixtures.bcAProof(), Fixtures.bcAInstances());
        uint256 digitsSubmit =
            _submitGas(digits, Fixtures.digitsProof(), Fixtures.digitsInstances());
        uint256 bc4Submit = _submitGas(bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances());
        uint256 bcpSubmit = _submitGas(bcp, Fixtures.bcpAProof(), Fixtures.bcpAInstances());
        emit Gas("breast_cancer 1 subject KZG: submit", bcSubmit);
        emit Gas("breast_cancer 1 subject KZG: verifyProof alone", bcVerify);
        emit Gas("breast_cancer 1 subject KZG: calldata (not included)",
            _calldataGas(Fixtures.bcAProof(), Fixtures.bcAInstances()));
        emit Gas("digits 1 subject KZG: submit", digitsSubmit);
        emit Gas("digits 1 subject KZG: verifyProof alone", digitsVerify);
        emit Gas("digits 1 subject KZG: calldata (not included)",
            _calldataGas(Fixtures.digitsProof(), Fixtures.digitsInstances()));
        emit Gas("breast_cancer 4 subjects KZG: submit", bc4Submit);
        emit Gas("breast_cancer 4 subjects KZG: verifyProof alone", bc4Verify);
        emit Gas("breast_cancer 4 subjects KZG: calldata (not included)",
            _calldataGas(Fixtures.bc4Proof(), Fixtures.bc4Instances()));
        emit Gas("breast_cancer 1 subject Poseidon: submit", bcpSubmit);
        emit Gas("breast_cancer 1 subject Poseidon: verifyProof alone", bcpVerify);
        emit Gas("breast_cancer 1 subject Poseidon: calldata (not included)",
            _calldataGas(Fixtures.bcpAProof(), Fixtures.bcpAInstances()));
        // the registry's share stays what the mock-verifier gas tests measure (~36k for one
        // subject, ~26k more per further subject), whatever the verifier costs
        uint256 bcShare = bcSubmit - bcVerify;
        uint256 bcpShare = bcpSubmit - bcpVerify;
        require(bcShare < 45_000, "registry share, 1 subject");
        require(digitsSubmit - digitsVerify < 100_000, "registry share, 10 outputs (3 slots)");
        require(bc4Submit - bc4Verify < 45_000 + 3 * 30_000, "registry share, 4 subjects");
        // the scheme changes what the verifier costs, not the registry's share
        require(bcpShare < bcShare + 2_000 && bcShare < bcpShare + 2_000, "share by scheme");
        // batching pays: 4 subjects in one proof cost less than 4 proofs of one
        require(bc4Submit < 4 * bcSubmit, "batch dearer than single proofs");
    }
}
