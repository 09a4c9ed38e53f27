"""Helpers shared by the training recipes: argument parsing, DDP unwrapping,
and loading a Stage-1 encoder checkpoint into a Stage-2 model.

Authors
 * jepa-tokenizer team 2026
"""

import dataclasses
from pathlib import Path
from typing import List, Optional, Union

import speechbrain as sb
import torch
from hyperpyyaml import load_hyperpyyaml
from torch import nn
from torch.nn.parallel import DistributedDataParallel

__all__ = [
    "parse_arguments",
    "start_experiment",
    "unwrap",
    "find_checkpoint_file",
    "load_encoder_weights",
]


def parse_arguments(argv: Optional[List[str]] = None):
    """``speechbrain.parse_arguments`` with ``--optimizer_step_limit`` as an int
    (speechbrain 1.1.2 leaves that Optional[int] option a string)."""
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    if isinstance(run_opts.get("optimizer_step_limit"), str):
        run_opts = dataclasses.replace(
            run_opts, optimizer_step_limit=int(run_opts.optimizer_step_limit)
        )
    return hparams_file, run_opts, overrides


def start_experiment(argv: Optional[List[str]] = None):
    """The start of every recipe: parse the command line, load the YAML with
    its overrides, join the DDP group, create the output folder.

    Returns ``(hparams, run_opts)``.
    """
    hparams_file, run_opts, overrides = parse_arguments(argv)
    with open(hparams_file, encoding="utf-8") as stream:
        hparams = load_hyperpyyaml(stream, overrides)
    sb.utils.distributed.ddp_init_group(run_opts)
    sb.create_experiment_directory(
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
    )
    return hparams, run_opts


def unwrap(module: nn.Module) -> nn.Module:
    """The module inside a DDP wrapper (or the module itself).

    Example
    -------
    >>> layer = nn.Linear(2, 2)
    >>> unwrap(layer) is layer
    True
    """
    return module.module if isinstance(module, DistributedDataParallel) else module


def find_checkpoint_file(path: Union[str, Path], key: str) -> Path:
    """``<key>.ckpt`` from a file, a SpeechBrain ``CKPT+...`` folder, or a
    save folder holding such folders (the most recent one is used)."""
    path = Path(path)
    if path.is_file():
        return path
    if not path.is_dir():
        raise FileNotFoundError(f"pretrained encoder not found: {path}")
    if (path / f"{key}.ckpt").is_file():
        return path / f"{key}.ckpt"
    folders = sorted(p for p in path.glob("CKPT+*") if (p / f"{key}.ckpt").is_file())
    if not folders:
        raise FileNotFoundError(f"no {key}.ckpt in {path} or in a CKPT+* folder inside it")
    return folders[-1] / f"{key}.ckpt"


def load_encoder_weights(encoder: nn.Module, path: Union[str, Path], key: str = "target_encoder") -> Path:
    """Loads Stage-1 weights into ``encoder``; every missing, unexpected or
    mismatched tensor is named in the error, with both shapes.

    The file is read with ``weights_only=True``: no pickled code runs.
    Returns the file that was loaded.
    """
    file = find_checkpoint_file(path, key)
    state = torch.load(file, map_location="cpu", weights_only=True)
    own = encoder.state_dict()
    problems = [f"missing in the checkpoint: {name} {tuple(own[name].shape)}" for name in own if name not in state]
    problems += [f"not in the model: {name} {tuple(state[name].shape)}" for name in state if name not in own]
    problems += [
        f"{name}: checkpoint {tuple(state[name].shape)} vs model {tuple(own[name].shape)}"
        for name in own
        if name in state and state[name].shape != own[name].shape
    ]
    if problems:
        shown = "\n  ".join(problems[:10])
        more = f"\n  ... and {len(problems) - 10} more" if len(problems) > 10 else ""
        raise ValueError(
            f"the Stage-1 checkpoint {file} does not fit this encoder (is the model "
            f"configuration the one used in Stage 1?):\n  {shown}{more}"
        )
    encoder.load_state_dict(state)
    return file
