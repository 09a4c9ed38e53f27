"""Reading, checking and making audio: soundfile I/O (read block by block,
which SpeechBrain's ``audio_io`` does not offer, so that a long multi-channel
file never sits in memory whole; written atomically), downmix and
resampling to the model's rate, and offline
speech synthesis with espeak-ng or flite for examples and tests.

Authors
 * jepa-tokenizer team 2026
"""

import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, NamedTuple, Optional, Tuple, Union

import numpy as np
import soundfile
import torch
import torchaudio

from jepa_tokenizer.data.atomic import atomic_output, special_file_kind

__all__ = [
    "AUDIO_EXTENSIONS",
    "SOURCE_RATE_RANGE",
    "MAX_SOURCE_CHANNELS",
    "LONG_AUDIO_SECONDS",
    "check_audio_header",
    "LoadedAudio",
    "load_audio",
    "save_audio",
    "save_audio_pieces",
    "check_audio_output",
    "decoded_from",
    "speak",
    "SPEECH_ENGINES",
]

#: Audio files collected from folders (prepare scripts, the command line),
#: lower case: what soundfile (libsndfile >= 1.1) decodes. ``.opus`` / ``.ogg``:
#: Ogg Opus or Vorbis, as Multilingual LibriSpeech and many corpora ship.
AUDIO_EXTENSIONS = (".flac", ".wav", ".opus", ".ogg", ".mp3")

SPEECH_ENGINES = ("espeak-ng", "flite")

logger = logging.getLogger(__name__)
ESPEAK_DEFAULT_WPM = 175  # espeak-ng's own default rate, words per minute


class LoadedAudio(NamedTuple):
    """A mono waveform at the requested rate, and what was done to it."""

    wav: torch.Tensor
    sample_rate: int
    source_sample_rate: int
    source_channels: int

    def describe(self) -> str:
        """One line saying how the file was converted."""
        steps = []
        if self.source_channels > 1:
            steps.append(f"downmixed {self.source_channels} channels to mono")
        if self.source_sample_rate != self.sample_rate:
            steps.append(f"resampled {self.source_sample_rate} -> {self.sample_rate} Hz")
        return ", ".join(steps) or "used as is"


#: Sample rates a file may declare: outside them the header is not audio's
#: (a 1 Hz claim would make resampling allocate thousands of times the file).
SOURCE_RATE_RANGE = (1000, 768000)
#: Channels a file may declare (ambisonics and arrays stay well below).
MAX_SOURCE_CHANNELS = 64
#: Seconds decoded at a time: multi-channel audio is downmixed block by block,
#: so memory holds the mono signal, never all the channels of a long file.
READ_BLOCK_SECONDS = 30.0
#: ... and at most this many samples (all channels) at a time.
READ_BLOCK_SAMPLES = 1 << 22
#: Audio longer than this is encoded in chunks of this length by default (with
#: 4 s of context each side, ``JEPATokenizer.encode_file``): one piece of 5
#: minutes takes about 1.5 GiB with the shipped model, and memory grows with it.
LONG_AUDIO_SECONDS = 300.0
#: Peak magnitude above which float samples are reported (PCM is within 1).
LOUD_PEAK = 4.0

_TRUNCATED = re.compile(r"data\s*:\s*(\d+)\s*\(should be (\d+)\)")


def load_audio(
    path: Union[str, Path],
    sample_rate: int,
    offset: float = 0.0,
    duration: Optional[float] = None,
    max_seconds: Optional[float] = None,
) -> LoadedAudio:
    """Loads an audio file as a mono float32 ``[T]`` tensor at ``sample_rate``.

    Multi-channel audio is averaged to mono as it is decoded (block by
    block); other rates are resampled. Only ``duration`` seconds from
    ``offset`` are decoded when given (a crop of a long file). The header is
    checked before anything is allocated: a declared rate outside
    :data:`SOURCE_RATE_RANGE`, more than :data:`MAX_SOURCE_CHANNELS` channels,
    or (with ``max_seconds``) a longer signal than that is refused. A
    missing, unreadable, empty or non-finite file raises ``ValueError``; a WAV
    shorter than its header says, and float samples far outside [-1, 1], are
    used with a warning.

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.wav")
    >>> save_audio(path, torch.zeros(2, 800), 8000)
    >>> out = load_audio(path, 16000)
    >>> out.wav.shape, out.describe()
    (torch.Size([1600]), 'downmixed 2 channels to mono, resampled 8000 -> 16000 Hz')
    >>> load_audio(path, 16000, offset=0.025, duration=0.05).wav.shape
    torch.Size([800])
    >>> load_audio(path, 16000, max_seconds=0.05)
    Traceback (most recent call last):
    ...
    ValueError: audio file ... lasts 0.1 s, more than the limit of 0.05 s
    """
    path = Path(path)
    if not path.is_file():
        kind = special_file_kind(path)
        raise ValueError(f"{path} is a {kind}, not an audio file" if kind else f"audio file not found: {path}")
    try:
        with soundfile.SoundFile(str(path)) as stream:
            source_rate, channels = check_audio_header(path, stream)
            start = min(int(round(offset * source_rate)), stream.frames)
            count = stream.frames - start
            if duration is not None:
                count = min(count, int(round(duration * source_rate)))
            if max_seconds is not None and count > max_seconds * source_rate:
                raise ValueError(
                    f"audio file {path} lasts {count / source_rate:.1f} s, more than the limit of {max_seconds:g} s"
                )
            stream.seek(start)
            block = max(1, min(int(READ_BLOCK_SECONDS * source_rate), READ_BLOCK_SAMPLES // channels))
            pieces = []
            while count > 0:
                # float64, so that float64 files beyond float32's range are named as such
                frames = stream.read(min(block, count), dtype="float64", always_2d=True)
                if len(frames) == 0:
                    break
                _check_range(path, frames)
                pieces.append(torch.from_numpy(frames.mean(axis=1).astype(np.float32)))
                count -= len(frames)
    except soundfile.LibsndfileError as err:
        raise ValueError(f"cannot read audio file {path}: {err}") from err
    except RuntimeError as err:  # soundfile's other read errors
        raise ValueError(f"cannot read audio file {path}: {err}") from err
    wav = torch.cat(pieces) if pieces else torch.zeros(0)
    if wav.numel() == 0:
        raise ValueError(f"audio file {path} is empty")
    if not torch.isfinite(wav).all():
        raise ValueError(f"audio file {path} contains NaN or Inf samples")
    peak = float(wav.abs().max())
    if peak > LOUD_PEAK:
        logger.warning("%s: samples reach %.1f, far outside [-1, 1] (float audio at the wrong scale?)", path, peak)
    if source_rate != sample_rate:
        wav = torchaudio.functional.resample(wav, source_rate, sample_rate)
    return LoadedAudio(wav, sample_rate, source_rate, channels)


def _check_range(path: Path, frames: np.ndarray) -> None:
    """NaN / Inf samples, or samples float32 cannot hold: one-line errors."""
    if not np.isfinite(frames).all():
        raise ValueError(f"audio file {path} contains NaN or Inf samples")
    peak = float(np.abs(frames).max(initial=0.0))
    if peak > float(np.finfo(np.float32).max):
        raise ValueError(
            f"audio file {path} has samples up to {peak:.3g}, beyond float32's range (3.4e38): "
            "float audio at the wrong scale; rescale it to [-1, 1]"
        )


def check_audio_header(path: Path, stream: "soundfile.SoundFile") -> Tuple[int, int]:
    """The declared (rate, channels) of an open file, checked before decoding;
    warns when a WAV holds less data than its header declares."""
    rate, channels = int(stream.samplerate), int(stream.channels)
    low, high = SOURCE_RATE_RANGE
    if not low <= rate <= high:
        raise ValueError(f"audio file {path} declares {rate} Hz, outside {low}-{high} Hz (a damaged or forged header)")
    if not 1 <= channels <= MAX_SOURCE_CHANNELS:
        raise ValueError(f"audio file {path} declares {channels} channels (at most {MAX_SOURCE_CHANNELS})")
    truncated = _TRUNCATED.search(stream.extra_info or "")
    if truncated and int(truncated.group(2)) < int(truncated.group(1)):
        declared, held = int(truncated.group(1)), int(truncated.group(2))
        logger.warning("%s is truncated: its header declares %d data bytes, the file holds %d", path, declared, held)
    return rate, channels


def save_audio(path: Union[str, Path], wav: torch.Tensor, sample_rate: int) -> None:
    """Writes ``[T]`` or ``[C, T]`` audio (float in [-1, 1]) with soundfile,
    atomically (the format follows the suffix of ``path``)."""
    data = wav.detach().float().cpu().numpy()
    audio_format = _sound_format(path)
    with atomic_output(path) as partial:
        soundfile.write(str(partial), data.T if data.ndim == 2 else data, sample_rate, **audio_format)


def check_audio_output(path: Union[str, Path]) -> None:
    """A one-line ``ValueError`` unless ``path`` can take audio: not an
    existing folder, and a suffix that names a format soundfile writes
    (``.opus``: Ogg Opus).

    Example
    -------
    >>> check_audio_output("out.flac")
    >>> check_audio_output("out")
    Traceback (most recent call last):
    ...
    ValueError: output out has no suffix to name its audio format; add one, e.g. out.wav
    """
    if Path(path).is_dir():
        raise ValueError(f"output path {path} is an existing folder")
    kind = Path(path).suffix.lstrip(".").upper()
    if not kind:
        raise ValueError(f"output {path} has no suffix to name its audio format; add one, e.g. {path}.wav")
    if kind != "OPUS" and kind not in soundfile.available_formats():
        raise ValueError(
            f"output {path}: {kind.lower()!r} is not an audio format; use .wav, .flac, .ogg, .opus or .mp3"
        )


def _sound_format(path: Union[str, Path]) -> dict:
    """soundfile's format arguments for the suffix of ``path`` (the partial
    file of an atomic write has another suffix); ``.opus`` is Ogg Opus."""
    check_audio_output(path)
    kind = Path(path).suffix.lstrip(".").upper()
    return {"format": "OGG", "subtype": "OPUS"} if kind == "OPUS" else {"format": kind}


#: the comment decoded audio carries: the digest of the token file it came from
_DECODED_FROM = re.compile(r"decoded from sha256:([0-9a-f]{16})")


def decoded_from(path: Union[str, Path]) -> Optional[str]:
    """The digest (``atomic.file_digest``) of the token file an audio file was
    decoded from, as :func:`save_audio_pieces` records it; None for other audio.

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> _ = save_audio_pieces(path, [torch.zeros(100)], 16000, source_digest="0123456789abcdef")
    >>> decoded_from(path)
    '0123456789abcdef'
    """
    try:
        with soundfile.SoundFile(str(path)) as stream:
            found = _DECODED_FROM.fullmatch(stream.comment or "")
    except (RuntimeError, OSError, ValueError):  # not audio soundfile reads
        return None
    return found.group(1) if found else None


def save_audio_pieces(
    path: Union[str, Path],
    pieces: Iterable[torch.Tensor],
    sample_rate: int,
    source_digest: Optional[str] = None,
) -> Path:
    """Writes mono audio that arrives in ``[T_i]`` pieces (float in [-1, 1])
    as it comes, so memory holds one piece at a time. The file appears at
    ``path`` only once complete (written next to it, then renamed); on an
    error nothing is left behind. The format follows the suffix, as in
    :func:`save_audio`; ``source_digest`` (of the token file decoded) is
    recorded in the file's comment (see :func:`decoded_from`).

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> _ = save_audio_pieces(path, [torch.zeros(100), torch.ones(50) * 0.5], 16000)
    >>> soundfile.info(path).frames
    150
    """
    path = Path(path)
    audio_format = _sound_format(path)
    with atomic_output(path) as partial:
        with soundfile.SoundFile(str(partial), "w", sample_rate, 1, **audio_format) as stream:
            if source_digest is not None:
                stream.comment = f"decoded from sha256:{source_digest}"
            for piece in pieces:
                stream.write(piece.detach().float().cpu().numpy())
    return path


def speak(
    text: str,
    path: Union[str, Path],
    engine: str = "espeak-ng",
    voice: Optional[str] = None,
    speed: float = 1.0,
) -> Path:
    """Speaks ``text`` into a wav file with Debian's espeak-ng or flite.

    Arguments
    ---------
    text : str
        What to say (non-empty).
    path : str or Path
        Output wav file.
    engine : str
        ``"espeak-ng"`` or ``"flite"``.
    voice : str, optional
        An espeak-ng voice (``en-us``, ``en+f3``...) or a flite voice
        (``slt``, ``awb``, ``rms``, ``kal``...).
    speed : float
        Speaking rate relative to the engine's default.

    Returns
    -------
    Path
        The written file.
    """
    if not text.strip():
        raise ValueError("speak: text is empty")
    if engine not in SPEECH_ENGINES:
        raise ValueError(f"speak: engine must be one of {SPEECH_ENGINES}; got {engine!r}")
    if shutil.which(engine) is None:
        raise RuntimeError(f"{engine} is not installed; on Debian/Ubuntu: apt-get install -y {engine}")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    if speed <= 0:
        raise ValueError(f"speak: speed must be positive; got {speed}")
    if engine == "espeak-ng":
        cmd = ["espeak-ng", "-w", str(path), "-s", str(round(ESPEAK_DEFAULT_WPM * speed))]
        cmd += (["-v", voice] if voice else []) + [text]
    else:
        cmd = ["flite", "-t", text, "-o", str(path), "--setf", f"duration_stretch={1 / speed:.4f}"]
        cmd += ["-voice", voice] if voice else []
    subprocess.run(cmd, check=True, capture_output=True)
    return path
