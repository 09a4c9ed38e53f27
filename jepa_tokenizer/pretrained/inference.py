"""``JEPATokenizer``: the SpeechBrain pretrained-model interface of a trained codec.

Authors
 * jepa-tokenizer team 2026
"""

import math
from pathlib import Path
from typing import Mapping, NamedTuple, Optional, Union

import torch
from speechbrain.inference.interfaces import Pretrained

from jepa_tokenizer.data.atomic import file_digest
from jepa_tokenizer.data.audio import LONG_AUDIO_SECONDS, check_audio_output, load_audio, save_audio_pieces
from jepa_tokenizer.data.token_file import codec_header, escape_text, load_tokens, model_fingerprint, save_tokens

__all__ = ["EncodedAudio", "JEPATokenizer", "DEFAULT_MODEL", "default_model_folder"]


#: The model shipped in the package: jepa_mini.yaml trained on mini LibriSpeech
#: (README, "The shipped model"), float16 weights.
DEFAULT_MODEL = Path(__file__).resolve().parent / "models" / "jepa_mini_librispeech"


def default_model_folder() -> Path:
    """The shipped model's folder; a clear error if this install lacks it."""
    if not (DEFAULT_MODEL / "codec.ckpt").is_file():
        raise FileNotFoundError(
            f"the shipped model is missing from this install ({DEFAULT_MODEL}); give a model folder"
        )
    return DEFAULT_MODEL


class EncodedAudio(NamedTuple):
    """Tokens of one file and what was done to its audio first."""

    tokens: torch.Tensor  # [N, tokens_per_frame] int64
    num_samples: int  # samples at the model's rate, before padding to whole frames
    conversion: str  # e.g. "downmixed 2 channels to mono, resampled 44100 -> 16000 Hz"


class JEPATokenizer(Pretrained):
    """Audio to tokens and back with an exported codec folder.

    ``JEPATokenizer.from_hparams(source=<folder>)`` loads the folder written by
    ``jepa_tokenizer.pretrained.export.export_codec`` (or by the codec recipe).

    Example
    -------
    >>> import tempfile
    >>> from jepa_tokenizer.models.config import load_model_config
    >>> from jepa_tokenizer.pretrained.export import export_codec
    >>> folder = export_codec(load_model_config("jepa_tiny.yaml")["codec"], tempfile.mkdtemp())
    >>> tok = JEPATokenizer.from_hparams(source=str(folder), savedir=tempfile.mkdtemp())
    >>> tokens = tok.encode_batch(torch.randn(2, 16000) * 0.1)
    >>> tokens.shape, tok.decode_batch(tokens).shape
    (torch.Size([2, 3, 3]), torch.Size([2, 19200]))
    >>> tok.unflatten(tok.flatten(tokens)).equal(tokens)
    True
    """

    MODULES_NEEDED = ["codec"]

    @classmethod
    def from_folder(
        cls,
        folder: Optional[Union[str, Path]] = None,
        device: str = "cpu",
        limits: Optional[Mapping] = None,
        max_bytes: Optional[int] = None,
    ) -> "JEPATokenizer":
        """Loads an exported folder without running code the folder chose
        (``jepa_tokenizer.pretrained.safe_load``): what the command line and
        the DASB adapter use. ``from_hparams`` (SpeechBrain's hyperpyyaml
        path) runs whatever the folder's YAML names: only for folders you trust.
        Without ``folder``: the model shipped in the package
        (:data:`DEFAULT_MODEL`, trained on mini LibriSpeech). ``limits`` and
        ``max_bytes`` raise the size limits (``safe_load.load_codec``) for a
        large model you trust.

        Example
        -------
        >>> import tempfile
        >>> from jepa_tokenizer.models.config import load_model_config
        >>> from jepa_tokenizer.pretrained.export import export_codec
        >>> folder = export_codec(load_model_config("jepa_tiny.yaml")["codec"], tempfile.mkdtemp())
        >>> JEPATokenizer.from_folder(folder).tokens_per_frame
        3
        """
        from jepa_tokenizer.pretrained.safe_load import MAX_MODEL_BYTES, load_codec

        if folder is None:
            folder = default_model_folder()
        codec = load_codec(folder, limits=limits, max_bytes=max_bytes or MAX_MODEL_BYTES)
        tokenizer = cls(modules={"codec": codec}, hparams={}, run_opts={"device": device})
        tokenizer.source = str(Path(folder).resolve())
        return tokenizer

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # the fingerprint of the weights as exported, then inference-only speed-ups (same outputs)
        self._fingerprint = model_fingerprint(self.codec)
        self.codec.fold_for_inference()

    @property
    def codec(self):
        """The loaded ``JEPACodec``."""
        return self.mods.codec

    @property
    def sample_rate(self) -> int:
        """Sample rate of the audio in and out."""
        return self.codec.sample_rate

    @property
    def tokens_per_frame(self) -> int:
        """Tokens per frame."""
        return self.codec.tokens_per_frame

    @torch.no_grad()
    def encode_batch(self, wavs: torch.Tensor, wav_lens: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``[B, T]`` audio at ``sample_rate`` -> ``[B, N, tokens_per_frame]`` int64."""
        wavs = wavs.to(self.device)
        if wav_lens is not None:
            wav_lens = wav_lens.to(self.device)
        return self.codec.encode(wavs, wav_lens)

    @torch.no_grad()
    def decode_batch(
        self,
        tokens: torch.Tensor,
        lens: Optional[torch.Tensor] = None,
        num_samples: Optional[int] = None,
    ) -> torch.Tensor:
        """``[B, N, tokens_per_frame]`` tokens -> ``[B, N * hop]`` audio (or ``num_samples``)."""
        return self.codec.decode(tokens.to(self.device), lens, num_samples)

    def encode_file(
        self,
        path: Union[str, Path],
        chunk_seconds: Optional[float] = None,
        context_seconds: float = 4.0,
        max_seconds: Optional[float] = None,
    ) -> EncodedAudio:
        """Tokens of an audio file of any rate or channel count (converted first).

        Files are encoded chunk by chunk, ``chunk_seconds`` at a time with
        ``context_seconds`` of audio on each side, in bounded memory (see
        ``JEPACodec.encode_long`` for how that relates to whole-file tokens):
        by default (None) those longer than :data:`LONG_AUDIO_SECONDS`, in
        chunks of that length; ``chunk_seconds=0`` encodes any file in one
        piece. A file longer than ``max_seconds`` is refused from its header.

        Example
        -------
        >>> import tempfile, os
        >>> from jepa_tokenizer.data.audio import save_audio
        >>> from jepa_tokenizer.models.config import load_model_config
        >>> from jepa_tokenizer.pretrained.export import export_codec
        >>> tok = JEPATokenizer.from_folder(export_codec(load_model_config("jepa_tiny.yaml")["codec"], tempfile.mkdtemp()))
        >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
        >>> save_audio(path, torch.randn(32000) * 0.1, 16000)
        >>> tok.encode_file(path).tokens.equal(tok.encode_file(path, chunk_seconds=0).tokens)  # 2 s: one piece
        True
        >>> tok.encode_file(path, chunk_seconds=0.4).tokens.shape
        torch.Size([5, 3])
        """
        if chunk_seconds is not None and not (math.isfinite(chunk_seconds) and chunk_seconds >= 0):
            raise ValueError(f"chunk_seconds must be >= 0 (0: one piece); got {chunk_seconds}")
        audio = load_audio(path, self.sample_rate, max_seconds=max_seconds)
        wav = audio.wav.to(self.device)
        if chunk_seconds is None:
            chunk_seconds = LONG_AUDIO_SECONDS if wav.numel() > LONG_AUDIO_SECONDS * self.sample_rate else 0
        if chunk_seconds == 0:
            tokens = self.encode_batch(wav.unsqueeze(0))[0]
        else:
            rate = self.codec.frame_rate
            tokens = self.codec.encode_long(wav, max(1, round(chunk_seconds * rate)), round(context_seconds * rate))
        return EncodedAudio(tokens.cpu(), audio.wav.numel(), audio.describe())

    def decode_to_file(
        self,
        tokens: torch.Tensor,
        path: Union[str, Path],
        num_samples: Optional[int] = None,
        chunk_frames: Optional[int] = None,
        source_digest: Optional[str] = None,
    ) -> Path:
        """Decodes ``[N, K]`` (or ``[1, N, K]``) tokens into an audio file.

        With ``chunk_frames`` (the default of the command line) the audio is
        decoded and written chunk by chunk, with the decoder's receptive field
        as context: memory is bounded whatever the length, and the audio
        equals whole-file decoding (within float tolerance). Without it the
        whole file is decoded at once. Either way the file appears only once
        complete; ``source_digest`` (of the token file) is recorded in it."""
        check_audio_output(path)
        if tokens.dim() == 2:
            tokens = tokens.unsqueeze(0)
        if tokens.dim() != 3 or tokens.shape[0] != 1:
            raise ValueError(f"decode_to_file takes one item: [N, K] or [1, N, K]; got {tuple(tokens.shape)}")
        if chunk_frames is None:
            pieces = [self.decode_batch(tokens, num_samples=num_samples)[0]]
        else:
            self.codec.packer.check_tokens(tokens)
            if num_samples is not None and not 1 <= num_samples <= tokens.shape[1] * self.codec.hop_length:
                raise ValueError(
                    f"num_samples must be in [1, {tokens.shape[1] * self.codec.hop_length}] for {tokens.shape[1]} "
                    f"frames; got {num_samples}"
                )
            pieces = self.codec.decode_chunks(tokens[0].to(self.device), chunk_frames, num_samples=num_samples)
        return save_audio_pieces(path, pieces, self.sample_rate, source_digest)

    @property
    def fingerprint(self) -> str:
        """Fingerprint of the loaded weights, stored in token files."""
        if getattr(self, "_fingerprint", None) is None:
            self._fingerprint = model_fingerprint(self.codec)
        return self._fingerprint

    def encode_to_token_file(
        self,
        audio_path: Union[str, Path],
        token_path: Union[str, Path],
        chunk_seconds: Optional[float] = None,
        max_seconds: Optional[float] = None,
    ) -> EncodedAudio:
        """Encodes an audio file and writes a token file (see ``token_file``)
        that records the digest of the audio file (``source_sha256``)."""
        encoded = self.encode_file(audio_path, chunk_seconds, max_seconds=max_seconds)
        header = codec_header(self.codec, encoded.num_samples, str(getattr(self, "source", "")))
        header["fingerprint"] = self.fingerprint
        header["conversion"] = encoded.conversion
        header["source_sha256"] = file_digest(audio_path)
        save_tokens(token_path, encoded.tokens, header)
        return encoded

    def decode_token_file(
        self,
        token_path: Union[str, Path],
        audio_path: Union[str, Path],
        chunk_frames: Optional[int] = None,
    ) -> Path:
        """Decodes a token file made by this model into an audio file of the
        original length that records the token file's digest; a file made by
        another model is an error (its header's text escaped)."""
        loaded = load_tokens(token_path)
        made_by = loaded.header.get("fingerprint")
        if made_by != self.fingerprint:
            named = loaded.header.get("model_source")
            raise ValueError(
                f"{token_path} was made by model {escape_text(made_by, 40)}, not this one ({self.fingerprint}); "
                "decode it with "
                + (
                    f"that model's folder (the file names {escape_text(named)}; load only a folder you trust)"
                    if named
                    else "its model"
                )
            )
        if "num_samples" not in loaded.header:
            raise ValueError(f"{token_path} is corrupt: its header lacks num_samples")
        return self.decode_to_file(
            loaded.tokens,
            audio_path,
            num_samples=loaded.header["num_samples"],
            chunk_frames=chunk_frames,
            source_digest=file_digest(token_path),
        )

    def flatten(self, tokens: torch.Tensor) -> torch.Tensor:
        """``[B, N, K]`` -> ``[B, N * K]``, frame by frame (for language models)."""
        self.codec.packer.check_tokens(tokens)
        return tokens.reshape(tokens.shape[0], -1)

    def unflatten(self, flat: torch.Tensor) -> torch.Tensor:
        """``[B, N * K]`` -> ``[B, N, K]``; a length that is not whole frames is an error."""
        k = self.tokens_per_frame
        if flat.dim() != 2 or flat.shape[1] % k:
            raise ValueError(f"flat tokens must have shape [batch, frames * {k}]; got {tuple(flat.shape)}")
        tokens = flat.reshape(flat.shape[0], -1, k)
        self.codec.packer.check_tokens(tokens)
        return tokens
