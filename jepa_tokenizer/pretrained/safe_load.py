"""Loading an exported model folder without running code the folder chose.

A model folder comes from a stranger. hyperpyyaml (which SpeechBrain's
``from_hparams`` uses) executes what a YAML file names: ``!apply:os.system``,
``!new:`` of any class, ``!!python/object/apply``. This loader reads
``hyperparams.yaml`` as plain data instead: the only tags it accepts are
``!new:`` of an allow-list of this package's modules (the classes that record
their constructor arguments, under their module paths or their
``jepa_tokenizer.<Name>`` names) and ``!ref <key>`` to another top-level key;
any other tag, any other class, and every Python tag is an error before
anything is built. Weights are read with ``torch.load(weights_only=True)``
passed explicitly (plain tensors only, whatever ``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD``
says) and must match the built model key for key.

Recipes a user writes keep hyperpyyaml: that is code the user chose.

Authors
 * jepa-tokenizer team 2026
"""

from pathlib import Path
from typing import Any, Dict, Optional, Union

import torch
import yaml
from torch import nn

from jepa_tokenizer.models.codec import JEPACodec
from jepa_tokenizer.models.decoder import HiFiGANDecoder
from jepa_tokenizer.models.encoder import JEPAEncoder
from jepa_tokenizer.models.istft_decoder import ISTFTDecoder
from jepa_tokenizer.models.predictor import JEPAPredictor
from jepa_tokenizer.models.tts import TokenTTS
from jepa_tokenizer.nn.frontend import LogMelFrontend
from jepa_tokenizer.quantization.fsq import FSQ
from jepa_tokenizer.quantization.packing import MixedRadixPacker

__all__ = ["ALLOWED_CLASSES", "UnsafeModelFolder", "read_plain_yaml", "build_module", "load_weights", "load_codec"]

#: the classes a model folder may build, by every name an export has used for them
ALLOWED_CLASSES: Dict[str, type] = {}
for _cls in (
    JEPACodec,
    JEPAEncoder,
    JEPAPredictor,
    FSQ,
    MixedRadixPacker,
    HiFiGANDecoder,
    ISTFTDecoder,
    TokenTTS,
    LogMelFrontend,
):
    ALLOWED_CLASSES[f"{_cls.__module__}.{_cls.__qualname__}"] = _cls
    ALLOWED_CLASSES[f"jepa_tokenizer.{_cls.__qualname__}"] = _cls
ALLOWED_CLASSES["jepa_tokenizer.tts.TokenTTS"] = TokenTTS  # TTS folders of the flat layout

#: keys of an exported file that describe SpeechBrain's interface, not the model (never built here)
INTERFACE_KEYS = ("modules", "pretrainer")
#: the largest hyperparams.yaml read (an export is a few KB)
MAX_YAML_BYTES = 1 << 20


class UnsafeModelFolder(ValueError):
    """A model folder asks for something this loader does not do."""


class _New:
    def __init__(self, name: str, arguments: Any):
        self.name, self.arguments = name, arguments


class _Ref:
    def __init__(self, text: str):
        self.text = text.strip()


class _PlainLoader(yaml.SafeLoader):
    """YAML's safe loader plus ``!new:`` and ``!ref`` as inert records."""


def _construct_new(loader, suffix, node):
    if isinstance(node, yaml.MappingNode):
        return _New(suffix, loader.construct_mapping(node, deep=True))
    if isinstance(node, yaml.ScalarNode) and loader.construct_scalar(node) in ("", None):
        return _New(suffix, {})
    raise UnsafeModelFolder(f"!new:{suffix} takes keyword arguments (a mapping)")


_PlainLoader.add_multi_constructor("!new:", _construct_new)
_PlainLoader.add_constructor("!ref", lambda loader, node: _Ref(loader.construct_scalar(node)))
# a value the loading code fills in (the TTS export's folder): inert
_PlainLoader.add_constructor("!PLACEHOLDER", lambda loader, node: None)


def read_plain_yaml(path: Union[str, Path]) -> Dict[str, Any]:
    """The top-level mapping of a model folder's YAML as inert data.

    Raises
    ------
    UnsafeModelFolder
        For a tag other than ``!new:`` / ``!ref``, a file that is too large, or
        YAML that is not a mapping (one line naming the file).
    """
    path = Path(path)
    if path.stat().st_size > MAX_YAML_BYTES:
        raise UnsafeModelFolder(f"{path}: {path.stat().st_size} bytes; an exported hyperparams.yaml is a few KB")
    try:
        tree = yaml.load(path.read_text(encoding="utf-8"), Loader=_PlainLoader)  # noqa: S506 (a safe loader)
    except yaml.constructor.ConstructorError as err:
        tag = getattr(err, "problem", "") or str(err).splitlines()[0]
        raise UnsafeModelFolder(f"{path}: not loaded: {tag} (only !new: of this package's modules and !ref)") from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError) as err:
        raise UnsafeModelFolder(f"{path}: not valid YAML: {str(err).splitlines()[0]}") from None
    if not isinstance(tree, dict):
        raise UnsafeModelFolder(f"{path}: not a YAML mapping")
    return tree


def build_module(tree: Dict[str, Any], key: str) -> Any:
    """Builds ``tree[key]``: plain values as they are, ``!new:`` records as
    allow-listed classes (arguments first), ``!ref <k>`` as the value of
    top-level key ``k`` (built once, shared)."""
    built: Dict[str, Any] = {}
    building = set()

    def top(name: str) -> Any:
        if name in built:
            return built[name]
        if name not in tree or name in INTERFACE_KEYS:
            raise UnsafeModelFolder(f"!ref <{name}>: no such key")
        if name in building:
            raise UnsafeModelFolder(f"!ref <{name}> refers to itself")
        building.add(name)
        built[name] = resolve(tree[name], depth=0)
        return built[name]

    def resolve(value: Any, depth: int) -> Any:
        if depth > 32:
            raise UnsafeModelFolder("nested too deep")
        if isinstance(value, _Ref):
            text = value.text
            if not (text.startswith("<") and text.endswith(">") and text[1:-1].isidentifier()):
                raise UnsafeModelFolder(f"!ref {text}: only a reference to a top-level key (<key>) is read")
            return top(text[1:-1])
        if isinstance(value, _New):
            cls = ALLOWED_CLASSES.get(value.name)
            if cls is None:
                raise UnsafeModelFolder(f"!new:{value.name} is not one of this package's modules")
            arguments = {str(k): resolve(v, depth + 1) for k, v in value.arguments.items()}
            try:
                return cls(**arguments)
            except (TypeError, ValueError) as err:
                raise UnsafeModelFolder(f"{value.name}: {err}") from None
        if isinstance(value, list):
            return [resolve(item, depth + 1) for item in value]
        if isinstance(value, dict):
            return {k: resolve(v, depth + 1) for k, v in value.items()}
        return value

    return top(key)


def load_weights(module: nn.Module, path: Union[str, Path]) -> nn.Module:
    """Loads a plain state dict into ``module``; every key must match.

    Raises
    ------
    UnsafeModelFolder
        For a missing, unreadable or non-tensor file, or keys or shapes that
        differ from the model (one line: how many, and the first).
    """
    path = Path(path)
    if not path.is_file():
        raise UnsafeModelFolder(f"{path}: no weights file")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt, truncated, pickled objects: all refused the same way
        raise UnsafeModelFolder(f"{path}: not a weights file ({type(err).__name__})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UnsafeModelFolder(f"{path}: not a state dict of tensors")
    expected = module.state_dict()
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        first = (missing or unexpected)[0]
        raise UnsafeModelFolder(
            f"{path}: {len(missing)} weights missing, {len(unexpected)} unexpected (first: {first}); "
            "this file does not belong to this model"
        )
    wrong = [k for k in expected if tuple(state[k].shape) != tuple(expected[k].shape)]
    if wrong:
        raise UnsafeModelFolder(f"{path}: {len(wrong)} weights of the wrong shape (first: {wrong[0]})")
    module.load_state_dict(state)
    return module


def load_codec(folder: Union[str, Path], device: Optional[str] = None) -> JEPACodec:
    """The codec of an exported folder (``hyperparams.yaml`` + ``codec.ckpt``),
    built and loaded without running code the folder chose, in eval mode.

    Example
    -------
    >>> import tempfile
    >>> from jepa_tokenizer.models.config import load_model_config
    >>> from jepa_tokenizer.pretrained.export import export_codec
    >>> folder = export_codec(load_model_config("jepa_tiny.yaml")["codec"], tempfile.mkdtemp())
    >>> load_codec(folder).tokens_per_frame
    3
    """
    folder = Path(folder)
    yaml_path = folder / "hyperparams.yaml"
    if not folder.is_dir():
        raise UnsafeModelFolder(f"{folder}: no such model folder")
    if not yaml_path.is_file():
        raise UnsafeModelFolder(f"{folder} is not a model folder (no hyperparams.yaml)")
    codec = build_module(read_plain_yaml(yaml_path), "codec")
    if not isinstance(codec, JEPACodec):
        raise UnsafeModelFolder(f"{yaml_path}: 'codec' is a {type(codec).__name__}, not a JEPACodec")
    load_weights(codec, folder / "codec.ckpt")
    codec.eval()
    return codec.to(device) if device else codec
