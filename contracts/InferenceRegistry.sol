// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The verifier ezkl generates for one circuit; its code embeds that circuit's verifying key.
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}

/// Acts only on inferences that a zero-knowledge proof verified.
///
/// One registry serves one model: it pins the verifier (whose bytecode embeds the model's
/// verifying key; `vkHash` records the key file's sha256 for audits) and, when the weights are
/// private, their public Poseidon commitment. A proof is accepted once; its public outputs
/// become the latest verified result, which other contracts read.
///
/// Public instances are laid out as ezkl publishes them:
///   [input hash (inputHashLength)] [weights commitment] [outputs (outputLength)]
/// Outputs are fixed-point field elements: x * 2^outputScale, negatives as p - |x|.
contract InferenceRegistry {
    uint256 internal constant FIELD_MODULUS =
        0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;

    IHalo2Verifier public immutable verifier;
    bytes32 public immutable vkHash;
    uint256 public immutable inputHashLength;
    uint256 public immutable outputLength;
    uint256 public immutable outputScale;
    uint256[] private weightsCommitment;

    mapping(bytes32 => bool) public proofUsed;
    int256[] private latest;
    uint256 public resultCount;

    event InferenceVerified(
        uint256 indexed id, address indexed submitter, bytes32 proofHash, int256[] outputs
    );

    error WrongInstanceCount(uint256 expected, uint256 got);
    error WrongModel();
    error ProofAlreadyUsed(bytes32 proofHash);
    error ProofRejected();
    error NoResultYet();

    constructor(
        IHalo2Verifier verifier_,
        bytes32 vkHash_,
        uint256 inputHashLength_,
        uint256[] memory weightsCommitment_,
        uint256 outputLength_,
        uint256 outputScale_
    ) {
        verifier = verifier_;
        vkHash = vkHash_;
        inputHashLength = inputHashLength_;
        weightsCommitment = weightsCommitment_;
        outputLength = outputLength_;
        outputScale = outputScale_;
    }

    /// Verify (proof, instances) through the pinned verifier and record its outputs.
    function submit(bytes calldata proof, uint256[] calldata instances)
        external
        returns (uint256 id)
    {
        uint256 commitmentLength = weightsCommitment.length;
        uint256 expected = inputHashLength + commitmentLength + outputLength;
        if (instances.length != expected) revert WrongInstanceCount(expected, instances.length);
        for (uint256 i = 0; i < commitmentLength; i++) {
            if (instances[inputHashLength + i] != weightsCommitment[i]) revert WrongModel();
        }
        bytes32 proofHash = keccak256(proof);
        if (proofUsed[proofHash]) revert ProofAlreadyUsed(proofHash);

        bool ok;
        try verifier.verifyProof(proof, instances) returns (bool valid) {
            ok = valid;
        } catch {
            ok = false;
        }
        if (!ok) revert ProofRejected();

        proofUsed[proofHash] = true;
        delete latest;
        uint256 first = inputHashLength + commitmentLength;
        for (uint256 i = 0; i < outputLength; i++) {
            latest.push(_signed(instances[first + i]));
        }
        id = ++resultCount;
        emit InferenceVerified(id, msg.sender, proofHash, latest);
    }

    /// The latest verified outputs, fixed point with `outputScale` fractional bits.
    function latestOutputs() external view returns (int256[] memory) {
        if (resultCount == 0) revert NoResultYet();
        return latest;
    }

    /// Index of the largest latest output: the predicted class of a classifier.
    function latestPrediction() external view returns (uint256 best) {
        if (resultCount == 0) revert NoResultYet();
        for (uint256 i = 1; i < latest.length; i++) {
            if (latest[i] > latest[best]) best = i;
        }
    }

    function modelCommitment() external view returns (uint256[] memory) {
        return weightsCommitment;
    }

    function _signed(uint256 felt) private pure returns (int256) {
        return felt > FIELD_MODULUS / 2 ? -int256(FIELD_MODULUS - felt) : int256(felt);
    }
}
