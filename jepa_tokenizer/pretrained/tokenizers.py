"""One interface for every audio tokenizer a downstream recipe can use.

The interface is that of SpeechBrain's discrete audio benchmark (DASB):
``sig_to_tokens(signal [B, T], lengths [B]) -> tokens [B, N, K]``,
``tokens_to_sig(tokens [B, N, K]) -> signal [B, T]`` and
``get_pretrained_embeddings(vocab_size, num_codebooks) -> [K * C, H]``, plus
``sample_rate``, ``frame_rate``, ``num_codebooks`` and ``vocab_size``, so a
recipe picks its tokenizer in YAML (``!new:jepa_tokenizer.pretrained.tokenizers...``)
and never branches on it:

- ``JEPADASBTokenizer``: ours, from an exported model folder (or a codec);
  it also gives the continuous latents before quantization (the upper bound
  of a downstream task);
- ``EncodecDASBTokenizer``, ``MimiDASBTokenizer``: SpeechBrain's Hugging Face
  wrappers (weights from the hub, or a local folder: tests save a
  random-weight model there);
- ``DACDASBTokenizer``: SpeechBrain's DAC (``load_pretrained`` downloads);
- ``SpeechTokenizerDASBTokenizer``: SpeechTokenizer through SpeechBrain's
  wrapper (``pip install speechtokenizer``);
- ``DiscreteSSLDASBTokenizer``: k-means units of SSL layers (WavLM, HuBERT,
  wav2vec 2.0) with SpeechBrain's unit HiFi-GAN as decoder.

SpeechBrain's wrappers return codebooks in different layouts; the classes
here only reorder them. Downloads go through ``huggingface_hub``: with
``HF_HUB_OFFLINE=1`` a filled cache is used as is (the tests build one with
random weights).

Authors
 * jepa-tokenizer team 2026
"""

import math
import tempfile
from typing import Optional, Sequence

import torch
from torch import nn

from jepa_tokenizer.nn.lengths import relative_to_absolute

__all__ = [
    "DASBTokenizer",
    "JEPADASBTokenizer",
    "EncodecDASBTokenizer",
    "MimiDASBTokenizer",
    "DACDASBTokenizer",
    "SpeechTokenizerDASBTokenizer",
    "DiscreteSSLDASBTokenizer",
    "build_tokenizer",
]


class DASBTokenizer(nn.Module):
    """Base class: the DASB methods and the facts a recipe needs."""

    sample_rate: int
    frame_rate: float
    num_codebooks: int
    vocab_size: int
    name = "tokenizer"

    @property
    def tokens_per_second(self) -> float:
        """Tokens per second of audio (all codebooks)."""
        return self.frame_rate * self.num_codebooks

    @property
    def bitrate(self) -> float:
        """Bits per second at a uniform code distribution."""
        return self.tokens_per_second * math.log2(self.vocab_size)

    def sig_to_tokens(self, signal, lengths=None, num_codebooks=None, **kwargs):  # pragma: no cover
        raise NotImplementedError

    def tokens_to_sig(self, tokens, lengths=None, **kwargs):  # pragma: no cover
        raise NotImplementedError

    def get_pretrained_embeddings(self, vocab_size=None, num_codebooks=None, **kwargs):  # pragma: no cover
        raise NotImplementedError

    def _first_codebooks(self, tokens: torch.Tensor, num_codebooks: Optional[int]) -> torch.Tensor:
        if num_codebooks is None:
            return tokens
        if num_codebooks > tokens.shape[-1]:
            raise ValueError(f"{self.name} has {tokens.shape[-1]} codebooks; {num_codebooks} requested")
        return tokens[..., :num_codebooks]

    def _check_codebooks(self, requested: int, available: int) -> None:
        """At construction: ``requested`` codebooks of a model that has ``available``."""
        if not 1 <= requested <= available:
            raise ValueError(f"{self.name} has {available} codebooks; {requested} requested")

    def _fit_length(self, signal: torch.Tensor, frames: int) -> torch.Tensor:
        """``[B, T]`` decoder output cut or zero-padded to ``frames`` frames of audio."""
        samples = round(frames * self.sample_rate / self.frame_rate)
        return nn.functional.pad(signal, (0, samples - signal.shape[-1]))


class JEPADASBTokenizer(DASBTokenizer):
    """Our codec behind the DASB interface.

    DASB's recipes call ``sig_to_tokens(signal, lengths, num_codebooks=K)``,
    cut each item with SpeechBrain's ``undo_padding`` (which keeps
    ``round(rel_len * N)`` frames) and train CTC on the frames. At 2.5
    frames/s an utterance has fewer frames than characters, so
    ``repeat_frames`` repeats each frame (the frame rate DASB sees is
    ``2.5 * repeat_frames``; the bit rate stays the codec's).

    Frame counts are the codec's at the repeated rate: an item of ``T``
    samples has ``ceil(T * repeat_frames / hop)`` frames (``num_frames``),
    and the positions past its end hold copies of its last frame. Whatever
    the batch, ``undo_padding`` then keeps the item's own frames give or
    take one at the end: an extra one is a copy of its last frame (never
    padding or another item's), a missing one is one of the ``R`` copies
    of its last codec frame, or that frame itself when it holds less than
    ``hop / (2 R)`` samples of audio (12.5 ms at ``R = 16``). Exact
    equality in every batch is not possible for any count rule
    (``round(T_i / T_max * f(T_max))`` cannot equal a whole-number
    ``f(T_i)`` for all pairs unless ``f`` counts samples): extract with
    ``batch_size: 1`` when the tokens must be exactly those of each file
    alone.

    Arguments
    ---------
    source : str, optional
        Exported model folder (``hyperparams.yaml`` + ``codec.ckpt``);
        neither this nor ``codec``: the shipped model (jepa_mini_librispeech).
    codec : JEPACodec, optional
        A codec object instead of ``source``.
    untrained : bool
        With ``source``: the folder's architecture with fresh random weights
        (seeded by ``seed``), the lower bound of a downstream task.
    seed : int
        Seed of the untrained weights.
    device : str
        Where the codec runs (settable later: ``tok.device = "cuda"``).
    repeat_frames : int
        Each codec frame is given this many times (1: as the codec makes
        them; 16 gives 40 frames/s, enough for character CTC).

    Example
    -------
    >>> from jepa_tokenizer.models.config import load_model_config
    >>> tok = JEPADASBTokenizer(codec=load_model_config("jepa_tiny.yaml")["codec"])
    >>> tokens = tok.sig_to_tokens(torch.randn(2, 16000) * 0.1, torch.tensor([1.0, 0.5]))
    >>> tokens.shape, tok.tokens_to_sig(tokens).shape
    (torch.Size([2, 3, 3]), torch.Size([2, 19200]))
    >>> tok.get_pretrained_embeddings().shape  # 3 positions x 16384 tokens, 7 digits each
    torch.Size([49152, 7])
    >>> tok.latents(torch.randn(1, 16000)).shape
    torch.Size([1, 3, 16])
    >>> fine = JEPADASBTokenizer(codec=tok.codec, repeat_frames=4)
    >>> fine.frame_rate, fine.sig_to_tokens(torch.randn(1, 16000) * 0.1).shape
    (10.0, torch.Size([1, 10, 3]))
    """

    name = "jepa"

    def __init__(
        self,
        source: Optional[str] = None,
        codec=None,
        untrained: bool = False,
        seed: int = 0,
        device: str = "cpu",
        repeat_frames: int = 1,
    ):
        super().__init__()
        if source is not None and codec is not None:
            raise ValueError("give an exported model folder (source) or a codec, not both")
        if source is None and codec is None:
            from jepa_tokenizer.pretrained.inference import default_model_folder

            source = default_model_folder()  # the shipped model
        if isinstance(repeat_frames, bool) or not isinstance(repeat_frames, int) or repeat_frames < 1:
            raise ValueError(f"repeat_frames must be a whole number >= 1; got {repeat_frames!r}")
        if untrained and codec is None:
            from jepa_tokenizer.pretrained.safe_load import build_module, read_plain_yaml

            torch.manual_seed(seed)
            # the architecture, read safely; weights not loaded
            codec = build_module(read_plain_yaml(f"{source}/hyperparams.yaml"), "codec")
            codec.fold_for_inference()  # as a loaded folder runs it
        elif codec is None:
            from jepa_tokenizer.pretrained.inference import JEPATokenizer

            codec = JEPATokenizer.from_folder(str(source), device).codec
        self.codec = codec.to(device).eval().requires_grad_(False)
        self.repeat_frames = repeat_frames
        self.sample_rate = codec.sample_rate
        self.frame_rate = codec.frame_rate * repeat_frames
        self.num_codebooks = codec.tokens_per_frame
        self.vocab_size = codec.vocab_size

    @property
    def bitrate(self) -> float:
        """Bits per second of the FSQ digits at the codec's own frame rate
        (repeated frames carry nothing new; a frame's last token may hold
        fewer digits)."""
        return self.codec.bitrate

    @property
    def tokens_per_second(self) -> float:
        """Tokens per second of audio at the codec's own frame rate."""
        return self.codec.tokens_per_second

    @property
    def device(self) -> torch.device:
        """Device of the codec; assigning one moves it (DASB's TTS recipes do)."""
        return next(self.codec.parameters()).device

    @device.setter
    def device(self, value) -> None:
        self.codec.to(value)

    def num_frames(self, samples: int) -> int:
        """Frames DASB gets for ``samples`` of audio: ``ceil(samples * R / hop)``."""
        return -(-int(samples) * self.repeat_frames // self.codec.hop_length)

    def _check_request(self, num_codebooks=None, vocab_size=None) -> None:
        """DASB's ``num_codebooks`` / ``vocab_size`` against what the tokens are."""
        if isinstance(num_codebooks, (list, tuple)):
            raise ValueError(
                f"num_codebooks={list(num_codebooks)}: a list picks SSL layers in DASB; "
                f"JEPA has one stream of {self.num_codebooks} tokens per frame (num_codebooks: {self.num_codebooks})"
            )
        if num_codebooks is not None and num_codebooks != self.num_codebooks:
            raise ValueError(
                f"num_codebooks={num_codebooks}: JEPA tokens are not coarse-to-fine codebooks; "
                f"a frame is its {self.num_codebooks} tokens together (num_codebooks: {self.num_codebooks})"
            )
        if vocab_size is not None and vocab_size != self.vocab_size:
            raise ValueError(f"vocab_size={vocab_size}: this model's tokens take {self.vocab_size} values")

    @torch.no_grad()
    def sig_to_tokens(self, signal, lengths=None, num_codebooks=None, **kwargs):
        """``[B, T]`` audio at ``sample_rate`` -> ``[B, N, K]`` tokens,
        ``N = num_frames(T)``; an item's positions past its end repeat its
        last frame."""
        self._check_request(num_codebooks)
        self.codec.eval()
        lengths = None if lengths is None else lengths.to(self.device)
        tokens, counts = self.codec.encode(signal.to(self.device), lengths, return_counts=True)
        positions = torch.arange(self.num_frames(signal.shape[-1]), device=tokens.device)
        frame = torch.minimum(positions.view(1, -1) // self.repeat_frames, counts.view(-1, 1) - 1)  # [B, N]
        return torch.gather(tokens, 1, frame.unsqueeze(-1).expand(-1, -1, tokens.shape[-1]))

    def codec_frames(self, tokens: torch.Tensor, lengths: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``[B, N, K]`` tokens at the repeated rate -> ``[B, ceil(N / R), K]``
        codec frames (the first of each group of ``R``); a group whose frames
        differ within an item's real length is a ``ValueError``."""
        R = self.repeat_frames
        if tokens.dim() != 3 or tokens.shape[-1] != self.num_codebooks:
            raise ValueError(f"tokens must be [B, N, {self.num_codebooks}]; got {tuple(tokens.shape)}")
        if R == 1:
            return tokens
        N = tokens.shape[1]
        real = torch.full((tokens.shape[0],), N, device=tokens.device)
        if lengths is not None:
            real = relative_to_absolute(lengths.to(tokens.device), N)
        first = tokens[:, ::R]  # [B, G, K]
        expected = first.repeat_interleave(R, dim=1)[:, :N]
        inside = torch.arange(N, device=tokens.device).view(1, -1) < real.view(-1, 1)
        differs = ((expected != tokens).any(-1) & inside).nonzero()
        if len(differs):
            item, position = differs[0].tolist()
            group = position // R
            raise ValueError(
                f"frames {group * R}-{min(N, group * R + R) - 1} of item {item} differ within a group of "
                f"repeat_frames={R}: not tokens of this tokenizer"
            )
        return first

    @torch.no_grad()
    def tokens_to_sig(self, tokens, lengths=None, **kwargs):
        """``[B, N, K]`` tokens -> ``[B, ceil(N / R) * hop]`` audio."""
        self.codec.eval()
        fine = tokens.to(self.device)
        tokens = self.codec_frames(fine, lengths)
        if lengths is not None:  # relative to the codec frames: ceil(real / R) of ceil(N / R)
            real = relative_to_absolute(lengths.to(self.device), fine.shape[1])
            lengths = -(-real // self.repeat_frames) / tokens.shape[1]
        return self.codec.decode(tokens, lengths)

    @torch.no_grad()
    def latents(self, signal, lengths=None) -> torch.Tensor:
        """Continuous encoder output before FSQ: ``[B, N, code_dim]`` (at the
        codec's frame rate)."""
        self.codec.eval()
        lengths = None if lengths is None else lengths.to(self.device)
        return self.codec.encoder(signal.to(self.device), lengths).latents

    @torch.no_grad()
    def get_pretrained_embeddings(self, vocab_size=None, num_codebooks=None, device=None, **kwargs):
        """``[K * C, G]``: the FSQ values of the G digits each token stands for
        (zeros where a token position holds fewer digits); row ``k * C + c``
        is token ``c`` at position ``k`` (DASB's offsets). DASB's
        ``encoder_dim`` is ``G``."""
        self._check_request(num_codebooks, vocab_size)
        packer, fsq = self.codec.packer, self.codec.quantizer
        K, C = self.num_codebooks, self.vocab_size
        values = torch.arange(C, device=self.device).view(C, 1, 1)
        place, radix = packer.place_values.to(self.device), packer.radix_table.to(self.device)  # [K, G]
        digits = torch.div(values, place, rounding_mode="floor") % radix  # [C, K, G]; out-of-range tokens wrap
        group = digits.shape[-1]
        flat = digits.reshape(C, K * group)[:, : packer.num_digits]
        codes = fsq.digits_to_codes(flat)  # [C, num_digits]
        codes = nn.functional.pad(codes, (0, K * group - packer.num_digits))
        table = codes.reshape(C, K, group).transpose(0, 1).reshape(K * C, group).float()
        return table if device is None else table.to(device)


class _HFCodecTokenizer(DASBTokenizer):
    """SpeechBrain's Hugging Face codec wrappers, which differ only in the
    order of the codebook and time axes and the name of the code table."""

    codebooks_first = False  # tokens of the wrapper: [B, K, N] instead of [B, N, K]
    table = "vocabulary"

    def _setup(self, model, num_codebooks: int) -> None:
        self.model = model
        config = model.model.config
        self.sample_rate = int(config.sampling_rate)
        self.frame_rate = float(config.frame_rate)
        self.vocab_size = int(config.codebook_size)
        self.num_codebooks = num_codebooks

    def _layout(self, tokens: torch.Tensor) -> torch.Tensor:
        return tokens.movedim(-1, -2) if self.codebooks_first else tokens

    @torch.no_grad()
    def sig_to_tokens(self, signal, lengths=None, num_codebooks=None, **kwargs):
        """``[B, T]`` -> ``[B, N, K]``."""
        self.model.eval()
        if lengths is None:
            lengths = torch.ones(signal.shape[0], device=signal.device)
        tokens, _ = self.model.encode(signal, lengths)
        return self._first_codebooks(self._layout(tokens), num_codebooks)

    @torch.no_grad()
    def tokens_to_sig(self, tokens, lengths=None, **kwargs):
        """``[B, N, K]`` -> ``[B, T]``."""
        self.model.eval()
        return self.model.decode(self._layout(tokens), lengths)[:, 0]

    @torch.no_grad()
    def get_pretrained_embeddings(self, vocab_size=None, num_codebooks=None, **kwargs):
        """The wrapper's code vectors, ``[K * C, H]``."""
        table = getattr(self.model, self.table)  # [K, C, H]
        return table.reshape(-1, table.shape[-1])


class EncodecDASBTokenizer(_HFCodecTokenizer):
    """EnCodec through ``speechbrain.integrations.huggingface.encodec.Encodec``.

    Arguments
    ---------
    source : str
        Hub id (``facebook/encodec_24khz``) or a local model folder.
    save_path : str
        Download folder.
    bandwidth : float
        kbit/s (1.5 -> 2 codebooks at 24 kHz).
    """

    name = "encodec"

    def __init__(self, source: str = "facebook/encodec_24khz", save_path: Optional[str] = None, bandwidth: float = 1.5):
        super().__init__()
        from speechbrain.integrations.huggingface.encodec import Encodec

        model = Encodec(source=source, save_path=save_path or tempfile.mkdtemp(), bandwidth=bandwidth)
        self._setup(model, int(model.vocabulary.shape[0]))


class MimiDASBTokenizer(_HFCodecTokenizer):
    """Mimi through ``speechbrain.integrations.huggingface.mimi.Mimi``
    (12.5 frames/s)."""

    name = "mimi"
    codebooks_first = True
    table = "embeddings"

    def __init__(self, source: str = "kyutai/mimi", save_path: Optional[str] = None, num_codebooks: int = 8):
        super().__init__()
        from speechbrain.integrations.huggingface.mimi import Mimi

        model = Mimi(source=source, save_path=save_path or tempfile.mkdtemp(), num_codebooks=num_codebooks)
        self._check_codebooks(num_codebooks, int(model.model.config.num_quantizers))
        model.embeddings = model._compute_embedding()  # the wrapper fills it at its first encode only
        self._setup(model, num_codebooks)


class DACDASBTokenizer(DASBTokenizer):
    """DAC through ``speechbrain.lobes.models.discrete.dac.DAC``; keyword
    arguments go to it (``load_pretrained=True, model_type="16khz"`` downloads;
    without it, the architecture arguments build random weights).

    DAC pads the signal to whole frames and has no padding mask: ``lengths``
    is ignored. ``tokens_to_sig`` gives ``N * hop_length`` samples (the
    decoder's own output is a few samples short with odd upsampling rates).
    """

    name = "dac"

    def __init__(self, num_codebooks: int = 2, **dac_options):
        super().__init__()
        from speechbrain.lobes.models.discrete.dac import DAC

        self.model = DAC(**dac_options)
        self._check_codebooks(num_codebooks, int(self.model.n_codebooks))
        self.sample_rate = int(self.model.sample_rate)
        self.frame_rate = self.sample_rate / float(self.model.hop_length)
        self.vocab_size = int(self.model.codebook_size)
        self.num_codebooks = num_codebooks

    @torch.no_grad()
    def sig_to_tokens(self, signal, lengths=None, num_codebooks=None, **kwargs):
        """``[B, T]`` -> ``[B, N, K]``."""
        self.model.eval()
        tokens, _ = self.model(signal[:, None], n_quantizers=self.num_codebooks)
        return self._first_codebooks(tokens.movedim(-1, -2), num_codebooks)

    @torch.no_grad()
    def tokens_to_sig(self, tokens, lengths=None, **kwargs):
        """``[B, N, K]`` -> ``[B, N * hop_length]``."""
        self.model.eval()
        features, _, _ = self.model.quantizer.from_codes(tokens.movedim(-1, -2))
        return self._fit_length(self.model.decode(features)[:, 0], tokens.shape[1])

    @torch.no_grad()
    def get_pretrained_embeddings(self, vocab_size=None, num_codebooks=None, **kwargs):
        """Each codebook's vectors projected to the latent space, ``[K * C, latent_dim]``:
        the sum of a frame's K rows is the quantized latent the decoder gets."""
        quantizers = self.model.quantizer.quantizers[: num_codebooks or self.num_codebooks]
        ids = torch.arange(self.vocab_size, device=next(self.model.parameters()).device)
        return torch.cat(
            [q.out_proj(q.embed_code(ids).transpose(0, 1).unsqueeze(0))[0].transpose(0, 1) for q in quantizers]
        )


class SpeechTokenizerDASBTokenizer(DASBTokenizer):
    """SpeechTokenizer (RVQ whose first codebook is distilled from HuBERT:
    50 frames/s, 8 codebooks of 1024 at 16 kHz) through
    ``speechbrain.integrations.audio_tokenizers.speechtokenizer_interface``.

    Needs ``pip install speechtokenizer beartype tensorboard`` (its package
    imports its trainer, which imports the last two). The encoder has no
    padding mask: ``lengths`` is ignored.

    Arguments
    ---------
    source : str
        Hub id holding ``speechtokenizer_hubert_avg/{config.json,SpeechTokenizer.pt}``.
    save_path : str
        Hugging Face cache folder of the download.
    num_codebooks : int
        The first codebooks kept (the first is the semantic one).
    """

    name = "speechtokenizer"

    def __init__(self, source: str = "fnlp/SpeechTokenizer", save_path: Optional[str] = None, num_codebooks: int = 2):
        super().__init__()
        from speechbrain.integrations.audio_tokenizers.speechtokenizer_interface import SpeechTokenizer

        self.model = SpeechTokenizer(source, save_path or tempfile.mkdtemp())
        codec = self.model.model
        self._check_codebooks(num_codebooks, int(codec.n_q))
        self.sample_rate = int(codec.sample_rate)
        self.frame_rate = self.sample_rate / float(codec.downsample_rate)
        self.vocab_size = int(codec.quantizer.bins)
        self.num_codebooks = num_codebooks

    @torch.no_grad()
    def sig_to_tokens(self, signal, lengths=None, num_codebooks=None, **kwargs):
        """``[B, T]`` -> ``[B, N, K]``."""
        self.model.eval()
        codes = self.model.model.encode(signal[:, None], n_q=self.num_codebooks)  # [K, B, N]
        return self._first_codebooks(codes.permute(1, 2, 0), num_codebooks)

    @torch.no_grad()
    def tokens_to_sig(self, tokens, lengths=None, **kwargs):
        """``[B, N, K]`` -> ``[B, N * hop]`` (the first K codebooks decoded)."""
        self.model.eval()
        return self.model.decode(tokens.permute(2, 0, 1))

    @torch.no_grad()
    def get_pretrained_embeddings(self, vocab_size=None, num_codebooks=None, **kwargs):
        """The RVQ code vectors, ``[K * C, dimension]``."""
        layers = self.model.model.quantizer.vq.layers[: num_codebooks or self.num_codebooks]
        return torch.cat([layer.codebook for layer in layers])


class DiscreteSSLDASBTokenizer(DASBTokenizer):
    """k-means units of SSL layers (one codebook per layer, 50 frames/s)
    through ``speechbrain.integrations.audio_tokenizers.discrete_ssl.DiscreteSSL``,
    decoded by its unit HiFi-GAN; the defaults are DASB's (WavLM large,
    layers 1, 3, 7, 12, 18, 23, 1000 clusters).

    ``vocoder_repo_id`` holds the k-means models
    (``kmeans/<kmeans_dataset>_<ssl_model>_k<num_clusters>_L<layer>.pt``,
    joblib files of scikit-learn k-means: ``pip install scikit-learn``) and
    the vocoder (``hyperparams.yaml``, ``generator.ckpt``; copies already in
    ``save_path`` are used as they are).

    Arguments
    ---------
    ssl_source : str
        Hub id or local folder of the SSL model.
    ssl_model : str
        ``wavlm``, ``hubert`` or ``wav2vec2`` (SpeechBrain's wrappers).
    vocoder_repo_id : str
        Hub id of the k-means models and the vocoder.
    kmeans_dataset : str
        Data set the k-means were trained on (part of their file names).
    num_clusters : int
        Clusters of every layer's k-means: the vocabulary size.
    layers : list of int
        SSL layers, one codebook each (in increasing order).
    save_path : str
        Download folder.
    """

    name = "discrete_ssl"
    SSL_MODELS = {
        "wavlm": "speechbrain.integrations.huggingface.wavlm.WavLM",
        "hubert": "speechbrain.integrations.huggingface.hubert.HuBERT",
        "wav2vec2": "speechbrain.integrations.huggingface.wav2vec2.Wav2Vec2",
    }

    def __init__(
        self,
        ssl_source: str = "microsoft/wavlm-large",
        ssl_model: str = "wavlm",
        vocoder_repo_id: str = "speechbrain/hifigan-wavlm-k1000-LibriTTS",
        kmeans_dataset: str = "LibriSpeech",
        num_clusters: int = 1000,
        layers: Sequence[int] = (1, 3, 7, 12, 18, 23),
        save_path: Optional[str] = None,
    ):
        super().__init__()
        import importlib

        from speechbrain.integrations.audio_tokenizers.discrete_ssl import DiscreteSSL

        if ssl_model not in self.SSL_MODELS:
            raise ValueError(f"ssl_model must be one of {list(self.SSL_MODELS)}, not {ssl_model!r}")
        module, cls = self.SSL_MODELS[ssl_model].rsplit(".", 1)
        save_path = save_path or tempfile.mkdtemp()
        ssl = getattr(importlib.import_module(module), cls)(ssl_source, save_path, output_all_hiddens=True, freeze=True)
        self.layers = sorted(layers)  # DiscreteSSL orders a frame's tokens by layer
        self.model = DiscreteSSL(
            save_path,
            ssl,
            kmeans_dataset=kmeans_dataset,
            vocoder_repo_id=vocoder_repo_id,
            num_clusters=num_clusters,
            layers_num=self.layers,
        )
        self.sample_rate = int(self.model.sample_rate)
        self.frame_rate = self.sample_rate / float(math.prod(ssl.model.config.conv_stride))
        self.vocab_size = int(num_clusters)
        self.num_codebooks = len(self.layers)

    @torch.no_grad()
    def sig_to_tokens(self, signal, lengths=None, num_codebooks=None, **kwargs):
        """``[B, T]`` -> ``[B, N, K]``: the cluster of each frame in each layer."""
        self.model.eval()
        tokens, _, _ = self.model.encode(signal, lengths, SSL_layers=self.layers)
        return self._first_codebooks(tokens, num_codebooks)

    @torch.no_grad()
    def tokens_to_sig(self, tokens, lengths=None, **kwargs):
        """``[B, N, K]`` -> ``[B, T]`` through the unit HiFi-GAN."""
        self.model.eval()
        return self.model.decode(tokens, SSL_layers=self.layers[: tokens.shape[-1]])[:, 0]

    @torch.no_grad()
    def get_pretrained_embeddings(self, vocab_size=None, num_codebooks=None, **kwargs):
        """The k-means centroids of each layer, ``[K * C, ssl_dim]``."""
        centroids = self.model.vocabularies[: num_codebooks or self.num_codebooks]
        return torch.cat([torch.as_tensor(c, dtype=torch.float32) for c in centroids])


TOKENIZERS = {
    "jepa": JEPADASBTokenizer,
    "encodec": EncodecDASBTokenizer,
    "mimi": MimiDASBTokenizer,
    "dac": DACDASBTokenizer,
    "speechtokenizer": SpeechTokenizerDASBTokenizer,
    "discrete_ssl": DiscreteSSLDASBTokenizer,
}


def build_tokenizer(kind: str, options: Optional[dict] = None) -> DASBTokenizer:
    """A tokenizer by name (``jepa``, ``encodec``, ``mimi``, ``dac``,
    ``speechtokenizer``, ``discrete_ssl``) with its
    keyword options: one YAML key picks the tokenizer of a recipe.

    Example
    -------
    >>> build_tokenizer("wavtokenizer")
    Traceback (most recent call last):
    ...
    ValueError: unknown tokenizer 'wavtokenizer'; choose one of ['jepa', 'encodec', 'mimi', 'dac', 'speechtokenizer', 'discrete_ssl']
    """
    if kind not in TOKENIZERS:
        raise ValueError(f"unknown tokenizer {kind!r}; choose one of {list(TOKENIZERS)}")
    return TOKENIZERS[kind](**(options or {}))
