"""Speech files on disk: the audio files of a folder tree, their durations,
and the rows of a CSV of speech.

* :func:`walk_files` lists every file under a folder (following linked
  folders), :func:`find_audio` the audio files among them;
  :func:`normalise_extensions` spells the extensions they take alike.
* :func:`audio_duration` reads an audio file's duration from its header
  (unreadable, empty or truncated files are skipped with a warning);
  :func:`measure_rows` makes the rows of a manifest of such files.
* :func:`read_speech_rows` reads a CSV of speech (``ID``, ``wav``, ``wrd``)
  and keeps the rows selected by column values; :func:`parse_column_values`
  reads the command line's ``COLUMN=VALUE[,VALUE...]`` filters of it.
* :func:`check_data_folder` and :func:`check_names` check what every prepare
  script is given: a data folder that exists, plain split / manifest names.

The preparation of manifests (:mod:`jepa_tokenizer.data.manifests`), the
evaluation and the command line read speech with these.

Authors
 * jepa-tokenizer team 2026
"""

from __future__ import annotations

import csv
import logging
import os
from pathlib import Path
from typing import Dict, Iterable, List, Optional, Sequence, Tuple, Union

import soundfile

__all__ = [
    "walk_files",
    "find_audio",
    "normalise_extensions",
    "audio_duration",
    "measure_rows",
    "read_speech_rows",
    "parse_column_values",
    "check_data_folder",
    "check_names",
    "PathLike",
]

logger = logging.getLogger(__name__)

#: A path given as a string or a path object.
PathLike = Union[str, os.PathLike]


def walk_files(folder: Path) -> List[Path]:
    """Every regular file under ``folder``, sorted, following linked folders.

    ``Path.rglob`` does not descend into symbolic links to folders before
    Python 3.13, so a tree of linked speaker folders looked empty; this walk
    follows them and visits each real folder once (a folder reached twice,
    or a link loop, is read the first time only).

    Example
    -------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> (root / "real").mkdir(); _ = (root / "real" / "a.flac").write_bytes(b"")
    >>> (root / "linked").symlink_to(root / "real")
    >>> [str(p.relative_to(root)) for p in walk_files(root)]
    ['linked/a.flac']
    """
    files, seen = [], set()
    for current, folders, names in os.walk(folder, followlinks=True):
        real = os.path.realpath(current)
        if real in seen:
            folders[:] = []
            continue
        seen.add(real)
        folders.sort()
        files.extend(Path(current) / name for name in names if os.path.isfile(os.path.join(current, name)))
    return sorted(files)


def find_audio(folder: Path, extensions: Sequence[str]) -> List[Path]:
    """Every file under ``folder`` whose lower-cased suffix is in ``extensions``."""
    return [path for path in walk_files(folder) if path.suffix.lower() in extensions]


def normalise_extensions(extensions: Sequence[str]) -> Tuple[str, ...]:
    """``("WAV", ".flac")`` -> ``(".wav", ".flac")``."""
    if isinstance(extensions, str):
        extensions = [extensions]
    exts = tuple(dict.fromkeys("." + ext.lower().lstrip(".") for ext in extensions))
    if not exts or "." in exts:
        raise ValueError(f"Invalid audio extensions: {extensions!r}")
    return exts


def audio_duration(path: Path) -> Optional[float]:
    """The duration of an audio file in seconds, or None if unreadable or empty."""
    try:
        info = soundfile.info(str(path))
    except Exception as error:  # soundfile raises several types for bad files
        logger.warning("Skipping unreadable audio file %s: %s", path, error)
        return None
    if info.frames <= 0 or info.samplerate <= 0:
        logger.warning("Skipping empty audio file %s (%d frames)", path, info.frames)
        return None
    # the header alone does not reveal a truncated file: decode its last frame
    try:
        with soundfile.SoundFile(str(path)) as stream:
            stream.seek(info.frames - 1)
            last = stream.read(1)
    except Exception as error:  # soundfile raises several types for bad files
        logger.warning("Skipping truncated audio file %s: %s", path, error)
        return None
    if len(last) != 1:
        logger.warning("Skipping truncated audio file %s: its last frame is missing", path)
        return None
    return info.frames / info.samplerate


def measure_rows(entries: Iterable[Tuple[str, Path, List[str]]], what: str) -> List[List[str]]:
    """Reads the duration of each entry; drops unreadable files; sorts by ID."""
    rows = []
    skipped = total = 0
    for utt_id, path, extra in entries:
        total += 1
        duration = audio_duration(path)
        if duration is None:
            skipped += 1
            continue
        rows.append([utt_id, repr(duration), os.path.abspath(path), *extra])
    if skipped:
        logger.warning("Skipped %d of %d unreadable audio file(s) in %s", skipped, total, what)
    if not rows:
        raise ValueError(f"All {total} audio file(s) in {what} are unreadable or empty")
    rows.sort(key=lambda row: row[0])
    return rows


def read_speech_rows(
    path: PathLike,
    select: Optional[Dict[str, Sequence[str]]] = None,
    exclude: Optional[Dict[str, Sequence[str]]] = None,
) -> List[Dict[str, str]]:
    """The rows (dicts) of a CSV of speech with at least the columns ``ID``,
    ``wav`` and ``wrd``, keeping those whose column values are among
    ``select``'s and none of ``exclude``'s. A missing file, missing columns,
    an unknown selection column or no row left is an error naming the file.

    Example
    -------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "m.csv"
    >>> _ = path.write_text("ID,wav,wrd,spk\\na,a.wav,A,1\\nb,b.wav,B,2\\nc,c.wav,C,3\\n")
    >>> [r["ID"] for r in read_speech_rows(path, select={"spk": ["1", "2"]}, exclude={"spk": [2]})]
    ['a']
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"manifest not found: {path}")
    with open(path, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))
    missing = {"ID", "wav", "wrd"} - set(rows[0] if rows else {})
    if not rows or missing:
        raise ValueError(f"{path} needs the columns ID, wav and wrd and at least one row (missing: {sorted(missing)})")
    what = str(path)
    for column in set(select or {}) | set(exclude or {}):
        if column not in rows[0]:
            raise ValueError(f"{what} has no column {column!r} to select utterances by")
    for column, values in (select or {}).items():
        rows = [row for row in rows if row[column] in {str(v) for v in values}]
    for column, values in (exclude or {}).items():
        rows = [row for row in rows if row[column] not in {str(v) for v in values}]
    if not rows:
        raise ValueError(f"no utterance of {what} is left after select={select} exclude={exclude}")
    return rows


def parse_column_values(pairs: Optional[Sequence[str]]) -> Dict[str, List[str]]:
    """Command-line filters of ``read_speech_rows``: ``["col=a,b", ...]`` ->
    ``{"col": ["a", "b"]}`` (a column given twice gets both lists).

    Example
    -------
    >>> parse_column_values(["corpus=LibriSpeech", "spk_id=2412,61", "spk_id=1"])
    {'corpus': ['LibriSpeech'], 'spk_id': ['2412', '61', '1']}
    """
    out: Dict[str, List[str]] = {}
    for pair in pairs or []:
        column, sep, values = pair.partition("=")
        if not sep or not column or not values:
            raise ValueError(f"expected COLUMN=VALUE[,VALUE...]; got {pair!r}")
        out.setdefault(column, []).extend(values.split(","))
    return out


def check_data_folder(data_folder: PathLike) -> Path:
    """The absolute data folder; a clear error if it is missing."""
    folder = Path(os.path.abspath(data_folder))
    if not folder.is_dir():
        raise FileNotFoundError(f"Data folder not found: {folder}")
    return folder


def check_names(names: Sequence[str], what: str) -> List[str]:
    """Checks split / manifest names: non-empty, no separators, no duplicates."""
    if isinstance(names, str):
        names = [names]
    names = list(names)
    if not names:
        raise ValueError(f"No {what} given")
    for name in names:
        if not isinstance(name, str) or not name or name in (".", "..") or "/" in name or os.sep in name:
            raise ValueError(f"Invalid {what} {name!r}: expected a plain folder / file name")
    if len(set(names)) != len(names):
        raise ValueError(f"Duplicate {what} in {names}")
    return names
