"""Markdown tables of the reports: cells, rows, and the resynthesis metrics
every report shows in the same columns and precisions.

Authors
 * jepa-tokenizer team 2026
"""

from typing import Dict, List, Mapping, Optional, Sequence

__all__ = ["MISSING", "RESYNTHESIS_COLUMNS", "cell", "markdown_table", "resynthesis_headers", "resynthesis_cells"]

#: what a cell shows when a value does not apply
MISSING = "—"
#: (metric key, column name, format) of the resynthesis metrics
RESYNTHESIS_COLUMNS = (
    ("stoi", "STOI", ".3f"),
    ("pesq_wb", "PESQ-WB", ".2f"),
    ("mel_distance", "mel dist.", ".2f"),
    ("wer", "WER %", ".1f"),
)


def cell(value: object, fmt: str = "") -> str:
    """``value`` formatted with ``fmt``; ``MISSING`` for None.

    Example
    -------
    >>> cell(0.51234, ".3f"), cell(None, ".3f"), cell("a")
    ('0.512', '—', 'a')
    """
    return MISSING if value is None else format(value, fmt)


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    """A Markdown table; cells that are not strings are written with ``str``.

    Example
    -------
    >>> print(markdown_table(["system", "WER %"], [["original", "5.0"], ["codec", cell(None)]]))
    | system | WER % |
    |---|---|
    | original | 5.0 |
    | codec | — |
    """
    for row in rows:
        if len(row) != len(header):
            raise ValueError(f"a row has {len(row)} cells for {len(header)} columns: {list(row)}")
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(value) for value in row) + " |" for row in rows]
    return "\n".join(lines)


def resynthesis_headers(prefix: str = "") -> List[str]:
    """Column names of ``RESYNTHESIS_COLUMNS``, each after ``prefix``.

    Example
    -------
    >>> resynthesis_headers("resynth. ")
    ['resynth. STOI', 'resynth. PESQ-WB', 'resynth. mel dist.', 'resynth. WER %']
    """
    return [prefix + name for _, name, _ in RESYNTHESIS_COLUMNS]


def resynthesis_cells(metrics: Optional[Mapping[str, float]]) -> List[str]:
    """The cells of ``RESYNTHESIS_COLUMNS`` for ``metrics`` (missing keys: ``MISSING``).

    Example
    -------
    >>> resynthesis_cells({"stoi": 0.5, "wer": 90.0})
    ['0.500', '—', '—', '90.0']
    """
    metrics: Dict[str, float] = dict(metrics or {})
    return [cell(metrics.get(key), fmt) for key, _, fmt in RESYNTHESIS_COLUMNS]
