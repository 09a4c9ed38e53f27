"""Layer 3, training: JEPA masking and EMA, the losses, time budgets, checkpoint helpers and the
recipes' experiment start-up (``experiment``), training logs. Imports the layers below it.
"""

from jepa_tokenizer.training.experiment import *  # noqa: F401,F403 (``jepa_tokenizer.training.X`` as before the layers)
from jepa_tokenizer.training.experiment import __all__  # noqa: F401
