"""Mirror architectures (torch) and the torch-free ONNX contract (``models.contract``)."""
