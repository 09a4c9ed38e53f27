"""Layer 2, quantization: Finite Scalar Quantization and mixed-radix token packing. Imports only ``nn``."""
