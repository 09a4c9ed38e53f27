"""Reading SpeechBrain ``train_log.txt`` files and plotting their curves.

Usage::

    python -m jepa_tokenizer.training.train_log results/a/train_log.txt results/b/train_log.txt \
        --labels DAAM "no DAAM" --key "valid loss" --output curves.png

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import re
from pathlib import Path
from typing import Dict, List, Optional, Sequence

__all__ = ["parse_train_log", "plot_curves"]

_FIELD = re.compile(r"([A-Za-z_][\w ]*?):\s*([-+0-9.eE]+|nan|inf)")


def parse_train_log(path: str) -> List[Dict[str, float]]:
    """One dict per logged line: ``"epoch"``, ``"step"``, ``"train loss"``, ...

    Example
    -------
    >>> import tempfile, os
    >>> path = os.path.join(tempfile.mkdtemp(), "log.txt")
    >>> _ = open(path, "w").write("epoch: 1, step: 10 - train loss: 6.25e-01 - valid loss: 2.68e-01\\n")
    >>> parse_train_log(path)
    [{'epoch': 1.0, 'step': 10.0, 'train loss': 0.625, 'valid loss': 0.268}]
    """
    rows = []
    for line in Path(path).read_text().splitlines():
        fields = {}
        for part in line.replace(" - ", ", ").split(", "):
            match = _FIELD.fullmatch(part.strip())
            if match:
                fields[match.group(1).strip()] = float(match.group(2))
        if fields:
            rows.append(fields)
    return rows


def plot_curves(
    logs: Sequence[str],
    labels: Sequence[str],
    keys: Sequence[str],
    output: str,
    x_key: str = "step",
    title: Optional[str] = None,
) -> str:
    """Plots ``keys`` against ``x_key`` for each log into a PNG (log y axis)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, len(keys), figsize=(5 * len(keys), 3.6), squeeze=False)
    for axis, key in zip(axes[0], keys):
        for path, label in zip(logs, labels):
            rows = [r for r in parse_train_log(path) if key in r and x_key in r]
            axis.plot([r[x_key] for r in rows], [r[key] for r in rows], label=label)
        axis.set_xlabel(x_key)
        axis.set_ylabel(key)
        axis.set_yscale("log")
        axis.grid(True, alpha=0.3)
        axis.legend()
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    fig.savefig(output, dpi=110)
    plt.close(fig)
    return output


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Plot SpeechBrain training logs")
    parser.add_argument("logs", nargs="+")
    parser.add_argument("--labels", nargs="+")
    parser.add_argument("--key", nargs="+", default=["valid loss"])
    parser.add_argument("--x", default="step")
    parser.add_argument("--title", default=None)
    parser.add_argument("--output", required=True)
    args = parser.parse_args()
    labels = args.labels or [str(Path(p).parent.name) for p in args.logs]
    print(plot_curves(args.logs, labels, args.key, args.output, args.x, args.title))


if __name__ == "__main__":
    main()
