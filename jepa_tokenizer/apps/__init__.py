"""Layer 6, applications: the ``jepa-tokenizer`` command line, the quickstart, the demo and the summary table."""
