// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The verifier ezkl generates for one segment's circuit; its code embeds that circuit's key.
interface ISegmentVerifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}

/// The verifier of a model proved in segments (zkml.segments), behind the interface a registry
/// version calls (`verifyProof(bytes, uint256[])`, InferenceRegistry's IHalo2Verifier).
///
/// `proof` is the segments' proofs concatenated, segment 0 first: its first points are the
/// subject's input commitment, where the registry reads its key. `instances` are the last
/// segment's public instances (the model's outputs); the other segments publish none.
///
/// Segment i's proof carries its output link (a KZG commitment to the activations where the
/// model was cut, salted) at its points `linkOffset[i]` .. + `linkPoints[i]`, and segment i + 1's
/// proof starts with the same points: its input. It accepts only when the proof has the
/// chain's exact length, every link's points are byte for byte the same in both of its proofs,
/// and every segment's verifier accepts its part (calling it with exactly one 32-byte return of
/// 1). A swapped, reordered, dropped or replayed segment fails one of these.
///
/// What it verifies with is pinned in its own runtime code, so the code hash a registry records
/// at addVersion names it: the immutable `segmentsDigest` is the keccak256 of every segment
/// verifier's address, its code hash at construction and the link layout. Two chains over
/// different segment verifiers (or the same ones with another layout) have different code.
/// verifyProof refuses (returns false) when the storage it reads is not what the digest says
/// (a contract given this runtime code by other init code) or when a segment verifier's code
/// is no longer the code it had at construction (one recreated at its CREATE2 address with
/// other code, say). Nothing about it changes after deployment.
contract SegmentChain {
    error BadChain();

    /// Per segment: its verifier.
    address[] private verifiers;
    /// Per segment: its verifier's code hash at construction.
    bytes32[] private codeHashes;
    /// Per segment: its proof's length in bytes | its output link's first point << 64 | the
    /// link's points << 128 (0 for the last segment).
    uint256[] private shapes;
    /// The chain's proof length: every segment's, summed.
    uint256 public immutable proofBytes;
    /// keccak256(abi.encode(verifiers, codeHashes, shapes)): the segments, in the code.
    bytes32 public immutable segmentsDigest;

    constructor(
        address[] memory segmentVerifiers,
        uint256[] memory segmentProofBytes,
        uint256[] memory linkOffsets,
        uint256[] memory linkPoints
    ) {
        uint256 count = segmentVerifiers.length;
        if (
            count < 2 || segmentProofBytes.length != count || linkOffsets.length != count
                || linkPoints.length != count
        ) revert BadChain();
        bytes32[] memory hashes = new bytes32[](count);
        uint256[] memory words = new uint256[](count);
        uint256 total;
        for (uint256 i = 0; i < count; i++) {
            uint256 size = segmentProofBytes[i];
            uint256 end = 64 * (linkOffsets[i] + linkPoints[i]);
            bool last = i + 1 == count;
            if (
                segmentVerifiers[i].code.length == 0 || size == 0 || size >= 1 << 64
                    || (last ? linkPoints[i] != 0 : linkPoints[i] == 0) || end > size
            ) revert BadChain();
            if (!last && 64 * linkPoints[i] > segmentProofBytes[i + 1]) revert BadChain();
            hashes[i] = segmentVerifiers[i].codehash;
            words[i] = size | (linkOffsets[i] << 64) | (linkPoints[i] << 128);
            verifiers.push(segmentVerifiers[i]);
            codeHashes.push(hashes[i]);
            shapes.push(words[i]);
            total += size;
        }
        proofBytes = total;
        segmentsDigest = keccak256(abi.encode(segmentVerifiers, hashes, words));
    }

    /// The segments: their verifiers, proof lengths, link offsets and link points.
    function segments()
        external
        view
        returns (address[] memory, uint256[] memory, uint256[] memory, uint256[] memory)
    {
        uint256 count = verifiers.length;
        uint256[] memory sizes = new uint256[](count);
        uint256[] memory offsets = new uint256[](count);
        uint256[] memory points = new uint256[](count);
        for (uint256 i = 0; i < count; i++) {
            uint256 word = shapes[i];
            (sizes[i], offsets[i], points[i]) =
                (uint64(word), uint64(word >> 64), uint64(word >> 128));
        }
        return (verifiers, sizes, offsets, points);
    }

    /// Per segment: its verifier's code hash at construction, which verifyProof requires.
    function segmentCodeHashes() external view returns (bytes32[] memory) {
        return codeHashes;
    }

    /// True only if the segments are the ones the code pins (storage and every verifier's code),
    /// every link holds and every segment's verifier accepts its proof.
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool) {
        if (proof.length != proofBytes) return false;
        if (keccak256(abi.encode(verifiers, codeHashes, shapes)) != segmentsDigest) return false;
        uint256 count = verifiers.length;
        uint256 start;
        for (uint256 i = 0; i < count; i++) {
            uint256 word = shapes[i];
            uint256 size = uint64(word);
            bytes calldata piece = proof[start:start + size];
            bytes memory verifyCall;
            if (i + 1 < count) {
                if (!_linked(piece, proof[start + size:], word)) return false;
                verifyCall = abi.encodeCall(ISegmentVerifier.verifyProof, (piece, new uint256[](0)));
            } else {
                verifyCall = abi.encodeCall(ISegmentVerifier.verifyProof, (piece, instances));
            }
            if (!_accepts(verifiers[i], codeHashes[i], verifyCall)) return false;
            start += size;
        }
        return true;
    }

    /// Whether segment i's output link (`piece`'s points where `word` says) is the start of
    /// `rest`, the proofs after it.
    function _linked(bytes calldata piece, bytes calldata rest, uint256 word)
        private
        pure
        returns (bool)
    {
        uint256 link = 64 * uint64(word >> 128);
        uint256 from = 64 * uint64(word >> 64);
        return keccak256(piece[from:from + link]) == keccak256(rest[:link]);
    }

    /// Whether `target` still has the code hash recorded for it and returns exactly true.
    function _accepts(address target, bytes32 codeHash, bytes memory verifyCall)
        private
        returns (bool accepted)
    {
        if (target.codehash != codeHash) return false;
        assembly ("memory-safe") {
            let ok := call(gas(), target, 0, add(verifyCall, 0x20), mload(verifyCall), 0, 0x20)
            accepted := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0), 1)))
        }
    }
}
