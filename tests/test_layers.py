"""The package's layers: imports flow one way, from the applications down to
the neural-network blocks (a lower layer never imports a higher one)."""

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "jepa_tokenizer"
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


def test_modules_of_the_flat_layout_still_import():
    import importlib

    from jepa_tokenizer import MOVED_MODULES

    for old, new in MOVED_MODULES.items():
        assert importlib.import_module(f"jepa_tokenizer.{old}") is importlib.import_module(f"jepa_tokenizer.{new}")


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
