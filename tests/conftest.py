"""Shared fixtures: the YAML configurations, a spoken sentence, real speech."""

import csv
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from hyperpyyaml import load_hyperpyyaml

from jepa_tokenizer.models.config import resolve_config_path

REPO = Path(__file__).resolve().parents[1]
HPARAMS = REPO / "hparams"  # the quickstart's configuration (the main job)
SHARED_SPEECH = REPO.parent / "shared" / "realspeech"


RECIPES = REPO / "recipes"


class FakeTimer:
    """A monotonic clock that moves only when told (``timer.now += seconds``):
    time budgets tested without wall-clock time."""

    def __init__(self, now: float = 100.0):
        self.now = now

    def __call__(self):
        return self.now


def recipe_file(name: str) -> Path:
    """The one file of the recipes named ``name`` (a script such as
    ``train_codec.py`` or a recipe YAML such as ``train_codec.yaml``, which
    lives in ``hparams/`` next to its script); symbolic links (a prepare
    script shared by a dataset's recipes) count once."""
    paths = sorted({path.resolve() for path in RECIPES.rglob(name)})
    assert len(paths) == 1, f"recipe file {name!r}: {paths}"
    return paths[0]


def load_recipe(name: str):
    """Imports the recipe script ``<name>.py`` as a module (its ``main(argv)``
    runs the recipe in this process), as running the script would: its folder
    is importable."""
    import importlib.util

    path = recipe_file(f"{name}.py")
    if str(path.parent) not in sys.path:
        sys.path.insert(0, str(path.parent))
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def load_config(name: str, overrides=None):
    """Loads a packaged model configuration or a recipe YAML with optional overrides."""
    path = resolve_config_path(name) if name.startswith("jepa_") else recipe_file(name)
    with open(path, encoding="utf-8") as stream:
        return load_hyperpyyaml(stream, overrides or {})


@pytest.fixture(scope="session")
def tiny():
    """The tiny configuration, built once (seeded)."""
    torch.manual_seed(0)
    return load_config("jepa_tiny.yaml")


@pytest.fixture
def tiny_codec(tiny):
    """The tiny codec in eval mode."""
    return tiny["codec"].eval()


@pytest.fixture(scope="session")
def model_folder(tmp_path_factory):
    """The tiny codec (seeded random weights) exported as a model folder."""
    from jepa_tokenizer.models.config import load_model_config
    from jepa_tokenizer.pretrained.export import export_codec

    torch.manual_seed(0)
    codec = load_model_config("jepa_tiny.yaml")["codec"].eval()
    return export_codec(codec, tmp_path_factory.mktemp("model"))


@pytest.fixture(scope="session")
def spoken_wav(tmp_path_factory):
    """A sentence spoken by espeak-ng (installed by the README's commands)."""
    if shutil.which("espeak-ng") is None:
        pytest.skip("espeak-ng is not installed (apt-get install espeak-ng)")
    from jepa_tokenizer.data.audio import speak

    return speak(
        "Finite scalar quantization turns speech into tokens.",
        tmp_path_factory.mktemp("speech") / "sentence.wav",
    )


@pytest.fixture(scope="session")
def real_speech():
    """Rows of ../shared/realspeech/manifest.csv (real read speech), if present."""
    manifest = SHARED_SPEECH / "manifest.csv"
    if not manifest.is_file():
        pytest.skip(f"real speech not available: {manifest} is missing")
    with open(manifest, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    for row in rows:
        row["path"] = SHARED_SPEECH / row["wav"]
    return rows


def fake_hub_snapshot(cache_dir, repo_id: str) -> Path:
    """The snapshot folder of ``repo_id`` in a Hugging Face cache at
    ``cache_dir``, created empty: files written there are what
    ``huggingface_hub.snapshot_download(repo_id, cache_dir=cache_dir)``
    returns offline (``offline_hub``), so nothing is downloaded."""
    repo = Path(cache_dir) / f"models--{repo_id.replace('/', '--')}"
    commit = "0" * 40
    (repo / "refs").mkdir(parents=True, exist_ok=True)
    (repo / "refs" / "main").write_text(commit)
    snapshot = repo / "snapshots" / commit
    snapshot.mkdir(parents=True, exist_ok=True)
    return snapshot


@pytest.fixture
def offline_hub(monkeypatch):
    """Hugging Face Hub look-ups served by the local cache only."""
    constants = pytest.importorskip("huggingface_hub.constants")
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    monkeypatch.setattr(constants, "HF_HUB_OFFLINE", True)  # read once, at import


def corpus_args(yaml_name: str, output, *extra, test_split: bool = False):
    """Command line of a recipe (its YAML ``yaml_name``) on the embedded
    corpus, on CPU, in ``output``; with ``test_split`` its test split too."""
    from jepa_tokenizer.data.embedded_corpus import corpus_path

    splits = ["--train_splits", "[train]", "--valid_splits", "[valid]"]
    splits += ["--test_splits", "[test]"] if test_split else []
    return [
        str(recipe_file(yaml_name)),
        "--data_folder",
        str(corpus_path()),
        *splits,
        "--output_folder",
        str(output),
        "--device",
        "cpu",
        "--num_workers",
        "0",
        "--noprogressbar",
        *extra,
    ]


def embedded_recipe_args(yaml_name: str, output, *extra):
    """``corpus_args`` with the tiny model."""
    return corpus_args(yaml_name, output, "--model_config", "jepa_tiny.yaml", *extra)


def train_on_two_ranks(recipe: str, args, output):
    """Runs a recipe with torchrun on two CPU processes over gloo (through
    tests/ddp_worker.py) and returns each rank's saved weights."""
    cmd = [
        sys.executable,
        "-m",
        "torch.distributed.run",
        "--standalone",
        "--nproc_per_node=2",
        str(REPO / "tests" / "ddp_worker.py"),
        recipe,
        *args,
        "--distributed_backend",
        "gloo",
    ]
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    result = subprocess.run(cmd, cwd=REPO, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    return [torch.load(output / f"weights_rank{rank}.ckpt") for rank in (0, 1)]


def assert_ranks_agree(ranks, parts):
    """Both ranks hold identical tensors in each of ``parts``."""
    for part in parts:
        for name, value in ranks[0][part].items():
            assert torch.equal(value, ranks[1][part][name]), (part, name)


def wer_file_summary(path):
    """``(WER, words scored)`` from the head line of SpeechBrain's alignment
    file (``%WER 12.50 [ 1 / 8, 0 ins, 0 del, 1 sub ]``)."""
    import re

    match = re.search(r"%WER ([\d.]+) \[ (\d+) / (\d+),", Path(path).read_text())
    assert match, f"no %WER line in {path}"
    return float(match.group(1)), int(match.group(3))
