// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {InferenceRegistry} from "../../zkml/contracts/InferenceRegistry.sol";

/// Stands in for ezkl's verifier: its answer is configured, so every registry rule is testable
/// without a real proof.
contract MockVerifier {
    enum Mode {
        Accept,
        Reject, // returns false
        Revert,
        ReturnNothing, // succeeds with empty return data
        ReturnTwo, // succeeds with a word that is not an ABI bool
        AcceptExactCall // true only for calldata abi.encodeCall(verifyProof, expectCall's args)
    }

    Mode public mode;
    bytes32 public expectedCall;

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function expectCall(bytes calldata proof, uint256[] calldata instances) external {
        mode = Mode.AcceptExactCall;
        expectedCall = keccak256(abi.encodeCall(MockVerifier.verifyProof, (proof, instances)));
    }

    function verifyProof(bytes calldata, uint256[] calldata) external view returns (bool) {
        Mode current = mode;
        if (current == Mode.Accept) return true;
        if (current == Mode.Reject) return false;
        if (current == Mode.Revert) revert("invalid proof");
        if (current == Mode.ReturnNothing) {
            assembly {
                return(0, 0)
            }
        }
        if (current == Mode.ReturnTwo) {
            assembly {
                mstore(0, 2)
                return(0, 0x20)
            }
        }
        // ezkl's verifier reads calldata at fixed offsets: the encoding must be canonical
        return keccak256(msg.data) == expectedCall;
    }
}

/// The cheapest verifier that accepts: no storage, so gas measured around it is the registry's.
contract AcceptingVerifier {
    function verifyProof(bytes calldata, uint256[] calldata) external pure returns (bool) {
        return true;
    }
}

/// Another account submitting: a relayer, or a front-runner resending someone's calldata.
contract Relay {
    function submit(
        InferenceRegistry registry,
        uint256 version,
        bytes calldata proof,
        uint256[] calldata instances
    ) external returns (uint256) {
        return registry.submit(version, proof, instances);
    }
}

/// Stands in for ezkl's reusable verifier (Halo2VerifierReusable): anyone registers a VKA; a
/// proof is verified only with a registered VKA, which this mock records; an invalid proof
/// reverts (as the real one does), and the answer is a bool, the VKA's digest and the rescaled
/// instances (longer than one word).
contract MockReusableVerifier {
    enum Mode {
        Accept,
        Revert,
        ReturnFalse
    }

    Mode public mode;
    mapping(bytes32 digest => bool) public registered;
    uint256 public registrations;
    bytes32 public lastDigest; // the VKA the last accepted proof was verified with
    uint256 public verified;

    function setMode(Mode mode_) external {
        mode = mode_;
    }

    function registerVka(bytes32[] calldata vka) external returns (bytes32 digest) {
        digest = keccak256(abi.encodePacked(vka));
        registered[digest] = true;
        registrations++;
    }

    function verifyProof(bytes calldata, uint256[] calldata instances, bytes32[] calldata vka)
        external
        returns (bool, bytes32, int256[] memory rescaled)
    {
        bytes32 digest = keccak256(abi.encodePacked(vka));
        require(registered[digest], "VKA not registered");
        if (mode == Mode.Revert) revert("invalid proof");
        rescaled = new int256[](instances.length);
        if (mode == Mode.ReturnFalse) return (false, digest, rescaled);
        lastDigest = digest;
        verified++;
        return (true, digest, rescaled);
    }
}

/// Another account: calls whatever it is told to, so that a test can act as a stranger, or as
/// the next owner.
contract Actor {
    function act(address target, bytes calldata data)
        external
        returns (bool ok, bytes memory answer)
    {
        (ok, answer) = target.call(data);
    }
}
