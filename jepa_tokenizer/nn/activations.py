"""Periodic activations for waveform models.

SpeechBrain ships Snake-free HiFi-GAN blocks (LeakyReLU), so the SnakeBeta
activation used by our encoder and decoder lives here. It runs at the full
sample rate, where eager PyTorch spends most of a training step in its chain
of elementwise ops: the default path is one fused kernel for the forward pass
and one for the backward pass (``jepa_tokenizer.nn.fused``), which keeps only
the input for the backward pass; ``snake_beta_reference`` is the formula as
written (equal within float tolerance, tested).

Authors
 * jepa-tokenizer team 2026
"""

import math

import torch
from torch import nn

from jepa_tokenizer.nn.fused import fused

__all__ = ["SnakeBeta", "snake_beta", "snake_beta_reference"]


def snake_beta_reference(x: torch.Tensor, alpha: torch.Tensor, inv_beta: torch.Tensor) -> torch.Tensor:
    """``x + sin(alpha x)^2 * inv_beta`` (``alpha``, ``inv_beta`` broadcast over ``x``)."""
    return x + torch.sin(x * alpha).pow(2) * inv_beta


@fused
def _snake_forward(x: torch.Tensor, alpha: torch.Tensor, inv_beta: torch.Tensor) -> torch.Tensor:
    return x + torch.sin(x * alpha).pow(2) * inv_beta


@fused
def _snake_backward(x: torch.Tensor, alpha: torch.Tensor, inv_beta: torch.Tensor, grad: torch.Tensor):
    # d/dx = 1 + inv_beta * alpha * sin(2 alpha x); d/dalpha = inv_beta * x * sin(2 alpha x);
    # d/dinv_beta = sin(alpha x)^2; parameters broadcast over batch and time (dims 0 and 2)
    ax = x * alpha
    sin_2ax = torch.sin(2.0 * ax)
    grad_x = grad + grad * (alpha * inv_beta) * sin_2ax
    grad_alpha = (grad * x * sin_2ax).sum(dim=(0, 2), keepdim=True) * inv_beta
    grad_inv_beta = (grad * torch.sin(ax).pow(2)).sum(dim=(0, 2), keepdim=True)
    return grad_x, grad_alpha, grad_inv_beta


class _SnakeBetaFunction(torch.autograd.Function):
    """SnakeBeta with a hand-written backward pass: saves only the input."""

    @staticmethod
    def forward(ctx, x, alpha, inv_beta):
        ctx.save_for_backward(x, alpha, inv_beta)
        return _snake_forward(x, alpha, inv_beta)

    @staticmethod
    def backward(ctx, grad):
        x, alpha, inv_beta = ctx.saved_tensors
        return _snake_backward(x, alpha, inv_beta, grad.contiguous())


def snake_beta(x: torch.Tensor, alpha: torch.Tensor, inv_beta: torch.Tensor) -> torch.Tensor:
    """SnakeBeta of ``x`` ``[B, C, T]`` with per-channel ``alpha`` and
    ``inv_beta`` of shape ``[1, C, 1]``: the fused kernels (the reference
    formula when fusing is off or impossible).

    Example
    -------
    >>> x = torch.randn(2, 3, 5)
    >>> alpha, inv_beta = torch.rand(1, 3, 1) + 0.5, torch.rand(1, 3, 1) + 0.5
    >>> torch.allclose(snake_beta(x, alpha, inv_beta), snake_beta_reference(x, alpha, inv_beta), atol=1e-6)
    True
    """
    alpha, inv_beta = alpha.to(x.dtype), inv_beta.to(x.dtype)
    if not (_snake_forward.active() and _snake_backward.active()) or x.dim() != 3 or alpha.shape != (1, x.shape[1], 1):
        return snake_beta_reference(x, alpha, inv_beta)  # unfused: autograd's own backward is the faster one
    return _SnakeBetaFunction.apply(x.contiguous(), alpha, inv_beta)


class SnakeBeta(nn.Module):
    """SnakeBeta activation: ``x + 1 / beta * sin(alpha * x) ** 2``.

    ``alpha`` sets the frequency and ``beta`` the magnitude of the periodic
    component, one pair per channel, both learnable. With ``logscale`` the
    parameters are stored as logarithms (initialised to zero, i.e. 1.0).
    ``SnakeBeta(0) == 0``, so zero padding stays zero.

    Arguments
    ---------
    channels : int
        Number of channels (dimension 1 of the input).
    alpha_init : float
        Initial value of alpha (and beta).
    logscale : bool
        Store alpha and beta as log values.
    eps : float
        Added to beta before division.

    Example
    -------
    >>> act = SnakeBeta(channels=4)
    >>> x = torch.randn(2, 4, 10)
    >>> act(x).shape
    torch.Size([2, 4, 10])
    >>> float(act(torch.zeros(1, 4, 3)).detach().abs().max())
    0.0
    """

    def __init__(
        self,
        channels: int,
        alpha_init: float = 1.0,
        logscale: bool = True,
        eps: float = 1e-9,
    ):
        super().__init__()
        self.logscale = logscale
        self.eps = eps
        value = math.log(alpha_init) if logscale else float(alpha_init)
        self.alpha = nn.Parameter(torch.full((channels,), value))
        self.beta = nn.Parameter(torch.full((channels,), value))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Applies the activation to ``x`` of shape ``[B, C, T]``."""
        alpha = self.alpha.view(1, -1, 1)
        beta = self.beta.view(1, -1, 1)
        if self.logscale:
            alpha = alpha.exp()
            beta = beta.exp()
        return snake_beta(x, alpha, 1.0 / (beta + self.eps))
