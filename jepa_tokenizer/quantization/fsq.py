"""Finite Scalar Quantization (Mentzer et al., 2023) with the reference's grid.

Authors
 * jepa-tokenizer team 2026
"""

from typing import NamedTuple, Optional, Sequence, Union

import torch
from torch import nn

from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.validation import check_integer_codes

__all__ = ["FSQ", "FSQOutput"]


class FSQOutput(NamedTuple):
    """``codes``: quantized values (straight-through), ``digits``: int64 indices."""

    codes: torch.Tensor
    digits: torch.Tensor


class FSQ(RecordsArguments, nn.Module):
    """Bounds each dimension and rounds it to one of ``levels[d]`` values.

    Two grids:

    - ``"symmetric"`` (the reference): ``tanh`` bound, then the ``L`` cell
      centres of ``(-1, 1)``, ``(2 i + 1) / L - 1``; for 4 levels
      ``{-0.75, -0.25, 0.25, 0.75}``.
    - ``"standard"`` (Mentzer et al.): shifted ``tanh`` bound to
      ``(L - 1) / 2`` half-width, rounded to integers, divided by ``L // 2``.

    The backward pass is straight-through (identity on the bounded values);
    there is no codebook loss. Everything runs in float32, also under
    autocast; codes come back in the input's dtype.

    Arguments
    ---------
    levels : int or sequence of int
        Levels per dimension (an int with ``dim`` repeats it).
    dim : int, optional
        Number of dimensions when ``levels`` is an int.
    grid : str
        ``"symmetric"`` or ``"standard"``.
    eps : float
        Widens the standard bound slightly so the outermost levels are
        reached (and ``L = 2`` stays finite).

    Example
    -------
    >>> fsq = FSQ(levels=4, dim=3)
    >>> out = fsq(torch.tensor([[-5.0, 0.1, 5.0]]))
    >>> out.codes
    tensor([[-0.7500,  0.2500,  0.7500]])
    >>> out.digits
    tensor([[0, 2, 3]])
    >>> fsq.digits_to_codes(out.digits)
    tensor([[-0.7500,  0.2500,  0.7500]])
    """

    def __init__(
        self,
        levels: Union[int, Sequence[int]],
        dim: Optional[int] = None,
        grid: str = "symmetric",
        eps: float = 1e-3,
    ):
        super().__init__()
        if isinstance(levels, int):
            if dim is None:
                raise ValueError("FSQ: give dim when levels is a single int")
            levels = [levels] * dim
        levels = [int(v) for v in levels]
        if dim is not None and len(levels) != dim:
            raise ValueError(f"FSQ: {len(levels)} levels given for dim={dim}")
        if min(levels) < 2:
            raise ValueError(f"FSQ: every dimension needs at least 2 levels; got {levels}")
        if grid not in ("symmetric", "standard"):
            raise ValueError(f"FSQ: grid must be 'symmetric' or 'standard'; got {grid!r}")
        self.grid = grid
        self.eps = eps
        self.register_buffer("levels", torch.tensor(levels, dtype=torch.int64), persistent=False)

    @property
    def dim(self) -> int:
        """Number of quantized dimensions."""
        return int(self.levels.numel())

    @property
    def radices(self):
        """Levels per dimension as a list (the digits' radices)."""
        return self.levels.tolist()

    def _bound(self, z: torch.Tensor) -> torch.Tensor:
        levels = self.levels.to(z.device, torch.float32)
        if self.grid == "symmetric":
            return torch.tanh(z)
        half = (levels - 1) * (1 + self.eps) / 2
        offset = torch.where(levels % 2 == 0, 0.5, 0.0)
        shift = torch.atanh(offset / half)
        return torch.tanh(z + shift) * half - offset

    def _bounded_to_digits(self, bounded: torch.Tensor) -> torch.Tensor:
        levels = self.levels.to(bounded.device)
        if self.grid == "symmetric":
            digits = torch.floor((bounded + 1) / 2 * levels)
            return digits.long().clamp(min=torch.zeros_like(levels), max=levels - 1)
        return torch.round(bounded).long() + levels // 2

    def digits_to_codes(self, digits: torch.Tensor) -> torch.Tensor:
        """Integer digits ``[..., dim]`` -> float codes ``[..., dim]``."""
        self.check_digits(digits)
        levels = self.levels.to(digits.device)
        d = digits.float()
        if self.grid == "symmetric":
            return (2 * d + 1) / levels - 1
        half_width = (levels // 2).float()
        return (d - half_width) / half_width

    def codes_to_digits(self, codes: torch.Tensor) -> torch.Tensor:
        """Float codes on the grid ``[..., dim]`` -> integer digits."""
        levels = self.levels.to(codes.device)
        c = codes.float()
        if self.grid == "symmetric":
            digits = torch.round((c + 1) * levels / 2 - 0.5)
        else:
            half_width = (levels // 2).float()
            digits = torch.round(c * half_width + half_width)
        return digits.long()

    def check_digits(self, digits: torch.Tensor) -> None:
        """Raises ``ValueError`` for digits of the wrong shape, type or range."""
        check_integer_codes(digits, self.levels, "digit")

    def continuous(self, z: torch.Tensor) -> torch.Tensor:
        """``z`` bounded as for quantization but not rounded, on the codes'
        scale: what a training pass that skips quantization decodes.

        Example
        -------
        >>> fsq = FSQ(levels=[4, 4])
        >>> z = torch.tensor([[0.1, -2.0]])
        >>> bool((fsq.continuous(z) - fsq(z).codes).abs().max() <= 1 / 4)
        True
        """
        with torch.autocast(device_type=z.device.type, enabled=False):
            bounded = self._bound(z.float())
            if self.grid == "standard":
                bounded = bounded / (self.levels.to(z.device) // 2).float()
        return bounded.to(z.dtype)

    def forward(self, z: torch.Tensor) -> FSQOutput:
        """Quantizes ``z`` of shape ``[..., dim]``."""
        if z.shape[-1] != self.dim:
            raise ValueError(f"FSQ expects {self.dim} dimensions in the last axis; got {tuple(z.shape)}")
        with torch.autocast(device_type=z.device.type, enabled=False):
            bounded = self._bound(z.float())
            digits = self._bounded_to_digits(bounded)
            snapped = self.digits_to_codes(digits)
            if self.grid == "standard":  # codes live on the normalised scale
                bounded = bounded / (self.levels.to(z.device) // 2).float()
            codes = bounded + (snapped - bounded).detach()
        return FSQOutput(codes.to(z.dtype), digits)
