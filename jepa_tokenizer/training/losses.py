"""Losses of the codec: multi-resolution STFT, waveform L1, GAN, feature matching.

The least-squares GAN and feature-matching terms are SpeechBrain's
(``MSEGLoss``, ``MelganFeatureLoss``, ``DiscriminatorLoss``/``MSEDLoss``).
SpeechBrain's ``MultiScaleSTFTLoss`` uses spectral convergence and fixed
resolutions, not the notes' L1 on magnitude and log magnitude, so that term
is ours.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Dict, List, Optional, Sequence

import torch
from speechbrain.lobes.models.HifiGAN import (
    DiscriminatorLoss,
    MelganFeatureLoss,
    MSEDLoss,
    MSEGLoss,
)
from torch import nn
from torch.nn import functional as F

__all__ = [
    "MultiResolutionSTFTLoss",
    "CodecGeneratorLoss",
    "DiscriminatorLoss",
    "MSEDLoss",
    "MSEGLoss",
    "MelganFeatureLoss",
]


class MultiResolutionSTFTLoss(nn.Module):
    """Mean over resolutions of L1(|S|) + L1(log |S|).

    Arguments
    ---------
    fft_sizes : sequence of int
        FFT sizes (window length = FFT size, Hann window).
    hop_divisor : int
        Hop = FFT size // hop_divisor.
    mag_floor : float
        Floor of the magnitude before the log.
    reduction : str
        ``"mean"`` or ``"sum"`` over resolutions.

    Example
    -------
    >>> loss = MultiResolutionSTFTLoss(fft_sizes=[64, 32])
    >>> x = torch.randn(2, 400)
    >>> float(loss(x, x))
    0.0
    >>> bool(loss(x, torch.randn(2, 400)) > 0)
    True
    """

    def __init__(
        self,
        fft_sizes: Sequence[int] = (2048, 1024, 512, 256, 128),
        hop_divisor: int = 4,
        mag_floor: float = 1e-5,
        reduction: str = "mean",
    ):
        super().__init__()
        if reduction not in ("mean", "sum"):
            raise ValueError(f"reduction must be 'mean' or 'sum'; got {reduction!r}")
        self.reduction = reduction
        self.fft_sizes = list(fft_sizes)
        self.hop_divisor = hop_divisor
        self.mag_floor = mag_floor

    def magnitude(self, wav: torch.Tensor, n_fft: int) -> torch.Tensor:
        """``|STFT|`` of a ``[B, T]`` float32 waveform."""
        window = torch.hann_window(n_fft, device=wav.device, dtype=wav.dtype)
        spec = torch.stft(
            wav,
            n_fft,
            hop_length=n_fft // self.hop_divisor,
            window=window,
            pad_mode="constant",  # clips shorter than n_fft / 2 stay valid
            return_complex=True,
        )
        return spec.abs().clamp(min=self.mag_floor)

    def forward(self, y_hat: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
        """``y_hat``, ``y``: ``[B, T]`` (or ``[B, 1, T]``) waveforms."""
        with torch.autocast(device_type=y.device.type, enabled=False):
            y_hat = y_hat.reshape(y_hat.shape[0], -1).float()
            y = y.reshape(y.shape[0], -1).float()
            total = y.new_zeros(())
            for n_fft in self.fft_sizes:
                m_hat, m = self.magnitude(y_hat, n_fft), self.magnitude(y, n_fft)
                total = total + F.l1_loss(m_hat, m) + F.l1_loss(m_hat.log(), m.log())
        return total / len(self.fft_sizes) if self.reduction == "mean" else total


class CodecGeneratorLoss(nn.Module):
    """Weighted generator loss of the codec.

    ``waveform_weight * L1(wave) + stft_weight * MR-STFT
    + adversarial_weight * (LSGAN + feature_matching_weight * FM)
    [+ mel_weight * mel L1]``; the reference weights are 1, 2, 0.1 and 2.

    Arguments
    ---------
    stft_loss : nn.Module
        The spectral term (``MultiResolutionSTFTLoss``).
    waveform_weight, stft_weight, adversarial_weight, feature_matching_weight : float
        Weights of the terms.
    mel_loss : nn.Module, optional
        A mel-spectrogram L1 term (e.g. SpeechBrain's ``L1SpecLoss``).
    mel_weight : float
        Weight of the mel term.

    Example
    -------
    >>> loss = CodecGeneratorLoss(MultiResolutionSTFTLoss(fft_sizes=[64]))
    >>> y = torch.randn(2, 256)
    >>> terms = loss(y + 0.1, y)
    >>> sorted(terms)
    ['G_loss', 'G_stft', 'G_wave_l1']
    >>> round(float(terms["G_wave_l1"]), 4)
    0.1
    """

    def __init__(
        self,
        stft_loss: nn.Module,
        waveform_weight: float = 1.0,
        stft_weight: float = 2.0,
        adversarial_weight: float = 0.1,
        feature_matching_weight: float = 2.0,
        mel_loss: Optional[nn.Module] = None,
        mel_weight: float = 0.0,
    ):
        super().__init__()
        self.stft_loss = stft_loss
        self.gan_loss = MSEGLoss()
        self.fm_loss = MelganFeatureLoss()
        self.mel_loss = mel_loss
        self.waveform_weight = waveform_weight
        self.stft_weight = stft_weight
        self.adversarial_weight = adversarial_weight
        self.feature_matching_weight = feature_matching_weight
        self.mel_weight = mel_weight

    def forward(
        self,
        y_hat: torch.Tensor,
        y: torch.Tensor,
        scores_fake: Optional[List[torch.Tensor]] = None,
        feats_fake: Optional[List[List[torch.Tensor]]] = None,
        feats_real: Optional[List[List[torch.Tensor]]] = None,
    ) -> Dict[str, torch.Tensor]:
        """Returns the named terms and their weighted sum ``G_loss``.

        Adversarial terms are added only when discriminator outputs are given
        (before the discriminator starts, they are not).
        """
        terms = {
            "G_wave_l1": F.l1_loss(y_hat.float(), y.float()),
            "G_stft": self.stft_loss(y_hat, y),
        }
        total = self.waveform_weight * terms["G_wave_l1"] + self.stft_weight * terms["G_stft"]
        if self.mel_loss is not None and self.mel_weight:
            terms["G_mel"] = self.mel_loss(y_hat.unsqueeze(1), y.unsqueeze(1))
            total = total + self.mel_weight * terms["G_mel"]
        if scores_fake is not None:
            terms["G_adv"] = sum(self.gan_loss(score) for score in scores_fake)
            adv = terms["G_adv"]
            if feats_fake is not None and feats_real is not None:
                terms["G_fm"] = self.fm_loss(feats_fake, feats_real)
                adv = adv + self.feature_matching_weight * terms["G_fm"]
            total = total + self.adversarial_weight * adv
        terms["G_loss"] = total
        return terms
