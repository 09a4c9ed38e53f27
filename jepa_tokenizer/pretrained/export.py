"""Export of a trained codec as a self-contained pretrained-model folder.

The folder holds ``hyperparams.yaml`` (the codec's constructor call, every
nested module with the arguments it was built with: no ``!include`` and
nothing from the training run) and ``codec.ckpt`` (the weights, a plain state
dict, loaded with ``weights_only=True``). It loads with
``jepa_tokenizer.pretrained.inference.JEPATokenizer.from_hparams(source=folder)``.
Folders exported before the constructor calls were recorded (a flattened
copy of the model configuration) load the same way.

Authors
 * jepa-tokenizer team 2026
"""

from pathlib import Path
from typing import Optional, Union

import torch
from torch import nn

from jepa_tokenizer.nn.arguments import constructor_yaml

__all__ = ["export_codec", "save_weights", "WEIGHTS_FILE", "HPARAMS_FILE"]

WEIGHTS_FILE = "codec.ckpt"
HPARAMS_FILE = "hyperparams.yaml"

_HEADER = """# Exported by jepa_tokenizer.pretrained.export: self-contained (the codec's constructor call).
# Load with jepa_tokenizer.pretrained.inference.JEPATokenizer.from_hparams(source=<this folder>).
"""

_INTERFACE = """
# ------------------------------------------------------ pretrained interface
modules:
    codec: !ref <codec>

# weights: <source>/codec.ckpt (SpeechBrain's default path for the loadable "codec")
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        codec: !ref <codec>
"""


def save_weights(module: nn.Module, path: Union[str, Path], dtype: Optional[torch.dtype] = None) -> Path:
    """Writes the state dict of ``module`` (on CPU, detached) to ``path``;
    with ``dtype`` (e.g. ``torch.float16``, half the size) its floating-point
    tensors are stored in that type (they load back into the module's own)."""

    def stored(tensor: torch.Tensor) -> torch.Tensor:
        tensor = tensor.detach().cpu()
        return tensor.to(dtype) if dtype is not None and tensor.is_floating_point() else tensor

    torch.save({k: stored(v) for k, v in module.state_dict().items()}, path)
    return Path(path)


def export_codec(codec: nn.Module, folder: Union[str, Path], weights_dtype: Optional[torch.dtype] = None) -> Path:
    """Writes ``hyperparams.yaml`` and ``codec.ckpt`` for ``codec`` into ``folder``
    (floating-point weights stored as ``weights_dtype`` when given: the
    shipped model keeps float16 weights, half the size).

    Example
    -------
    >>> import tempfile
    >>> from jepa_tokenizer.models.config import load_model_config
    >>> folder = export_codec(load_model_config("jepa_tiny.yaml")["codec"], tempfile.mkdtemp())
    >>> sorted(p.name for p in folder.iterdir())
    ['codec.ckpt', 'hyperparams.yaml']
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / HPARAMS_FILE).write_text(_HEADER + constructor_yaml("codec", codec) + _INTERFACE)
    save_weights(codec, folder / WEIGHTS_FILE, weights_dtype)
    return folder
