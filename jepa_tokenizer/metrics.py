"""Reconstruction metrics shared by the codec recipe, the quickstart and the CLI.

Mel distance, multi-resolution STFT distance and SI-SDR are computed here;
STOI (``pystoi``) and wide-band PESQ (``pesq``) are used when installed
(``pip install jepa-tokenizer[metrics]``) and reported as missing otherwise.

Authors
 * jepa-tokenizer team 2026
"""

import math
from typing import Dict, Iterable, Optional

import torch
import torchaudio

from jepa_tokenizer.losses import MultiResolutionSTFTLoss

__all__ = [
    "mel_distance",
    "si_sdr",
    "stoi",
    "pesq_wb",
    "reconstruction_metrics",
    "average_metrics",
]

PESQ_RATE = 16000  # wide-band PESQ is defined at 16 kHz


def _pair(reference: torch.Tensor, estimate: torch.Tensor):
    if reference.dim() != 1 or estimate.dim() != 1:
        raise ValueError("metrics take one utterance: 1-D tensors")
    length = min(reference.numel(), estimate.numel())
    if length == 0:
        raise ValueError("metrics need non-empty audio")
    return reference[:length].detach().float().cpu(), estimate[:length].detach().float().cpu()


def mel_distance(
    reference: torch.Tensor,
    estimate: torch.Tensor,
    sample_rate: int,
    n_fft: int = 1024,
    hop_length: int = 256,
    n_mels: int = 80,
    floor: float = 1e-5,
) -> float:
    """Mean absolute difference of log-mel spectrograms (natural log).

    Example
    -------
    >>> x = torch.randn(16000)
    >>> mel_distance(x, x, 16000)
    0.0
    """
    ref, est = _pair(reference, estimate)
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels
    )
    return float((mel(ref).clamp(min=floor).log() - mel(est).clamp(min=floor).log()).abs().mean())


def si_sdr(reference: torch.Tensor, estimate: torch.Tensor, eps: float = 1e-8) -> float:
    """Scale-invariant signal-to-distortion ratio in dB.

    Example
    -------
    >>> x = torch.randn(1000)
    >>> round(si_sdr(x, 0.5 * x + 0.01 * torch.randn(1000)), 0) > 30
    True
    """
    ref, est = _pair(reference, estimate)
    ref, est = ref - ref.mean(), est - est.mean()
    target = (est @ ref) / (ref @ ref + eps) * ref
    noise = est - target
    return float(10 * torch.log10((target @ target + eps) / (noise @ noise + eps)))


def stoi(reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int) -> Optional[float]:
    """Short-time objective intelligibility (``pystoi``), or None if not installed."""
    try:
        from pystoi import stoi as _stoi
    except ImportError:
        return None
    ref, est = _pair(reference, estimate)
    return float(_stoi(ref.numpy(), est.numpy(), sample_rate, extended=False))


def pesq_wb(reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int) -> Optional[float]:
    """Wide-band PESQ at 16 kHz (``pesq``); None if not installed or no speech found."""
    try:
        from pesq import pesq as _pesq
    except ImportError:
        return None
    ref, est = _pair(reference, estimate)
    if sample_rate != PESQ_RATE:
        ref = torchaudio.functional.resample(ref, sample_rate, PESQ_RATE)
        est = torchaudio.functional.resample(est, sample_rate, PESQ_RATE)
    try:
        return float(_pesq(PESQ_RATE, ref.numpy(), est.numpy(), "wb"))
    except Exception:  # pesq raises its own errors on silence / too-short audio
        return None


_STFT = MultiResolutionSTFTLoss()


def reconstruction_metrics(
    reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int
) -> Dict[str, Optional[float]]:
    """All metrics for one utterance (``[T]`` tensors at ``sample_rate``).

    Example
    -------
    >>> x = torch.randn(16000) * 0.1
    >>> m = reconstruction_metrics(x, x, 16000)
    >>> m["mel_distance"], m["stft_distance"]
    (0.0, 0.0)
    """
    ref, est = _pair(reference, estimate)
    return {
        "stft_distance": float(_STFT(est.unsqueeze(0), ref.unsqueeze(0))),
        "mel_distance": mel_distance(ref, est, sample_rate),
        "si_sdr": si_sdr(ref, est),
        "stoi": stoi(ref, est, sample_rate),
        "pesq_wb": pesq_wb(ref, est, sample_rate),
    }


def average_metrics(rows: Iterable[Dict[str, Optional[float]]]) -> Dict[str, float]:
    """Mean of each metric over utterances, skipping missing values.

    Example
    -------
    >>> average_metrics([{"stoi": 0.5, "pesq_wb": None}, {"stoi": 0.7, "pesq_wb": 2.0}])
    {'stoi': 0.6, 'pesq_wb': 2.0}
    """
    sums: Dict[str, float] = {}
    counts: Dict[str, int] = {}
    for row in rows:
        for key, value in row.items():
            if value is not None and math.isfinite(value):
                sums[key] = sums.get(key, 0.0) + value
                counts[key] = counts.get(key, 0) + 1
    return {key: round(sums[key] / counts[key], 10) for key in sums}
