"""Modules that remember how they were built, and the YAML that builds them again.

An exported model folder must rebuild exactly the module that was trained.
Rebuilding it from the configuration files it came from (which may change, or
live elsewhere) is fragile; instead each exportable module records the
arguments of its constructor call, defaults included
(:class:`RecordsArguments`), and :func:`constructor_yaml` writes them back as
hyperpyyaml ``!new:`` entries, nested modules as nested entries. One mechanism
serves the codec and the TTS model. (PyTorch and SpeechBrain keep no record of
constructor arguments, hence this mixin.)

Authors
 * jepa-tokenizer team 2026
"""

import functools
import inspect
import math
from typing import Any, Dict, List

__all__ = ["RecordsArguments", "constructor_yaml", "yaml_value"]

_INDENT = "    "


class RecordsArguments:
    """Mixin for a ``torch.nn.Module``: ``init_arguments`` holds every
    argument of the constructor call that built the object (defaults
    included), by name. Subclasses that define their own ``__init__`` record
    their own arguments.

    Example
    -------
    >>> import torch
    >>> class Scale(RecordsArguments, torch.nn.Module):
    ...     def __init__(self, factor: float, bias: bool = False):
    ...         super().__init__()
    ...         self.factor = factor
    >>> Scale(2.0).init_arguments
    {'factor': 2.0, 'bias': False}
    """

    init_arguments: Dict[str, Any]

    def __init_subclass__(cls, **kwargs):
        super().__init_subclass__(**kwargs)
        init = cls.__dict__.get("__init__")
        if init is None:
            return
        signature = inspect.signature(init)
        if any(p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) for p in signature.parameters.values()):
            raise TypeError(f"{cls.__name__}.__init__ must name its arguments to record them")

        @functools.wraps(init)
        def recording_init(self, *args, **kwargs):
            init(self, *args, **kwargs)
            if type(self).__init__ is recording_init:  # the outermost constructor records
                bound = signature.bind(self, *args, **kwargs)
                bound.apply_defaults()
                arguments = dict(bound.arguments)
                arguments.pop(next(iter(signature.parameters)))  # self
                object.__setattr__(self, "init_arguments", arguments)

        cls.__init__ = recording_init


def constructor_yaml(name: str, module: RecordsArguments) -> str:
    """hyperpyyaml text that builds ``module`` again as the top-level key
    ``name``: its class (by its defining module) and its recorded arguments.

    Raises
    ------
    TypeError
        If an argument is neither a plain value (number, string, bool, None,
        list, tuple, dict with string keys) nor a module that records its
        arguments.

    Example
    -------
    >>> from hyperpyyaml import load_hyperpyyaml
    >>> from jepa_tokenizer.quantization.fsq import FSQ
    >>> text = constructor_yaml("quantizer", FSQ(levels=4, dim=3))
    >>> print(text.splitlines()[0])
    quantizer: !new:jepa_tokenizer.quantization.fsq.FSQ
    >>> load_hyperpyyaml(text)["quantizer"].init_arguments == FSQ(levels=4, dim=3).init_arguments
    True
    """
    return "\n".join(_entry(name, module, 0)) + "\n"


def _entry(key: str, value: Any, depth: int) -> List[str]:
    pad = _INDENT * depth
    if isinstance(value, RecordsArguments):
        cls = type(value)
        lines = [f"{pad}{key}: !new:{cls.__module__}.{cls.__qualname__}"]
        for name, argument in value.init_arguments.items():
            lines += _entry(name, argument, depth + 1)
        return lines
    return [f"{pad}{key}: {yaml_value(value, key)}"]


def yaml_value(value: Any, key: str = "value") -> str:
    """``value`` as flow-style YAML (JSON-like; floats always read back as
    floats); ``key`` names it in the error.

    Example
    -------
    >>> yaml_value([1, 2.5, 1e-05, None, True, "a"])
    '[1, 2.5, 1.0e-05, null, true, "a"]'
    """
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        text = repr(value)
        if "e" in text and "." not in text.split("e")[0]:
            mantissa, exponent = text.split("e")
            text = f"{mantissa}.0e{exponent}"  # YAML 1.1 reads 1e-05 as a string
        return text
    if isinstance(value, str):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(yaml_value(item, key) for item in value) + "]"
    if isinstance(value, dict) and all(isinstance(k, str) for k in value):
        return "{" + ", ".join(f"{yaml_value(k, key)}: {yaml_value(v, key)}" for k, v in value.items()) + "}"
    raise TypeError(
        f"constructor_yaml: argument {key!r} is a {type(value).__name__}, which cannot be written "
        "(plain values and modules that record their arguments only)"
    )
