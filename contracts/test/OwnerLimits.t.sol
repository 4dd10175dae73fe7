// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {AcceptingVerifier, Actor, MockVerifier} from "./MockVerifier.sol";
import {RegistryTestBase, Vm} from "./RegistryTestBase.sol";

/// The registry owner's powers, exactly as the README's threat model lists them: each claim
/// there names its test here (test_OwnerCan_* and test_OwnerCannot_*; the two-step transfer is
/// RegistryVersions.t.sol's test_OwnershipMovesInTwoSteps, a real proof refused to the owner
/// RealProofs.t.sol's test_OwnerCannotRecordAResultWithoutAValidProof). The registry here has a
/// 2-day activation delay. Its version 1 verifies honestly (a mock that accepts the genuine
/// proofs of setUp, then is told to reject); subject S has v1's result there.
contract OwnerLimitsTest is RegistryTestBase {
    uint256 internal constant DELAY = 2 days;
    uint256 internal constant S_SEED = 1; // subject S: _key(binary, S_SEED, 0)
    uint256 internal constant CHOSEN_SEED = 99; // other outputs, of the owner's choosing

    InferenceRegistry internal registry;
    MockVerifier internal honest;
    AcceptingVerifier internal lenient; // accepts anything: what a dishonest owner would add
    Actor internal next;
    Shape internal binary;
    uint256 internal s; // subject S's key
    int256[] internal sResult; // what v1 recorded for S

    bytes32 internal constant VERSION_ADDED = InferenceRegistry.VersionAdded.selector;

    function setUp() public {
        VM.warp(1_700_000_000);
        registry = new InferenceRegistry(DELAY);
        honest = new MockVerifier();
        lenient = new AcceptingVerifier();
        next = new Actor();
        binary = _kzg(_shape(1, 0, _list(2), _list(13)));
        s = _key(binary, S_SEED, 0);
        require(_add(address(honest)) == 1, "v1");
        VM.warp(block.timestamp + DELAY); // v1 counts from now on
        require(_submit(1, S_SEED) == 1, "S in v1");
        sResult = _expected(binary, S_SEED, 0);
    }

    // ---- helpers ----------------------------------------------------------------------------

    function _add(address verifier) internal returns (uint256) {
        return registry.addVersion(_spec(binary, verifier), new bytes32[](0));
    }

    /// Subject S's proof (its point) with the outputs of batch `outputsSeed`.
    function _submit(uint256 version, uint256 outputsSeed) internal returns (uint256) {
        return registry.submit(
            version, _proof(binary, S_SEED, outputsSeed), _instances(binary, outputsSeed)
        );
    }

    function _submitCall(uint256 version, uint256 subjectSeed)
        internal
        view
        returns (bytes memory)
    {
        return abi.encodeCall(
            InferenceRegistry.submit,
            (version, _proof(binary, subjectSeed, subjectSeed), _instances(binary, subjectSeed))
        );
    }

    function _current() internal view returns (uint256 version, int256[] memory outputs) {
        return registry.currentResultOf(s);
    }

    function _requireCurrent(uint256 version, int256[] memory outputs, string memory why)
        internal
        view
    {
        (uint256 v, int256[] memory o) = _current();
        require(v == version && _equal(o, outputs), why);
    }

    function _requireNoCurrent(uint256 key) internal {
        _expectRevert(
            address(registry),
            abi.encodeCall(InferenceRegistry.currentResultOf, (key)),
            abi.encodeWithSelector(InferenceRegistry.NoResult.selector, 0, key)
        );
    }

    function _accept() internal {
        (bool ok,) =
            next.act(address(registry), abi.encodeCall(InferenceRegistry.acceptOwnership, ()));
        require(ok, "acceptOwnership");
    }

    /// Everything versionInfo says that the owner could want to change: all but the status
    /// (active, retiredBlock) and the result count.
    function _fixedPart(uint256 version) internal view returns (bytes32) {
        InferenceRegistry.Version memory info = registry.versionInfo(version);
        info.active = false;
        info.retiredBlock = 0;
        info.resultCount = 0;
        return keccak256(abi.encode(info));
    }

    // ---- what the owner can do --------------------------------------------------------------

    /// A new version records at once, but counts for currentResultOf and latestActiveVersion
    /// only from its activation time, `activationDelaySeconds` after it was added, announced in
    /// VersionAdded and versionInfo.
    function test_OwnerCan_AddAVersion_CountingOnlyFromItsActivationTime() public {
        uint256 activatesAt = block.timestamp + DELAY;
        MockVerifier retrained = new MockVerifier();
        VM.recordLogs();
        require(_add(address(retrained)) == 2, "v2");
        Vm.Log[] memory logs = VM.getRecordedLogs();
        require(logs.length == 1 && logs[0].topics[0] == VERSION_ADDED, "event");
        (,,, uint256 announced, bytes32 codeHash) =
            abi.decode(logs[0].data, (bytes32, bytes32, address, uint256, bytes32));
        require(announced == activatesAt, "the event announces the activation time");
        require(codeHash == address(retrained).codehash, "and the verifier's code hash");
        InferenceRegistry.Version memory info = registry.versionInfo(2);
        require(info.activatesAt == activatesAt && !info.active, "versionInfo: pending");
        require(!registry.isActive(2) && registry.latestActiveVersion() == 1, "pending");
        // it records already (resultOf reads it) ...
        require(_submit(2, 2) == 1, "a pending version records");
        require(_equal(registry.resultOf(2, s), _expected(binary, 2, 0)), "resultOf");
        // ... but v1's result stays current until the activation time
        VM.warp(activatesAt - 1);
        _requireCurrent(1, sResult, "v2 counted before its activation time");
        require(registry.latestActiveVersion() == 1, "latest before activation");
        VM.warp(activatesAt);
        _requireCurrent(2, _expected(binary, 2, 0), "v2 does not count at its activation time");
        require(registry.latestActiveVersion() == 2 && registry.isActive(2), "v2 active");
    }

    /// Retiring takes effect in the same block, for a pending version too: a brake.
    function test_OwnerCan_RetireAVersionAtOnce() public {
        _add(address(honest)); // v2, pending
        VM.recordLogs();
        registry.retireVersion(1);
        registry.retireVersion(2);
        require(VM.getRecordedLogs().length == 2, "two VersionRetired events");
        InferenceRegistry.Version memory info = registry.versionInfo(1);
        require(!info.active && info.retiredBlock == block.number, "v1 retired in this block");
        require(!registry.isActive(1) && registry.latestActiveVersion() == 0, "nothing active");
        _requireNoCurrent(s);
        bytes memory retired =
            abi.encodeWithSelector(InferenceRegistry.VersionIsRetired.selector, 1);
        _expectRevert(address(registry), _submitCall(1, 2), retired);
        _expectRevert(
            address(registry),
            _submitCall(2, 2),
            abi.encodeWithSelector(InferenceRegistry.VersionIsRetired.selector, 2)
        );
        VM.warp(block.timestamp + DELAY); // a retired pending version never counts
        require(registry.latestActiveVersion() == 0 && !registry.isActive(2), "v2 counted");
        require(_equal(registry.resultOf(1, s), sResult), "retired results stay readable");
    }

    /// Retirement can only make currentResultOf fall back to what an older active version
    /// recorded itself (through its own verifier), or to no result: never to new outputs.
    function test_OwnerCan_RetireOnlyToFallBackToAnOlderVersionsOwnResult() public {
        _add(address(honest)); // v2
        _add(address(honest)); // v3
        VM.warp(block.timestamp + DELAY);
        _submit(2, 2);
        _submit(3, 3);
        _requireCurrent(3, _expected(binary, 3, 0), "v3's");
        registry.retireVersion(3);
        _requireCurrent(2, registry.resultOf(2, s), "after v3: exactly v2's own result");
        registry.retireVersion(2);
        _requireCurrent(1, sResult, "after v2: exactly v1's own result");
        registry.retireVersion(1);
        _requireNoCurrent(s);
    }

    // ---- what the owner cannot do -----------------------------------------------------------

    /// The adversarial pass's attack: the owner adds a version whose verifier accepts anything
    /// and records the victim's public commitment with outputs of its choosing. Until that
    /// version's activation time (public from its VersionAdded event on) the victim's current
    /// result is v1's; an app pinned to v1 never sees the chosen outputs.
    function test_OwnerCannot_TakeOverACurrentResultWithoutNotice() public {
        uint256 added = block.timestamp;
        VM.recordLogs();
        uint256 rogue = _add(address(lenient));
        Vm.Log[] memory logs = VM.getRecordedLogs();
        (,,, uint256 announced, bytes32 codeHash) =
            abi.decode(logs[0].data, (bytes32, bytes32, address, uint256, bytes32));
        require(announced == added + DELAY, "announced");
        require(
            codeHash == address(lenient).codehash && codeHash != address(honest).codehash,
            "the rogue verifier's code hash is public"
        );
        _submit(rogue, CHOSEN_SEED);
        require(_equal(registry.resultOf(rogue, s), _expected(binary, CHOSEN_SEED, 0)), "rogue");
        for (uint256 t = added; t < added + DELAY; t += DELAY / 4) {
            VM.warp(t);
            _requireCurrent(1, sResult, "taken over during the delay");
        }
        VM.warp(added + DELAY - 1);
        _requireCurrent(1, sResult, "taken over a second early");
        VM.warp(added + DELAY); // what the delay announced; an app pinned to v1 is unaffected
        (uint256 version,) = _current();
        require(version == rogue && _equal(registry.resultOf(1, s), sResult), "after the delay");
    }

    /// Nothing the owner does makes a pending version count early: not recording in it,
    /// retiring every other version, adding more, nor handing ownership over.
    function test_OwnerCannot_MakeAVersionCountBeforeItsActivationTime() public {
        uint256 activatesAt = block.timestamp + DELAY;
        uint256 pending = _add(address(lenient));
        _submit(pending, CHOSEN_SEED);
        VM.warp(activatesAt - 1);
        registry.retireVersion(1);
        _add(address(lenient));
        registry.transferOwnership(address(next));
        _accept();
        (bool ok,) = next.act(
            address(registry),
            abi.encodeCall(
                InferenceRegistry.addVersion, (_spec(binary, address(lenient)), new bytes32[](0))
            )
        );
        require(ok && registry.versionCount() == 4, "the new owner adds v4");
        require(!registry.isActive(pending) && registry.latestActiveVersion() == 0, "counted");
        require(registry.versionInfo(pending).activatesAt == activatesAt, "moved");
        _requireNoCurrent(s); // v1 retired, v2 not yet active
        VM.warp(activatesAt);
        require(registry.isActive(pending) && registry.latestActiveVersion() == pending, "late");
    }

    /// The first version of a registry waits too: every version is public for the delay.
    function test_OwnerCannot_SkipTheDelayForAFirstVersion() public {
        InferenceRegistry fresh = new InferenceRegistry(DELAY);
        fresh.addVersion(_spec(binary, address(lenient)), new bytes32[](0));
        fresh.submit(1, _proof(binary, S_SEED, CHOSEN_SEED), _instances(binary, CHOSEN_SEED));
        require(fresh.latestActiveVersion() == 0 && !fresh.isActive(1), "v1 counted at once");
        _expectRevert(
            address(fresh),
            abi.encodeCall(InferenceRegistry.currentResultOf, (s)),
            abi.encodeWithSelector(InferenceRegistry.NoResult.selector, 0, s)
        );
        VM.warp(block.timestamp + DELAY);
        require(fresh.latestActiveVersion() == 1, "v1 after the delay");
    }

    /// The delay is an immutable, set by the constructor (at most a year): no owner action
    /// changes it, and each new version activates exactly that long after it was added.
    function test_OwnerCannot_ChangeTheActivationDelay() public {
        require(registry.activationDelaySeconds() == DELAY, "delay");
        registry.retireVersion(1);
        registry.transferOwnership(address(next));
        _accept();
        for (uint256 i = 0; i < 3; i++) {
            VM.warp(block.timestamp + 1 hours);
            (bool ok, bytes memory answer) = next.act(
                address(registry),
                abi.encodeCall(
                    InferenceRegistry.addVersion, (_spec(binary, address(honest)), new bytes32[](0))
                )
            );
            require(ok, "addVersion");
            uint256 version = abi.decode(answer, (uint256));
            require(registry.versionInfo(version).activatesAt == block.timestamp + DELAY, "at");
            require(registry.activationDelaySeconds() == DELAY, "delay changed");
        }
        bytes memory tooLong =
            abi.encodeWithSelector(InferenceRegistry.ActivationDelayTooLong.selector, 365 days + 1);
        try new InferenceRegistry(365 days + 1) {
            revert("a delay over a year accepted");
        } catch (bytes memory reason) {
            require(keccak256(reason) == keccak256(tooLong), "another reason");
        }
        require(new InferenceRegistry(365 days).activationDelaySeconds() == 365 days, "a year");
    }

    /// A result is never changed or deleted, whatever the owner does: its storage word, outputs,
    /// id and block stay, in a retired version too.
    function test_OwnerCannot_ChangeOrDeleteAResult() public {
        bytes32 word = VM.load(address(registry), _resultSlot(1, s, 0));
        uint256 id = registry.resultIdOf(1, s);
        uint256 recordedIn = registry.resultBlockOf(1, s);
        // the owner's own submit of S with other outputs: refused like anyone's
        _expectRevert(
            address(registry),
            abi.encodeCall(
                InferenceRegistry.submit,
                (1, _proof(binary, S_SEED, CHOSEN_SEED), _instances(binary, CHOSEN_SEED))
            ),
            abi.encodeWithSelector(InferenceRegistry.AlreadyRecorded.selector, 1, s, id)
        );
        uint256 rogue = _add(address(lenient));
        _submit(rogue, CHOSEN_SEED);
        VM.warp(block.timestamp + DELAY);
        registry.retireVersion(1);
        registry.retireVersion(rogue);
        registry.transferOwnership(address(next));
        _accept();
        require(VM.load(address(registry), _resultSlot(1, s, 0)) == word, "storage changed");
        require(_equal(registry.resultOf(1, s), sResult), "outputs changed");
        require(registry.resultIdOf(1, s) == id && registry.resultBlockOf(1, s) == recordedIn, "");
        require(registry.hasResult(1, s) && registry.resultCount(1) == 1, "deleted");
    }

    /// Nothing about a version changes after addVersion but its status and result count: not by
    /// adding others, recording, retiring, or a new owner.
    function test_OwnerCannot_ChangeAVersionAfterAddingIt() public {
        bytes32 v1 = _fixedPart(1);
        _add(address(lenient));
        bytes32 v2 = _fixedPart(2);
        _submit(2, CHOSEN_SEED);
        VM.warp(block.timestamp + DELAY);
        registry.retireVersion(1);
        registry.transferOwnership(address(next));
        _accept();
        (bool ok,) =
            next.act(address(registry), abi.encodeCall(InferenceRegistry.retireVersion, (2)));
        require(ok, "the new owner retires v2");
        require(_fixedPart(1) == v1 && _fixedPart(2) == v2, "a version changed");
    }

    /// The recorded code hash is the verifier's at addVersion, kept when the code at that address
    /// changes (here by the test's etch; on a chain, only a verifier created and destroyed in the
    /// addVersion transaction could be redeployed): a reader compares it with EXTCODEHASH.
    function test_OwnerCannot_ChangeAVerifiersCodeUnseen() public {
        bytes32 recorded = registry.versionInfo(1).verifierCodeHash;
        require(recorded == address(honest).codehash, "recorded at addVersion");
        VM.etch(address(honest), address(lenient).code);
        require(registry.versionInfo(1).verifierCodeHash == recorded, "the record followed");
        require(address(honest).codehash != recorded, "the change shows");
    }

    /// Retired is final: retiring again is refused, and the same model added again is a new
    /// version with its own number and activation time; the retired one stays retired.
    function test_OwnerCannot_BringBackARetiredVersion() public {
        registry.retireVersion(1);
        bytes memory retired =
            abi.encodeWithSelector(InferenceRegistry.VersionIsRetired.selector, 1);
        _expectRevert(
            address(registry), abi.encodeCall(InferenceRegistry.retireVersion, (1)), retired
        );
        require(_add(address(honest)) == 2, "a new number");
        require(registry.versionInfo(2).activatesAt == block.timestamp + DELAY, "its own delay");
        VM.warp(block.timestamp + DELAY);
        require(!registry.isActive(1) && registry.versionInfo(1).retiredBlock != 0, "v1 back");
        _expectRevert(address(registry), _submitCall(1, 5), retired);
        _requireNoCurrent(s); // v2 holds nothing for S; v1's result does not count again
    }

    /// The owner's submit is anyone's: a version whose verifier rejects the proof records
    /// nothing, pending or active.
    function test_OwnerCannot_RecordAResultWithoutTheVerifiersAcceptance() public {
        uint256 pending = _add(address(honest));
        honest.setMode(MockVerifier.Mode.Reject);
        bytes memory rejected = abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector);
        _expectRevert(address(registry), _submitCall(1, 5), rejected);
        _expectRevert(address(registry), _submitCall(pending, 5), rejected);
        require(!registry.hasResult(1, _key(binary, 5, 0)), "recorded in v1");
        require(!registry.hasResult(pending, _key(binary, 5, 0)), "recorded in v2");
        require(registry.resultCount(1) == 1 && registry.resultCount(pending) == 0, "counts");
    }
}
