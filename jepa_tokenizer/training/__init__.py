"""Layer 3, training: JEPA masking and EMA, the losses, time budgets, checkpoint helpers and the
recipes' experiment start-up (``experiment``), training logs. Imports the layers below it.
"""
