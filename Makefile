# One entry point for a fresh machine: `make quickstart` and `make test`
# install everything (Python packages, and Debian's espeak-ng + flite for
# spoken examples) and then run.
PYTHON ?= python3
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: install quickstart demo test bench summary

install:
	@if ! command -v espeak-ng >/dev/null || ! command -v flite >/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq espeak-ng flite; \
	fi
	$(PYTHON) -m pip install -q -e ".[test,metrics]"

quickstart: install
	$(PYTHON) -m jepa_tokenizer.quickstart

demo: install
	$(PYTHON) -m jepa_tokenizer.demo

test: install
	$(PYTHON) -m pytest

summary:
	$(PYTHON) -m jepa_tokenizer.summary hparams/jepa_24k.yaml hparams/jepa_16k.yaml hparams/jepa_tiny.yaml

bench:
	$(PYTHON) -m pip install -q -e ".[bench]"
	$(PYTHON) benchmarks/speed.py --threads 2
