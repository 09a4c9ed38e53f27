"""The JEPA codec: encoder + FSQ + mixed-radix packer + HiFi-GAN decoder.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Iterator, NamedTuple, Optional, Union

import torch
from torch import nn
from torch.nn import functional as F

from jepa_tokenizer.models.decoder import HiFiGANDecoder
from jepa_tokenizer.models.encoder import JEPAEncoder
from jepa_tokenizer.models.istft_decoder import ISTFTDecoder
from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.lengths import ceil_div, relative_to_absolute
from jepa_tokenizer.nn.residual import fold_weight_norm
from jepa_tokenizer.nn.validation import check_relative_lengths
from jepa_tokenizer.quantization.fsq import FSQ
from jepa_tokenizer.quantization.packing import MixedRadixPacker

__all__ = ["CodecOutput", "JEPACodec"]


def _chunks(frames: int, chunk: int, context: int):
    """``(start, end, left, right)`` frame spans: chunks and their context."""
    for start in range(0, frames, chunk):
        end = min(start + chunk, frames)
        yield start, end, max(start - context, 0), min(end + context, frames)


class CodecOutput(NamedTuple):
    """Training forward of ``JEPACodec``.

    wav : ``[B, T]`` reconstruction, the input's length; codes : ``[B, N, D]``
    quantized latents (straight-through); digits : ``[B, N, D]`` int64;
    latents : ``[B, N, D]`` encoder output before quantization; counts :
    ``[B]`` real frames.
    """

    wav: torch.Tensor
    codes: torch.Tensor
    digits: torch.Tensor
    latents: torch.Tensor
    counts: torch.Tensor


class JEPACodec(RecordsArguments, nn.Module):
    """Speech tokenizer: waveform -> integer tokens -> waveform.

    Audio of ``T`` samples gives ``N = ceil(T / hop)`` frames (the input is
    right-padded with zeros to whole frames) of ``tokens_per_frame`` tokens.
    ``decode`` returns ``N * hop`` samples, or ``num_samples`` when given, so
    ``decode(encode(x), num_samples=T)`` has the input's length.

    Arguments
    ---------
    encoder : JEPAEncoder
        Waveform -> ``[B, N, D]`` latents.
    quantizer : FSQ
        ``D``-dimensional finite scalar quantizer.
    packer : MixedRadixPacker
        Packs the ``D`` digits of a frame into tokens.
    decoder : HiFiGANDecoder or ISTFTDecoder
        Quantized latents -> waveform (``hop_length`` samples per frame,
        ``context_frames()``, ``forward(latents, counts)``).
    quantize_probability : float
        In training, the chance that an item is decoded from its codes
        rather than from its unrounded latents (1: always quantized, the
        reference).

    Example
    -------
    >>> from jepa_tokenizer import JEPAEncoder, FSQ, MixedRadixPacker, HiFiGANDecoder
    >>> enc = JEPAEncoder(sample_rate=800, channels=[4, 8, 8], strides=[4, 5],
    ...                   code_dim=10, res_dilations=[1], conformer_layers=1, conformer_heads=1)
    >>> dec = HiFiGANDecoder(code_dim=10, channels=[8, 4, 4], upsample_rates=[5, 4],
    ...                      resblock_kernel_sizes=[3], resblock_dilations=[1])
    >>> codec = JEPACodec(enc, FSQ(levels=4, dim=10),
    ...                   MixedRadixPacker(radices=4, num_digits=10, group_size=7), dec)
    >>> codec.frame_rate, codec.tokens_per_frame, codec.tokens_per_second, codec.bitrate
    (40.0, 2, 80.0, 800.0)
    >>> wav = torch.randn(2, 50)
    >>> tokens = codec.encode(wav)
    >>> tokens.shape, tokens.dtype
    (torch.Size([2, 3, 2]), torch.int64)
    >>> codec.decode(tokens, num_samples=50).shape
    torch.Size([2, 50])
    """

    def __init__(
        self,
        encoder: JEPAEncoder,
        quantizer: FSQ,
        packer: MixedRadixPacker,
        decoder: Union[HiFiGANDecoder, ISTFTDecoder],
        quantize_probability: float = 1.0,
    ):
        super().__init__()
        if not 0.0 <= quantize_probability <= 1.0:
            raise ValueError(f"JEPACodec: quantize_probability must be in [0, 1]; got {quantize_probability}")
        if quantizer.dim != encoder.code_dim:
            raise ValueError(
                f"JEPACodec: the quantizer has {quantizer.dim} dimensions but the encoder outputs {encoder.code_dim}"
            )
        if packer.num_digits != quantizer.dim:
            raise ValueError(
                f"JEPACodec: the packer takes {packer.num_digits} digits but the quantizer makes {quantizer.dim}"
            )
        packer_radices = packer.radix_table.flatten()[: packer.num_digits].tolist()
        if packer_radices != quantizer.radices:
            raise ValueError("JEPACodec: the packer's radices differ from the quantizer's levels")
        if decoder.hop_length != encoder.hop_length:
            raise ValueError(
                f"JEPACodec: the decoder makes {decoder.hop_length} samples per frame "
                f"but the encoder hop is "
                f"{encoder.hop_length} (strides {encoder.strides})"
            )
        self.encoder = encoder
        self.quantizer = quantizer
        self.packer = packer
        self.decoder = decoder
        self.quantize_probability = quantize_probability

    # ------------------------------------------------------------ properties
    @property
    def sample_rate(self) -> int:
        """Sample rate of the audio in and out."""
        return self.encoder.sample_rate

    @property
    def hop_length(self) -> int:
        """Samples per frame."""
        return self.encoder.hop_length

    @property
    def frame_rate(self) -> float:
        """Frames per second."""
        return self.encoder.frame_rate

    @property
    def tokens_per_frame(self) -> int:
        """Tokens per frame."""
        return self.packer.tokens_per_frame

    @property
    def tokens_per_second(self) -> float:
        """Tokens per second."""
        return self.frame_rate * self.tokens_per_frame

    @property
    def vocab_size(self) -> int:
        """Every token is in ``[0, vocab_size)``."""
        return self.packer.vocab_size

    @property
    def bitrate(self) -> float:
        """Information rate in bit/s: frame rate x sum of log2(levels)."""
        return self.frame_rate * self.packer.bits_per_frame

    # --------------------------------------------------------------- methods
    def quantize(self, latents: torch.Tensor):
        """FSQ of ``[B, N, D]`` latents (an ``FSQOutput``)."""
        return self.quantizer(latents)

    def forward(self, wav: torch.Tensor, lens: Optional[torch.Tensor] = None) -> CodecOutput:
        """Training forward: reconstruction (input length) and codes.

        In training mode the decoder reads :meth:`training_codes`;
        evaluation always decodes the codes.
        """
        enc = self.encoder(wav, lens)
        quant = self.quantize(enc.latents)
        codes = self.training_codes(enc.latents, quant.codes) if self.training else quant.codes
        out = self.decoder(codes, enc.counts)[:, : wav.shape[-1]]
        return CodecOutput(out, quant.codes, quant.digits, enc.latents, enc.counts)

    def training_codes(self, latents: torch.Tensor, codes: torch.Tensor) -> torch.Tensor:
        """What the decoder reads in training: each item's codes with
        probability ``quantize_probability``, else its bounded latents before
        rounding (Mimi quantizes half of the time in training: the decoder
        learns to use the encoder before the rounding noise drowns it)."""
        if self.quantize_probability >= 1.0:
            return codes
        keep = torch.rand(codes.shape[0], 1, 1, device=codes.device) < self.quantize_probability
        return torch.where(keep, codes, self.quantizer.continuous(latents).to(codes.dtype))

    def encode(
        self,
        wav: torch.Tensor,
        lens: Optional[torch.Tensor] = None,
        return_counts: bool = False,
    ):
        """``[B, T]`` waveform -> ``[B, N, tokens_per_frame]`` int64 tokens.

        Arguments
        ---------
        wav : torch.Tensor
            Mono audio at ``sample_rate``.
        lens : torch.Tensor, optional
            ``[B]`` relative lengths.
        return_counts : bool
            Also return the ``[B]`` number of real frames per item.
        """
        enc = self.encoder(wav, lens)
        tokens = self.packer.pack(self.quantize(enc.latents).digits)
        if return_counts:
            return tokens, enc.counts
        return tokens

    def decode(
        self,
        tokens: torch.Tensor,
        lens: Optional[torch.Tensor] = None,
        num_samples: Optional[int] = None,
    ) -> torch.Tensor:
        """``[B, N, tokens_per_frame]`` tokens -> ``[B, N * hop]`` waveform.

        Arguments
        ---------
        tokens : torch.Tensor
            Integer tokens; wrong shapes or out-of-range values raise
            ``ValueError``.
        lens : torch.Tensor, optional
            ``[B]`` relative frame lengths; samples past an item's frames are
            silence.
        num_samples : int, optional
            Trim the output to this many samples (e.g. the original length).
        """
        if not isinstance(tokens, torch.Tensor) or tokens.dim() != 3:
            shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__
            raise ValueError(f"tokens must have shape [batch, frames, {self.tokens_per_frame}]; got {shape}")
        if tokens.shape[0] == 0 or tokens.shape[1] == 0:
            raise ValueError(f"tokens are empty: shape {tuple(tokens.shape)}")
        digits = self.packer.unpack(tokens)
        codes = self.quantizer.digits_to_codes(digits)
        weight = next(self.decoder.parameters())
        codes = codes.to(device=weight.device, dtype=weight.dtype)
        counts = None
        if lens is not None:
            lens = check_relative_lengths(lens, tokens.shape[0]).to(weight.device)
            counts = relative_to_absolute(lens, tokens.shape[1])
        wav = self.decoder(codes, counts)
        if num_samples is not None:
            if num_samples < 1 or num_samples > wav.shape[-1]:
                raise ValueError(
                    f"num_samples must be in [1, {wav.shape[-1]}] for {tokens.shape[1]} frames; got {num_samples}"
                )
            wav = wav[:, :num_samples]
        return wav

    def fold_for_inference(self) -> "JEPACodec":
        """Inference-only speed-ups with the same outputs: weight
        normalisation (decoder, and encoder when it has it) folded into plain
        weights (the state dict then has plain ``weight`` keys). Returns the
        codec."""
        fold_weight_norm(self)
        return self

    # ------------------------------------------------------- long audio
    def decoder_context_frames(self) -> int:
        """Frames on each side that decoding one frame depends on (the
        decoder's receptive field): decoding in chunks with at least this
        much context reproduces whole-file decoding."""
        return self.decoder.context_frames()

    @torch.no_grad()
    def encode_long(self, wav: torch.Tensor, chunk_frames: int, context_frames: int) -> torch.Tensor:
        """Tokens ``[N, K]`` of one long ``[T]`` signal, encoded chunk by chunk.

        Chunks of ``chunk_frames`` frames are encoded with ``context_frames``
        of audio on each side (fewer at the ends), so memory is bounded by
        ``chunk_frames + 2 * context_frames`` frames whatever the length.
        The result has the whole file's ``N = ceil(T / hop)`` frames; it
        equals whole-file encoding when the file fits in one chunk, and
        otherwise differs where the encoder would have looked further than
        the context (its Conformer attends to everything it is given).
        """
        if wav.dim() != 1:
            raise ValueError(f"encode_long takes one signal [T]; got {tuple(wav.shape)}")
        if chunk_frames < 1 or context_frames < 0:
            raise ValueError("chunk_frames must be >= 1 and context_frames >= 0")
        hop = self.hop_length
        frames = ceil_div(wav.numel(), hop)
        wav = F.pad(wav, (0, frames * hop - wav.numel()))
        pieces = []
        for start, end, left, right in _chunks(frames, chunk_frames, context_frames):
            tokens = self.encode(wav[left * hop : right * hop].unsqueeze(0))[0]
            pieces.append(tokens[start - left : end - left])
        return torch.cat(pieces)

    @torch.no_grad()
    def decode_chunks(
        self,
        tokens: torch.Tensor,
        chunk_frames: int,
        context_frames: Optional[int] = None,
        num_samples: Optional[int] = None,
    ) -> Iterator[torch.Tensor]:
        """The audio of ``[N, K]`` tokens, ``chunk_frames`` frames at a time
        (``[chunk_frames * hop]`` pieces, the last one shorter), each decoded
        with ``context_frames`` (default: the decoder's receptive field) on
        each side: memory is bounded by the chunk, and with enough context the
        pieces joined equal whole-file decoding. ``num_samples`` trims the end.
        """
        if tokens.dim() != 2:
            raise ValueError(f"decoding in chunks takes one item [N, K]; got {tuple(tokens.shape)}")
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be >= 1; got {chunk_frames}")
        context = self.decoder_context_frames() if context_frames is None else context_frames
        hop, frames = self.hop_length, tokens.shape[0]
        remaining = frames * hop if num_samples is None else num_samples
        for start, end, left, right in _chunks(frames, chunk_frames, context):
            if remaining <= 0:
                return
            audio = self.decode(tokens[left:right].unsqueeze(0))[0]
            piece = audio[(start - left) * hop : (end - left) * hop][:remaining]
            remaining -= piece.numel()
            yield piece

    @torch.no_grad()
    def decode_long(
        self,
        tokens: torch.Tensor,
        chunk_frames: int,
        context_frames: Optional[int] = None,
        num_samples: Optional[int] = None,
    ) -> torch.Tensor:
        """Audio ``[T]`` of ``[N, K]`` tokens: the pieces of ``decode_chunks`` joined."""
        return torch.cat(list(self.decode_chunks(tokens, chunk_frames, context_frames, num_samples)))
