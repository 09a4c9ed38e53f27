"""The residual unit of the encoder's blocks and the decoder's
multi-receptive-field blocks: ``x + conv(snake(conv_dilated(snake(x))))``.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Optional

import torch
from torch import nn
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm as apply_weight_norm

from jepa_tokenizer.nn.activations import SnakeBeta

__all__ = ["same_padding", "maybe_weight_norm", "fold_weight_norm", "ResidualUnit"]


def maybe_weight_norm(module: nn.Module, enabled: bool) -> nn.Module:
    """``module`` with PyTorch's weight normalisation when ``enabled``.

    Example
    -------
    >>> conv = maybe_weight_norm(nn.Conv1d(2, 3, 3), True)
    >>> parametrize.is_parametrized(conv, "weight")
    True
    """
    return apply_weight_norm(module) if enabled else module


def fold_weight_norm(model: nn.Module) -> None:
    """Replaces every weight-normalised ``weight`` under ``model`` by the
    plain tensor it stands for (the same outputs, no re-normalisation on
    each call; the state dict then has plain ``weight`` keys).

    Example
    -------
    >>> conv = maybe_weight_norm(nn.Conv1d(2, 3, 3), True)
    >>> x = torch.randn(1, 2, 8)
    >>> before = conv(x)
    >>> fold_weight_norm(conv)
    >>> parametrize.is_parametrized(conv, "weight"), torch.allclose(conv(x), before)
    (False, True)
    """
    for module in model.modules():
        if parametrize.is_parametrized(module, "weight"):
            parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)


def same_padding(kernel_size: int, dilation: int = 1) -> int:
    """Padding that keeps the length of an odd-kernel, stride-1 convolution.

    Example
    -------
    >>> same_padding(7), same_padding(3, dilation=5)
    (3, 5)
    """
    return dilation * (kernel_size - 1) // 2


class ResidualUnit(nn.Module):
    """``x + conv(snake(conv_dilated(snake(x))))``, masked after each conv.

    Arguments
    ---------
    channels : int
        Channels in and out.
    kernel_size : int
        Kernel of both convolutions (odd).
    dilation : int
        Dilation of the first convolution.
    weight_norm : bool
        Weight-normalise both convolutions (the decoder's HiFi-GAN blocks).

    Example
    -------
    >>> unit = ResidualUnit(channels=4, kernel_size=7, dilation=3)
    >>> unit(torch.randn(2, 4, 50)).shape
    torch.Size([2, 4, 50])
    """

    def __init__(self, channels: int, kernel_size: int = 7, dilation: int = 1, weight_norm: bool = False):
        super().__init__()
        if kernel_size % 2 == 0:
            raise ValueError(f"ResidualUnit: kernel_size must be odd; got {kernel_size}")
        norm = apply_weight_norm if weight_norm else (lambda module: module)
        self.act1 = SnakeBeta(channels)
        self.conv1 = norm(
            nn.Conv1d(channels, channels, kernel_size, dilation=dilation, padding=same_padding(kernel_size, dilation))
        )
        self.act2 = SnakeBeta(channels)
        self.conv2 = norm(nn.Conv1d(channels, channels, kernel_size, padding=same_padding(kernel_size)))

    def reach(self) -> float:
        """Steps on each side that one output step depends on (half the receptive field).

        Example
        -------
        >>> ResidualUnit(channels=2, kernel_size=3, dilation=5).reach()
        6.0
        """
        return sum((conv.kernel_size[0] - 1) * conv.dilation[0] for conv in (self.conv1, self.conv2)) / 2

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``x``: ``[B, C, T]``; ``mask``: ``[B, 1, T]`` (1 on real frames)."""
        h = self.conv1(self.act1(x))
        if mask is not None:
            h = h * mask
        h = self.conv2(self.act2(h))
        if mask is not None:
            h = h * mask
        return x + h
