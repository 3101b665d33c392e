"""The ONNX form of LocationNet, made locally from the published files, and the runtimes that run it."""
