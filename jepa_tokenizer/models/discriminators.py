"""Multi-period and multi-scale waveform discriminators (HiFi-GAN), with a width knob.

At ``width=1`` these are the HiFi-GAN discriminators of the notes (periods
2, 3, 5, 7, 11; three scales: raw, then average-pooled twice; 70.7M
parameters, like SpeechBrain's). SpeechBrain's own classes have fixed
widths, and a CPU-sized run needs narrower ones, hence ours. Outputs follow
SpeechBrain's convention (lists of scores and of feature lists), so its GAN
losses (``MSEGLoss``, ``MelganFeatureLoss``, ``DiscriminatorLoss``) apply.

Authors
 * jepa-tokenizer team 2026
"""

import math
from typing import List, Sequence, Tuple

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import spectral_norm
from torch.nn.utils.parametrizations import weight_norm

__all__ = ["PeriodDiscriminator", "ScaleDiscriminator", "CodecDiscriminator"]

Output = Tuple[List[torch.Tensor], List[List[torch.Tensor]]]


def _run_stack(convs: nn.ModuleList, post: nn.Module, x: torch.Tensor, slope: float):
    """Convolutions with leaky ReLUs, then the output conv; every map is a feature."""
    feats = []
    for conv in convs:
        x = F.leaky_relu(conv(x), slope)
        feats.append(x)
    x = post(x)
    feats.append(x)
    return x.flatten(1), feats


def _scaled(channels: int, width: float, multiple: int) -> int:
    """``channels * width`` rounded to a positive multiple of ``multiple``."""
    return max(multiple, int(round(channels * width / multiple)) * multiple)


class PeriodDiscriminator(nn.Module):
    """Looks at every ``period``-th sample: the waveform folded to 2-D, then
    ``(kernel, 1)`` convolutions.

    Example
    -------
    >>> d = PeriodDiscriminator(period=3, channels=[4, 8])
    >>> score, feats = d(torch.randn(2, 1, 1000))
    >>> score.shape[0], len(feats)
    (2, 3)
    """

    def __init__(
        self,
        period: int,
        channels: Sequence[int] = (32, 128, 512, 1024, 1024),
        kernel_size: int = 5,
        stride: int = 3,
        slope: float = 0.1,
    ):
        super().__init__()
        self.period = period
        self.slope = slope
        dims = [1, *channels]
        self.convs = nn.ModuleList(
            weight_norm(
                nn.Conv2d(
                    dims[i],
                    dims[i + 1],
                    (kernel_size, 1),
                    (stride if i < len(channels) - 1 else 1, 1),
                    padding=((kernel_size - 1) // 2, 0),
                )
            )
            for i in range(len(channels))
        )
        self.post = weight_norm(nn.Conv2d(dims[-1], 1, (3, 1), padding=(1, 0)))

    def forward(self, x: torch.Tensor):
        """``[B, 1, T]`` -> (score ``[B, *]``, list of feature maps)."""
        remainder = x.shape[-1] % self.period
        if remainder:
            x = F.pad(x, (0, self.period - remainder), mode="reflect")
        x = x.view(x.shape[0], 1, -1, self.period)
        return _run_stack(self.convs, self.post, x, self.slope)


class ScaleDiscriminator(nn.Module):
    """Strided, grouped 1-D convolutions over the waveform.

    Example
    -------
    >>> d = ScaleDiscriminator(width=1 / 16)
    >>> score, feats = d(torch.randn(2, 1, 1000))
    >>> score.shape[0], len(feats)
    (2, 8)
    """

    CHANNELS = (128, 128, 256, 512, 1024, 1024, 1024)
    KERNELS = (15, 41, 41, 41, 41, 41, 5)
    STRIDES = (1, 2, 2, 4, 4, 1, 1)
    GROUPS = (1, 4, 16, 16, 16, 16, 1)

    def __init__(self, width: float = 1.0, use_spectral_norm: bool = False, slope: float = 0.1):
        super().__init__()
        norm = spectral_norm if use_spectral_norm else weight_norm
        self.slope = slope
        dims = [1] + [_scaled(c, width, 16) for c in self.CHANNELS]
        layers = []
        for i, (k, s, g) in enumerate(zip(self.KERNELS, self.STRIDES, self.GROUPS)):
            groups = math.gcd(g, math.gcd(dims[i], dims[i + 1]))
            layers.append(norm(nn.Conv1d(dims[i], dims[i + 1], k, s, groups=groups, padding=(k - 1) // 2)))
        self.convs = nn.ModuleList(layers)
        self.post = norm(nn.Conv1d(dims[-1], 1, 3, padding=1))

    def forward(self, x: torch.Tensor):
        """``[B, 1, T]`` -> (score ``[B, *]``, list of feature maps)."""
        return _run_stack(self.convs, self.post, x, self.slope)


class CodecDiscriminator(nn.Module):
    """Multi-period + multi-scale discriminator of the codec.

    Arguments
    ---------
    periods : sequence of int
        One ``PeriodDiscriminator`` per period.
    num_scales : int
        ``ScaleDiscriminator`` count; scale ``i`` sees the waveform
        average-pooled ``i`` times (the first uses spectral norm).
    width : float
        Channel multiplier (1: the HiFi-GAN sizes).

    Example
    -------
    >>> d = CodecDiscriminator(width=1 / 16)
    >>> scores, feats = d(torch.randn(2, 1, 2000))
    >>> len(scores), len(feats)
    (8, 8)
    """

    def __init__(self, periods: Sequence[int] = (2, 3, 5, 7, 11), num_scales: int = 3, width: float = 1.0):
        super().__init__()
        period_channels = [_scaled(c, width, 4) for c in (32, 128, 512, 1024, 1024)]
        self.periods = nn.ModuleList(PeriodDiscriminator(p, period_channels) for p in periods)
        self.scales = nn.ModuleList(ScaleDiscriminator(width, use_spectral_norm=(i == 0)) for i in range(num_scales))
        self.pool = nn.AvgPool1d(4, 2, padding=2)

    def forward(self, x: torch.Tensor) -> Output:
        """``[B, 1, T]`` waveform -> (scores, feature lists), one per sub-discriminator."""
        scores, feats = [], []
        for d in self.periods:
            score, feat = d(x)
            scores.append(score)
            feats.append(feat)
        for i, d in enumerate(self.scales):
            if i:
                x = self.pool(x)
            score, feat = d(x)
            scores.append(score)
            feats.append(feat)
        return scores, feats
