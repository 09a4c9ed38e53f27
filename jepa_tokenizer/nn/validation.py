"""Input checks shared by every module (lengths are counted in ``lengths``).

Lengths follow the SpeechBrain convention: a ``[B]`` tensor of *relative*
lengths in ``(0, 1]``, the fraction of the padded time axis that is real.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Optional

import torch

__all__ = [
    "check_waveform",
    "check_relative_lengths",
    "check_integer_codes",
]


def check_waveform(wav: torch.Tensor, name: str = "wav") -> None:
    """Raises a ``ValueError`` unless ``wav`` is a finite float ``[B, T]`` batch.

    Arguments
    ---------
    wav : torch.Tensor
        The waveform batch.
    name : str
        Name used in the error messages.

    Example
    -------
    >>> check_waveform(torch.zeros(2, 100))
    >>> check_waveform(torch.zeros(100))
    Traceback (most recent call last):
     ...
    ValueError: wav must have shape [batch, time]; got (100,). Use wav.unsqueeze(0) for a single signal.
    """
    if not isinstance(wav, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor; got {type(wav).__name__}")
    if wav.dim() != 2:
        hint = ""
        if wav.dim() == 1:
            hint = f" Use {name}.unsqueeze(0) for a single signal."
        elif wav.dim() == 3 and wav.shape[1] == 1:
            hint = f" Use {name}.squeeze(1) for a [batch, 1, time] tensor."
        elif wav.dim() == 3:
            hint = " Multi-channel audio must be downmixed to mono first."
        raise ValueError(f"{name} must have shape [batch, time]; got {tuple(wav.shape)}.{hint}")
    if not wav.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor; got {wav.dtype}")
    if wav.shape[0] == 0 or wav.shape[1] == 0:
        raise ValueError(f"{name} is empty: shape {tuple(wav.shape)}")
    if not torch.isfinite(wav).all():
        raise ValueError(f"{name} contains NaN or Inf values")


def check_relative_lengths(lens: Optional[torch.Tensor], batch: int) -> torch.Tensor:
    """Validates relative lengths; ``None`` means every item is full length.

    Arguments
    ---------
    lens : torch.Tensor or None
        ``[B]`` relative lengths in ``(0, 1]``.
    batch : int
        Expected batch size.

    Returns
    -------
    torch.Tensor
        ``[B]`` float relative lengths.

    Example
    -------
    >>> check_relative_lengths(None, 2)
    tensor([1., 1.])
    >>> check_relative_lengths(torch.tensor([0.5, 1.5]), 2)
    Traceback (most recent call last):
     ...
    ValueError: relative lengths must lie in (0, 1]; got tensor([0.5000, 1.5000])
    """
    if lens is None:
        return torch.ones(batch)
    lens = torch.as_tensor(lens, dtype=torch.float32)
    if lens.dim() != 1 or lens.shape[0] != batch:
        raise ValueError(f"relative lengths must have shape [{batch}]; got {tuple(lens.shape)}")
    if not ((lens > 0) & (lens <= 1 + 1e-6)).all():
        raise ValueError(f"relative lengths must lie in (0, 1]; got {lens}")
    return lens


def check_integer_codes(values: torch.Tensor, limits: torch.Tensor, kind: str) -> None:
    """Checks integer codes (tokens or digits) against per-position ranges.

    ``values`` must be an integer tensor whose last dimension has one entry
    per position, each in ``[0, limits[position])``; otherwise a
    ``ValueError`` names the first offending index, its value and its range.

    Arguments
    ---------
    values : torch.Tensor
        ``[..., P]`` integer codes.
    limits : torch.Tensor
        ``[P]`` exclusive upper bound of each position.
    kind : str
        What one value is, for the messages (``"token"``, ``"digit"``).

    Example
    -------
    >>> check_integer_codes(torch.tensor([[0, 3]]), torch.tensor([2, 4]), "token")
    >>> check_integer_codes(torch.tensor([[2, 3]]), torch.tensor([2, 4]), "token")
    Traceback (most recent call last):
     ...
    ValueError: token out of range at index (0, 0): 2 is not in [0, 2) for token position 0
    """
    if not isinstance(values, torch.Tensor):
        raise TypeError(f"{kind}s must be a torch.Tensor; got {type(values).__name__}")
    if values.is_floating_point() or values.is_complex() or values.dtype == torch.bool:
        raise ValueError(f"{kind}s must be an integer tensor; got {values.dtype}")
    count = limits.numel()
    if values.dim() == 0 or values.shape[-1] != count:
        raise ValueError(
            f"{kind}s must have {count} entries per frame in the last dimension; got shape {tuple(values.shape)}"
        )
    limits = limits.to(values.device)
    bad = (values < 0) | (values >= limits)
    if bad.any():
        index = tuple(bad.nonzero()[0].tolist())
        raise ValueError(
            f"{kind} out of range at index {index}: {int(values[index])} is not in "
            f"[0, {int(limits[index[-1]])}) for {kind} position {index[-1]}"
        )
