"""Atomic file outputs: a file appears at its final path only once complete.

Every writer of the package (token files, audio, manifests) writes next to
the final path and renames, so an interrupted or failed write never leaves a
short file that reads as valid, and a rerun can trust any output it finds.
:func:`write_csv` and :func:`write_json` write the manifests and their options
files so. Also: what kind of special file a path is (for errors that name it)
and a digest of a file's bytes (what a token file or decoded audio records of
the file it came from).

Authors
 * jepa-tokenizer team 2026
"""

import csv
import hashlib
import json
import os
import stat
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, List, Optional, Sequence, Union

__all__ = ["atomic_output", "partial_path", "special_file_kind", "file_digest", "write_csv", "write_json"]


def partial_path(path: Union[str, Path]) -> Path:
    """The hidden temporary name :func:`atomic_output` writes ``path`` under.

    Example
    -------
    >>> partial_path("out/a.wav")
    PosixPath('out/.a.wav.partial')
    """
    path = Path(path)
    return path.with_name(f".{path.name}.partial")


_SPECIAL_KINDS = (
    (stat.S_ISFIFO, "FIFO"),
    (stat.S_ISCHR, "character device"),
    (stat.S_ISBLK, "block device"),
    (stat.S_ISSOCK, "socket"),
)


def special_file_kind(path: Union[str, Path]) -> Optional[str]:
    """``"FIFO"``, ``"character device"``, ``"block device"`` or ``"socket"``
    when ``path`` is one (it is never opened), else None.

    Example
    -------
    >>> special_file_kind("/dev/zero"), special_file_kind("/")
    ('character device', None)
    """
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return None
    for test, name in _SPECIAL_KINDS:
        if test(mode):
            return name
    return None


def file_digest(path: Union[str, Path]) -> str:
    """SHA-256 of a file's bytes (first 16 hex digits), read in blocks.

    Example
    -------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "x"
    >>> _ = path.write_bytes(b"abc")
    >>> file_digest(path)
    'ba7816bf8f01cfea'
    """
    digest = hashlib.sha256()
    with open(path, "rb") as stream:
        for block in iter(lambda: stream.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()[:16]


@contextmanager
def atomic_output(path: Union[str, Path]) -> Iterator[Path]:
    """Yields a hidden temporary path beside ``path``; on success it is renamed
    to ``path`` (replacing any old file), on an error it is removed.

    Example
    -------
    >>> import tempfile
    >>> final = Path(tempfile.mkdtemp()) / "out.txt"
    >>> with atomic_output(final) as partial:
    ...     _ = partial.write_text("done")
    >>> final.read_text()
    'done'
    >>> try:
    ...     with atomic_output(final) as partial:
    ...         _ = partial.write_text("half")
    ...         raise OSError("disk full")
    ... except OSError:
    ...     pass
    >>> final.read_text(), sorted(p.name for p in final.parent.iterdir())
    ('done', ['out.txt'])
    """
    path = Path(path)
    if path.name in ("", ".", "..") or str(path).endswith(os.sep):
        raise ValueError(f"output path {str(path)!r} names a folder, not a file")
    if path.is_dir():
        raise ValueError(f"output path {path} is an existing folder")
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = partial_path(path)
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise


def write_csv(path: Union[str, Path], columns: Sequence[str], rows: List[List[str]]) -> None:
    """Writes a CSV atomically (temporary file, then rename)."""
    with atomic_output(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        writer.writerows(rows)


def write_json(path: Union[str, Path], content: dict) -> None:
    """Writes a JSON file atomically (temporary file, then rename)."""
    with atomic_output(path) as temporary, open(temporary, "w", encoding="utf-8") as stream:
        json.dump(content, stream, indent=2)
        stream.write("\n")
