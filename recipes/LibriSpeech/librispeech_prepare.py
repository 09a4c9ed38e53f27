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
"""

import argparse
import logging
import sys
from typing import Optional, Sequence

from jepa_tokenizer.data.audio import AUDIO_EXTENSIONS
from jepa_tokenizer.data.manifests import (
    LABELLED_COLUMNS,
    UNLABELLED_COLUMNS,
    prepare_librispeech,
    prepare_unlabelled,
)

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
    args = parser.parse_args(argv)
    if (args.splits is None) == (args.unlabelled is None):
        parser.error("give exactly one of --splits or --unlabelled")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    if args.unlabelled is not None:
        print(prepare_unlabelled(args.data_folder, args.save_folder, args.unlabelled, args.extensions))
    else:
        for split, manifest in prepare_librispeech(args.data_folder, args.save_folder, args.splits).items():
            print(f"{split}\t{manifest}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
