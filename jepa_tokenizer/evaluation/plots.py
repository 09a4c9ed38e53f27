"""Pictures for reports: spectrograms of originals next to reconstructions,
the DAAM gates of every encoder block over time, and training curves.

Training curves from the command line::

    python -m jepa_tokenizer.evaluation.plots results/a/train_log.txt results/b/train_log.txt \
        --labels DAAM "no DAAM" --key "valid loss" --output curves.png

Needs matplotlib (``pip install jepa-tokenizer[metrics]``).

Authors
 * jepa-tokenizer team 2026
"""

import argparse
from pathlib import Path
from typing import List, Optional, Sequence, Union

import torch
import torchaudio

from jepa_tokenizer.nn.lengths import ceil_div
from jepa_tokenizer.training.train_log import parse_train_log

__all__ = ["pyplot", "save_figure", "log_mel", "plot_spectrograms", "plot_daam_gates", "plot_curves", "main"]


def pyplot():
    """matplotlib's ``pyplot`` drawing to files (the Agg backend: no display needed)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_figure(fig, output: Union[str, Path], dpi: int = 100, rect=None) -> Path:
    """Writes ``fig`` to ``output`` (folders created) and closes it; ``rect``
    is the part of the figure the panels are laid out in (room for a legend)."""
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    fig.tight_layout(rect=rect)
    fig.savefig(output, dpi=dpi)
    pyplot().close(fig)
    return output


def log_mel(wav: torch.Tensor, sample_rate: int, n_mels: int = 80, hop_length: int = 160) -> torch.Tensor:
    """``[n_mels, frames]`` log-mel spectrogram (natural log) of a ``[T]`` waveform.

    Example
    -------
    >>> log_mel(torch.randn(16000), 16000).shape
    torch.Size([80, 101])
    """
    mel = torchaudio.transforms.MelSpectrogram(
        sample_rate=sample_rate, n_fft=4 * hop_length, hop_length=hop_length, n_mels=n_mels
    )
    return mel(wav.detach().float().cpu()).clamp(min=1e-5).log()


def plot_spectrograms(
    rows: Sequence[Sequence[torch.Tensor]],
    row_labels: Sequence[str],
    column_labels: Sequence[str],
    sample_rate: int,
    output: Union[str, Path],
) -> Path:
    """A grid of log-mel spectrograms: one row per utterance, one column per
    system (original first); all panels share one colour scale per row.

    Example
    -------
    >>> import tempfile, os
    >>> x = torch.randn(8000)
    >>> path = plot_spectrograms([[x, 0.5 * x]], ["utt"], ["original", "codec"], 16000,
    ...                          os.path.join(tempfile.mkdtemp(), "s.png"))
    >>> path.stat().st_size > 0
    True
    """
    fig, axes = pyplot().subplots(
        len(rows), len(column_labels), figsize=(4 * len(column_labels), 2.4 * len(rows)), squeeze=False
    )
    for r, (wavs, label) in enumerate(zip(rows, row_labels)):
        mels = [log_mel(w, sample_rate) for w in wavs]
        low, high = float(mels[0].min()), float(mels[0].max())
        for c, mel in enumerate(mels):
            axis = axes[r][c]
            seconds = mel.shape[1] * 160 / sample_rate
            axis.imshow(
                mel.numpy(),
                origin="lower",
                aspect="auto",
                vmin=low,
                vmax=high,
                extent=(0, seconds, 0, mel.shape[0]),
                cmap="magma",
            )
            axis.set_title(f"{label}: {column_labels[c]}", fontsize=9)
            axis.set_xlabel("s", fontsize=8)
            axis.set_ylabel("mel bin", fontsize=8)
            axis.tick_params(labelsize=7)
    return save_figure(fig, output)


def plot_daam_gates(
    wav: torch.Tensor,
    gates: List[torch.Tensor],
    sample_rate: int,
    output: Union[str, Path],
    title: str = "",
    max_points: int = 400,
) -> Path:
    """The utterance's spectrogram above each encoder block's DAAM gate
    (``[heads, T_block]`` per block, one line per head) on a shared time axis;
    gates longer than ``max_points`` steps are drawn as their mean (line) and
    range (band) over windows.

    Example
    -------
    >>> import tempfile, os
    >>> path = plot_daam_gates(torch.randn(16000), [torch.rand(2, 100), torch.rand(2, 10)], 16000,
    ...                        os.path.join(tempfile.mkdtemp(), "g.png"))
    >>> path.stat().st_size > 0
    True
    """
    plt = pyplot()
    seconds = wav.numel() / sample_rate
    fig, axes = plt.subplots(len(gates) + 1, 1, figsize=(9, 1.2 + 1.3 * (len(gates) + 1)), sharex=True)
    mel = log_mel(wav, sample_rate)
    axes[0].imshow(mel.numpy(), origin="lower", aspect="auto", extent=(0, seconds, 0, mel.shape[0]), cmap="magma")
    axes[0].set_ylabel("mel", fontsize=8)
    axes[0].set_title(title, fontsize=10)
    for index, (axis, gate) in enumerate(zip(axes[1:], gates)):
        gate = gate.detach().float().cpu()
        steps = gate.shape[-1]
        window = max(1, ceil_div(steps, max_points))
        padded = torch.nn.functional.pad(gate, (0, -steps % window), value=float("nan"))
        windows = padded.reshape(gate.shape[0], -1, window)
        times = (torch.arange(windows.shape[1]) + 0.5) * window * seconds / steps
        for head in range(gate.shape[0]):
            mean = windows[head].nanmean(dim=-1)
            line = axis.plot(times.numpy(), mean.numpy(), linewidth=0.9, label=f"head {head}")[0]
            if window > 1:
                low = torch.where(windows[head].isnan(), float("inf"), windows[head]).amin(dim=-1)
                high = torch.where(windows[head].isnan(), float("-inf"), windows[head]).amax(dim=-1)
                axis.fill_between(times.numpy(), low.numpy(), high.numpy(), alpha=0.25, color=line.get_color())
        axis.set_ylabel(f"block {index}\n({steps} steps)", fontsize=8)
        axis.set_ylim(-0.05, 1.05)
        axis.grid(True, alpha=0.3)
        axis.tick_params(labelsize=7)
    axes[-1].set_xlabel("time (s)")
    return save_figure(fig, output)


def plot_curves(
    logs: Sequence[str],
    labels: Sequence[str],
    keys: Sequence[str],
    output: Union[str, Path],
    x_key: str = "step",
    title: Optional[str] = None,
) -> Path:
    """Plots ``keys`` against ``x_key`` for each SpeechBrain ``train_log.txt``
    into a PNG (log y axis), one panel per key, one legend under the panels
    (long run titles would cover the curves inside them)."""
    fig, axes = pyplot().subplots(1, len(keys), figsize=(5 * len(keys), 3.6 + 0.25 * len(logs)), squeeze=False)
    for axis, key in zip(axes[0], keys):
        for path, label in zip(logs, labels):
            rows = [r for r in parse_train_log(path) if key in r and x_key in r]
            axis.plot([r[x_key] for r in rows], [r[key] for r in rows], label=label, marker=".")
        axis.set_xlabel(x_key)
        axis.set_ylabel(key)
        axis.set_yscale("log")
        axis.grid(True, alpha=0.3)
    columns = 2 if len(logs) > 3 else max(1, len(logs))
    fig.legend(*axes[0][0].get_legend_handles_labels(), loc="lower center", ncol=columns)
    if title:
        fig.suptitle(title)
    legend_rows = -(-len(logs) // columns)
    return save_figure(fig, output, dpi=110, rect=(0, 0.02 + 0.055 * legend_rows, 1, 1))


def main(argv: Optional[List[str]] = None) -> None:
    """Command line: training curves of SpeechBrain logs."""
    parser = argparse.ArgumentParser(description="Plot SpeechBrain training logs")
    parser.add_argument("logs", nargs="+")
    parser.add_argument("--labels", nargs="+")
    parser.add_argument("--key", nargs="+", default=["valid loss"])
    parser.add_argument("--x", default="step")
    parser.add_argument("--title", default=None)
    parser.add_argument("--output", required=True)
    args = parser.parse_args(argv)
    labels = args.labels or [str(Path(p).parent.name) for p in args.logs]
    print(plot_curves(args.logs, labels, args.key, args.output, args.x, args.title))


if __name__ == "__main__":
    main()
