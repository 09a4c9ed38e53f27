#!/usr/bin/env python3
"""A recipe run's newest checkpoint as a model folder, while the run goes on.

Reads the run's own ``hyperparams.yaml`` (what SpeechBrain wrote when the run
started), builds its codec, loads the newest checkpoint's weights (or the
checkpoint at ``--step``) and writes into ``--output``:

* ``model/``: the exported codec (``JEPATokenizer.from_folder`` loads it);
* ``train_log.txt`` and ``judge_curve.jsonl``: the run's lines up to the
  checkpoint's step, so that ``ship_model.py OUTPUT`` ships exactly that point.

Usage (from the repository root)::

    python recipes/LibriSpeech/codec/export_checkpoint.py ~/runs/mel_fold --output ~/runs/eval_2400

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

import torch
from hyperpyyaml import load_hyperpyyaml

from jepa_tokenizer.pretrained.export import export_codec
from jepa_tokenizer.training.train_log import parse_train_line

__all__ = ["export_checkpoint", "main"]


def _newest_checkpoint(checkpointer, step: Optional[int]):
    """The newest checkpoint, or the one saved at ``step``; a clear error when there is none."""
    found = checkpointer.list_checkpoints()
    if step is not None:
        found = [ckpt for ckpt in found if ckpt.meta.get("step") == step]
    if not found:
        where = checkpointer.checkpoints_dir
        raise FileNotFoundError(f"no checkpoint{'' if step is None else f' at step {step}'} in {where}")
    return max(found, key=lambda ckpt: ckpt.meta["unixtime"])


def export_checkpoint(run_folder: Path, output: Path, step: Optional[int] = None) -> dict:
    """Exports the run's newest checkpoint (or the one at ``step``) to
    ``output/model`` with the run's logs up to its step; returns what it wrote."""
    run_folder, output = Path(run_folder).expanduser(), Path(output).expanduser()
    hparams_file = run_folder / "hyperparams.yaml"
    if not hparams_file.is_file():
        raise FileNotFoundError(f"{hparams_file} is missing: is {run_folder} the output folder of a recipe run?")
    with open(hparams_file, encoding="utf-8") as stream:
        hparams = load_hyperpyyaml(stream)
    ckpt = _newest_checkpoint(hparams["checkpointer"], step)
    codec = hparams["codec"]
    codec.load_state_dict(torch.load(ckpt.paramfiles["codec"], map_location="cpu", weights_only=True))
    codec.eval()
    export_codec(codec, output / "model")
    at_step = int(ckpt.meta["step"])
    log = run_folder / "train_log.txt"
    lines = log.read_text().splitlines() if log.is_file() else []
    rows = [(line, parse_train_line(line)) for line in lines]
    kept = [line for line, row in rows if row and row.get("step", 0) <= at_step]
    (output / "train_log.txt").write_text("".join(line + "\n" for line in kept))
    curve = run_folder / "judge_curve.jsonl"
    points = [json.loads(line) for line in curve.read_text().splitlines()] if curve.is_file() else []
    (output / "judge_curve.jsonl").write_text("".join(json.dumps(p) + "\n" for p in points if p["step"] <= at_step))
    return {"step": at_step, "checkpoint": str(ckpt.path), "model": str(output / "model")}


def main(argv: Optional[List[str]] = None) -> int:
    """Command line: ``RUN --output DIR [--step N]``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("run", type=Path, help="the run's output folder (hyperparams.yaml, save/)")
    parser.add_argument("--output", type=Path, required=True, help="folder to write model/ and the logs into")
    parser.add_argument("--step", type=int, default=None, help="the checkpoint saved at this step (default: newest)")
    args = parser.parse_args(argv)
    try:
        written = export_checkpoint(args.run, args.output, args.step)
    except FileNotFoundError as error:
        print(f"export_checkpoint: {error}", file=sys.stderr)
        return 2
    print(f"step {written['step']} of {written['checkpoint']} -> {written['model']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
