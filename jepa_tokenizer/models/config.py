"""Loading a model configuration by name or by path.

The model configurations (``jepa_24k.yaml``, the paper's reference;
``jepa_16k.yaml``; ``jepa_tiny.yaml``) ship inside the package
(``jepa_tokenizer/configs/``), so a plain ``pip install`` can load them by
name. Recipes pick their model with ``--model_config jepa_tiny.yaml`` (a
packaged name) or a path to a file of their own, and forward a few knobs
(``use_daam``) into it: hyperpyyaml's ``!include`` takes no variable path, so
recipes call ``!apply:jepa_tokenizer.models.config.load_model_config`` instead.

Authors
 * jepa-tokenizer team 2026
"""

from pathlib import Path
from typing import Any, Callable, Dict, List, Optional, Union

from hyperpyyaml import load_hyperpyyaml

__all__ = [
    "PACKAGE_CONFIGS",
    "model_config_names",
    "resolve_config_path",
    "load_model_config",
    "build_choice",
]

# the model configurations installed with the package (a folder on disk:
# hyperpyyaml's ``!include`` resolves next to the including file)
PACKAGE_CONFIGS = Path(__file__).resolve().parents[1] / "configs"


def model_config_names() -> List[str]:
    """The model configurations that ship with the package.

    Example
    -------
    >>> model_config_names()
    ['jepa_16k.yaml', 'jepa_24k.yaml', 'jepa_mini.yaml', 'jepa_mini_12hz.yaml', 'jepa_mini_25hz.yaml', 'jepa_tiny.yaml']
    """
    return sorted(path.name for path in PACKAGE_CONFIGS.glob("*.yaml"))


def resolve_config_path(path: Union[str, Path]) -> Path:
    """``path`` when it is a file; else a packaged model configuration of that
    (file) name. (Recipe YAML files live next to their scripts in a clone.)

    ``hparams/jepa_tiny.yaml`` (where the model files lived before they were
    packaged) still finds the packaged ``jepa_tiny.yaml``.

    Example
    -------
    >>> resolve_config_path("jepa_tiny.yaml").parent.name
    'configs'
    >>> resolve_config_path("hparams/jepa_tiny.yaml") == resolve_config_path("jepa_tiny.yaml")
    True
    """
    candidate = Path(path)
    if candidate.is_file():
        return candidate
    if (PACKAGE_CONFIGS / candidate.name).is_file():
        return PACKAGE_CONFIGS / candidate.name
    raise FileNotFoundError(
        f"configuration not found: {path} (not a file; the packaged model configurations are "
        f"{', '.join(model_config_names())})"
    )


def load_model_config(path: Union[str, Path], overrides: Optional[Dict[str, Any]] = None) -> Dict[str, Any]:
    """Loads a model YAML (a dict with ``encoder``, ``predictor``, ``codec``...).

    Example
    -------
    >>> model = load_model_config("jepa_tiny.yaml", {"use_daam": False})
    >>> model["encoder"].blocks[0].gate is None
    True
    """
    with open(resolve_config_path(path), encoding="utf-8") as stream:
        return load_hyperpyyaml(stream, overrides or {})


def build_choice(choice: str, options: Dict[str, Callable[[], Any]]) -> Any:
    """Builds ``options[choice]`` (a ``!name:`` constructor of a model YAML),
    so that only the chosen module is ever built.

    Example
    -------
    >>> build_choice("b", {"a": list, "b": dict})
    {}
    >>> build_choice("c", {"a": list})
    Traceback (most recent call last):
    ...
    ValueError: unknown choice 'c'; expected one of a
    """
    if choice not in options:
        raise ValueError(f"unknown choice {choice!r}; expected one of {', '.join(sorted(options))}")
    return options[choice]()
