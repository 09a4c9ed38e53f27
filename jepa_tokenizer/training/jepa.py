"""JEPA training pieces: block masking over latent frames, the EMA target
update with a momentum schedule, the masked latent-prediction loss, and the
guards against a collapse to a code of the position in the crop (targets
centred over the batch, a variance term, a monitor).

Authors
 * jepa-tokenizer team 2026
"""

from typing import Optional

import torch
from torch import nn
from torch.nn import functional as F

__all__ = [
    "BlockMasker",
    "EMAUpdater",
    "MaskedPredictionLoss",
    "batch_centered",
    "item_variance_share",
    "item_variance_hinge",
    "time_standardized",
]


class BlockMasker:
    """Random contiguous spans of latent frames, until a ratio is reached.

    For an item with ``T`` real frames: ``target = round(ratio * T)``
    (kept in ``[1, T - 1]``); spans of length uniform in
    ``[min_span, max(max_span, floor(T * max_span_fraction))]`` (at most
    ``T``) start uniformly at random and are added until at least ``target``
    frames are masked. Padded frames are never masked.

    Arguments
    ---------
    mask_ratio : float
        Fraction of real frames to mask.
    min_span : int
        Shortest span.
    max_span : int
        Longest span for short items.
    max_span_fraction : float
        Longest span as a fraction of ``T`` for long items.

    Example
    -------
    >>> masker = BlockMasker(mask_ratio=0.5, min_span=2, max_span=4)
    >>> gen = torch.Generator().manual_seed(0)
    >>> mask = masker(torch.tensor([20, 12]), 20, generator=gen)
    >>> mask.shape, bool(mask[1, 12:].any())
    (torch.Size([2, 20]), False)
    >>> (mask.sum(dim=1) >= torch.tensor([10, 6])).tolist()
    [True, True]
    """

    def __init__(
        self,
        mask_ratio: float = 0.5,
        min_span: int = 2,
        max_span: int = 4,
        max_span_fraction: float = 0.25,
    ):
        if not 0 < mask_ratio < 1:
            raise ValueError(f"mask_ratio must be in (0, 1); got {mask_ratio}")
        if min_span < 1 or max_span < min_span:
            raise ValueError(f"need 1 <= min_span <= max_span; got {min_span}, {max_span}")
        self.mask_ratio = mask_ratio
        self.min_span = min_span
        self.max_span = max_span
        self.max_span_fraction = max_span_fraction

    def span_bounds(self, frames: int):
        """``(shortest, longest)`` span for an item of ``frames`` real frames.

        A span never covers every frame (``longest <= frames - 1``).
        """
        longest = max(self.max_span, int(frames * self.max_span_fraction))
        longest = min(longest, frames - 1)
        return min(self.min_span, longest), longest

    def sample_spans(self, frames: int, generator: Optional[torch.Generator] = None):
        """``(start, length)`` spans for one item; their union is the mask.

        Spans are drawn until at least ``target`` frames are covered; a span
        that would leave no frame visible is drawn again.
        """
        if frames < 2:
            return []  # nothing can be both masked and predicted from context
        target = min(max(round(self.mask_ratio * frames), 1), frames - 1)
        low, high = self.span_bounds(frames)
        covered = torch.zeros(frames, dtype=torch.bool)
        spans = []
        while int(covered.sum()) < target:
            length = int(torch.randint(low, high + 1, (1,), generator=generator))
            start = int(torch.randint(0, frames - length + 1, (1,), generator=generator))
            trial = covered.clone()
            trial[start : start + length] = True
            if bool(trial.all()):
                continue
            covered = trial
            spans.append((start, length))
        return spans

    def __call__(
        self,
        counts: torch.Tensor,
        num_frames: int,
        generator: Optional[torch.Generator] = None,
    ) -> torch.Tensor:
        """``[B, num_frames]`` bool mask (True = masked) for ``counts`` real frames."""
        mask = torch.zeros(len(counts), num_frames, dtype=torch.bool)
        for row, frames in enumerate(counts.tolist()):
            for start, length in self.sample_spans(int(frames), generator):
                mask[row, start : start + length] = True
        return mask.to(counts.device)


class EMAUpdater:
    """Exponential moving average of an online model into a frozen target.

    ``target = m * target + (1 - m) * online`` for every parameter (buffers
    are copied), with the momentum ``m`` going from ``start`` to ``end``
    linearly over ``total_steps`` optimizer steps (constant when
    ``start == end``, as in the reference script; I-JEPA ramps to 1).

    Arguments
    ---------
    start : float
        Momentum at step 0.
    end : float
        Momentum from ``total_steps`` on.
    total_steps : int
        Length of the ramp in optimizer steps.

    Example
    -------
    >>> online, target = nn.Linear(2, 1), nn.Linear(2, 1)
    >>> ema = EMAUpdater(start=0.9, end=0.9)
    >>> ema.init_target(target, online)
    >>> with torch.no_grad():
    ...     _ = online.weight.add_(1.0)
    >>> ema.update(target, online, step=0)
    0.9
    >>> bool(torch.allclose(target.weight, online.weight - 0.9))
    True
    """

    def __init__(self, start: float = 0.996, end: float = 0.996, total_steps: int = 1):
        if not (0 <= start <= 1 and 0 <= end <= 1):
            raise ValueError(f"momenta must be in [0, 1]; got {start}, {end}")
        self.start = start
        self.end = end
        self.total_steps = max(int(total_steps), 1)

    def momentum(self, step: int) -> float:
        """Momentum used for the update after optimizer step ``step``."""
        progress = min(max(step, 0) / self.total_steps, 1.0)
        return self.start + (self.end - self.start) * progress

    @staticmethod
    def init_target(target: nn.Module, online: nn.Module) -> None:
        """Copies ``online`` into ``target`` and freezes the target."""
        target.load_state_dict(online.state_dict())
        target.requires_grad_(False)
        target.eval()

    @torch.no_grad()
    def update(self, target: nn.Module, online: nn.Module, step: int) -> float:
        """One EMA update; returns the momentum used."""
        m = self.momentum(step)
        t_params = [p for p in target.parameters()]
        o_params = [p.detach() for p in online.parameters()]
        if len(t_params) != len(o_params):
            raise ValueError("target and online models differ in structure")
        torch._foreach_mul_(t_params, m)
        torch._foreach_add_(t_params, o_params, alpha=1 - m)
        for t_buf, o_buf in zip(target.buffers(), online.buffers()):
            t_buf.copy_(o_buf)
        return m


def _real_frames(targets: torch.Tensor, counts: Optional[torch.Tensor]) -> torch.Tensor:
    """``[B, N, 1]`` weights: 1 on the first ``counts[b]`` frames of item ``b``."""
    frames = targets.shape[1]
    if counts is None:
        counts = torch.full((targets.shape[0],), frames, device=targets.device)
    real = torch.arange(frames, device=targets.device).view(1, -1) < counts.to(targets.device).view(-1, 1)
    return real.to(targets.dtype).unsqueeze(-1)


def _shared_frames(x: torch.Tensor, counts: Optional[torch.Tensor]) -> torch.Tensor:
    """``[B, N, 1]`` weights: 1 on the real frames whose index two items or more have."""
    weights = _real_frames(x, counts)
    return weights * (weights.sum(dim=0, keepdim=True) > 1).to(x.dtype)


def time_standardized(x: torch.Tensor, counts: Optional[torch.Tensor] = None, eps: float = 1e-5) -> torch.Tensor:
    """``[B, N, D]`` with each channel of each item at zero mean and unit
    variance over its first ``counts[b]`` frames (all when ``None``); zero past them.

    Example
    -------
    >>> x = torch.randn(2, 5, 3) * 4 + 2
    >>> y = time_standardized(x, torch.tensor([5, 3]))
    >>> round(float(y[1, :3].mean()), 4), round(float(y[0].std(0, unbiased=False).mean()), 3), float(y[1, 3:].abs().max())
    (0.0, 1.0, 0.0)
    """
    weights = _real_frames(x, counts)  # [B, N, 1]
    n = weights.sum(dim=1, keepdim=True).clamp(min=1)
    mean = (x * weights).sum(dim=1, keepdim=True) / n
    var = (((x - mean) ** 2) * weights).sum(dim=1, keepdim=True) / n
    return (x - mean) / torch.sqrt(var + eps) * weights


def batch_centered(targets: torch.Tensor, counts: Optional[torch.Tensor] = None) -> torch.Tensor:
    """``[B, N, D]`` targets minus, at every frame index, their mean over the
    items that have a real frame there.

    What is left is what tells the items apart: a representation of the
    position in the crop alone (the same vector at frame ``n`` of every
    utterance) becomes zero. Frames that one item only has, and padding, are
    left as they are (there is no mean to take), so a batch of one item is
    returned unchanged. The mean includes the item itself: about ``1 / B`` of
    each centred target's variance comes from the other items, which no
    context can predict (a floor of the centred masked loss).

    Arguments
    ---------
    targets : torch.Tensor
        ``[B, N, D]`` frames.
    counts : torch.Tensor, optional
        ``[B]`` real frames per item (all when ``None``).

    Returns
    -------
    torch.Tensor
        ``[B, N, D]``, the same dtype.

    Example
    -------
    >>> positional = torch.arange(6.0).view(1, 3, 2).expand(4, 3, 2)  # frame n is the same everywhere
    >>> float(batch_centered(positional).abs().max())
    0.0
    >>> x = torch.randn(4, 3, 2, generator=torch.Generator().manual_seed(0))
    >>> bool(torch.allclose(batch_centered(x + positional), batch_centered(x), atol=1e-5))
    True
    """
    weights = _real_frames(targets, counts)
    holders = weights.sum(dim=0, keepdim=True)  # [1, N, 1] items with a real frame at n
    mean = (targets * weights).sum(dim=0, keepdim=True) / holders.clamp(min=1)
    return targets - mean * _shared_frames(targets, counts)


def item_variance_share(targets: torch.Tensor, counts: Optional[torch.Tensor] = None) -> float:
    """Share of the targets' variance that differs between items at the same
    frame index, over the real frames that two items or more have: a
    collapse monitor that the spread over frames (``target_std``) misses.

    Near 0: the representation encodes the position in the crop, not the
    audio. For independent items it is about ``(B - 1) / B`` (0.875 for
    batches of 8), not 1: each item's deviation is taken from a mean that
    includes it. NaN when no frame is shared (a batch of one item).

    Arguments
    ---------
    targets : torch.Tensor
        ``[B, N, D]`` frames (not differentiated).
    counts : torch.Tensor, optional
        ``[B]`` real frames per item (all when ``None``).

    Returns
    -------
    float

    Example
    -------
    >>> positional = torch.randn(1, 5, 3).expand(8, 5, 3)
    >>> item_variance_share(positional) < 1e-6
    True
    >>> 0.7 < item_variance_share(torch.randn(8, 5, 3, generator=torch.Generator().manual_seed(0))) < 1.0
    True
    >>> item_variance_share(torch.randn(1, 5, 3))
    nan
    """
    targets = targets.detach().float()
    weights = _shared_frames(targets, counts)
    if not bool(weights.any()):
        return float("nan")
    within = ((batch_centered(targets, counts) ** 2) * weights).sum()
    mean = (targets * weights).sum(dim=(0, 1)) / weights.sum()
    total = (((targets - mean) ** 2) * weights).sum()
    return float(within / total.clamp(min=1e-12))


def item_variance_hinge(
    latents: torch.Tensor,
    counts: Optional[torch.Tensor] = None,
    target_std: float = 1.0,
    eps: float = 1e-4,
) -> torch.Tensor:
    """Variance term of VICReg (Bardes et al., 2022) over what tells items
    apart: ``mean_d relu(target_std - s_d)``, where ``s_d`` is channel
    ``d``'s standard deviation of the :func:`batch_centered` latents over
    the real frames that two items or more have.

    Added to the masked loss on the online encoder's latents, it keeps each
    channel varying between utterances, so the encoder cannot fall back on
    a code of the position in the crop (what its biases and zero padding
    give when the features that look at the audio die out). Computed in
    float32 (under bf16 autocast a collapsed encoder's remainder is below
    bf16's rounding), over the local batch (under DDP: each rank's own, not
    VICReg's gathered batch). ``s_d`` divides by the shared frames less one,
    so it reads about ``(B - 1) / B`` of the between-item variance; behind a
    final layer norm of gain 1 (unit variance over channels per frame) the
    mean of ``s_d`` stays below 1, and ``target_std: 1.0`` keeps the term
    above zero (0.03-0.05 in the main job's runs).

    Arguments
    ---------
    latents : torch.Tensor
        ``[B, N, D]`` frames (the context encoder's output).
    counts : torch.Tensor, optional
        ``[B]`` real frames per item (all when ``None``).
    target_std : float
        The spread between items each channel is asked for.
    eps : float
        Added to the variance under the square root.

    Returns
    -------
    torch.Tensor
        A scalar; zero (with a zero gradient) when no frame is shared by
        two items.

    Example
    -------
    >>> positional = torch.randn(1, 5, 3).expand(8, 5, 3).clone().requires_grad_(True)
    >>> hinge = item_variance_hinge(positional)
    >>> round(float(hinge.detach()), 3)
    0.99
    >>> hinge.backward()
    >>> float(item_variance_hinge(torch.randn(64, 5, 3, generator=torch.Generator().manual_seed(0)) * 3))
    0.0
    >>> float(item_variance_hinge(torch.randn(1, 5, 3)))  # one item: nothing to compare
    0.0
    """
    latents = latents.float()
    weights = _shared_frames(latents, counts)
    centred = batch_centered(latents, counts) * weights
    shared = weights.sum()
    std = torch.sqrt((centred**2).sum(dim=(0, 1)) / (shared.clamp(min=2) - 1) + eps)
    return F.relu(target_std - std).mean() * (shared > 0).to(std.dtype)  # no host sync on CUDA


class MaskedPredictionLoss(nn.Module):
    """Distance between predictions and targets on masked, real frames only.

    Arguments
    ---------
    kind : str
        ``"mse"`` (reference) or ``"smooth_l1"``.
    normalize_targets : bool
        Layer-normalise the targets over the feature dimension first.
    normalize_targets_over_time : bool
        Normalise each target channel over the real frames of its utterance
        (zero mean, unit variance, as data2vec's instance-normalised
        targets). A target encoder that drifts towards the same vector at
        every frame (a collapse the masked loss alone rewards) then gives
        unit-variance noise to predict instead of an easy constant.
    center_targets_over_batch : bool
        First subtract, at every frame index, the targets' mean over the
        batch's items (:func:`batch_centered`). Time normalisation does not
        catch a target encoder that encodes the position in the crop alone
        (the same vector at frame ``n`` of every utterance: it varies over
        time); centred, such a target has nothing left to predict from the
        position, only what differs between utterances. Frames that one
        item only has (the tail of the longest crop) are not scored, so a
        batch of one item scores nothing. About ``1 / B`` of a centred
        target comes from the other items, which no context predicts: a floor
        of the time-normalised loss near ``1 / B`` (0.125 for batches of 8).
    norm_eps : float
        Added to the variance before the time normalisation.
    beta : float
        Transition point of the smooth L1 loss.

    Example
    -------
    >>> loss = MaskedPredictionLoss()
    >>> pred, target = torch.zeros(1, 3, 2), torch.ones(1, 3, 2)
    >>> target[0, 0] = 5.0
    >>> float(loss(pred, target, torch.tensor([[False, True, True]])))
    1.0
    >>> timed = MaskedPredictionLoss(normalize_targets_over_time=True)
    >>> constant = torch.full((1, 4, 2), 7.0)  # a collapsed target: nothing left to predict
    >>> float(timed(torch.zeros(1, 4, 2), constant, torch.ones(1, 4, dtype=torch.bool)))
    0.0
    >>> float(timed(torch.zeros(1, 4, 2), constant + torch.randn(1, 4, 2) * 1e-2, torch.ones(1, 4, dtype=torch.bool))) > 0.5
    True
    >>> centred = MaskedPredictionLoss(center_targets_over_batch=True)
    >>> position = torch.randn(1, 4, 2).expand(3, 4, 2)  # the same target at frame n of every item
    >>> float(centred(torch.zeros(3, 4, 2), position, torch.ones(3, 4, dtype=torch.bool))) < 1e-12
    True
    """

    def __init__(
        self,
        kind: str = "mse",
        normalize_targets: bool = False,
        normalize_targets_over_time: bool = False,
        center_targets_over_batch: bool = False,
        norm_eps: float = 1e-5,
        beta: float = 1.0,
    ):
        super().__init__()
        if kind not in ("mse", "smooth_l1"):
            raise ValueError(f"kind must be 'mse' or 'smooth_l1'; got {kind!r}")
        self.kind = kind
        self.normalize_targets = normalize_targets
        self.normalize_targets_over_time = normalize_targets_over_time
        self.center_targets_over_batch = center_targets_over_batch
        self.norm_eps = norm_eps
        self.beta = beta

    def time_normalized(self, targets: torch.Tensor, counts: Optional[torch.Tensor]) -> torch.Tensor:
        """``[B, N, D]`` targets with each channel at zero mean and unit
        variance over the first ``counts[b]`` frames (all when ``None``)."""
        return time_standardized(targets, counts, self.norm_eps)

    def forward(
        self,
        predictions: torch.Tensor,
        targets: torch.Tensor,
        mask: torch.Tensor,
        counts: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """``[B, N, D]`` predictions and targets, ``[B, N]`` bool mask of
        frames to score, ``[B]`` real frames per item (for the time
        normalisation; ``None``: all)."""
        predictions, targets = predictions.float(), targets.float().detach()
        if self.normalize_targets:
            targets = F.layer_norm(targets, targets.shape[-1:])
        if self.center_targets_over_batch:
            targets = batch_centered(targets, counts)
            # a frame that one item only has keeps its positional part: not scored
            mask = mask & _shared_frames(targets, counts).squeeze(-1).bool()
        if self.normalize_targets_over_time:
            targets = self.time_normalized(targets, counts)
        if self.kind == "mse":
            per_item = F.mse_loss(predictions, targets, reduction="none")
        else:
            per_item = F.smooth_l1_loss(predictions, targets, reduction="none", beta=self.beta)
        weights = mask.to(per_item.dtype).unsqueeze(-1)
        count = weights.sum() * per_item.shape[-1]
        if count == 0:
            return per_item.sum() * 0.0
        return (per_item * weights).sum() / count
