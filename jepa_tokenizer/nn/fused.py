"""Fused elementwise kernels: ``torch.compile`` where it works, eager PyTorch
where it does not.

At the full sample rate the activations and gates are memory-bound chains of
small ops (``mul``, ``sin``, ``pow``, ``div``...): eager PyTorch makes one pass
over memory per op and keeps every intermediate for the backward pass.
Compiled (Inductor: one C++/OpenMP loop on CPU, one Triton kernel on CUDA),
a chain is one pass. Compilation happens once per process and dtype (cached
on disk by PyTorch across processes); where it is impossible (no C++
compiler, an unsupported platform) the same formula runs eagerly after a
one-line warning.

The kernels are plain functions of tensors (no autograd inside): the
modules wrap them in ``torch.autograd.Function`` with hand-written backward
passes, so the graph saves only the inputs and repeated backward passes
(``retain_graph=True``, ``gradcheck``) are safe.

``JEPA_TOKENIZER_FUSED=0`` in the environment, or :func:`set_fused`, turns the
compiled path off (the reference formulas run, e.g. to compare).

Authors
 * jepa-tokenizer team 2026
"""

import contextlib
import functools
import logging
import os
from typing import Callable, Dict

import torch

__all__ = ["fused", "set_fused", "fused_enabled"]

logger = logging.getLogger(__name__)

_ENABLED = {"value": os.environ.get("JEPA_TOKENIZER_FUSED", "1") != "0"}
_BROKEN: Dict[str, str] = {}  # kernel name -> why it runs eagerly
#: Graphs dynamo may keep per kernel: one per dtype, device and size-1 pattern of the
#: inputs; its default (8, for all of a process) is spent by a process that builds many
#: models (the test suite, the controls runner), after which the kernel ran eagerly.
RECOMPILE_LIMIT = 64


def set_fused(enabled: bool) -> None:
    """Turns the compiled kernels on or off for this process."""
    _ENABLED["value"] = bool(enabled)


def fused_enabled() -> bool:
    """Whether the compiled kernels are in use."""
    return _ENABLED["value"]


@contextlib.contextmanager
def _quiet(name: str):
    log = logging.getLogger(name)
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        yield
    finally:
        log.setLevel(level)


def _raise_recompile_limit() -> None:
    """Raises dynamo's process-wide recompile limit to ``RECOMPILE_LIMIT``
    (never lowers it). Once per kernel, not per call: patching the config
    around every call cost about 1 ms each, a tenth of a training step."""
    if torch._dynamo.config.recompile_limit < RECOMPILE_LIMIT:
        torch._dynamo.config.recompile_limit = RECOMPILE_LIMIT


def fused(fn: Callable) -> Callable:
    """Decorator: ``fn`` (pure tensor code, no Python-side effects) runs
    compiled when fusing is on and compiling works, else as written.
    ``decorated.active()`` says whether the compiled kernel is in use (callers
    pick their autograd path by it), ``decorated.reference`` is ``fn``.

    Example
    -------
    >>> @fused
    ... def scaled_sine(x, a):
    ...     return torch.sin(x * a) * a
    >>> x = torch.randn(4, 3)
    >>> torch.allclose(scaled_sine(x, 2.0), torch.sin(x * 2.0) * 2.0, atol=1e-6)
    True
    """
    compiled = {}

    @functools.wraps(fn)
    def run(*args):
        if not _ENABLED["value"] or fn.__qualname__ in _BROKEN or torch.jit.is_scripting():
            return fn(*args)
        first = "fn" not in compiled
        if first:
            compiled["fn"] = torch.compile(fn, dynamic=True, fullgraph=True)
        if not torch.is_grad_enabled():
            # no graph is built (e.g. inside an autograd.Function), so plain tensors: guards on
            # parameters (their shapes, requires_grad) recompiled per module and hit dynamo's limit
            args = tuple(a.detach() if isinstance(a, torch.Tensor) else a for a in args)
        try:
            if first:  # compiles now; PyTorch's note that a CPU machine has no CUDA toolkit is noise here
                _raise_recompile_limit()
                with _quiet("torch.utils.cpp_extension"):
                    return compiled["fn"](*args)
            return compiled["fn"](*args)
        except Exception as err:  # no compiler, unsupported backend...: the formula as written
            _BROKEN[fn.__qualname__] = f"{type(err).__name__}: {str(err).splitlines()[0] if str(err) else ''}"
            logger.warning("%s runs unfused (torch.compile failed: %s)", fn.__qualname__, _BROKEN[fn.__qualname__])
            return fn(*args)

    run.reference = fn
    run.active = lambda: _ENABLED["value"] and fn.__qualname__ not in _BROKEN
    return run
