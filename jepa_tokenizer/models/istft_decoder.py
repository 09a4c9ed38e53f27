"""A Vocos-style decoder: latent frames -> ConvNeXt at a spectrogram frame
rate -> magnitude and phase -> ``torch.istft``.

Its layers run at ``sample_rate / istft_hop`` frames per second (tens of
hertz) instead of the full sample rate, so it costs a small fraction of the
HiFi-GAN decoder; the waveform comes from the inverse STFT. It has the
HiFi-GAN decoder's interface: ``N`` frames give exactly ``N * hop_length``
samples, items of a padded batch decode as they do alone (``counts``), and
``context_frames()`` is the receptive field for exact chunked decoding.

Authors
 * jepa-tokenizer team 2026
"""

import math
from typing import Optional

import torch
from torch import nn

from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.convnext import ConvNeXtBlock
from jepa_tokenizer.nn.lengths import any_padded, ceil_div, steps_mask

__all__ = ["ISTFTDecoder"]


class ISTFTDecoder(RecordsArguments, nn.Module):
    """Latent frames ``[B, N, D]`` -> waveform ``[B, N * hop_length]`` through
    an inverse STFT.

    A convolution over the latent frames, a transposed convolution that turns
    each frame into ``hop_length / istft_hop`` spectrogram frames, ConvNeXt
    blocks, a LayerNorm and a linear head to ``n_fft / 2 + 1`` log-magnitudes
    and phases; ``torch.istft`` (Hann window, centred frames) gives the
    waveform. Frames past the real ones are zeroed before every convolution
    and their spectrum is zero, and ``ceil(n_fft / (2 istft_hop))`` silent
    frames close every sequence, so the window envelope at the last real
    sample is the same alone, in a padded batch, or inside a longer sequence.

    Arguments
    ---------
    code_dim : int
        Width of the input latents.
    hop_length : int
        Samples per latent frame (the encoder's hop); a multiple of ``istft_hop``.
    istft_hop : int
        Samples per spectrogram frame.
    n_fft : int
        FFT size (and Hann window length) of the inverse STFT; at least
        ``2 * istft_hop`` (Vocos: 4 x the hop).
    dim : int
        Width of the ConvNeXt blocks.
    intermediate_dim : int
        Width of their pointwise MLPs.
    num_layers : int
        Number of ConvNeXt blocks.
    kernel_size : int
        Depthwise kernel of the blocks (odd).
    input_kernel_size : int
        Kernel of the convolution over latent frames (odd).
    layer_scale_init : float
        Initial residual scale of the blocks (Vocos: ``1 / num_layers``); None
        for ``1 / num_layers``.
    max_log_magnitude : float
        Log-magnitudes are clamped to at most this value (Vocos clips the
        magnitude at 100, log 100 = 4.6).
    frame_layers : int
        ConvNeXt blocks at the latent frame rate, before the upsampling:
        capacity where the frames are few (at 2.5 Hz they cost almost nothing).
    frame_kernel_size : int
        Depthwise kernel of those blocks (odd), in latent frames.

    Example
    -------
    >>> dec = ISTFTDecoder(code_dim=8, hop_length=160, istft_hop=40, n_fft=160, dim=16,
    ...                    intermediate_dim=32, num_layers=2)
    >>> dec(torch.randn(2, 3, 8)).shape
    torch.Size([2, 480])
    >>> dec.frames_per_code, dec.context_frames()
    (4, 4)
    """

    def __init__(
        self,
        code_dim: int,
        hop_length: int,
        istft_hop: int = 320,
        n_fft: int = 1280,
        dim: int = 256,
        intermediate_dim: int = 768,
        num_layers: int = 8,
        kernel_size: int = 7,
        input_kernel_size: int = 3,
        layer_scale_init: Optional[float] = None,
        max_log_magnitude: float = math.log(100.0),
        frame_layers: int = 0,
        frame_kernel_size: int = 3,
    ):
        super().__init__()
        if hop_length % istft_hop:
            raise ValueError(f"ISTFTDecoder: hop_length ({hop_length}) must be a multiple of istft_hop ({istft_hop})")
        if not 2 * istft_hop <= n_fft:
            raise ValueError(f"ISTFTDecoder: n_fft ({n_fft}) must be at least 2 * istft_hop ({2 * istft_hop})")
        if input_kernel_size % 2 == 0:
            raise ValueError(f"ISTFTDecoder: input_kernel_size must be odd; got {input_kernel_size}")
        if num_layers < 1:
            raise ValueError(f"ISTFTDecoder: num_layers must be >= 1; got {num_layers}")
        if frame_layers < 0:
            raise ValueError(f"ISTFTDecoder: frame_layers must be >= 0; got {frame_layers}")
        self.hop_length = hop_length
        self.istft_hop = istft_hop
        self.n_fft = n_fft
        self.frames_per_code = hop_length // istft_hop
        self.max_log_magnitude = max_log_magnitude
        scale = 1.0 / num_layers if layer_scale_init is None else layer_scale_init
        self.embed = nn.Conv1d(code_dim, dim, input_kernel_size, padding=input_kernel_size // 2)
        # blocks at the latent frame rate (2.5 Hz: almost free), before the upsampling
        self.frame_blocks = nn.ModuleList(
            ConvNeXtBlock(dim, intermediate_dim, frame_kernel_size, scale) for _ in range(frame_layers)
        )
        # each latent frame becomes frames_per_code spectrogram frames (no overlap: no leak across frames)
        self.upsample = nn.ConvTranspose1d(dim, dim, self.frames_per_code, stride=self.frames_per_code)
        self.blocks = nn.ModuleList(ConvNeXtBlock(dim, intermediate_dim, kernel_size, scale) for _ in range(num_layers))
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.head = nn.Linear(dim, n_fft + 2)  # n_fft / 2 + 1 log-magnitudes and as many phases
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    @property
    def closing_frames(self) -> int:
        """Silent spectrogram frames after the last real one (the window's reach)."""
        return ceil_div(self.n_fft, 2 * self.istft_hop)

    def context_frames(self) -> int:
        """Latent frames on each side that decoding one frame depends on
        (rounded up, plus one): chunked decoding with this much context
        reproduces decoding the whole sequence."""
        reach = sum(block.reach() for block in self.blocks) * self.istft_hop + self.n_fft // 2  # samples
        frame_reach = sum(block.reach() for block in self.frame_blocks)  # latent frames
        return self.embed.kernel_size[0] // 2 + frame_reach + ceil_div(reach, self.hop_length) + 1

    def spectrum(self, latents: torch.Tensor, counts: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The complex spectrogram ``[B, n_fft / 2 + 1, N * frames_per_code]``
        (zero past the real frames)."""
        if latents.dim() != 3:
            raise ValueError(f"latents must have shape [batch, frames, dim]; got {tuple(latents.shape)}")
        if counts is not None and not any_padded(counts, latents.shape[1]):
            counts = None  # no padding: no masks
        x = latents.transpose(1, 2)
        mask = None if counts is None else steps_mask(counts.to(x.device), x.shape[-1]).to(x.dtype)
        x = self.embed(x if mask is None else x * mask)
        for block in self.frame_blocks:
            x = block(x, mask)
        x = self.upsample(x if mask is None else x * mask)
        if counts is not None:
            mask = steps_mask(counts.to(x.device) * self.frames_per_code, x.shape[-1]).to(x.dtype)
        for block in self.blocks:
            x = block(x, mask)
        out = self.head(self.norm(x.transpose(1, 2))).transpose(1, 2).float()
        log_magnitude, phase = out.chunk(2, dim=1)
        magnitude = log_magnitude.clamp(max=self.max_log_magnitude).exp()
        if mask is not None:
            magnitude = magnitude * mask.float()
        return torch.polar(magnitude, phase)

    def forward(self, latents: torch.Tensor, counts: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Decodes ``[B, N, D]`` latents to ``[B, N * hop_length]`` samples;
        with ``counts`` (real frames per item) the samples past them are zero."""
        spec = self.spectrum(latents, counts)
        spec = nn.functional.pad(spec, (0, self.closing_frames))
        length = latents.shape[1] * self.hop_length
        wav = torch.istft(spec, self.n_fft, self.istft_hop, window=self.window.float(), center=True, length=length).to(
            latents.dtype
        )
        if counts is not None:
            wav = wav * steps_mask(counts.to(wav.device) * self.hop_length, length).squeeze(1).to(wav.dtype)
        return wav
