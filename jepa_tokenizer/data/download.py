"""The download of LibriSpeech splits from OpenSLR: :func:`download_librispeech`
fetches and unpacks the splits missing from a data folder, so the preparation
(:func:`jepa_tokenizer.data.manifests.prepare_split_groups` with a
``download_url``) finds them.

Authors
 * jepa-tokenizer team 2026
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import List, Sequence

from jepa_tokenizer.data.speech_files import PathLike, check_names

__all__ = ["download_librispeech"]

logger = logging.getLogger(__name__)


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
