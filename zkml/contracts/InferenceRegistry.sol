// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

/// The verifier ezkl generates for one circuit; its code embeds that circuit's verifying key.
interface IHalo2Verifier {
    function verifyProof(bytes calldata proof, uint256[] calldata instances) external returns (bool);
}

/// ezkl's reusable verifier (Halo2VerifierReusable): one contract for every circuit. A circuit's
/// verifying key travels with each call as its VKA (verifying-key artifact, bytes32 words),
/// which must have been registered on the verifier once. It reverts on an invalid proof.
interface IHalo2VerifierReusable {
    function registerVka(bytes32[] calldata vka) external returns (bytes32 digest);
    function verifyProof(bytes calldata proof, uint256[] calldata instances, bytes32[] calldata vka)
        external
        returns (bool success, bytes32 digest, int256[] memory rescaled);
}

/// An application's record of zero-knowledge-verified inferences, each under the subject it is
/// about, across the model versions the application approves over the years.
///
/// Versions. The owner adds model versions (`addVersion`), numbered 1, 2, ...; each pins its
/// verifier (its own, whose bytecode embeds the verifying key, or a shared reusable verifier
/// with this version's VKA, kept as the code of a data contract the registry creates) and the
/// verifier's code hash at that moment, the verifying key's sha256 (`vkHash`, for audits), a
/// digest of the model, the weights' commitment when the weights are private, the instance
/// layout (subjects per proof, where their commitments are, output lengths and fixed-point
/// scales), the output labels, and its activation time: the time it was added plus the
/// registry's `activationDelaySeconds` (set at deployment, never changed). A version is
/// - pending from `addVersion` until its activation time: it records proofs (`resultOf` reads
///   them) but does not count for `currentResultOf` or `latestActiveVersion`;
/// - active from then on, until the owner retires it;
/// - retired (`retireVersion`, at once and final): it records nothing new and counts for
///   nothing; its results stay readable.
/// Nothing else about a version ever changes, and nobody but the owner adds or retires one.
///
/// Owner. The deployer; ownership moves in two steps: `transferOwnership(next)` by the owner,
/// then `acceptOwnership()` by `next` (proposing address(0) cancels).
///
/// Results are keyed by (version, commitment). A subject is identified by the commitment the
/// circuit publishes for its private input and a secret salt, in one of two schemes:
/// - KZG (`commitmentsInProof`): the commitments to the columns holding the subject's input
///   and salt (ezkl spreads a long input over several): `commitmentPoints` points of the proof
///   (x, y big-endian, 64 bytes each), subject j's starting at point j * `commitmentStride`;
///   its key here is keccak256 of all of them, so it binds every value of the input;
/// - Poseidon: Poseidon(input ‖ salt), the j-th public instance; its key is that value.
/// An app reads one version's result (`resultOf`: pinned to a version it reviewed), or the
/// newest active version's that holds one (`currentResultOf`).
///
/// Threat model:
/// - Anyone may submit: the proof is the only authority. msg.sender is irrelevant and not stored.
/// - The model is deterministic, so every valid proof of a version for a commitment carries the
///   same outputs. A result is recorded once under (version, commitment) and never changed. A
///   front-runner copying a pending transaction gains nothing: the same outputs under the same
///   key (the original transaction then reverts early with AlreadyRecorded).
/// - The owner can: add a version, which counts for currentResultOf only from its activation
///   time (announced in VersionAdded and versionInfo, activationDelaySeconds after it was
///   added); retire a version at once (currentResultOf then falls back to an older active
///   version's result, recorded through that version's verifier, or to none); hand ownership
///   over in two steps. The owner cannot: change or delete a result; change anything about a
///   version after adding it; change the activation delay; make a version count before its
///   activation time; bring a retired version back; record a result in a version without its
///   verifier's acceptance (submit ignores msg.sender). So a version whose verifier accepts
///   anything, added to take over a subject's current result, is public for the delay before
///   it counts: apps and subjects see it coming, and an app that pins the versions it reviewed
///   (`resultOf(version, commitment)`) is not affected at all.
/// - A version's verifier code hash is recorded by addVersion. Code cannot change once the
///   transaction that created it has ended (EIP-6780), unless that transaction destroyed it:
///   a verifier created in the very transaction that added it (only an owner acting through
///   code can do that) could be redeployed later with other code. Check that a version's
///   verifier predates it and that its code hash is still the recorded one.
/// - Public: the commitments and the outputs. The input and salt stay private; a commitment
///   reveals nothing of the input as long as the salt is secret.
///
/// Public instances, flattened as ezkl lays them out (BN254 scalar-field elements):
///   [Poseidon commitments: subjects, none with KZG] [weights commitment] [output 0: subjects ×
///   L0] [output 1: ...] ...
/// with each output row-major (subject j's row of output k: j*Lk .. (j+1)*Lk - 1 of its block).
/// Outputs are fixed point, x * 2^outputScales[k], negatives as p - |x|.
///
/// Storage: what submit reads of a version is one slot (`Config`: verifier, result counter,
/// layout, status), plus one more only for several model outputs (their packed lengths), private
/// weights (their hash) or a shared verifier (the VKA's data contract and the proof's length). Per subject, lanes of 64
/// bits, 4 to a 32-byte word: lane 0 = result id (uint32, per version, nonzero iff recorded) |
/// the recording block's low 32 bits << 32, lanes 1.. = the subject's outputs concatenated, as
/// int64 (an output that does not fit is rejected). Word w of a subject is
/// _results[version][commitment][w]; a subject with at most 3 outputs takes exactly one slot,
/// written once. Nothing is stored per proof: a proof whose subjects are all recorded is refused
/// before it is verified (AlreadyRecorded).
contract InferenceRegistry {
    uint256 internal constant FIELD_MODULUS =
        0x30644e72e131a029b85045b68181585d2833e84879b9709143e1f593f0000001;
    uint256 internal constant INT64_LIMIT = 1 << 63;
    uint256 internal constant LANES_PER_WORD = 4;
    uint256 internal constant LANE_BITS = 64;
    uint256 internal constant MAX_SCALE = 63;
    uint256 internal constant LANE_MASK = 0xffffffffffffffff;
    uint256 internal constant ID_MASK = 0xffffffff;
    /// The smallest field element standing for a negative int64: p - 2^63.
    uint256 internal constant NEGATIVE_FLOOR =
        0x30644e72e131a029b85045b68181585d2833e84879b97090c3e1f593f0000001;
    /// For inline assembly (tests check both against the compiler's):
    /// OutputOutOfRange.selector, and InferenceVerified.selector.
    uint256 internal constant OUTPUT_OUT_OF_RANGE =
        0x13e406b800000000000000000000000000000000000000000000000000000000;
    bytes32 internal constant INFERENCE_VERIFIED =
        0x658086e949dbde6114f53821eec62790edf102336f0f40d29e2d4361c42c1ee1;
    /// Up to this many output lengths are read from one slot (uint32 each).
    uint256 internal constant PACKED_LENGTHS = 8;
    /// A data contract holds at most this much code (EIP-170), one STOP byte and the VKA.
    uint256 internal constant MAX_VKA_WORDS = 767; // (24,576 - 1) / 32

    /// The longest activation delay a registry accepts: a year (a longer one is a mistake).
    uint256 internal constant MAX_ACTIVATION_DELAY = 365 days;

    uint8 internal constant ACTIVE = 1; // not retired (records proofs; counts once activated)
    uint8 internal constant KZG = 2; // commitments in the proof
    uint8 internal constant SHARED = 4; // a reusable verifier, called with the version's VKA
    uint8 internal constant WIDE_STRIDE = 8; // KZG: subjects' points are points + 1 apart
    /// A subject's KZG key covers at most this many points (Config.points is a uint8).
    uint256 internal constant MAX_COMMITMENT_POINTS = 255;

    /// What submit reads of a version: one storage slot.
    struct Config {
        address verifier;
        uint32 results; // the last result id of this version
        uint16 subjects;
        uint16 outputsPerSubject;
        uint8 weightsLength;
        uint8 outputCount;
        uint8 flags; // ACTIVE (not retired) | KZG | SHARED | WIDE_STRIDE
        uint8 points; // KZG: points per subject's key
    }

    /// The rest of a version, read by views (and by submit: weightsHash for private weights,
    /// vka for a shared verifier, outputLengths' first slot for several outputs).
    struct Details {
        bytes32 vkHash;
        bytes32 modelDigest;
        bytes32 weightsHash;
        address vka; // the data contract whose code is STOP ‖ the VKA's words; 0: own verifier
        uint32 proofBytes; // a proof's exact length (ezkl's reusable verifier does not check it)
        uint64 addedBlock;
        uint64 retiredBlock;
        uint256[] weightsCommitment;
        uint32[] outputLengths; // 8 to a slot, output 0 in the low bits
        uint8[] outputScales;
        string[] labels;
        uint64 activatesAt; // when it starts counting for currentResultOf (a unix time)
        bytes32 verifierCodeHash; // the verifier's EXTCODEHASH at addVersion
    }

    /// A new version, as `addVersion` takes it.
    struct VersionSpec {
        address verifier;
        bytes32 vkHash;
        bytes32 modelDigest; // sha256 of the model's ONNX file (what was reviewed)
        uint256 proofBytes; // a proof's length (checked here for a shared verifier)
        uint256 subjects;
        bool commitmentsInProof;
        uint256 commitmentPoints; // KZG: points per subject (1..255); Poseidon: 0
        uint256 commitmentStride; // KZG: points from one subject's first to the next's; 0
        uint256[] weightsCommitment; // empty unless the weights are private
        uint256[] outputLengths; // per model output: elements per subject
        uint256[] outputScales;
        string[] labels; // names of output 0's elements (classes), or none
    }

    /// A version, as `versionInfo` returns it.
    struct Version {
        address verifier;
        address vka; // 0 unless the verifier is shared
        bool active; // its activation time has passed and it is not retired
        bool commitmentsInProof;
        uint256 subjects;
        uint256 instanceCount;
        uint256 outputsPerSubject;
        uint256 resultCount;
        bytes32 vkHash;
        bytes32 modelDigest;
        uint256 proofBytes;
        uint256 addedBlock;
        uint256 retiredBlock; // 0 while active
        uint256[] weightsCommitment;
        uint256[] outputLengths;
        uint256[] outputScales;
        string[] labels;
        uint256 activatesAt; // its activation time (unix seconds): pending before, active after
        bytes32 verifierCodeHash; // the verifier's code hash when the version was added
        uint256 commitmentPoints; // KZG: points per subject's key; 0 for Poseidon
        uint256 commitmentStride; // KZG: points from one subject's first to the next's
    }

    // Storage layout (the tests compute slots from it): 0 owner, 1 pendingOwner, 2
    // versionCount, 3 _configs, 4 _details, 5 _results.
    address public owner;
    address public pendingOwner;
    uint256 public versionCount;
    mapping(uint256 version => Config) internal _configs;
    mapping(uint256 version => Details) internal _details;
    /// version => commitment => word index => 4 packed lanes.
    mapping(uint256 version => mapping(uint256 commitment => mapping(uint256 word => uint256)))
        internal _results;

    /// The block the registry was deployed in: where to start reading its events.
    uint256 public immutable deployedAt;
    /// Seconds from a version's addition to its activation time: how long every new version is
    /// public before it counts for currentResultOf. Set at deployment, never changed. (Its
    /// getter's selector sorts where it leaves submit's dispatch as short as it was.)
    uint256 public immutable activationDelaySeconds;

    event VersionAdded(
        uint256 indexed version,
        address indexed verifier,
        bytes32 vkHash,
        bytes32 modelDigest,
        address vka,
        uint256 activatesAt,
        bytes32 verifierCodeHash
    );
    event VersionRetired(uint256 indexed version);
    event OwnershipTransferStarted(address indexed owner, address indexed pendingOwner);
    event OwnershipTransferred(address indexed previousOwner, address indexed newOwner);
    event InferenceVerified(
        uint256 indexed version, uint256 indexed id, uint256 indexed commitment, int256[] outputs
    );

    error ActivationDelayTooLong(uint256 delay);
    error NotOwner(address caller);
    error NotPendingOwner(address caller);
    error NoSuchVersion(uint256 version);
    error VersionIsRetired(uint256 version);

    error VerifierHasNoCode(address verifier);
    error NoSubjects();
    error TooManySubjects(uint256 subjects);
    error NoOutputs();
    error TooManyOutputs(uint256 outputsPerSubject);
    error ScalesMismatch(uint256 outputs, uint256 scales);
    error EmptyOutput(uint256 output);
    error ScaleOutOfRange(uint256 output);
    error TooManyWeights(uint256 weights);
    error LabelsMismatch(uint256 classes, uint256 labels);
    error VkaTooLarge(uint256 words);
    error VkaNotStored();
    error ProofBytesOutOfRange(uint256 proofBytes);
    error BadCommitmentLayout(uint256 points, uint256 stride);

    error WrongInstanceCount(uint256 expected, uint256 got);
    error WrongModel();
    /// Every subject of the proof has a result in this version already (the first one's is
    /// given): nothing to record, so the proof is not verified.
    error AlreadyRecorded(uint256 version, uint256 commitment, uint256 id);
    error ProofRejected();
    /// instances[index] is not a field element whose signed value fits an int64.
    error OutputOutOfRange(uint256 index);
    error TooManyResults(uint256 version);

    error NoResult(uint256 version, uint256 commitment);
    error NotAClassifier(uint256 version);

    /// @param delay the activation delay in seconds (at most a year): 0 only on a development
    /// chain, where nobody relies on currentResultOf.
    constructor(uint256 delay) {
        if (delay > MAX_ACTIVATION_DELAY) revert ActivationDelayTooLong(delay);
        owner = msg.sender;
        deployedAt = block.number;
        activationDelaySeconds = delay;
        emit OwnershipTransferred(address(0), msg.sender);
    }

    modifier onlyOwner() {
        if (msg.sender != owner) revert NotOwner(msg.sender);
        _;
    }

    // ---- owner -------------------------------------------------------------------------------

    /// Step 1 of 2: propose the next owner (address(0) cancels a proposal).
    function transferOwnership(address next) external onlyOwner {
        pendingOwner = next;
        emit OwnershipTransferStarted(msg.sender, next);
    }

    /// Step 2 of 2: the proposed owner takes over.
    function acceptOwnership() external {
        if (msg.sender != pendingOwner || msg.sender == address(0)) {
            revert NotPendingOwner(msg.sender);
        }
        emit OwnershipTransferred(owner, msg.sender);
        owner = msg.sender;
        pendingOwner = address(0);
    }

    /// Adds a model version: it records proofs from now on, and counts for currentResultOf from
    /// its activation time, activationDelaySeconds from now. With a VKA, `spec.verifier` is a
    /// shared reusable verifier: the VKA is stored as a data contract's code and registered on
    /// it.
    function addVersion(VersionSpec calldata spec, bytes32[] calldata vka)
        external
        onlyOwner
        returns (uint256 version)
    {
        if (spec.verifier.code.length == 0) revert VerifierHasNoCode(spec.verifier);
        if (spec.subjects == 0) revert NoSubjects();
        if (spec.subjects > type(uint16).max) revert TooManySubjects(spec.subjects);
        uint256 outputCount = spec.outputLengths.length;
        if (outputCount == 0) revert NoOutputs();
        if (spec.outputScales.length != outputCount) {
            revert ScalesMismatch(outputCount, spec.outputScales.length);
        }
        if (spec.weightsCommitment.length > type(uint8).max) {
            revert TooManyWeights(spec.weightsCommitment.length);
        }
        if (spec.labels.length != 0 && spec.labels.length != spec.outputLengths[0]) {
            revert LabelsMismatch(spec.outputLengths[0], spec.labels.length);
        }
        if (spec.proofBytes == 0 || spec.proofBytes > type(uint32).max) {
            revert ProofBytesOutOfRange(spec.proofBytes);
        }
        version = ++versionCount;
        Details storage details = _details[version];
        uint256 total;
        for (uint256 k = 0; k < outputCount; k++) {
            uint256 length = spec.outputLengths[k];
            if (length == 0) revert EmptyOutput(k);
            if (spec.outputScales[k] > MAX_SCALE) revert ScaleOutOfRange(k);
            total += length;
            if (total > type(uint16).max) revert TooManyOutputs(total);
            // forge-lint: disable-next-line(unsafe-typecast)
            details.outputLengths.push(uint32(length));
            // forge-lint: disable-next-line(unsafe-typecast)
            details.outputScales.push(uint8(spec.outputScales[k]));
        }
        if (outputCount > type(uint8).max) revert TooManyOutputs(total); // lengths >= 1 each

        uint8 flags = ACTIVE | (spec.commitmentsInProof ? KZG : 0) | _strideFlag(spec);
        if (vka.length != 0) {
            flags |= SHARED;
            details.vka = _storeVka(vka);
            IHalo2VerifierReusable(spec.verifier).registerVka(vka);
        }
        details.vkHash = spec.vkHash;
        details.modelDigest = spec.modelDigest;
        // forge-lint: disable-next-line(unsafe-typecast)
        details.proofBytes = uint32(spec.proofBytes);
        // forge-lint: disable-next-line(unsafe-typecast)
        details.addedBlock = uint64(block.number);
        if (spec.weightsCommitment.length != 0) {
            details.weightsCommitment = spec.weightsCommitment;
            details.weightsHash = keccak256(abi.encodePacked(spec.weightsCommitment));
        }
        for (uint256 i = 0; i < spec.labels.length; i++) details.labels.push(spec.labels[i]);
        // forge-lint: disable-next-line(unsafe-typecast)
        details.activatesAt = uint64(block.timestamp + activationDelaySeconds); // far below 2^64
        details.verifierCodeHash = spec.verifier.codehash;
        // forge-lint: disable-start(unsafe-typecast)
        _configs[version] = Config({
            verifier: spec.verifier,
            results: 0,
            subjects: uint16(spec.subjects),
            outputsPerSubject: uint16(total),
            weightsLength: uint8(spec.weightsCommitment.length),
            outputCount: uint8(outputCount),
            flags: flags,
            points: uint8(spec.commitmentPoints)
        });
        // forge-lint: disable-end(unsafe-typecast)
        emit VersionAdded(
            version,
            spec.verifier,
            spec.vkHash,
            spec.modelDigest,
            details.vka,
            details.activatesAt,
            details.verifierCodeHash
        );
    }

    /// KZG: subject j's points start at point j * stride, stride = points or points + 1 (ezkl
    /// may give a subject one empty column more than its values fill); one subject: any.
    function _strideFlag(VersionSpec calldata spec) private pure returns (uint8) {
        (uint256 points, uint256 stride) = (spec.commitmentPoints, spec.commitmentStride);
        if (!spec.commitmentsInProof) {
            if (points != 0 || stride != 0) revert BadCommitmentLayout(points, stride);
            return 0;
        }
        if (points == 0 || points > MAX_COMMITMENT_POINTS) revert BadCommitmentLayout(points, stride);
        if (spec.subjects == 1 || stride == points) return 0;
        if (stride == points + 1) return WIDE_STRIDE;
        revert BadCommitmentLayout(points, stride);
    }

    /// A retired version records nothing new and counts for nothing from this block on; its
    /// results stay readable. Final. (Immediate, unlike addVersion: a brake, which can only
    /// make currentResultOf fall back to an older active version's result.)
    function retireVersion(uint256 version) external onlyOwner {
        Config storage config = _existing(version);
        if (config.flags & ACTIVE == 0) revert VersionIsRetired(version);
        config.flags &= ~ACTIVE;
        // forge-lint: disable-next-line(unsafe-typecast)
        _details[version].retiredBlock = uint64(block.number);
        emit VersionRetired(version);
    }

    // ---- recording ---------------------------------------------------------------------------

    /// Verify (proof, instances) through the version's verifier and record each subject's
    /// outputs under (version, commitment). Checks, in order: the version exists
    /// (NoSuchVersion) and is not retired (VersionIsRetired; a pending version records, so
    /// that its results are there when it starts to count), instance count (WrongInstanceCount),
    /// weights commitment (WrongModel), some subject not recorded yet in this version (else
    /// AlreadyRecorded: a replay, or a copy of a pending transaction mined first), the verifier
    /// accepts (else ProofRejected), every output a canonical field element fitting an int64
    /// (OutputOutOfRange). A subject already recorded, before or earlier in this batch, is
    /// skipped without an event: its outputs are necessarily the same.
    /// @return recorded how many subjects were newly recorded, each with the next result id.
    function submit(uint256 version, bytes calldata proof, uint256[] calldata instances)
        external
        returns (uint256 recorded)
    {
        Config memory config = _configs[version];
        uint256[] memory commitments = _checked(version, config, proof, instances);
        if (!_verified(config, version, proof, instances)) revert ProofRejected();
        recorded = _recordAll(version, config, instances, commitments);
    }

    /// submit's checks before the verifier; returns the subjects' keys.
    function _checked(
        uint256 version,
        Config memory config,
        bytes calldata proof,
        uint256[] calldata instances
    ) private view returns (uint256[] memory commitments) {
        if (config.verifier == address(0)) revert NoSuchVersion(version);
        if (config.flags & ACTIVE == 0) revert VersionIsRetired(version);
        uint256 count = config.subjects;
        bool inProof = config.flags & KZG != 0;
        uint256 hashes = inProof ? 0 : count;
        uint256 expected = hashes + config.weightsLength + count * uint256(config.outputsPerSubject);
        if (instances.length != expected) revert WrongInstanceCount(expected, instances.length);
        if (
            config.weightsLength != 0
                && _calldataHash(instances, hashes, config.weightsLength)
                    != _details[version].weightsHash
        ) revert WrongModel();
        commitments = _commitments(proof, instances, count, config);
        _requireSomethingNew(version, commitments);
    }

    /// Records every subject not recorded yet, with the version's next result ids.
    function _recordAll(
        uint256 version,
        Config memory config,
        uint256[] calldata instances,
        uint256[] memory commitments
    ) private returns (uint256 recorded) {
        uint256 count = commitments.length;
        uint256[] memory rows =
            _rows(version, config, count, config.flags & KZG != 0 ? 0 : count);
        bytes memory buffer = _eventBuffer(version, config.outputsPerSubject);
        uint256 id = uint256(config.results) + 1;
        for (uint256 j = 0; j < count; j++) {
            // false: recorded before, or earlier in this batch; its outputs are the same, kept.
            if (_record(instances, commitments[j], rows, buffer, id)) {
                unchecked {
                    id++; // far below 2^256; checked against uint32 below
                    recorded++;
                }
            }
        }
        if (recorded != 0) {
            if (id - 1 > ID_MASK) revert TooManyResults(version);
            // forge-lint: disable-next-line(unsafe-typecast)
            _configs[version].results = uint32(id - 1);
        }
    }

    /// The subjects' commitments, as results are keyed: keccak256 of subject j's points of the
    /// proof (KZG), or the j-th instance (Poseidon). The verifier reads the points as canonical
    /// (coordinates below the base field's modulus, on the curve) and checks the proof's exact
    /// length, so a proof it accepts has one encoding of them.
    function _commitments(
        bytes calldata proof,
        uint256[] calldata instances,
        uint256 count,
        Config memory config
    ) private pure returns (uint256[] memory commitments) {
        if (config.flags & KZG == 0) return instances[:count];
        uint256 size = 64 * uint256(config.points); // bytes of a subject's points
        uint256 step = config.flags & WIDE_STRIDE != 0 ? size + 64 : size;
        // the verifier checks the proof's length too; this keeps every read inside the proof
        if (proof.length < step * (count - 1) + size) revert ProofRejected();
        commitments = new uint256[](count);
        assembly ("memory-safe") {
            let buffer := mload(0x40) // scratch past the free memory pointer
            for { let j := 0 } lt(j, count) { j := add(j, 1) } {
                calldatacopy(buffer, add(proof.offset, mul(step, j)), size)
                mstore(add(commitments, shl(5, add(j, 1))), keccak256(buffer, size))
            }
        }
    }

    /// Reverts AlreadyRecorded when every subject has a result in this version: a replayed
    /// proof records nothing, so it costs its sender a few storage reads, not a verification.
    function _requireSomethingNew(uint256 version, uint256[] memory commitments) private view {
        mapping(uint256 => mapping(uint256 => uint256)) storage results = _results[version];
        for (uint256 j = 0; j < commitments.length; j++) {
            if (results[commitments[j]][0] == 0) return;
        }
        revert AlreadyRecorded(version, commitments[0], results[commitments[0]][0] & ID_MASK);
    }

    /// Calls the version's verifier, reading at most one return word: accepted iff the call
    /// succeeds and returns exactly true (own verifier), or a first word of 1 (a shared one,
    /// which returns more and reverts on an invalid proof). ezkl's own verifier checks the
    /// proof's exact length; its reusable one only that the proof is whole words (it ignores a
    /// word appended), so for a shared verifier the length is checked here: one encoding of a
    /// proof, as with an own verifier.
    function _verified(
        Config memory config,
        uint256 version,
        bytes calldata proof,
        uint256[] calldata instances
    ) private returns (bool accepted) {
        bool shared = config.flags & SHARED != 0;
        bytes memory verifyCall;
        if (shared) {
            Details storage details = _details[version];
            (address vka, uint256 proofBytes) = (details.vka, details.proofBytes); // one slot
            if (proof.length != proofBytes) return false;
            verifyCall = abi.encodeCall(
                IHalo2VerifierReusable.verifyProof, (proof, instances, _vkaWords(vka))
            );
        } else {
            verifyCall = abi.encodeCall(IHalo2Verifier.verifyProof, (proof, instances));
        }
        address target = config.verifier;
        assembly ("memory-safe") {
            let ok := call(gas(), target, 0, add(verifyCall, 0x20), mload(verifyCall), 0, 0x20)
            let size := returndatasize()
            let sized := eq(size, 0x20)
            if shared { sized := iszero(lt(size, 0x20)) }
            accepted := and(ok, and(sized, eq(mload(0), 1)))
        }
    }

    /// A data contract whose code is STOP followed by the VKA's words: the cheapest place to
    /// read 4-6 KB from on every submit (EXTCODECOPY), immutable once created.
    function _storeVka(bytes32[] calldata vka) private returns (address pointer) {
        if (vka.length > MAX_VKA_WORDS) revert VkaTooLarge(vka.length);
        uint256 size = 1 + 32 * vka.length;
        // PUSH2 size, DUP1, PUSH1 12, PUSH1 0, CODECOPY, PUSH1 0, RETURN; then the code: STOP ‖ vka
        bytes memory init = abi.encodePacked(
            // forge-lint: disable-next-line(unsafe-typecast)
            hex"61", uint16(size), hex"80600c6000396000f3", hex"00", vka // size < 2^15
        );
        assembly ("memory-safe") {
            pointer := create(0, add(init, 0x20), mload(init))
        }
        if (pointer == address(0) || pointer.code.length != size) revert VkaNotStored();
    }

    function _vkaWords(address pointer) private view returns (bytes32[] memory words) {
        uint256 n = (pointer.code.length - 1) / 32;
        words = new bytes32[](n);
        assembly ("memory-safe") {
            extcodecopy(pointer, add(words, 0x20), 1, shl(5, n))
        }
    }

    /// [version][_results[version]'s slot] then memory laid out as abi.encode(int256[n]) minus
    /// the values: [0x20][n][n free words]. (The first two words keep _record's stack small.)
    function _eventBuffer(uint256 version, uint256 n) private pure returns (bytes memory buffer) {
        buffer = new bytes(0x80 + 0x20 * n);
        assembly ("memory-safe") {
            mstore(add(buffer, 0x20), version)
            mstore(0, version)
            mstore(0x20, _results.slot)
            mstore(add(buffer, 0x40), keccak256(0, 0x40))
            mstore(add(buffer, 0x60), 0x20)
            mstore(add(buffer, 0x80), n)
        }
    }

    /// Records a subject, whose outputs start at `rows`, unless its commitment already has a
    /// result in this version, and emits InferenceVerified for it. Storage: lane 0 = id | block
    /// << 32, then its outputs (all model outputs concatenated) as int64 lanes, 4 lanes to a
    /// word, at _results[version][commitment][word]; words left zero are not written. Reverts
    /// OutputOutOfRange unless each output is a canonical field element that fits an int64,
    /// also when the subject is skipped. Moves `rows` on to the next subject's. Assembly, as
    /// this runs per subject: `instances` has been checked to hold the version's instance
    /// count, so every index is in range.
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
            mstore(0x20, mload(add(buffer, 0x40))) // _results[version]
            mstore(0x20, keccak256(0, 0x40)) // _results[version][commitment]
            mstore(0, 0)
            let slot := keccak256(0, 0x40)
            fresh := iszero(sload(slot))
            let word := or(id, shl(32, and(number(), ID_MASK))) // lane 0; written only when fresh
            let shift := 64 // the next lane's bit offset in `word`
            let out := add(buffer, 0xa0) // the next output's place in the event data
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
                log4(
                    add(buffer, 0x60),
                    sub(mload(buffer), 0x40),
                    INFERENCE_VERIFIED,
                    mload(add(buffer, 0x20)),
                    id,
                    commitment
                )
            }
        }
    }

    /// [row of output 0, its length, row of output 1, ...] for subject 0, where a row is the
    /// instance index of a subject's first element of that output.
    function _rows(uint256 version, Config memory config, uint256 count, uint256 hashes)
        private
        view
        returns (uint256[] memory rows)
    {
        uint256 next = hashes + config.weightsLength;
        uint256 outputCount = config.outputCount;
        rows = new uint256[](2 * outputCount);
        if (outputCount == 1) {
            (rows[0], rows[1]) = (next, config.outputsPerSubject);
            return rows;
        }
        uint32[] storage lengths = _details[version].outputLengths;
        if (outputCount > PACKED_LENGTHS) {
            for (uint256 k = 0; k < outputCount; k++) {
                uint256 length = lengths[k];
                (rows[2 * k], rows[2 * k + 1]) = (next, length);
                next += count * length;
            }
            return rows;
        }
        uint256 packed;
        assembly ("memory-safe") {
            mstore(0, lengths.slot)
            packed := sload(keccak256(0, 0x20)) // lengths 0..7, 32 bits each, output 0 lowest
        }
        for (uint256 k = 0; k < outputCount; k++) {
            uint256 length = (packed >> (32 * k)) & 0xffffffff;
            (rows[2 * k], rows[2 * k + 1]) = (next, length);
            next += count * length;
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

    // ---- reading -----------------------------------------------------------------------------

    function _existing(uint256 version) private view returns (Config storage config) {
        config = _configs[version];
        if (config.verifier == address(0)) revert NoSuchVersion(version);
    }

    function _word0(uint256 version, uint256 commitment) private view returns (uint256) {
        _existing(version);
        return _results[version][commitment][0];
    }

    /// All outputs of the subject with this commitment recorded by this version, model outputs
    /// concatenated, fixed point (x * 2^scale).
    function resultOf(uint256 version, uint256 commitment)
        public
        view
        returns (int256[] memory outputs)
    {
        mapping(uint256 => uint256) storage words = _results[version][commitment];
        uint256 word = _word0(version, commitment);
        if (word == 0) revert NoResult(version, commitment);
        outputs = new int256[](_configs[version].outputsPerSubject);
        for (uint256 t = 0; t < outputs.length; t++) {
            uint256 lane = t + 1;
            if (lane % LANES_PER_WORD == 0) word = words[lane / LANES_PER_WORD];
            outputs[t] = _lane(word, lane % LANES_PER_WORD);
        }
    }

    function hasResult(uint256 version, uint256 commitment) public view returns (bool) {
        return _word0(version, commitment) != 0;
    }

    /// The result's id in its version (1, 2, ...), or 0 when the commitment has no result.
    function resultIdOf(uint256 version, uint256 commitment) external view returns (uint256) {
        return _word0(version, commitment) & ID_MASK;
    }

    /// The block that recorded the result (its low 32 bits), or 0 when there is none.
    function resultBlockOf(uint256 version, uint256 commitment) external view returns (uint256) {
        return (_word0(version, commitment) >> 32) & ID_MASK;
    }

    /// Index of the subject's largest element of model output 0 (the first on a tie): the
    /// predicted class of a classifier.
    function predictionOf(uint256 version, uint256 commitment)
        external
        view
        returns (uint256 best)
    {
        uint256 word = _word0(version, commitment);
        uint256 classes = _details[version].outputLengths[0];
        if (classes == 1) revert NotAClassifier(version);
        if (word == 0) revert NoResult(version, commitment);
        mapping(uint256 => uint256) storage words = _results[version][commitment];
        int256 bestValue = _lane(word, 1);
        for (uint256 c = 1; c < classes; c++) {
            uint256 lane = c + 1;
            if (lane % LANES_PER_WORD == 0) word = words[lane / LANES_PER_WORD];
            int256 value = _lane(word, lane % LANES_PER_WORD);
            if (value > bestValue) (best, bestValue) = (c, value);
        }
    }

    /// The newest active version holding a result for this commitment, and that result: what an
    /// app asks of the models it approves now. Pending and retired versions are passed over.
    /// Reverts NoResult(0, commitment) when no active version holds one.
    function currentResultOf(uint256 commitment)
        external
        view
        returns (uint256 version, int256[] memory outputs)
    {
        for (version = versionCount; version != 0; version--) {
            if (_results[version][commitment][0] != 0 && _active(version)) {
                return (version, resultOf(version, commitment));
            }
        }
        revert NoResult(0, commitment);
    }

    /// The newest active version (0 when there is none: none added, all pending or retired).
    function latestActiveVersion() external view returns (uint256 version) {
        for (version = versionCount; version != 0; version--) {
            if (_active(version)) return version;
        }
    }

    /// Whether the version's activation time has passed and it is not retired.
    function isActive(uint256 version) external view returns (bool) {
        _existing(version);
        return _active(version);
    }

    function _active(uint256 version) private view returns (bool) {
        return
            _configs[version].flags & ACTIVE != 0
                && _details[version].activatesAt <= block.timestamp;
    }

    /// How many subjects' results this version recorded; the last one has this id.
    function resultCount(uint256 version) external view returns (uint256) {
        return _existing(version).results;
    }

    /// Everything recorded about a version.
    function versionInfo(uint256 version) external view returns (Version memory info) {
        Config memory config = _existing(version);
        Details storage details = _details[version];
        bool inProof = config.flags & KZG != 0;
        info.verifier = config.verifier;
        info.vka = details.vka;
        info.active = _active(version);
        info.commitmentsInProof = inProof;
        if (inProof) {
            info.commitmentPoints = config.points;
            info.commitmentStride =
                config.flags & WIDE_STRIDE != 0 ? uint256(config.points) + 1 : config.points;
        }
        info.subjects = config.subjects;
        info.outputsPerSubject = config.outputsPerSubject;
        info.instanceCount = (inProof ? 0 : uint256(config.subjects)) + config.weightsLength
            + uint256(config.subjects) * config.outputsPerSubject;
        info.resultCount = config.results;
        info.vkHash = details.vkHash;
        info.modelDigest = details.modelDigest;
        info.proofBytes = details.proofBytes;
        info.addedBlock = details.addedBlock;
        info.retiredBlock = details.retiredBlock;
        info.weightsCommitment = details.weightsCommitment;
        uint256 outputCount = config.outputCount;
        info.outputLengths = new uint256[](outputCount);
        info.outputScales = new uint256[](outputCount);
        for (uint256 k = 0; k < outputCount; k++) {
            info.outputLengths[k] = details.outputLengths[k];
            info.outputScales[k] = details.outputScales[k];
        }
        info.labels = details.labels;
        info.activatesAt = details.activatesAt;
        info.verifierCodeHash = details.verifierCodeHash;
    }

    function _lane(uint256 word, uint256 lane) private pure returns (int256) {
        // forge-lint: disable-next-line(unsafe-typecast)
        return int64(uint64(word >> (LANE_BITS * lane)));
    }
}
