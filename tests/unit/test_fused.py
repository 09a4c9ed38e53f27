"""The fused kernels equal the reference formulas, values and gradients
(gradcheck in float64), fall back to eager PyTorch when compiling fails, and
can be turned off."""

import logging

import pytest
import torch

import jepa_tokenizer.nn.fused as fused_module
from jepa_tokenizer import DAAMGate, SnakeBeta
from jepa_tokenizer.nn.activations import snake_beta, snake_beta_reference
from jepa_tokenizer.nn.daam import gaussian_mixture_gate, gaussian_mixture_gate_reference
from jepa_tokenizer.training.losses import MultiResolutionSTFTLoss, spectral_l1, spectral_l1_reference


@pytest.fixture
def unfused():
    """Runs the test body's marked part with the reference formulas."""

    class Switch:
        def __enter__(self):
            fused_module.set_fused(False)

        def __exit__(self, *exc):
            fused_module.set_fused(True)

    return Switch()


def test_snake_beta_values_and_gradients_equal_the_reference(unfused):
    torch.manual_seed(0)
    act = SnakeBeta(channels=5, alpha_init=0.7)
    with torch.no_grad():
        act.alpha.add_(torch.randn(5) * 0.3)
        act.beta.add_(torch.randn(5) * 0.3)
    x = torch.randn(3, 5, 257, requires_grad=True)
    grad = torch.randn(3, 5, 257)

    def run():
        x.grad, act.alpha.grad, act.beta.grad = None, None, None
        y = act(x)
        y.backward(grad)
        return y.detach(), x.grad.clone(), act.alpha.grad.clone(), act.beta.grad.clone()

    fast = run()
    with unfused:
        slow = run()
    for a, b in zip(fast, slow):
        assert torch.allclose(a, b, rtol=1e-4, atol=1e-5)


def test_snake_beta_gradcheck_in_float64():
    torch.manual_seed(1)
    x = torch.randn(2, 3, 11, dtype=torch.float64, requires_grad=True)
    alpha = (torch.rand(1, 3, 1, dtype=torch.float64) + 0.5).requires_grad_()
    inv_beta = (torch.rand(1, 3, 1, dtype=torch.float64) + 0.5).requires_grad_()
    assert torch.autograd.gradcheck(snake_beta, (x, alpha, inv_beta))
    assert torch.allclose(snake_beta(x, alpha, inv_beta), snake_beta_reference(x, alpha, inv_beta))


def test_mixture_gate_gradcheck_in_float64_and_equals_the_reference():
    torch.manual_seed(2)
    attn = torch.randn(2, 2, 13, dtype=torch.float64, requires_grad=True)
    mask = torch.ones(2, 1, 13, dtype=torch.float64)
    mask[1, :, 9:] = 0
    offsets = (torch.randn(2, 3, dtype=torch.float64) * 0.1).requires_grad_()
    scales = (torch.rand(2, 3, dtype=torch.float64) + 0.5).requires_grad_()

    def gate(a, o, s):
        return gaussian_mixture_gate(a, mask, o, s, 1e-6, 1e-6)

    assert torch.autograd.gradcheck(gate, (attn, offsets, scales))
    reference = gaussian_mixture_gate_reference(attn, mask, offsets, scales, 1e-6, 1e-6)
    assert torch.allclose(gate(attn, offsets, scales), reference)


def test_daam_gate_fused_equals_unfused(unfused):
    torch.manual_seed(3)
    gate = DAAMGate(channels=8, num_gaussians=4, num_heads=2, alpha_init=0.5)
    x = torch.randn(3, 8, 40, requires_grad=True)
    lengths = torch.tensor([1.0, 0.5, 0.8])
    fast_y, fast_g = gate(x, lengths=lengths, return_gate=True)
    (fast_grad,) = torch.autograd.grad(fast_y.square().sum(), x)
    with unfused:
        slow_y, slow_g = gate(x, lengths=lengths, return_gate=True)
        (slow_grad,) = torch.autograd.grad(slow_y.square().sum(), x)
    assert torch.allclose(fast_y, slow_y, atol=1e-5) and torch.allclose(fast_g, slow_g, atol=1e-5)
    assert torch.allclose(fast_grad, slow_grad, atol=1e-4)


def test_a_failed_compilation_falls_back_to_the_formula(monkeypatch, caplog):
    def broken_compile(fn, **kwargs):
        def raise_error(*args):
            raise RuntimeError("no C++ compiler found")

        return raise_error

    monkeypatch.setattr(torch, "compile", broken_compile)

    @fused_module.fused
    def double(x):
        return x * 2

    with caplog.at_level(logging.WARNING):
        assert torch.equal(double(torch.ones(3)), torch.full((3,), 2.0))
        assert torch.equal(double(torch.ones(2)), torch.full((2,), 2.0))  # eager from now on, no new warning
    warnings = [r for r in caplog.records if "runs unfused" in r.getMessage()]
    assert len(warnings) == 1 and "no C++ compiler found" in warnings[0].getMessage()


def test_turned_off_nothing_is_compiled(monkeypatch, unfused):
    def no_compile(fn, **kwargs):
        raise AssertionError("torch.compile called while fusing is off")

    monkeypatch.setattr(torch, "compile", no_compile)

    @fused_module.fused
    def triple(x):
        return x * 3

    with unfused:
        assert torch.equal(triple(torch.ones(2)), torch.full((2,), 3.0))


def test_many_gates_in_one_process_stay_fused():
    """A process that builds many models (the controls runner, the
    quickstart) calls the gate with parameters of other shapes, frozen or
    not, batches of one, with and without autograd: the compiled kernel must
    not be recompiled per variant until dynamo's limit (8) turns it off."""
    import itertools

    from jepa_tokenizer.nn.daam import _gate_backward, _gate_forward

    torch.manual_seed(0)
    variants = itertools.product([1, 2], [1, 2, 4], [True, False], [False, True])
    for i, (batch, heads, trainable, no_grad) in enumerate(variants):
        gate = DAAMGate(channels=16, num_gaussians=4, num_heads=heads, alpha_init=0.5).requires_grad_(trainable)
        x = torch.randn(batch, 16, 30 + i, requires_grad=not no_grad)
        if no_grad:
            with torch.no_grad():
                gate(x)
        else:
            gate(x).square().sum().backward()
    assert _gate_forward.active() and _gate_backward.active(), fused_module._BROKEN


def test_spectral_l1_gradcheck_in_float64_and_equals_the_reference():
    torch.manual_seed(2)
    spec = torch.randn(2, 4, 6, dtype=torch.complex128, requires_grad=True)
    target = torch.randn(2, 4, 6, dtype=torch.complex128)
    assert torch.autograd.gradcheck(lambda s: spectral_l1(s, target, 1e-5), (spec,))
    fast = spectral_l1(spec, target, 1e-5)
    slow = spectral_l1_reference(spec, target, 1e-5)
    assert torch.allclose(fast, slow)
    assert torch.allclose(*(torch.autograd.grad(value, spec)[0] for value in (fast, slow)))


def test_spectral_l1_floor_and_frame_major_layout_match_the_reference():
    # bins under the floor pass no gradient (clamp's backward); torch.stft's frame-major
    # layout takes the transposed path; float32 as in training
    torch.manual_seed(3)
    spec = torch.randn(3, 20, 9, dtype=torch.complex64).transpose(1, 2)  # [B, bins, frames], frame-major
    spec[0, :4] = 1e-7
    spec.requires_grad_(True)
    target = torch.randn(3, 20, 9, dtype=torch.complex64).transpose(1, 2)
    fast = spectral_l1(spec, target, 1e-5)
    (grad_fast,) = torch.autograd.grad(fast, spec)
    slow = spectral_l1_reference(spec, target, 1e-5)
    (grad_slow,) = torch.autograd.grad(slow, spec)
    assert torch.allclose(fast, slow, rtol=1e-5)
    assert torch.allclose(grad_fast, grad_slow, rtol=1e-4, atol=1e-9)
    assert bool((grad_fast[0, :4] == 0).all())
    with pytest.raises(ValueError, match="spectrum and target"):
        spectral_l1(spec, target[:, :-1], 1e-5)


def test_stft_loss_fused_equals_unfused(unfused):
    torch.manual_seed(4)
    loss = MultiResolutionSTFTLoss(fft_sizes=[256, 64], hop_divisor=4)
    y = torch.randn(2, 1000)
    y_hat = (y + 0.1 * torch.randn(2, 1000)).requires_grad_(True)
    fast = loss(y_hat, y)
    (grad_fast,) = torch.autograd.grad(fast, y_hat)
    with unfused:
        slow = loss(y_hat, y)
        (grad_slow,) = torch.autograd.grad(slow, y_hat)
    assert torch.allclose(fast, slow, rtol=1e-5)
    assert torch.allclose(grad_fast, grad_slow, rtol=1e-3, atol=1e-8)


def test_a_run_with_the_decorators_doctest_ends_without_a_dynamo_traceback():
    """The example compiles a function in the doctest's namespace, which doctest
    clears: the repository's conftest.py makes dynamo let go of it first, so the run
    ends with the summary line, not a ``KeyError`` from dynamo's clean-up at exit."""
    import os
    import subprocess
    import sys
    from pathlib import Path

    repo = Path(__file__).resolve().parents[2]
    env = {**os.environ, "JEPA_TOKENIZER_FUSED": "1", "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "jepa_tokenizer/nn/fused.py"]
    result = subprocess.run(cmd, cwd=repo, env=env, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed" in result.stdout
    assert "Exception ignored" not in result.stderr and "KeyError" not in result.stderr, result.stderr[-2000:]
