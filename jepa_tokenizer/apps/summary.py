"""Parameter counts and token rates of codec configurations, as a markdown table.

Usage (from the repository root)::

    python -m jepa_tokenizer.apps.summary jepa_24k.yaml jepa_16k.yaml jepa_tiny.yaml

Authors
 * jepa-tokenizer team 2026
"""

import argparse
from pathlib import Path
from typing import Dict, List

from torch import nn

from jepa_tokenizer.evaluation.reports import markdown_table
from jepa_tokenizer.models.config import load_model_config

__all__ = ["count_parameters", "describe_config", "summary_table"]


def count_parameters(module: nn.Module) -> int:
    """Number of parameters of ``module``.

    Example
    -------
    >>> count_parameters(nn.Linear(3, 2))
    8
    """
    return sum(p.numel() for p in module.parameters())


def describe_config(path: str) -> Dict[str, object]:
    """Builds a YAML configuration and returns its sizes and rates."""
    hparams = load_model_config(path)
    codec = hparams["codec"]
    return {
        "config": Path(path).name,
        "sample rate": codec.sample_rate,
        "frames/s": codec.frame_rate,
        "tokens/frame": codec.tokens_per_frame,
        "tokens/s": codec.tokens_per_second,
        "vocab": codec.vocab_size,
        "bit/s": codec.bitrate,
        "encoder": count_parameters(codec.encoder),
        "predictor": count_parameters(hparams["predictor"]),
        "decoder": count_parameters(codec.decoder),
    }


PARAMETER_COLUMNS = ("encoder", "predictor", "decoder")


def _fmt(key: str, value: object) -> str:
    if key in PARAMETER_COLUMNS:
        return f"{value / 1e6:.2f}M"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def summary_table(paths: List[str]) -> str:
    """Markdown table with one row per configuration file."""
    rows = [describe_config(p) for p in paths]
    header = list(rows[0])
    return markdown_table(header, [[_fmt(k, r[k]) for k in header] for r in rows])


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("configs", nargs="+", help="YAML files defining `codec`")
    args = parser.parse_args()
    print(summary_table(args.configs))


if __name__ == "__main__":
    main()
