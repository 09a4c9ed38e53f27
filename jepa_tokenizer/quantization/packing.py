"""Mixed-radix packing of FSQ digits into integer tokens.

Authors
 * jepa-tokenizer team 2026
"""

import math
from typing import Optional, Sequence, Union

import torch
from torch import nn

from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.lengths import ceil_div
from jepa_tokenizer.nn.validation import check_integer_codes

__all__ = ["MixedRadixPacker"]


class MixedRadixPacker(RecordsArguments, nn.Module):
    """Packs groups of ``group_size`` digits into one token and back, exactly.

    Digit ``k`` of a group has radix ``r_k``; the token is
    ``sum_k i_k * prod_{j > k} r_j`` (Horner's rule, first digit most
    significant). When the number of digits is not a multiple of
    ``group_size`` the last group is completed with radix-1 digits, which are
    always 0 and take no room.

    Arguments
    ---------
    radices : int or sequence of int
        Radix of each digit (an int with ``num_digits`` repeats it).
    group_size : int
        Digits per token.
    num_digits : int, optional
        Number of digits when ``radices`` is an int.

    Example
    -------
    >>> packer = MixedRadixPacker(radices=4, num_digits=9, group_size=7)
    >>> packer.tokens_per_frame, packer.vocab_size
    (2, 16384)
    >>> digits = torch.tensor([[3, 3, 3, 3, 3, 3, 3, 1, 2]])
    >>> tokens = packer.pack(digits)
    >>> tokens
    tensor([[16383,     6]])
    >>> torch.equal(packer.unpack(tokens), digits)
    True
    """

    def __init__(
        self,
        radices: Union[int, Sequence[int]],
        group_size: int,
        num_digits: Optional[int] = None,
    ):
        super().__init__()
        if isinstance(radices, int):
            if num_digits is None:
                raise ValueError("MixedRadixPacker: give num_digits when radices is an int")
            radices = [radices] * num_digits
        radices = [int(r) for r in radices]
        if num_digits is not None and len(radices) != num_digits:
            raise ValueError(f"MixedRadixPacker: {len(radices)} radices given for num_digits={num_digits}")
        if not radices or min(radices) < 1:
            raise ValueError(f"MixedRadixPacker: radices must be >= 1; got {radices}")
        if group_size < 1:
            raise ValueError(f"MixedRadixPacker: group_size must be >= 1; got {group_size}")
        self.num_digits = len(radices)
        self.group_size = group_size
        groups = ceil_div(self.num_digits, group_size)
        padded = radices + [1] * (groups * group_size - self.num_digits)
        largest = max(math.prod(padded[g * group_size : (g + 1) * group_size]) for g in range(groups))
        if largest > 2**62:
            raise ValueError(f"MixedRadixPacker: a group's value range ({largest}) overflows int64")
        table = torch.tensor(padded, dtype=torch.int64).view(groups, group_size)
        # place value of each digit: product of the radices after it in its group
        place = torch.ones_like(table)
        for k in range(group_size - 2, -1, -1):
            place[:, k] = place[:, k + 1] * table[:, k + 1]
        sizes = place[:, 0] * table[:, 0]
        self.register_buffer("radix_table", table, persistent=False)
        self.register_buffer("place_values", place, persistent=False)
        self.register_buffer("group_sizes", sizes, persistent=False)

    @property
    def tokens_per_frame(self) -> int:
        """Tokens per frame (number of groups)."""
        return int(self.radix_table.shape[0])

    @property
    def vocab_size(self) -> int:
        """Largest token range over the groups (every token is below it)."""
        return int(self.group_sizes.max())

    @property
    def token_ranges(self):
        """Number of valid values of each token position (a list)."""
        return self.group_sizes.tolist()

    @property
    def bits_per_frame(self) -> float:
        """Information per frame: ``sum(log2(radix))`` over the digits."""
        return float(torch.log2(self.radix_table.double()).sum())

    def pack(self, digits: torch.Tensor) -> torch.Tensor:
        """``[..., num_digits]`` int digits -> ``[..., tokens_per_frame]`` int64 tokens."""
        check_integer_codes(digits, self.radix_table.flatten()[: self.num_digits], "digit")
        pad = self.radix_table.numel() - self.num_digits
        d = digits.long()
        if pad:
            d = torch.cat([d, d.new_zeros(*d.shape[:-1], pad)], dim=-1)
        d = d.view(*d.shape[:-1], self.tokens_per_frame, self.group_size)
        return (d * self.place_values.to(d.device)).sum(dim=-1)

    def check_tokens(self, tokens: torch.Tensor) -> None:
        """Raises ``ValueError`` for tokens of the wrong dtype, shape or range."""
        check_integer_codes(tokens, self.group_sizes, "token")

    def unpack(self, tokens: torch.Tensor) -> torch.Tensor:
        """``[..., tokens_per_frame]`` tokens -> ``[..., num_digits]`` int64 digits."""
        self.check_tokens(tokens)
        t = tokens.long().unsqueeze(-1)
        place = self.place_values.to(t.device)
        radix = self.radix_table.to(t.device)
        digits = torch.div(t, place, rounding_mode="floor") % radix
        digits = digits.flatten(start_dim=-2)
        return digits[..., : self.num_digits]
