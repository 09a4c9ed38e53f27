"""A file format for tokens: what made them travels with them.

Layout (little-endian)::

    8 bytes   magic b"JEPATOK\\0"
    2 bytes   format version (uint16)
    4 bytes   header length H (uint32)
    H bytes   header, UTF-8 JSON: fingerprint of the model, sample rate,
              frame rate, radices, group size, tokens per frame, number of
              frames, original number of samples, token dtype, model source,
              digest of the audio file encoded (source_sha256)
    N*K*w     the tokens, row by row (uint16 when every token fits, else int32)
    4 bytes   CRC-32 of everything above

A wrong magic, an unknown version, a truncated or corrupt file, or decoding
with another model is a clear error.

Authors
 * jepa-tokenizer team 2026
"""

import hashlib
import json
import math
import re
import struct
import zlib
from pathlib import Path
from typing import Any, Dict, NamedTuple, Tuple, Union

import numpy as np
import torch
from torch import nn

from jepa_tokenizer.data.atomic import atomic_output, special_file_kind

__all__ = [
    "MAGIC",
    "VERSION",
    "TokenFile",
    "HEADER_FIELDS",
    "MAX_TOKEN_FILE_BYTES",
    "check_header",
    "escape_text",
    "read_header",
    "model_fingerprint",
    "codec_header",
    "save_tokens",
    "load_tokens",
]

MAGIC = b"JEPATOK\0"
VERSION = 1
_PREFIX = struct.Struct("<8sHI")
_CRC = struct.Struct("<I")
_DTYPES = {"uint16": np.dtype("<u2"), "int32": np.dtype("<i4")}


class TokenFile(NamedTuple):
    """Tokens ``[N, K]`` (int64) and the header they were saved with."""

    tokens: torch.Tensor
    header: Dict[str, Any]


def model_fingerprint(codec: nn.Module) -> str:
    """SHA-256 (first 16 hex digits) over the codec's tensors, names and shapes."""
    digest = hashlib.sha256()
    for name, tensor in sorted(codec.state_dict().items()):
        digest.update(name.encode())
        digest.update(str(tuple(tensor.shape)).encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    return digest.hexdigest()[:16]


def codec_header(codec, num_samples: int, source: str = "") -> Dict[str, Any]:
    """The header fields describing ``codec`` (a ``JEPACodec``)."""
    packer = codec.packer
    return {
        "fingerprint": model_fingerprint(codec),
        "sample_rate": codec.sample_rate,
        "frame_rate": codec.frame_rate,
        "radices": packer.radix_table.flatten()[: packer.num_digits].tolist(),
        "group_size": packer.group_size,
        "tokens_per_frame": codec.tokens_per_frame,
        "num_samples": int(num_samples),
        "model_source": source,
    }


def save_tokens(path: Union[str, Path], tokens: torch.Tensor, header: Dict[str, Any]) -> Path:
    """Writes ``[N, K]`` tokens with ``header`` (see ``codec_header``).

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.jtok")
    >>> _ = save_tokens(path, torch.tensor([[1, 2], [3, 4]]), {"tokens_per_frame": 2})
    >>> loaded = load_tokens(path)
    >>> loaded.tokens.tolist(), loaded.header["num_frames"]
    ([[1, 2], [3, 4]], 2)
    """
    if tokens.dim() != 2 or tokens.is_floating_point():
        raise ValueError(f"save_tokens takes integer tokens [frames, tokens_per_frame]; got {tuple(tokens.shape)}")
    if "tokens_per_frame" in header and tokens.shape[1] != header["tokens_per_frame"]:
        raise ValueError(f"tokens have {tokens.shape[1]} per frame, the header says {header['tokens_per_frame']}")
    values = tokens.detach().cpu().numpy()
    kind = "uint16" if values.size == 0 or (values.min() >= 0 and values.max() < 2**16) else "int32"
    header = {**header, "num_frames": int(tokens.shape[0]), "tokens_per_frame": int(tokens.shape[1]), "dtype": kind}
    blob = json.dumps(header, sort_keys=True).encode()
    body = _PREFIX.pack(MAGIC, VERSION, len(blob)) + blob + values.astype(_DTYPES[kind]).tobytes()
    with atomic_output(path) as partial:
        partial.write_bytes(body + _CRC.pack(zlib.crc32(body)))
    return Path(path)


def _count(minimum: int):
    return lambda v: type(v) is int and v >= minimum, f"an integer >= {minimum}"


def _positive_number():
    return lambda v: type(v) in (int, float) and math.isfinite(v) and v > 0, "a positive number"


#: Header fields: (test, what it must be). The first three are needed to read
#: the tokens; the others are checked when present (a header from save_tokens
#: may hold only some of them).
HEADER_FIELDS = {
    "num_frames": _count(0),
    "tokens_per_frame": _count(1),
    "dtype": (lambda v: isinstance(v, str) and v in _DTYPES, f"one of {sorted(_DTYPES)}"),
    "num_samples": _count(0),
    "sample_rate": _count(1),
    "frame_rate": _positive_number(),
    "group_size": _count(1),
    "radices": (lambda v: isinstance(v, list) and all(type(r) is int and r >= 2 for r in v), "a list of integers >= 2"),
    "fingerprint": (lambda v: isinstance(v, str), "a string"),
    "model_source": (lambda v: isinstance(v, str), "a string"),
    "source_sha256": (lambda v: isinstance(v, str) and re.fullmatch("[0-9a-f]{16}", v) is not None, "16 hex digits"),
}
REQUIRED_HEADER_FIELDS = ("num_frames", "tokens_per_frame", "dtype")


def check_header(header: Any, path: Union[str, Path] = "token file") -> None:
    """Raises a one-line ``ValueError`` unless ``header`` is a JSON object
    whose known fields have the types and ranges of :data:`HEADER_FIELDS`.

    Example
    -------
    >>> check_header({"num_frames": 2, "tokens_per_frame": 19, "dtype": "uint16"})
    >>> check_header({"num_frames": 2, "tokens_per_frame": 19, "dtype": "uint16", "sample_rate": 0}, "x.jtok")
    Traceback (most recent call last):
    ...
    ValueError: x.jtok is corrupt: header field sample_rate is 0, not an integer >= 1
    """
    if not isinstance(header, dict):
        raise ValueError(f"{path} is corrupt: its header is a JSON {type(header).__name__}, not an object")
    missing = [name for name in REQUIRED_HEADER_FIELDS if name not in header]
    if missing:
        raise ValueError(f"{path} is corrupt: its header lacks {', '.join(missing)}")
    for name, (test, what) in HEADER_FIELDS.items():
        if name in header and not test(header[name]):
            raise ValueError(f"{path} is corrupt: header field {name} is {escape_text(header[name], 40)}, not {what}")


def escape_text(value: Any, width: int = 80) -> str:
    """``value`` as JSON (control characters and quotes escaped), cut to
    ``width`` characters: header text from a stranger is printed only so.

    Example
    -------
    >>> print(escape_text("x\\x1b[2J" + "y" * 100, 20))
    "x\\u001b[2Jyyyyyy...
    """
    shown = json.dumps(value)
    return shown if len(shown) <= width else shown[: width - 3] + "..."


#: The largest token file read by default (bytes): 256 MiB holds about 780
#: hours of 47.5 tokens/s; raise it with ``load_tokens(..., max_bytes=...)``.
MAX_TOKEN_FILE_BYTES = 256 * 2**20


def _check_path(path: Path, max_bytes: int) -> None:
    if not path.is_file():
        kind = special_file_kind(path)
        raise ValueError(
            f"{path} is a {kind}, not a token file"
            if kind
            else f"{path} is not a file" + ("" if path.exists() else " (it does not exist)")
        )
    size = path.stat().st_size
    if size > max_bytes:
        raise ValueError(f"{path} holds {size} bytes, more than the limit of {max_bytes} (max_bytes)")


def _parse_header(data: bytes, path: Path) -> Tuple[Dict[str, Any], int]:
    """The checked header at the start of ``data`` and where the tokens start."""
    if len(data) < _PREFIX.size or data[:8] != MAGIC:
        raise ValueError(f"{path} is not a JEPA token file (wrong magic bytes)")
    _, version, header_len = _PREFIX.unpack_from(data)
    if version != VERSION:
        raise ValueError(f"{path} has token-file version {version}; this version reads {VERSION}")
    start = _PREFIX.size + header_len
    if len(data) < start:
        raise ValueError(f"{path} is truncated (its header is incomplete)")
    try:
        header = json.loads(data[_PREFIX.size : start].decode())
    except (ValueError, UnicodeDecodeError, RecursionError) as err:
        raise ValueError(f"{path} is corrupt: unreadable header ({str(err)[:80]})") from None
    check_header(header, path)
    return header, start


def read_header(path: Union[str, Path], max_bytes: int = MAX_TOKEN_FILE_BYTES) -> Dict[str, Any]:
    """The checked header of a token file, reading only the file's start
    (the tokens and checksum are not read: :func:`load_tokens` checks them).

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "x.jtok")
    >>> _ = save_tokens(path, torch.zeros(5, 2, dtype=torch.long), {"source_sha256": "0123456789abcdef"})
    >>> read_header(path)["source_sha256"], read_header(path)["num_frames"]
    ('0123456789abcdef', 5)
    """
    path = Path(path)
    _check_path(path, max_bytes)
    with open(path, "rb") as stream:
        data = stream.read(_PREFIX.size)
        if len(data) == _PREFIX.size and data[:8] == MAGIC:
            data += stream.read(_PREFIX.unpack_from(data)[2])
    return _parse_header(data, path)[0]


def load_tokens(path: Union[str, Path], max_bytes: int = MAX_TOKEN_FILE_BYTES) -> TokenFile:
    """Reads a token file, checking its size (at most ``max_bytes``, before
    reading), magic, version, header fields, length and checksum."""
    path = Path(path)
    _check_path(path, max_bytes)
    data = path.read_bytes()
    header, start = _parse_header(data, path)
    if len(data) < start + _CRC.size:
        raise ValueError(f"{path} is truncated (its header is incomplete)")
    frames, per_frame, dtype = header["num_frames"], header["tokens_per_frame"], _DTYPES[header["dtype"]]
    end = start + frames * per_frame * dtype.itemsize
    if len(data) != end + _CRC.size:
        raise ValueError(f"{path} is truncated or has trailing bytes: {len(data)} bytes, expected {end + _CRC.size}")
    (stored,) = _CRC.unpack_from(data, end)
    if zlib.crc32(data[:end]) != stored:
        raise ValueError(f"{path} is corrupt (checksum mismatch)")
    values = np.frombuffer(data[start:end], dtype=dtype).astype(np.int64).reshape(frames, per_frame)
    return TokenFile(torch.from_numpy(values.copy()), header)
