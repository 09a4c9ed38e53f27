"""Export of a trained codec as a self-contained pretrained-model folder.

The folder holds ``hyperparams.yaml`` (the whole architecture, flattened:
no ``!include`` and nothing from the training run) and ``codec.ckpt`` (the
weights, a plain state dict, loaded with ``weights_only=True``). It loads
with ``jepa_tokenizer.pretrained.inference.JEPATokenizer.from_hparams(source=folder)``.

Authors
 * jepa-tokenizer team 2026
"""

import json
import re
from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch
from torch import nn

from jepa_tokenizer.models.config import PACKAGE_CONFIGS, load_model_config, resolve_config_path

__all__ = ["flat_model_yaml", "export_codec", "WEIGHTS_FILE", "HPARAMS_FILE"]

WEIGHTS_FILE = "codec.ckpt"
HPARAMS_FILE = "hyperparams.yaml"
REFERENCE_FILE = "jepa_24k.yaml"  # the file that defines every module
_TOP_LEVEL = re.compile(r"^([A-Za-z_]\w*):\s*(.*)$")

_INTERFACE = """
# ------------------------------------------------------ pretrained interface
modules:
    codec: !ref <codec>

# weights: <source>/codec.ckpt (SpeechBrain's default path for the loadable "codec")
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        codec: !ref <codec>
"""


def _find_values(tree: Any, keys) -> Optional[Dict[str, Any]]:
    """The (possibly nested) dict of a loaded YAML that holds all ``keys``."""
    if isinstance(tree, dict):
        if all(k in tree for k in keys):
            return tree
        for value in tree.values():
            found = _find_values(value, keys)
            if found is not None:
                return found
    return None


def flat_model_yaml(model_config: Union[str, Path], overrides: Optional[Dict[str, Any]] = None) -> str:
    """The reference model file with every hyperparameter set to its value in
    ``model_config`` (with ``overrides``): one file, no includes.

    Example
    -------
    >>> text = flat_model_yaml("jepa_tiny.yaml", {"use_daam": False})
    >>> "!include" in text, "use_daam: false" in text, "code_dim: 16" in text
    (False, True, True)
    """
    path = resolve_config_path(model_config)
    # a configuration of one's own may sit elsewhere: then the packaged reference
    reference = path.parent / REFERENCE_FILE
    if not reference.is_file():
        reference = PACKAGE_CONFIGS / REFERENCE_FILE
    lines = reference.read_text().splitlines()
    keys = []
    for line in lines:
        match = _TOP_LEVEL.match(line)
        if match and not match.group(2).startswith("!new:"):
            keys.append(match.group(1))
    values = _find_values(load_model_config(path, overrides), keys)
    if values is None:
        raise ValueError(f"{path} does not define the hyperparameters of {reference.name}")
    out = [f"# Exported from {path.name} by jepa_tokenizer.pretrained.export: self-contained."]
    for line in lines:
        match = _TOP_LEVEL.match(line)
        if match and match.group(1) in keys:
            line = f"{match.group(1)}: {json.dumps(values[match.group(1)])}"
        out.append(line)
    return "\n".join(out) + "\n"


def export_codec(
    codec: nn.Module,
    folder: Union[str, Path],
    model_config: Union[str, Path],
    overrides: Optional[Dict[str, Any]] = None,
) -> Path:
    """Writes ``hyperparams.yaml`` and ``codec.ckpt`` for ``codec`` into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / HPARAMS_FILE).write_text(flat_model_yaml(model_config, overrides) + _INTERFACE)
    state = {k: v.detach().cpu() for k, v in codec.state_dict().items()}
    torch.save(state, folder / WEIGHTS_FILE)
    return folder
