"""The JEPA predictor: from context latents to predicted target latents.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Optional

import torch
from torch import nn

from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.conformer import ConformerStack
from jepa_tokenizer.nn.lengths import steps_mask

__all__ = ["JEPAPredictor"]


class JEPAPredictor(RecordsArguments, nn.Module):
    """Predicts the target encoder's latents at masked frames.

    A learned mask token (truncated normal, std ``mask_token_std``) replaces
    the masked frames, then: Conv1d ``code_dim -> hidden_dim``, GELU,
    Conformer, Conv1d, GELU, Conformer, Conv1d ``hidden_dim -> code_dim``.

    Arguments
    ---------
    code_dim : int
        Width of the encoder latents (input and output).
    hidden_dim : int
        Width of the Conformer stages.
    layers_per_stage : int
        Conformer layers in each of the two stages.
    nhead : int
        Attention heads.
    ffn_multiplier : int
        Feed-forward width as a multiple of ``hidden_dim``.
    conformer_kernel_size : int
        Depthwise kernel of the Conformer layers.
    conv_kernel_size : int
        Kernel of the three Conv1d layers (odd).
    dropout : float
        Dropout in the Conformer layers.
    mask_token_std : float
        Standard deviation of the mask token's initialisation.

    Example
    -------
    >>> pred = JEPAPredictor(code_dim=8, hidden_dim=16, nhead=2)
    >>> ctx = torch.randn(2, 6, 8)
    >>> mask = torch.zeros(2, 6, dtype=torch.bool)
    >>> mask[:, 2:4] = True
    >>> pred(ctx, mask).shape
    torch.Size([2, 6, 8])
    """

    def __init__(
        self,
        code_dim: int = 128,
        hidden_dim: int = 256,
        layers_per_stage: int = 1,
        nhead: int = 8,
        ffn_multiplier: int = 4,
        conformer_kernel_size: int = 31,
        conv_kernel_size: int = 3,
        dropout: float = 0.1,
        mask_token_std: float = 0.02,
    ):
        super().__init__()
        if conv_kernel_size % 2 == 0:
            raise ValueError(f"JEPAPredictor: conv_kernel_size must be odd; got {conv_kernel_size}")
        pad = conv_kernel_size // 2
        self.mask_token = nn.Parameter(torch.zeros(code_dim))
        nn.init.trunc_normal_(self.mask_token, std=mask_token_std)
        self.conv_in = nn.Conv1d(code_dim, hidden_dim, conv_kernel_size, padding=pad)
        self.conv_mid = nn.Conv1d(hidden_dim, hidden_dim, conv_kernel_size, padding=pad)
        self.conv_out = nn.Conv1d(hidden_dim, code_dim, conv_kernel_size, padding=pad)
        self.act = nn.GELU()

        def stage() -> ConformerStack:
            return ConformerStack(
                d_model=hidden_dim,
                num_layers=layers_per_stage,
                nhead=nhead,
                ffn_multiplier=ffn_multiplier,
                kernel_size=conformer_kernel_size,
                dropout=dropout,
            )

        self.stage1 = stage()
        self.stage2 = stage()

    def forward(
        self,
        context: torch.Tensor,
        mask: torch.Tensor,
        counts: Optional[torch.Tensor] = None,
    ) -> torch.Tensor:
        """Predicts latents for every frame.

        Arguments
        ---------
        context : torch.Tensor
            ``[B, N, D]`` context-encoder latents.
        mask : torch.Tensor
            ``[B, N]`` bool, True on masked (to-be-predicted) frames.
        counts : torch.Tensor, optional
            ``[B]`` real frames per item.

        Returns
        -------
        torch.Tensor
            ``[B, N, D]`` predictions (the loss uses the masked frames).
        """
        if mask.shape != context.shape[:2]:
            raise ValueError(f"mask must have shape {tuple(context.shape[:2])}; got {tuple(mask.shape)}")
        hide = mask.to(context.device, torch.bool).unsqueeze(-1)
        x = torch.where(hide, self.mask_token.to(context.dtype), context)
        valid = None
        if counts is not None:
            valid = steps_mask(counts.to(x.device), x.shape[1]).transpose(1, 2).to(x.dtype)
            x = x * valid  # padding stays zero before every conv

        def masked(h: torch.Tensor) -> torch.Tensor:
            return h if valid is None else h * valid

        def conv(layer: nn.Conv1d, h: torch.Tensor) -> torch.Tensor:
            return masked(layer(h.transpose(1, 2)).transpose(1, 2))

        x = masked(self.stage1(self.act(conv(self.conv_in, x)), counts))
        x = masked(self.stage2(self.act(conv(self.conv_mid, x)), counts))
        return conv(self.conv_out, x)
