"""Data preparation for the LibriSpeech recipes: SpeechBrain CSV manifests of
the LibriSpeech layout (FLAC as OpenSLR ships it, WAV or Ogg Opus) or of any
audio tree. The work is done by :mod:`jepa_tokenizer.data.manifests` (shared
with every dataset's prepare script and the quickstart); this script is its
command line and the recipes' entry point.

Command line::

    python recipes/LibriSpeech/librispeech_prepare.py DATA_FOLDER SAVE_FOLDER \\
        --splits train-clean-100 dev-clean
    python recipes/LibriSpeech/librispeech_prepare.py DATA_FOLDER SAVE_FOLDER \\
        --unlabelled librilight_small
    # the LibriSpeech rows of an evaluation manifest as a split of links, then its manifest
    python recipes/LibriSpeech/librispeech_prepare.py DATA_FOLDER SAVE_FOLDER \\
        --splits test-clean-46 --link-from ../shared/realspeech/manifest.csv \\
        --select corpus=LibriSpeech --exclude spk_id=2412
"""

import argparse
import logging
import sys
from typing import Optional, Sequence

from jepa_tokenizer.data.audio import AUDIO_EXTENSIONS
from jepa_tokenizer.data.manifests import (
    LABELLED_COLUMNS,
    UNLABELLED_COLUMNS,
    link_split,
    prepare_librispeech,
    prepare_unlabelled,
)
from jepa_tokenizer.data.speech_files import parse_column_values

__all__ = ["prepare_librispeech", "prepare_unlabelled", "LABELLED_COLUMNS", "UNLABELLED_COLUMNS", "main"]


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Command-line entry point; prints the manifest paths."""
    parser = argparse.ArgumentParser(description="Write SpeechBrain CSV manifests for LibriSpeech (or any audio tree).")
    parser.add_argument("data_folder", help="LibriSpeech root (or the audio tree with --unlabelled)")
    parser.add_argument("save_folder", help="where the CSV manifests are written")
    parser.add_argument("--splits", nargs="+", help="LibriSpeech split folders, e.g. train-clean-100 dev-clean")
    parser.add_argument(
        "--unlabelled", metavar="NAME", help="write an unlabelled manifest NAME.csv of every audio file"
    )
    parser.add_argument(
        "--extensions", nargs="+", default=list(AUDIO_EXTENSIONS), help="audio extensions for --unlabelled"
    )
    parser.add_argument(
        "--link-from",
        metavar="MANIFEST",
        help="first lay out the rows of this CSV (ID, wav, wrd) as the one split of --splits, as symbolic links",
    )
    parser.add_argument("--select", nargs="+", metavar="COLUMN=VALUES", help="with --link-from: rows to keep")
    parser.add_argument("--exclude", nargs="+", metavar="COLUMN=VALUES", help="with --link-from: rows to drop")
    args = parser.parse_args(argv)
    if (args.splits is None) == (args.unlabelled is None):
        parser.error("give exactly one of --splits or --unlabelled")
    if args.link_from is not None and (args.splits is None or len(args.splits) != 1):
        parser.error("--link-from makes one split: give its name as the only --splits")
    if args.link_from is None and (args.select or args.exclude):
        parser.error("--select and --exclude go with --link-from")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.unlabelled is not None:
        print(prepare_unlabelled(args.data_folder, args.save_folder, args.unlabelled, args.extensions))
    else:
        if args.link_from is not None:
            try:
                select, exclude = parse_column_values(args.select), parse_column_values(args.exclude)
                print(link_split(args.link_from, args.data_folder, args.splits[0], select, exclude))
            except (OSError, ValueError) as error:
                parser.error(str(error))
        for split, manifest in prepare_librispeech(args.data_folder, args.save_folder, args.splits).items():
            print(f"{split}\t{manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
