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
    function submit(InferenceRegistry registry, bytes calldata proof, uint256[] calldata instances)
        external
        returns (uint256)
    {
        return registry.submit(proof, instances);
    }
}
