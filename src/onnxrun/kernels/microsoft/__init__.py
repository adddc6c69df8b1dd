"""Kernels of onnxruntime's contrib domains (com.microsoft, com.microsoft.nchwc): the operators
onnxruntime's own tools emit (transformer fusions, quantization, NCHWc layout). Their spec is
onnxruntime's docs/ContribOperators.md; onnx ships no schemas for them."""
