"""Atomic file outputs: a file appears at its final path only once complete.

Every writer of the package (token files, audio, manifests) writes next to
the final path and renames, so an interrupted or failed write never leaves a
short file that reads as valid, and a rerun can trust any output it finds.

Authors
 * jepa-tokenizer team 2026
"""

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator, Union

__all__ = ["atomic_output"]


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
    partial = path.with_name(f".{path.name}.partial")
    try:
        yield partial
        os.replace(partial, path)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
