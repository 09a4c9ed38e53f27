"""Density-adaptive gating (DAAM), the Gaussian-mixture gate of the JEPA encoder.

Authors
 * jepa-tokenizer team 2026
"""

import math
from typing import Optional, Tuple, Union

import torch
from torch import nn
from torch.nn import functional as F

from jepa_tokenizer.nn.fused import fused
from jepa_tokenizer.nn.lengths import relative_to_absolute, steps_mask

__all__ = ["DAAMGate", "gaussian_mixture_gate", "gaussian_mixture_gate_reference"]


def gaussian_mixture_gate_reference(
    attn: torch.Tensor,
    mask: torch.Tensor,
    mean_offset: torch.Tensor,
    scales: torch.Tensor,
    var_floor: float,
    eps: float,
) -> torch.Tensor:
    """The gate ``G`` ``[B, H, T]`` of attention channels ``attn`` ``[B, H, T]``
    (statistics over the frames where ``mask`` ``[B, 1, T]`` is 1): steps 2
    and 3 of :class:`DAAMGate`, as written (autograd differentiates it)."""
    heads = attn.shape[1]
    n = mask.sum(dim=-1, keepdim=True).clamp(min=1)
    mu = (attn * mask).sum(dim=-1, keepdim=True) / n
    var = (((attn - mu) ** 2) * mask).sum(dim=-1, keepdim=True) / n
    std = var.clamp(min=var_floor).sqrt()  # [B, H, 1]
    centre = mu.unsqueeze(-1) + mean_offset.view(1, heads, 1, -1)
    denom = std.unsqueeze(-1) * scales.view(1, heads, 1, -1) + eps
    z = (attn.unsqueeze(-1) - centre) / denom  # [B, H, T, K]
    log_p = -0.5 * z**2 - torch.log(scales).view(1, heads, 1, -1) - 0.5 * math.log(2 * math.pi)
    return torch.exp(torch.logsumexp(log_p, dim=-1) - math.log(scales.shape[-1]))


_gate_forward = fused(gaussian_mixture_gate_reference)


@fused
def _gate_backward(attn, mask, mean_offset, scales, grad, var_floor: float, eps: float):
    # G = mean_k p_k with p_k = N(z_k) / s_k, z_k = (a - mu - delta_k) / (std s_k + eps)
    heads = attn.shape[1]
    n = mask.sum(dim=-1, keepdim=True).clamp(min=1)
    mu = (attn * mask).sum(dim=-1, keepdim=True) / n
    centred = attn - mu
    var = ((centred**2) * mask).sum(dim=-1, keepdim=True) / n
    std = var.clamp(min=var_floor).sqrt()
    s = scales.view(1, heads, 1, -1)
    denom = std.unsqueeze(-1) * s + eps  # [B, H, 1, K]
    z = (centred.unsqueeze(-1) - mean_offset.view(1, heads, 1, -1)) / denom  # [B, H, T, K]
    log_p = -0.5 * z**2 - torch.log(s) - 0.5 * math.log(2 * math.pi)
    p = torch.exp(log_p)
    grad_log_p = grad.unsqueeze(-1) * p / scales.shape[-1]  # dG/dlog p_k = p_k / K
    grad_z = -grad_log_p * z
    grad_z_over_denom = grad_z / denom
    grad_mu = -grad_z_over_denom.sum(dim=(2, 3))  # [B, H]
    grad_denom = -(grad_z * z / denom).sum(dim=2)  # [B, H, K]
    grad_std = (grad_denom * s.squeeze(2)).sum(dim=-1)  # [B, H]
    grad_var = torch.where(var.squeeze(-1) > var_floor, grad_std / (2 * std.squeeze(-1)), 0.0)
    grad_attn = (
        grad_z_over_denom.sum(dim=-1)
        + grad_mu.unsqueeze(-1) * mask / n
        + grad_var.unsqueeze(-1) * 2 * mask * centred / n
    )
    grad_offset = -grad_z_over_denom.sum(dim=(0, 2))  # [H, K]
    grad_scales = (grad_denom * std).sum(dim=0) - grad_log_p.sum(dim=(0, 2)) / scales
    return grad_attn, grad_offset, grad_scales


class _MixtureGateFunction(torch.autograd.Function):
    """The mixture gate with a hand-written backward pass (fused kernels that
    keep nothing but the inputs)."""

    @staticmethod
    def forward(ctx, attn, mask, mean_offset, scales, var_floor, eps):
        ctx.save_for_backward(attn, mask, mean_offset, scales)
        ctx.constants = (var_floor, eps)
        return _gate_forward(attn, mask, mean_offset, scales, var_floor, eps)

    @staticmethod
    def backward(ctx, grad):
        attn, mask, mean_offset, scales = ctx.saved_tensors
        grads = _gate_backward(attn, mask, mean_offset, scales, grad.contiguous(), *ctx.constants)
        return grads[0], None, grads[1], grads[2], None, None


def gaussian_mixture_gate(
    attn: torch.Tensor,
    mask: torch.Tensor,
    mean_offset: torch.Tensor,
    scales: torch.Tensor,
    var_floor: float,
    eps: float,
) -> torch.Tensor:
    """``gaussian_mixture_gate_reference`` in fused kernels (forward and a
    hand-written backward; equal within float tolerance, gradchecked).

    Example
    -------
    >>> gate = gaussian_mixture_gate(torch.randn(2, 1, 9), torch.ones(2, 1, 9), torch.zeros(1, 4),
    ...                              torch.ones(1, 4), 1e-6, 1e-6)
    >>> gate.shape, bool((gate > 0).all())
    (torch.Size([2, 1, 9]), True)
    """
    mask = mask.to(attn.dtype)
    if not (_gate_forward.active() and _gate_backward.active()):
        return gaussian_mixture_gate_reference(attn, mask, mean_offset, scales, var_floor, eps)
    return _MixtureGateFunction.apply(attn.contiguous(), mask, mean_offset, scales, var_floor, eps)


class DAAMGate(nn.Module):
    """Gaussian-mixture density-adaptive gate over time.

    For features ``x`` of shape ``[B, C, T]`` and each head ``h`` (a group of
    ``C / num_heads`` channels):

    1. a learned 1x1 projection of the group's channels gives one attention
       channel ``a`` over time;
    2. its mean ``mu`` and variance ``var`` over the *real* frames (padding
       ignored), variance clamped to at least ``var_floor``;
    3. ``K`` Gaussians with learnable mean offsets ``delta_k`` (init 0) and
       scales ``s_k = softplus(nu_k) + scale_floor`` (``nu_k`` init
       ``log(scale_init)``)::

           z_k = (a - (mu + delta_k)) / (sqrt(var) * s_k + eps)
           log p_k = -z_k**2 / 2 - log s_k - log(2 pi) / 2
           G = exp(logsumexp_k(log p_k) - log K)

    4. ``y = x * (1 + alpha * G)`` with a learnable ``alpha`` per head.

    All of it runs in float32, also under autocast; the output has the
    input's dtype.

    Arguments
    ---------
    channels : int
        Number of input channels ``C``.
    num_gaussians : int
        Number of Gaussians ``K`` in the mixture.
    num_heads : int
        Number of channel groups, each with its own projection, Gaussians and
        alpha (1 is the reference).
    alpha_init : float
        Initial gate strength.
    scale_init : float
        Initial Gaussian scale (before the softplus reparametrisation).
    scale_floor : float
        Added to the softplus scale.
    var_floor : float
        Lower clamp of the attention channel's variance.
    eps : float
        Added to the denominator of ``z``.

    Example
    -------
    >>> gate = DAAMGate(channels=8, num_gaussians=4, num_heads=2)
    >>> x = torch.randn(3, 8, 20)
    >>> y, g = gate(x, lengths=torch.tensor([1.0, 0.5, 0.8]), return_gate=True)
    >>> y.shape, g.shape
    (torch.Size([3, 8, 20]), torch.Size([3, 2, 20]))
    """

    def __init__(
        self,
        channels: int,
        num_gaussians: int = 4,
        num_heads: int = 1,
        alpha_init: float = 0.05,
        scale_init: float = 0.5,
        scale_floor: float = 1e-3,
        var_floor: float = 1e-6,
        eps: float = 1e-6,
    ):
        super().__init__()
        if channels % num_heads != 0:
            raise ValueError(f"DAAMGate: channels ({channels}) must be divisible by num_heads ({num_heads})")
        if num_gaussians < 1:
            raise ValueError(f"DAAMGate: num_gaussians must be >= 1; got {num_gaussians}")
        self.channels = channels
        self.num_heads = num_heads
        self.num_gaussians = num_gaussians
        self.scale_floor = scale_floor
        self.var_floor = var_floor
        self.eps = eps
        self.proj = nn.Conv1d(channels, num_heads, kernel_size=1, groups=num_heads)
        self.mean_offset = nn.Parameter(torch.zeros(num_heads, num_gaussians))
        self.log_scale = nn.Parameter(torch.full((num_heads, num_gaussians), math.log(scale_init)))
        self.alpha = nn.Parameter(torch.full((num_heads,), float(alpha_init)))

    def scales(self) -> torch.Tensor:
        """The Gaussians' scales ``s_k``, shape ``[num_heads, num_gaussians]``."""
        return F.softplus(self.log_scale.float()) + self.scale_floor

    def forward(
        self,
        x: torch.Tensor,
        lengths: Optional[torch.Tensor] = None,
        return_gate: bool = False,
        stats_mask: Optional[torch.Tensor] = None,
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, torch.Tensor]]:
        """Gates ``x``.

        Arguments
        ---------
        x : torch.Tensor
            ``[B, C, T]`` features.
        lengths : torch.Tensor, optional
            ``[B]`` number of real frames per item (integers), or relative
            lengths in ``(0, 1]`` (floats). ``None``: all frames are real.
        return_gate : bool
            Also return the gate ``G`` of shape ``[B, num_heads, T]``.
        stats_mask : torch.Tensor, optional
            ``[B, T]`` bool, False on frames to leave out of the statistics
            (e.g. frames hidden from the JEPA context path) on top of the
            padding.

        Returns
        -------
        torch.Tensor or (torch.Tensor, torch.Tensor)
            The gated features (and the gate).
        """
        batch, _, time = x.shape
        if lengths is None:
            counts = torch.full((batch,), time, device=x.device)
        elif lengths.is_floating_point():
            counts = relative_to_absolute(lengths, time)
        else:
            counts = lengths
        mask = steps_mask(counts.to(x.device), time)  # [B, 1, T]
        if stats_mask is not None:
            mask = mask * stats_mask.to(mask.device, mask.dtype).unsqueeze(1)
        with torch.autocast(device_type=x.device.type, enabled=False):
            xf = x.float()
            attn = F.conv1d(
                xf,
                self.proj.weight.float(),
                self.proj.bias.float(),
                groups=self.num_heads,
            )  # [B, H, T]
            gate = gaussian_mixture_gate(
                attn, mask.to(attn.dtype), self.mean_offset.float(), self.scales(), self.var_floor, self.eps
            )  # [B, H, T]
            factor = 1.0 + self.alpha.float().view(1, -1, 1) * gate
            batch, _, time = xf.shape
            y = (xf.view(batch, self.num_heads, -1, time) * factor.unsqueeze(2)).view_as(xf).to(x.dtype)
        if return_gate:
            return y, gate
        return y
