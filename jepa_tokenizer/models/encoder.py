"""The JEPA waveform encoder: conv stem with DAAM gates, bottleneck, Conformer.

Authors
 * jepa-tokenizer team 2026
"""

import math
from typing import List, NamedTuple, Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from jepa_tokenizer.nn.activations import SnakeBeta
from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.conformer import ConformerStack
from jepa_tokenizer.nn.daam import DAAMGate
from jepa_tokenizer.nn.frontend import LogMelFrontend
from jepa_tokenizer.nn.lengths import any_padded, ceil_div, relative_to_absolute, steps_mask
from jepa_tokenizer.nn.residual import ResidualUnit, fold_weight_norm, maybe_weight_norm, same_padding
from jepa_tokenizer.nn.validation import check_relative_lengths, check_waveform

__all__ = ["ResidualUnit", "EncoderBlock", "EncoderOutput", "JEPAEncoder"]


class EncoderBlock(nn.Module):
    """Strided conv (kernel ``2 * stride``), SnakeBeta, residual units, DAAM gate.

    The strided convolution pads so that a length divisible by ``stride``
    becomes exactly ``length / stride``.

    Arguments
    ---------
    in_channels : int
        Input channels.
    out_channels : int
        Output channels.
    stride : int
        Downsampling factor.
    dilations : sequence of int
        One residual unit per entry, with that dilation.
    kernel_size : int
        Kernel of the residual units.
    use_daam : bool
        Gate the block's output with a ``DAAMGate``.
    daam_gaussians : int
        Gaussians of the gate.
    daam_heads : int
        Heads of the gate.
    daam_alpha_init : float
        Initial alpha of the gate.
    weight_norm : bool
        Weight-normalise the block's convolutions (as EnCodec's and DAC's
        encoders): Adam's steps then cannot inflate their gain.

    Example
    -------
    >>> block = EncoderBlock(in_channels=2, out_channels=4, stride=5, dilations=[1, 3])
    >>> block(torch.randn(2, 2, 50)).shape
    torch.Size([2, 4, 10])
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        stride: int,
        dilations: Sequence[int] = (1, 3, 9),
        kernel_size: int = 7,
        use_daam: bool = True,
        daam_gaussians: int = 4,
        daam_heads: int = 1,
        daam_alpha_init: float = 0.05,
        weight_norm: bool = False,
    ):
        super().__init__()
        self.stride = stride
        # pads stride // 2 on the left and the rest on the right; an even stride pads the same on both
        # sides, which the convolution does itself (no padded copy of its input, forward or backward)
        self.pad = (stride // 2, stride - stride // 2)
        inner = self.pad[0] if self.pad[0] == self.pad[1] else 0
        self.down = maybe_weight_norm(
            nn.Conv1d(in_channels, out_channels, 2 * stride, stride=stride, padding=inner), weight_norm
        )
        self.act = SnakeBeta(out_channels)
        self.units = nn.ModuleList(ResidualUnit(out_channels, kernel_size, d, weight_norm) for d in dilations)
        self.gate = (
            DAAMGate(
                out_channels,
                num_gaussians=daam_gaussians,
                num_heads=daam_heads,
                alpha_init=daam_alpha_init,
            )
            if use_daam
            else None
        )

    def forward(
        self,
        x: torch.Tensor,
        counts: Optional[torch.Tensor] = None,
        return_gate: bool = False,
        stats_mask: Optional[torch.Tensor] = None,
    ):
        """Downsamples ``x`` (``[B, C_in, T]``, ``T`` divisible by ``stride``).

        ``counts`` are the real input steps per item (multiples of
        ``stride``); steps beyond them are zeroed after every convolution so a
        padded batch gives each item what it would get alone. ``stats_mask``
        (``[B, T / stride]`` bool) leaves output steps out of the gate's
        statistics.
        """
        x = self.down(x if self.down.padding[0] else F.pad(x, self.pad))
        mask = None
        if counts is not None:
            counts = torch.div(counts, self.stride, rounding_mode="floor")
            mask = steps_mask(counts, x.shape[-1]).to(x.dtype)
            x = x * mask
        x = self.act(x)
        for unit in self.units:
            x = unit(x, mask)
        gate = None
        if self.gate is not None:
            if return_gate:
                x, gate = self.gate(x, counts, return_gate=True, stats_mask=stats_mask)
            else:
                x = self.gate(x, counts, stats_mask=stats_mask)
        if return_gate:
            return x, gate
        return x


class EncoderOutput(NamedTuple):
    """What ``JEPAEncoder`` returns.

    latents : ``[B, N, D]``; lengths : ``[B]`` relative frame lengths;
    counts : ``[B]`` real frames per item; gates : per-block ``[B, H, N_b]``
    gates when asked for, else ``None``.
    """

    latents: torch.Tensor
    lengths: torch.Tensor
    counts: torch.Tensor
    gates: Optional[List[torch.Tensor]] = None


class JEPAEncoder(RecordsArguments, nn.Module):
    """Waveform encoder of the JEPA tokenizer.

    Conv stem (input conv, then one ``EncoderBlock`` per stride), a 1x1
    bottleneck to ``code_dim``, and a Conformer stack of width ``code_dim``.
    The stem reads the waveform (the reference) or, with ``frontend``, the
    log-mel frames of a ``LogMelFrontend``. The hop is the product of the
    strides (times the front end's hop) and the frame rate is
    ``sample_rate / hop``; with ``frame_rate`` given, strides that do not
    give it are rejected. Input of any length is right-padded with zeros to a whole
    number of frames: ``N = ceil(T / hop)``.

    Arguments
    ---------
    sample_rate : int
        Sample rate of the input audio.
    frame_rate : float, optional
        Expected frames per second; strides whose product is not
        ``sample_rate / frame_rate`` are rejected.
    channels : sequence of int
        Stem output channels then each block's output channels
        (``len(strides) + 1`` entries).
    strides : sequence of int
        Downsampling factor of each block.
    code_dim : int
        Width of the bottleneck and the Conformer (the code dimension).
    stem_kernel_size : int
        Kernel of the input convolution.
    res_dilations : sequence of int
        Dilations of the residual units of every block.
    res_kernel_size : int
        Kernel of the residual units.
    use_daam : bool
        Add a DAAM gate to every block.
    daam_gaussians, daam_heads, daam_alpha_init
        Options of the gates (see ``DAAMGate``).
    conformer_layers, conformer_heads, conformer_ffn_multiplier,
    conformer_kernel_size, dropout
        Options of the Conformer stack.
    weight_norm : bool
        Weight-normalise the convolutions (stem, blocks, bottleneck), as
        EnCodec's and DAC's encoders do: without it Adam inflates the
        unnormalised gains until the codes ignore the audio
        (docs/model_card.md). Folded away at inference (``remove_weight_norm``).
    bottleneck_norm : bool
        Layer-normalise the bottleneck output over channels before the
        Conformer, so its residual stream starts at unit scale whatever the
        convolutions give.
    input_gain : float
        The waveform is multiplied by it before the stem, so that read
        speech (RMS about 0.05) reaches the stem at unit scale.
    frontend : LogMelFrontend, optional
        Fixed log-mel analysis in front of the stem; the strides then
        downsample its frames (it spares the stem learning the log
        compression: docs/model_card.md).

    Example
    -------
    >>> enc = JEPAEncoder(
    ...     sample_rate=1600, channels=[4, 8, 8], strides=[4, 10], code_dim=8,
    ...     res_dilations=[1], conformer_layers=1, conformer_heads=2,
    ... )
    >>> enc.hop_length, enc.frame_rate
    (40, 40.0)
    >>> out = enc(torch.randn(2, 100), torch.tensor([1.0, 0.5]))
    >>> out.latents.shape, out.counts.tolist()
    (torch.Size([2, 3, 8]), [3, 2])
    """

    def __init__(
        self,
        sample_rate: int,
        channels: Sequence[int],
        strides: Sequence[int],
        frame_rate: Optional[float] = None,
        code_dim: int = 128,
        stem_kernel_size: int = 7,
        res_dilations: Sequence[int] = (1, 3, 9),
        res_kernel_size: int = 7,
        use_daam: bool = True,
        daam_gaussians: int = 4,
        daam_heads: int = 1,
        daam_alpha_init: float = 0.05,
        conformer_layers: int = 8,
        conformer_heads: int = 16,
        conformer_ffn_multiplier: int = 4,
        conformer_kernel_size: int = 31,
        dropout: float = 0.1,
        weight_norm: bool = False,
        bottleneck_norm: bool = False,
        input_gain: float = 1.0,
        frontend: Optional[LogMelFrontend] = None,
    ):
        super().__init__()
        if len(channels) != len(strides) + 1:
            raise ValueError(
                f"JEPAEncoder: channels needs len(strides) + 1 = {len(strides) + 1} "
                f"entries (stem, then one per block); got {len(channels)}"
            )
        hop = math.prod(strides) * (frontend.hop_length if frontend is not None else 1)
        if frame_rate is not None and abs(sample_rate / hop - frame_rate) > 1e-9:
            needed = sample_rate / frame_rate
            raise ValueError(
                f"JEPAEncoder: strides {list(strides)} (product {hop}) at "
                f"{sample_rate} Hz give {sample_rate / hop:.6g} frames/s, not the "
                f"configured frame_rate {frame_rate}; the stride product must be "
                f"sample_rate / frame_rate = {needed:.6g} (times the front end's hop, if any)"
            )
        if not (math.isfinite(input_gain) and input_gain > 0):
            raise ValueError(f"JEPAEncoder: input_gain must be a positive number; got {input_gain}")
        self.input_gain = input_gain
        self.frontend = frontend
        in_channels = frontend.n_mels if frontend is not None else 1
        self.sample_rate = sample_rate
        self.hop_length = hop
        self.code_dim = code_dim
        self.strides = list(strides)
        self.stem = maybe_weight_norm(
            nn.Conv1d(in_channels, channels[0], stem_kernel_size, padding=same_padding(stem_kernel_size)), weight_norm
        )
        self.blocks = nn.ModuleList(
            EncoderBlock(
                channels[i],
                channels[i + 1],
                stride,
                dilations=res_dilations,
                kernel_size=res_kernel_size,
                use_daam=use_daam,
                daam_gaussians=daam_gaussians,
                daam_heads=daam_heads,
                daam_alpha_init=daam_alpha_init,
                weight_norm=weight_norm,
            )
            for i, stride in enumerate(strides)
        )
        self.bottleneck = maybe_weight_norm(nn.Conv1d(channels[-1], code_dim, 1), weight_norm)
        self.bottleneck_norm = nn.LayerNorm(code_dim) if bottleneck_norm else None
        self.mask_embedding = nn.Parameter(torch.zeros(code_dim))
        nn.init.trunc_normal_(self.mask_embedding, std=0.02)
        self.conformer = ConformerStack(
            d_model=code_dim,
            num_layers=conformer_layers,
            nhead=conformer_heads,
            ffn_multiplier=conformer_ffn_multiplier,
            kernel_size=conformer_kernel_size,
            dropout=dropout,
        )

    @property
    def frame_rate(self) -> float:
        """Latent frames per second."""
        return self.sample_rate / self.hop_length

    @property
    def receptive_field(self) -> int:
        """Receptive field of the conv stem in samples.

        ``1 + sum((kernel - 1) * dilation * jump)`` over the convolutions,
        where ``jump`` is the stride product before each one: how far audio
        reaches through the convolutions (e.g. the context a chunked encoder
        needs).
        """
        jump = 1 if self.frontend is None else self.frontend.hop_length
        field = 1 if self.frontend is None else self.frontend.n_fft
        field += (self.stem.kernel_size[0] - 1) * jump
        for block in self.blocks:
            field += (block.down.kernel_size[0] - 1) * jump
            jump *= block.stride
            for unit in block.units:
                for conv in (unit.conv1, unit.conv2):
                    field += (conv.kernel_size[0] - 1) * conv.dilation[0] * jump
        return field

    def remove_weight_norm(self) -> None:
        """Folds the weight normalisation into plain weights (for inference:
        the same outputs; the state dict then has plain ``weight`` keys)."""
        fold_weight_norm(self)

    def num_frames(self, num_samples: int) -> int:
        """Frames produced for ``num_samples`` samples: ``ceil(T / hop)``."""
        return ceil_div(num_samples, self.hop_length)

    def stem_forward(
        self,
        wav: torch.Tensor,
        lengths: Optional[torch.Tensor] = None,
        return_gates: bool = False,
        hidden: Optional[torch.Tensor] = None,
    ):
        """Conv stem and bottleneck: ``[B, T]`` -> ``[B, D, N]`` plus counts.

        ``hidden`` (``[B, N]`` bool) marks frames whose audio is zeroed
        before the stem and left out of every DAAM gate's statistics, so
        nothing of their content reaches the output. Returns
        ``(features, counts, gates)``; ``counts`` are real frames.
        """
        check_waveform(wav)
        wav = wav.to(self.stem.weight.dtype)
        batch, time = wav.shape
        lengths = check_relative_lengths(lengths, batch).to(wav.device)
        frames = self.num_frames(time)
        padded = frames * self.hop_length
        samples = relative_to_absolute(lengths, time)
        counts = ceil_div(samples, self.hop_length)  # real frames per item
        x = F.pad(wav, (0, padded - time)).unsqueeze(1)
        # Each item's signal is its samples plus zeros up to a whole frame, as
        # it would be alone; the rest of the batch padding is masked out. Where
        # no item is padded (a training batch of crops) nothing is, at any rate:
        # no masks (steps None), checked once here.
        masked = any_padded(samples, padded)
        if masked:
            x = x * steps_mask(samples, padded).to(x.dtype)
        if hidden is not None:
            hidden = hidden.to(x.device, torch.bool)
            x = x * (~hidden).repeat_interleave(self.hop_length, dim=1).unsqueeze(1).to(x.dtype)
        size, steps = padded, (counts * self.hop_length if masked else None)  # stem input steps
        if self.frontend is None:
            x = x * self.input_gain
        else:
            size //= self.frontend.hop_length
            x = self.frontend(x.squeeze(1))
            if masked:
                steps = torch.div(steps, self.frontend.hop_length, rounding_mode="floor")
                x = x * steps_mask(steps, size).to(x.dtype)
        x = self.stem(x)
        if masked:
            x = x * steps_mask(steps, size).to(x.dtype)
        gates = []
        for block in self.blocks:
            size //= block.stride
            visible = None
            if hidden is not None:
                visible = ~hidden.repeat_interleave(size // frames, dim=1)
            if return_gates:
                x, gate = block(x, steps, return_gate=True, stats_mask=visible)
                gates.append(gate)
            else:
                x = block(x, steps, stats_mask=visible)
            if masked:
                steps = torch.div(steps, block.stride, rounding_mode="floor")
        x = self.bottleneck(x)
        if masked:
            x = x * steps_mask(counts, frames).to(x.dtype)
        return x, counts, (gates if return_gates else None)

    def forward(
        self,
        wav: torch.Tensor,
        lengths: Optional[torch.Tensor] = None,
        frame_mask: Optional[torch.Tensor] = None,
        return_gates: bool = False,
    ) -> EncoderOutput:
        """Encodes a waveform batch.

        Arguments
        ---------
        wav : torch.Tensor
            ``[B, T]`` mono waveform at ``sample_rate``.
        lengths : torch.Tensor, optional
            ``[B]`` relative lengths in ``(0, 1]``.
        frame_mask : torch.Tensor, optional
            ``[B, N]`` bool, True on frames to hide (the JEPA context path):
            their audio is zeroed before the stem, they are left out of the
            DAAM statistics, and a learned mask embedding replaces them
            before the Conformer, so the output does not depend on what was
            under them.
        return_gates : bool
            Also return every block's DAAM gate (for plots).

        Returns
        -------
        EncoderOutput
        """
        if frame_mask is not None:
            expected = (wav.shape[0], self.num_frames(wav.shape[-1]))
            if tuple(frame_mask.shape) != expected:
                raise ValueError(
                    f"frame_mask must have shape {expected} [batch, frames]; got {tuple(frame_mask.shape)}"
                )
        x, counts, gates = self.stem_forward(wav, lengths, return_gates, frame_mask)
        x = x.transpose(1, 2)  # [B, N, D]
        if self.bottleneck_norm is not None:
            x = self.bottleneck_norm(x)
        if frame_mask is not None:
            hide = frame_mask.to(x.device, torch.bool).unsqueeze(-1)
            x = torch.where(hide, self.mask_embedding.to(x.dtype), x)
        x = self.conformer(x, counts)
        valid = counts.to(x.device).unsqueeze(1) > torch.arange(x.shape[1], device=x.device)
        x = x * valid.unsqueeze(-1).to(x.dtype)
        rel = counts.float() / x.shape[1]
        return EncoderOutput(x, rel, counts, gates)
