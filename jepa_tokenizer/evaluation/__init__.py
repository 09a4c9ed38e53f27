"""Layer 5, evaluation: metrics and ASR judges, evaluation over a manifest, plots. Imports the layers below it."""
