"""Layer 5, evaluation: metrics and ASR judges, evaluation over a manifest, plots. Imports the layers below it."""

from jepa_tokenizer.evaluation.evaluate import *  # noqa: F401,F403 (``jepa_tokenizer.evaluation.X`` as before the layers)
from jepa_tokenizer.evaluation.evaluate import __all__  # noqa: F401
