"""Does a Stage-1 encoder look at the audio? How much its outputs differ
between utterances, against how much they vary over time.

Encodes the same crop of ``--batch`` LibriSpeech utterances of ``--manifest``
(the first ``--seconds`` of each) with an untrained encoder of ``--config``
and with each ``--checkpoint`` (a Stage-1 ``save`` folder, a ``CKPT+...``
folder or an ``encoder.ckpt`` file; ``--key`` picks ``target_encoder`` or
``encoder``), and prints, for the Conformer's input and the latents:

- ``differ``: the spread of the difference of two utterances' outputs frame
  by frame, relative to the batch's spread (mean over pairs; about 1.4 for
  unrelated outputs, near 0 when the encoder has stopped looking at the
  audio);
- ``item share``: the share of the variance that differs between utterances
  at the same frame index (:func:`jepa_tokenizer.training.jepa.item_variance_share`;
  near 0: the outputs encode the position in the crop alone; at most about
  ``(B - 1) / B``, 0.83 for the default 6 utterances);
- ``time share``: the share of the variance over the frames of an utterance
  (near 0: one vector everywhere).

The controls' Stage 1 of the masked loss alone (``jepa_daam_s1_masked_only``
in ``hparams/mini_controls.yaml``, 5 minutes) gives latents that differ by
0.002 with item share 0.000: a code of the position in the crop (an
untrained encoder: 0.94 and 0.78)::

    python benchmarks/encoder_collapse.py --manifest ../shared/realspeech/manifest.csv \\
        --checkpoint results/mini_controls/jepa_daam_s1_masked_only/save results/mini_controls/jepa_daam_s1/save
"""

import argparse
import itertools
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch
from torch import nn

from jepa_tokenizer.models.config import load_model_config
from jepa_tokenizer.training.experiment import load_encoder_weights
from jepa_tokenizer.training.jepa import item_variance_share

sys.path.insert(0, str(Path(__file__).resolve().parent))
from decoder_conditioning import batch_of  # noqa: E402 (the benchmarks share their test batch)


def pairwise_difference(x: torch.Tensor) -> float:
    """Mean over item pairs of ``std(x_i - x_j) / std(x)`` for ``[B, N, D]``."""
    spread = x.std().clamp_min(1e-12)
    pairs = itertools.combinations(range(x.shape[0]), 2)
    return float(torch.stack([(x[i] - x[j]).std() for i, j in pairs]).mean() / spread)


def time_share(x: torch.Tensor) -> float:
    """Share of the variance of ``[B, N, D]`` that lies over each item's frames."""
    within = ((x - x.mean(dim=1, keepdim=True)) ** 2).sum()
    total = ((x - x.mean(dim=(0, 1))) ** 2).sum().clamp_min(1e-12)
    return float(within / total)


@torch.no_grad()
def measure(encoder: nn.Module, wav: torch.Tensor) -> Dict[str, Dict[str, float]]:
    """The three measures for the Conformer's input and the latents."""
    seen = {}
    hook = encoder.conformer.register_forward_pre_hook(lambda module, inputs: seen.update(x=inputs[0].detach()))
    try:
        latents = encoder.eval()(wav).latents
    finally:
        hook.remove()
    return {
        name: {"differ": pairwise_difference(x), "item share": item_variance_share(x), "time share": time_share(x)}
        for name, x in (("Conformer input", seen["x"]), ("latents", latents))
    }


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True, type=Path, help="CSV with ID, wav, wrd (and corpus)")
    parser.add_argument("--checkpoint", nargs="*", default=[], help="Stage-1 save folders, CKPT folders or files")
    parser.add_argument("--key", default="target_encoder", help="target_encoder | encoder")
    parser.add_argument("--config", default="jepa_mini.yaml")
    parser.add_argument("--no-daam", action="store_true", help="the encoder without DAAM gates (use_daam: False)")
    parser.add_argument("--batch", type=int, default=6)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    if args.batch < 2:
        parser.error(f"--batch must be at least 2 (utterances to compare); got {args.batch}")
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    encoder = load_model_config(args.config, overrides={"use_daam": not args.no_daam})["codec"].encoder
    wav = batch_of(args.manifest, args.batch, args.seconds, encoder.sample_rate)
    print(f"{args.batch} utterances x {args.seconds} s of {args.manifest}, {args.config}")
    print(f"{'encoder':<52} {'output':<16} {'differ':>7} {'item share':>11} {'time share':>11}")
    for label in ["untrained"] + list(args.checkpoint):
        if label != "untrained":
            label = str(load_encoder_weights(encoder, label, args.key))
        for name, values in measure(encoder, wav).items():
            shown = label if len(label) <= 52 else "..." + label[-49:]
            print(
                f"{shown:<52} {name:<16} {values['differ']:>7.3f} {values['item share']:>11.3f}"
                f" {values['time share']:>11.3f}"
            )


if __name__ == "__main__":
    main()
