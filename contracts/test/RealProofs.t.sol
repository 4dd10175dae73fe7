// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IHalo2Verifier, InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {BreastCancerBatch4Verifier} from "./fixtures/BreastCancerBatch4Verifier.sol";
import {BreastCancerPoseidonVerifier} from "./fixtures/BreastCancerPoseidonVerifier.sol";
import {BreastCancerVerifier} from "./fixtures/BreastCancerVerifier.sol";
import {DigitsVerifier} from "./fixtures/DigitsVerifier.sol";
import {Fixtures} from "./fixtures/Fixtures.sol";
import {SharedVerifier} from "./fixtures/SharedVerifier.sol";
import {Relay} from "./MockVerifier.sol";
import {RegistryTestBase, Vm} from "./RegistryTestBase.sol";

/// The registry's rules on real ezkl proofs and verifiers (contracts/test/fixtures/, made by
/// scripts/forge-fixtures), in both commitment schemes, all in ONE registry holding each
/// circuit as a version, as an application holds its models. KZG (a subject's key is keccak256
/// of the proof's j-th point; instances [outputs]): breast_cancer with 1 and with 4 subjects per
/// proof, digits (10 outputs) with 1. Poseidon (the key is instance j; instances [commitments]
/// [outputs]): breast_cancer with 1. Versions 1-4 verify with each circuit's own verifier;
/// versions 5-8 are the same circuits verified by ezkl's shared reusable verifier with each
/// circuit's VKA. Subjects: A (two different proofs), B, D (digits), BATCH_0..5, PA (A's input
/// and salt under Poseidon: another key).
///
/// Gas: see test_Gas_RealSubmit and test_Gas_RealNewVersion (`forge test -vvvv --match-test
/// test_Gas_Real` shows the Gas events); the figures are in the README's "Upgrading a model".
contract RealProofsTest is RegistryTestBase {
    // the versions of `registry`
    uint256 internal constant BC = 1; // breast_cancer, 1 subject per proof, KZG
    uint256 internal constant DIGITS = 2; // KZG
    uint256 internal constant BC4 = 3; // breast_cancer, 4 subjects per proof, KZG
    uint256 internal constant BCP = 4; // breast_cancer, 1 subject per proof, Poseidon
    uint256 internal constant SHARED_OFFSET = 4; // BC + 4: BC on the shared verifier, ...
    uint256 internal constant BC_SHARED = 5;
    uint256 internal constant DIGITS_SHARED = 6;
    uint256 internal constant BC4_SHARED = 7;
    uint256 internal constant BCP_SHARED = 8;

    IHalo2Verifier internal bcVerifier;
    IHalo2Verifier internal digitsVerifier;
    IHalo2Verifier internal bc4Verifier;
    IHalo2Verifier internal bcpVerifier;
    SharedVerifier internal shared;
    InferenceRegistry internal registry;
    // Second instances of the verifiers, called directly by the gas test: as cold as the
    // registry's (an instance deployed in the test itself would be warm, 2,500 cheaper).
    IHalo2Verifier[4] internal probes;
    SharedVerifier internal sharedProbe;

    // Deployed in setUp, a transaction of its own: every account and slot is cold in a test.
    function setUp() public {
        bcVerifier = IHalo2Verifier(address(new BreastCancerVerifier()));
        digitsVerifier = IHalo2Verifier(address(new DigitsVerifier()));
        bc4Verifier = IHalo2Verifier(address(new BreastCancerBatch4Verifier()));
        bcpVerifier = IHalo2Verifier(address(new BreastCancerPoseidonVerifier()));
        shared = new SharedVerifier();
        registry = new InferenceRegistry(0);
        bytes32[] memory none = new bytes32[](0);
        require(registry.addVersion(Fixtures.bcSpec(address(bcVerifier)), none) == BC, "BC");
        require(
            registry.addVersion(Fixtures.digitsSpec(address(digitsVerifier)), none) == DIGITS, ""
        );
        require(registry.addVersion(Fixtures.bc4Spec(address(bc4Verifier)), none) == BC4, "");
        require(registry.addVersion(Fixtures.bcpSpec(address(bcpVerifier)), none) == BCP, "");
        require(
            registry.addVersion(Fixtures.bcSpec(address(shared)), Fixtures.bcVka()) == BC_SHARED,
            "BC_SHARED"
        );
        require(
            registry.addVersion(Fixtures.digitsSpec(address(shared)), Fixtures.digitsVka())
                == DIGITS_SHARED,
            "DIGITS_SHARED"
        );
        require(
            registry.addVersion(Fixtures.bc4Spec(address(shared)), Fixtures.bc4Vka())
                == BC4_SHARED,
            "BC4_SHARED"
        );
        require(
            registry.addVersion(Fixtures.bcpSpec(address(shared)), Fixtures.bcpVka())
                == BCP_SHARED,
            "BCP_SHARED"
        );
        probes = [
            IHalo2Verifier(address(new BreastCancerVerifier())),
            IHalo2Verifier(address(new DigitsVerifier())),
            IHalo2Verifier(address(new BreastCancerBatch4Verifier())),
            IHalo2Verifier(address(new BreastCancerPoseidonVerifier()))
        ];
        sharedProbe = new SharedVerifier();
        sharedProbe.registerVka(Fixtures.bcVka());
        sharedProbe.registerVka(Fixtures.digitsVka());
        sharedProbe.registerVka(Fixtures.bc4Vka());
        sharedProbe.registerVka(Fixtures.bcpVka());
    }

    // ---- helpers --------------------------------------------------------------------------

    function _rejected() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector);
    }

    /// AlreadyRecorded in version BC (most tests' version).
    function _alreadyRecorded(uint256 commitment, uint256 id)
        internal
        pure
        returns (bytes memory)
    {
        return _alreadyRecorded(BC, commitment, id);
    }

    function _alreadyRecorded(uint256 version, uint256 commitment, uint256 id)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeWithSelector(
            InferenceRegistry.AlreadyRecorded.selector, version, commitment, id
        );
    }

    function _wrongCount(uint256 expected, uint256 got) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(InferenceRegistry.WrongInstanceCount.selector, expected, got);
    }

    function _expectSubmitRevert(
        uint256 version,
        bytes memory proof,
        uint256[] memory instances,
        bytes memory expected
    ) internal {
        bytes memory data = abi.encodeCall(InferenceRegistry.submit, (version, proof, instances));
        _expectRevert(address(registry), data, expected);
    }

    function _requireResult(uint256 version, uint256 commitment, int256[] memory outputs)
        internal
        view
    {
        require(registry.hasResult(version, commitment), "no result recorded");
        require(_equal(registry.resultOf(version, commitment), outputs), "recorded outputs differ");
    }

    function _subjects(uint256 version) internal view returns (uint256) {
        return registry.versionInfo(version).subjects;
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
        uint256 version,
        uint256 id,
        uint256 commitment,
        int256[] memory outputs
    ) internal view {
        require(log.emitter == address(registry) && log.topics.length == 4, "event shape");
        require(log.topics[0] == INFERENCE_VERIFIED, "event signature");
        require(uint256(log.topics[1]) == version, "event version");
        require(uint256(log.topics[2]) == id, "event id");
        require(uint256(log.topics[3]) == commitment, "event commitment");
        require(keccak256(log.data) == keccak256(abi.encode(outputs)), "event outputs");
    }

    /// Everything the registry says about a recorded subject.
    function _requireRecorded(
        uint256 version,
        uint256 commitment,
        int256[] memory outputs,
        uint256 id,
        uint256 prediction
    ) internal view {
        _requireResult(version, commitment, outputs);
        require(registry.resultIdOf(version, commitment) == id, "result id");
        require(registry.predictionOf(version, commitment) == prediction, "prediction");
    }

    /// Subject A recorded in version BC with its exact outputs and prediction, under this id.
    function _requireA(uint256 id) internal view {
        _requireRecorded(
            BC, Fixtures.SUBJECT_A_COMMITMENT, Fixtures.subjectAOutputs(), id,
            Fixtures.SUBJECT_A_PREDICTION
        );
    }

    /// Subject PA recorded in version BCP, under this id.
    function _requirePA(uint256 id) internal view {
        _requireRecorded(
            BCP, Fixtures.SUBJECT_PA_COMMITMENT, Fixtures.subjectPaOutputs(), id,
            Fixtures.SUBJECT_PA_PREDICTION
        );
    }

    /// Slot of word `word` of a commitment's result in a version.
    function _slot(uint256 version, uint256 commitment, uint256 word)
        internal
        pure
        returns (bytes32)
    {
        return _resultSlot(version, commitment, word);
    }

    function _lanes(int256 a, int256 b, int256 c, int256 d) internal pure returns (bytes32) {
        int256[4] memory lanes = [a, b, c, d];
        uint256 word;
        for (uint256 i = 0; i < 4; i++) word |= uint256(uint64(int64(lanes[i]))) << (64 * i);
        return bytes32(word);
    }

    /// Lane 0 of a result: its id, and the block that recorded it above bit 32.
    function _idLane(uint256 id) internal view returns (int256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return int256(id | (block.number << 32));
    }

    // ---- the fixtures are what the Python side says they are -------------------------------

    function test_RealFixtures_Consistent() public {
        require(registry.versionInfo(BC).commitmentsInProof == Fixtures.BC_COMMITMENTS_IN_PROOF, "bc scheme");
        require(Fixtures.BC_COMMITMENTS_IN_PROOF, "bc is KZG");
        bytes memory proofA = Fixtures.bcAProof();
        uint256[] memory a = Fixtures.bcAInstances();
        // KZG: the instances are A's outputs only; its commitment is the proof's first point
        require(a.length == Fixtures.BC_INSTANCES && registry.versionInfo(BC).instanceCount == a.length, "bc count");
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
        require(registry.versionInfo(BC).vkHash == Fixtures.BC_VK_HASH && registry.versionInfo(BC).outputsPerSubject == 2, "bc shape");
        require(registry.versionInfo(BC).subjects == 1 && registry.versionInfo(BC).weightsCommitment.length == 0, "bc shape");
    }

    function test_RealFixtures_DigitsConsistent() public {
        require(registry.versionInfo(DIGITS).commitmentsInProof && Fixtures.DIGITS_COMMITMENTS_IN_PROOF, "KZG");
        bytes memory proof = Fixtures.digitsProof();
        uint256[] memory d = Fixtures.digitsInstances();
        // 10 outputs and no commitment among the instances
        require(d.length == Fixtures.DIGITS_INSTANCES && registry.versionInfo(DIGITS).instanceCount == 10, "digits");
        require(_chunkHash(proof, 0) == Fixtures.SUBJECT_D_COMMITMENT, "D's commitment");
        _requireNotAnInstance(d, Fixtures.SUBJECT_D_COMMITMENT);
        _requireOutputsAt(d, 0, Fixtures.subjectDOutputs());
        require(proof.length == Fixtures.DIGITS_PROOF_BYTES, "proof size");
        require(digitsVerifier.verifyProof(proof, d), "digits");
        require(registry.versionInfo(DIGITS).vkHash == Fixtures.DIGITS_VK_HASH, "vkHash");
        require(registry.versionInfo(DIGITS).outputsPerSubject == 10, "digits shape");
    }

    function test_RealFixtures_BatchConsistent() public {
        require(registry.versionInfo(BC4).commitmentsInProof && Fixtures.BC4_COMMITMENTS_IN_PROOF, "KZG");
        bytes memory proof = Fixtures.bc4Proof();
        uint256[] memory batch = Fixtures.bc4Instances();
        require(batch.length == Fixtures.BC4_INSTANCES && registry.versionInfo(BC4).instanceCount == 8, "bc4 count");
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
        require(registry.versionInfo(BC4).vkHash == Fixtures.BC4_VK_HASH && registry.versionInfo(BC4).subjects == 4, "bc4 shape");
    }

    function test_RealFixtures_PoseidonConsistent() public {
        require(!registry.versionInfo(BCP).commitmentsInProof && !Fixtures.BCP_COMMITMENTS_IN_PROOF, "Poseidon");
        bytes memory proof = Fixtures.bcpAProof();
        uint256[] memory pa = Fixtures.bcpAInstances();
        // Poseidon: [commitment] [outputs], the commitment is instance 0
        require(pa.length == Fixtures.BCP_INSTANCES && registry.versionInfo(BCP).instanceCount == 3, "bcp count");
        require(pa[0] == Fixtures.SUBJECT_PA_COMMITMENT, "PA's commitment");
        _requireOutputsAt(pa, 1, Fixtures.subjectPaOutputs());
        require(proof.length == Fixtures.BCP_PROOF_BYTES, "bcp proof size");
        // A's input and salt, another scheme: another key, the same outputs (same model)
        require(Fixtures.SUBJECT_PA_COMMITMENT != Fixtures.SUBJECT_A_COMMITMENT, "PA = A");
        require(_equal(Fixtures.subjectPaOutputs(), Fixtures.subjectAOutputs()), "PA's outputs");
        require(pa[1] == Fixtures.bcAInstances()[0] && pa[2] == Fixtures.bcAInstances()[1], "rows");
        require(_chunkHash(proof, 0) != Fixtures.SUBJECT_A_COMMITMENT, "A's point in bcpA");
        require(bcpVerifier.verifyProof(proof, pa), "bcpA");
        require(registry.versionInfo(BCP).vkHash == Fixtures.BCP_VK_HASH && registry.versionInfo(BCP).outputsPerSubject == 2, "shape");
    }

    // ---- recording -------------------------------------------------------------------------

    function test_RealProof_RecordedUnderItsCommitment() public {
        uint256 commitment = Fixtures.SUBJECT_A_COMMITMENT;
        require(!registry.hasResult(BC, commitment) && registry.resultIdOf(BC, commitment) == 0, "recorded before");
        VM.recordLogs();
        require(registry.submit(BC, Fixtures.bcAProof(), Fixtures.bcAInstances()) == 1, "not recorded");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1, "one event");
        _requireEvent(logs[0], BC, 1, commitment, Fixtures.subjectAOutputs());
        _requireA(1);
        int256[] memory outputs = registry.resultOf(BC, commitment);
        require(
            outputs.length == 2 && outputs[0] == Fixtures.SUBJECT_A_OUTPUT_0
                && outputs[1] == Fixtures.SUBJECT_A_OUTPUT_1,
            "exact fixed-point outputs"
        );
        require(registry.resultCount(BC) == 1, "resultCount");
        // keyed by the point's hash only: no instance names a subject
        uint256[] memory a = Fixtures.bcAInstances();
        require(!registry.hasResult(BC, a[0]) && !registry.hasResult(BC, a[1]), "keyed by an instance");
    }

    /// Nothing is stored per proof: one slot for the subject (id and 2 outputs), the id counter.
    function test_RealProof_OneSlotPerSubjectNothingPerProof() public {
        VM.record();
        registry.submit(BC, Fixtures.bcAProof(), Fixtures.bcAInstances());
        (, bytes32[] memory writes) = VM.accesses(address(registry));
        bytes32 slot = _slot(BC, Fixtures.SUBJECT_A_COMMITMENT, 0);
        require(writes.length == 2, "storage writes");
        require(writes[0] == slot && writes[1] == _configSlot(BC), "slots written");
        require(
            VM.load(address(registry), slot)
                == _lanes(_idLane(1), Fixtures.SUBJECT_A_OUTPUT_0, Fixtures.SUBJECT_A_OUTPUT_1, 0),
            "packed lanes: id and block, outputs"
        );
        require(registry.resultCount(BC) == 1, "the version's counter");
        // digits: 1 + 10 lanes in 3 words; the batch: 4 slots; each with the counter
        VM.record();
        registry.submit(DIGITS, Fixtures.digitsProof(), Fixtures.digitsInstances());
        (, writes) = VM.accesses(address(registry));
        require(writes.length == 3 + 1, "digits storage writes");
        int256[] memory v = Fixtures.subjectDOutputs();
        uint256 d = Fixtures.SUBJECT_D_COMMITMENT;
        require(
            VM.load(address(registry), _slot(DIGITS, d, 0)) == _lanes(_idLane(1), v[0], v[1], v[2]),
            "word 0"
        );
        require(
            VM.load(address(registry), _slot(DIGITS, d, 1)) == _lanes(v[3], v[4], v[5], v[6]),
            "word 1"
        );
        require(
            VM.load(address(registry), _slot(DIGITS, d, 2)) == _lanes(v[7], v[8], v[9], 0),
            "word 2"
        );
        VM.record();
        registry.submit(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances());
        (, writes) = VM.accesses(address(registry));
        require(writes.length == 4 + 1, "batch storage writes");
        for (uint256 j = 0; j < 4; j++) {
            require(writes[j] == _slot(BC4, Fixtures.bc4Commitments()[j], 0), "batch slot");
        }
    }

    function test_RevertWhen_RealSecondProofForSameSubject() public {
        registry.submit(BC, Fixtures.bcAProof(), Fixtures.bcAInstances());
        // another valid proof about A: the same point (input and salt), other bytes; A is
        // recorded, so it is refused before the verifier, naming A and its id
        require(bcVerifier.verifyProof(Fixtures.bcA2Proof(), Fixtures.bcA2Instances()), "valid");
        _expectSubmitRevert(BC, Fixtures.bcA2Proof(), Fixtures.bcA2Instances(),
            _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        _requireA(1);
        require(registry.resultCount(BC) == 1, "resultCount");
    }

    function test_RealProof_EitherProofOfASubjectRecordsTheSame() public {
        // whoever submits first, with whichever proof, A's result is the same
        require(registry.submit(BC, Fixtures.bcA2Proof(), Fixtures.bcA2Instances()) == 1, "A2");
        _requireA(1);
        _expectSubmitRevert(BC, Fixtures.bcAProof(), Fixtures.bcAInstances(),
            _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        _requireA(1);
    }

    function test_RealProof_AnotherSubjectRecordedSeparately() public {
        registry.submit(BC, Fixtures.bcAProof(), Fixtures.bcAInstances());
        VM.recordLogs();
        require(registry.submit(BC, Fixtures.bcBProof(), Fixtures.bcBInstances()) == 1, "B not recorded");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1, "one event");
        _requireEvent(logs[0], BC, 2, Fixtures.SUBJECT_B_COMMITMENT, Fixtures.subjectBOutputs());
        _requireRecorded(BC, Fixtures.SUBJECT_B_COMMITMENT, Fixtures.subjectBOutputs(), 2,
            Fixtures.SUBJECT_B_PREDICTION
        );
        _requireA(1);
        require(registry.resultCount(BC) == 2, "resultCount");
    }

    function test_RealProof_DigitsTenOutputs() public {
        uint256 commitment = Fixtures.SUBJECT_D_COMMITMENT;
        VM.recordLogs();
        require(registry.submit(DIGITS, Fixtures.digitsProof(), Fixtures.digitsInstances()) == 1, "digits");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1, "one event");
        _requireEvent(logs[0], DIGITS, 1, commitment, Fixtures.subjectDOutputs());
        // 10 outputs: lanes 1..10 of 3 words
        _requireRecorded(DIGITS, commitment, Fixtures.subjectDOutputs(), 1, Fixtures.SUBJECT_D_PREDICTION
        );
        require(registry.resultCount(BC) == 0, "another registry recorded it");
        _expectSubmitRevert(DIGITS, Fixtures.digitsProof(), Fixtures.digitsInstances(),
            _alreadyRecorded(DIGITS, commitment, 1)
        );
    }

    // ---- replay ----------------------------------------------------------------------------

    function test_RevertWhen_RealProofReplayed() public {
        bytes memory proof = Fixtures.bcAProof();
        registry.submit(BC, proof, Fixtures.bcAInstances());
        bytes memory recorded = _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1);
        _expectSubmitRevert(BC, proof, Fixtures.bcAInstances(), recorded);
        // from another account: the same (msg.sender is irrelevant)
        Relay relay = new Relay();
        (bool ok, bytes memory reason) = address(relay).call(
            abi.encodeCall(Relay.submit, (registry, BC, proof, Fixtures.bcAInstances()))
        );
        require(!ok && keccak256(reason) == keccak256(recorded), "relayed replay");
        // the same bytes with B's outputs: the point is still A's, recorded: refused before
        // the verifier
        _expectSubmitRevert(BC, proof, Fixtures.bcBInstances(), recorded);
        // B's replay names B, with its id
        registry.submit(BC, Fixtures.bcBProof(), Fixtures.bcBInstances());
        _expectSubmitRevert(BC, Fixtures.bcBProof(), Fixtures.bcBInstances(),
            _alreadyRecorded(Fixtures.SUBJECT_B_COMMITMENT, 2)
        );
        _requireA(1);
        require(registry.resultCount(BC) == 2, "replay recorded");
    }

    function test_RealProof_FrontRunnerGainsNothing() public {
        bytes memory proof = Fixtures.bcAProof();
        // the front-runner resends the pending calldata first, from another account
        Relay frontRunner = new Relay();
        require(frontRunner.submit(registry, BC, proof, Fixtures.bcAInstances()) == 1, "copy recorded");
        // the original then fails early, but what apps read is exactly its outputs
        _expectSubmitRevert(BC, proof, Fixtures.bcAInstances(), _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        _requireA(1);
        // a batch the same way: the original names its subject 0
        require(frontRunner.submit(registry, BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances()) == 4, "4");
        _expectSubmitRevert(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances(),
            _alreadyRecorded(BC4, Fixtures.SUBJECT_BATCH_0_COMMITMENT, 1)
        );
        for (uint256 j = 0; j < 4; j++) {
            _requireResult(BC4, Fixtures.bc4Commitments()[j], Fixtures.bc4Outputs(j));
        }
        require(registry.resultCount(BC) == 1 && registry.resultCount(BC4) == 4, "resultCount");
    }

    // ---- tampering -------------------------------------------------------------------------

    /// Each public instance +1, zero, and + p (the same value mod p, not canonical): the
    /// verifier rejects the proof (count, weights and the already-recorded check pass; it runs
    /// before the outputs' range). Nothing is recorded or burnt: the untouched proof is accepted
    /// after. Poseidon: instance 0 is the commitment, a changed one a new subject, rejected too.
    function _checkTamperedInstances(uint256 version, bytes memory proof, uint256[] memory good)
        internal
    {
        for (uint256 i = 0; i < good.length; i++) {
            uint256[3] memory bad = [good[i] + 1, 0, good[i] + P];
            for (uint256 t = 0; t < bad.length; t++) {
                if (bad[t] == good[i]) continue; // a zero instance zeroed is the valid proof
                uint256[] memory instances = _copy(good);
                instances[i] = bad[t];
                _expectSubmitRevert(version, proof, instances, _rejected());
            }
        }
        require(registry.resultCount(version) == 0, "a tampered proof recorded");
        require(
            registry.submit(version, proof, good) == _subjects(version), "the genuine proof refused"
        );
    }

    function test_RevertWhen_RealInstanceTampered() public {
        _checkTamperedInstances(BC, Fixtures.bcAProof(), Fixtures.bcAInstances());
    }

    function test_RevertWhen_RealDigitsInstanceTampered() public {
        _checkTamperedInstances(DIGITS, Fixtures.digitsProof(), Fixtures.digitsInstances());
    }

    function test_RevertWhen_RealBatchInstanceTampered() public {
        _checkTamperedInstances(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances());
    }

    function test_RevertWhen_RealPoseidonInstanceTampered() public {
        _checkTamperedInstances(BCP, Fixtures.bcpAProof(), Fixtures.bcpAInstances());
    }

    function test_RevertWhen_RealProofClaimsAnotherSubject() public {
        bytes memory proofA = Fixtures.bcAProof();
        bytes memory proofB = Fixtures.bcBProof();
        // A's proof carrying B's point (keyed B), with A's outputs, then with B's
        bytes memory proof = bytes.concat(proofA);
        _setPoint(proof, 0, _pointOf(proofB, 0));
        require(_chunkHash(proof, 0) == Fixtures.SUBJECT_B_COMMITMENT, "test data");
        _expectSubmitRevert(BC, proof, Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(BC, proof, Fixtures.bcBInstances(), _rejected());
        // A's proof with B's outputs: still about A, whose outputs they are not
        _expectSubmitRevert(BC, proofA, Fixtures.bcBInstances(), _rejected());
        // A's outputs swapped
        uint256[] memory instances = Fixtures.bcAInstances();
        (instances[0], instances[1]) = (instances[1], instances[0]);
        _expectSubmitRevert(BC, proofA, instances, _rejected());
        // two subjects of a batch swapped (their points and rows together)
        bytes memory batchProof = bytes.concat(Fixtures.bc4Proof());
        _setPoint(batchProof, 0, _pointOf(Fixtures.bc4Proof(), 1));
        _setPoint(batchProof, 1, _pointOf(Fixtures.bc4Proof(), 0));
        uint256[] memory batch = Fixtures.bc4Instances();
        (batch[0], batch[2]) = (batch[2], batch[0]);
        (batch[1], batch[3]) = (batch[3], batch[1]);
        _expectSubmitRevert(BC4, batchProof, batch, _rejected());
        require(registry.resultCount(BC) == 0 && registry.resultCount(BC4) == 0, "recorded");
        // once A is recorded, B's proof carrying A's point records nothing: refused before the
        // verifier, A's result untouched
        registry.submit(BC, proofA, Fixtures.bcAInstances());
        proof = bytes.concat(proofB);
        _setPoint(proof, 0, _pointOf(proofA, 0));
        _expectSubmitRevert(BC, proof, Fixtures.bcBInstances(), _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        _requireA(1);
        require(!registry.hasResult(BC, Fixtures.SUBJECT_B_COMMITMENT), "B recorded");
    }

    /// Single bytes flipped (one bit, then the other seven), the first point (bytes 0..63, the
    /// subject's commitment under KZG) included, and the proof padded or truncated: the
    /// verifier rejects all (ezkl's checks the proof's length). Nothing recorded or burnt.
    function _checkFlippedBytes(uint256 version, bytes memory good, uint256[] memory instances)
        internal
    {
        uint256 n = good.length;
        uint256[11] memory positions =
            [uint256(0), 1, 31, 32, 63, 64, 100, 127, n / 2, n - 32, n - 1];
        for (uint256 i = 0; i < positions.length; i++) {
            bytes memory proof = bytes.concat(good); // a copy
            proof[positions[i]] ^= bytes1(0x01);
            _expectSubmitRevert(version, proof, instances, _rejected());
            proof[positions[i]] ^= bytes1(0xff); // every other bit of the byte
            _expectSubmitRevert(version, proof, instances, _rejected());
        }
        _expectSubmitRevert(version, bytes.concat(good, hex"00"), instances, _rejected());
        _expectSubmitRevert(version, bytes.concat(good, new bytes(32)), instances, _rejected());
        _expectSubmitRevert(version, _prefix(good, n - 32), instances, _rejected());
        require(registry.resultCount(version) == 0, "recorded");
        require(
            registry.submit(version, good, instances) == _subjects(version), "the genuine refused"
        );
    }

    function test_RevertWhen_RealProofBytesFlipped() public {
        _checkFlippedBytes(BC, Fixtures.bcAProof(), Fixtures.bcAInstances());
    }

    function test_RevertWhen_RealBatchProofBytesFlipped() public {
        _checkFlippedBytes(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances());
    }

    function test_RevertWhen_RealPoseidonProofBytesFlipped() public {
        _checkFlippedBytes(BCP, Fixtures.bcpAProof(), Fixtures.bcpAInstances());
    }

    /// KZG, the subject recorded: a flipped byte in its point makes another key, a new subject,
    /// so the verifier must reject it (never AlreadyRecorded); anywhere else the point is still
    /// the recorded subject's: refused before the verifier.
    function test_RevertWhen_RealProofPointFlippedAfterRecording() public {
        bytes memory good = Fixtures.bcAProof();
        registry.submit(BC, good, Fixtures.bcAInstances());
        bytes memory recorded = _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1);
        uint256 n = good.length;
        uint256[9] memory positions = [uint256(0), 1, 31, 32, 63, 64, 100, n / 2, n - 1];
        for (uint256 i = 0; i < positions.length; i++) {
            bytes memory proof = bytes.concat(good);
            proof[positions[i]] ^= bytes1(0x01);
            bool inPoint = positions[i] < 0x40;
            _expectSubmitRevert(BC, proof, Fixtures.bcAInstances(), inPoint ? _rejected() : recorded
            );
        }
        _expectSubmitRevert(BC, bytes.concat(good, hex"00"), Fixtures.bcAInstances(), recorded);
        // the batch: a byte of any subject's point flipped is a new subject, for the verifier
        bytes memory batchGood = Fixtures.bc4Proof();
        registry.submit(BC4, batchGood, Fixtures.bc4Instances());
        for (uint256 j = 0; j < 4; j++) {
            uint256[2] memory ends = [0x40 * j, 0x40 * j + 63]; // the point's first, last byte
            for (uint256 e = 0; e < ends.length; e++) {
                bytes memory proof = bytes.concat(batchGood);
                proof[ends[e]] ^= bytes1(0x01);
                _expectSubmitRevert(BC4, proof, Fixtures.bc4Instances(), _rejected());
            }
        }
        bytes memory outside = bytes.concat(batchGood);
        outside[0x40 * 4] ^= bytes1(0x01);
        _expectSubmitRevert(BC4, outside, Fixtures.bc4Instances(),
            _alreadyRecorded(BC4, Fixtures.SUBJECT_BATCH_0_COMMITMENT, 1)
        );
        require(registry.resultCount(BC) == 1 && registry.resultCount(BC4) == 4, "recorded");
        _requireA(1);
    }

    /// KZG: a proof too short to hold its subjects' points is rejected, before and after A is
    /// recorded (the registry reads no point past the proof's end; the verifier would refuse it
    /// too, so these fixtures cannot tell which did). A's point alone is A: already recorded,
    /// refused before the verifier, recording nothing.
    function test_RevertWhen_RealProofTooShortForItsPoints() public {
        bytes memory good = Fixtures.bcAProof();
        _expectSubmitRevert(BC, "", Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(BC, _prefix(good, 63), Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(BC, _prefix(good, 64), Fixtures.bcAInstances(), _rejected());
        bytes memory batch = Fixtures.bc4Proof();
        _expectSubmitRevert(BC4, _prefix(batch, 0x40 * 4 - 1), Fixtures.bc4Instances(), _rejected()
        );
        registry.submit(BC, good, Fixtures.bcAInstances());
        _expectSubmitRevert(BC, _prefix(good, 63), Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(BC, _prefix(good, 64), Fixtures.bcAInstances(),
            _alreadyRecorded(Fixtures.SUBJECT_A_COMMITMENT, 1)
        );
        require(registry.resultCount(BC) == 1 && registry.resultCount(BC4) == 0, "recorded");
    }

    // ---- the wrong registry ----------------------------------------------------------------

    function test_RevertWhen_RealProofSentToAnotherModelsRegistry() public {
        // digits (10 output instances) to breast_cancer (2): refused on the count
        _expectSubmitRevert(BC, Fixtures.digitsProof(), Fixtures.digitsInstances(),
            _wrongCount(Fixtures.BC_INSTANCES, Fixtures.DIGITS_INSTANCES)
        );
        // and the other way
        _expectSubmitRevert(DIGITS, Fixtures.bcAProof(), Fixtures.bcAInstances(),
            _wrongCount(Fixtures.DIGITS_INSTANCES, Fixtures.BC_INSTANCES)
        );
        // the 4-subject circuit's proof to the 1-subject registry of the same model, and back
        _expectSubmitRevert(BC, Fixtures.bc4Proof(), Fixtures.bc4Instances(),
            _wrongCount(Fixtures.BC_INSTANCES, Fixtures.BC4_INSTANCES)
        );
        _expectSubmitRevert(BC4, Fixtures.bcAProof(), Fixtures.bcAInstances(),
            _wrongCount(Fixtures.BC4_INSTANCES, Fixtures.BC_INSTANCES)
        );
        // the same model in the other scheme: Poseidon has the commitment among the instances
        _expectSubmitRevert(BC, Fixtures.bcpAProof(), Fixtures.bcpAInstances(),
            _wrongCount(Fixtures.BC_INSTANCES, Fixtures.BCP_INSTANCES)
        );
        _expectSubmitRevert(BCP, Fixtures.bcAProof(), Fixtures.bcAInstances(),
            _wrongCount(Fixtures.BCP_INSTANCES, Fixtures.BC_INSTANCES)
        );
        require(
            registry.resultCount(BC) + registry.resultCount(DIGITS) + registry.resultCount(BC4) + registry.resultCount(BCP) == 0,
            "recorded"
        );
    }

    function test_RevertWhen_RealProofMeetsAnotherVerifier() public {
        bytes32[] memory none = new bytes32[](0);
        // a version shaped for breast_cancer, mistakenly pinned to the digits verifier: the
        // count matches, so the verifier itself must refuse (its key is digits')
        uint256 mismatched =
            registry.addVersion(Fixtures.bcSpec(address(digitsVerifier)), none);
        _expectSubmitRevert(mismatched, Fixtures.bcAProof(), Fixtures.bcAInstances(), _rejected());
        // the breast_cancer verifier refuses digits' proof cut to its instance count as well
        uint256[] memory cut = new uint256[](Fixtures.BC_INSTANCES);
        uint256[] memory d = Fixtures.digitsInstances();
        for (uint256 i = 0; i < cut.length; i++) cut[i] = d[i];
        _expectSubmitRevert(BC, Fixtures.digitsProof(), cut, _rejected());
        // across schemes, same model: the Poseidon proof with its outputs only, as KZG expects
        // (keyed by its first point), and A's KZG proof under a Poseidon commitment
        uint256[] memory outputs = new uint256[](2);
        (outputs[0], outputs[1]) = (Fixtures.bcpAInstances()[1], Fixtures.bcpAInstances()[2]);
        _expectSubmitRevert(BC, Fixtures.bcpAProof(), outputs, _rejected());
        _expectSubmitRevert(BCP, Fixtures.bcAProof(), Fixtures.bcpAInstances(), _rejected());
        // a KZG-shaped version pinned to the Poseidon verifier, and the reverse
        uint256 kzgOnPoseidon = registry.addVersion(Fixtures.bcSpec(address(bcpVerifier)), none);
        _expectSubmitRevert(
            kzgOnPoseidon, Fixtures.bcAProof(), Fixtures.bcAInstances(), _rejected()
        );
        uint256 poseidonOnKzg = registry.addVersion(Fixtures.bcpSpec(address(bcVerifier)), none);
        _expectSubmitRevert(
            poseidonOnKzg, Fixtures.bcpAProof(), Fixtures.bcpAInstances(), _rejected()
        );
        // the shared verifier with another circuit's VKA: breast_cancer's shape, digits' key
        uint256 wrongVka =
            registry.addVersion(Fixtures.bcSpec(address(shared)), Fixtures.digitsVka());
        _expectSubmitRevert(wrongVka, Fixtures.bcAProof(), Fixtures.bcAInstances(), _rejected());
        // and the KZG VKA for the Poseidon proof of the same model
        uint256 wrongScheme =
            registry.addVersion(Fixtures.bcpSpec(address(shared)), Fixtures.bcVka());
        _expectSubmitRevert(
            wrongScheme, Fixtures.bcpAProof(), Fixtures.bcpAInstances(), _rejected()
        );
        uint256[6] memory versions =
            [mismatched, BC, BCP, kzgOnPoseidon, poseidonOnKzg, wrongVka];
        for (uint256 i = 0; i < versions.length; i++) {
            require(registry.resultCount(versions[i]) == 0, "recorded");
        }
        require(registry.resultCount(wrongScheme) == 0, "recorded");
    }

    // ---- 4 subjects per proof --------------------------------------------------------------

    function test_RealBatch_RecordsFourSubjectsInOneTransaction() public {
        uint256[] memory commitments = Fixtures.bc4Commitments();
        VM.recordLogs();
        require(registry.submit(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances()) == 4, "recorded count");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 4, "one event per subject");
        for (uint256 j = 0; j < 4; j++) {
            int256[] memory outputs = Fixtures.bc4Outputs(j);
            _requireEvent(logs[j], BC4, j + 1, commitments[j], outputs);
            _requireResult(BC4, commitments[j], outputs);
            require(registry.resultIdOf(BC4, commitments[j]) == j + 1, "result id");
        }
        require(registry.predictionOf(BC4, Fixtures.SUBJECT_BATCH_0_COMMITMENT)
            == Fixtures.SUBJECT_BATCH_0_PREDICTION, "prediction 0");
        require(registry.predictionOf(BC4, Fixtures.SUBJECT_BATCH_1_COMMITMENT)
            == Fixtures.SUBJECT_BATCH_1_PREDICTION, "prediction 1");
        require(registry.predictionOf(BC4, Fixtures.SUBJECT_BATCH_2_COMMITMENT)
            == Fixtures.SUBJECT_BATCH_2_PREDICTION, "prediction 2");
        require(registry.predictionOf(BC4, Fixtures.SUBJECT_BATCH_3_COMMITMENT)
            == Fixtures.SUBJECT_BATCH_3_PREDICTION, "prediction 3");
        require(registry.resultCount(BC4) == 4, "resultCount");
        _expectSubmitRevert(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances(),
            _alreadyRecorded(BC4, Fixtures.SUBJECT_BATCH_0_COMMITMENT, 1)
        );
    }

    function test_RealBatch_RecordsOnlyNewSubjects() public {
        registry.submit(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances());
        // BATCH_2 and BATCH_3 again (same inputs and salts), then BATCH_4 and BATCH_5
        uint256[] memory commitments = Fixtures.bc4OverlapCommitments();
        require(commitments[0] == Fixtures.SUBJECT_BATCH_2_COMMITMENT, "overlap fixture");
        require(commitments[1] == Fixtures.SUBJECT_BATCH_3_COMMITMENT, "overlap fixture");
        VM.recordLogs();
        require(
            registry.submit(BC4, Fixtures.bc4OverlapProof(), Fixtures.bc4OverlapInstances()) == 2,
            "recorded count"
        );
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 2, "events only for the new subjects");
        for (uint256 j = 0; j < 4; j++) {
            int256[] memory outputs = Fixtures.bc4OverlapOutputs(j);
            _requireResult(BC4, commitments[j], outputs);
            // BATCH_2, BATCH_3 keep ids 3 and 4; BATCH_4, BATCH_5 get 5 and 6
            require(registry.resultIdOf(BC4, commitments[j]) == j + 3, "result id");
            if (j >= 2) _requireEvent(logs[j - 2], BC4, j + 3, commitments[j], outputs);
        }
        require(registry.resultCount(BC4) == 6, "resultCount");
        // now every subject of either proof is recorded: each names its subject 0
        _expectSubmitRevert(BC4, Fixtures.bc4OverlapProof(), Fixtures.bc4OverlapInstances(),
            _alreadyRecorded(BC4, Fixtures.SUBJECT_BATCH_2_COMMITMENT, 3)
        );
        _expectSubmitRevert(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances(),
            _alreadyRecorded(BC4, Fixtures.SUBJECT_BATCH_0_COMMITMENT, 1)
        );
    }

    function test_RealBatch_OverlapFirstThenTheBatch() public {
        require(registry.submit(BC4, Fixtures.bc4OverlapProof(), Fixtures.bc4OverlapInstances()) == 4, "4");
        // BATCH_2..5 have ids 1..4; the other proof's new subjects are its first two
        VM.recordLogs();
        require(registry.submit(BC4, Fixtures.bc4Proof(), Fixtures.bc4Instances()) == 2, "recorded count");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 2, "events only for the new subjects");
        uint256[] memory commitments = Fixtures.bc4Commitments();
        for (uint256 j = 0; j < 4; j++) {
            _requireResult(BC4, commitments[j], Fixtures.bc4Outputs(j));
            require(registry.resultIdOf(BC4, commitments[j]) == (j < 2 ? j + 5 : j - 1), "result id");
            if (j < 2) _requireEvent(logs[j], BC4, j + 5, commitments[j], Fixtures.bc4Outputs(j));
        }
        require(registry.resultCount(BC4) == 6, "resultCount");
    }

    // ---- Poseidon: the commitment is instance 0 ---------------------------------------------

    function test_RealPoseidon_RecordedUnderInstanceZero() public {
        uint256 commitment = Fixtures.SUBJECT_PA_COMMITMENT;
        bytes memory proof = Fixtures.bcpAProof();
        VM.recordLogs();
        require(registry.submit(BCP, proof, Fixtures.bcpAInstances()) == 1, "not recorded");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1, "one event");
        _requireEvent(logs[0], BCP, 1, commitment, Fixtures.subjectPaOutputs());
        _requirePA(1);
        int256[] memory outputs = registry.resultOf(BCP, commitment);
        require(
            outputs.length == 2 && outputs[0] == Fixtures.SUBJECT_PA_OUTPUT_0
                && outputs[1] == Fixtures.SUBJECT_PA_OUTPUT_1,
            "exact fixed-point outputs"
        );
        require(registry.resultCount(BCP) == 1, "resultCount");
        // not keyed by the proof's first point, nor under A's KZG key (another scheme)
        require(!registry.hasResult(BCP, _chunkHash(proof, 0)), "keyed by the proof's point");
        require(!registry.hasResult(BCP, Fixtures.SUBJECT_A_COMMITMENT), "under A's KZG key");
        // one slot, the counter: nothing per proof either
        bytes32 slot = _slot(BCP, commitment, 0);
        require(
            VM.load(address(registry), slot)
                == _lanes(_idLane(1), Fixtures.SUBJECT_PA_OUTPUT_0, Fixtures.SUBJECT_PA_OUTPUT_1, 0),
            "packed lanes: id and block, outputs"
        );
    }

    function test_RevertWhen_RealPoseidonReplayed() public {
        bytes memory proof = Fixtures.bcpAProof();
        uint256[] memory instances = Fixtures.bcpAInstances();
        Relay frontRunner = new Relay();
        require(frontRunner.submit(registry, BCP, proof, instances) == 1, "copy recorded");
        bytes memory recorded = _alreadyRecorded(BCP, Fixtures.SUBJECT_PA_COMMITMENT, 1);
        _expectSubmitRevert(BCP, proof, instances, recorded);
        // the proof's bytes name no subject: changed anywhere, the first point included, the
        // commitment is still PA's, recorded: refused before the verifier
        uint256[4] memory positions = [uint256(0), 63, 64, proof.length - 1];
        for (uint256 i = 0; i < positions.length; i++) {
            bytes memory changed = bytes.concat(proof);
            changed[positions[i]] ^= bytes1(0x01);
            _expectSubmitRevert(BCP, changed, instances, recorded);
        }
        // the same bytes under another commitment: a new subject, the verifier's to refuse
        uint256[] memory other = _copy(instances);
        other[0] = Fixtures.SUBJECT_A_COMMITMENT;
        _expectSubmitRevert(BCP, proof, other, _rejected());
        _requirePA(1);
        require(registry.resultCount(BCP) == 1, "replay recorded");
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
                _expectSubmitRevert(BCP, proof, instances, _rejected());
                require(!registry.hasResult(BCP, bad[i]), "recorded under a tampered commitment");
            }
            if (round == 0) {
                require(registry.resultCount(BCP) == 0, "recorded");
                require(registry.submit(BCP, proof, Fixtures.bcpAInstances()) == 1, "genuine refused");
            }
        }
        _requirePA(1);
        require(registry.resultCount(BCP) == 1, "resultCount");
    }

    /// The same input and salt in both schemes: two subjects, each recorded in its registry.
    function test_RealProof_BothSchemesRecordTheSameOutputs() public {
        require(registry.submit(BC, Fixtures.bcAProof(), Fixtures.bcAInstances()) == 1, "KZG");
        require(registry.submit(BCP, Fixtures.bcpAProof(), Fixtures.bcpAInstances()) == 1, "Poseidon");
        _requireA(1);
        _requirePA(1);
        require(!registry.hasResult(BC, Fixtures.SUBJECT_PA_COMMITMENT), "PA in the KZG registry");
        require(_equal(registry.resultOf(BC, Fixtures.SUBJECT_A_COMMITMENT),
            registry.resultOf(BCP, Fixtures.SUBJECT_PA_COMMITMENT)), "outputs differ by scheme");
    }

    /// The owner (this test) submits as anyone does: subject A's real proof with its two outputs
    /// swapped (the other class winning) is rejected by the honest verifiers, own and shared,
    /// and nothing is recorded for A.
    function test_OwnerCannotRecordAResultWithoutAValidProof() public {
        require(registry.owner() == address(this), "the owner submits");
        uint256[] memory chosen = _copy(Fixtures.bcAInstances());
        require(chosen.length == 2 && chosen[0] != chosen[1], "A's two outputs");
        (chosen[0], chosen[1]) = (chosen[1], chosen[0]);
        _expectSubmitRevert(BC, Fixtures.bcAProof(), chosen, _rejected());
        _expectSubmitRevert(BC_SHARED, Fixtures.bcAProof(), chosen, _rejected());
        require(!registry.hasResult(BC, Fixtures.SUBJECT_A_COMMITMENT), "recorded");
        require(!registry.hasResult(BC_SHARED, Fixtures.SUBJECT_A_COMMITMENT), "recorded");
    }

    // ---- one registry, many versions, on real proofs ------------------------------------------

    /// The same subject A in two versions of one registry (here two verifiers of the same
    /// circuit: its own, and the shared one with its VKA): two results, keyed by version.
    function test_RealVersions_SameSubjectInTwoVersions() public {
        require(registry.submit(BC, Fixtures.bcAProof(), Fixtures.bcAInstances()) == 1, "v BC");
        VM.recordLogs();
        require(
            registry.submit(BC_SHARED, Fixtures.bcA2Proof(), Fixtures.bcA2Instances()) == 1,
            "v BC_SHARED"
        );
        Vm.Log[] memory logs = VM.getRecordedLogs();
        _requireEvent(logs[0], BC_SHARED, 1, Fixtures.SUBJECT_A_COMMITMENT, Fixtures.subjectAOutputs());
        _requireA(1);
        _requireRecorded(
            BC_SHARED, Fixtures.SUBJECT_A_COMMITMENT, Fixtures.subjectAOutputs(), 1,
            Fixtures.SUBJECT_A_PREDICTION
        );
        (uint256 version, int256[] memory outputs) =
            registry.currentResultOf(Fixtures.SUBJECT_A_COMMITMENT);
        require(version == BC_SHARED && _equal(outputs, Fixtures.subjectAOutputs()), "current");
        // retiring the newer one: the older is current again, both stay readable
        registry.retireVersion(BC_SHARED);
        (version,) = registry.currentResultOf(Fixtures.SUBJECT_A_COMMITMENT);
        require(version == BC, "current after retirement");
        _requireRecorded(
            BC_SHARED, Fixtures.SUBJECT_A_COMMITMENT, Fixtures.subjectAOutputs(), 1,
            Fixtures.SUBJECT_A_PREDICTION
        );
    }

    /// A retired version refuses a valid proof of a new subject, from anyone, before verifying;
    /// its results stay; an active version of the same circuit records the subject.
    function test_RevertWhen_RealProofToARetiredVersion() public {
        registry.submit(BC, Fixtures.bcAProof(), Fixtures.bcAInstances());
        registry.retireVersion(BC);
        bytes memory retired =
            abi.encodeWithSelector(InferenceRegistry.VersionIsRetired.selector, BC);
        require(bcVerifier.verifyProof(Fixtures.bcBProof(), Fixtures.bcBInstances()), "valid");
        _expectSubmitRevert(BC, Fixtures.bcBProof(), Fixtures.bcBInstances(), retired);
        Relay relay = new Relay();
        (bool ok, bytes memory reason) = address(relay).call(
            abi.encodeCall(
                Relay.submit, (registry, BC, Fixtures.bcBProof(), Fixtures.bcBInstances())
            )
        );
        require(!ok && keccak256(reason) == keccak256(retired), "relayed");
        require(!registry.hasResult(BC, Fixtures.SUBJECT_B_COMMITMENT), "B recorded");
        _requireA(1);
        require(registry.resultCount(BC) == 1 && !registry.isActive(BC), "state");
        require(
            registry.submit(BC_SHARED, Fixtures.bcBProof(), Fixtures.bcBInstances()) == 1,
            "the active version"
        );
    }

    /// Every circuit through the shared verifier: exact outputs, each with its own VKA.
    function test_RealShared_RecordsEveryCircuit() public {
        require(registry.submit(BC_SHARED, Fixtures.bcAProof(), Fixtures.bcAInstances()) == 1, "");
        require(
            registry.submit(DIGITS_SHARED, Fixtures.digitsProof(), Fixtures.digitsInstances()) == 1,
            "digits"
        );
        require(
            registry.submit(BC4_SHARED, Fixtures.bc4Proof(), Fixtures.bc4Instances()) == 4, "bc4"
        );
        require(
            registry.submit(BCP_SHARED, Fixtures.bcpAProof(), Fixtures.bcpAInstances()) == 1, "bcp"
        );
        _requireResult(BC_SHARED, Fixtures.SUBJECT_A_COMMITMENT, Fixtures.subjectAOutputs());
        _requireResult(DIGITS_SHARED, Fixtures.SUBJECT_D_COMMITMENT, Fixtures.subjectDOutputs());
        for (uint256 j = 0; j < 4; j++) {
            _requireResult(BC4_SHARED, Fixtures.bc4Commitments()[j], Fixtures.bc4Outputs(j));
        }
        _requireResult(BCP_SHARED, Fixtures.SUBJECT_PA_COMMITMENT, Fixtures.subjectPaOutputs());
        // the VKA each version keeps is its circuit's, as a data contract: STOP ‖ words
        require(
            keccak256(registry.versionInfo(BC_SHARED).vka.code)
                == keccak256(abi.encodePacked(bytes1(0), Fixtures.bcVka())),
            "VKA kept"
        );
    }

    function test_RevertWhen_RealSharedInstanceTampered() public {
        _checkTamperedInstances(BC_SHARED, Fixtures.bcAProof(), Fixtures.bcAInstances());
    }

    function test_RevertWhen_RealSharedBatchInstanceTampered() public {
        _checkTamperedInstances(BC4_SHARED, Fixtures.bc4Proof(), Fixtures.bc4Instances());
    }

    function test_RevertWhen_RealSharedPoseidonInstanceTampered() public {
        _checkTamperedInstances(BCP_SHARED, Fixtures.bcpAProof(), Fixtures.bcpAInstances());
    }

    /// The registry checks a shared version's proof length: ezkl's reusable verifier itself
    /// accepts the proof with a word appended (shown here), which the registry refuses.
    function test_RevertWhen_RealSharedProofBytesFlipped() public {
        bytes memory padded = bytes.concat(Fixtures.bcAProof(), new bytes(32));
        require(
            _sharedVerifies(sharedProbe, padded, Fixtures.bcAInstances(), Fixtures.bcVka()),
            "the reusable verifier refuses a padded proof: the registry's check is redundant"
        );
        _checkFlippedBytes(BC_SHARED, Fixtures.bcAProof(), Fixtures.bcAInstances());
    }

    function test_RevertWhen_RealSharedPoseidonProofBytesFlipped() public {
        _checkFlippedBytes(BCP_SHARED, Fixtures.bcpAProof(), Fixtures.bcpAInstances());
    }

    /// The shared verifier refuses a VKA nobody registered (the registry registers each
    /// version's own when it adds it).
    function test_RevertWhen_RealSharedVkaNotRegistered() public {
        SharedVerifier fresh = new SharedVerifier();
        (bool ok,) = address(fresh).call(
            abi.encodeCall(
                SharedVerifier.verifyProof,
                (Fixtures.bcAProof(), Fixtures.bcAInstances(), Fixtures.bcVka())
            )
        );
        require(!ok, "an unregistered VKA verified");
        fresh.registerVka(Fixtures.bcVka());
        require(
            _sharedVerifies(fresh, Fixtures.bcAProof(), Fixtures.bcAInstances(), Fixtures.bcVka()),
            "registered: the proof verifies"
        );
    }

    /// A low-level call: the reusable verifier's answer is not ABI-encoded as it declares
    /// (its third word is a byte count, not an offset), so only its first word is read.
    function _sharedVerifies(
        SharedVerifier verifier,
        bytes memory proof,
        uint256[] memory instances,
        bytes32[] memory vka
    ) internal returns (bool) {
        (bool ok, bytes memory answer) = address(verifier).call(
            abi.encodeCall(SharedVerifier.verifyProof, (proof, instances, vka))
        );
        return ok && answer.length >= 32 && uint256(bytes32(answer)) == 1;
    }

    // ---- gas -------------------------------------------------------------------------------

    /// gasleft() around submit; arguments are built before measuring. The registry and the
    /// verifiers are made cold first, as in a new transaction (one registry serves every case).
    function _submitGas(uint256 version, bytes memory proof, uint256[] memory instances)
        internal
        returns (uint256 gas)
    {
        this.coolVersion(version);
        uint256 start = gasleft();
        uint256 recorded = registry.submit(version, proof, instances);
        gas = start - gasleft();
        require(recorded == _subjects(version), "not all recorded");
    }

    /// Makes the registry and a version's verifier (and VKA) cold. An external call: the
    /// Version it decodes takes none of this test's memory, whose size the figures pay for.
    function coolVersion(uint256 version) external {
        InferenceRegistry.Version memory info = registry.versionInfo(version);
        VM.cool(address(registry));
        VM.cool(info.verifier);
        if (info.vka != address(0)) VM.cool(info.vka);
    }

    /// gasleft() around a direct verifyProof call to a verifier not called before (cold).
    function _verifyGas(IHalo2Verifier verifier, bytes memory proof, uint256[] memory instances)
        internal
        returns (uint256 gas)
    {
        VM.cool(address(verifier));
        uint256 start = gasleft();
        bool ok = verifier.verifyProof(proof, instances);
        gas = start - gasleft();
        require(ok, "verifier refused");
    }

    /// The same, on the shared verifier with a VKA (registered in setUp).
    function _sharedVerifyGas(
        bytes memory proof,
        uint256[] memory instances,
        bytes32[] memory vka
    ) internal returns (uint256 gas) {
        VM.cool(address(sharedProbe));
        uint256 start = gasleft();
        bool ok = _sharedVerifies(sharedProbe, proof, instances, vka);
        gas = start - gasleft();
        require(ok, "shared verifier refused");
    }

    /// A transaction's calldata cost for submit(version, proof, instances), not in the figures
    /// above: 16 per nonzero byte, 4 per zero byte (EIP-2028; EIP-7623's floor does not bind,
    /// as verification costs far more than the calldata).
    function _calldataGas(bytes memory proof, uint256[] memory instances)
        internal
        pure
        returns (uint256 gas)
    {
        bytes memory data = abi.encodeCall(InferenceRegistry.submit, (1, proof, instances));
        for (uint256 i = 0; i < data.length; i++) gas += data[i] == 0 ? 4 : 16;
    }

    /// The figures, emitted so that `forge test -vvvv --match-test test_Gas_Real` shows them.
    event Gas(string what, uint256 gas);

    struct Case {
        string name;
        uint256 own;
        bytes proof;
        uint256[] instances;
        bytes32[] vka;
        IHalo2Verifier probe;
    }

    function test_Gas_RealSubmit() public {
        Case[4] memory cases = [
            Case("breast_cancer 1 subject KZG", BC, Fixtures.bcAProof(), Fixtures.bcAInstances(),
                Fixtures.bcVka(), probes[0]),
            Case("digits 1 subject KZG", DIGITS, Fixtures.digitsProof(),
                Fixtures.digitsInstances(), Fixtures.digitsVka(), probes[1]),
            Case("breast_cancer 4 subjects KZG", BC4, Fixtures.bc4Proof(),
                Fixtures.bc4Instances(), Fixtures.bc4Vka(), probes[2]),
            Case("breast_cancer 1 subject Poseidon", BCP, Fixtures.bcpAProof(),
                Fixtures.bcpAInstances(), Fixtures.bcpVka(), probes[3])
        ];
        uint256[4] memory ownSubmit;
        uint256[4] memory ownVerify;
        for (uint256 i = 0; i < 4; i++) {
            Case memory c = cases[i];
            // verifier alone, on the probes (cold, like the registry's call to its verifier)
            ownVerify[i] = _verifyGas(c.probe, c.proof, c.instances);
            uint256 sharedVerify = i == 0 ? _sharedVerifyGas(c.proof, c.instances, c.vka) : 0;
            ownSubmit[i] = _submitGas(c.own, c.proof, c.instances);
            uint256 sharedSubmit = _submitGas(c.own + SHARED_OFFSET, c.proof, c.instances);
            emit Gas(string.concat(c.name, ": submit, own verifier"), ownSubmit[i]);
            emit Gas(string.concat(c.name, ": verifyProof alone, own verifier"), ownVerify[i]);
            emit Gas(string.concat(c.name, ": submit, shared verifier"), sharedSubmit);
            if (i == 0) {
                emit Gas(string.concat(c.name, ": verifyProof alone, shared verifier"),
                    sharedVerify);
            }
            emit Gas(string.concat(c.name, ": calldata (not included)"),
                _calldataGas(c.proof, c.instances));
            // the shared verifier interprets the VKA: it costs more per proof, never less
            require(sharedSubmit > ownSubmit[i], "shared cheaper per proof");
            require(sharedSubmit < ownSubmit[i] + 200_000, "shared far dearer per proof");
        }
        // the registry's share stays what the mock-verifier gas tests measure (~36k for one
        // subject, ~26k more per further subject), whatever the verifier costs
        uint256 bcShare = ownSubmit[0] - ownVerify[0];
        uint256 bcpShare = ownSubmit[3] - ownVerify[3];
        require(bcShare < 45_000, "registry share, 1 subject");
        require(ownSubmit[1] - ownVerify[1] < 100_000, "registry share, 10 outputs (3 slots)");
        require(ownSubmit[2] - ownVerify[2] < 45_000 + 3 * 30_000, "registry share, 4 subjects");
        // the scheme changes what the verifier costs, not the registry's share
        require(bcpShare < bcShare + 2_000 && bcShare < bcpShare + 2_000, "share by scheme");
        // batching pays: 4 subjects in one proof cost less than 4 proofs of one
        require(ownSubmit[2] < 4 * ownSubmit[0], "batch dearer than single proofs");
    }

    /// What a new version costs its owner, inside the EVM (a real transaction adds 21,000 and
    /// its calldata: the verifier's init code, or the VKA; the README gives Anvil's receipts):
    /// its own verifier deployed, then addVersion; or addVersion with the VKA for the shared
    /// verifier (deployed once per chain, not counted).
    function test_Gas_RealNewVersion() public {
        InferenceRegistry fresh = new InferenceRegistry(0);
        bytes32[] memory none = new bytes32[](0);
        uint256 start = gasleft();
        address own = address(new BreastCancerVerifier());
        uint256 verifierGas = start - gasleft();
        start = gasleft();
        fresh.addVersion(Fixtures.bcSpec(own), none);
        uint256 ownAdd = start - gasleft();
        start = gasleft();
        fresh.addVersion(Fixtures.bcSpec(address(shared)), Fixtures.bcVka());
        uint256 sharedAdd = start - gasleft();
        emit Gas("breast_cancer new version, own verifier: deploying it", verifierGas);
        emit Gas("breast_cancer new version, own verifier: addVersion", ownAdd);
        emit Gas("breast_cancer new version, shared verifier: addVersion with the VKA", sharedAdd);
        require(sharedAdd < verifierGas + ownAdd, "a shared version costs more to add");
        require(sharedAdd > ownAdd, "storing the VKA is free?");
    }
}
