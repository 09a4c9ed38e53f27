"""Lengths: relative lengths to counts, masks of real steps, frame counts.

SpeechBrain passes a ``[B]`` tensor of *relative* lengths in ``(0, 1]``;
the models count steps. One place for each conversion.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Optional, Union

import torch
from speechbrain.dataio.dataio import length_to_mask

__all__ = ["relative_to_absolute", "steps_mask", "padding_mask", "ceil_div"]

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


def padding_mask(counts: Optional[torch.Tensor], max_len: int, dtype: torch.dtype) -> Optional[torch.Tensor]:
    """``steps_mask`` in ``dtype``, or ``None`` where no item is padded
    (``counts`` is None or every count reaches ``max_len``): a mask of ones
    would only cost passes over the signal (at the full sample rate, a
    multiply forward and another backward per masked tensor).

    Example
    -------
    >>> padding_mask(torch.tensor([3, 3]), 3, torch.float32) is None
    True
    >>> padding_mask(torch.tensor([1, 3]), 3, torch.float32).squeeze(1)
    tensor([[1., 0., 0.],
            [1., 1., 1.]])
    """
    if counts is None or bool((counts >= max_len).all()):
        return None
    return steps_mask(counts, max_len).to(dtype)


def ceil_div(numerator: IntOrTensor, denominator: int) -> IntOrTensor:
    """``ceil(numerator / denominator)`` in integers (ints or integer tensors):
    e.g. the frames ``ceil(T / hop)`` of ``T`` samples.

    Example
    -------
    >>> ceil_div(6401, 6400), ceil_div(6400, 6400), ceil_div(torch.tensor([1, 12800]), 6400)
    (2, 1, tensor([1, 2]))
    """
    return -(-numerator // denominator)
