"""``TextToSpeech``: text -> tokens -> waveform with an exported TTS folder.

``export_tts`` writes a self-contained folder: ``hyperparams.yaml`` (the
model's constructor call, its text units and speakers, sampling defaults),
``model.ckpt``, ``units/`` (the text-unit inventory) and ``codec/`` (the
frozen codec the tokens belong to, itself an exported codec folder). It
loads with ``TextToSpeech.from_folder(folder)``.

Authors
 * jepa-tokenizer team 2026
"""

import math
import shutil
from pathlib import Path
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from speechbrain.inference.interfaces import Pretrained

from jepa_tokenizer.data.audio import save_audio
from jepa_tokenizer.data.text import TextUnits
from jepa_tokenizer.nn.arguments import constructor_yaml, yaml_value
from jepa_tokenizer.pretrained.export import save_weights

__all__ = ["TextToSpeech", "export_tts", "TTS_WEIGHTS_FILE", "SAMPLING_KEYS"]

TTS_WEIGHTS_FILE = "model.ckpt"

_TEMPLATE = """# Exported by jepa_tokenizer.pretrained.synthesis.export_tts: self-contained.
# Load with jepa_tokenizer.pretrained.synthesis.TextToSpeech.from_folder(<this folder>).
folder: !PLACEHOLDER            # set to this folder when loading
text_units: {text_units}
sentencepiece_vocab_size: {sentencepiece_vocab_size}
speakers: {speakers}            # rows of the speaker table ([]: none)
default_speaker: {default_speaker}
# sampling defaults (each can be given per call)
temperature: {temperature}
top_k: {top_k}
stop_threshold: {stop_threshold}
min_frames: {min_frames}
max_frames_per_unit: {max_frames_per_unit}   # generation cap in proportion to the text

{model}
modules:
    model: !ref <model>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        model: !ref <model>
"""

SAMPLING_KEYS = ("temperature", "top_k", "stop_threshold", "min_frames", "max_frames_per_unit")
#: what each sampling option must be: (test, description)
_SAMPLING_RULES = {
    "temperature": (lambda v: isinstance(v, (int, float)) and math.isfinite(v) and v >= 0, "a finite number >= 0"),
    "top_k": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0"),
    "stop_threshold": (lambda v: isinstance(v, (int, float)) and 0 < v <= 1, "a number in (0, 1]"),
    "min_frames": (lambda v: isinstance(v, int) and not isinstance(v, bool) and v >= 0, "an integer >= 0"),
    "max_frames_per_unit": (
        lambda v: isinstance(v, (int, float)) and math.isfinite(v) and v > 0,
        "a finite number > 0",
    ),
}


def check_sampling(options: dict) -> None:
    """One-line ``ValueError`` for a sampling option out of range (NaN included).

    Example
    -------
    >>> check_sampling({"temperature": float("nan")})
    Traceback (most recent call last):
    ...
    ValueError: temperature must be a finite number >= 0; got nan
    """
    for key, value in options.items():
        test, what = _SAMPLING_RULES[key]
        if not test(value):
            raise ValueError(f"{key} must be {what}; got {value!r}")


#: the plain values of an exported folder's YAML that ``TextToSpeech`` reads
HPARAMS_KEYS = ("text_units", "sentencepiece_vocab_size", "speakers", "default_speaker", *SAMPLING_KEYS)


def export_tts(
    model: torch.nn.Module,
    folder: Union[str, Path],
    units_folder: Union[str, Path],
    codec_folder: Union[str, Path],
    text_units: str = "char",
    sentencepiece_vocab_size: int = 250,
    speakers: Sequence[str] = (),
    default_speaker: Optional[str] = None,
    sampling: Optional[Dict[str, float]] = None,
) -> Path:
    """Writes a ``TextToSpeech`` folder for ``model`` (its constructor call
    and weights), copying the text units and the codec folder."""
    sampling = {
        "temperature": 0.7,
        "top_k": 0,
        "stop_threshold": 0.5,
        "min_frames": 1,
        "max_frames_per_unit": 0.5,
        **(sampling or {}),
    }
    unknown = set(sampling) - set(SAMPLING_KEYS)
    if unknown:
        raise ValueError(f"unknown sampling keys {sorted(unknown)}; expected {list(SAMPLING_KEYS)}")
    speakers = [str(s) for s in speakers]
    if default_speaker is None and speakers:
        default_speaker = speakers[0]
    if speakers and default_speaker not in speakers:
        raise ValueError(f"default speaker {default_speaker!r} is not one of {speakers}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in (("units", units_folder), ("codec", codec_folder)):
        shutil.rmtree(folder / name, ignore_errors=True)
        shutil.copytree(source, folder / name, ignore=shutil.ignore_patterns("spm_train.txt"))
    text = _TEMPLATE.format(
        text_units=text_units,
        sentencepiece_vocab_size=sentencepiece_vocab_size,
        speakers=yaml_value(speakers),
        default_speaker=yaml_value(default_speaker),
        model=constructor_yaml("model", model).rstrip("\n"),
        **{key: yaml_value(value) for key, value in sampling.items()},
    )
    (folder / "hyperparams.yaml").write_text(text)
    save_weights(model, folder / TTS_WEIGHTS_FILE)
    return folder


class TextToSpeech(Pretrained):
    """Synthesizes speech from text with a trained ``TokenTTS`` and its codec.

    Text is normalised (whitespace collapsed; upper-cased when the unit
    inventory has no lower-case letters, as for LibriSpeech-style
    transcripts); characters outside the inventory, empty text and unknown
    speakers raise ``ValueError``. Generation stops at the model's
    end-of-speech decision or at ``max_frames_per_unit`` frames per text unit.

    Example
    -------
    >>> tts = TextToSpeech.from_folder("results/tts/model")  # doctest: +SKIP
    >>> wav = tts.synthesize("THE CAT SAT ON THE MAT")  # doctest: +SKIP
    >>> tts.synthesize_to_file("HELLO WORLD", "hello.wav", temperature=0.5, seed=1)  # doctest: +SKIP
    """

    MODULES_NEEDED = ["model"]

    @classmethod
    def from_folder(
        cls,
        folder: Union[str, Path],
        device: str = "cpu",
        limits: Optional[Mapping] = None,
        max_bytes: Optional[int] = None,
    ) -> "TextToSpeech":
        """Loads an exported folder (see ``export_tts``) onto ``device``,
        without running code the folder chose (``jepa_tokenizer.pretrained.safe_load``;
        its codec too); ``limits`` and ``max_bytes`` raise the size limits of
        ``safe_load.build_module`` for a large model you trust."""
        from jepa_tokenizer.models.tts import TokenTTS
        from jepa_tokenizer.pretrained.safe_load import (
            MAX_MODEL_BYTES,
            UnsafeModelFolder,
            build_module,
            check_folder_kind,
            load_weights,
            read_plain_yaml,
        )

        folder = Path(folder).resolve()
        if not (folder / "hyperparams.yaml").is_file():
            raise FileNotFoundError(f"{folder} is not an exported TTS folder (no hyperparams.yaml)")
        tree = read_plain_yaml(folder / "hyperparams.yaml")
        check_folder_kind(tree, "model", folder)
        try:
            model = build_module(tree, "model", limits, max_bytes or MAX_MODEL_BYTES)
        except UnsafeModelFolder as err:
            raise UnsafeModelFolder(f"{folder / 'hyperparams.yaml'}: {err}") from None
        if not isinstance(model, TokenTTS):
            raise UnsafeModelFolder(f"{folder / 'hyperparams.yaml'}: 'model' is not a TokenTTS")
        load_weights(model, folder / TTS_WEIGHTS_FILE)
        missing = [key for key in HPARAMS_KEYS if key not in tree]
        if missing:
            raise UnsafeModelFolder(f"{folder / 'hyperparams.yaml'}: missing {', '.join(missing)}")
        hparams = {key: tree[key] for key in HPARAMS_KEYS}
        try:
            check_sampling({key: hparams[key] for key in SAMPLING_KEYS})
        except ValueError as err:
            raise UnsafeModelFolder(f"{folder / 'hyperparams.yaml'}: {err}") from None
        inventory = TextUnits.inventory_file(
            folder / "units", hparams["text_units"], hparams["sentencepiece_vocab_size"]
        )
        if not inventory.is_file():  # never made here: the folder would be written to
            raise UnsafeModelFolder(
                f"{folder} is incomplete: its text units ({inventory.relative_to(folder)}) are missing"
            )
        if not (folder / "codec" / "hyperparams.yaml").is_file():
            raise UnsafeModelFolder(f"{folder} is incomplete: its codec folder (codec/hyperparams.yaml) is missing")
        hparams["folder"] = str(folder)
        return cls(modules={"model": model.eval()}, hparams=hparams, run_opts={"device": device})

    @property
    def model(self):
        """The loaded ``TokenTTS``."""
        return self.mods.model

    @property
    def units(self) -> TextUnits:
        """The text units the model was trained on."""
        if getattr(self, "_units", None) is None:
            self._units = TextUnits(
                Path(self.hparams.folder) / "units", [], self.hparams.text_units, self.hparams.sentencepiece_vocab_size
            )
        return self._units

    @property
    def tokenizer(self):
        """The frozen codec (``JEPADASBTokenizer``) that turns tokens into audio."""
        if getattr(self, "_tokenizer", None) is None:
            from jepa_tokenizer.pretrained.tokenizers import JEPADASBTokenizer

            self._tokenizer = JEPADASBTokenizer(
                source=str(Path(self.hparams.folder) / "codec"), device=str(self.device)
            )
        return self._tokenizer

    @property
    def sample_rate(self) -> int:
        """Sample rate of the synthesized audio."""
        return self.tokenizer.sample_rate

    @property
    def speakers(self) -> List[str]:
        """Names of the speakers the model can speak as ([] without a speaker table)."""
        return list(self.hparams.speakers)

    def normalize(self, text: str) -> str:
        """The text as the model's units expect it."""
        if not isinstance(text, str):
            raise ValueError(f"text must be a string; got {type(text).__name__}")
        text = " ".join(text.split())
        if not text:
            raise ValueError("text is empty: nothing to synthesize")
        if self.units.kind == "char" and not any(c.islower() for c in self.units.units):
            text = text.upper()
        return text

    def _speaker_indices(self, speakers, batch: int) -> Optional[torch.Tensor]:
        if not self.speakers:
            if speakers is not None and any(s is not None for s in speakers):
                raise ValueError("this model has no speaker table; leave speaker unset")
            return None
        names = [self.hparams.default_speaker if s is None else str(s) for s in (speakers or [None] * batch)]
        unknown = sorted({s for s in names if s not in self.speakers})
        if unknown:
            raise ValueError(f"unknown speaker(s) {unknown}; this model knows {self.speakers}")
        return torch.tensor([self.speakers.index(s) for s in names], device=self.device)

    @torch.no_grad()
    def synthesize_tokens(
        self,
        texts: Sequence[str],
        speakers: Optional[Sequence[Optional[str]]] = None,
        seed: Optional[int] = None,
        **sampling,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Tokens ``[B, N, K]`` of each text and its frame count ``[B]``."""
        if isinstance(texts, str) or not texts:
            raise ValueError("texts must be a non-empty list of strings")
        if speakers is not None and len(speakers) != len(texts):
            raise ValueError(f"{len(texts)} texts but {len(speakers)} speakers")
        unknown = set(sampling) - set(SAMPLING_KEYS)
        if unknown:
            raise ValueError(f"unknown sampling options {sorted(unknown)}; expected {list(SAMPLING_KEYS)}")
        options = {key: getattr(self.hparams, key) for key in SAMPLING_KEYS}
        options.update({k: v for k, v in sampling.items() if v is not None})
        check_sampling(options)
        ids = [self.units.encode(self.normalize(text)) for text in texts]
        longest_allowed = self.model.max_len
        for text, seq in zip(texts, ids):
            if len(seq) > longest_allowed:
                raise ValueError(
                    f"a text of {len(seq)} units is longer than this model reads ({longest_allowed}); "
                    f"split it (it starts {text[:30]!r})"
                )
        longest = max(len(i) for i in ids)
        units = torch.zeros(len(ids), longest, dtype=torch.long)
        for row, seq in enumerate(ids):
            units[row, : len(seq)] = torch.tensor(seq)
        lens = torch.tensor([len(i) / longest for i in ids])
        limit = torch.tensor(
            [min(longest_allowed, max(1, round(options["max_frames_per_unit"] * len(i)))) for i in ids]
        )
        if seed is not None:
            torch.manual_seed(seed)
        self.model.eval()
        digits, counts = self.model.generate(
            units.to(self.device),
            lens.to(self.device),
            self._speaker_indices(speakers, len(ids)),
            max_frames=limit.to(self.device),
            min_frames=int(options["min_frames"]),
            temperature=float(options["temperature"]),
            top_k=int(options["top_k"]),
            stop_threshold=float(options["stop_threshold"]),
        )
        return self.tokenizer.codec.packer.pack(digits), counts

    def synthesize_batch(
        self,
        texts: Sequence[str],
        speakers: Optional[Sequence[Optional[str]]] = None,
        seed: Optional[int] = None,
        **sampling,
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Waveforms ``[B, T]`` (silence past each item's end) and their
        relative lengths ``[B]``."""
        tokens, counts = self.synthesize_tokens(texts, speakers, seed, **sampling)
        lens = counts.float() / tokens.shape[1]
        return self.tokenizer.tokens_to_sig(tokens, lens), lens.cpu()

    def synthesize(
        self, text: str, speaker: Optional[str] = None, seed: Optional[int] = None, **sampling
    ) -> torch.Tensor:
        """One waveform ``[T]`` at ``sample_rate``."""
        wavs, lens = self.synthesize_batch([text], [speaker], seed, **sampling)
        return wavs[0, : round(float(lens[0]) * wavs.shape[1])].cpu()

    def synthesize_to_file(
        self, text: str, path: Union[str, Path], speaker: Optional[str] = None, seed: Optional[int] = None, **sampling
    ) -> Path:
        """Synthesizes ``text`` into an audio file."""
        save_audio(path, self.synthesize(text, speaker, seed, **sampling), self.sample_rate)
        return Path(path)
