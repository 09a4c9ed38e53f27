"""Periodic activations for waveform models.

SpeechBrain ships Snake-free HiFi-GAN blocks (LeakyReLU), so the SnakeBeta
activation used by our encoder and decoder lives here.

Authors
 * jepa-tokenizer team 2026
"""

import math

import torch
from torch import nn

__all__ = ["SnakeBeta"]


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
        return x + torch.sin(x * alpha).pow(2) / (beta + self.eps)
