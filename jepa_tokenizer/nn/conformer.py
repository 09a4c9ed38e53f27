"""A Conformer stack with its positional encoding and padding mask.

Wraps SpeechBrain's ``ConformerEncoder`` (macaron half-step FFNs, depthwise
convolution, relative-position attention) so the encoder and the predictor
share one call site.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Optional

import torch
from speechbrain.lobes.models.transformer.Conformer import (
    ConformerEncoder,
    ConvolutionModule,
)
from speechbrain.nnet.attention import RelPosEncXL
from torch import nn

__all__ = ["ConformerStack", "PaddingSafeConvolutionModule"]


class PaddingSafeConvolutionModule(ConvolutionModule):
    """SpeechBrain's Conformer convolution module, masked before the depthwise conv.

    SpeechBrain zeroes padded frames only after the depthwise convolution, so
    padding leaks into the last real frames and an utterance's output depends
    on the batch it is in; here padded frames are zeroed before it.

    Example
    -------
    >>> module = PaddingSafeConvolutionModule(8, kernel_size=3)
    >>> x = torch.randn(1, 4, 8)
    >>> padded = torch.cat([x, torch.randn(1, 2, 8)], dim=1)
    >>> mask = torch.tensor([[False] * 4 + [True] * 2]).unsqueeze(-1)
    >>> torch.allclose(module(x), module(padded, mask)[:, :4], atol=1e-6)
    True
    """

    def forward(self, x, mask=None, dynchunktrain_config=None):
        """``x``: ``[B, T, C]``; ``mask``: ``[B, T, 1]``, True on padding."""
        if dynchunktrain_config is not None or self.causal:
            return super().forward(x, mask, dynchunktrain_config)
        out = self.bottleneck(self.layer_norm(x).transpose(1, 2))
        if mask is not None:
            out = out.masked_fill(mask.transpose(1, 2), 0.0)
        out = self.after_conv(self.conv(out).transpose(1, 2))
        if mask is not None:
            out = out.masked_fill(mask, 0.0)
        return out


class ConformerStack(nn.Module):
    """SpeechBrain Conformer layers over ``[B, N, D]`` with a padding mask.

    Arguments
    ---------
    d_model : int
        Width of the stack.
    num_layers : int
        Number of Conformer layers.
    nhead : int
        Attention heads.
    ffn_multiplier : int
        Feed-forward width as a multiple of ``d_model``.
    kernel_size : int
        Depthwise convolution kernel.
    dropout : float
        Dropout inside the layers.

    Example
    -------
    >>> stack = ConformerStack(d_model=16, num_layers=1, nhead=2)
    >>> y = stack(torch.randn(2, 5, 16), torch.tensor([5, 3]))
    >>> y.shape
    torch.Size([2, 5, 16])
    """

    def __init__(
        self,
        d_model: int,
        num_layers: int,
        nhead: int,
        ffn_multiplier: int = 4,
        kernel_size: int = 31,
        dropout: float = 0.1,
    ):
        super().__init__()
        if d_model % 2 or d_model % nhead:
            raise ValueError(f"ConformerStack: d_model ({d_model}) must be even and divisible by nhead ({nhead})")
        self.pos_enc = RelPosEncXL(d_model)
        self.layers = ConformerEncoder(
            num_layers=num_layers,
            d_model=d_model,
            d_ffn=ffn_multiplier * d_model,
            nhead=nhead,
            kernel_size=kernel_size,
            dropout=dropout,
            attention_type="RelPosMHAXL",
        )
        for layer in self.layers.layers:
            layer.convolution_module = PaddingSafeConvolutionModule(d_model, kernel_size=kernel_size, dropout=dropout)

    def forward(self, x: torch.Tensor, counts: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Runs the stack; ``counts`` are the real frames per item (``[B]``)."""
        padding = None
        if counts is not None:
            steps = torch.arange(x.shape[1], device=x.device)
            padding = steps.unsqueeze(0) >= counts.to(x.device).unsqueeze(1)
        out, _ = self.layers(x, src_key_padding_mask=padding, pos_embs=self.pos_enc(x))
        return out
