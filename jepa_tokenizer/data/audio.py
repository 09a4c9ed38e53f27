"""Reading, checking and making audio: soundfile I/O (SpeechBrain's
``audio_io``), downmix and resampling to the model's rate, and offline
speech synthesis with espeak-ng or flite for examples and tests.

Authors
 * jepa-tokenizer team 2026
"""

import os
import shutil
import subprocess
from pathlib import Path
from typing import Iterable, NamedTuple, Optional, Union

import soundfile
import torch
import torchaudio
from speechbrain.dataio import audio_io

__all__ = [
    "AUDIO_EXTENSIONS",
    "LoadedAudio",
    "load_audio",
    "save_audio",
    "save_audio_pieces",
    "speak",
    "SPEECH_ENGINES",
]

#: Audio files collected from folders (prepare scripts, the command line),
#: lower case: what soundfile (libsndfile >= 1.1) decodes. ``.opus`` / ``.ogg``:
#: Ogg Opus or Vorbis, as Multilingual LibriSpeech and many corpora ship.
AUDIO_EXTENSIONS = (".flac", ".wav", ".opus", ".ogg", ".mp3")

SPEECH_ENGINES = ("espeak-ng", "flite")
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


def load_audio(
    path: Union[str, Path],
    sample_rate: int,
    offset: float = 0.0,
    duration: Optional[float] = None,
) -> LoadedAudio:
    """Loads an audio file as a mono float32 ``[T]`` tensor at ``sample_rate``.

    Multi-channel audio is averaged to mono; other rates are resampled. Only
    ``duration`` seconds from ``offset`` are decoded when given (a crop of a
    long file). A missing, unreadable, empty or non-finite file raises
    ``ValueError``.

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
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"audio file not found: {path}")
    try:
        frame_offset, num_frames = 0, -1
        if offset or duration is not None:
            source_rate = audio_io.info(str(path)).sample_rate
            frame_offset = int(round(offset * source_rate))
            if duration is not None:
                num_frames = int(round(duration * source_rate))
        wav, source_rate = audio_io.load(
            str(path), dtype=torch.float32, frame_offset=frame_offset, num_frames=num_frames
        )
    except RuntimeError as err:
        raise ValueError(f"cannot read audio file {path}: {err.__cause__ or err}") from err
    channels = wav.shape[0]
    if wav.numel() == 0:
        raise ValueError(f"audio file {path} is empty")
    if not torch.isfinite(wav).all():
        raise ValueError(f"audio file {path} contains NaN or Inf samples")
    wav = wav.mean(dim=0)
    if source_rate != sample_rate:
        wav = torchaudio.functional.resample(wav, source_rate, sample_rate)
    return LoadedAudio(wav, sample_rate, source_rate, channels)


def save_audio(path: Union[str, Path], wav: torch.Tensor, sample_rate: int) -> None:
    """Writes ``[T]`` or ``[C, T]`` audio (float in [-1, 1]) with soundfile."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    audio_io.save(str(path), wav.detach().float().cpu(), sample_rate)


def save_audio_pieces(path: Union[str, Path], pieces: Iterable[torch.Tensor], sample_rate: int) -> Path:
    """Writes mono audio that arrives in ``[T_i]`` pieces (float in [-1, 1])
    as it comes, so memory holds one piece at a time. The file appears at
    ``path`` only once complete (written next to it, then renamed); on an
    error nothing is left behind. The format follows the suffix, as in
    :func:`save_audio`.

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "a.wav")
    >>> _ = save_audio_pieces(path, [torch.zeros(100), torch.ones(50) * 0.5], 16000)
    >>> soundfile.info(path).frames
    150
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    kind = path.suffix.lstrip(".").upper()
    fmt = {"OPUS": "OGG"}.get(kind, kind)
    partial = path.with_name(f".{path.name}.partial")
    try:
        options = {"subtype": "OPUS"} if kind == "OPUS" else {}
        with soundfile.SoundFile(str(partial), "w", sample_rate, 1, format=fmt, **options) as stream:
            for piece in pieces:
                stream.write(piece.detach().float().cpu().numpy())
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
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
