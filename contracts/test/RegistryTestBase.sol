// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IHalo2Verifier, InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";

/// The cheatcodes these tests use (forge serves them at this address without forge-std).
interface Vm {
    struct Log {
        bytes32[] topics;
        bytes data;
        address emitter;
    }

    function recordLogs() external;
    function getRecordedLogs() external returns (Log[] memory logs);
    function record() external;
    function accesses(address target)
        external
        returns (bytes32[] memory reads, bytes32[] memory writes);
    function load(address target, bytes32 slot) external view returns (bytes32 value);
    function store(address target, bytes32 slot, bytes32 value) external;
    /// Makes an account and its storage cold again, as in a new transaction.
    function cool(address target) external;
    /// Sets block.timestamp.
    function warp(uint256 timestamp) external;
    /// Replaces an account's code (as a verifier redeployed at the same address would).
    function etch(address target, bytes calldata code) external;
}

/// Builds registries and ezkl-shaped public instances for the plain-Solidity tests (a test fails
/// by reverting; no forge-std offline).
abstract contract RegistryTestBase {
    Vm internal constant VM = Vm(0x7109709ECfa91a80626fF3989D68f67F5b1DD12D);
    uint256 internal constant P =
        0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    uint256 internal constant PROOF_BYTES = 3072; // an ezkl proof's size for these models
    bytes32 internal constant INFERENCE_VERIFIED = InferenceRegistry.InferenceVerified.selector;
    /// The version the single-model tests record under: the first one a registry gets.
    uint256 internal constant V = 1;
    /// Storage slots of the registry's mappings (see its layout comment).
    uint256 internal constant CONFIGS_SLOT = 3;
    uint256 internal constant RESULTS_SLOT = 5;

    /// A registry's shape: subjects per proof, where their commitments are (kzg: the proof's
    /// first points; else the first instances, Poseidon), weights commitment, model outputs.
    struct Shape {
        uint256 subjects;
        bool kzg;
        uint256[] weights;
        uint256[] lengths;
        uint256[] scales;
    }

    function _shape(
        uint256 subjects,
        uint256 weightCount,
        uint256[] memory lengths,
        uint256[] memory scales
    ) internal pure returns (Shape memory shape) {
        shape.subjects = subjects;
        shape.weights = new uint256[](weightCount);
        for (uint256 i = 0; i < weightCount; i++) {
            shape.weights[i] = uint256(keccak256(abi.encode("weights", i))) % P;
        }
        shape.lengths = lengths;
        shape.scales = scales;
    }

    /// The same shape with the subjects' commitments in the proof (a copy: `shape` is kept).
    function _kzg(Shape memory shape) internal pure returns (Shape memory) {
        return Shape(shape.subjects, true, shape.weights, shape.lengths, shape.scales);
    }

    function _list(uint256 a) internal pure returns (uint256[] memory list) {
        list = new uint256[](1);
        list[0] = a;
    }

    function _list(uint256 a, uint256 b) internal pure returns (uint256[] memory list) {
        list = new uint256[](2);
        (list[0], list[1]) = (a, b);
    }

    /// The constructor arguments of a version of this shape: verifier, vkHash "vk", modelDigest
    /// "model", no labels.
    function _spec(Shape memory shape, address verifier)
        internal
        pure
        returns (InferenceRegistry.VersionSpec memory spec)
    {
        spec.verifier = verifier;
        spec.vkHash = keccak256("vk");
        spec.modelDigest = keccak256("model");
        spec.proofBytes = PROOF_BYTES;
        spec.subjects = shape.subjects;
        spec.commitmentsInProof = shape.kzg;
        (spec.commitmentPoints, spec.commitmentStride) = shape.kzg ? (1, 1) : (0, 0);
        spec.weightsCommitment = shape.weights;
        spec.outputLengths = shape.lengths;
        spec.outputScales = shape.scales;
    }

    /// A new registry (owned by this test) whose version 1 has this shape and verifier.
    function _deploy(Shape memory shape, address verifier) internal returns (InferenceRegistry) {
        InferenceRegistry registry = new InferenceRegistry(0);
        require(registry.addVersion(_spec(shape, verifier), new bytes32[](0)) == V, "version 1");
        return registry;
    }

    /// Slot of word `word` of a commitment's result in a version.
    function _resultSlot(uint256 version, uint256 commitment, uint256 word)
        internal
        pure
        returns (bytes32)
    {
        bytes32 base = keccak256(abi.encode(version, RESULTS_SLOT));
        return keccak256(abi.encode(word, keccak256(abi.encode(commitment, base))));
    }

    /// A version's Config slot: verifier | results << 160 | subjects << 192 | ...
    function _configSlot(uint256 version) internal pure returns (bytes32) {
        return keccak256(abi.encode(version, CONFIGS_SLOT));
    }

    function _total(Shape memory shape) internal pure returns (uint256 total) {
        for (uint256 k = 0; k < shape.lengths.length; k++) total += shape.lengths[k];
    }

    /// Index of the weights commitment's first element: after the commitments, if instances.
    function _weightsAt(Shape memory shape) internal pure returns (uint256) {
        return shape.kzg ? 0 : shape.subjects;
    }

    function _instanceCount(Shape memory shape) internal pure returns (uint256) {
        return _weightsAt(shape) + shape.weights.length + shape.subjects * _total(shape);
    }

    /// Where ezkl puts element e of model output k for subject j.
    function _index(Shape memory shape, uint256 j, uint256 k, uint256 e)
        internal
        pure
        returns (uint256 index)
    {
        index = _weightsAt(shape) + shape.weights.length;
        for (uint256 i = 0; i < k; i++) index += shape.subjects * shape.lengths[i];
        index += j * shape.lengths[k] + e;
    }

    /// Where ezkl puts subject j's t-th output (all model outputs concatenated).
    function _outputIndex(Shape memory shape, uint256 j, uint256 t)
        internal
        pure
        returns (uint256)
    {
        uint256 k;
        while (t >= shape.lengths[k]) t -= shape.lengths[k++];
        return _index(shape, j, k, t);
    }

    /// Subject j's Poseidon commitment (an instance) in batch `seed`.
    function _commitment(uint256 seed, uint256 j) internal pure returns (uint256) {
        return uint256(keccak256(abi.encode("subject", seed, j))) % P;
    }

    /// Subject j's KZG commitment in batch `seed`: a point, x ‖ y (64 bytes), distinct per seed
    /// and j. Not on the curve: only the verifier, mocked here, reads it as a point.
    function _point(uint256 seed, uint256 j) internal pure returns (bytes memory) {
        return abi.encode(
            keccak256(abi.encode("point x", seed, j)), keccak256(abi.encode("point y", seed, j))
        );
    }

    /// Subject j's key in batch `seed`, as the registry records it: keccak256 of its point
    /// (kzg), or its Poseidon commitment.
    function _key(Shape memory shape, uint256 seed, uint256 j) internal pure returns (uint256) {
        return shape.kzg ? uint256(keccak256(_point(seed, j))) : _commitment(seed, j);
    }

    /// Subject j's t-th output in batch `seed`: fixed point, negative about half the time.
    function _value(uint256 seed, uint256 j, uint256 t) internal pure returns (int256) {
        return int256(uint256(keccak256(abi.encode("output", seed, j, t))) % 200_000) - 100_000;
    }

    function _felt(int256 value) internal pure returns (uint256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return value >= 0 ? uint256(value) : P - uint256(-value);
    }

    /// A well-formed batch: subject j has outputs _value(seed, j, t) and, unless kzg (its point
    /// is in the proof), the commitment _commitment(seed, j).
    function _instances(Shape memory shape, uint256 seed)
        internal
        pure
        returns (uint256[] memory instances)
    {
        instances = new uint256[](_instanceCount(shape));
        if (!shape.kzg) {
            for (uint256 j = 0; j < shape.subjects; j++) instances[j] = _commitment(seed, j);
        }
        for (uint256 i = 0; i < shape.weights.length; i++) {
            instances[_weightsAt(shape) + i] = shape.weights[i];
        }
        uint256 total = _total(shape);
        for (uint256 j = 0; j < shape.subjects; j++) {
            for (uint256 t = 0; t < total; t++) {
                instances[_outputIndex(shape, j, t)] = _felt(_value(seed, j, t));
            }
        }
    }

    function _expected(Shape memory shape, uint256 seed, uint256 j)
        internal
        pure
        returns (int256[] memory outputs)
    {
        outputs = new int256[](_total(shape));
        for (uint256 t = 0; t < outputs.length; t++) outputs[t] = _value(seed, j, t);
    }

    /// Subject j's outputs as they sit in `instances`.
    function _outputsIn(Shape memory shape, uint256[] memory instances, uint256 j)
        internal
        pure
        returns (int256[] memory outputs)
    {
        outputs = new int256[](_total(shape));
        for (uint256 t = 0; t < outputs.length; t++) {
            uint256 felt = instances[_outputIndex(shape, j, t)];
            // forge-lint: disable-next-line(unsafe-typecast)
            outputs[t] = felt > P / 2 ? -int256(P - felt) : int256(felt);
        }
    }

    /// Distinct proof bytes per tag, as long as a real proof.
    function _proof(uint256 tag) internal pure returns (bytes memory proof) {
        proof = new bytes(PROOF_BYTES);
        assembly {
            mstore(add(proof, 0x20), tag)
        }
    }

    /// A proof as long as a real one whose 64-byte chunk j is _point(seed, j) for every subject
    /// (the KZG layout; a Poseidon registry does not read them), followed by `tag`: distinct
    /// proofs of the same subjects differ by their tag.
    function _proof(Shape memory shape, uint256 seed, uint256 tag)
        internal
        pure
        returns (bytes memory proof)
    {
        proof = new bytes(PROOF_BYTES);
        for (uint256 j = 0; j < shape.subjects; j++) _setPoint(proof, j, _point(seed, j));
        uint256 end = 0x40 * shape.subjects;
        require(end + 0x20 <= PROOF_BYTES, "too many subjects for the proof");
        assembly {
            mstore(add(add(proof, 0x20), end), tag)
        }
    }

    function _setPoint(bytes memory proof, uint256 j, bytes memory point) internal pure {
        for (uint256 b = 0; b < 0x40; b++) proof[0x40 * j + b] = point[b];
    }

    /// keccak256 of the proof's bytes 64j .. 64j+63, read from the proof itself.
    function _chunkHash(bytes memory proof, uint256 j) internal pure returns (uint256 hash) {
        require(proof.length >= 0x40 * (j + 1), "proof too short");
        assembly {
            hash := keccak256(add(add(proof, 0x20), shl(6, j)), 0x40)
        }
    }

    /// Subject j's key in this submission: keccak256 of the proof's j-th point (kzg), or
    /// instances[j].
    function _keyIn(Shape memory shape, bytes memory proof, uint256[] memory instances, uint256 j)
        internal
        pure
        returns (uint256)
    {
        return shape.kzg ? _chunkHash(proof, j) : instances[j];
    }

    /// Makes subject j of (proof, instances) the subject i of batch `seed` (its point or its
    /// commitment), its outputs unchanged.
    function _setSubject(
        Shape memory shape,
        bytes memory proof,
        uint256[] memory instances,
        uint256 j,
        uint256 seed,
        uint256 i
    ) internal pure {
        if (shape.kzg) _setPoint(proof, j, _point(seed, i));
        else instances[j] = _commitment(seed, i);
    }

    function _expectRevert(address target, bytes memory data, bytes memory expected) internal {
        (bool ok, bytes memory reason) = target.call(data);
        require(!ok, "call did not revert");
        require(keccak256(reason) == keccak256(expected), "reverted, but for another reason");
    }

    function _expectSubmitRevert(
        InferenceRegistry registry,
        bytes memory proof,
        uint256[] memory instances,
        bytes memory expected
    ) internal {
        bytes memory data = abi.encodeCall(InferenceRegistry.submit, (V, proof, instances));
        _expectRevert(address(registry), data, expected);
    }

    function _equal(int256[] memory a, int256[] memory b) internal pure returns (bool) {
        return keccak256(abi.encode(a)) == keccak256(abi.encode(b));
    }

    function _requireResult(
        InferenceRegistry registry,
        uint256 commitment,
        int256[] memory outputs
    ) internal view {
        require(registry.hasResult(V, commitment), "no result recorded");
        require(_equal(registry.resultOf(V, commitment), outputs), "recorded outputs differ");
    }
}
