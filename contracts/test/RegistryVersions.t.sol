// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {Actor, MockReusableVerifier, MockVerifier, Relay} from "./MockVerifier.sol";
import {RegistryTestBase, Vm} from "./RegistryTestBase.sol";

/// One registry, many model versions: who may add and retire them (the owner, moved in two
/// steps), what a version records, results keyed by (version, commitment), what retirement
/// stops and what it keeps, the app's "current" result, and versions verified by a shared
/// reusable verifier with their own VKA. Mock verifiers; RealProofs.t.sol repeats the essentials
/// on real proofs.
contract RegistryVersionsTest is RegistryTestBase {
    InferenceRegistry internal registry;
    MockVerifier internal verifier;
    MockReusableVerifier internal shared;
    Actor internal stranger;
    Actor internal next; // the next owner
    Shape internal binary; // 1 subject, outputs [2]: a binary classifier, KZG
    Shape internal batch; // 4 subjects, outputs [3], Poseidon, 1 weights element

    bytes32 internal constant VERSION_ADDED = InferenceRegistry.VersionAdded.selector;
    bytes32 internal constant VERSION_RETIRED = InferenceRegistry.VersionRetired.selector;
    bytes32 internal constant TRANSFER_STARTED =
        InferenceRegistry.OwnershipTransferStarted.selector;
    bytes32 internal constant TRANSFERRED = InferenceRegistry.OwnershipTransferred.selector;

    function setUp() public {
        registry = new InferenceRegistry(0);
        verifier = new MockVerifier();
        shared = new MockReusableVerifier();
        stranger = new Actor();
        next = new Actor();
        binary = _kzg(_shape(1, 0, _list(2), _list(13)));
        batch = _shape(4, 1, _list(3), _list(7));
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _none() internal pure returns (bytes32[] memory) {
        return new bytes32[](0);
    }

    function _add(Shape memory shape) internal returns (uint256) {
        return registry.addVersion(_spec(shape, address(verifier)), _none());
    }

    function _labelled(Shape memory shape, string memory a, string memory b)
        internal
        view
        returns (InferenceRegistry.VersionSpec memory spec)
    {
        spec = _spec(shape, address(verifier));
        spec.labels = new string[](2);
        (spec.labels[0], spec.labels[1]) = (a, b);
    }

    function _vka(uint256 seed, uint256 words) internal pure returns (bytes32[] memory vka) {
        vka = new bytes32[](words);
        for (uint256 i = 0; i < words; i++) vka[i] = keccak256(abi.encode("vka", seed, i));
    }

    function _addShared(Shape memory shape, bytes32[] memory vka) internal returns (uint256) {
        return registry.addVersion(_spec(shape, address(shared)), vka);
    }

    function _submit(uint256 version, Shape memory shape, uint256 seed)
        internal
        returns (uint256)
    {
        return registry.submit(version, _proof(shape, seed, seed), _instances(shape, seed));
    }

    function _submitCall(uint256 version, Shape memory shape, uint256 seed)
        internal
        pure
        returns (bytes memory)
    {
        return abi.encodeCall(
            InferenceRegistry.submit, (version, _proof(shape, seed, seed), _instances(shape, seed))
        );
    }

    function _err(bytes4 selector, uint256 a) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(selector, a);
    }

    function _notOwner(address caller) internal pure returns (bytes memory) {
        return abi.encodeWithSelector(InferenceRegistry.NotOwner.selector, caller);
    }

    /// `actor` calls registry with data and is refused with exactly `expected`.
    function _expectActorRevert(Actor actor, bytes memory data, bytes memory expected) internal {
        (bool ok, bytes memory reason) = actor.act(address(registry), data);
        require(!ok, "call did not revert");
        require(keccak256(reason) == keccak256(expected), "reverted, but for another reason");
    }

    function _act(Actor actor, bytes memory data) internal {
        (bool ok,) = actor.act(address(registry), data);
        require(ok, "call reverted");
    }

    function _addCall(Shape memory shape) internal view returns (bytes memory) {
        return abi.encodeCall(
            InferenceRegistry.addVersion, (_spec(shape, address(verifier)), _none())
        );
    }

    function _retireCall(uint256 version) internal pure returns (bytes memory) {
        return abi.encodeCall(InferenceRegistry.retireVersion, (version));
    }

    // ---- the owner -------------------------------------------------------------------------

    function test_DeployerIsOwner() public {
        VM.recordLogs();
        InferenceRegistry fresh = new InferenceRegistry(0);
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(fresh.owner() == address(this) && fresh.pendingOwner() == address(0), "owner");
        require(fresh.versionCount() == 0 && fresh.latestActiveVersion() == 0, "empty");
        require(fresh.deployedAt() == block.number, "deployedAt");
        require(logs.length == 1 && logs[0].topics[0] == TRANSFERRED, "event");
        require(uint256(logs[0].topics[1]) == 0, "from nobody");
        require(address(uint160(uint256(logs[0].topics[2]))) == address(this), "to deployer");
    }

    function test_RevertWhen_StrangerAddsOrRetires() public {
        _expectActorRevert(stranger, _addCall(binary), _notOwner(address(stranger)));
        require(registry.versionCount() == 0, "a stranger added a version");
        _add(binary);
        _expectActorRevert(stranger, _retireCall(1), _notOwner(address(stranger)));
        require(registry.isActive(1), "a stranger retired a version");
        // a stranger cannot propose an owner either, not even itself
        _expectActorRevert(
            stranger,
            abi.encodeCall(InferenceRegistry.transferOwnership, (address(stranger))),
            _notOwner(address(stranger))
        );
        require(registry.pendingOwner() == address(0), "proposed by a stranger");
        // nor accept what was not offered to it
        _expectActorRevert(
            stranger,
            abi.encodeCall(InferenceRegistry.acceptOwnership, ()),
            abi.encodeWithSelector(InferenceRegistry.NotPendingOwner.selector, address(stranger))
        );
        require(registry.owner() == address(this), "owner changed");
    }

    function test_OwnershipMovesInTwoSteps() public {
        _add(binary);
        VM.recordLogs();
        registry.transferOwnership(address(next));
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == TRANSFER_STARTED, "started event");
        require(address(uint160(uint256(logs[0].topics[2]))) == address(next), "pending in event");
        // step 1 alone changes nothing: the owner still rules, the proposed one does not
        require(registry.owner() == address(this) && registry.pendingOwner() == address(next), "");
        _expectActorRevert(next, _addCall(binary), _notOwner(address(next)));
        require(_add(binary) == 2, "the owner lost its powers before the transfer completed");
        // a stranger cannot complete it
        _expectActorRevert(
            stranger,
            abi.encodeCall(InferenceRegistry.acceptOwnership, ()),
            abi.encodeWithSelector(InferenceRegistry.NotPendingOwner.selector, address(stranger))
        );
        // step 2, by the proposed owner
        VM.recordLogs();
        _act(next, abi.encodeCall(InferenceRegistry.acceptOwnership, ()));
        logs = VM.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == TRANSFERRED, "transferred event");
        require(address(uint160(uint256(logs[0].topics[1]))) == address(this), "from");
        require(address(uint160(uint256(logs[0].topics[2]))) == address(next), "to");
        require(registry.owner() == address(next) && registry.pendingOwner() == address(0), "");
        // the old owner is now a stranger; the new one adds and retires
        _expectRevert(address(registry), _addCall(binary), _notOwner(address(this)));
        _expectRevert(address(registry), _retireCall(1), _notOwner(address(this)));
        _act(next, _addCall(binary));
        _act(next, _retireCall(1));
        require(registry.versionCount() == 3 && !registry.isActive(1), "new owner's changes");
        // accepting twice: nothing is pending any more
        _expectActorRevert(
            next,
            abi.encodeCall(InferenceRegistry.acceptOwnership, ()),
            abi.encodeWithSelector(InferenceRegistry.NotPendingOwner.selector, address(next))
        );
    }

    function test_ProposalCanBeReplacedOrCancelled() public {
        registry.transferOwnership(address(stranger));
        registry.transferOwnership(address(next)); // replaces the first proposal
        _expectActorRevert(
            stranger,
            abi.encodeCall(InferenceRegistry.acceptOwnership, ()),
            abi.encodeWithSelector(InferenceRegistry.NotPendingOwner.selector, address(stranger))
        );
        registry.transferOwnership(address(0)); // cancels
        _expectActorRevert(
            next,
            abi.encodeCall(InferenceRegistry.acceptOwnership, ()),
            abi.encodeWithSelector(InferenceRegistry.NotPendingOwner.selector, address(next))
        );
        require(registry.owner() == address(this) && registry.pendingOwner() == address(0), "");
    }

    // ---- versions --------------------------------------------------------------------------

    function test_VersionRecordsWhatItIs() public {
        InferenceRegistry.VersionSpec memory spec = _labelled(binary, "malignant", "benign");
        VM.recordLogs();
        require(registry.addVersion(spec, _none()) == 1, "first version is 1");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == VERSION_ADDED, "event");
        require(uint256(logs[0].topics[1]) == 1, "event version");
        require(address(uint160(uint256(logs[0].topics[2]))) == address(verifier), "event verifier");
        require(
            keccak256(logs[0].data)
                == keccak256(
                    abi.encode(
                        keccak256("vk"), keccak256("model"), address(0), block.timestamp,
                        address(verifier).codehash
                    )
                ),
            "event data: digests, no VKA, activation time (no delay here), code hash"
        );
        InferenceRegistry.Version memory info = registry.versionInfo(1);
        require(info.verifier == address(verifier) && info.vka == address(0), "verifier");
        require(info.active && info.commitmentsInProof, "status, scheme");
        require(info.subjects == 1 && info.outputsPerSubject == 2, "layout");
        require(info.instanceCount == 2 && info.resultCount == 0, "counts");
        require(info.vkHash == keccak256("vk") && info.modelDigest == keccak256("model"), "digests");
        require(info.addedBlock == block.number && info.retiredBlock == 0, "blocks");
        require(info.activatesAt == block.timestamp, "activation time");
        require(info.verifierCodeHash == address(verifier).codehash, "verifier code hash");
        require(info.weightsCommitment.length == 0, "weights");
        require(_sameUints(info.outputLengths, _list(2)), "lengths");
        require(_sameUints(info.outputScales, _list(13)), "scales");
        require(info.labels.length == 2, "labels");
        require(keccak256(bytes(info.labels[0])) == keccak256("malignant"), "label 0");
        require(keccak256(bytes(info.labels[1])) == keccak256("benign"), "label 1");

        // a second version of another shape: its own number and record, the first unchanged
        require(_add(batch) == 2 && registry.versionCount() == 2, "second version is 2");
        info = registry.versionInfo(2);
        require(!info.commitmentsInProof && info.subjects == 4, "v2 layout");
        require(info.instanceCount == 4 + 1 + 4 * 3 && info.outputsPerSubject == 3, "v2 counts");
        require(_sameUints(info.weightsCommitment, batch.weights), "v2 weights");
        require(info.labels.length == 0, "v2 labels");
        require(registry.versionInfo(1).labels.length == 2, "v1 changed");
    }

    function _sameUints(uint256[] memory a, uint256[] memory b) internal pure returns (bool) {
        return keccak256(abi.encode(a)) == keccak256(abi.encode(b));
    }

    function test_ResultsKeyedByVersionAndCommitment() public {
        _add(binary);
        _add(binary);
        // the same subject (same point) in both versions, other outputs in each
        bytes memory proof = _proof(binary, 1, 1);
        uint256[] memory first = _instances(binary, 1);
        uint256[] memory second = _instances(binary, 2);
        uint256 key = _key(binary, 1, 0);
        VM.recordLogs();
        require(registry.submit(1, proof, first) == 1, "v1");
        require(registry.submit(2, proof, second) == 1, "v2: the same commitment, another model");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 2, "events");
        for (uint256 v = 1; v <= 2; v++) {
            Vm.Log memory log = logs[v - 1];
            require(log.topics[0] == INFERENCE_VERIFIED && log.topics.length == 4, "event");
            require(uint256(log.topics[1]) == v, "event version");
            require(uint256(log.topics[2]) == 1, "ids start at 1 in each version");
            require(uint256(log.topics[3]) == key, "event commitment");
            require(registry.resultIdOf(v, key) == 1 && registry.resultCount(v) == 1, "ids");
            require(registry.resultBlockOf(v, key) == block.number, "block");
        }
        require(_equal(registry.resultOf(1, key), _expected(binary, 1, 0)), "v1's outputs");
        require(_equal(registry.resultOf(2, key), _expected(binary, 2, 0)), "v2's outputs");
        // each version refuses its own replay only
        _expectSubmitRevert(
            registry, 1, proof, second,
            abi.encodeWithSelector(InferenceRegistry.AlreadyRecorded.selector, 1, key, 1)
        );
        require(!registry.hasResult(1, _key(binary, 3, 0)), "unrecorded");
        _expectRevert(
            address(registry),
            abi.encodeCall(InferenceRegistry.resultOf, (2, _key(binary, 3, 0))),
            abi.encodeWithSelector(InferenceRegistry.NoResult.selector, 2, _key(binary, 3, 0))
        );
    }

    function _expectSubmitRevert(
        InferenceRegistry target,
        uint256 version,
        bytes memory proof,
        uint256[] memory instances,
        bytes memory expected
    ) internal {
        bytes memory data = abi.encodeCall(InferenceRegistry.submit, (version, proof, instances));
        _expectRevert(address(target), data, expected);
    }

    /// A version is read as the verifier it pins: another version's proof does not fit it.
    function test_EachVersionUsesItsOwnVerifierAndLayout() public {
        MockVerifier other = new MockVerifier();
        _add(binary);
        registry.addVersion(_spec(batch, address(other)), _none());
        other.setMode(MockVerifier.Mode.Reject);
        require(_submit(1, binary, 1) == 1, "v1 verified by its verifier");
        _expectRevert(
            address(registry), _submitCall(2, batch, 1),
            abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector)
        );
        _expectRevert(
            address(registry), _submitCall(2, binary, 2),
            abi.encodeWithSelector(InferenceRegistry.WrongInstanceCount.selector, 17, 2)
        );
        other.setMode(MockVerifier.Mode.Accept);
        require(_submit(2, batch, 1) == 4, "v2");
    }

    function test_RevertWhen_NoSuchVersion() public {
        _add(binary);
        uint256[3] memory missing = [uint256(0), 2, type(uint256).max];
        for (uint256 i = 0; i < missing.length; i++) {
            bytes memory none = _err(InferenceRegistry.NoSuchVersion.selector, missing[i]);
            _expectRevert(address(registry), _submitCall(missing[i], binary, 1), none);
            _expectRevert(address(registry), _retireCall(missing[i]), none);
            _expectRevert(
                address(registry), abi.encodeCall(InferenceRegistry.versionInfo, (missing[i])), none
            );
            _expectRevert(
                address(registry), abi.encodeCall(InferenceRegistry.resultOf, (missing[i], 1)), none
            );
            _expectRevert(
                address(registry), abi.encodeCall(InferenceRegistry.hasResult, (missing[i], 1)), none
            );
            _expectRevert(
                address(registry),
                abi.encodeCall(InferenceRegistry.predictionOf, (missing[i], 1)),
                none
            );
            _expectRevert(
                address(registry), abi.encodeCall(InferenceRegistry.isActive, (missing[i])), none
            );
        }
    }

    // ---- retirement ------------------------------------------------------------------------

    function test_RetiredVersionRecordsNothingAndKeepsItsResults() public {
        _add(binary);
        _add(binary);
        _submit(1, binary, 1);
        uint256 key = _key(binary, 1, 0);
        VM.recordLogs();
        registry.retireVersion(1);
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == VERSION_RETIRED, "event");
        require(uint256(logs[0].topics[1]) == 1, "event version");
        InferenceRegistry.Version memory info = registry.versionInfo(1);
        require(!info.active && !registry.isActive(1), "still active");
        require(info.retiredBlock == block.number && info.resultCount == 1, "record");
        // refused before anything else is looked at: a new subject, a replay, nonsense
        bytes memory retired = _err(InferenceRegistry.VersionIsRetired.selector, 1);
        _expectRevert(address(registry), _submitCall(1, binary, 2), retired);
        _expectRevert(address(registry), _submitCall(1, binary, 1), retired);
        _expectRevert(
            address(registry),
            abi.encodeCall(InferenceRegistry.submit, (1, new bytes(0), new uint256[](0))),
            retired
        );
        // its result stays, exactly
        require(_equal(registry.resultOf(1, key), _expected(binary, 1, 0)), "result lost");
        require(registry.hasResult(1, key) && registry.resultIdOf(1, key) == 1, "result lost");
        require(registry.predictionOf(1, key) < 2, "prediction lost");
        // the other version goes on
        require(_submit(2, binary, 2) == 1, "v2 refused");
        // retiring is final: twice is refused
        _expectRevert(address(registry), _retireCall(1), retired);
    }

    function test_RetiredVersionRefusesRelayedSubmits() public {
        _add(binary);
        registry.retireVersion(1);
        Relay relay = new Relay();
        (bool ok, bytes memory reason) = address(relay).call(
            abi.encodeCall(
                Relay.submit, (registry, 1, _proof(binary, 1, 1), _instances(binary, 1))
            )
        );
        require(!ok, "recorded");
        require(
            keccak256(reason) == keccak256(_err(InferenceRegistry.VersionIsRetired.selector, 1)),
            "another reason"
        );
    }

    function test_LatestActiveVersion() public {
        require(registry.latestActiveVersion() == 0, "none yet");
        _add(binary);
        _add(binary);
        _add(binary);
        require(registry.latestActiveVersion() == 3, "newest");
        registry.retireVersion(3);
        require(registry.latestActiveVersion() == 2, "newest active");
        registry.retireVersion(1);
        require(registry.latestActiveVersion() == 2, "older retirements do not matter");
        registry.retireVersion(2);
        require(registry.latestActiveVersion() == 0, "all retired");
    }

    /// currentResultOf: the newest active version holding a result for the commitment.
    function test_CurrentResultOf() public {
        _add(binary);
        _add(binary);
        _add(binary);
        uint256 key = _key(binary, 1, 0);
        bytes memory none = abi.encodeWithSelector(InferenceRegistry.NoResult.selector, 0, key);
        _expectRevert(address(registry), abi.encodeCall(InferenceRegistry.currentResultOf, (key)), none);
        bytes memory proof = _proof(binary, 1, 1);
        registry.submit(1, proof, _instances(binary, 1));
        (uint256 version, int256[] memory outputs) = registry.currentResultOf(key);
        require(version == 1 && _equal(outputs, _expected(binary, 1, 0)), "v1's");
        registry.submit(2, proof, _instances(binary, 2));
        (version, outputs) = registry.currentResultOf(key);
        require(version == 2 && _equal(outputs, _expected(binary, 2, 0)), "v2's: newer");
        // v3 holds none for this subject: v2's is still current
        _submit(3, binary, 5);
        (version,) = registry.currentResultOf(key);
        require(version == 2, "a version without a result for it");
        registry.retireVersion(2);
        (version, outputs) = registry.currentResultOf(key);
        require(version == 1 && _equal(outputs, _expected(binary, 1, 0)), "v2 retired: v1's");
        registry.retireVersion(1);
        _expectRevert(address(registry), abi.encodeCall(InferenceRegistry.currentResultOf, (key)), none);
        require(registry.hasResult(1, key) && registry.hasResult(2, key), "results kept");
    }

    /// Nobody changes a result, the owner included: the owner's powers are versions only.
    function test_OwnerCannotChangeAResult() public {
        _add(binary);
        _submit(1, binary, 1);
        uint256 key = _key(binary, 1, 0);
        int256[] memory outputs = registry.resultOf(1, key);
        // the owner submits the same subject with other outputs: refused, as anyone's would be
        bytes memory proof = _proof(binary, 1, 7);
        _expectSubmitRevert(
            registry, 1, proof, _instances(binary, 7),
            abi.encodeWithSelector(InferenceRegistry.AlreadyRecorded.selector, 1, key, 1)
        );
        // a new version with another verifier records its own, under its own number
        MockVerifier lenient = new MockVerifier();
        registry.addVersion(_spec(binary, address(lenient)), _none());
        registry.submit(2, proof, _instances(binary, 7));
        registry.retireVersion(1);
        registry.transferOwnership(address(next));
        _act(next, abi.encodeCall(InferenceRegistry.acceptOwnership, ()));
        require(_equal(registry.resultOf(1, key), outputs), "v1's result changed");
        require(registry.resultIdOf(1, key) == 1, "v1's id changed");
        // and nothing of version 1 changed but its status
        InferenceRegistry.Version memory info = registry.versionInfo(1);
        require(info.verifier == address(verifier) && info.resultCount == 1, "v1 changed");
    }

    // ---- what submit reads of a version ------------------------------------------------------

    /// One storage slot of its version (the packed Config), besides the subjects' own: a
    /// single-output model with public weights and its own verifier.
    function test_SubmitReadsOneSlotOfItsVersion() public {
        _add(binary);
        _add(binary);
        bytes memory proof = _proof(binary, 1, 1);
        uint256[] memory instances = _instances(binary, 1);
        VM.record();
        registry.submit(2, proof, instances);
        (bytes32[] memory reads, bytes32[] memory writes) = VM.accesses(address(registry));
        bytes32 config = _configSlot(2);
        bytes32 result = _resultSlot(2, _key(binary, 1, 0), 0);
        for (uint256 i = 0; i < reads.length; i++) {
            require(reads[i] == config || reads[i] == result, "read another slot");
        }
        require(writes.length == 2, "writes: the result, the counter");
        require(writes[0] == result && writes[1] == config, "written slots");
    }

    // ---- shared verifiers ----------------------------------------------------------------

    function test_SharedVerifierVersion() public {
        bytes32[] memory vka = _vka(1, 128);
        VM.recordLogs();
        uint256 version = _addShared(binary, vka);
        Vm.Log[] memory logs = VM.getRecordedLogs();
        InferenceRegistry.Version memory info = registry.versionInfo(version);
        // the VKA lives as a data contract's code: STOP, then its words; registered once
        require(info.verifier == address(shared) && info.vka != address(0), "shared");
        require(
            keccak256(info.vka.code) == keccak256(abi.encodePacked(bytes1(0), vka)), "vka code"
        );
        require(shared.registered(keccak256(abi.encodePacked(vka))), "not registered");
        require(shared.registrations() == 1, "registrations");
        require(logs[logs.length - 1].topics[0] == VERSION_ADDED, "event");
        require(
            keccak256(logs[logs.length - 1].data)
                == keccak256(
                    abi.encode(
                        keccak256("vk"), keccak256("model"), info.vka, block.timestamp,
                        address(shared).codehash
                    )
                ),
            "event data names the VKA"
        );
        require(info.verifierCodeHash == address(shared).codehash, "the shared verifier's code");
        // every submit passes exactly that VKA
        require(_submit(version, binary, 1) == 1, "recorded");
        require(shared.lastDigest() == keccak256(abi.encodePacked(vka)), "VKA passed");
        _requireResult(registry, version, _key(binary, 1, 0), _expected(binary, 1, 0));
        // an invalid proof: the verifier reverts, or answers false
        shared.setMode(MockReusableVerifier.Mode.Revert);
        bytes memory rejected = abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector);
        _expectRevert(address(registry), _submitCall(version, binary, 2), rejected);
        shared.setMode(MockReusableVerifier.Mode.ReturnFalse);
        _expectRevert(address(registry), _submitCall(version, binary, 2), rejected);
        require(!registry.hasResult(version, _key(binary, 2, 0)), "recorded a rejected proof");
    }

    function _requireResult(
        InferenceRegistry target,
        uint256 version,
        uint256 commitment,
        int256[] memory outputs
    ) internal view {
        require(target.hasResult(version, commitment), "no result recorded");
        require(_equal(target.resultOf(version, commitment), outputs), "recorded outputs differ");
    }

    /// A shared version's proofs must have the version's length (ezkl's reusable verifier does
    /// not check it): any other is rejected before the verifier is called.
    function test_SharedVersionChecksTheProofLength() public {
        uint256 version = _addShared(binary, _vka(1, 128));
        require(registry.versionInfo(version).proofBytes == PROOF_BYTES, "proofBytes");
        uint256[] memory instances = _instances(binary, 1);
        bytes memory good = _proof(binary, 1, 1);
        bytes memory rejected = abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector);
        uint256 before = shared.verified();
        bytes[3] memory odd = [bytes.concat(good, new bytes(32)), bytes.concat(good, hex"00"),
            _proof(binary, 1, 1)];
        assembly {
            let third := mload(add(odd, 0x40))
            mstore(third, sub(mload(third), 32)) // the proof cut by a word
        }
        for (uint256 i = 0; i < odd.length; i++) {
            _expectRevert(
                address(registry),
                abi.encodeCall(InferenceRegistry.submit, (version, odd[i], instances)),
                rejected
            );
        }
        require(shared.verified() == before, "the verifier was asked");
        require(registry.submit(version, good, instances) == 1, "the right length refused");
    }

    /// One shared verifier, several versions, each with its own VKA, beside an own verifier.
    function test_SharedVerifierServesSeveralVersions() public {
        bytes32[] memory vka1 = _vka(1, 128);
        bytes32[] memory vka2 = _vka(2, 182);
        require(_addShared(binary, vka1) == 1, "v1");
        require(_add(binary) == 2, "v2: its own verifier");
        require(_addShared(batch, vka2) == 3, "v3");
        require(shared.registrations() == 2, "one registration per version");
        _submit(1, binary, 1);
        require(shared.lastDigest() == keccak256(abi.encodePacked(vka1)), "v1's VKA");
        _submit(3, batch, 1);
        require(shared.lastDigest() == keccak256(abi.encodePacked(vka2)), "v3's VKA");
        uint256 before = shared.verified();
        _submit(2, binary, 2);
        require(shared.verified() == before, "v2 went to the shared verifier");
        require(registry.versionInfo(2).vka == address(0), "v2 has a VKA");
        // retiring one shared version leaves the other
        registry.retireVersion(1);
        _expectRevert(
            address(registry), _submitCall(1, binary, 3),
            _err(InferenceRegistry.VersionIsRetired.selector, 1)
        );
        require(_submit(3, batch, 2) == 4, "v3 refused");
    }

    function test_RevertWhen_VkaTooLarge() public {
        _expectRevert(
            address(registry),
            abi.encodeCall(
                InferenceRegistry.addVersion, (_spec(binary, address(shared)), _vka(1, 768))
            ),
            _err(InferenceRegistry.VkaTooLarge.selector, 768)
        );
        require(registry.versionCount() == 0, "counted");
        require(_addShared(binary, _vka(1, 767)) == 1, "the largest VKA that fits");
        require(registry.versionInfo(1).vka.code.length == 767 * 32 + 1, "data contract size");
    }
}
