"""Codecs to compare on resynthesis, behind one interface.

A ``Codec`` encodes one ``[T]`` waveform at its ``sample_rate`` into a code
(tokens, bytes) and decodes it back, so the comparison
(``jepa_tokenizer.apps.compare``) can time each half and judge the audio:

* ``JEPAFolderCodec``: any exported model folder of ours (the shipped model
  by default), loaded as data (``JEPATokenizer.from_folder``);
* ``Codec2Codec``: Codec2 at one of its modes through Debian's ``codec2``
  tools (``c2enc`` / ``c2dec``, raw 16-bit audio at 8 kHz);
* ``OpusCodec``: Opus at a constant bit rate through Debian's
  ``opus-tools`` (``opusenc --hard-cbr``, ``opusdec``);
* ``DASBCodec``: a tokenizer with SpeechBrain DASB's interface, e.g. the
  peers SpeechBrain wraps (EnCodec, Mimi, DAC), built by ``peer_codec``
  only from pretrained weights already on the machine: where they are
  missing it raises ``CodecUnavailable`` naming them, never random weights.

``codec_from_spec`` builds one from a short spec (``jepa``,
``jepa:FOLDER``, ``codec2:700C``, ``opus:6``, ``encodec``, ``mimi``, ``dac``).

Authors
 * jepa-tokenizer team 2026
"""

import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import torch

from jepa_tokenizer.data.audio import load_audio, save_audio
from jepa_tokenizer.pretrained.inference import JEPATokenizer
from jepa_tokenizer.pretrained.tokenizers import (
    DACDASBTokenizer,
    DASBTokenizer,
    EncodecDASBTokenizer,
    MimiDASBTokenizer,
)

__all__ = [
    "CodecUnavailable",
    "Codec",
    "JEPAFolderCodec",
    "DASBCodec",
    "CommandLineCodec",
    "Codec2Codec",
    "OpusCodec",
    "peer_codec",
    "codec_from_spec",
    "PEERS",
]


class CodecUnavailable(RuntimeError):
    """A codec cannot run on this machine (a missing tool or missing weights); the message names what is missing."""


class Codec:
    """One codec: ``encode([T]) -> code``, ``decode(code, T) -> [T]`` at
    ``sample_rate``; ``bitrate`` (bit/s) and ``tokens_per_second`` (None
    where the codec has no tokens) describe its code."""

    name = "codec"
    sample_rate = 16000
    bitrate: Optional[float] = None
    tokens_per_second: Optional[float] = None

    def encode(self, wav: torch.Tensor) -> object:  # pragma: no cover
        raise NotImplementedError

    def decode(self, code: object, num_samples: int) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError

    def check(self) -> None:
        """Raises ``CodecUnavailable`` where the codec cannot run here."""

    @staticmethod
    def fit(wav: torch.Tensor, num_samples: int) -> torch.Tensor:
        """``wav`` (``[T']``) cut or zero-padded to ``num_samples``, float on the CPU.

        Example
        -------
        >>> Codec.fit(torch.ones(3), 5).tolist(), Codec.fit(torch.ones(3), 2).tolist()
        ([1.0, 1.0, 1.0, 0.0, 0.0], [1.0, 1.0])
        """
        wav = wav.detach().float().cpu().reshape(-1)[:num_samples]
        return torch.nn.functional.pad(wav, (0, num_samples - wav.numel()))


class JEPAFolderCodec(Codec):
    """An exported model folder of ours (None: the shipped model).

    Example
    -------
    >>> from jepa_tokenizer.models.config import load_model_config
    >>> from jepa_tokenizer.pretrained.export import export_codec
    >>> folder = export_codec(load_model_config("jepa_tiny.yaml")["codec"], tempfile.mkdtemp())
    >>> codec = JEPAFolderCodec(folder, name="tiny")
    >>> wav = torch.randn(8000) * 0.1
    >>> codec.decode(codec.encode(wav), wav.numel()).shape
    torch.Size([8000])
    """

    def __init__(self, folder=None, device: str = "cpu", name: Optional[str] = None):
        self.tokenizer = JEPATokenizer.from_folder(folder, device)
        self.name = name or Path(self.tokenizer.source).name
        self.sample_rate = self.tokenizer.sample_rate
        self.bitrate = float(self.tokenizer.codec.bitrate)
        self.tokens_per_second = float(self.tokenizer.codec.tokens_per_second)

    @torch.no_grad()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        return self.tokenizer.encode_batch(wav.unsqueeze(0).to(self.tokenizer.device))

    @torch.no_grad()
    def decode(self, code: torch.Tensor, num_samples: int) -> torch.Tensor:
        return self.fit(self.tokenizer.decode_batch(code)[0], num_samples)


class DASBCodec(Codec):
    """A tokenizer with DASB's ``sig_to_tokens`` / ``tokens_to_sig``."""

    def __init__(self, tokenizer: DASBTokenizer, name: str):
        self.tokenizer = tokenizer.eval()
        self.name = name
        self.sample_rate = int(tokenizer.sample_rate)
        self.bitrate = float(tokenizer.bitrate)
        self.tokens_per_second = float(tokenizer.tokens_per_second)

    @torch.no_grad()
    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        return self.tokenizer.sig_to_tokens(wav.unsqueeze(0), torch.ones(1))

    @torch.no_grad()
    def decode(self, code: torch.Tensor, num_samples: int) -> torch.Tensor:
        return self.fit(self.tokenizer.tokens_to_sig(code)[0], num_samples)


class CommandLineCodec(Codec):
    """A codec run as two programs, each reading and writing a file in a
    temporary folder: the code is the bytes of the encoded file.

    Subclasses name the ``tools`` (``check`` looks for them on the PATH: a
    ``CodecUnavailable`` naming the Debian ``package`` where missing), write the input file
    (``write_input``), give the two command lines and read the decoded file.
    """

    tools: Sequence[str] = ()
    package = ""
    suffixes = (".in", ".code", ".out")

    def check(self) -> None:
        missing = [tool for tool in self.tools if shutil.which(tool) is None]
        if missing:
            raise CodecUnavailable(f"{self.name} needs {', '.join(missing)}: apt-get install {self.package}")

    def _run(self, command: Sequence[str]) -> None:
        result = subprocess.run(list(command), capture_output=True, text=True)
        if result.returncode != 0:
            last = (result.stderr or result.stdout).strip().splitlines()[-1:] or ["no output"]
            raise RuntimeError(f"{self.name}: {command[0]} failed ({result.returncode}): {last[0]}")

    def encode(self, wav: torch.Tensor) -> bytes:
        with tempfile.TemporaryDirectory() as folder:
            source, code = (Path(folder) / f"audio{suffix}" for suffix in self.suffixes[:2])
            self.write_input(source, wav)
            self._run(self.encode_command(source, code))
            return code.read_bytes()

    def decode(self, code: bytes, num_samples: int) -> torch.Tensor:
        with tempfile.TemporaryDirectory() as folder:
            coded, output = (Path(folder) / f"audio{suffix}" for suffix in self.suffixes[1:])
            coded.write_bytes(code)
            self._run(self.decode_command(coded, output))
            return self.fit(self.read_output(output), num_samples)

    def write_input(self, path: Path, wav: torch.Tensor) -> None:  # pragma: no cover
        raise NotImplementedError

    def encode_command(self, source: Path, code: Path) -> Sequence[str]:  # pragma: no cover
        raise NotImplementedError

    def decode_command(self, code: Path, output: Path) -> Sequence[str]:  # pragma: no cover
        raise NotImplementedError

    def read_output(self, path: Path) -> torch.Tensor:  # pragma: no cover
        raise NotImplementedError


def _pcm16(wav: torch.Tensor) -> bytes:
    """Little-endian 16-bit samples of a ``[T]`` waveform in [-1, 1]."""
    return (wav.detach().float().cpu().clamp(-1, 1) * 32767).round().to(torch.int16).numpy().astype("<i2").tobytes()


class Codec2Codec(CommandLineCodec):
    """Codec2 at ``mode`` (``700C``, ``1200``, ``3200``...: its bit/s)
    through ``c2enc`` / ``c2dec`` (Debian ``codec2``), on raw 16-bit mono
    audio at 8 kHz.

    Example
    -------
    >>> codec = Codec2Codec("700C")
    >>> codec.name, codec.bitrate, codec.sample_rate
    ('Codec2 700C', 700.0, 8000)
    """

    tools = ("c2enc", "c2dec")
    package = "codec2"
    sample_rate = 8000
    suffixes = (".raw", ".c2", ".out.raw")

    def __init__(self, mode: str = "700C", c2enc: str = "c2enc", c2dec: str = "c2dec"):
        digits = re.match(r"\d+", mode)
        if digits is None:
            raise ValueError(f"Codec2 mode {mode!r} is not a bit rate such as 700C, 1200 or 3200")
        self.mode, self.name, self.bitrate = mode, f"Codec2 {mode}", float(digits.group())
        self.tools = (c2enc, c2dec)

    def write_input(self, path: Path, wav: torch.Tensor) -> None:
        path.write_bytes(_pcm16(wav))

    def encode_command(self, source: Path, code: Path) -> Sequence[str]:
        return [self.tools[0], self.mode, str(source), str(code)]

    def decode_command(self, code: Path, output: Path) -> Sequence[str]:
        return [self.tools[1], self.mode, str(code), str(output)]

    def read_output(self, path: Path) -> torch.Tensor:
        return torch.frombuffer(bytearray(path.read_bytes()), dtype=torch.int16).float() / 32768


class OpusCodec(CommandLineCodec):
    """Opus at ``kbps`` kbit/s, constant (``opusenc --hard-cbr``), decoded
    by ``opusdec`` at ``sample_rate`` (Debian ``opus-tools``).

    Example
    -------
    >>> codec = OpusCodec(6)
    >>> codec.name, codec.bitrate
    ('Opus 6 kbit/s', 6000.0)
    """

    tools = ("opusenc", "opusdec")
    package = "opus-tools"
    suffixes = (".wav", ".opus", ".out.wav")

    def __init__(self, kbps: float = 6, sample_rate: int = 16000, opusenc: str = "opusenc", opusdec: str = "opusdec"):
        self.kbps, self.name, self.bitrate = kbps, f"Opus {kbps:g} kbit/s", 1000.0 * kbps
        self.sample_rate = sample_rate
        self.tools = (opusenc, opusdec)

    def write_input(self, path: Path, wav: torch.Tensor) -> None:
        save_audio(path, wav, self.sample_rate)

    def encode_command(self, source: Path, code: Path) -> Sequence[str]:
        return [self.tools[0], "--quiet", "--hard-cbr", "--bitrate", f"{self.kbps:g}", str(source), str(code)]

    def decode_command(self, code: Path, output: Path) -> Sequence[str]:
        return [self.tools[1], "--quiet", "--rate", str(self.sample_rate), str(code), str(output)]

    def read_output(self, path: Path) -> torch.Tensor:
        return load_audio(path, self.sample_rate).wav


def _hub_snapshot(repo_id: str, name: str) -> str:
    """The local snapshot folder of a Hugging Face model, without downloading."""
    try:
        from huggingface_hub import snapshot_download

        return snapshot_download(repo_id, local_files_only=True)
    except Exception:  # not cached (huggingface_hub raises several kinds), or no huggingface_hub
        raise CodecUnavailable(
            f"{name} skipped: its pretrained weights ({repo_id}) are not in the Hugging Face cache "
            f"(on a machine with network: huggingface-cli download {repo_id})"
        ) from None


def _dac_weights(model_type: str, model_bitrate: str) -> str:
    """The local file SpeechBrain's DAC loads its pretrained weights from, if present."""
    from speechbrain.lobes.models.discrete import dac

    tag = dac.__MODEL_LATEST_TAGS__[(model_type, model_bitrate)]
    path = Path.home() / f".cache/descript/dac/weights_{model_type}_{model_bitrate}_{tag}.pth"
    if not path.is_file():
        raise CodecUnavailable(
            f"DAC {model_type.replace('khz', ' kHz')} skipped: its pretrained weights ({path}) are missing "
            "(on a machine with network, SpeechBrain's DAC(load_pretrained=True) downloads them)"
        )
    return str(path)


#: the peers SpeechBrain wraps: spec -> (row name, builder of the DASB tokenizer from local weights only)
PEERS = {
    "encodec": (
        "EnCodec 24 kHz, 2 codebooks",
        lambda: EncodecDASBTokenizer(source=_hub_snapshot("facebook/encodec_24khz", "EnCodec"), bandwidth=1.5),
    ),
    "mimi": (
        "Mimi, 8 codebooks",
        lambda: MimiDASBTokenizer(source=_hub_snapshot("kyutai/mimi", "Mimi"), num_codebooks=8),
    ),
    "dac": (
        "DAC 24 kHz, 2 codebooks",
        lambda: DACDASBTokenizer(
            num_codebooks=2, load_pretrained=True, model_type="24khz", load_path=_dac_weights("24khz", "8kbps")
        ),
    ),
}


def peer_codec(kind: str) -> DASBCodec:
    """A peer of ``PEERS`` with its pretrained weights, from this machine
    only; ``CodecUnavailable`` (one line naming what is missing) otherwise.

    Example
    -------
    >>> peer_codec("wavtokenizer")
    Traceback (most recent call last):
    ...
    ValueError: unknown peer codec 'wavtokenizer'; choose one of encodec, mimi, dac
    """
    if kind not in PEERS:
        raise ValueError(f"unknown peer codec {kind!r}; choose one of {', '.join(PEERS)}")
    name, build = PEERS[kind]
    return DASBCodec(build(), name)


def codec_from_spec(spec: str, device: str = "cpu") -> Codec:
    """A codec from a short spec: ``jepa`` (the shipped model),
    ``jepa:FOLDER`` (an exported folder), ``codec2:MODE``, ``opus:KBPS``, or
    a peer (``encodec``, ``mimi``, ``dac``). Raises ``CodecUnavailable``
    where a tool or weights are missing.

    Example
    -------
    >>> codec_from_spec("codec2:1200").bitrate, codec_from_spec("opus:8").name
    (1200.0, 'Opus 8 kbit/s')
    >>> codec_from_spec("mp3:64")
    Traceback (most recent call last):
    ...
    ValueError: unknown codec spec 'mp3:64': use jepa, jepa:FOLDER, codec2:MODE, opus:KBPS, encodec, mimi or dac
    """
    kind, _, argument = spec.partition(":")
    if kind == "jepa":
        return JEPAFolderCodec(argument or None, device, name=None if argument else "shipped model")
    if kind == "codec2" and argument:
        codec = Codec2Codec(argument)
    elif kind == "opus" and argument:
        codec = OpusCodec(float(argument))
    elif kind in PEERS and not argument:
        return peer_codec(kind)
    else:
        peers = list(PEERS)
        raise ValueError(
            f"unknown codec spec {spec!r}: use jepa, jepa:FOLDER, codec2:MODE, opus:KBPS, "
            f"{', '.join(peers[:-1])} or {peers[-1]}"
        )
    return codec
