// SPDX-License-Identifier: MIT
pragma solidity ^0.8.20;

import {IHalo2Verifier, InferenceRegistry} from "../InferenceRegistry.sol";
import {BreastCancerVerifier} from "./fixtures/BreastCancerVerifier.sol";
import {DigitsVerifier} from "./fixtures/DigitsVerifier.sol";
import {Fixtures} from "./fixtures/Fixtures.sol";

/// Forge tests on real proofs (contracts/test/fixtures, made by scripts/forge-fixtures).
/// Plain Solidity: a test fails by reverting, so no forge-std is needed offline.
contract InferenceRegistryTest {
    InferenceRegistry internal registry;
    IHalo2Verifier internal digitsVerifier;

    function setUp() public {
        registry = _registry(IHalo2Verifier(address(new BreastCancerVerifier())));
        digitsVerifier = IHalo2Verifier(address(new DigitsVerifier()));
    }

    function _registry(IHalo2Verifier verifier) internal returns (InferenceRegistry) {
        return new InferenceRegistry(
            verifier, Fixtures.BC_VK_HASH, 0, new uint256[](0), Fixtures.BC_OUTPUTS,
            Fixtures.BC_OUTPUT_SCALE
        );
    }

    function _expectRejected(
        InferenceRegistry target,
        bytes memory proof,
        uint256[] memory instances,
        bytes4 reason
    ) internal {
        try target.submit(proof, instances) {
            revert("a forged or replayed proof was accepted");
        } catch (bytes memory error) {
            require(bytes4(error) == reason, "rejected, but for another reason");
        }
    }

    function test_ValidProofIsAcceptedAndRecorded() public {
        uint256 id = registry.submit(Fixtures.bcProof(), Fixtures.bcInstances());
        require(id == 1 && registry.resultCount() == 1, "result not counted");
        int256[] memory outputs = registry.latestOutputs();
        require(outputs.length == 2, "wrong output count");
        require(outputs[0] == Fixtures.BC_OUTPUT0 && outputs[1] == Fixtures.BC_OUTPUT1, "outputs");
        require(registry.latestPrediction() == Fixtures.BC_PREDICTION, "prediction");
        require(registry.proofUsed(keccak256(Fixtures.bcProof())), "proof not marked used");
    }

    function test_VerifierAcceptsValidProofDirectly() public {
        BreastCancerVerifier verifier = new BreastCancerVerifier();
        require(verifier.verifyProof(Fixtures.bcProof(), Fixtures.bcInstances()), "rejected");
    }

    function test_TwoDifferentInferencesAreBothAccepted() public {
        registry.submit(Fixtures.bcProof(), Fixtures.bcInstances());
        registry.submit(Fixtures.bcSecondProof(), Fixtures.bcSecondInstances());
        require(registry.resultCount() == 2, "second inference not recorded");
    }

    function test_RevertWhen_EachInstanceTampered() public {
        bytes memory proof = Fixtures.bcProof();
        for (uint256 i = 0; i < Fixtures.BC_OUTPUTS; i++) {
            uint256[] memory instances = Fixtures.bcInstances();
            instances[i] = addmod(instances[i], 1, type(uint256).max);
            _expectRejected(registry, proof, instances, InferenceRegistry.ProofRejected.selector);
            instances[i] = 0;
            _expectRejected(registry, proof, instances, InferenceRegistry.ProofRejected.selector);
        }
    }

    function test_RevertWhen_ProofBytesTampered() public {
        uint256[] memory instances = Fixtures.bcInstances();
        uint256[3] memory positions = [uint256(0), 500, Fixtures.bcProof().length - 1];
        for (uint256 i = 0; i < positions.length; i++) {
            bytes memory proof = Fixtures.bcProof();
            proof[positions[i]] = bytes1(uint8(proof[positions[i]]) ^ 1);
            _expectRejected(registry, proof, instances, InferenceRegistry.ProofRejected.selector);
        }
    }

    function test_RevertWhen_AnotherInputsProofCarriesTheseOutputs() public {
        _expectRejected(
            registry, Fixtures.bcSecondProof(), Fixtures.bcInstances(),
            InferenceRegistry.ProofRejected.selector
        );
    }

    function test_RevertWhen_Replayed() public {
        registry.submit(Fixtures.bcProof(), Fixtures.bcInstances());
        _expectRejected(
            registry, Fixtures.bcProof(), Fixtures.bcInstances(),
            InferenceRegistry.ProofAlreadyUsed.selector
        );
    }

    function test_RevertWhen_ProofOfAnotherModel() public {
        _expectRejected(
            registry, Fixtures.digitsProof(), Fixtures.digitsInstances(),
            InferenceRegistry.WrongInstanceCount.selector
        );
        // the breast-cancer proof against a registry pinned to the digits verifier
        InferenceRegistry digitsPinned = _registry(digitsVerifier);
        _expectRejected(
            digitsPinned, Fixtures.bcProof(), Fixtures.bcInstances(),
            InferenceRegistry.ProofRejected.selector
        );
    }

    function test_RevertWhen_NoResultYet() public view {
        try registry.latestOutputs() returns (int256[] memory) {
            revert("read a result that does not exist");
        } catch (bytes memory error) {
            require(bytes4(error) == InferenceRegistry.NoResultYet.selector, "wrong reason");
        }
    }
}
