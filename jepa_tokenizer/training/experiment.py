"""What the training recipes share: argument parsing and experiment start-up,
DDP unwrapping, loading a Stage-1 encoder checkpoint into a Stage-2 model,
time budgets (``TrainingClock``, ``TimeBudgetBrain``) and recipe command
lines (``recipe_argv``).

Authors
 * jepa-tokenizer team 2026
"""

import dataclasses
import json
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Union

import speechbrain as sb
import torch
from hyperpyyaml import load_hyperpyyaml
from speechbrain.utils.checkpoints import mark_as_loader, mark_as_saver, register_checkpoint_hooks
from torch import nn
from torch.nn.parallel import DistributedDataParallel
from tqdm import tqdm

__all__ = [
    "parse_arguments",
    "start_experiment",
    "unwrap",
    "find_checkpoint_file",
    "load_encoder_weights",
    "TrainingClock",
    "run_progress",
    "stop_if_out_of_time",
    "TimeBudgetBrain",
    "recipe_argv",
]


def parse_arguments(argv: Optional[List[str]] = None):
    """``speechbrain.parse_arguments`` with ``--optimizer_step_limit`` as an int
    (speechbrain 1.1.2 leaves that Optional[int] option a string)."""
    hparams_file, run_opts, overrides = sb.parse_arguments(argv)
    if isinstance(run_opts.get("optimizer_step_limit"), str):
        run_opts = dataclasses.replace(run_opts, optimizer_step_limit=int(run_opts.optimizer_step_limit))
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
    logging_options = {"log_config": run_opts.log_config} if run_opts.get("log_config") else {}
    sb.create_experiment_directory(  # SpeechBrain 1.1 recipes leave --log_config unused
        experiment_directory=hparams["output_folder"],
        hyperparams_to_save=hparams_file,
        overrides=overrides,
        **logging_options,
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


@register_checkpoint_hooks
class TrainingClock:
    """Wall-clock time a run has spent, across resumptions, and its budget.

    SpeechBrain limits training by epochs or optimizer steps; a budget in
    minutes is what a quickstart on an unknown machine needs. The clock is a
    checkpoint recoverable: a resumed run continues from the time spent up to
    its last checkpoint. With ``label`` it draws a progress bar of the budget.

    Arguments
    ---------
    budget_minutes : float, optional
        Stop after this many minutes (None: no time limit).
    label : str, optional
        Description of a progress bar over the budget (None: no bar).
    timer : callable, optional
        Seconds of a monotonic clock (default ``time.monotonic``); tests pass a
        fake one.

    Example
    -------
    >>> now = [0.0]
    >>> clock = TrainingClock(budget_minutes=1.0, timer=lambda: now[0])
    >>> now[0] = 59.0; clock.out_of_time()
    False
    >>> now[0] = 60.0; clock.out_of_time()
    True
    >>> TrainingClock().out_of_time()
    False
    """

    def __init__(
        self,
        budget_minutes: Optional[float] = None,
        label: Optional[str] = None,
        timer: Callable[[], float] = time.monotonic,
    ):
        self.budget_minutes = budget_minutes
        self.label = label
        self.timer = timer
        self.spent_before = 0.0
        self.started = timer()
        self.bar = None

    @property
    def seconds(self) -> float:
        """Seconds spent so far, earlier sessions included."""
        return self.spent_before + self.timer() - self.started

    @property
    def fraction(self) -> Optional[float]:
        """Share of the budget spent (None without a budget)."""
        if self.budget_minutes is None:
            return None
        return self.seconds / (60 * self.budget_minutes) if self.budget_minutes > 0 else 1.0

    def out_of_time(self) -> bool:
        """Whether the budget is spent (never, without a budget)."""
        return self.budget_minutes is not None and self.seconds >= 60 * self.budget_minutes

    def tick(self, **postfix) -> None:
        """Refreshes the progress bar (when there is one) with ``postfix``."""
        if self.label is None or self.budget_minutes is None:
            return
        total = round(60 * self.budget_minutes)
        if self.bar is None:
            self.bar = tqdm(
                total=total,
                desc=self.label,
                unit="s",
                dynamic_ncols=True,
                bar_format="{l_bar}{bar}| {n:.0f}/{total:.0f} s [{remaining} left{postfix}]",
            )
        self.bar.n = min(total, self.seconds)
        self.bar.set_postfix(postfix, refresh=False)
        self.bar.refresh()

    def close(self) -> None:
        """Closes the progress bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None

    @mark_as_saver
    def _save(self, path):
        Path(path).write_text(f"{self.seconds!r}\n", encoding="utf-8")

    @mark_as_loader
    def _load(self, path, end_of_epoch=True):
        del end_of_epoch
        self.spent_before = float(Path(path).read_text(encoding="utf-8"))
        self.started = self.timer()


def run_progress(brain) -> float:
    """Share of the run done (0 to 1): of its time budget or of its
    ``optimizer_step_limit``, whichever is further along."""
    shares = [brain.hparams.clock.fraction or 0.0]
    limit = getattr(brain, "optimizer_step_limit", None)
    if limit:
        shares.append(brain.optimizer_step / limit)
    return min(1.0, max(shares))


def stop_if_out_of_time(brain, **postfix) -> None:
    """Ends ``brain.fit`` after this step (validation and the checkpoint still
    run) once ``brain.hparams.clock`` is out of time, and sets the next step's
    learning rates by ``brain.hparams.lr_cooldown`` (a ``LinearCooldown``),
    when there is one, from the run's progress; rank 0 decides both for all.
    Call it before the first step and after every optimizer step."""
    clock = brain.hparams.clock
    clock.tick(step=brain.optimizer_step, **postfix)
    decision = [clock.out_of_time(), run_progress(brain)]
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        torch.distributed.broadcast_object_list(decision, src=0)
    out_of_time, progress = decision
    cooldown = getattr(brain.hparams, "lr_cooldown", None)
    if cooldown is not None:
        optimizers = getattr(brain, "optimizers_dict", None) or {"opt": brain.optimizer}
        cooldown.apply(optimizers.values(), progress, brain.optimizer_step)
    if out_of_time:
        brain.optimizer_step_limit = brain.optimizer_step


class TimeBudgetBrain(sb.Brain):
    """A ``Brain`` whose training ends once ``hparams.clock`` (a
    ``TrainingClock``) is out of time, for recipes that keep SpeechBrain's
    ``fit_batch``; a run resumed with its budget spent does not train."""

    def on_fit_start(self):
        """Also checks the budget before the first step."""
        super().on_fit_start()
        stop_if_out_of_time(self)

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        """Checks the budget after every optimizer step."""
        if should_step:
            stop_if_out_of_time(self, loss=f"{float(loss.detach()):.3f}")


# SpeechBrain run options: read by argparse (flags and plain values), not as YAML
RUN_FLAGS = ("noprogressbar",)
RUN_VALUES = ("device", "precision", "ckpt_interval_minutes", "optimizer_step_limit", "log_config")


def recipe_argv(hparams_file: str, options: Dict[str, object]) -> List[str]:
    """A recipe command line: the YAML file, then ``--key value`` pairs whose
    values are written as YAML (JSON is YAML), strings included; SpeechBrain's
    run options as argparse wants them.

    Example
    -------
    >>> recipe_argv("a.yaml", {"splits": ["train"], "device": "cpu", "x": None, "noprogressbar": True})
    ['a.yaml', '--splits', '["train"]', '--device', 'cpu', '--x', 'null', '--noprogressbar']
    """
    argv = [hparams_file]
    for key, value in options.items():
        if key in RUN_FLAGS:
            argv += [f"--{key}"] if value else []
        else:
            argv += [f"--{key}", str(value) if key in RUN_VALUES else json.dumps(value)]
    return argv
