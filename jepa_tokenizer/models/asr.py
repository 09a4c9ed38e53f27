"""Front-end of an ASR on audio tokens: tokens of a frame -> one vector, then
a learned temporal upsampling so CTC has enough frames.

At 2.5 frames/s a 3 s utterance has about 8 frames but about 40 characters,
and CTC needs at least one frame per label. The layout chosen here: the K
tokens of a frame are embedded (one table per token position) and combined
into one vector per frame (sum, attention over positions as in DASB, or
concatenation), then a transposed convolution makes ``factor`` frames of each
(factor 16: 40 frames/s; read speech has about 15 characters per second, and
CTC needs a blank between repeated characters).
Codecs at 50-75 frames/s use factor 1. The encoder after it (BiLSTM or
Conformer) and CTC come from SpeechBrain.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Optional

import torch
from torch import nn

__all__ = ["CodebookEmbedding", "LatentProjection", "TemporalUpsampler"]


class CodebookEmbedding(nn.Module):
    """``[B, N, K]`` tokens -> ``[B, N, dim]``.

    Arguments
    ---------
    num_codebooks : int
        Tokens per frame (K).
    vocab_size : int
        Values per token (C).
    dim : int
        Output size.
    pooling : str
        ``sum``, ``attention`` (a learned softmax weight per position and
        frame, DASB's choice) or ``concat`` (then a linear layer).
    pretrained : torch.Tensor, optional
        ``[K * C, H]`` embeddings from ``get_pretrained_embeddings``: frozen,
        followed by a trained linear map ``H -> dim``. None: trained tables.

    Example
    -------
    >>> emb = CodebookEmbedding(num_codebooks=3, vocab_size=10, dim=8, pooling="attention")
    >>> emb(torch.randint(0, 10, (2, 5, 3))).shape
    torch.Size([2, 5, 8])
    >>> emb(torch.full((1, 1, 3), 10))
    Traceback (most recent call last):
    ...
    ValueError: tokens must be in [0, 10); got values in [10, 10]
    """

    def __init__(
        self,
        num_codebooks: int,
        vocab_size: int,
        dim: int,
        pooling: str = "sum",
        pretrained: Optional[torch.Tensor] = None,
    ):
        super().__init__()
        if pooling not in ("sum", "attention", "concat"):
            raise ValueError(f"pooling must be sum, attention or concat, not {pooling!r}")
        self.num_codebooks, self.vocab_size, self.pooling = num_codebooks, vocab_size, pooling
        if pretrained is not None:
            if tuple(pretrained.shape[:1]) != (num_codebooks * vocab_size,):
                raise ValueError(
                    f"pretrained embeddings must have {num_codebooks * vocab_size} rows; got {tuple(pretrained.shape)}"
                )
            self.table = nn.Embedding.from_pretrained(pretrained.float(), freeze=True)
            self.project = nn.Linear(pretrained.shape[1], dim)
        else:
            self.table = nn.Embedding(num_codebooks * vocab_size, dim)
            self.project = nn.Identity()
        self.register_buffer("offsets", torch.arange(num_codebooks) * vocab_size, persistent=False)
        if pooling == "attention":
            self.score = nn.Linear(dim, 1)
        if pooling == "concat":
            self.merge = nn.Linear(num_codebooks * dim, dim)

    def forward(self, tokens: torch.Tensor) -> torch.Tensor:
        """Embeds and combines the tokens of each frame."""
        if tokens.shape[-1] != self.num_codebooks:
            raise ValueError(f"expected {self.num_codebooks} tokens per frame; got {tokens.shape[-1]}")
        if tokens.numel() and (tokens.min() < 0 or tokens.max() >= self.vocab_size):
            raise ValueError(
                f"tokens must be in [0, {self.vocab_size}); got values in [{int(tokens.min())}, {int(tokens.max())}]"
            )
        x = self.project(self.table(tokens.long() + self.offsets))  # [B, N, K, dim]
        if self.pooling == "sum":
            return x.sum(dim=2)
        if self.pooling == "attention":
            weights = self.score(x).softmax(dim=2)
            return (weights * x).sum(dim=2)
        return self.merge(x.flatten(start_dim=2))


class LatentProjection(nn.Module):
    """``[B, N, D]`` continuous features -> ``[B, N, dim]`` (the upper bound's front-end).

    Example
    -------
    >>> LatentProjection(input_dim=16, dim=8)(torch.randn(2, 5, 16)).shape
    torch.Size([2, 5, 8])
    """

    def __init__(self, input_dim: int, dim: int):
        super().__init__()
        self.norm = nn.LayerNorm(input_dim)
        self.linear = nn.Linear(input_dim, dim)

    def forward(self, features: torch.Tensor) -> torch.Tensor:
        """Normalises and projects."""
        return self.linear(self.norm(features.float()))


class TemporalUpsampler(nn.Module):
    """``[B, N, dim]`` -> ``[B, N * factor, dim]`` with a learned transposed
    convolution (kernel = stride = factor) and a GELU; factor 1 is the identity.
    Relative lengths are unchanged.

    Example
    -------
    >>> TemporalUpsampler(dim=8, factor=4)(torch.randn(2, 5, 8)).shape
    torch.Size([2, 20, 8])
    """

    def __init__(self, dim: int, factor: int = 1):
        super().__init__()
        if factor < 1:
            raise ValueError(f"factor must be >= 1; got {factor}")
        self.factor = factor
        if factor > 1:
            self.conv = nn.ConvTranspose1d(dim, dim, kernel_size=factor, stride=factor)
            self.act = nn.GELU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Upsamples along time."""
        if self.factor == 1:
            return x
        return self.act(self.conv(x.transpose(1, 2))).transpose(1, 2)
