"""Lengths: relative lengths to counts, masks of real steps, frame counts.

SpeechBrain passes a ``[B]`` tensor of *relative* lengths in ``(0, 1]``;
the models count steps. One place for each conversion.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Union

import torch
from speechbrain.dataio.dataio import length_to_mask

__all__ = ["relative_to_absolute", "steps_mask", "any_padded", "ceil_div"]

IntOrTensor = Union[int, torch.Tensor]


def relative_to_absolute(lens: torch.Tensor, max_len: int) -> torch.Tensor:
    """Converts relative lengths to integer counts (rounded, at least 1).

    Example
    -------
    >>> relative_to_absolute(torch.tensor([0.5, 1.0]), 10)
    tensor([ 5, 10])
    """
    counts = torch.round(lens.float() * max_len).long()
    return counts.clamp(min=1, max=max_len)


def steps_mask(counts: torch.Tensor, max_len: int) -> torch.Tensor:
    """Float ``[B, 1, max_len]`` mask, 1 on the first ``counts[b]`` steps.

    Built on SpeechBrain's ``length_to_mask``; shaped to multiply ``[B, C, T]``.

    Example
    -------
    >>> steps_mask(torch.tensor([1, 3]), 3)
    tensor([[[1., 0., 0.]],
    <BLANKLINE>
            [[1., 1., 1.]]])
    """
    mask = length_to_mask(counts, max_len=max_len, dtype=torch.float32)
    return mask.unsqueeze(1)


def any_padded(counts: torch.Tensor, max_len: int) -> bool:
    """Whether some item has fewer than ``max_len`` real steps. Models check it
    once per batch and skip every mask when no item is padded (a training batch
    of crops): a mask of ones only costs passes over the signal.

    Example
    -------
    >>> any_padded(torch.tensor([3, 3]), 3), any_padded(torch.tensor([1, 3]), 3)
    (False, True)
    """
    return not bool((counts >= max_len).all())


def ceil_div(numerator: IntOrTensor, denominator: int) -> IntOrTensor:
    """``ceil(numerator / denominator)`` in integers (ints or integer tensors):
    e.g. the frames ``ceil(T / hop)`` of ``T`` samples.

    Example
    -------
    >>> ceil_div(6401, 6400), ceil_div(6400, 6400), ceil_div(torch.tensor([1, 12800]), 6400)
    (2, 1, tensor([1, 2]))
    """
    return -(-numerator // denominator)
