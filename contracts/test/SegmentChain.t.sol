// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {SegmentChain} from "../../zkml/contracts/SegmentChain.sol";
import {SegmentFixtures as F} from "./fixtures/SegmentFixtures.sol";
import {SegmentVerifier0} from "./fixtures/SegmentVerifier0.sol";
import {SegmentVerifier1} from "./fixtures/SegmentVerifier1.sol";
import {RegistryTestBase} from "./RegistryTestBase.sol";

/// A "verifier" that accepts anything.
contract AcceptAll {
    function verifyProof(bytes calldata, uint256[] calldata) external pure returns (bool) {
        return true;
    }
}

/// A model proved in two segments (zkml.segments), on real ezkl proofs and verifiers
/// (contracts/test/fixtures/, made by scripts/forge-fixtures): the SegmentChain contract behind
/// an unchanged InferenceRegistry version. Chains SA and SB are two subjects' proofs: each the
/// segments' proofs concatenated, segment 0 (whose first points are the subject's commitment)
/// first. A reordered, swapped, dropped or replayed segment, or a broken link, is refused both
/// by the chain and by the registry (ProofRejected). The chain's code pins its segment verifiers
/// (addresses and code hashes) and link layout, so the code hash a version records names them;
/// a segment verifier whose code changed, or storage that is not what the code pins, is refused.
///
/// Gas: test_Gas_SegmentedSubmit (`forge test -vvvv --match-test test_Gas_Segmented` shows the
/// Gas events); the figures are in docs/segments.md.
contract SegmentChainTest is RegistryTestBase {
    SegmentChain internal chain;
    InferenceRegistry internal registry;
    address[] internal verifiers;

    event Gas(string what, uint256 gas);

    function setUp() public {
        verifiers.push(address(new SegmentVerifier0()));
        verifiers.push(address(new SegmentVerifier1()));
        chain = new SegmentChain(verifiers, F.proofBytes(), F.linkOffsets(), F.linkPoints());
        registry = new InferenceRegistry(0);
        require(registry.addVersion(F.spec(address(chain)), new bytes32[](0)) == V, "version");
    }

    /// Segment i of a chain's proof.
    function _segment(bytes memory proof, uint256 i) internal pure returns (bytes memory part) {
        uint256 start = i == 0 ? 0 : F.SEGMENT_0_PROOF_BYTES;
        uint256 size = i == 0 ? F.SEGMENT_0_PROOF_BYTES : F.SEGMENT_1_PROOF_BYTES;
        part = new bytes(size);
        for (uint256 k = 0; k < size; k++) part[k] = proof[start + k];
    }

    function _refused(bytes memory proof, uint256[] memory instances) internal {
        require(!chain.verifyProof(proof, instances), "the chain accepted it");
        _expectSubmitRevert(registry, proof, instances,
            abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector));
    }

    function test_ValidChainsVerifyAndRecordUnderTheSubject() public {
        require(chain.verifyProof(F.proofSA(), F.instancesSA()), "SA refused");
        require(chain.verifyProof(F.proofSB(), F.instancesSB()), "SB refused");
        require(registry.submit(V, F.proofSA(), F.instancesSA()) == 1, "SA not recorded");
        require(registry.submit(V, F.proofSB(), F.instancesSB()) == 1, "SB not recorded");
        int256[] memory stored = registry.resultOf(V, F.SUBJECT_SA_COMMITMENT);
        int256[] memory expected = F.outputsSA();
        require(keccak256(abi.encode(stored)) == keccak256(abi.encode(expected)), "SA outputs");
        require(registry.hasResult(V, F.SUBJECT_SB_COMMITMENT), "SB not under its commitment");
        (address[] memory used,,,) = chain.segments();
        require(used.length == 2 && used[0] == verifiers[0], "segments");
        require(chain.proofBytes() == F.PROOF_BYTES, "length");
    }

    function test_ARecordedChainSubmittedAgainIsAlreadyRecorded() public {
        registry.submit(V, F.proofSA(), F.instancesSA());
        (bool ok, bytes memory reason) = address(registry).call(
            abi.encodeCall(InferenceRegistry.submit, (V, F.proofSA(), F.instancesSA())));
        require(!ok && bytes4(reason) == InferenceRegistry.AlreadyRecorded.selector, "replay");
    }

    function test_ReorderedSegmentsAreRefused() public {
        bytes memory a = F.proofSA();
        _refused(bytes.concat(_segment(a, 1), _segment(a, 0)), F.instancesSA());
    }

    function test_ASwappedSegmentIsRefused() public {
        // segment 0 of another subject's chain before SA's segment 1: SB's outputs and key
        _refused(bytes.concat(_segment(F.proofSB(), 0), _segment(F.proofSA(), 1)),
            F.instancesSB());
        _refused(bytes.concat(_segment(F.proofSB(), 0), _segment(F.proofSA(), 1)),
            F.instancesSA());
    }

    function test_AReplayedSegmentIsRefused() public {
        // SA's first segment with SB's second: a valid proof of each, not of one chain
        _refused(bytes.concat(_segment(F.proofSA(), 0), _segment(F.proofSB(), 1)),
            F.instancesSB());
        // one segment's proof twice
        bytes memory a = F.proofSA();
        _refused(bytes.concat(_segment(a, 0), _segment(a, 0)), F.instancesSA());
    }

    function test_ADroppedSegmentIsRefused() public {
        _refused(_segment(F.proofSA(), 0), F.instancesSA());
        _refused(_segment(F.proofSA(), 1), F.instancesSA());
    }

    function test_ABrokenLinkIsRefused() public {
        uint256 linkStart = 64 * F.linkOffsets()[0];
        // one byte of the link in segment 0's proof (its output), then in segment 1's (input)
        bytes memory output = F.proofSA();
        output[linkStart + 7] ^= 0x01;
        _refused(output, F.instancesSA());
        bytes memory input = F.proofSA();
        input[F.SEGMENT_0_PROOF_BYTES + 7] ^= 0x01;
        _refused(input, F.instancesSA());
        // the same change in both: the link holds, the segments' verifiers refuse
        bytes memory both = F.proofSA();
        both[linkStart + 7] ^= 0x01;
        both[F.SEGMENT_0_PROOF_BYTES + 7] ^= 0x01;
        _refused(both, F.instancesSA());
    }

    function test_OtherInstancesAreRefused() public {
        uint256[] memory instances = F.instancesSA();
        instances[0] = (instances[0] + 1) % P;
        _refused(F.proofSA(), instances);
    }

    function test_AChainMustBeWellFormed() public {
        uint256[] memory none = new uint256[](2);
        (bool ok,) = address(this).call(abi.encodeCall(this.deployChain, (F.proofBytes(), none)));
        require(!ok, "a chain without links");
        address[] memory one = new address[](1);
        one[0] = verifiers[0];
        (ok,) = address(this).call(abi.encodeCall(this.deployOne, (one)));
        require(!ok, "a chain of one segment");
    }

    function deployChain(uint256[] calldata sizes, uint256[] calldata points) external {
        new SegmentChain(verifiers, sizes, F.linkOffsets(), points);
    }

    function deployOne(address[] calldata one) external {
        uint256[] memory single = new uint256[](1);
        single[0] = F.PROOF_BYTES;
        new SegmentChain(one, single, new uint256[](1), new uint256[](1));
    }

    /// Victim SA's real segment 0 (public once SA submitted), a made-up segment 1 that starts
    /// with the same link points, and outputs of the forger's choice.
    function _forged() internal pure returns (bytes memory proof, uint256[] memory outs) {
        bytes memory a = F.proofSA();
        proof = new bytes(F.PROOF_BYTES);
        for (uint256 k = 0; k < F.SEGMENT_0_PROOF_BYTES; k++) proof[k] = a[k];
        uint256 link = 64 * F.linkOffsets()[0];
        for (uint256 k = 0; k < 64 * F.linkPoints()[0]; k++) {
            proof[F.SEGMENT_0_PROOF_BYTES + k] = a[link + k];
        }
        outs = F.instancesSA();
        for (uint256 k = 0; k < outs.length; k++) outs[k] = 12345 + k;
    }

    /// A chain over segment 0's real verifier and an accept-all last one, with the honest key and
    /// model digest: the version it is added as records another code hash than the honest one's,
    /// while the same segments deployed again give the same code hash (an auditor can rebuild it).
    function test_TheCodeHashNamesTheSegmentVerifiers() public {
        address[] memory fake = new address[](2);
        fake[0] = verifiers[0];
        fake[1] = address(new AcceptAll());
        SegmentChain evil = new SegmentChain(fake, F.proofBytes(), F.linkOffsets(), F.linkPoints());
        SegmentChain again =
            new SegmentChain(verifiers, F.proofBytes(), F.linkOffsets(), F.linkPoints());
        require(address(evil).codehash != address(chain).codehash, "evil chain, same code hash");
        require(address(again).codehash == address(chain).codehash, "same chain, other code hash");
        require(evil.segmentsDigest() != chain.segmentsDigest(), "digest");
        uint256 v2 = registry.addVersion(F.spec(address(evil)), new bytes32[](0));
        InferenceRegistry.Version memory honest = registry.versionInfo(V);
        InferenceRegistry.Version memory other = registry.versionInfo(v2);
        require(honest.vkHash == other.vkHash && honest.modelDigest == other.modelDigest, "spec");
        require(honest.verifierCodeHash != other.verifierCodeHash, "recorded code hashes");
        bytes32[] memory hashes = chain.segmentCodeHashes();
        require(hashes.length == 2 && hashes[0] == verifiers[0].codehash
            && hashes[1] == verifiers[1].codehash, "segmentCodeHashes");
        (bytes memory proof, uint256[] memory outs) = _forged();
        _refused(proof, outs); // the honest version refuses the forgery
    }

    /// The honest chain's runtime code (so its code hash) over the accept-all chain's storage,
    /// as other init code could deploy it: verifyProof refuses everything, as the storage is not
    /// what its code's digest says.
    function test_StorageOtherThanTheCodePinsIsRefused() public {
        address[] memory fake = new address[](2);
        fake[0] = verifiers[0];
        fake[1] = address(new AcceptAll());
        SegmentChain evil = new SegmentChain(fake, F.proofBytes(), F.linkOffsets(), F.linkPoints());
        address forged = address(0xC4A1);
        VM.etch(forged, address(chain).code);
        for (uint256 slot = 0; slot < 3; slot++) { // verifiers, codeHashes, shapes
            VM.store(forged, bytes32(slot), VM.load(address(evil), bytes32(slot)));
            bytes32 base = keccak256(abi.encode(slot));
            for (uint256 k = 0; k < 2; k++) {
                bytes32 element = bytes32(uint256(base) + k);
                VM.store(forged, element, VM.load(address(evil), element));
            }
        }
        require(forged.codehash == address(chain).codehash, "not the honest code");
        (address[] memory used,,,) = SegmentChain(forged).segments();
        require(used[1] == fake[1], "storage not copied");
        (bytes memory proof, uint256[] memory outs) = _forged();
        require(evil.verifyProof(proof, outs), "the accept-all chain refused");
        require(!SegmentChain(forged).verifyProof(proof, outs), "forged storage accepted");
        require(!SegmentChain(forged).verifyProof(F.proofSA(), F.instancesSA()), "SA accepted");
        uint256 v2 = registry.addVersion(F.spec(forged), new bytes32[](0));
        _expectRevert(address(registry), abi.encodeCall(InferenceRegistry.submit, (v2, proof, outs)),
            abi.encodeWithSelector(InferenceRegistry.ProofRejected.selector));
    }

    /// A segment verifier whose code changes after deployment (one recreated at its CREATE2
    /// address with other code; vm.etch stands for that): the chain refuses every proof, a
    /// forgery and a valid chain alike, and so does the registry's version (ProofRejected).
    function test_ASegmentVerifierWhoseCodeChangedIsRefused() public {
        bytes32 before = address(chain).codehash;
        VM.etch(verifiers[1], address(new AcceptAll()).code);
        require(address(chain).codehash == before, "the chain's code changed");
        (bytes memory proof, uint256[] memory outs) = _forged();
        _refused(proof, outs);
        _refused(F.proofSA(), F.instancesSA());
        VM.etch(verifiers[1], address(new SegmentVerifier1()).code); // its code again
        require(chain.verifyProof(F.proofSA(), F.instancesSA()), "the same code refused");
    }

    function test_Gas_SegmentedSubmit() public {
        bytes memory proof = F.proofSA();
        uint256[] memory instances = F.instancesSA();
        uint256[2] memory alone;
        for (uint256 i = 0; i < 2; i++) {
            bytes memory part = _segment(proof, i);
            uint256[] memory given = i == 1 ? instances : new uint256[](0);
            VM.cool(verifiers[i]);
            uint256 before = gasleft();
            bool ok = SegmentVerifier0(verifiers[i]).verifyProof(part, given);
            alone[i] = before - gasleft();
            require(ok, "a segment's verifier refused");
            emit Gas(i == 0 ? "segment 0 verifyProof alone" : "segment 1 verifyProof alone",
                alone[i]);
        }
        VM.cool(address(chain));
        VM.cool(verifiers[0]);
        VM.cool(verifiers[1]);
        uint256 start = gasleft();
        require(chain.verifyProof(proof, instances), "refused");
        uint256 chained = start - gasleft();
        emit Gas("SegmentChain verifyProof (2 segments, 1 link)", chained);
        VM.cool(address(chain));
        VM.cool(verifiers[0]);
        VM.cool(verifiers[1]);
        VM.cool(address(registry));
        start = gasleft();
        registry.submit(V, proof, instances);
        uint256 submitted = start - gasleft();
        emit Gas("registry submit, segmented (2 segments)", submitted);
        uint256 calldataGas;
        bytes memory data = abi.encodeCall(InferenceRegistry.submit, (V, proof, instances));
        for (uint256 k = 0; k < data.length; k++) calldataGas += data[k] == 0 ? 4 : 16;
        emit Gas("calldata of that submit (not included)", calldataGas);
        // the chain adds its link check and calls to what its segments cost alone
        require(chained < alone[0] + alone[1] + 60_000, "the chain's share");
        require(submitted + calldataGas < 30_000_000, "over a block");
    }
}
