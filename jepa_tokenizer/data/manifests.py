"""SpeechBrain CSV manifests of speech corpora: the LibriSpeech layout, any
folder tree of audio, and the steps every recipe's prepare script shares:
skipping work already done, writing each split's manifest, merging them.

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
  evaluation manifest as a test split for the recipes.
* :func:`merge_manifests` joins manifests into one;
  :func:`prepare_split_groups` prepares splits (downloading the missing ones
  first when given a URL) and merges them into one manifest per role (train,
  valid, test...).

Work already done is skipped: when every manifest exists and a small JSON file
in ``save_folder`` records the same options, nothing is read again. Unreadable
audio files are skipped with a warning; every other inconsistency of the corpus
is an error naming the offending path. The command line is the LibriSpeech
recipe's ``librispeech_prepare.py``.

The files themselves are read by :mod:`jepa_tokenizer.data.speech_files`
(folder walks, durations, rows of a CSV of speech), written by
:mod:`jepa_tokenizer.data.atomic` (atomic CSV and JSON) and downloaded by
:mod:`jepa_tokenizer.data.download`.

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
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple

from jepa_tokenizer.data.atomic import write_csv, write_json
from jepa_tokenizer.data.audio import AUDIO_EXTENSIONS
from jepa_tokenizer.data.download import download_librispeech
from jepa_tokenizer.data.speech_files import (
    PathLike,
    check_data_folder,
    check_names,
    find_audio,
    measure_rows,
    normalise_extensions,
    read_speech_rows,
    walk_files,
)

__all__ = [
    "prepare_librispeech",
    "prepare_unlabelled",
    "merge_manifests",
    "link_split",
    "prepare_split_groups",
    "split_manifests",
    "write_labelled_manifests",
    "already_done",
    "LABELLED_COLUMNS",
    "UNLABELLED_COLUMNS",
    "LIBRISPEECH_EXTENSIONS",
]

logger = logging.getLogger(__name__)

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


def already_done(options_path: Path, options: dict, manifests: Iterable[str]) -> bool:
    """True if every manifest exists and the options file records ``options``."""
    if not all(Path(manifest).is_file() for manifest in manifests):
        return False
    try:
        with open(options_path, encoding="utf-8") as stream:
            return json.load(stream) == options
    except (OSError, ValueError):
        return False


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
