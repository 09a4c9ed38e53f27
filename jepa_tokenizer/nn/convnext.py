"""The ConvNeXt block over time (depthwise conv, LayerNorm, pointwise MLP,
layer scale), as Vocos runs it at the spectrogram frame rate.

SpeechBrain has no ConvNeXt block for 1-D sequences, hence this one; ours
also takes a mask so that padded frames never reach real ones.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Optional

import torch
from torch import nn

__all__ = ["ConvNeXtBlock"]


class ConvNeXtBlock(nn.Module):
    """``x + gamma * pw2(gelu(pw1(norm(dwconv(x)))))`` on ``[B, C, T]``.

    Arguments
    ---------
    dim : int
        Channels in and out.
    intermediate_dim : int
        Width of the pointwise MLP.
    kernel_size : int
        Kernel of the depthwise convolution (odd).
    layer_scale_init : float
        Initial value of the per-channel residual scale ``gamma``.

    Example
    -------
    >>> block = ConvNeXtBlock(dim=8, intermediate_dim=16, kernel_size=7)
    >>> block(torch.randn(2, 8, 30)).shape
    torch.Size([2, 8, 30])
    >>> block.reach()
    3
    """

    def __init__(self, dim: int, intermediate_dim: int, kernel_size: int = 7, layer_scale_init: float = 0.1):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"ConvNeXtBlock: kernel_size must be odd; got {kernel_size}")
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), float(layer_scale_init)))

    def reach(self) -> int:
        """Frames on each side that one output frame depends on."""
        return self.dwconv.kernel_size[0] // 2

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``x``: ``[B, C, T]``; ``mask``: ``[B, 1, T]`` (1 on real frames,
        padding zeroed before the convolution so it never reaches real frames)."""
        h = self.dwconv(x if mask is None else x * mask)
        h = self.pwconv2(self.act(self.pwconv1(self.norm(h.transpose(1, 2)))))
        return x + (h * self.gamma).transpose(1, 2)
