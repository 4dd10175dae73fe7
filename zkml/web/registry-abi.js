// Generated from zkml/contracts/InferenceRegistry.sol by `python -m zkml.web`. Do not edit.
window.ZKML_REGISTRY_ABI = [
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "delay",
    "type": "uint256"
   }
  ],
  "stateMutability": "nonpayable",
  "type": "constructor"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "delay",
    "type": "uint256"
   }
  ],
  "name": "ActivationDelayTooLong",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "id",
    "type": "uint256"
   }
  ],
  "name": "AlreadyRecorded",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "points",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "stride",
    "type": "uint256"
   }
  ],
  "name": "BadCommitmentLayout",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "output",
    "type": "uint256"
   }
  ],
  "name": "EmptyOutput",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "classes",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "labels",
    "type": "uint256"
   }
  ],
  "name": "LabelsMismatch",
  "type": "error"
 },
 {
  "inputs": [],
  "name": "NoOutputs",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   }
  ],
  "name": "NoResult",
  "type": "error"
 },
 {
  "inputs": [],
  "name": "NoSubjects",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "NoSuchVersion",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "NotAClassifier",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "address",
    "name": "caller",
    "type": "address"
   }
  ],
  "name": "NotOwner",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "address",
    "name": "caller",
    "type": "address"
   }
  ],
  "name": "NotPendingOwner",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "index",
    "type": "uint256"
   }
  ],
  "name": "OutputOutOfRange",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "proofBytes",
    "type": "uint256"
   }
  ],
  "name": "ProofBytesOutOfRange",
  "type": "error"
 },
 {
  "inputs": [],
  "name": "ProofRejected",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "output",
    "type": "uint256"
   }
  ],
  "name": "ScaleOutOfRange",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "outputs",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "scales",
    "type": "uint256"
   }
  ],
  "name": "ScalesMismatch",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "outputsPerSubject",
    "type": "uint256"
   }
  ],
  "name": "TooManyOutputs",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "TooManyResults",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "subjects",
    "type": "uint256"
   }
  ],
  "name": "TooManySubjects",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "weights",
    "type": "uint256"
   }
  ],
  "name": "TooManyWeights",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "address",
    "name": "verifier",
    "type": "address"
   }
  ],
  "name": "VerifierHasNoCode",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "VersionIsRetired",
  "type": "error"
 },
 {
  "inputs": [],
  "name": "VkaNotStored",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "words",
    "type": "uint256"
   }
  ],
  "name": "VkaTooLarge",
  "type": "error"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "expected",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "got",
    "type": "uint256"
   }
  ],
  "name": "WrongInstanceCount",
  "type": "error"
 },
 {
  "inputs": [],
  "name": "WrongModel",
  "type": "error"
 },
 {
  "anonymous": false,
  "inputs": [
   {
    "indexed": true,
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "indexed": true,
    "internalType": "uint256",
    "name": "id",
    "type": "uint256"
   },
   {
    "indexed": true,
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   },
   {
    "indexed": false,
    "internalType": "int256[]",
    "name": "outputs",
    "type": "int256[]"
   }
  ],
  "name": "InferenceVerified",
  "type": "event"
 },
 {
  "anonymous": false,
  "inputs": [
   {
    "indexed": true,
    "internalType": "address",
    "name": "owner",
    "type": "address"
   },
   {
    "indexed": true,
    "internalType": "address",
    "name": "pendingOwner",
    "type": "address"
   }
  ],
  "name": "OwnershipTransferStarted",
  "type": "event"
 },
 {
  "anonymous": false,
  "inputs": [
   {
    "indexed": true,
    "internalType": "address",
    "name": "previousOwner",
    "type": "address"
   },
   {
    "indexed": true,
    "internalType": "address",
    "name": "newOwner",
    "type": "address"
   }
  ],
  "name": "OwnershipTransferred",
  "type": "event"
 },
 {
  "anonymous": false,
  "inputs": [
   {
    "indexed": true,
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "indexed": true,
    "internalType": "address",
    "name": "verifier",
    "type": "address"
   },
   {
    "indexed": false,
    "internalType": "bytes32",
    "name": "vkHash",
    "type": "bytes32"
   },
   {
    "indexed": false,
    "internalType": "bytes32",
    "name": "modelDigest",
    "type": "bytes32"
   },
   {
    "indexed": false,
    "internalType": "address",
    "name": "vka",
    "type": "address"
   },
   {
    "indexed": false,
    "internalType": "uint256",
    "name": "activatesAt",
    "type": "uint256"
   },
   {
    "indexed": false,
    "internalType": "bytes32",
    "name": "verifierCodeHash",
    "type": "bytes32"
   }
  ],
  "name": "VersionAdded",
  "type": "event"
 },
 {
  "anonymous": false,
  "inputs": [
   {
    "indexed": true,
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "VersionRetired",
  "type": "event"
 },
 {
  "inputs": [],
  "name": "acceptOwnership",
  "outputs": [],
  "stateMutability": "nonpayable",
  "type": "function"
 },
 {
  "inputs": [],
  "name": "activationDelaySeconds",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "",
    "type": "uint256"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "components": [
     {
      "internalType": "address",
      "name": "verifier",
      "type": "address"
     },
     {
      "internalType": "bytes32",
      "name": "vkHash",
      "type": "bytes32"
     },
     {
      "internalType": "bytes32",
      "name": "modelDigest",
      "type": "bytes32"
     },
     {
      "internalType": "uint256",
      "name": "proofBytes",
      "type": "uint256"
     },
     {
      "internalType": "uint256",
      "name": "subjects",
      "type": "uint256"
     },
     {
      "internalType": "bool",
      "name": "commitmentsInProof",
      "type": "bool"
     },
     {
      "internalType": "uint256",
      "name": "commitmentPoints",
      "type": "uint256"
     },
     {
      "internalType": "uint256",
      "name": "commitmentStride",
      "type": "uint256"
     },
     {
      "internalType": "uint256[]",
      "name": "weightsCommitment",
      "type": "uint256[]"
     },
     {
      "internalType": "uint256[]",
      "name": "outputLengths",
      "type": "uint256[]"
     },
     {
      "internalType": "uint256[]",
      "name": "outputScales",
      "type": "uint256[]"
     },
     {
      "internalType": "string[]",
      "name": "labels",
      "type": "string[]"
     }
    ],
    "internalType": "struct InferenceRegistry.VersionSpec",
    "name": "spec",
    "type": "tuple"
   },
   {
    "internalType": "bytes32[]",
    "name": "vka",
    "type": "bytes32[]"
   }
  ],
  "name": "addVersion",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "stateMutability": "nonpayable",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   }
  ],
  "name": "currentResultOf",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "int256[]",
    "name": "outputs",
    "type": "int256[]"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [],
  "name": "deployedAt",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "",
    "type": "uint256"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   }
  ],
  "name": "hasResult",
  "outputs": [
   {
    "internalType": "bool",
    "name": "",
    "type": "bool"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "isActive",
  "outputs": [
   {
    "internalType": "bool",
    "name": "",
    "type": "bool"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [],
  "name": "latestActiveVersion",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [],
  "name": "owner",
  "outputs": [
   {
    "internalType": "address",
    "name": "",
    "type": "address"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [],
  "name": "pendingOwner",
  "outputs": [
   {
    "internalType": "address",
    "name": "",
    "type": "address"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   }
  ],
  "name": "predictionOf",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "best",
    "type": "uint256"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   }
  ],
  "name": "resultBlockOf",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "",
    "type": "uint256"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "resultCount",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "",
    "type": "uint256"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   }
  ],
  "name": "resultIdOf",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "",
    "type": "uint256"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "uint256",
    "name": "commitment",
    "type": "uint256"
   }
  ],
  "name": "resultOf",
  "outputs": [
   {
    "internalType": "int256[]",
    "name": "outputs",
    "type": "int256[]"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "retireVersion",
  "outputs": [],
  "stateMutability": "nonpayable",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   },
   {
    "internalType": "bytes",
    "name": "proof",
    "type": "bytes"
   },
   {
    "internalType": "uint256[]",
    "name": "instances",
    "type": "uint256[]"
   }
  ],
  "name": "submit",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "recorded",
    "type": "uint256"
   }
  ],
  "stateMutability": "nonpayable",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "address",
    "name": "next",
    "type": "address"
   }
  ],
  "name": "transferOwnership",
  "outputs": [],
  "stateMutability": "nonpayable",
  "type": "function"
 },
 {
  "inputs": [],
  "name": "versionCount",
  "outputs": [
   {
    "internalType": "uint256",
    "name": "",
    "type": "uint256"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 },
 {
  "inputs": [
   {
    "internalType": "uint256",
    "name": "version",
    "type": "uint256"
   }
  ],
  "name": "versionInfo",
  "outputs": [
   {
    "components": [
     {
      "internalType": "address",
      "name": "verifier",
      "type": "address"
     },
     {
      "internalType": "address",
      "name": "vka",
      "type": "address"
     },
     {
      "internalType": "bool",
      "name": "active",
      "type": "bool"
     },
     {
      "internalType": "bool",
      "name": "commitmentsInProof",
      "type": "bool"
     },
     {
      "internalType": "uint256",
      "name": "subjects",
      "type": "uint256"
     },
     {
      "internalType": "uint256",
      "name": "instanceCount",
      "type": "uint256"
     },
     {
      "internalType": "uint256",
      "name": "outputsPerSubject",
      "type": "uint256"
     },
     {
      "internalType": "uint256",
      "name": "resultCount",
      "type": "uint256"
     },
     {
      "internalType": "bytes32",
      "name": "vkHash",
      "type": "bytes32"
     },
     {
      "internalType": "bytes32",
      "name": "modelDigest",
      "type": "bytes32"
     },
     {
      "internalType": "uint256",
      "name": "proofBytes",
      "type": "uint256"
     },
     {
      "internalType": "uint256",
      "name": "addedBlock",
      "type": "uint256"
     },
     {
      "internalType": "uint256",
      "name": "retiredBlock",
      "type": "uint256"
     },
     {
      "internalType": "uint256[]",
      "name": "weightsCommitment",
      "type": "uint256[]"
     },
     {
      "internalType": "uint256[]",
      "name": "outputLengths",
      "type": "uint256[]"
     },
     {
      "internalType": "uint256[]",
      "name": "outputScales",
      "type": "uint256[]"
     },
     {
      "internalType": "string[]",
      "name": "labels",
      "type": "string[]"
     },
     {
      "internalType": "uint256",
      "name": "activatesAt",
      "type": "uint256"
     },
     {
      "internalType": "bytes32",
      "name": "verifierCodeHash",
      "type": "bytes32"
     },
     {
      "internalType": "uint256",
      "name": "commitmentPoints",
      "type": "uint256"
     },
     {
      "internalType": "uint256",
      "name": "commitmentStride",
      "type": "uint256"
     }
    ],
    "internalType": "struct InferenceRegistry.Version",
    "name": "info",
    "type": "tuple"
   }
  ],
  "stateMutability": "view",
  "type": "function"
 }
];
