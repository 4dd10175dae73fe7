// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IHalo2Verifier, InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {BreastCancerBatch4Verifier} from "./fixtures/BreastCancerBatch4Verifier.sol";
import {BreastCancerVerifier} from "./fixtures/BreastCancerVerifier.sol";
import {DigitsVerifier} from "./fixtures/DigitsVerifier.sol";
import {Fixtures} from "./fixtures/Fixtures.sol";
import {Relay} from "./MockVerifier.sol";
import {RegistryTestBase, Vm} from "./RegistryTestBase.sol";

/// The registry's rules on real ezkl proofs and verifiers (contracts/test/fixtures/, made by
/// scripts/forge-fixtures): breast_cancer with 1 and with 4 subjects per proof, digits (10
/// outputs) with 1. Subjects: A (two different proofs), B, D (digits), BATCH_0..5.
///
/// Gas of submit with the real verifier: gasleft() around the call, every account and slot
/// cold as in a fresh transaction; not included: the 21,000 base and the transaction's own
/// calldata (the proof is 3,840 bytes with 1 subject, 6,144 with 4). Measured by
/// test_Gas_RealSubmit (forge 1.7.1, solc 0.8.37, optimizer runs = 1, evm osaka; ezkl 23.0.5
/// fixtures; `forge test --match-test test_Gas_RealSubmit -vvvv` shows the Gas events):
///   breast_cancer, 1 subject:  submit 632,663 = verifyProof 570,627 + registry 62,036
///   digits, 1 subject (10 outputs, 3 storage words): submit 687,767 = 577,324 + 110,443
///   breast_cancer, 4 subjects: submit 717,757 = verifyProof 578,088 + registry 139,669,
///     179,439 per subject (vs 632,663 for a proof of one): the verifier costs about the same
///     for 4 subjects, each further subject adds ~26k of registry work.
/// The registry's share matches the mock-verifier measurements of InferenceRegistryGas.t.sol.
contract RealProofsTest is RegistryTestBase {
    IHalo2Verifier internal bcVerifier;
    IHalo2Verifier internal digitsVerifier;
    IHalo2Verifier internal bc4Verifier;
    InferenceRegistry internal bc; // breast_cancer, 1 subject per proof
    InferenceRegistry internal digits;
    InferenceRegistry internal bc4; // breast_cancer, 4 subjects per proof

    // Deployed in setUp, a transaction of its own: every account and slot is cold in a test.
    function setUp() public {
        bcVerifier = IHalo2Verifier(address(new BreastCancerVerifier()));
        digitsVerifier = IHalo2Verifier(address(new DigitsVerifier()));
        bc4Verifier = IHalo2Verifier(address(new BreastCancerBatch4Verifier()));
        bc = new InferenceRegistry(
            bcVerifier, Fixtures.BC_VK_HASH, Fixtures.BC_SUBJECTS, Fixtures.bcWeightsCommitment(),
            Fixtures.bcOutputLengths(), Fixtures.bcOutputScales()
        );
        digits = new InferenceRegistry(
            digitsVerifier, Fixtures.DIGITS_VK_HASH, Fixtures.DIGITS_SUBJECTS,
            Fixtures.digitsWeightsCommitment(), Fixtures.digitsOutputLengths(),
            Fixtures.digitsOutputScales()
        );
        bc4 = new InferenceRegistry(
            bc4Verifier, Fixtures.BC4_VK_HASH, Fixtures.BC4_SUBJECTS,
            Fixtures.bc4WeightsCommitment(), Fixtures.bc4OutputLengths(),
            Fixtures.bc4OutputScales()
        );
    }

    // ---- helpers --------------------------------------------------------------------------

    function _rejected() internal pure returns (bytes memory) {
        return abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector);
    }

    function _used(bytes memory proof) internal pure returns (bytes memory) {
        bytes32 hash = keccak256(proof);
        return abi.encodeWithSelector(InferenceRegistry.ProofAlreadyUsed.selector, hash);
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

    /// Signed value of a public instance (negatives are p - |x|).
    function _signed(uint256 felt) internal pure returns (int256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return felt > P / 2 ? -int256(P - felt) : int256(felt);
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

    // ---- the fixtures are what the Python side says they are -------------------------------

    function test_RealFixtures_Consistent() public {
        uint256[] memory a = Fixtures.bcAInstances();
        require(a.length == Fixtures.BC_INSTANCES && bc.instanceCount() == a.length, "bc count");
        require(a[0] == Fixtures.SUBJECT_A_COMMITMENT, "A's commitment");
        require(_signed(a[1]) == Fixtures.SUBJECT_A_OUTPUT_0, "A's output 0");
        require(_signed(a[2]) == Fixtures.SUBJECT_A_OUTPUT_1, "A's output 1");
        require(Fixtures.bcAProof().length == Fixtures.BC_PROOF_BYTES, "proof size");
        // the second proof for A: same input and salt, so the same instances; other bytes
        require(_sameUints(Fixtures.bcA2Instances(), a), "A2 is not about A");
        require(keccak256(Fixtures.bcA2Proof()) != keccak256(Fixtures.bcAProof()), "A2 = A");
        require(Fixtures.bcBInstances()[0] == Fixtures.SUBJECT_B_COMMITMENT, "B's commitment");
        require(Fixtures.SUBJECT_A_COMMITMENT != Fixtures.SUBJECT_B_COMMITMENT, "A = B");
        uint256[] memory d = Fixtures.digitsInstances();
        require(d.length == Fixtures.DIGITS_INSTANCES && digits.instanceCount() == 11, "digits");
        require(d[0] == Fixtures.SUBJECT_D_COMMITMENT, "D's commitment");
        uint256[] memory batch = Fixtures.bc4Instances();
        require(batch.length == Fixtures.BC4_INSTANCES && bc4.instanceCount() == 12, "bc4 count");
        require(Fixtures.bc4Proof().length == Fixtures.BC4_PROOF_BYTES, "bc4 proof size");
        for (uint256 j = 0; j < 4; j++) {
            require(batch[j] == Fixtures.bc4Commitments()[j], "batch commitment");
            int256[] memory outputs = Fixtures.bc4Outputs(j);
            require(_signed(batch[4 + 2 * j]) == outputs[0], "batch output 0");
            require(_signed(batch[4 + 2 * j + 1]) == outputs[1], "batch output 1");
        }
        // every proof verifies against its own verifier, straight
        require(bcVerifier.verifyProof(Fixtures.bcAProof(), a), "bcA");
        require(bcVerifier.verifyProof(Fixtures.bcA2Proof(), a), "bcA2");
        require(bcVerifier.verifyProof(Fixtures.bcBProof(), Fixtures.bcBInstances()), "bcB");
        require(digitsVerifier.verifyProof(Fixtures.digitsProof(), d), "digits");
        require(bc4Verifier.verifyProof(Fixtures.bc4Proof(), batch), "bc4");
        require(
            bc4Verifier.verifyProof(Fixtures.bc4OverlapProof(), Fixtures.bc4OverlapInstances()),
            "bc4Overlap"
        );
        require(bc.vkHash() == Fixtures.BC_VK_HASH && bc.outputsPerSubject() == 2, "bc shape");
        require(digits.outputsPerSubject() == 10, "digits shape");
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
        require(bc.proofUsed(keccak256(Fixtures.bcAProof())), "proof not marked used");
    }

    function test_RealProof_SecondProofForSameSubjectRecordsNothing() public {
        bc.submit(Fixtures.bcAProof(), Fixtures.bcAInstances());
        // another proof about A: the same commitment (input and salt), other proof bytes
        require(Fixtures.bcA2Instances()[0] == Fixtures.SUBJECT_A_COMMITMENT, "not about A");
        VM.recordLogs();
        require(bc.submit(Fixtures.bcA2Proof(), Fixtures.bcA2Instances()) == 0, "re-recorded");
        require(VM.getRecordedLogs().length == 0, "an event for a recorded subject");
        _requireA(1);
        require(bc.resultCount() == 1, "resultCount");
        // it was a valid proof all the same: its bytes are used now
        require(bc.proofUsed(keccak256(Fixtures.bcA2Proof())), "second proof not marked used");
        _expectSubmitRevert(
            bc, Fixtures.bcA2Proof(), Fixtures.bcA2Instances(), _used(Fixtures.bcA2Proof())
        );
    }

    function test_RealProof_EitherProofOfASubjectRecordsTheSame() public {
        // whoever submits first, with whichever proof, A's result is the same
        bc.submit(Fixtures.bcA2Proof(), Fixtures.bcA2Instances());
        _requireA(1);
        require(bc.submit(Fixtures.bcAProof(), Fixtures.bcAInstances()) == 0, "re-recorded");
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
    }

    // ---- replay ----------------------------------------------------------------------------

    function test_RevertWhen_RealProofReplayed() public {
        bytes memory proof = Fixtures.bcAProof();
        bc.submit(proof, Fixtures.bcAInstances());
        _expectSubmitRevert(bc, proof, Fixtures.bcAInstances(), _used(proof));
        // from another account (a front-runner's copy lands first, the original then reverts)
        Relay relay = new Relay();
        (bool ok, bytes memory reason) = address(relay).call(
            abi.encodeCall(Relay.submit, (bc, proof, Fixtures.bcAInstances()))
        );
        require(!ok && keccak256(reason) == keccak256(_used(proof)), "relayed replay");
        // the same bytes with another subject's instances: refused before the verifier
        _expectSubmitRevert(bc, proof, Fixtures.bcBInstances(), _used(proof));
        require(bc.resultCount() == 1, "replay recorded");
    }

    // ---- tampering -------------------------------------------------------------------------

    /// Each public instance +1, zero, and + p (the same value mod p, not canonical): the
    /// verifier rejects the proof (count, weights and replay pass; it is checked before the
    /// outputs' range). Nothing is recorded or burnt: the untouched proof is accepted after.
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
        require(!registry.proofUsed(keccak256(proof)), "a rejected proof was burnt");
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

    function test_RevertWhen_RealProofClaimsAnotherSubject() public {
        bytes memory proof = Fixtures.bcAProof();
        // A's proof under B's commitment, with A's outputs
        uint256[] memory instances = Fixtures.bcAInstances();
        instances[0] = Fixtures.SUBJECT_B_COMMITMENT;
        _expectSubmitRevert(bc, proof, instances, _rejected());
        // A's proof with all of B's instances
        _expectSubmitRevert(bc, proof, Fixtures.bcBInstances(), _rejected());
        // A's outputs swapped
        instances = Fixtures.bcAInstances();
        (instances[1], instances[2]) = (instances[2], instances[1]);
        _expectSubmitRevert(bc, proof, instances, _rejected());
        // two subjects of a batch swapped (commitments and rows together)
        uint256[] memory batch = Fixtures.bc4Instances();
        (batch[0], batch[1]) = (batch[1], batch[0]);
        (batch[4], batch[6]) = (batch[6], batch[4]);
        (batch[5], batch[7]) = (batch[7], batch[5]);
        _expectSubmitRevert(bc4, Fixtures.bc4Proof(), batch, _rejected());
        require(bc.resultCount() == 0 && bc4.resultCount() == 0, "recorded");
    }

    function test_RevertWhen_RealProofBytesFlipped() public {
        bytes memory good = Fixtures.bcAProof();
        uint256 n = good.length;
        uint256[8] memory positions = [uint256(0), 1, 31, 32, 100, n / 2, n - 32, n - 1];
        for (uint256 i = 0; i < positions.length; i++) {
            bytes memory proof = bytes.concat(good); // a copy
            proof[positions[i]] ^= bytes1(0x01);
            _expectSubmitRevert(bc, proof, Fixtures.bcAInstances(), _rejected());
            proof[positions[i]] ^= bytes1(0xff); // every other bit of the byte
            _expectSubmitRevert(bc, proof, Fixtures.bcAInstances(), _rejected());
        }
        // ezkl's verifier checks the proof's length: padded or truncated copies (new hashes,
        // so they pass the replay check) are rejected
        _expectSubmitRevert(bc, bytes.concat(good, hex"00"), Fixtures.bcAInstances(), _rejected());
        _expectSubmitRevert(
            bc, bytes.concat(good, new bytes(32)), Fixtures.bcAInstances(), _rejected()
        );
        bytes memory truncated = bytes.concat(good);
        assembly {
            mstore(truncated, sub(mload(truncated), 32))
        }
        _expectSubmitRevert(bc, truncated, Fixtures.bcAInstances(), _rejected());
        require(bc.resultCount() == 0, "recorded");
        require(bc.submit(good, Fixtures.bcAInstances()) == 1, "the genuine proof refused");
    }

    // ---- the wrong registry ----------------------------------------------------------------

    function test_RevertWhen_RealProofSentToAnotherModelsRegistry() public {
        // digits (1 + 10 instances) to breast_cancer (1 + 2): refused on the count
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
        require(bc.resultCount() + digits.resultCount() + bc4.resultCount() == 0, "recorded");
    }

    function test_RevertWhen_RealProofMeetsAnotherVerifier() public {
        // a registry shaped for breast_cancer, mistakenly pinned to the digits verifier: the
        // count matches, so the verifier itself must refuse (its key is digits')
        InferenceRegistry mismatched = new InferenceRegistry(
            digitsVerifier, Fixtures.BC_VK_HASH, Fixtures.BC_SUBJECTS,
            Fixtures.bcWeightsCommitment(), Fixtures.bcOutputLengths(), Fixtures.bcOutputScales()
        );
        _expectSubmitRevert(mismatched, Fixtures.bcAProof(), Fixtures.bcAInstances(), _rejected());
        // the breast_cancer verifier refuses digits' proof cut to its instance count as well
        uint256[] memory cut = new uint256[](Fixtures.BC_INSTANCES);
        uint256[] memory d = Fixtures.digitsInstances();
        for (uint256 i = 0; i < cut.length; i++) cut[i] = d[i];
        _expectSubmitRevert(bc, Fixtures.digitsProof(), cut, _rejected());
        require(mismatched.resultCount() == 0 && bc.resultCount() == 0, "recorded");
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
            bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances(), _used(Fixtures.bc4Proof())
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

    /// The figures in this contract's comment, emitted so that
    /// `forge test -vvvv --match-test test_Gas_RealSubmit` shows them.
    event Gas(string what, uint256 gas);

    function test_Gas_RealSubmit() public {
        // verifier alone, on fresh verifier instances (cold, like the registry's first call)
        uint256 bcVerify = _verifyGas(
            IHalo2Verifier(address(new BreastCancerVerifier())), Fixtures.bcAProof(),
            Fixtures.bcAInstances()
        );
        uint256 digitsVerify = _verifyGas(
            IHalo2Verifier(address(new DigitsVerifier())), Fixtures.digitsProof(),
            Fixtures.digitsInstances()
        );
        uint256 bc4Verify = _verifyGas(
            IHalo2Verifier(address(new BreastCancerBatch4Verifier())), Fixtures.bc4Proof(),
            Fixtures.bc4Instances()
        );
        uint256 bcSubmit = _submitGas(bc, Fixtures.bcAProof(), Fixtures.bcAInstances());
        uint256 digitsSubmit =
            _submitGas(digits, Fixtures.digitsProof(), Fixtures.digitsInstances());
        uint256 bc4Submit = _submitGas(bc4, Fixtures.bc4Proof(), Fixtures.bc4Instances());
        emit Gas("breast_cancer 1 subject: submit", bcSubmit);
        emit Gas("breast_cancer 1 subject: verifyProof alone", bcVerify);
        emit Gas("digits 1 subject: submit", digitsSubmit);
        emit Gas("digits 1 subject: verifyProof alone", digitsVerify);
        emit Gas("breast_cancer 4 subjects: submit", bc4Submit);
        emit Gas("breast_cancer 4 subjects: verifyProof alone", bc4Verify);
        // the registry's share stays what the mock-verifier gas tests measure (~60k for one
        // subject, ~26k more per further subject), whatever the verifier costs
        require(bcSubmit - bcVerify < 80_000, "registry share, 1 subject");
        require(digitsSubmit - digitsVerify < 130_000, "registry share, 10 outputs (3 slots)");
        require(bc4Submit - bc4Verify < 80_000 + 3 * 30_000, "registry share, 4 subjects");
        // batching pays: 4 subjects in one proof cost less than 4 proofs of one
        require(bc4Submit < 4 * bcSubmit, "batch dearer than single proofs");
    }
}
