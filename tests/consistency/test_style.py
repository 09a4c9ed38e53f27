"""The code is formatted and linted as ruff.toml says (`ruff format`, `ruff check`)."""

import subprocess
import sys

from conftest import REPO


def ruff(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "ruff", *args], cwd=REPO, capture_output=True, text=True)


def test_the_code_is_formatted():
    out = ruff("format", "--check", ".")
    assert out.returncode == 0, "run `ruff format .`:\n" + out.stdout[-3000:]


def test_the_linter_finds_nothing():
    out = ruff("check", ".")
    assert out.returncode == 0, "run `ruff check --fix .`:\n" + out.stdout[-3000:]
