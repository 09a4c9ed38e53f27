"""Learning-rate schedules over a run's progress (its time budget or its
step limit, whichever ends it first).

SpeechBrain's and PyTorch's schedulers count steps or epochs; a run bounded
by minutes knows only the share of its budget spent, so the schedule here
reads that share (``stop_if_out_of_time`` computes it, the same on every
rank, and applies the schedule for the next step).

Authors
 * jepa-tokenizer team 2026
"""

from typing import Iterable

import torch

__all__ = ["LinearCooldown"]


class LinearCooldown:
    """Keeps each learning rate at its value, then lowers it linearly over the
    last ``share`` of the run, to ``final_factor`` times that value at its end
    (a constant rate with a cooldown: no step count needs to be known ahead).

    The optimizer's own rate when first seen is kept in its parameter group
    as ``base_lr``, so it is checkpointed with the optimizer and a resumed run
    continues the same schedule.

    Arguments
    ---------
    share : float
        Last share of the run (0 to 1) over which the rates fall; 0 keeps
        them constant.
    final_factor : float
        Factor of the rates at the end of the run (0 to 1).
    warmup_steps : int
        The rates rise linearly from ``1 / warmup_steps`` of their value
        over the first ``warmup_steps`` optimizer steps (0: no warmup).

    Example
    -------
    >>> cooldown = LinearCooldown(share=0.25, final_factor=0.1)
    >>> [round(cooldown.factor(p), 2) for p in (0.0, 0.75, 0.875, 1.0, 1.5)]
    [1.0, 1.0, 0.55, 0.1, 0.1]
    >>> opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.5)
    >>> cooldown.apply([opt], progress=0.875)
    0.55
    >>> round(opt.param_groups[0]["lr"], 4), opt.param_groups[0]["base_lr"]
    (0.275, 0.5)
    >>> warm = LinearCooldown(warmup_steps=4)
    >>> [warm.factor(0.0, step) for step in (0, 1, 3, 10)]
    [0.25, 0.5, 1.0, 1.0]
    """

    def __init__(self, share: float = 0.0, final_factor: float = 0.0, warmup_steps: int = 0):
        if not 0.0 <= share <= 1.0:
            raise ValueError(f"LinearCooldown: share must be in [0, 1], got {share}")
        if not 0.0 <= final_factor <= 1.0:
            raise ValueError(f"LinearCooldown: final_factor must be in [0, 1], got {final_factor}")
        if warmup_steps < 0:
            raise ValueError(f"LinearCooldown: warmup_steps must be >= 0, got {warmup_steps}")
        self.share = share
        self.final_factor = final_factor
        self.warmup_steps = warmup_steps

    def factor(self, progress: float, step: int = 0) -> float:
        """Factor of the base rates at ``progress`` (0: start, 1: end) before
        optimizer step ``step`` (0-based)."""
        warm = min(1.0, (step + 1) / self.warmup_steps) if self.warmup_steps else 1.0
        if self.share == 0.0 or progress <= 1.0 - self.share:
            return warm
        fall = min(1.0, (progress - (1.0 - self.share)) / self.share)
        return warm * (1.0 - fall * (1.0 - self.final_factor))

    def apply(self, optimizers: Iterable[torch.optim.Optimizer], progress: float, step: int = 0) -> float:
        """Sets every parameter group's rate for ``progress`` and the next
        step ``step``; returns the factor."""
        factor = self.factor(progress, step)
        for optimizer in optimizers:
            for group in optimizer.param_groups:
                group.setdefault("base_lr", group["lr"])
                group["lr"] = group["base_lr"] * factor
        return factor
