"""SpeechBrain CSV manifests of speech corpora: the LibriSpeech layout, any
folder tree of audio, and the routines both (and every recipe's prepare
script) share: reading durations, skipping work already done, atomic writes.

* :func:`prepare_librispeech` reads the standard LibriSpeech layout
  ``<data_folder>/<split>/<spk>/<chapter>/<spk>-<chapter>-<utt>.flac`` (or
  ``.wav``, ``.opus``, ``.ogg``, ``.mp3``) with one
  ``<spk>-<chapter>.trans.txt`` per chapter (also the embedded corpus's layout)
  and writes ``<save_folder>/<split>.csv`` with the columns
  ``ID, duration, wav, spk_id, wrd``.
* :func:`prepare_unlabelled` reads any folder tree of audio (e.g. LibriLight)
  and writes ``<save_folder>/<name>.csv`` with ``ID, duration, wav, spk_id``.
* :func:`link_split` lays the rows of any manifest (``ID`` of the form
  ``<spk>-<chapter>-<utt>``, ``wav``, ``wrd``) out as a LibriSpeech split of
  symbolic links, e.g. the LibriSpeech test-clean recordings of an
  evaluation manifest as a test split for the recipes;
  :func:`read_speech_rows` reads and filters such a manifest (also for the
  evaluation).
* :func:`merge_manifests` joins manifests into one;
  :func:`prepare_split_groups` prepares splits and merges them into one
  manifest per role (train, valid, test...).

Work already done is skipped: when every manifest exists and a small JSON file
in ``save_folder`` records the same options, nothing is read again. Unreadable
audio files are skipped with a warning; every other inconsistency of the corpus
is an error naming the offending path. The command line is the LibriSpeech
recipe's ``librispeech_prepare.py``.

Authors
 * jepa-tokenizer team 2026
"""

from __future__ import annotations

import csv
import json
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import soundfile

from jepa_tokenizer.data.atomic import atomic_output
from jepa_tokenizer.data.audio import AUDIO_EXTENSIONS

__all__ = [
    "prepare_librispeech",
    "prepare_unlabelled",
    "merge_manifests",
    "link_split",
    "read_speech_rows",
    "parse_column_values",
    "prepare_split_groups",
    "split_manifests",
    "write_labelled_manifests",
    "measure_rows",
    "audio_duration",
    "find_audio",
    "walk_files",
    "download_librispeech",
    "check_data_folder",
    "check_names",
    "normalise_extensions",
    "already_done",
    "write_csv",
    "write_json",
    "LABELLED_COLUMNS",
    "UNLABELLED_COLUMNS",
    "LIBRISPEECH_EXTENSIONS",
]

logger = logging.getLogger(__name__)

PathLike = Union[str, os.PathLike]

#: Columns of a labelled manifest, in order.
LABELLED_COLUMNS = ("ID", "duration", "wav", "spk_id", "wrd")
#: Columns of an unlabelled manifest, in order.
UNLABELLED_COLUMNS = ("ID", "duration", "wav", "spk_id")

#: Audio extensions accepted in the LibriSpeech layout (lower case): FLAC as
#: OpenSLR ships it, WAV, and Ogg Opus (how ../shared/mini_librispeech and
#: many corpora are stored).
LIBRISPEECH_EXTENSIONS = AUDIO_EXTENSIONS
#: Name of the options file of :func:`prepare_librispeech` in ``save_folder``.
LABELLED_OPTIONS_FILE = "librispeech_prepare.json"
#: Suffix of the transcript files of the LibriSpeech layout.
TRANSCRIPT_SUFFIX = ".trans.txt"
#: Bumped whenever the manifest format changes, so old manifests are redone.
MANIFEST_VERSION = 2  # 2: Ogg Opus (and .ogg, .mp3) collected too


def prepare_librispeech(
    data_folder: PathLike,
    save_folder: PathLike,
    splits: Sequence[str],
    skip_prep: bool = False,
) -> Dict[str, str]:
    """Writes one labelled CSV manifest per LibriSpeech split.

    Arguments
    ---------
    data_folder : str or os.PathLike
        The LibriSpeech root, holding one folder per split
        (e.g. ``LibriSpeech/`` with ``train-clean-100/``, ``dev-clean/``...).
    save_folder : str or os.PathLike
        Where ``<split>.csv`` and the options file are written (created if needed).
    splits : sequence of str
        The split folder names to prepare, e.g. ``["train-clean-100", "dev-clean"]``.
    skip_prep : bool
        If True, nothing is checked or written; the manifest paths are returned.

    Returns
    -------
    dict of str to str
        The manifest path of each split, ``{split: "<save_folder>/<split>.csv"}``.
        Columns: ``ID, duration, wav, spk_id, wrd`` (duration in seconds, wav an
        absolute path, spk_id the speaker folder name, wrd the transcript), rows
        sorted by ID.

    Raises
    ------
    FileNotFoundError
        If ``data_folder`` or a split folder is missing, or a chapter folder
        holds audio but no ``*.trans.txt``.
    ValueError
        If ``splits`` is empty, a split holds no (readable) audio, a transcript
        line is malformed, or audio and transcripts do not match one to one.

    Example
    -------
    >>> prepare_librispeech("LibriSpeech", "results/prep", ["dev-clean"])  # doctest: +SKIP
    {'dev-clean': 'results/prep/dev-clean.csv'}
    """
    manifests = split_manifests(save_folder, splits)
    if skip_prep:
        return manifests
    splits, save_folder = list(manifests), Path(save_folder)

    data_folder = check_data_folder(data_folder)
    options = {
        "mode": "librispeech",
        "version": MANIFEST_VERSION,
        "data_folder": str(data_folder),
        "splits": sorted(splits),
    }
    for split in splits:
        split_folder = data_folder / split
        if not split_folder.is_dir():
            available = sorted(p.name for p in data_folder.iterdir() if p.is_dir())
            raise FileNotFoundError(
                f"Split folder not found: {split_folder} (folders in {data_folder}: {', '.join(available) or 'none'})"
            )
    write_labelled_manifests(
        save_folder / LABELLED_OPTIONS_FILE,
        options,
        manifests,
        lambda split: _labelled_rows(data_folder / split),
        "LibriSpeech",
    )
    return manifests


def split_manifests(save_folder: PathLike, splits: Sequence[str]) -> Dict[str, str]:
    """``{split: "<save_folder>/<split>.csv"}`` for valid split names.

    Example
    -------
    >>> split_manifests("prep", ["dev-clean"])
    {'dev-clean': 'prep/dev-clean.csv'}
    """
    return {split: str(Path(save_folder) / f"{split}.csv") for split in check_names(splits, "split")}


def write_labelled_manifests(
    options_path: Path,
    options: dict,
    manifests: Dict[str, str],
    rows_of: Callable[[str], List[List[str]]],
    corpus: str,
) -> None:
    """Writes each split's manifest (``rows_of(split)``) unless the options
    file records the same ``options`` for all of them. The options file is
    written last, so an interrupted run is redone, never mistaken for a
    finished one. Shared by the prepare scripts of every corpus."""
    if already_done(options_path, options, manifests.values()):
        logger.info("%s manifests already prepared in %s; skipping.", corpus, options_path.parent)
        return
    options_path.parent.mkdir(parents=True, exist_ok=True)
    options_path.unlink(missing_ok=True)
    for split, manifest in manifests.items():
        rows = rows_of(split)
        write_csv(Path(manifest), LABELLED_COLUMNS, rows)
        logger.info("Wrote %d utterances of %s to %s", len(rows), split, manifest)
    write_json(options_path, options)


def prepare_unlabelled(
    data_folder: PathLike,
    save_folder: PathLike,
    name: str,
    extensions: Sequence[str] = AUDIO_EXTENSIONS,
    skip_prep: bool = False,
) -> str:
    """Writes an unlabelled CSV manifest of every audio file in a folder tree.

    Arguments
    ---------
    data_folder : str or os.PathLike
        The root of the tree, searched recursively (e.g. a LibriLight subset).
    save_folder : str or os.PathLike
        Where ``<name>.csv`` and its options file are written (created if needed).
    name : str
        The manifest name (no path separators).
    extensions : sequence of str
        The audio file extensions to collect, case-insensitive (``"flac"`` or ``".flac"``).
    skip_prep : bool
        If True, nothing is checked or written; the manifest path is returned.

    Returns
    -------
    str
        The manifest path ``<save_folder>/<name>.csv``. Columns:
        ``ID, duration, wav, spk_id``: ID is the path relative to ``data_folder``
        without extension and with ``/`` replaced by ``-``; spk_id is the first
        folder under ``data_folder``, or ``"unknown"`` for files at the top.
        Rows sorted by ID.

    Raises
    ------
    FileNotFoundError
        If ``data_folder`` is missing.
    ValueError
        If no (readable) audio file is found, two files map to the same ID,
        or ``name`` / ``extensions`` is invalid.

    Example
    -------
    >>> prepare_unlabelled("librilight/small", "results/prep", "small")  # doctest: +SKIP
    'results/prep/small.csv'
    """
    (name,) = check_names([name], "manifest name")
    exts = normalise_extensions(extensions)
    save_folder = Path(save_folder)
    manifest = str(save_folder / f"{name}.csv")
    if skip_prep:
        return manifest

    data_folder = check_data_folder(data_folder)
    options = {
        "mode": "unlabelled",
        "version": MANIFEST_VERSION,
        "data_folder": str(data_folder),
        "name": name,
        "extensions": list(exts),
    }
    options_path = save_folder / f"{name}.prepare.json"
    if already_done(options_path, options, [manifest]):
        logger.info("Unlabelled manifest %s already prepared; skipping.", manifest)
        return manifest

    files = find_audio(data_folder, exts)
    if not files:
        raise ValueError(f"No audio files with extension {', '.join(exts)} found under {data_folder}")
    entries: Dict[str, Tuple[Path, str]] = {}
    for path in files:
        relative = path.relative_to(data_folder)
        utt_id = "-".join(relative.with_suffix("").parts)
        if utt_id in entries:
            raise ValueError(f"Two audio files map to the same ID {utt_id!r}: {entries[utt_id][0]} and {path}")
        spk_id = relative.parts[0] if len(relative.parts) > 1 else "unknown"
        entries[utt_id] = (path, spk_id)

    save_folder.mkdir(parents=True, exist_ok=True)
    options_path.unlink(missing_ok=True)
    rows = measure_rows(
        ((utt_id, path, [spk_id]) for utt_id, (path, spk_id) in entries.items()),
        what=str(data_folder),
    )
    write_csv(Path(manifest), UNLABELLED_COLUMNS, rows)
    logger.info("Wrote %d audio files of %s to %s", len(rows), data_folder, manifest)
    write_json(options_path, options)
    return manifest


# ---------------------------------------------------------------------------
# LibriSpeech layout


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


def link_split(
    manifest: PathLike,
    data_folder: PathLike,
    split: str,
    select: Optional[Dict[str, Sequence[str]]] = None,
    exclude: Optional[Dict[str, Sequence[str]]] = None,
) -> Path:
    """Writes ``<data_folder>/<split>/<spk>/<chapter>/`` with a symbolic link
    to each selected row's audio and the chapter's ``.trans.txt`` (from
    ``wrd``), so the LibriSpeech preparation reads it as a split. IDs must be
    LibriSpeech's ``<spk>-<chapter>-<utt>``; relative ``wav`` paths are
    relative to the manifest's folder. An existing split folder is an error
    (nothing is overwritten); the split is built in a staging folder and
    moved into place whole.

    Example
    -------
    >>> import tempfile, torch
    >>> from jepa_tokenizer.data.audio import save_audio
    >>> folder = Path(tempfile.mkdtemp())
    >>> save_audio(folder / "a.wav", torch.zeros(1600), 16000)
    >>> _ = (folder / "m.csv").write_text("ID,wav,wrd\\n1-2-0003,a.wav,HELLO\\n")
    >>> split = link_split(folder / "m.csv", folder / "LibriSpeech", "test-linked")
    >>> sorted(p.name for p in (split / "1" / "2").iterdir())
    ['1-2-0003.wav', '1-2.trans.txt']
    """
    manifest = Path(manifest)
    check_names([split], "split")
    target = Path(data_folder) / split
    if target.exists():
        raise FileExistsError(f"{target} exists; remove it to link the split again")
    rows = read_speech_rows(manifest, select, exclude)
    transcripts: Dict[Tuple[str, str], List[str]] = {}
    target.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{split}.", dir=target.parent))
    try:
        for row in rows:
            parts = row["ID"].split("-")
            if len(parts) != 3 or not all(part.isalnum() for part in parts):
                raise ValueError(f"{manifest}: ID {row['ID']!r} is not LibriSpeech's <speaker>-<chapter>-<utterance>")
            audio = Path(row["wav"]) if Path(row["wav"]).is_absolute() else manifest.parent / row["wav"]
            if not audio.is_file():
                raise FileNotFoundError(f"{manifest}: audio of {row['ID']} not found: {audio}")
            if audio.suffix.lower() not in LIBRISPEECH_EXTENSIONS:
                raise ValueError(f"{manifest}: {audio} is not one of {', '.join(LIBRISPEECH_EXTENSIONS)}")
            chapter = staging / parts[0] / parts[1]
            chapter.mkdir(parents=True, exist_ok=True)
            os.symlink(audio.resolve(), chapter / f"{row['ID']}{audio.suffix.lower()}")
            transcripts.setdefault((parts[0], parts[1]), []).append(f"{row['ID']} {row['wrd'].strip()}")
        for (speaker, chapter), lines in transcripts.items():
            text = "\n".join(lines) + "\n"
            (staging / speaker / chapter / f"{speaker}-{chapter}{TRANSCRIPT_SUFFIX}").write_text(text, encoding="utf-8")
        os.replace(staging, target)
    finally:
        if staging.exists():
            shutil.rmtree(staging)
    return target


def _labelled_rows(split_folder: Path) -> List[List[str]]:
    """Pairs the audio and transcripts of one split; returns the sorted rows."""
    audio = find_audio(split_folder, LIBRISPEECH_EXTENSIONS)
    if not audio:
        raise ValueError(f"No audio files ({', '.join(LIBRISPEECH_EXTENSIONS)}) found under {split_folder}")
    audio_by_chapter: Dict[Path, Dict[str, Path]] = {}
    for path in audio:
        chapter = audio_by_chapter.setdefault(path.parent, {})
        if path.stem in chapter:
            raise ValueError(f"Two audio files for utterance {path.stem}: {chapter[path.stem]} and {path}")
        chapter[path.stem] = path
    transcripts_by_chapter: Dict[Path, List[Path]] = {}
    for path in walk_files(split_folder):
        if path.name.endswith(TRANSCRIPT_SUFFIX):
            transcripts_by_chapter.setdefault(path.parent, []).append(path)

    entries: Dict[str, Tuple[Path, List[str]]] = {}
    for chapter in sorted(set(audio_by_chapter) | set(transcripts_by_chapter)):
        chapter_audio = audio_by_chapter.get(chapter, {})
        transcript_files = transcripts_by_chapter.get(chapter, [])
        if not transcript_files:
            raise FileNotFoundError(
                f"Chapter folder {chapter} holds {len(chapter_audio)} audio file(s) "
                f"but no *{TRANSCRIPT_SUFFIX} transcript"
            )
        words: Dict[str, Tuple[str, Path]] = {}
        for transcript in transcript_files:
            for utt_id, text in _read_transcript(transcript):
                if utt_id in words:
                    raise ValueError(f"Utterance {utt_id} transcribed twice: in {words[utt_id][1]} and {transcript}")
                words[utt_id] = (text, transcript)
        for utt_id, path in sorted(chapter_audio.items()):
            if utt_id not in words:
                raise ValueError(
                    f"Audio file {path} has no transcript line in {', '.join(str(t) for t in transcript_files)}"
                )
        for utt_id, (text, transcript) in sorted(words.items()):
            if utt_id not in chapter_audio:
                raise ValueError(
                    f"Transcript line {utt_id!r} of {transcript} has no audio file "
                    f"({' or '.join(utt_id + ext for ext in LIBRISPEECH_EXTENSIONS)}) in {chapter}"
                )
            if utt_id in entries:
                raise ValueError(
                    f"Utterance ID {utt_id} appears twice in {split_folder}: "
                    f"{entries[utt_id][0]} and {chapter_audio[utt_id]}"
                )
            relative = chapter_audio[utt_id].relative_to(split_folder)
            spk_id = relative.parts[0] if len(relative.parts) > 1 else utt_id.split("-")[0]
            entries[utt_id] = (chapter_audio[utt_id], [spk_id, text])

    return measure_rows(
        ((utt_id, path, extra) for utt_id, (path, extra) in entries.items()),
        what=str(split_folder),
    )


def _read_transcript(path: Path) -> List[Tuple[str, str]]:
    """Parses ``<utt_id> WORDS...`` lines; blank lines are ignored."""
    pairs = []
    with open(path, encoding="utf-8") as stream:
        for number, line in enumerate(stream, start=1):
            line = line.strip()
            if not line:
                continue
            fields = line.split(maxsplit=1)
            if len(fields) != 2:
                raise ValueError(
                    f"Malformed transcript line {number} of {path}: {line!r} (expected '<utterance-id> WORDS')"
                )
            pairs.append((fields[0], " ".join(fields[1].split())))
    return pairs


# ---------------------------------------------------------------------------
# Shared by every prepare script


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


def find_audio(folder: Path, extensions: Sequence[str]) -> List[Path]:
    """Every file under ``folder`` whose lower-cased suffix is in ``extensions``."""
    return [path for path in walk_files(folder) if path.suffix.lower() in extensions]


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


def normalise_extensions(extensions: Sequence[str]) -> Tuple[str, ...]:
    """``("WAV", ".flac")`` -> ``(".wav", ".flac")``."""
    if isinstance(extensions, str):
        extensions = [extensions]
    exts = tuple(dict.fromkeys("." + ext.lower().lstrip(".") for ext in extensions))
    if not exts or "." in exts:
        raise ValueError(f"Invalid audio extensions: {extensions!r}")
    return exts


def already_done(options_path: Path, options: dict, manifests: Iterable[str]) -> bool:
    """True if every manifest exists and the options file records ``options``."""
    if not all(Path(manifest).is_file() for manifest in manifests):
        return False
    try:
        with open(options_path, encoding="utf-8") as stream:
            return json.load(stream) == options
    except (OSError, ValueError):
        return False


def write_csv(path: Path, columns: Sequence[str], rows: List[List[str]]) -> None:
    """Writes a CSV atomically (temporary file, then rename)."""
    with atomic_output(path) as temporary, open(temporary, "w", newline="", encoding="utf-8") as stream:
        writer = csv.writer(stream)
        writer.writerow(columns)
        writer.writerows(rows)


def write_json(path: Path, content: dict) -> None:
    """Writes a JSON file atomically (temporary file, then rename)."""
    with atomic_output(path) as temporary, open(temporary, "w", encoding="utf-8") as stream:
        json.dump(content, stream, indent=2)
        stream.write("\n")


def merge_manifests(csvs: List[str], output: str, with_text: bool = False) -> str:
    """Writes the rows of several manifests (the audio columns ``ID, duration,
    wav, spk_id``, plus the transcript ``wrd`` with ``with_text``) into one CSV."""
    columns = list(UNLABELLED_COLUMNS) + (["wrd"] if with_text else [])
    rows = []
    for path in csvs:
        with open(path, newline="", encoding="utf-8") as stream:
            rows += [[row[k] for k in columns] for row in csv.DictReader(stream)]
    Path(output).parent.mkdir(parents=True, exist_ok=True)
    write_csv(Path(output), columns, rows)
    return output


def prepare_split_groups(
    data_folder: PathLike,
    save_folder: PathLike,
    groups: Dict[str, Sequence[str]],
    outputs: Dict[str, str],
    with_text: bool = False,
    skip_prep: bool = False,
    extra: Optional[Dict[str, List[str]]] = None,
    download_url: Optional[str] = None,
) -> Dict[str, str]:
    """Prepares every LibriSpeech split named in ``groups`` (role -> splits)
    and writes, for each role, the merged manifest ``outputs[role]`` (plus the
    manifests of ``extra[role]``, e.g. unlabelled audio for training).

    Example
    -------
    >>> from jepa_tokenizer.data.embedded_corpus import corpus_path
    >>> import tempfile, csv
    >>> save = tempfile.mkdtemp()
    >>> out = prepare_split_groups(corpus_path(), save, {"all": ["valid", "test"]}, {"all": f"{save}/all.csv"})
    >>> with open(out["all"]) as f:
    ...     ids = [row["ID"] for row in csv.DictReader(f)]
    >>> len(ids) == len(set(ids)) > 0
    True
    """
    splits = sorted({split for group in groups.values() for split in group})
    if download_url and not skip_prep:
        download_librispeech(data_folder, splits, download_url)
    paths = prepare_librispeech(data_folder, save_folder, splits, skip_prep=skip_prep)
    for role, group in groups.items():
        merge_manifests([paths[s] for s in group] + list((extra or {}).get(role, [])), outputs[role], with_text)
    return {role: outputs[role] for role in groups}


def download_librispeech(data_folder: PathLike, splits: Sequence[str], url: str) -> List[str]:
    """Downloads and unpacks each split of ``splits`` missing from ``data_folder``.

    OpenSLR serves every LibriSpeech split as ``<url>/<split>.tar.gz``, an
    archive holding ``LibriSpeech/<split>/``: resource 12 for the full
    corpus, resource 31 for mini LibriSpeech (``train-clean-5``,
    ``dev-clean-2``). The fetch is SpeechBrain's
    :func:`speechbrain.utils.data_utils.download_file`; the archive unpacks
    (no member may land outside it) into a staging folder and its split folder is moved into place only
    when whole, so an interrupted download leaves no partial split behind.
    Splits already present are not fetched (nothing touches the network).

    Arguments
    ---------
    data_folder : str or os.PathLike
        The LibriSpeech root (created if needed).
    splits : sequence of str
        Split folder names, e.g. ``["train-clean-5", "dev-clean-2"]``.
    url : str
        The folder URL, e.g. ``https://www.openslr.org/resources/31``.

    Returns
    -------
    list of str
        The splits that were downloaded.

    Example
    -------
    >>> import tempfile, pathlib
    >>> root = pathlib.Path(tempfile.mkdtemp())
    >>> (root / "dev-clean-2").mkdir()
    >>> download_librispeech(root, ["dev-clean-2"], "https://www.openslr.org/resources/31")
    []
    """
    from speechbrain.utils.data_utils import download_file

    data_folder = Path(os.path.abspath(data_folder))
    missing = [split for split in check_names(splits, "split") if not (data_folder / split).is_dir()]
    if not missing:
        return []
    data_folder.mkdir(parents=True, exist_ok=True)
    for split in missing:
        source = f"{url.rstrip('/')}/{split}.tar.gz"
        archive = data_folder / f"{split}.tar.gz"
        logger.info("Downloading %s to %s", source, archive)
        with tempfile.TemporaryDirectory(dir=data_folder, prefix=f".{split}-") as staging:
            download_file(source, str(archive), replace_existing=True)
            # the "data" filter refuses members that leave the staging folder
            shutil.unpack_archive(str(archive), staging, filter="data")
            unpacked = [Path(staging) / "LibriSpeech" / split, Path(staging) / split]
            found = next((folder for folder in unpacked if folder.is_dir()), None)
            if found is None:
                raise ValueError(f"{source} holds no {split}/ folder (expected LibriSpeech/{split}/)")
            shutil.move(str(found), str(data_folder / split))
        archive.unlink(missing_ok=True)
    return missing
