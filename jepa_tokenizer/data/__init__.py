"""Layer 3, data: audio I/O, manifests, training crops, text units, token files, token extraction and
the embedded corpus.
Imports the layers below it.
"""
