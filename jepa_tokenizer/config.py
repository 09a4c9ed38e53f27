"""Loading a model configuration (``hparams/jepa_*.yaml``) by path.

Recipes pick their model with a plain path (``--model_config
hparams/jepa_tiny.yaml``) and forward a few knobs (``use_daam``) into it:
hyperpyyaml's ``!include`` takes no variable path, so recipes call
``!apply:jepa_tokenizer.config.load_model_config`` instead.

Authors
 * jepa-tokenizer team 2026
"""

from pathlib import Path
from typing import Any, Dict, Optional, Union

from hyperpyyaml import load_hyperpyyaml

__all__ = ["REPO_HPARAMS", "resolve_config_path", "load_model_config"]

# hparams/ of a source checkout (editable installs)
REPO_HPARAMS = Path(__file__).resolve().parents[1] / "hparams"


def resolve_config_path(path: Union[str, Path]) -> Path:
    """``path`` as given, else relative to the checkout's ``hparams/`` folder.

    Example
    -------
    >>> resolve_config_path("jepa_tiny.yaml").name
    'jepa_tiny.yaml'
    """
    candidate = Path(path)
    if candidate.is_file():
        return candidate
    for fallback in (REPO_HPARAMS / candidate, REPO_HPARAMS / candidate.name):
        if fallback.is_file():
            return fallback
    raise FileNotFoundError(
        f"model configuration not found: {path} (looked in the working directory "
        f"and in {REPO_HPARAMS})"
    )


def load_model_config(
    path: Union[str, Path], overrides: Optional[Dict[str, Any]] = None
) -> Dict[str, Any]:
    """Loads a model YAML (a dict with ``encoder``, ``predictor``, ``codec``...).

    Example
    -------
    >>> model = load_model_config("hparams/jepa_tiny.yaml", {"use_daam": False})
    >>> model["encoder"].blocks[0].gate is None
    True
    """
    with open(resolve_config_path(path), encoding="utf-8") as stream:
        return load_hyperpyyaml(stream, overrides or {})
