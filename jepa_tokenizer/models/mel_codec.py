"""A log-mel encoder and a log-mel decoder for the codec: the same tokens
(2.5 frames/s of FSQ digits) with the work done on mel frames.

The encoder reads the log-mel frames of a :class:`LogMelFrontend` and brings
them down to the code rate through stages of Conformer layers, each after a
strided convolution; the decoder mirrors it (transposed convolutions up to
the mel rate, ConvNeXt blocks there) and ends in log-mel frames, which a
:class:`GriffinLim` vocoder (no weights) or any module with the same call
turns into audio. Both plug into :class:`jepa_tokenizer.JEPACodec` in place of
the waveform encoder and decoder; the decoder also returns the hidden frames
of each stage, where training attaches its supervision heads.

Authors
 * jepa-tokenizer team 2026
"""

import math
from typing import List, NamedTuple, Optional, Sequence

import torch
import torchaudio
from torch import nn
from torch.nn import functional as F

from jepa_tokenizer.models.encoder import EncoderOutput
from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.conformer import ConformerStack
from jepa_tokenizer.nn.convnext import ConvNeXtBlock
from jepa_tokenizer.nn.frontend import LogMelFrontend
from jepa_tokenizer.nn.lengths import ceil_div

__all__ = ["GriffinLim", "MelDecoder", "MelDecoderOutput", "MelEncoder"]


def _stage_lists(name: str, **lists: Sequence) -> List[int]:
    """Checks that per-stage lists have one length; returns it."""
    sizes = {key: len(value) for key, value in lists.items()}
    if len(set(sizes.values())) != 1 or not next(iter(sizes.values())):
        raise ValueError(f"{name}: {', '.join(sizes)} must be non-empty lists of one length; got lengths {sizes}")
    return next(iter(sizes.values()))


def _check_fold(name: str, fold: int, code_dim: int) -> None:
    if not 1 <= fold <= code_dim:
        raise ValueError(f"{name}: fold must be in [1, code_dim={code_dim}]; got {fold}")


def _frame_mask(counts: Optional[torch.Tensor], frames: int, like: torch.Tensor) -> Optional[torch.Tensor]:
    """``[B, 1, frames]`` mask, 1 on real frames (``None`` without counts)."""
    if counts is None:
        return None
    steps = torch.arange(frames, device=like.device)
    return (steps.unsqueeze(0) < counts.to(like.device).unsqueeze(1)).unsqueeze(1).to(like.dtype)


def _masked(x: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
    return x if mask is None else x * mask


class MelEncoder(RecordsArguments, nn.Module):
    """Waveform -> log-mel frames -> ``[B, N, code_dim]`` latents at the code rate.

    A stem convolution and ``conv_blocks`` ConvNeXt blocks at the mel rate,
    then one stage per entry of ``stage_strides``: a convolution with kernel
    and stride ``stride`` (non-overlapping, so a frame never sees the next
    one's audio through it) to ``stage_dims[i]`` channels and
    ``stage_layers[i]`` Conformer layers; a linear layer to ``code_dim`` at
    the end. With ``fold`` > 1 that layer makes ``code_dim // fold`` values a
    frame and ``fold`` consecutive frames are set side by side in one code
    frame (the ``code_dim % fold`` values left over are constant zeros): the
    codes keep their rate and size while each carries ``fold`` finer
    sub-frames. The hop is ``mel_hop`` times the product of the strides times
    ``fold``; input of any length is right-padded with zeros to
    ``N = ceil(T / hop)`` frames.

    Arguments
    ---------
    sample_rate : int
        Sample rate of the input.
    n_fft, mel_hop, n_mels, log_floor : int, int, int, float
        The log-mel analysis (:class:`LogMelFrontend`).
    conv_dim, conv_blocks, conv_kernel : int
        Width, number and depthwise kernel of the mel-rate ConvNeXt blocks.
    stage_dims, stage_strides, stage_layers, stage_kernels : list of int
        Per stage: width, downsampling factor, Conformer layers and the
        Conformer's depthwise kernel.
    heads, ffn_multiplier : int
        Attention heads and feed-forward width (a multiple of the stage width).
    dropout : float
        Dropout in the Conformer layers.
    code_dim : int
        Dimension of the output latents (the quantizer's).
    feature_mean, feature_std : float
        The log-mel values are standardised with these before the stem.
    fold : int
        Sub-frames set side by side in one code frame (1: none).

    Example
    -------
    >>> enc = MelEncoder(sample_rate=16000, n_fft=256, mel_hop=64, n_mels=16, conv_dim=8,
    ...                  conv_blocks=1, stage_dims=[8], stage_strides=[5], stage_layers=[1],
    ...                  stage_kernels=[3], heads=2, code_dim=6)
    >>> enc.hop_length, enc.frame_rate
    (320, 50.0)
    >>> out = enc(torch.randn(2, 1000), torch.tensor([1.0, 0.5]))
    >>> out.latents.shape, out.counts.tolist()
    (torch.Size([2, 4, 6]), [4, 2])
    >>> folded = MelEncoder(sample_rate=16000, n_fft=256, mel_hop=64, n_mels=16, conv_dim=8,
    ...                     conv_blocks=1, stage_dims=[8], stage_strides=[5], stage_layers=[1],
    ...                     stage_kernels=[3], heads=2, code_dim=7, fold=2)
    >>> out = folded(torch.randn(2, 1000), torch.tensor([1.0, 0.5]))
    >>> folded.hop_length, out.latents.shape, out.counts.tolist(), out.latents[..., 6].abs().max().item()
    (640, torch.Size([2, 2, 7]), [2, 1], 0.0)
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        mel_hop: int = 256,
        n_mels: int = 80,
        log_floor: float = 1e-5,
        conv_dim: int = 256,
        conv_blocks: int = 2,
        conv_kernel: int = 7,
        stage_dims: Sequence[int] = (320, 320),
        stage_strides: Sequence[int] = (5, 5),
        stage_layers: Sequence[int] = (3, 1),
        stage_kernels: Sequence[int] = (15, 5),
        heads: int = 4,
        ffn_multiplier: int = 4,
        dropout: float = 0.1,
        code_dim: int = 128,
        feature_mean: float = -4.0,
        feature_std: float = 3.0,
        fold: int = 1,
    ):
        super().__init__()
        _check_fold("MelEncoder", fold, code_dim)
        _stage_lists(
            "MelEncoder",
            stage_dims=stage_dims,
            stage_strides=stage_strides,
            stage_layers=stage_layers,
            stage_kernels=stage_kernels,
        )
        if any(s < 1 for s in stage_strides):
            raise ValueError(f"MelEncoder: stage_strides must be >= 1; got {list(stage_strides)}")
        self.frontend = LogMelFrontend(sample_rate, n_fft, mel_hop, n_mels, log_floor)
        self.sample_rate = sample_rate
        self.mel_hop = mel_hop
        self.strides = list(stage_strides)
        self.fold = fold
        self.hop_length = mel_hop * math.prod(self.strides) * fold
        self.code_dim = code_dim
        self.feature_mean, self.feature_std = feature_mean, feature_std
        self.stem = nn.Conv1d(n_mels, conv_dim, conv_kernel, padding=conv_kernel // 2)
        self.convs = nn.ModuleList(ConvNeXtBlock(conv_dim, 2 * conv_dim, conv_kernel) for _ in range(conv_blocks))
        self.downs = nn.ModuleList()
        self.stages = nn.ModuleList()
        width = conv_dim
        for dim, stride, layers, kernel in zip(stage_dims, stage_strides, stage_layers, stage_kernels):
            self.downs.append(nn.Conv1d(width, dim, stride, stride=stride))
            self.stages.append(ConformerStack(dim, layers, heads, ffn_multiplier, kernel, dropout))
            width = dim
        self.proj = nn.Linear(width, code_dim // fold)

    @property
    def frame_rate(self) -> float:
        """Latent frames per second."""
        return self.sample_rate / self.hop_length

    def log_mel(self, wav: torch.Tensor) -> torch.Tensor:
        """``[B, T]`` -> ``[B, n_mels, ceil(T / hop) * hop / mel_hop]`` natural-log mel
        frames of the input padded to whole code frames (the decoder's target)."""
        frames = ceil_div(wav.shape[-1], self.hop_length)
        return self.frontend(F.pad(wav, (0, frames * self.hop_length - wav.shape[-1])))

    def info(self) -> dict:
        """What identifies the log-mel frames of :meth:`features` (cached features are checked against it)."""
        front = self.frontend
        return {
            "sample_rate": self.sample_rate,
            "n_fft": front.n_fft,
            "mel_hop": self.mel_hop,
            "n_mels": front.n_mels,
            "log_floor": front.log_floor,
        }

    def features(self, wav: torch.Tensor) -> torch.Tensor:
        """``[B, T]`` -> ``[B, ceil(T / mel_hop), n_mels]`` natural-log mel frames
        (what :meth:`encode_log_mel` reads, time first, without the padding to
        whole code frames): the features a training recipe caches."""
        return self.log_mel(wav)[..., : ceil_div(wav.shape[-1], self.mel_hop)].transpose(1, 2)

    def forward(self, wav: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> EncoderOutput:
        """``[B, T]`` waveform (``lengths`` relative, ``[B]``) -> latents and frame counts."""
        if wav.dim() != 2:
            raise ValueError(f"MelEncoder takes [batch, samples]; got {tuple(wav.shape)}")
        counts = None
        if lengths is not None:
            samples = torch.round(lengths.to(wav.device, torch.float64) * wav.shape[-1]).long()
            counts = ceil_div(samples, self.mel_hop)
        return self.encode_log_mel(self.log_mel(wav), counts)

    def encode_log_mel(self, log_mel: torch.Tensor, counts: Optional[torch.Tensor] = None) -> EncoderOutput:
        """``[B, n_mels, F]`` natural-log mel frames (``F`` whole code frames;
        ``counts``: real mel frames per item) -> latents and code-frame counts."""
        ratio = self.hop_length // self.mel_hop
        if log_mel.dim() != 3 or log_mel.shape[-1] % ratio:
            raise ValueError(
                f"MelEncoder: log-mel frames must be [batch, mels, a multiple of {ratio}]; got {tuple(log_mel.shape)}"
            )
        frames = log_mel.shape[-1] // ratio
        mel = (log_mel - self.feature_mean) / self.feature_std
        mask = _frame_mask(counts, mel.shape[-1], mel)
        x = _masked(self.stem(_masked(mel, mask)), mask)
        for block in self.convs:
            x = _masked(block(x, mask), mask)
        for down, stage, stride in zip(self.downs, self.stages, self.strides):
            if counts is not None:
                counts = ceil_div(counts, stride)
            x = down(x)
            x = stage(x.transpose(1, 2), counts).transpose(1, 2)
            x = _masked(x, _frame_mask(counts, x.shape[-1], x))
        latents = self.proj(x.transpose(1, 2))
        if self.fold > 1:
            latents = _masked(latents.transpose(1, 2), _frame_mask(counts, latents.shape[1], latents)).transpose(1, 2)
            latents = latents.reshape(latents.shape[0], frames, -1)
            latents = F.pad(latents, (0, self.code_dim - latents.shape[-1]))
            counts = None if counts is None else ceil_div(counts, self.fold)
        if counts is None:
            counts = torch.full((log_mel.shape[0],), frames, dtype=torch.long, device=log_mel.device)
        return EncoderOutput(latents, counts.to(latents.dtype) / frames, counts, None)


class GriffinLim(RecordsArguments, nn.Module):
    """Log-mel frames -> waveform by Griffin-Lim phase recovery (no weights).

    The mel magnitudes are mapped back to linear frequency with the
    pseudo-inverse of the filterbank (negative values clipped), then
    ``iterations`` rounds of torchaudio's Griffin-Lim (fixed start, so the
    output is deterministic); the output is aligned to the frames of
    :class:`LogMelFrontend` (``n_fft - hop`` samples of padding, centred).

    Arguments
    ---------
    sample_rate, n_fft, hop_length, n_mels : int
        The analysis the frames came from.
    iterations : int
        Griffin-Lim rounds.
    momentum : float
        Griffin-Lim's momentum.

    Example
    -------
    >>> vocoder = GriffinLim(sample_rate=16000, n_fft=256, hop_length=64, n_mels=16, iterations=2)
    >>> vocoder(torch.randn(2, 16, 10)).shape
    torch.Size([2, 640])
    """

    def __init__(
        self,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        hop_length: int = 256,
        n_mels: int = 80,
        iterations: int = 32,
        momentum: float = 0.99,
    ):
        super().__init__()
        self.n_fft, self.hop_length, self.iterations, self.momentum = n_fft, hop_length, iterations, momentum
        fbank = torchaudio.functional.melscale_fbanks(n_fft // 2 + 1, 0.0, sample_rate / 2, n_mels, sample_rate)
        self.register_buffer("inverse", torch.linalg.pinv(fbank.T.double()).float(), persistent=False)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        self.offset = n_fft // 2 - (n_fft - hop_length) // 2

    def forward(self, log_mel: torch.Tensor) -> torch.Tensor:
        """``[B, n_mels, F]`` natural-log mel -> ``[B, F * hop_length]`` samples."""
        with torch.autocast(device_type=log_mel.device.type, enabled=False):
            linear = torch.relu(self.inverse @ log_mel.float().exp())
            frames = log_mel.shape[-1]
            wav = torchaudio.functional.griffinlim(
                linear,
                self.window,
                self.n_fft,
                self.hop_length,
                self.n_fft,
                1.0,
                self.iterations,
                self.momentum,
                (frames - 1) * self.hop_length,
                False,
            )
        return F.pad(wav, (self.offset, self.hop_length - self.offset)).to(log_mel.dtype)


class MelDecoderOutput(NamedTuple):
    """``MelDecoder.decode_mel``: log_mel ``[B, n_mels, F]``; hidden: each
    Conformer stage's output ``[B, N_i, D_i]``; counts: real frames per item
    at each stage (``None`` without counts)."""

    log_mel: torch.Tensor
    hidden: List[torch.Tensor]
    counts: List[Optional[torch.Tensor]]


class MelDecoder(RecordsArguments, nn.Module):
    """``[B, N, code_dim]`` codes -> log-mel frames -> waveform.

    A linear layer to ``stage_dims[0]``, then per stage ``stage_layers[i]``
    Conformer layers and a transposed convolution (kernel and stride
    ``stage_strides[i]``) up to the next stage's width, the last one to
    ``conv_dim`` at the mel rate; ``conv_blocks`` ConvNeXt blocks and a
    linear layer to ``n_mels`` natural-log mel values; ``vocoder`` (by
    default :class:`GriffinLim`) makes audio of them. With ``fold`` > 1 each
    code frame is first taken apart into the ``fold`` sub-frames a folding
    :class:`MelEncoder` set side by side in it (its constant values dropped).

    Arguments
    ---------
    code_dim : int
        Dimension of the codes.
    sample_rate, n_fft, mel_hop, n_mels : int
        The log-mel analysis of the encoder (the output frames).
    stage_dims, stage_strides, stage_layers, stage_kernels : list of int
        Per stage, from the code rate up: width, upsampling factor after the
        stage, Conformer layers, Conformer depthwise kernel.
    heads, ffn_multiplier : int
        Attention heads; feed-forward width as a multiple of the width.
    dropout : float
        Dropout in the Conformer layers.
    conv_dim, conv_blocks, conv_kernel : int
        The mel-rate ConvNeXt blocks.
    output_mean, output_std : float
        The last layer's output ``y`` becomes ``output_mean + output_std * y``.
    vocoder : nn.Module, optional
        ``[B, n_mels, F]`` log-mel -> ``[B, F * mel_hop]`` audio
        (default: Griffin-Lim with 32 iterations).
    fold : int
        Sub-frames in one code frame (the encoder's ``fold``).

    Example
    -------
    >>> dec = MelDecoder(code_dim=6, n_fft=256, mel_hop=64, n_mels=16, stage_dims=[8],
    ...                  stage_strides=[5], stage_layers=[1], stage_kernels=[3], heads=2,
    ...                  conv_dim=8, conv_blocks=1,
    ...                  vocoder=GriffinLim(n_fft=256, hop_length=64, n_mels=16, iterations=2))
    >>> dec.hop_length
    320
    >>> dec(torch.randn(2, 4, 6), torch.tensor([4, 2])).shape
    torch.Size([2, 1280])
    >>> out = dec.decode_mel(torch.randn(2, 4, 6))
    >>> out.log_mel.shape, [h.shape[1] for h in out.hidden]
    (torch.Size([2, 16, 20]), [4])
    """

    def __init__(
        self,
        code_dim: int = 128,
        sample_rate: int = 16000,
        n_fft: int = 1024,
        mel_hop: int = 256,
        n_mels: int = 80,
        stage_dims: Sequence[int] = (320, 320),
        stage_strides: Sequence[int] = (5, 5),
        stage_layers: Sequence[int] = (1, 4),
        stage_kernels: Sequence[int] = (5, 15),
        heads: int = 4,
        ffn_multiplier: int = 4,
        dropout: float = 0.1,
        conv_dim: int = 256,
        conv_blocks: int = 2,
        conv_kernel: int = 7,
        output_mean: float = -4.0,
        output_std: float = 3.0,
        vocoder: Optional[nn.Module] = None,
        fold: int = 1,
    ):
        super().__init__()
        _check_fold("MelDecoder", fold, code_dim)
        _stage_lists(
            "MelDecoder",
            stage_dims=stage_dims,
            stage_strides=stage_strides,
            stage_layers=stage_layers,
            stage_kernels=stage_kernels,
        )
        self.sample_rate = sample_rate
        self.mel_hop = mel_hop
        self.strides = list(stage_strides)
        self.fold = fold
        self.sub_dim = code_dim // fold
        self.hop_length = mel_hop * math.prod(self.strides) * fold
        self.output_mean, self.output_std = output_mean, output_std
        self.inp = nn.Linear(self.sub_dim, stage_dims[0])
        self.stages = nn.ModuleList()
        self.ups = nn.ModuleList()
        widths = list(stage_dims[1:]) + [conv_dim]
        for dim, stride, layers, kernel, out in zip(stage_dims, stage_strides, stage_layers, stage_kernels, widths):
            self.stages.append(ConformerStack(dim, layers, heads, ffn_multiplier, kernel, dropout))
            self.ups.append(nn.ConvTranspose1d(dim, out, stride, stride=stride))
        self.convs = nn.ModuleList(ConvNeXtBlock(conv_dim, 2 * conv_dim, conv_kernel) for _ in range(conv_blocks))
        self.norm = nn.LayerNorm(conv_dim)
        self.out = nn.Linear(conv_dim, n_mels)
        if vocoder is None:
            vocoder = GriffinLim(sample_rate, n_fft, mel_hop, n_mels)
        self.vocoder = vocoder

    def context_frames(self) -> int:
        """Frames on each side that decoding one frame depends on: the
        Conformer layers attend to the whole input, so there is no finite
        bound; chunked decoding with this much context (one minute) differs
        from whole-file decoding only by what lies further away."""
        return math.ceil(60 * self.sample_rate / self.hop_length)

    def decode_mel(self, codes: torch.Tensor, counts: Optional[torch.Tensor] = None) -> MelDecoderOutput:
        """``[B, N, code_dim]`` -> log-mel frames and each stage's hidden frames."""
        if self.fold > 1:
            batch, frames = codes.shape[:2]
            codes = codes[..., : self.fold * self.sub_dim].reshape(batch, frames * self.fold, self.sub_dim)
            counts = None if counts is None else counts * self.fold
        x = self.inp(codes)
        hidden, stage_counts = [], []
        for stage, up, stride in zip(self.stages, self.ups, self.strides):
            x = stage(x, counts)
            hidden.append(x)
            stage_counts.append(counts)
            mask = _frame_mask(counts, x.shape[1], x)
            x = up(_masked(x.transpose(1, 2), mask))
            counts = None if counts is None else counts * stride
            x = x.transpose(1, 2)
        x = x.transpose(1, 2)
        mask = _frame_mask(counts, x.shape[-1], x)
        for block in self.convs:
            x = _masked(block(x, mask), mask)
        log_mel = self.output_mean + self.output_std * self.out(self.norm(x.transpose(1, 2))).transpose(1, 2)
        return MelDecoderOutput(log_mel, hidden, stage_counts)

    def forward(self, codes: torch.Tensor, counts: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``[B, N, code_dim]`` codes -> ``[B, N * hop_length]`` samples (zero past ``counts``)."""
        log_mel = self.decode_mel(codes, counts).log_mel
        wav = self.vocoder(log_mel)
        if counts is not None:
            wav = wav * _frame_mask(counts.to(wav.device) * self.hop_length, wav.shape[-1], wav).squeeze(1)
        return wav
