"""Text to 2.5 Hz tokens: an autoregressive Transformer over codec frames.

The model predicts each frame's FSQ digits (128 digits of 4 levels in the
reference codec) rather than its packed tokens (19 of 16,384 classes): the
digits are what the decoder consumes, 128 four-way softmaxes are small, and
a wrong digit costs one dimension instead of a whole 7-digit token. The
digits of a frame are predicted independently given the decoder state (the
frame is one step); the previous frame enters the decoder as its digit
values scaled to ``(-1, 1)``. A stop logit per frame is the end-of-speech
decision. Text is characters or SentencePiece units (``jepa_tokenizer.data.text``)
with index 0 as padding; an optional speaker table conditions the voice.

Authors
 * jepa-tokenizer team 2026
"""

import math
from typing import NamedTuple, Optional, Sequence, Tuple, Union

import speechbrain as sb
import torch
from speechbrain.dataio.dataio import length_to_mask
from speechbrain.lobes.models.transformer.Transformer import PositionalEncoding
from torch import nn

from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.lengths import relative_to_absolute

__all__ = ["TTSOutput", "TokenTTS", "tts_loss", "sample_digits"]


class TTSOutput(NamedTuple):
    """Teacher-forced predictions."""

    digit_logits: torch.Tensor  # [B, N, D, L]; levels a digit lacks are -inf
    stop_logits: torch.Tensor  # [B, N]


def sample_digits(logits: torch.Tensor, temperature: float = 1.0, top_k: int = 0) -> torch.Tensor:
    """Draws one digit per ``[..., L]`` logit row; ``temperature`` 0 takes
    the most likely level, ``top_k`` > 0 keeps the k most likely levels.

    Example
    -------
    >>> logits = torch.tensor([[0.0, 5.0, -1.0, float("-inf")]])
    >>> sample_digits(logits, temperature=0.0)
    tensor([1])
    >>> sample_digits(logits, temperature=1.0, top_k=1)
    tensor([1])
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0; got {temperature}")
    if top_k < 0:
        raise ValueError(f"top_k must be >= 0 (0: no truncation); got {top_k}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if 0 < top_k < logits.shape[-1]:
        kth = logits.topk(top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    flat = torch.softmax(logits, dim=-1).reshape(-1, logits.shape[-1])
    return torch.multinomial(flat, 1).view(logits.shape[:-1])


class TokenTTS(RecordsArguments, nn.Module):
    """Text units (+ speaker) -> frames of FSQ digits, one frame per step.

    Arguments
    ---------
    num_units : int
        Text units including the padding index 0 (``len(TextUnits)``).
    levels : int or sequence of int
        Levels of each FSQ digit (an int with ``num_digits`` repeats it).
    num_digits : int, optional
        Digits per frame when ``levels`` is an int.
    d_model, nhead, num_encoder_layers, num_decoder_layers, d_ffn, dropout
        Transformer sizes (PyTorch's pre-norm layers).
    num_speakers : int
        Rows of the speaker table; 0: no speaker conditioning.
    max_len : int
        Longest text or frame sequence of the positional encoding.

    Example
    -------
    >>> model = TokenTTS(num_units=30, levels=4, num_digits=16, d_model=32, nhead=2,
    ...                  num_encoder_layers=1, num_decoder_layers=1, d_ffn=64)
    >>> units, digits = torch.randint(1, 30, (2, 12)), torch.randint(0, 4, (2, 5, 16))
    >>> out = model(units, torch.tensor([1.0, 0.5]), digits, torch.tensor([1.0, 0.6]))
    >>> out.digit_logits.shape, out.stop_logits.shape
    (torch.Size([2, 5, 16, 4]), torch.Size([2, 5]))
    >>> generated, counts = model.generate(units, torch.tensor([1.0, 0.5]), max_frames=7)
    >>> generated.shape[0], generated.shape[2], bool((counts <= 7).all())
    (2, 16, True)
    """

    def __init__(
        self,
        num_units: int,
        levels: Union[int, Sequence[int]],
        num_digits: Optional[int] = None,
        d_model: int = 256,
        nhead: int = 4,
        num_encoder_layers: int = 4,
        num_decoder_layers: int = 4,
        d_ffn: int = 1024,
        dropout: float = 0.1,
        num_speakers: int = 0,
        max_len: int = 2500,
    ):
        super().__init__()
        if isinstance(levels, int):
            if num_digits is None:
                raise ValueError("TokenTTS: give num_digits when levels is a single int")
            levels = [levels] * num_digits
        levels = [int(v) for v in levels]
        if num_digits is not None and len(levels) != num_digits:
            raise ValueError(f"TokenTTS: {len(levels)} levels given for num_digits={num_digits}")
        if min(levels) < 2:
            raise ValueError(f"TokenTTS: every digit needs at least 2 levels; got {levels}")
        if d_model % nhead:
            raise ValueError(f"TokenTTS: d_model ({d_model}) must be a multiple of nhead ({nhead})")
        self.num_units = num_units
        self.num_digits = len(levels)
        self.num_speakers = num_speakers
        self.register_buffer("levels", torch.tensor(levels), persistent=False)
        invalid = torch.arange(max(levels)).view(1, -1) >= self.levels.view(-1, 1)  # [D, L]
        self.register_buffer("invalid_levels", invalid, persistent=False)
        self.scale = math.sqrt(d_model)
        self.text_embedding = nn.Embedding(num_units, d_model, padding_idx=0)
        self.speaker_embedding = nn.Embedding(num_speakers, d_model) if num_speakers > 0 else None
        self.max_len = max_len  # longest text (units) and frame sequence
        self.positions = PositionalEncoding(d_model, max_len)
        self.frame_input = nn.Linear(self.num_digits, d_model)
        self.start_frame = nn.Parameter(torch.zeros(1, 1, d_model))

        def layer(kind):
            return kind(d_model, nhead, d_ffn, dropout, batch_first=True, norm_first=True)

        self.text_encoder = nn.TransformerEncoder(
            layer(nn.TransformerEncoderLayer),
            num_encoder_layers,
            norm=nn.LayerNorm(d_model),
            enable_nested_tensor=False,
        )
        self.frame_decoder = nn.TransformerDecoder(
            layer(nn.TransformerDecoderLayer), num_decoder_layers, norm=nn.LayerNorm(d_model)
        )
        self.digit_head = nn.Linear(d_model, self.num_digits * max(levels))
        self.stop_head = nn.Linear(d_model, 1)

    # ------------------------------------------------------------ pieces
    def _speaker(self, speakers: Optional[torch.Tensor], batch: int) -> Optional[torch.Tensor]:
        if self.speaker_embedding is None:
            return None
        if speakers is None:
            raise ValueError("this model is conditioned on speakers: give a speaker index per item")
        speakers = torch.as_tensor(speakers, device=self.start_frame.device).long().view(-1)
        if speakers.numel() != batch or speakers.min() < 0 or speakers.max() >= self.num_speakers:
            raise ValueError(
                f"speaker indices must be {batch} values in [0, {self.num_speakers}); got {speakers.tolist()}"
            )
        return self.speaker_embedding(speakers).unsqueeze(1)  # [B, 1, d]

    def encode_text(
        self, units: torch.Tensor, unit_lens: torch.Tensor, speakers: Optional[torch.Tensor] = None
    ) -> Tuple[torch.Tensor, torch.Tensor, Optional[torch.Tensor]]:
        """Text memory ``[B, U, d]``, its padding mask and the speaker vector."""
        if units.dim() != 2 or units.shape[1] == 0:
            raise ValueError(f"units must be [batch, length>0]; got {tuple(units.shape)}")
        if units.min() < 0 or units.max() >= self.num_units:
            raise ValueError(f"text unit ids must be in [0, {self.num_units}); got [{units.min()}, {units.max()}]")
        padding = ~length_to_mask(relative_to_absolute(unit_lens, units.shape[1]), units.shape[1]).bool()
        x = self.text_embedding(units) * self.scale
        x = x + self.positions(x)
        speaker = self._speaker(speakers, units.shape[0])
        if speaker is not None:
            x = x + speaker
        return self.text_encoder(x, src_key_padding_mask=padding), padding, speaker

    def digit_values(self, digits: torch.Tensor) -> torch.Tensor:
        """Digits ``[..., D]`` -> values in ``(-1, 1)`` (the decoder's input)."""
        return (2 * digits.float() + 1) / self.levels - 1

    def _decode(self, previous: torch.Tensor, memory, memory_padding, speaker, frame_padding=None):
        """Decoder states of frames whose inputs are ``previous`` ``[B, N, d]``."""
        x = previous + self.positions(previous)
        if speaker is not None:
            x = x + speaker
        causal = torch.ones(x.shape[1], x.shape[1], dtype=torch.bool, device=x.device).triu(1)
        return self.frame_decoder(
            x,
            memory,
            tgt_mask=causal,
            tgt_is_causal=True,
            tgt_key_padding_mask=frame_padding,
            memory_key_padding_mask=memory_padding,
        )

    def _heads(self, states: torch.Tensor) -> TTSOutput:
        logits = self.digit_head(states).unflatten(-1, (self.num_digits, -1))
        logits = logits.float().masked_fill(self.invalid_levels, float("-inf"))
        return TTSOutput(logits, self.stop_head(states).squeeze(-1).float())

    def _inputs(self, digits: torch.Tensor) -> torch.Tensor:
        """Start vector, then the values of each frame but the last."""
        start = self.start_frame.expand(digits.shape[0], 1, -1)
        return torch.cat([start, self.frame_input(self.digit_values(digits[:, :-1]))], dim=1)

    # ------------------------------------------------------------- public
    def forward(
        self,
        units: torch.Tensor,
        unit_lens: torch.Tensor,
        digits: torch.Tensor,
        frame_lens: torch.Tensor,
        speakers: Optional[torch.Tensor] = None,
    ) -> TTSOutput:
        """Teacher forcing: ``digits`` ``[B, N, D]`` are the targets, and
        frame ``n`` sees frames ``< n``; lengths are relative."""
        if digits.dim() != 3 or digits.shape[-1] != self.num_digits:
            raise ValueError(f"digits must be [batch, frames, {self.num_digits}]; got {tuple(digits.shape)}")
        memory, memory_padding, speaker = self.encode_text(units, unit_lens, speakers)
        frame_padding = ~length_to_mask(relative_to_absolute(frame_lens, digits.shape[1]), digits.shape[1]).bool()
        states = self._decode(self._inputs(digits), memory, memory_padding, speaker, frame_padding)
        return self._heads(states)

    @torch.no_grad()
    def generate(
        self,
        units: torch.Tensor,
        unit_lens: torch.Tensor,
        speakers: Optional[torch.Tensor] = None,
        max_frames: Union[int, torch.Tensor] = 100,
        min_frames: int = 1,
        temperature: float = 1.0,
        top_k: int = 0,
        stop_threshold: float = 0.5,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Samples frames until each item's stop probability passes
        ``stop_threshold`` (after at least ``min_frames``) or it reaches
        ``max_frames`` (an int or one per item). Returns digits
        ``[B, N, D]`` (zeros past an item's end) and frame counts ``[B]``."""
        batch = units.shape[0]
        limit = torch.as_tensor(max_frames, device=units.device).long().expand(batch).clone()
        if (limit < 1).any():
            raise ValueError(f"max_frames must be >= 1; got {limit.tolist()}")
        memory, memory_padding, speaker = self.encode_text(units, unit_lens, speakers)
        counts = torch.zeros(batch, dtype=torch.long, device=units.device)
        done = torch.zeros(batch, dtype=torch.bool, device=units.device)
        inputs = self.start_frame.expand(batch, 1, -1)
        frames = []
        for step in range(int(limit.max())):
            out = self._heads(self._decode(inputs, memory, memory_padding, speaker)[:, -1:])
            digits = sample_digits(out.digit_logits[:, 0], temperature, top_k)  # [B, D]
            digits = digits.masked_fill(done.unsqueeze(-1), 0)
            frames.append(digits)
            counts += (~done).long()
            stop = (torch.sigmoid(out.stop_logits[:, 0]) > stop_threshold) & (step + 1 >= min_frames)
            done |= stop | (counts >= limit)
            if done.all():
                break
            inputs = torch.cat([inputs, self.frame_input(self.digit_values(digits)).unsqueeze(1)], dim=1)
        return torch.stack(frames, dim=1), counts


def tts_loss(
    output: TTSOutput,
    digits: torch.Tensor,
    frame_lens: torch.Tensor,
    stop_weight: float = 1.0,
    stop_pos_weight: float = 1.0,
) -> Tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """``(total, digit_nll, stop_bce)`` over the real frames: the mean
    negative log-likelihood of the target digits, plus ``stop_weight`` times
    the binary cross-entropy of the stop decision (1 on each item's last
    frame; ``stop_pos_weight`` weighs that one positive against the rest).

    Example
    -------
    >>> logits = torch.zeros(1, 2, 3, 4)  # uniform over 4 levels
    >>> total, nll, stop = tts_loss(TTSOutput(logits, torch.zeros(1, 2)), torch.zeros(1, 2, 3).long(),
    ...                             torch.ones(1))
    >>> round(float(nll), 4) == round(math.log(4), 4), round(float(stop), 4) == round(math.log(2), 4)
    (True, True)
    """
    batch, frames, num_digits, levels = output.digit_logits.shape
    log_probs = torch.log_softmax(output.digit_logits, dim=-1)
    nll = sb.nnet.losses.nll_loss(
        log_probs.reshape(batch, frames * num_digits, levels),
        digits.reshape(batch, -1),
        length=frame_lens,
    )
    last = relative_to_absolute(frame_lens, frames) - 1
    stop_targets = nn.functional.one_hot(last, frames).float()
    stop = sb.nnet.losses.bce_loss(
        output.stop_logits,
        stop_targets,
        length=frame_lens,
        pos_weight=torch.tensor(stop_pos_weight, device=output.stop_logits.device),
    )
    return nll + stop_weight * stop, nll, stop
