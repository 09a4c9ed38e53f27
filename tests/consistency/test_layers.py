"""The package's layers: imports flow one way, from the applications down to
the neural-network blocks (a lower layer never imports a higher one)."""

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[2] / "jepa_tokenizer"
#: layer of each subpackage; a module imports its own subpackage or lower layers only
LAYERS = {
    "nn": 0,
    "quantization": 1,
    "models": 2,
    "training": 3,
    "data": 3,
    "pretrained": 4,
    "evaluation": 5,
    "apps": 6,
}


def imported_subpackages(path: Path):
    """(line, subpackage) of every import of ``jepa_tokenizer...`` in a file, lazy ones included;
    ``from jepa_tokenizer import X`` (the facade) counts as ``None``."""
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        names = []
        if isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        for name in names:
            parts = name.split(".")
            if parts[0] == "jepa_tokenizer":
                yield node.lineno, parts[1] if len(parts) > 1 else None


def violations(package: Path = PACKAGE):
    found = []
    for path in sorted(package.rglob("*.py")):
        relative = path.relative_to(package)
        if len(relative.parts) == 1:
            continue  # the facade (jepa_tokenizer/__init__.py) re-exports every layer
        own = relative.parts[0]
        for line, target in imported_subpackages(path):
            if target is None:
                found.append(f"{relative}:{line} imports the facade `jepa_tokenizer`: import the layer's module")
            elif target != own and (target not in LAYERS or LAYERS[target] >= LAYERS[own]):
                found.append(f"{relative}:{line} ({own}) imports jepa_tokenizer.{target}")
    return found


def test_every_subpackage_has_a_layer():
    folders = {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").is_file()}
    assert folders == set(LAYERS)


def test_no_layer_imports_a_higher_or_a_peer_layer():
    assert violations() == []


def test_the_check_catches_an_upward_import(tmp_path):
    for layer in ("nn", "models"):
        (tmp_path / layer).mkdir()
        (tmp_path / layer / "__init__.py").write_text("")
    (tmp_path / "nn" / "bad.py").write_text("def f():\n    from jepa_tokenizer.models.codec import JEPACodec\n")
    (tmp_path / "models" / "ok.py").write_text(
        "from jepa_tokenizer.nn.daam import DAAMGate\nfrom jepa_tokenizer import FSQ\n"
    )
    assert violations(tmp_path) == [
        "models/ok.py:2 imports the facade `jepa_tokenizer`: import the layer's module",
        "nn/bad.py:2 (nn) imports jepa_tokenizer.models",
    ]


#: the modules of the flat layout before the layers (0.1.0), whose aliases 0.2.0 removed
FLAT_LAYOUT = (
    "activations conformer daam validation fsq packing encoder predictor decoder discriminators codec tts asr"
    " config jepa losses train_log audio text token_file extraction embedded_corpus export inference tokenizers"
    " synthesis metrics plots cli demo summary"
).split()


def test_modules_of_the_flat_layout_no_longer_import():
    import importlib

    import jepa_tokenizer
    import jepa_tokenizer.evaluation
    import jepa_tokenizer.training

    assert not hasattr(jepa_tokenizer, "MOVED_MODULES")
    for old in FLAT_LAYOUT:
        with pytest.raises(ModuleNotFoundError, match=f"jepa_tokenizer.{old}"):
            importlib.import_module(f"jepa_tokenizer.{old}")
    # the packages that replaced the modules evaluation.py and training.py re-export nothing
    assert not hasattr(jepa_tokenizer.evaluation, "load_manifest")
    assert not hasattr(jepa_tokenizer.training, "start_experiment")


def test_a_tts_folder_of_the_flat_layout_still_builds_safely(tmp_path):
    from jepa_tokenizer.models.tts import TokenTTS
    from jepa_tokenizer.pretrained.safe_load import build_module, read_plain_yaml

    # the model part of hyperparams.yaml as the flat layout's export_tts wrote it
    (tmp_path / "hyperparams.yaml").write_text(
        "folder: !PLACEHOLDER\n"
        "model: !new:jepa_tokenizer.tts.TokenTTS\n"
        "    num_units: 10\n    levels: 4\n    num_digits: 4\n    d_model: 16\n    nhead: 2\n"
        "    num_encoder_layers: 1\n    num_decoder_layers: 1\n    d_ffn: 32\n    max_len: 64\n"
        "modules:\n    model: !ref <model>\n"
    )
    model = build_module(read_plain_yaml(tmp_path / "hyperparams.yaml"), "model")
    assert type(model) is TokenTTS and model.init_arguments["d_model"] == 16


def test_the_tokenizer_is_exported_at_the_top_level_without_an_import_cycle():
    import subprocess
    import sys

    import jepa_tokenizer
    from jepa_tokenizer.pretrained.inference import JEPATokenizer

    assert jepa_tokenizer.JEPATokenizer is JEPATokenizer
    assert "JEPATokenizer" in jepa_tokenizer.__all__ and "JEPATokenizer" in dir(jepa_tokenizer)
    # fresh processes, either module first: a cycle would fail one of the orders
    for code in (
        "from jepa_tokenizer import JEPATokenizer",
        "from jepa_tokenizer.pretrained.inference import JEPATokenizer as T; from jepa_tokenizer import JEPATokenizer;"
        " assert T is JEPATokenizer",
        "import jepa_tokenizer; from hyperpyyaml import load_hyperpyyaml;"
        " assert load_hyperpyyaml('t: !name:jepa_tokenizer.JEPATokenizer')['t'] is jepa_tokenizer.JEPATokenizer",
    ):
        result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
        assert result.returncode == 0, (code, result.stderr[-2000:])
