"""Log-mel front end: waveform -> standardised log-mel frames, padding-exact.

Authors
 * jepa-tokenizer team 2026
"""

import math

import torch
from torch import nn
from torch.nn import functional as F
from torchaudio.transforms import MelSpectrogram

from jepa_tokenizer.nn.arguments import RecordsArguments

__all__ = ["LogMelFrontend"]


class LogMelFrontend(RecordsArguments, nn.Module):
    """Waveform ``[B, T]`` -> log-mel frames ``[B, n_mels, T / hop_length]``.

    A fixed (not learned) analysis in front of an encoder's convolutions.
    The mel filterbank is torchaudio's; this module only fixes the padding so
    that ``T`` divisible by ``hop_length`` gives exactly ``T / hop_length``
    frames centred on their hops, with no frame reaching beyond the zeros
    that follow the signal (a padded batch gives each item what it gets
    alone), and standardises the log with constants from the YAML.

    Arguments
    ---------
    sample_rate : int
        Sample rate of the input.
    n_fft : int
        Window and FFT size (at least ``hop_length``).
    hop_length : int
        Samples per frame.
    n_mels : int
        Mel bands (the output channels).
    log_floor : float
        Added to the mel magnitudes before the log.
    mean, std : float
        The log-mel values are returned as ``(log - mean) / std``.

    Example
    -------
    >>> frontend = LogMelFrontend(sample_rate=16000, n_fft=1024, hop_length=256, n_mels=40)
    >>> frontend(torch.randn(2, 2560)).shape
    torch.Size([2, 40, 10])
    """

    def __init__(
        self,
        sample_rate: int,
        n_fft: int = 1024,
        hop_length: int = 256,
        n_mels: int = 80,
        log_floor: float = 1e-5,
        mean: float = 0.0,
        std: float = 1.0,
    ):
        super().__init__()
        if n_fft < hop_length:
            raise ValueError(f"LogMelFrontend: n_fft ({n_fft}) must be at least hop_length ({hop_length})")
        if not (log_floor > 0 and std > 0 and math.isfinite(mean)):
            raise ValueError("LogMelFrontend: log_floor and std must be positive and mean finite")
        self.n_fft = n_fft
        self.hop_length = hop_length
        self.n_mels = n_mels
        self.log_floor = log_floor
        self.mean = mean
        self.std = std
        self.mel = MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, center=False, power=1.0
        )

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        """``[B, T]`` (``T`` divisible by ``hop_length``) -> ``[B, n_mels, T / hop_length]``."""
        if wav.shape[-1] % self.hop_length:
            raise ValueError(
                f"LogMelFrontend: input length {wav.shape[-1]} is not a multiple of hop_length {self.hop_length}"
            )
        extra = self.n_fft - self.hop_length
        with torch.autocast(device_type=wav.device.type, enabled=False):
            spec = self.mel(F.pad(wav.float(), (extra // 2, extra - extra // 2)))
            out = (torch.log(spec + self.log_floor) - self.mean) / self.std
        return out.to(wav.dtype)
