"""Semantic supervision of a codec's codes, used in training only: a CTC head
that reads the transcript's characters from the decoder's hidden frames, and
a feature head that predicts a frozen teacher's features (e.g. the Whisper
encoder's) from them. Both shape what the codes carry; neither is part of an
exported model, and decoding needs neither a transcript nor a teacher.

Authors
 * jepa-tokenizer team 2026
"""

from typing import TYPE_CHECKING, Dict, List, NamedTuple, Optional, Sequence

import torch
from torch import nn
from torch.nn import functional as F

from jepa_tokenizer.training.jepa import time_standardized

if TYPE_CHECKING:
    from jepa_tokenizer.models.mel_codec import MelDecoderOutput

__all__ = ["CTCHead", "FeatureHead", "SupervisedMelCodec", "SupervisedOutput", "frame_mask"]


def frame_mask(counts: torch.Tensor, frames: int) -> torch.Tensor:
    """``[B, frames]`` boolean mask, True on each item's first ``counts`` frames.

    Example
    -------
    >>> frame_mask(torch.tensor([2, 3]), 3).tolist()
    [[True, True, False], [True, True, True]]
    """
    return torch.arange(frames, device=counts.device).unsqueeze(0) < counts.unsqueeze(1)


class CTCHead(nn.Module):
    """Hidden frames ``[B, N, D]`` -> log-probabilities ``[B, N * upsample, 1 + len(characters)]``
    (index 0 the CTC blank), and the CTC loss against transcripts.

    Each hidden frame becomes ``upsample`` frames (one linear layer makes all
    of them), so that a sequence slower than its characters can still be read
    by CTC. Transcripts are upper-cased and characters outside ``characters``
    dropped (the recipe normalises them first, as the judges do).

    Arguments
    ---------
    input_dim : int
        Width of the hidden frames.
    characters : str
        The output characters (the word separator included).
    upsample : int
        Output frames per hidden frame.

    Example
    -------
    >>> head = CTCHead(input_dim=8, characters=" AB", upsample=2)
    >>> head(torch.randn(2, 5, 8)).shape
    torch.Size([2, 10, 4])
    >>> head.encode("a b!")
    [2, 1, 3]
    >>> loss = head.loss(torch.randn(2, 5, 8), torch.tensor([5, 3]), ["AB", "B A"])
    >>> loss.shape, bool(loss > 0)
    (torch.Size([]), True)
    """

    def __init__(self, input_dim: int, characters: str = " 'ABCDEFGHIJKLMNOPQRSTUVWXYZ", upsample: int = 2):
        super().__init__()
        if upsample < 1 or not characters or len(set(characters)) != len(characters):
            raise ValueError("CTCHead: upsample must be >= 1 and characters a non-empty string without repeats")
        self.characters = characters
        self.upsample = upsample
        self.index = {c: i + 1 for i, c in enumerate(characters)}
        self.proj = nn.Linear(input_dim, upsample * (len(characters) + 1))

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """``[B, N, D]`` -> ``[B, N * upsample, V]`` log-probabilities (float32)."""
        logits = self.proj(hidden).float()
        return logits.reshape(hidden.shape[0], hidden.shape[1] * self.upsample, -1).log_softmax(-1)

    def encode(self, text: str) -> List[int]:
        """The label ids of a transcript (upper-cased; unknown characters dropped)."""
        return [self.index[c] for c in text.upper() if c in self.index]

    def loss(self, hidden: torch.Tensor, counts: torch.Tensor, texts: Sequence[str]) -> torch.Tensor:
        """Mean over items of the CTC loss per label (an item whose frames
        cannot hold its labels adds 0)."""
        log_probs = self(hidden)
        labels = [torch.tensor(self.encode(t), dtype=torch.long) for t in texts]
        lengths = torch.tensor([len(x) for x in labels], dtype=torch.long)
        return F.ctc_loss(
            log_probs.transpose(0, 1),
            torch.cat(labels).to(log_probs.device),
            (counts * self.upsample).to(torch.long).cpu(),
            lengths,
            zero_infinity=True,
        )

    @torch.no_grad()
    def greedy(self, hidden: torch.Tensor, counts: torch.Tensor) -> List[str]:
        """Best-path transcripts (repeats merged, blanks dropped)."""
        best = self(hidden).argmax(-1).cpu()
        texts = []
        for row, frames in zip(best, (counts * self.upsample).tolist()):
            ids = torch.unique_consecutive(row[: int(frames)]).tolist()
            texts.append("".join(self.characters[i - 1] for i in ids if i))
        return texts


class FeatureHead(nn.Module):
    """Hidden frames ``[B, N, D]`` -> ``[B, N * upsample, teacher_dim]``
    predictions of a teacher's features, with a cosine loss.

    Arguments
    ---------
    input_dim : int
        Width of the hidden frames.
    teacher_dim : int
        Width of the teacher's features.
    upsample : int
        Teacher frames per hidden frame (e.g. 4 for 50 Hz features from
        12.5 Hz frames).
    normalize_teacher : bool
        Standardise each teacher dimension over the utterance first (Whisper's
        encoder has a few dimensions ten times wider than the rest, which
        would otherwise rule the cosine).

    Example
    -------
    >>> head = FeatureHead(input_dim=8, teacher_dim=6, upsample=4)
    >>> head(torch.randn(2, 3, 8)).shape
    torch.Size([2, 12, 6])
    >>> teacher = torch.randn(2, 12, 6)
    >>> loss = head.loss(torch.randn(2, 3, 8), torch.tensor([3, 2]), teacher, torch.tensor([12, 7]))
    >>> 0.0 <= float(loss) <= 2.0
    True
    """

    def __init__(self, input_dim: int, teacher_dim: int, upsample: int = 4, normalize_teacher: bool = False):
        super().__init__()
        if upsample < 1:
            raise ValueError(f"FeatureHead: upsample must be >= 1; got {upsample}")
        self.upsample = upsample
        self.normalize_teacher = normalize_teacher
        self.proj = nn.Linear(input_dim, upsample * teacher_dim)

    def forward(self, hidden: torch.Tensor) -> torch.Tensor:
        """``[B, N, D]`` -> ``[B, N * upsample, teacher_dim]``."""
        out = self.proj(hidden)
        return out.reshape(hidden.shape[0], hidden.shape[1] * self.upsample, -1)

    def loss(
        self, hidden: torch.Tensor, counts: torch.Tensor, teacher: torch.Tensor, teacher_counts: torch.Tensor
    ) -> torch.Tensor:
        """Mean of ``1 - cosine`` over the frames both the prediction and the
        teacher have (``teacher``: ``[B, M, teacher_dim]``, ``teacher_counts``
        its real frames)."""
        pred = self(hidden).float()
        frames = min(pred.shape[1], teacher.shape[1])
        pred, teacher = pred[:, :frames], teacher[:, :frames].to(pred)
        real = torch.minimum(counts * self.upsample, teacher_counts.to(counts.device))
        if self.normalize_teacher:
            teacher = time_standardized(teacher, real)
        mask = frame_mask(real, frames).to(pred)
        cosine = F.cosine_similarity(pred, teacher, dim=-1)
        return ((1 - cosine) * mask).sum() / mask.sum().clamp(min=1)


class SupervisedOutput(NamedTuple):
    """``SupervisedMelCodec``'s forward: the decoder's output, the real mel
    frames per item, and each loss term by name (``mel_l1``, ``ctc``, ``teacher``)."""

    decoded: "MelDecoderOutput"
    counts: torch.Tensor
    terms: Dict[str, torch.Tensor]


class SupervisedMelCodec(nn.Module):
    """A codec with a :class:`MelEncoder` and :class:`MelDecoder` and its
    training-only heads, in one module with one forward (so DDP wraps the
    whole training graph): log-mel frames -> codes -> decoded log-mel, with
    the L1 term and each supervision term that is asked for.

    Arguments
    ---------
    codec : JEPACodec
        The codec (log-mel encoder and decoder).
    ctc_head : CTCHead, optional
        Reads the transcript from the decoder's hidden frames (only a head
        that is used belongs here: DDP wants every parameter to get a gradient).
    feature_head : FeatureHead, optional
        Predicts the teacher's features from them.
    supervised_stage : int
        The decoder stage whose hidden frames the heads read.

    Example
    -------
    >>> from jepa_tokenizer.models.codec import JEPACodec
    >>> from jepa_tokenizer.models.mel_codec import GriffinLim, MelDecoder, MelEncoder
    >>> from jepa_tokenizer.quantization.fsq import FSQ
    >>> from jepa_tokenizer.quantization.packing import MixedRadixPacker
    >>> small = dict(stage_dims=[8, 8], stage_layers=[1, 1], heads=2, conv_dim=8)
    >>> codec = JEPACodec(MelEncoder(code_dim=7, **small), FSQ(levels=4, dim=7),
    ...                   MixedRadixPacker(radices=4, num_digits=7, group_size=7),
    ...                   MelDecoder(code_dim=7, vocoder=GriffinLim(iterations=1), **small))
    >>> model = SupervisedMelCodec(codec, CTCHead(8), FeatureHead(8, 4), supervised_stage=1)
    >>> out = model(torch.randn(2, 80, 50) - 4, torch.tensor([50, 30]), texts=["HI", "A"])
    >>> sorted(out.terms), out.decoded.log_mel.shape
    (['ctc', 'mel_l1'], torch.Size([2, 80, 50]))
    """

    def __init__(
        self,
        codec: nn.Module,
        ctc_head: Optional[CTCHead] = None,
        feature_head: Optional[FeatureHead] = None,
        supervised_stage: int = 1,
    ):
        super().__init__()
        self.codec = codec
        self.ctc_head = ctc_head
        self.feature_head = feature_head
        self.supervised_stage = supervised_stage

    def forward(
        self,
        log_mel: torch.Tensor,
        counts: torch.Tensor,
        texts: Optional[Sequence[str]] = None,
        teacher: Optional[torch.Tensor] = None,
        teacher_counts: Optional[torch.Tensor] = None,
    ) -> SupervisedOutput:
        """``log_mel``: ``[B, n_mels, F]`` (``F`` whole code frames), ``counts``:
        real mel frames; the CTC term with ``texts`` (normalised), the teacher
        term with ``teacher`` ``[B, M, D]`` and its ``teacher_counts``."""
        codec = self.codec
        enc = codec.encoder.encode_log_mel(log_mel, counts)
        codes = codec.quantize(enc.latents).codes
        if self.training:
            codes = codec.training_codes(enc.latents, codes)
        decoded = codec.decoder.decode_mel(codes, enc.counts)
        mask = frame_mask(counts, log_mel.shape[-1]).unsqueeze(1).to(log_mel)
        error = (decoded.log_mel.float() - log_mel.float()).abs() * mask
        terms = {"mel_l1": error.sum() / (mask.sum() * log_mel.shape[1])}
        hidden = decoded.hidden[self.supervised_stage]
        hidden_counts = decoded.counts[self.supervised_stage]
        if hidden_counts is None:
            hidden_counts = torch.full((hidden.shape[0],), hidden.shape[1], device=hidden.device)
        if texts is not None:
            if self.ctc_head is None:
                raise ValueError("SupervisedMelCodec: texts given but there is no CTC head")
            terms["ctc"] = self.ctc_head.loss(hidden, hidden_counts, texts)
        if teacher is not None:
            if self.feature_head is None:
                raise ValueError("SupervisedMelCodec: teacher features given but there is no feature head")
            terms["teacher"] = self.feature_head.loss(hidden, hidden_counts, teacher, teacher_counts)
        return SupervisedOutput(decoded, counts, terms)
