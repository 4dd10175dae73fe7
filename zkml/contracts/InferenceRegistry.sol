// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The verifier ezkl generates for one circuit; its code embeds that circuit's verifying key.
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}

/// Records zero-knowledge-verified inferences of one model, each under the subject it is about.
///
/// One registry serves one model/circuit: it pins the verifier (whose bytecode embeds the
/// verifying key; `vkHash` records the key file's sha256 for audits) and, when the weights are
/// private, their public Poseidon commitment. A subject is identified by the commitment the
/// circuit publishes for its private input and a secret salt, in one of two schemes:
/// - KZG (`commitmentsInProof`): the commitment to the subject's input column, the proof's
///   j-th point (bytes 64j .. 64j+63: x, y big-endian); its key here is keccak256 of them;
/// - Poseidon: Poseidon(input ‖ salt), the j-th public instance; its key is that value.
///
/// Threat model:
/// - Anyone may submit: the proof is the only authority. msg.sender is irrelevant and not stored.
/// - The model is deterministic, so every valid proof for a commitment carries the same outputs.
///   A result is recorded once under its commitment and never changed. A front-runner copying a
///   pending transaction gains nothing: the same outputs under the same commitment (the original
///   transaction then reverts early with AlreadyRecorded). Anyone holding another proof for a
///   recorded subject records nothing. What an app reads for a subject cannot be set or changed
///   by anyone else.
/// - Public: the commitments and the outputs. The input and salt stay private; a commitment
///   reveals nothing of the input as long as the salt is secret.
/// - There is no global "latest" result. Recording order is given by the sequential result ids
///   (`resultIdOf`, the `InferenceVerified` event) and `resultCount`.
///
/// Public instances, flattened as ezkl lays them out (BN254 scalar-field elements):
///   [Poseidon commitments: subjects, none with KZG] [weights commitment] [output 0: subjects ×
///   L0] [output 1: ...] ...
/// with each output row-major (subject j's row of output k: j*Lk .. (j+1)*Lk - 1 of its block).
/// Outputs are fixed point, x * 2^outputScales[k], negatives as p - |x|.
///
/// Storage: per subject, lanes of 64 bits, 4 to a 32-byte word: lane 0 = result id (uint64,
/// nonzero iff recorded), lanes 1.. = the subject's outputs concatenated, as int64 (an output
/// that does not fit is rejected). Word w of a subject is _results[commitment][w]; a subject
/// with at most 3 outputs takes exactly one slot, written once. Nothing is stored per proof: a
/// proof whose subjects are all recorded is refused before it is verified (AlreadyRecorded).
contract InferenceRegistry {
    uint256 internal constant FIELD_MODULUS =
        0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    uint256 internal constant INT64_LIMIT = 1 << 63;
    uint256 internal constant LANES_PER_WORD = 4;
    uint256 internal constant LANE_BITS = 64;
    uint256 internal constant MAX_SCALE = 63;
    uint256 internal constant LANE_MASK = 0xffffffffffffffff;
    /// The smallest field element standing for a negative int64: p - 2^63.
    uint256 internal constant NEGATIVE_FLOOR =
        0x30644e72e131a029b85045b68181585d2833e84879b97090c3e1f593f0000001;
    /// For inline assembly (tests check both against the compiler's):
    /// OutputOutOfRange.selector, and InferenceVerified.selector.
    uint256 internal constant OUTPUT_OUT_OF_RANGE =
        0x13e406b800000000000000000000000000000000000000000000000000000000;
    bytes32 internal constant INFERENCE_VERIFIED =
        0xdcc801bcd7bb94272c39099ed1ae258585db9ef2a70adc6b6f507ccb3d5f2d29;
    /// Up to this many output lengths below 2^32 are kept in an immutable (no storage reads).
    uint256 internal constant PACKED_LENGTHS = 8;

    IHalo2Verifier public immutable verifier;
    bytes32 public immutable vkHash;
    /// Inferences (subjects) per proof.
    uint256 public immutable subjects;
    /// Whether subjects' commitments are the proof's first points (KZG) rather than its first
    /// public instances (Poseidon).
    bool public immutable commitmentsInProof;
    /// Public instances per proof.
    uint256 public immutable instanceCount;
    /// Output elements per subject, all model outputs together.
    uint256 public immutable outputsPerSubject;

    uint256 private immutable _weightsLength;
    bytes32 private immutable _weightsHash;
    uint256 private immutable _outputCount;
    uint256 private immutable _classes; // outputLengths[0]
    uint256 private immutable _packedLengths; // 0 when the lengths do not fit

    uint256[] private _weightsCommitment;
    uint256[] private _outputLengths;
    uint256[] private _outputScales;

    /// commitment => word index => 4 packed lanes.
    mapping(uint256 commitment => mapping(uint256 word => uint256 lanes)) private _results;
    /// The id the next recorded result gets; starts at 1 so updating it never writes a zero slot.
    uint256 private _nextId = 1;

    event InferenceVerified(uint256 indexed id, uint256 indexed commitment, int256[] outputs);

    error VerifierHasNoCode(address verifier);
    error NoSubjects();
    error NoOutputs();
    error ScalesMismatch(uint256 outputs, uint256 scales);
    error EmptyOutput(uint256 output);
    error ScaleOutOfRange(uint256 output);

    error WrongInstanceCount(uint256 expected, uint256 got);
    error WrongModel();
    /// Every subject of the proof has a result already (the first one's is given): nothing to
    /// record, so the proof is not verified.
    error AlreadyRecorded(uint256 commitment, uint256 id);
    error ProofRejected();
    /// instances[index] is not a field element whose signed value fits an int64.
    error OutputOutOfRange(uint256 index);

    error NoResult(uint256 commitment);
    error NotAClassifier();

    constructor(
        IHalo2Verifier verifier_,
        bytes32 vkHash_,
        uint256 subjects_,
        bool commitmentsInProof_,
        uint256[] memory weightsCommitment_,
        uint256[] memory outputLengths_,
        uint256[] memory outputScales_
    ) {
        if (address(verifier_).code.length == 0) revert VerifierHasNoCode(address(verifier_));
        if (subjects_ == 0) revert NoSubjects();
        uint256 outputCount = outputLengths_.length;
        if (outputCount == 0) revert NoOutputs();
        if (outputScales_.length != outputCount) {
            revert ScalesMismatch(outputCount, outputScales_.length);
        }
        uint256 total;
        bool packable = outputCount <= PACKED_LENGTHS;
        uint256 packed;
        for (uint256 k = 0; k < outputCount; k++) {
            uint256 length = outputLengths_[k];
            if (length == 0) revert EmptyOutput(k);
            if (outputScales_[k] > MAX_SCALE) revert ScaleOutOfRange(k);
            total += length;
            if (length > type(uint32).max) packable = false;
            if (packable) packed |= length << (32 * k);
        }

        verifier = verifier_;
        vkHash = vkHash_;
        subjects = subjects_;
        commitmentsInProof = commitmentsInProof_;
        instanceCount =
            (commitmentsInProof_ ? 0 : subjects_) + weightsCommitment_.length + subjects_ * total;
        outputsPerSubject = total;
        _weightsLength = weightsCommitment_.length;
        _weightsHash = keccak256(abi.encodePacked(weightsCommitment_));
        _outputCount = outputCount;
        _classes = outputLengths_[0];
        _packedLengths = packable ? packed : 0;
        _weightsCommitment = weightsCommitment_;
        _outputLengths = outputLengths_;
        _outputScales = outputScales_;
    }

    /// Verify (proof, instances) through the pinned verifier and record each subject's outputs
    /// under its commitment. Checks, in order: instance count (WrongInstanceCount), weights
    /// commitment (WrongModel), some subject not recorded yet (else AlreadyRecorded: a replay,
    /// or a copy of a pending transaction mined first), the verifier returns true (else
    /// ProofRejected), every output a canonical field element fitting an int64
    /// (OutputOutOfRange). A subject already recorded, before or earlier in this batch, is
    /// skipped without an event: its outputs are necessarily the same.
    /// @return recorded how many subjects were newly recorded, each with the next result id.
    function submit(bytes calldata proof, uint256[] calldata instances)
        external
        returns (uint256 recorded)
    {
        if (instances.length != instanceCount) {
            revert WrongInstanceCount(instanceCount, instances.length);
        }
        uint256 count = subjects;
        uint256 hashes = commitmentsInProof ? 0 : count;
        if (_weightsLength != 0 && _calldataHash(instances, hashes, _weightsLength) != _weightsHash)
        {
            revert WrongModel();
        }
        uint256[] memory commitments = _commitments(proof, instances, count);
        _requireSomethingNew(commitments);
        if (!_verified(abi.encodeCall(IHalo2Verifier.verifyProof, (proof, instances)))) {
            revert ProofRejected();
        }

        uint256[] memory rows = _rows(count, hashes);
        bytes memory buffer = _eventBuffer(outputsPerSubject);
        uint256 id = _nextId;
        for (uint256 j = 0; j < count; j++) {
            // false: recorded before, or earlier in this batch; its outputs are the same, kept.
            if (_record(instances, commitments[j], rows, buffer, id)) {
                unchecked {
                    id++; // < 2^64: one id per stored slot
                    recorded++;
                }
            }
        }
        if (recorded != 0) _nextId = id;
    }

    /// The subjects' commitments, as results are keyed: keccak256 of the proof's j-th point
    /// (KZG), or the j-th instance (Poseidon). The verifier reads the points as canonical
    /// (coordinates below the base field's modulus, on the curve) and checks the proof's exact
    /// length, so a proof it accepts has one encoding of them.
    function _commitments(bytes calldata proof, uint256[] calldata instances, uint256 count)
        private
        view
        returns (uint256[] memory commitments)
    {
        commitments = new uint256[](count);
        bool inProof = commitmentsInProof;
        // the verifier checks the proof's length too; this keeps every read inside the proof
        if (inProof && proof.length < 64 * count) revert ProofRejected();
        assembly ("memory-safe") {
            let out := add(commitments, 0x20)
            for { let j := 0 } lt(j, count) { j := add(j, 1) } {
                let value
                switch inProof
                case 0 { value := calldataload(add(instances.offset, shl(5, j))) }
                default {
                    calldatacopy(0, add(proof.offset, shl(6, j)), 0x40)
                    value := keccak256(0, 0x40)
                }
                mstore(add(out, shl(5, j)), value)
            }
        }
    }

    /// Reverts AlreadyRecorded when every subject has a result: a replayed proof records
    /// nothing, so it costs its sender a few storage reads, not a verification.
    function _requireSomethingNew(uint256[] memory commitments) private view {
        for (uint256 j = 0; j < commitments.length; j++) {
            if (_results[commitments[j]][0] == 0) return;
        }
        // forge-lint: disable-next-line(unsafe-typecast)
        revert AlreadyRecorded(commitments[0], uint64(_results[commitments[0]][0]));
    }

    /// All outputs of the subject with this commitment, model outputs concatenated, fixed point.
    function resultOf(uint256 commitment) external view returns (int256[] memory outputs) {
        mapping(uint256 => uint256) storage words = _results[commitment];
        uint256 word = words[0];
        if (word == 0) revert NoResult(commitment);
        outputs = new int256[](outputsPerSubject);
        for (uint256 t = 0; t < outputs.length; t++) {
            uint256 lane = t + 1;
            if (lane % LANES_PER_WORD == 0) word = words[lane / LANES_PER_WORD];
            outputs[t] = _lane(word, lane % LANES_PER_WORD);
        }
    }

    function hasResult(uint256 commitment) external view returns (bool) {
        return _results[commitment][0] != 0;
    }

    /// The result's sequential id (1, 2, ...), or 0 when the commitment has no result.
    function resultIdOf(uint256 commitment) external view returns (uint256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return uint64(_results[commitment][0]);
    }

    /// Index of the subject's largest element of model output 0 (the first on a tie): the
    /// predicted class of a classifier.
    function predictionOf(uint256 commitment) external view returns (uint256 best) {
        uint256 classes = _classes;
        if (classes == 1) revert NotAClassifier();
        mapping(uint256 => uint256) storage words = _results[commitment];
        uint256 word = words[0];
        if (word == 0) revert NoResult(commitment);
        int256 bestValue = _lane(word, 1);
        for (uint256 c = 1; c < classes; c++) {
            uint256 lane = c + 1;
            if (lane % LANES_PER_WORD == 0) word = words[lane / LANES_PER_WORD];
            int256 value = _lane(word, lane % LANES_PER_WORD);
            if (value > bestValue) (best, bestValue) = (c, value);
        }
    }

    /// How many subjects' results are recorded; the last one has this id.
    function resultCount() external view returns (uint256) {
        return _nextId - 1;
    }

    function outputLengths() external view returns (uint256[] memory) {
        return _outputLengths;
    }

    /// Fixed-point scale of each model output: a value x is recorded as x * 2^scale.
    function outputScales() external view returns (uint256[] memory) {
        return _outputScales;
    }

    /// Poseidon commitment to the private weights (empty when the weights are not committed).
    function modelCommitment() external view returns (uint256[] memory) {
        return _weightsCommitment;
    }

    /// Memory laid out as abi.encode(int256[n]) minus the values: [0x20][n][n free words].
    function _eventBuffer(uint256 n) private pure returns (bytes memory buffer) {
        buffer = new bytes(0x40 + 0x20 * n);
        assembly ("memory-safe") {
            mstore(add(buffer, 0x20), 0x20)
            mstore(add(buffer, 0x40), n)
        }
    }

    /// Records a subject, whose outputs start at `rows`, unless its commitment already has a
    /// result, and emits InferenceVerified for it. Storage: lane 0 = id, then its outputs (all
    /// model outputs concatenated) as int64 lanes, 4 lanes to a word, at
    /// _results[commitment][word]; words left zero are not written. Reverts OutputOutOfRange
    /// unless each output is a canonical field element that fits an int64, also when the subject
    /// is skipped. Moves `rows` on to the next subject's. Assembly, as this runs per subject:
    /// `instances` has been checked to hold instanceCount elements, so every index is in range.
    function _record(
        uint256[] calldata instances,
        uint256 commitment,
        uint256[] memory rows,
        bytes memory buffer,
        uint256 id
    ) private returns (bool fresh) {
        assembly ("memory-safe") {
            // scratch: [0x00] word index, [0x20] the commitment's mapping slot
            mstore(0, commitment)
            mstore(0x20, _results.slot)
            mstore(0x20, keccak256(0, 0x40))
            mstore(0, 0)
            let slot := keccak256(0, 0x40)
            fresh := iszero(sload(slot))
            let word := id // lane 0; written only when fresh
            let shift := 64 // the next lane's bit offset in `word`
            let out := add(buffer, 0x60) // the next output's place in the event data
            let rowsEnd := add(rows, shl(5, add(mload(rows), 1)))
            for { let row := add(rows, 0x20) } lt(row, rowsEnd) { row := add(row, 0x40) } {
                let index := mload(row)
                let end := add(index, mload(add(row, 0x20)))
                mstore(row, end) // the next subject's row of this output
                for {} lt(index, end) { index := add(index, 1) } {
                    let value := calldataload(add(instances.offset, shl(5, index)))
                    // x in [0, 2^63) stays; p - |x| with |x| in [1, 2^63] becomes -|x|
                    if iszero(lt(value, INT64_LIMIT)) {
                        // value in [p - 2^63, p), by wrapping subtraction
                        if iszero(lt(sub(value, NEGATIVE_FLOOR), INT64_LIMIT)) {
                            mstore(0, OUTPUT_OUT_OF_RANGE)
                            mstore(4, index)
                            revert(0, 0x24)
                        }
                        value := sub(value, FIELD_MODULUS) // mod 2^256: -(p - value)
                    }
                    mstore(out, value)
                    out := add(out, 0x20)
                    word := or(word, shl(shift, and(value, LANE_MASK)))
                    shift := add(shift, 64)
                    if eq(shift, 256) {
                        if and(fresh, iszero(iszero(word))) { sstore(slot, word) }
                        mstore(0, add(mload(0), 1))
                        slot := keccak256(0, 0x40)
                        word := 0
                        shift := 0
                    }
                }
            }
            if fresh {
                if word { sstore(slot, word) }
                log3(add(buffer, 0x20), mload(buffer), INFERENCE_VERIFIED, id, commitment)
            }
        }
    }

    /// [row of output 0, its length, row of output 1, ...] for subject 0, where a row is the
    /// instance index of a subject's first element of that output.
    function _rows(uint256 count, uint256 hashes) private view returns (uint256[] memory rows) {
        uint256 next = hashes + _weightsLength;
        uint256 packed = _packedLengths;
        uint256 outputCount = _outputCount;
        if (packed == 0) {
            rows = new uint256[](2 * outputCount);
            for (uint256 k = 0; k < outputCount; k++) {
                uint256 length = _outputLengths[k];
                (rows[2 * k], rows[2 * k + 1]) = (next, length);
                next += count * length;
            }
            return rows;
        }
        assembly ("memory-safe") {
            rows := mload(0x40)
            mstore(rows, shl(1, outputCount))
            let at := add(rows, 0x20)
            for { let k := 0 } lt(k, outputCount) { k := add(k, 1) } {
                let length := and(shr(shl(5, k), packed), 0xffffffff)
                mstore(at, next)
                mstore(add(at, 0x20), length)
                next := add(next, mul(count, length))
                at := add(at, 0x40)
            }
            mstore(0x40, at)
        }
    }

    /// Calls the verifier, reading at most one return word: accepted iff it returns exactly true.
    function _verified(bytes memory verifyCall) private returns (bool accepted) {
        address target = address(verifier);
        assembly ("memory-safe") {
            let ok := call(gas(), target, 0, add(verifyCall, 0x20), mload(verifyCall), 0, 0x20)
            accepted := and(ok, and(eq(returndatasize(), 0x20), eq(mload(0), 1)))
        }
    }

    function _calldataHash(uint256[] calldata values, uint256 from, uint256 length)
        private
        pure
        returns (bytes32 hash)
    {
        assembly ("memory-safe") {
            let ptr := mload(0x40)
            let size := mul(length, 0x20)
            calldatacopy(ptr, add(values.offset, mul(from, 0x20)), size)
            hash := keccak256(ptr, size)
        }
    }

    function _lane(uint256 word, uint256 lane) private pure returns (int256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return int64(uint64(word >> (LANE_BITS * lane)));
    }
}
