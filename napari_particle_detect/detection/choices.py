"""The names a user may pass for the device, number format and inference runtime, without importing torch
(the command line parses its arguments before it knows whether the command needs a network)."""

DEVICE_CHOICES = ("auto", "cpu", "cuda", "mps")
PRECISION_CHOICES = ("auto", "float32", "bfloat16", "float16", "int8")  # int8: ONNX Runtime or OpenVINO
RUNTIME_CHOICES = ("auto", "torch", "onnx", "openvino")
