"""Hooks for every test of the run, doctests in the package included (tests/conftest.py
holds the fixtures of tests/)."""

import sys

import pytest


class _DoctestNamespace(dict):
    """A doctest's globals, which doctest clears once its examples ran. Code that
    ``torch.compile`` traced there (the example of ``jepa_tokenizer.nn.fused.fused``)
    installed names in them that dynamo deletes when it frees that code, at interpreter
    exit at the latest: after a clear, a ``KeyError: '__builtins_dict___N'`` traceback
    followed the summary line. Clearing frees dynamo's code first."""

    def clear(self):
        if "torch._dynamo" in sys.modules and any(name.startswith("__compiled_fn") for name in self):
            sys.modules["torch._dynamo"].reset()
        super().clear()


@pytest.hookimpl(trylast=True)
def pytest_runtest_setup(item):
    dtest = getattr(item, "dtest", None)  # a doctest (pytest's DoctestItem)
    if dtest is not None and dtest.globs is not None:
        dtest.globs = _DoctestNamespace(dtest.globs)
