"""The model: its files and store, the input recipe every runtime shares, the runtime-neutral
``Classifier`` protocol; each runtime in a package of its own (``mxnet``)."""
