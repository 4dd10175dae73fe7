"""Prove machine-learning inference in zero knowledge: torch -> ONNX -> ezkl circuit -> proof."""

__version__ = "0.1.0"
