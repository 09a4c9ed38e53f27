"""Layer 1, neural-network building blocks with no model of their own: activations (SnakeBeta), the
Conformer stack, DAAM gating, and input/length checks. Imports nothing else of the package.
"""
