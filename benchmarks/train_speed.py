"""Training throughput of codecs, this tree against an older commit, in one run.

Throughput is seconds of audio per second of one training step (forward,
generator loss, backward, AdamW step as the tree's codec recipe runs it:
fused where its YAML says ``fused_adam: True``; no discriminator) on random noise,
batch ``--batch`` x ``--seconds``, ``--threads`` torch threads; the median of
``--steps`` timed steps after one warm-up step (which also compiles what is
compiled). Each row runs in its own process, one after another, with the
package of its tree on ``sys.path``; with ``--rounds N`` every row runs N
times, old and new interleaved, and the table gives medians and the range of
the per-round ratios (this machine's speed drifts by 1.5x within an hour, and
the old code's memory-bound steps drift more than the new code's).

Rows: the "paper shape" codec of issue 14 (16 kHz, 2.5 Hz, encoder channels
16-32-64-128-192-256, two residual units per block, 2 Conformer layers, 128
FSQ digits; HiFi-GAN decoder 256-192-128-64-32-16, kernels 3 and 7,
dilations 1 and 3: 9.5M parameters), the reference 16 kHz configuration
(``jepa_16k.yaml``, fewer steps: it is slow on a CPU), and the paper shape
with the inverse-STFT decoder (this tree only); ``_bf16`` rows run the
forward pass and the loss under CPU autocast to bfloat16 (this tree only). The old tree is a checkout of
the old commit, for example ``git worktree add ~/old25 25d9101``.

    python benchmarks/train_speed.py --old-tree ~/old25 --threads 2 --rounds 3
    python benchmarks/train_speed.py --old-tree ~/old25 --only paper --output train_speed.md
"""

import argparse
import datetime
import json
import os
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

REPO_ROOT = Path(__file__).resolve().parent.parent

PAPER_SHAPE = {
    "reference": {
        "encoder_channels": [16, 32, 64, 128, 192, 256],
        "res_dilations": [1, 3],
        "conformer_layers": 2,
        "conformer_heads": 4,
        "decoder_channels": [256, 192, 128, 64, 32, 16],
        "resblock_kernel_sizes": [3, 7],
        "resblock_dilations": [1, 3],
    }
}
#: the inverse-STFT decoder at the paper shape's scale: 2.4M parameters (the HiFi-GAN decoder: 3.2M)
PAPER_SHAPE_ISTFT = {
    "decoder_kind": "istft",
    "reference": {**PAPER_SHAPE["reference"], "istft_dim": 192, "istft_intermediate_dim": 576, "istft_layers": 6},
}
#: name -> (model overrides, True where the old tree can run it, steps factor, batch or None, precision)
MODELS = {
    "paper": (PAPER_SHAPE, True, 1.0, None, "fp32"),
    "paper_istft": (PAPER_SHAPE_ISTFT, False, 1.0, None, "fp32"),
    # CPU autocast to bfloat16 (oneDNN bf16 kernels where the CPU has them, e.g. AVX512-BF16): this tree only
    "paper_bf16": (PAPER_SHAPE, False, 1.0, None, "bf16"),
    "paper_istft_bf16": (PAPER_SHAPE_ISTFT, False, 1.0, None, "bf16"),
    # 186M parameters: batch 2 (the old code needs over 20 GB at batch 8), one timed step
    "reference_16k": ({}, True, 0.34, 2, "fp32"),
}


def config_path(tree: Path) -> Path:
    """Where a tree keeps jepa_16k.yaml (packaged since the install issue)."""
    for candidate in (tree / "jepa_tokenizer" / "configs" / "jepa_16k.yaml", tree / "hparams" / "jepa_16k.yaml"):
        if candidate.is_file():
            return candidate
    raise FileNotFoundError(f"no jepa_16k.yaml in {tree}")


def recipe_fuses_adam(tree: Path) -> bool:
    """Whether a tree's codec recipe runs AdamW fused (``fused_adam: True``):
    each row's optimizer is its tree's recipe's."""
    for candidate in (
        tree / "recipes" / "LibriSpeech" / "codec" / "hparams" / "train_codec.yaml",
        tree / "hparams" / "train_codec.yaml",
    ):
        if candidate.is_file():
            return any(
                line.split("#")[0].split() == ["fused_adam:", "True"] for line in candidate.read_text().splitlines()
            )
    return False


def worker(args: argparse.Namespace) -> None:
    """One row, in this process: prints a JSON line of its measurements."""
    sys.path.insert(0, str(args.tree))
    import torch
    from hyperpyyaml import load_hyperpyyaml
    from speechbrain.lobes.models.HifiGAN import L1SpecLoss

    import jepa_tokenizer

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    overrides = json.loads(args.overrides)
    with open(config_path(Path(args.tree)), encoding="utf-8") as stream:
        codec = load_hyperpyyaml(stream, overrides)["codec"].train()
    rate = codec.sample_rate
    loss_fn = jepa_tokenizer.CodecGeneratorLoss(
        stft_loss=jepa_tokenizer.MultiResolutionSTFTLoss(fft_sizes=[2048, 1024, 512, 256, 128], hop_divisor=4),
        mel_loss=L1SpecLoss(
            sample_rate=rate,
            hop_length=256,
            win_length=1024,
            n_mel_channels=80,
            n_fft=1024,
            mel_fmin=0.0,
            mel_fmax=None,
            power=1,
            norm="slaney",
            mel_scale="slaney",
            dynamic_range_compression=True,
        ),
        mel_weight=15.0,
    )
    optimizer = torch.optim.AdamW(codec.parameters(), lr=1e-4, fused=recipe_fuses_adam(Path(args.tree)))
    wav = torch.randn(args.batch, int(args.seconds * rate)) * 0.1

    def step():
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=args.precision == "bf16"):
            y_hat = codec(wav).wav
            loss = loss_fn(y_hat.float(), wav)["G_loss"]
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    started = time.perf_counter()
    step()  # warm-up (and compilation)
    warmup = time.perf_counter() - started
    times = []
    for _ in range(args.steps):
        started = time.perf_counter()
        step()
        times.append(time.perf_counter() - started)
    seconds = statistics.median(times)
    print(
        json.dumps(
            {
                "parameters": sum(p.numel() for p in codec.parameters()),
                "seconds_per_step": seconds,
                "x_real_time": args.batch * args.seconds / seconds,
                "warmup_seconds": warmup,
                "steps": args.steps,
                "package": jepa_tokenizer.__file__,
            }
        )
    )


def run_row(tree: Path, model: str, args: argparse.Namespace) -> Optional[Dict[str, float]]:
    overrides, _, factor, batch, precision = MODELS[model]
    cmd = [
        sys.executable,
        __file__,
        "--worker",
        "--tree",
        str(tree),
        "--overrides",
        json.dumps(overrides),
        "--steps",
        str(max(1, round(args.steps * factor))),
        "--threads",
        str(args.threads),
        "--batch",
        str(batch or args.batch),
        "--seconds",
        str(args.seconds),
        "--precision",
        precision,
    ]
    env = {**os.environ, "OMP_NUM_THREADS": str(args.threads), "PYTHONPATH": str(tree)}
    result = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=tree)
    if result.returncode != 0:
        print(f"{model} @ {tree}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
        return None
    return json.loads(result.stdout.strip().splitlines()[-1])


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--old-tree", type=Path, help="checkout of the old commit (e.g. 25d9101)")
    parser.add_argument("--only", nargs="+", choices=sorted(MODELS), default=sorted(MODELS))
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--steps", type=int, default=3)
    parser.add_argument("--rounds", type=int, default=1, help="run every row this many times, interleaved (medians)")
    parser.add_argument("--output", type=Path, help="also write the Markdown table here")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tree", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--overrides", help=argparse.SUPPRESS)
    parser.add_argument("--precision", choices=["fp32", "bf16"], default="fp32", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        return worker(args)

    lines = [
        f"Training throughput, {datetime.date.today()}, {args.threads} threads, batch {args.batch} x "
        f"{args.seconds:g} s (x real time = seconds of audio per second of fwd + loss + bwd + AdamW step).",
        "",
        f"`python benchmarks/{Path(__file__).name} {shlex.join(argv if argv is not None else sys.argv[1:])}`",
        "",
        "| model | parameters | batch | old s/step | old x RT | new s/step | new x RT | new / old (range over rounds) |",
        "|---|---|---|---|---|---|---|---|",
    ]
    # rounds: every row once per round, old and new side by side, so that a machine whose speed
    # drifts (shared cores) drifts under both; the table takes medians over rounds and the per-round
    # ratios show the spread
    runs: Dict[str, Dict[str, List[Dict[str, float]]]] = {model: {"old": [], "new": []} for model in args.only}
    for round_index in range(args.rounds):
        for model in args.only:
            if args.old_tree is not None and MODELS[model][1]:
                row = run_row(args.old_tree, model, args)
                if row:
                    runs[model]["old"].append(row)
            row = run_row(REPO_ROOT, model, args)
            if row:
                runs[model]["new"].append(row)
            print(f"round {round_index + 1}/{args.rounds}: {model} done", file=sys.stderr, flush=True)

    def median_row(rows):
        if not rows:
            return None
        return {
            **rows[0],
            "seconds_per_step": statistics.median(r["seconds_per_step"] for r in rows),
            "x_real_time": statistics.median(r["x_real_time"] for r in rows),
        }

    def cells(row):
        return [f"{row['seconds_per_step']:.2f}", f"{row['x_real_time']:.1f}"] if row else ["—", "—"]

    for model in args.only:
        # rows the old tree cannot run compare with its paper-shape row of the same rounds
        old_rows = runs[model]["old"] or (runs["paper"]["old"] if model.startswith("paper") and "paper" in runs else [])
        old, new = median_row(runs[model]["old"]), median_row(runs[model]["new"])
        reference = median_row(old_rows)
        ratio = "—"
        if new and reference:
            per_round = [n["x_real_time"] / o["x_real_time"] for n, o in zip(runs[model]["new"], old_rows)]
            ratio = f"{new['x_real_time'] / reference['x_real_time']:.2f}"
            if len(per_round) > 1:
                ratio += f" ({min(per_round):.2f}-{max(per_round):.2f})"
            if not runs[model]["old"]:
                ratio += " vs old paper shape, fp32"
        params = (new or old or {}).get("parameters")
        lines.append(
            "| "
            + " | ".join(
                [model, f"{params / 1e6:.1f}M" if params else "—", str(MODELS[model][3] or args.batch)]
                + [*cells(old), *cells(new), ratio]
            )
            + " |"
        )
    text = "\n".join(lines)
    print("\n" + text)
    if args.output:
        args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
