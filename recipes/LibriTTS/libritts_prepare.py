"""Data preparation for the TTS recipe: LibriTTS, or a LibriSpeech-layout corpus.

LibriTTS (Zen et al. 2019) is the TTS-ready cut of LibriSpeech: sentence
segments of 585 h of read speech by 2,456 speakers, with normalised text that
keeps case and punctuation, at 24 kHz. Its layout::

    <data_folder>/<split>/<spk>/<chapter>/<spk>_<chapter>_<para>_<sent>.wav
    <data_folder>/<split>/<spk>/<chapter>/<spk>_<chapter>_<para>_<sent>.normalized.txt

A split folder in the LibriSpeech layout (``*.trans.txt`` per chapter, e.g.
the embedded corpus, the CPU-sized stand-in) is read by the LibriSpeech
routine (``jepa_tokenizer.data.manifests``) instead, so one recipe runs on both. The
manifests have the LibriSpeech recipes' columns ``ID, duration, wav, spk_id,
wrd``. Work already done is skipped (same options file logic); a wav without
its text, or a text without its wav, is an error naming the file.

Command line::

    python recipes/LibriTTS/libritts_prepare.py DATA_FOLDER SAVE_FOLDER --splits train-clean-100 dev-clean

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import logging
import sys
from pathlib import Path
from typing import Dict, List, Optional, Sequence

from jepa_tokenizer.data.manifests import (
    LIBRISPEECH_EXTENSIONS,
    prepare_librispeech,
    split_manifests,
    write_labelled_manifests,
)
from jepa_tokenizer.data.speech_files import PathLike, check_data_folder, find_audio, measure_rows, walk_files

__all__ = ["prepare_libritts", "LIBRITTS_TEXT_SUFFIX"]

logger = logging.getLogger(__name__)

#: Suffix of LibriTTS's normalised text files.
LIBRITTS_TEXT_SUFFIX = ".normalized.txt"
OPTIONS_FILE = "libritts_prepare.json"
MANIFEST_VERSION = 2  # 2: Ogg Opus (and .flac, .ogg, .mp3) collected too


def prepare_libritts(
    data_folder: PathLike, save_folder: PathLike, splits: Sequence[str], skip_prep: bool = False
) -> Dict[str, str]:
    """Writes ``<save_folder>/<split>.csv`` for each split and returns the paths.

    Example
    -------
    >>> from jepa_tokenizer.data.embedded_corpus import corpus_path
    >>> import tempfile, csv
    >>> paths = prepare_libritts(corpus_path(), tempfile.mkdtemp(), ["test"])
    >>> rows = list(csv.DictReader(open(paths["test"])))
    >>> len(rows), sorted(rows[0])
    (14, ['ID', 'duration', 'spk_id', 'wav', 'wrd'])
    """
    manifests = split_manifests(save_folder, splits)
    if skip_prep:
        return manifests
    splits, save_folder = list(manifests), Path(save_folder)
    data_folder = check_data_folder(data_folder)
    for split in splits:
        if not (data_folder / split).is_dir():
            raise FileNotFoundError(f"Split folder not found: {data_folder / split}")
    libritts = [s for s in splits if any(p.name.endswith(LIBRITTS_TEXT_SUFFIX) for p in walk_files(data_folder / s))]
    others = [s for s in splits if s not in libritts]
    if others:  # the LibriSpeech layout (the embedded corpus)
        prepare_librispeech(data_folder, save_folder, others)
    if not libritts:
        return manifests
    options = {
        "mode": "libritts",
        "version": MANIFEST_VERSION,
        "data_folder": str(data_folder),
        "splits": sorted(libritts),
    }
    write_labelled_manifests(
        save_folder / OPTIONS_FILE,
        options,
        {s: manifests[s] for s in libritts},
        lambda split: _libritts_rows(data_folder / split),
        "LibriTTS",
    )
    return manifests


def _libritts_rows(split_folder: Path) -> List[List[str]]:
    """Pairs each audio file (LibriTTS ships wav) with its normalised text; rows sorted by ID."""
    wavs: Dict[str, Path] = {}
    for path in find_audio(split_folder, LIBRISPEECH_EXTENSIONS):
        if path.stem in wavs:
            raise ValueError(f"two audio files for utterance {path.stem}: {wavs[path.stem]} and {path}")
        wavs[path.stem] = path
    texts = {
        p.name[: -len(LIBRITTS_TEXT_SUFFIX)]: p
        for p in walk_files(split_folder)
        if p.name.endswith(LIBRITTS_TEXT_SUFFIX)
    }
    for utt_id in sorted(set(wavs) ^ set(texts)):
        missing = "text" if utt_id in wavs else "audio"
        raise ValueError(
            f"{utt_id} in {split_folder} has no {missing} file ({(wavs.get(utt_id) or texts[utt_id]).parent})"
        )
    entries = []
    for utt_id, wav in wavs.items():
        text = " ".join(texts[utt_id].read_text(encoding="utf-8").split())
        if not text:
            raise ValueError(f"empty text: {texts[utt_id]}")
        entries.append((utt_id, wav, [utt_id.split("_")[0], text]))
    return measure_rows(entries, what=str(split_folder))


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; prints the manifest paths."""
    parser = argparse.ArgumentParser(description="Write SpeechBrain CSV manifests for LibriTTS.")
    parser.add_argument("data_folder", help="LibriTTS root (or a LibriSpeech-layout corpus)")
    parser.add_argument("save_folder", help="where the CSV manifests are written")
    parser.add_argument("--splits", nargs="+", required=True, help="e.g. train-clean-100 dev-clean test-clean")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    for split, manifest in prepare_libritts(args.data_folder, args.save_folder, args.splits).items():
        print(f"{split}\t{manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
