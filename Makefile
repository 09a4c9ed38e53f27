# One entry point for a fresh machine: `make quickstart` and `make test`
# install everything and then run. Python packages go into ./.venv, exactly as
# locked in requirements/lock.txt (made anew whenever the lock or setup.py
# changes); Debian's espeak-ng + flite speak the examples.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
LOCK := requirements/lock.txt
UV_VERSION := 0.13.9
LOCK_TOOLS := .venv-lock
SUDO := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)

.PHONY: install system-packages quickstart demo test bench summary lock

# a fresh virtual environment with exactly the locked set, then this package
# (editable, built with the locked setuptools), then a check that it all fits
# and imports; the stamp file marks a finished install
$(VENV)/.installed: $(LOCK) setup.py
	$(PYTHON) -m venv --clear $(VENV)
	$(PY) -m pip install -q -r $(LOCK)
	$(PY) -m pip install -q --no-deps --no-build-isolation -e .
	$(PY) -m pip check
	$(PY) -c "import torch, torchaudio, speechbrain, jepa_tokenizer; print('installed: torch', torch.__version__, '| torchaudio', torchaudio.__version__, '| speechbrain', speechbrain.__version__)"
	touch $@

# espeak-ng + flite; codec2 + opus-tools (the codecs the comparison table runs:
# c2enc/c2dec, opusenc/opusdec); python3-venv where Debian's Python lacks venv's pip
system-packages:
	@if ! command -v espeak-ng >/dev/null || ! command -v flite >/dev/null \
			|| ! command -v c2enc >/dev/null || ! command -v opusenc >/dev/null \
			|| ! $(PYTHON) -c "import ensurepip" 2>/dev/null; then \
		$(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq espeak-ng flite codec2 opus-tools python3-venv; \
	fi

install: system-packages $(VENV)/.installed

quickstart: install
	$(PY) recipes/LibriSpeech/quickstart.py

demo: install
	$(PY) -m jepa_tokenizer.apps.demo

test: install
	$(PY) -m pytest

summary: install
	$(PY) -m jepa_tokenizer.apps.summary jepa_24k.yaml jepa_16k.yaml jepa_tiny.yaml

bench: install
	$(PY) benchmarks/speed.py --threads 2
	$(PY) benchmarks/train_speed.py --threads 2

# regenerates the lock from setup.py's ranges (every extra) and the build
# tools, with markers for every platform; then `make install` installs it
lock:
	$(PYTHON) -m venv $(LOCK_TOOLS)
	$(LOCK_TOOLS)/bin/python -m pip install -q "uv==$(UV_VERSION)"
	$(LOCK_TOOLS)/bin/uv pip compile setup.py requirements/build.in \
		--extra test --extra metrics --extra bench --extra judge --universal --python-version 3.10 \
		--custom-compile-command "make lock" -o $(LOCK)
