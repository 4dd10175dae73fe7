// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";
import {SegmentChain} from "../../zkml/contracts/SegmentChain.sol";
import {SegmentFixtures as F} from "./fixtures/SegmentFixtures.sol";
import {SegmentVerifier0} from "./fixtures/SegmentVerifier0.sol";
import {SegmentVerifier1} from "./fixtures/SegmentVerifier1.sol";
import {RegistryTestBase} from "./RegistryTestBase.sol";

/// A model proved in two segments (zkml.segments), on real ezkl proofs and verifiers
/// (contracts/test/fixtures/, made by scripts/forge-fixtures): the SegmentChain contract behind
/// an unchanged InferenceRegistry version. Chains SA and SB are two subjects' proofs: each the
/// segments' proofs concatenated, segment 0 (whose first points are the subject's commitment)
/// first. A reordered, swapped, dropped or replayed segment, or a broken link, is refused both
/// by the chain and by the registry (ProofRejected).
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
