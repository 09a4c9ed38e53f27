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
says), must match the built model key for key and must be finite.

Memory is bounded before it is spent: YAML aliases and ``!ref`` chains may
expand to at most :data:`MAX_YAML_VALUES` values (no "billion laughs"), every
number an argument holds is checked against :data:`SIZE_LIMITS` (by the
argument's name, so classes added to the allow-list later are checked too)
before anything is built, and building stops once the modules' tensors would
pass ``max_bytes`` (:data:`MAX_MODEL_BYTES`). Any failure while building is
this module's one-line :class:`UnsafeModelFolder`.

Recipes a user writes keep hyperpyyaml: that is code the user chose.

Authors
 * jepa-tokenizer team 2026
"""

import math
import re
from pathlib import Path
from typing import Any, Dict, Mapping, NamedTuple, Optional, Tuple, Union

import torch
import yaml
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from jepa_tokenizer.models.codec import JEPACodec
from jepa_tokenizer.models.decoder import HiFiGANDecoder
from jepa_tokenizer.models.encoder import JEPAEncoder
from jepa_tokenizer.models.istft_decoder import ISTFTDecoder
from jepa_tokenizer.models.mel_codec import GriffinLim, MelDecoder, MelEncoder
from jepa_tokenizer.models.predictor import JEPAPredictor
from jepa_tokenizer.models.tts import TokenTTS
from jepa_tokenizer.nn.frontend import LogMelFrontend
from jepa_tokenizer.quantization.fsq import FSQ
from jepa_tokenizer.quantization.packing import MixedRadixPacker

__all__ = [
    "ALLOWED_CLASSES",
    "Limit",
    "SIZE_LIMITS",
    "OTHER_INTEGERS",
    "MAX_MODEL_BYTES",
    "MAX_YAML_VALUES",
    "UnsafeModelFolder",
    "read_plain_yaml",
    "build_module",
    "load_weights",
    "load_codec",
    "check_folder_kind",
]

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
    MelEncoder,
    MelDecoder,
    GriffinLim,
):
    ALLOWED_CLASSES[f"{_cls.__module__}.{_cls.__qualname__}"] = _cls
    ALLOWED_CLASSES[f"jepa_tokenizer.{_cls.__qualname__}"] = _cls
ALLOWED_CLASSES["jepa_tokenizer.tts.TokenTTS"] = TokenTTS  # TTS folders of the flat layout

#: keys of an exported file that describe SpeechBrain's interface, not the model (never built here)
INTERFACE_KEYS = ("modules", "pretrainer")
#: the largest hyperparams.yaml read (an export is a few KB)
MAX_YAML_BYTES = 1 << 20
#: the most values a hyperparams.yaml may hold once its aliases and ``!ref``s are
#: expanded (an export holds a few hundred; a chain of aliases can reach billions)
MAX_YAML_VALUES = 100_000
#: the most bytes of tensors building a folder's modules may make (the 24 kHz
#: reference codec makes 0.72 GiB); ``load_codec(..., max_bytes=...)`` raises it
MAX_MODEL_BYTES = 1 << 30


class Limit(NamedTuple):
    """The range of the numbers an argument may hold, and its longest list."""

    low: float
    high: float
    items: int = 64


#: Limits on the numbers a model folder gives its modules, by a pattern of the
#: argument's name (``re.search``; the first pattern that matches applies).
#: They hold for every allow-listed class, including ones added later; a class
#: may put its own in a ``SIZE_LIMITS`` attribute (checked first), and
#: ``load_codec(..., limits={pattern: Limit(...)})`` overrides or adds any.
#: Numbers in lists count item by item; floats must be finite.
SIZE_LIMITS: Dict[str, Limit] = {
    "(^|_)sample_rate$": Limit(1000, 768000),
    "fft|win_length": Limit(1, 65536),
    "hop": Limit(1, 1 << 20),
    "layers|blocks|depth": Limit(0, 64),
    "head": Limit(1, 64),
    "kernel": Limit(1, 255),
    "dilation": Limit(1, 1024),
    "stride|upsample|fold": Limit(1, 64),
    "levels|radices": Limit(1, 1024, items=4096),
    "digits": Limit(1, 4096),
    "group": Limit(1, 64),
    "multiplier": Limit(1, 16),
    "max_len": Limit(1, 16384),
    "units|vocab|speakers": Limit(0, 65536),
    "gaussians": Limit(1, 64),
    "dim|channels|d_model|d_ffn|hidden|width|mels|size": Limit(1, 4096),
}
#: the limit of an integer argument no pattern names
OTHER_INTEGERS = Limit(-4096, 4096, items=4096)


class UnsafeModelFolder(ValueError):
    """A model folder asks for something this loader does not do."""


class _New:
    def __init__(self, name: str, arguments: Any):
        self.name, self.arguments = name, arguments


class _Ref:
    def __init__(self, text: str):
        self.text = text.strip()

    def key(self) -> str:
        """The top-level key named (``<key>``); anything else is refused."""
        if not (self.text.startswith("<") and self.text.endswith(">") and self.text[1:-1].isidentifier()):
            raise UnsafeModelFolder(f"!ref {_shown(self.text)}: only a reference to a top-level key (<key>) is read")
        return self.text[1:-1]


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


def _shown(value: Any, width: int = 40) -> str:
    """``value`` for a one-line message: escaped, at most ``width`` characters."""
    text = repr(value)
    return text if len(text) <= width else text[: width - 3] + "..."


def _expanded_size(value: Any, tree: Optional[Dict[str, Any]], memo: Dict[Any, int], active: set) -> int:
    """How many values ``value`` holds once YAML aliases (and, given ``tree``,
    ``!ref``s) are expanded (at most ``MAX_YAML_VALUES + 1``), visiting each
    shared part once."""
    if isinstance(value, _Ref) and tree is not None:
        name = value.key()
        if name not in tree or name in INTERFACE_KEYS:
            raise UnsafeModelFolder(f"!ref <{name}>: no such key")
        marker, children = ("ref", name), [tree[name]]
    elif isinstance(value, list):
        marker, children = id(value), value
    elif isinstance(value, (dict, _New)):
        marker, children = id(value), (value.arguments if isinstance(value, _New) else value).values()
    else:
        return 1
    if marker in memo:
        return memo[marker]
    if marker in active:
        raise UnsafeModelFolder(
            f"!ref <{marker[1]}> refers to itself" if isinstance(marker, tuple) else "a YAML alias contains itself"
        )
    active.add(marker)
    # saturates just above the limit: counting never needs a large number
    memo[marker] = min(MAX_YAML_VALUES + 1, 1 + sum(_expanded_size(child, tree, memo, active) for child in children))
    active.discard(marker)
    return memo[marker]


def _check_expansion(value: Any, tree: Optional[Dict[str, Any]] = None) -> None:
    try:
        size = _expanded_size(value, tree, {}, set())
    except RecursionError:
        raise UnsafeModelFolder("nested too deep") from None
    if size > MAX_YAML_VALUES:
        raise UnsafeModelFolder(
            f"its YAML aliases or !refs expand to more than {MAX_YAML_VALUES} values (an alias chain?); "
            "an export holds a few hundred"
        )


def read_plain_yaml(path: Union[str, Path]) -> Dict[str, Any]:
    """The top-level mapping of a model folder's YAML as inert data.

    Raises
    ------
    UnsafeModelFolder
        For a tag other than ``!new:`` / ``!ref``, a file that is too large or
        whose aliases expand beyond :data:`MAX_YAML_VALUES`, or YAML that is not
        a mapping (one line naming the file).

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "hyperparams.yaml")
    >>> chain = "a0: &a0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]\\n" + "".join(
    ...     f"a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * 10)}]\\n" for i in range(1, 9))
    >>> _ = open(path, "w").write(chain)  # 342 bytes, 10**9 values once expanded
    >>> read_plain_yaml(path)
    Traceback (most recent call last):
    ...
    jepa_tokenizer.pretrained.safe_load.UnsafeModelFolder: ...: its YAML aliases or !refs expand to more than 100000 values (an alias chain?); an export holds a few hundred
    """
    path = Path(path)
    if path.stat().st_size > MAX_YAML_BYTES:
        raise UnsafeModelFolder(f"{path}: {path.stat().st_size} bytes; an exported hyperparams.yaml is a few KB")
    try:
        tree = yaml.load(path.read_text(encoding="utf-8"), Loader=_PlainLoader)  # noqa: S506 (a safe loader)
    except UnsafeModelFolder as err:  # a !new: record that is not a mapping
        raise UnsafeModelFolder(f"{path}: {err}") from None
    except yaml.constructor.ConstructorError as err:
        tag = getattr(err, "problem", "") or str(err).splitlines()[0]
        raise UnsafeModelFolder(f"{path}: not loaded: {tag} (only !new: of this package's modules and !ref)") from None
    except (yaml.YAMLError, UnicodeDecodeError, RecursionError, ValueError, OverflowError) as err:
        raise UnsafeModelFolder(f"{path}: not valid YAML: {(str(err).splitlines() or [''])[0][:200]}") from None
    if not isinstance(tree, dict):
        raise UnsafeModelFolder(f"{path}: not a YAML mapping")
    try:
        _check_expansion(tree)
    except UnsafeModelFolder as err:
        raise UnsafeModelFolder(f"{path}: {err}") from None
    return tree


def _limit_of(name: str, tables: Tuple[Mapping[str, Limit], ...]) -> Tuple[Optional[str], Limit]:
    """The first (pattern, limit) of ``tables`` whose pattern is in ``name``."""
    for table in tables:
        for pattern, limit in table.items():
            if re.search(pattern, name):
                return pattern, Limit(*limit)
    return None, OTHER_INTEGERS


def _check_sizes(tree: Dict[str, Any], key: str, limits: Mapping[str, Limit]) -> None:
    """Every number the ``!new:`` records reachable from ``tree[key]`` pass to
    their classes, checked against its argument's limit before anything is built."""
    checked = set()

    def record(value: _New) -> None:
        if id(value) in checked:
            return
        checked.add(id(value))
        cls = ALLOWED_CLASSES.get(value.name)
        if cls is None:
            raise UnsafeModelFolder(f"!new:{value.name} is not one of this package's modules")
        tables = (getattr(cls, "SIZE_LIMITS", {}), limits, SIZE_LIMITS)
        for argument, item in value.arguments.items():
            plain(item, str(argument), value.name, tables)

    def plain(value: Any, argument: str, owner: str, tables) -> None:
        if isinstance(value, _Ref):
            return plain(tree[value.key()], argument, owner, tables)
        if isinstance(value, _New):
            return record(value)
        if isinstance(value, dict):
            for name, item in value.items():
                plain(item, str(name), owner, tables)
            return
        pattern, limit = _limit_of(argument, tables)
        fix = f"for a model you trust, load it with limits={{{(pattern or argument)!r}: Limit(low, high)}}"
        if isinstance(value, list):
            if len(value) > limit.items:
                raise UnsafeModelFolder(
                    f"!new:{owner}: {argument} lists {len(value)} values, more than {limit.items}; {fix}"
                )
            for item in value:
                plain(item, argument, owner, tables)
        elif isinstance(value, float) and not math.isfinite(value):
            raise UnsafeModelFolder(f"!new:{owner}: {argument} is {value}, not a finite number")
        elif isinstance(value, int) and not isinstance(value, bool) or isinstance(value, float) and pattern:
            if not limit.low <= value <= limit.high:
                raise UnsafeModelFolder(
                    f"!new:{owner}: {argument} is {_shown(value)}, outside [{limit.low:g}, {limit.high:g}]; {fix}"
                )

    plain(tree[key], key, key, ())


def _tensors(value: Any):
    if isinstance(value, torch.Tensor):
        yield value
    elif isinstance(value, (tuple, list)):
        for item in value:
            yield from _tensors(item)


class _Budget(TorchDispatchMode):
    """Counts the bytes of the tensors made while modules are built (those of
    an operation with a ``size`` argument before they are allocated) and stops
    before they pass ``max_bytes``: bounded memory whatever the sizes combine to."""

    def __init__(self, max_bytes: int):
        super().__init__()
        self.max_bytes, self.spent = max_bytes, 0

    def spend(self, count: int) -> None:
        self.spent += count
        if self.spent > self.max_bytes:
            raise UnsafeModelFolder(
                f"its modules take more than {self.max_bytes / 2**30:.3g} GiB (max_bytes={self.max_bytes}); "
                "for a model you trust, load it with a larger max_bytes"
            )

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        schema = func._schema
        fresh = all(result.alias_info is None for result in schema.returns)  # not a view, not in place
        planned = None
        if fresh:
            for index, argument in enumerate(schema.arguments):
                if argument.name == "size":
                    size = args[index] if index < len(args) else kwargs.get("size")
                    if isinstance(size, (list, tuple)) and all(isinstance(n, int) for n in size):
                        dtype = kwargs.get("dtype") or torch.get_default_dtype()
                        planned = max(0, math.prod(size)) * dtype.itemsize
                        self.spend(planned)
        out = func(*args, **kwargs)
        if fresh and planned is None:
            self.spend(sum(t.numel() * t.element_size() for t in _tensors(out)))
        return out


def build_module(
    tree: Dict[str, Any],
    key: str,
    limits: Optional[Mapping[str, Limit]] = None,
    max_bytes: int = MAX_MODEL_BYTES,
) -> Any:
    """Builds ``tree[key]``: plain values as they are, ``!new:`` records as
    allow-listed classes (arguments first), ``!ref <k>`` as the value of
    top-level key ``k`` (built once, shared).

    Before anything is built, aliases and ``!ref``s must expand to at most
    :data:`MAX_YAML_VALUES` values and every number an argument holds must
    pass its limit (``limits``, then the class's own ``SIZE_LIMITS``... see
    :data:`SIZE_LIMITS`); building stops once the tensors made pass
    ``max_bytes``. Every failure is a one-line :class:`UnsafeModelFolder`.

    Example
    -------
    >>> tree = {"fsq": _New("jepa_tokenizer.FSQ", {"levels": 4, "dim": 10**9})}
    >>> build_module(tree, "fsq")
    Traceback (most recent call last):
    ...
    jepa_tokenizer.pretrained.safe_load.UnsafeModelFolder: !new:jepa_tokenizer.FSQ: dim is 1000000000, outside [1, 4096]; for a model you trust, load it with limits={'dim|channels|d_model|d_ffn|hidden|width|mels|size': Limit(low, high)}
    >>> build_module({"fsq": _New("jepa_tokenizer.FSQ", {"levels": 4, "dim": 8})}, "fsq").dim
    8
    """
    if key not in tree or key in INTERFACE_KEYS:
        raise UnsafeModelFolder(f"!ref <{key}>: no such key")
    _check_expansion(_Ref(f"<{key}>"), tree)
    _check_sizes(tree, key, limits or {})
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
            return top(value.key())
        if isinstance(value, _New):
            cls = ALLOWED_CLASSES[value.name]  # every name checked by _check_sizes
            arguments = {str(k): resolve(v, depth + 1) for k, v in value.arguments.items()}
            try:
                return cls(**arguments)
            except UnsafeModelFolder:
                raise
            except (TypeError, ValueError) as err:
                raise UnsafeModelFolder(f"{value.name}: {_first_line(err)}") from None
            except Exception as err:  # MemoryError, RuntimeError, ...: what the sizes asked for failed
                raise UnsafeModelFolder(f"{value.name}: {type(err).__name__}: {_first_line(err)}") from None
        if isinstance(value, list):
            return [resolve(item, depth + 1) for item in value]
        if isinstance(value, dict):
            return {k: resolve(v, depth + 1) for k, v in value.items()}
        return value

    with _Budget(max_bytes):
        return top(key)


def _first_line(err: BaseException) -> str:
    lines = str(err).splitlines()
    return lines[0][:300] if lines else type(err).__name__


def load_weights(module: nn.Module, path: Union[str, Path]) -> nn.Module:
    """Loads a plain state dict into ``module``; every key must match and
    every floating-point weight be finite.

    Raises
    ------
    UnsafeModelFolder
        For a missing, unreadable, non-tensor or oversized file, keys or shapes
        that differ from the model, or NaN / Inf weights (one line: how many,
        and the first).
    """
    path = Path(path)
    if not path.is_file():
        raise UnsafeModelFolder(f"{path}: no weights file")
    expected = module.state_dict()
    room = 2 * sum(t.numel() * t.element_size() for t in expected.values()) + 4096 * len(expected) + (1 << 20)
    if path.stat().st_size > room:  # float64 copies of every weight, and then some
        raise UnsafeModelFolder(f"{path}: {path.stat().st_size} bytes, more than this model's weights can take")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # corrupt, truncated, pickled objects: all refused the same way
        raise UnsafeModelFolder(f"{path}: not a weights file ({type(err).__name__})") from None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        raise UnsafeModelFolder(f"{path}: not a state dict of tensors")
    missing = sorted(set(expected) - set(state))
    unexpected = sorted(set(state) - set(expected))
    if missing or unexpected:
        first = (missing or unexpected)[0]
        raise UnsafeModelFolder(
            f"{path}: {len(missing)} weights missing, {len(unexpected)} unexpected (first: {_shown(first, 80)}); "
            "this file does not belong to this model"
        )
    wrong = [k for k in expected if tuple(state[k].shape) != tuple(expected[k].shape)]
    if wrong:
        raise UnsafeModelFolder(f"{path}: {len(wrong)} weights of the wrong shape (first: {wrong[0]})")
    broken = [k for k, v in state.items() if v.is_floating_point() and not bool(torch.isfinite(v).all())]
    if broken:
        raise UnsafeModelFolder(
            f"{path}: {len(broken)} weights hold NaN or Inf (first: {broken[0]}); the file is damaged"
        )
    module.load_state_dict(state)
    return module


#: the key each kind of model folder builds, and how to load it
FOLDER_KINDS = {
    "codec": "a codec folder (load it with JEPATokenizer.from_folder, or --model of jepa-tokenizer encode/decode)",
    "model": "a TTS folder (load it with TextToSpeech.from_folder, or jepa-tokenizer synthesize --model)",
}


def check_folder_kind(tree: Dict[str, Any], key: str, folder: Union[str, Path]) -> None:
    """A one-line error when ``tree`` (a folder's YAML) lacks ``key`` but
    builds another kind of model: the folder was given to the wrong loader.

    Example
    -------
    >>> check_folder_kind({"model": None}, "codec", "tts")
    Traceback (most recent call last):
    ...
    jepa_tokenizer.pretrained.safe_load.UnsafeModelFolder: tts is a TTS folder (load it with TextToSpeech.from_folder, or jepa-tokenizer synthesize --model), not a codec folder
    """
    if key not in tree:
        for other, kind in FOLDER_KINDS.items():
            if other in tree:
                raise UnsafeModelFolder(f"{folder} is {kind}, not {FOLDER_KINDS[key].split(' (')[0]}")


def load_codec(
    folder: Union[str, Path],
    device: Optional[str] = None,
    limits: Optional[Mapping[str, Limit]] = None,
    max_bytes: int = MAX_MODEL_BYTES,
) -> JEPACodec:
    """The codec of an exported folder (``hyperparams.yaml`` + ``codec.ckpt``),
    built and loaded without running code the folder chose, in eval mode;
    ``limits`` and ``max_bytes`` raise the size limits (see :func:`build_module`)
    for a large model you trust.

    Example
    -------
    >>> import tempfile
    >>> from jepa_tokenizer.models.config import load_model_config
    >>> from jepa_tokenizer.pretrained.export import export_codec
    >>> folder = export_codec(load_model_config("jepa_tiny.yaml")["codec"], tempfile.mkdtemp())
    >>> load_codec(folder).tokens_per_frame
    3
    >>> load_codec(folder, limits={"dim": Limit(1, 8)})
    Traceback (most recent call last):
    ...
    jepa_tokenizer.pretrained.safe_load.UnsafeModelFolder: .../hyperparams.yaml: !new:jepa_tokenizer.models.encoder.JEPAEncoder: code_dim is 16, outside [1, 8]; for a model you trust, load it with limits={'dim': Limit(low, high)}
    """
    folder = Path(folder)
    yaml_path = folder / "hyperparams.yaml"
    if not folder.is_dir():
        raise UnsafeModelFolder(f"{folder}: no such model folder")
    if not yaml_path.is_file():
        raise UnsafeModelFolder(f"{folder} is not a model folder (no hyperparams.yaml)")
    tree = read_plain_yaml(yaml_path)
    check_folder_kind(tree, "codec", folder)
    try:
        codec = build_module(tree, "codec", limits, max_bytes)
    except UnsafeModelFolder as err:
        raise UnsafeModelFolder(f"{yaml_path}: {err}") from None
    if not isinstance(codec, JEPACodec):
        raise UnsafeModelFolder(f"{yaml_path}: 'codec' is a {type(codec).__name__}, not a JEPACodec")
    load_weights(codec, folder / "codec.ckpt")
    codec.eval()
    return codec.to(device) if device else codec
