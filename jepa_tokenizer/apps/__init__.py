"""Layer 6, applications: the ``jepa-tokenizer`` command line, the demo and the summary table (the quickstart
is a recipe: recipes/LibriSpeech/quickstart.py)."""
