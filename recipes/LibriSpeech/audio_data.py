"""Audio data for the LibriSpeech recipes: manifests, crops, datasets, loaders.

Shared by the Stage-1 (``pretrain_jepa.py``) and Stage-2 (``train_codec.py``)
training scripts; the manifests come from ``librispeech_prepare.py``.

Authors
 * jepa-tokenizer team 2026
"""

import zlib
from typing import Dict, List, Optional, Tuple

import speechbrain as sb
import torch
from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.dataio.sampler import DynamicBatchSampler

from jepa_tokenizer.data.audio import load_audio
from jepa_tokenizer.data.manifests import merge_manifests, prepare_librispeech, prepare_unlabelled

__all__ = [
    "step_seed",
    "CropPlan",
    "start_training_epoch",
    "prepare_manifests",
    "dataio_prepare",
    "loader_options",
    "fit_recipe",
    "log_recent_steps",
]


def step_seed(*parts: int) -> int:
    """A seed from integers (seed, step, rank...): resumed runs draw what
    uninterrupted ones drew (tuples of ints hash the same in every process)."""
    return hash(tuple(parts)) % (2**63)


class CropPlan:
    """Where each utterance is cropped: a random window of at most
    ``max_seconds`` in training, seeded by the seed, the epoch and the
    utterance id (so a resumed run crops as the uninterrupted one did), and
    the first window in validation. Only the window is decoded."""

    def __init__(self, seed: int, max_seconds: float):
        self.seed = seed
        self.max_seconds = max_seconds
        self.epoch = 0  # set by the Brain at the start of each training epoch

    def window(self, utt_id: str, duration: float, train: bool) -> Tuple[float, Optional[float]]:
        """``(offset, duration)`` in seconds; ``(0, None)`` reads everything."""
        if duration <= self.max_seconds:
            return 0.0, None
        if not train:
            return 0.0, self.max_seconds
        gen = torch.Generator().manual_seed(step_seed(self.seed, self.epoch, zlib.crc32(utt_id.encode())))
        offset = float(torch.rand((), generator=gen)) * (duration - self.max_seconds)
        return offset, self.max_seconds


def start_training_epoch(hparams, epoch: int) -> None:
    """New crops and, for dynamic batches, new batches for a training epoch
    (SpeechBrain sets the epoch only on samplers it made itself)."""
    hparams.crop_plan.epoch = epoch
    if hparams.train_batch_sampler is not None:
        hparams.train_batch_sampler.set_epoch(epoch)


def prepare_manifests(hparams: dict) -> None:
    """Runs the prepare scripts and merges their CSVs into train / valid manifests."""
    splits = list(hparams["train_splits"]) + list(hparams["valid_splits"])
    paths = prepare_librispeech(hparams["data_folder"], hparams["save_folder"], splits, skip_prep=hparams["skip_prep"])
    train = [paths[s] for s in hparams["train_splits"]]
    if hparams["unlabelled_folder"]:
        train.append(
            prepare_unlabelled(
                hparams["unlabelled_folder"],
                hparams["save_folder"],
                hparams["unlabelled_name"],
                skip_prep=hparams["skip_prep"],
            )
        )
    merge_manifests(train, hparams["train_csv"])
    merge_manifests([paths[s] for s in hparams["valid_splits"]], hparams["valid_csv"])


def dataio_prepare(hparams: dict, sample_rate: int) -> Dict[str, DynamicItemDataset]:
    """Datasets that read a crop of each file, downmixed and resampled to
    ``sample_rate``; the ``CropPlan`` is stored as ``hparams["crop_plan"]``."""
    plan = hparams["crop_plan"] = CropPlan(hparams["seed"], hparams["max_crop_seconds"])

    def make_pipeline(train: bool):
        @sb.utils.data_pipeline.takes("id", "wav", "duration")
        @sb.utils.data_pipeline.provides("sig")
        def audio_pipeline(utt_id, wav, duration):
            offset, length = plan.window(utt_id, float(duration), train)
            return load_audio(wav, sample_rate, offset, length).wav

        return audio_pipeline

    datasets = {}
    for name in ("train", "valid"):
        dataset = DynamicItemDataset.from_csv(hparams[f"{name}_csv"])
        dataset = dataset.filtered_sorted(
            key_min_value={"duration": hparams["min_duration"]},
            sort_key="duration" if hparams["sorting"] != "random" or name == "valid" else None,
            reverse=hparams["sorting"] == "descending",
        )
        if len(dataset) == 0:
            raise ValueError(
                f"no {name} utterance is at least {hparams['min_duration']} s long ({hparams[f'{name}_csv']})"
            )
        sb.dataio.dataset.add_dynamic_item([dataset], make_pipeline(name == "train"))
        sb.dataio.dataset.set_output_keys([dataset], ["id", "sig"])
        datasets[name] = dataset
    return datasets


def loader_options(hparams: dict, train_set: DynamicItemDataset):
    """Dataloader keyword arguments: fixed-size or dynamic batches."""
    train = {"num_workers": hparams["num_workers"]}
    if hparams["dynamic_batching"]:
        train["batch_sampler"] = DynamicBatchSampler(
            train_set,
            max_batch_length=hparams["max_batch_length"],
            num_buckets=hparams["num_buckets"],
            length_func=lambda item: min(float(item["duration"]), hparams["max_crop_seconds"]),
            shuffle=hparams["sorting"] == "random",
            batch_ordering="random" if hparams["sorting"] == "random" else hparams["sorting"],
        )
    else:
        train["batch_size"] = hparams["batch_size"]
        train["shuffle"] = hparams["sorting"] == "random"
    valid = {"batch_size": hparams["valid_batch_size"], "num_workers": hparams["num_workers"]}
    return train, valid


def fit_recipe(brain, hparams: dict, datasets: Dict[str, DynamicItemDataset]) -> None:
    """Trains ``brain`` on the train / valid datasets with the recipe's loaders."""
    train_opts, valid_opts = loader_options(hparams, datasets["train"])
    brain.hparams.train_batch_sampler = train_opts.get("batch_sampler")
    brain.fit(
        brain.hparams.epoch_counter,
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs=train_opts,
        valid_loader_kwargs=valid_opts,
    )


def log_recent_steps(brain, series: Dict[str, List[float]], meta: Optional[dict] = None, extra=None) -> None:
    """Every ``log_interval_steps`` optimizer steps, logs the mean of the last
    interval's values of each series. Call it on every rank: SpeechBrain's
    logger broadcasts from the main process."""
    interval = brain.hparams.log_interval_steps
    if not interval or brain.optimizer_step % interval:
        return
    recent = {k: sum(v[-interval:]) / len(v[-interval:]) for k, v in series.items() if v}
    brain.hparams.train_logger.log_stats(
        stats_meta={"step": brain.optimizer_step, **(meta or {})},
        train_stats={**(extra or {}), **recent},
    )
