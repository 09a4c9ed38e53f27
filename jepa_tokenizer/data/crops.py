"""Random crops of audio for training: the manifests, where each utterance
is cut, the datasets that decode only that window, their loaders, and a
Brain's ``fit`` on them.

Stage 1 (JEPA pretraining) and Stage 2 (codec training) read the same
manifests the same way; only the sample rate differs.

Authors
 * jepa-tokenizer team 2026
"""

import zlib
from typing import Dict, Optional, Tuple

import speechbrain as sb
import torch
from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.dataio.sampler import DynamicBatchSampler

from jepa_tokenizer.data.audio import load_audio
from jepa_tokenizer.data.manifests import prepare_split_groups, prepare_unlabelled

__all__ = [
    "step_seed",
    "CropPlan",
    "prepare_crop_manifests",
    "crop_datasets",
    "crop_loader_options",
    "start_training_epoch",
    "fit_on_crops",
]


def step_seed(*parts: int) -> int:
    """A seed from integers (seed, step, rank...): resumed runs draw what
    uninterrupted ones drew (tuples of ints hash the same in every process).

    Example
    -------
    >>> step_seed(1, 2, 3) == step_seed(1, 2, 3) != step_seed(1, 2, 4)
    True
    """
    return hash(tuple(parts)) % (2**63)


class CropPlan:
    """Where each utterance is cropped: a random window of at most
    ``max_seconds`` in training, seeded by the seed, the epoch and the
    utterance id (so a resumed run crops as the uninterrupted one did), and
    the first window in validation. Only the window is decoded.

    Arguments
    ---------
    seed : int
        The run's seed.
    max_seconds : float
        The longest crop.

    Example
    -------
    >>> plan = CropPlan(seed=1, max_seconds=2.0)
    >>> plan.window("a", 1.5, train=True)
    (0.0, None)
    >>> plan.window("a", 5.0, train=False)
    (0.0, 2.0)
    >>> offset, length = plan.window("a", 5.0, train=True)
    >>> 0.0 <= offset <= 3.0 and length == 2.0
    True
    """

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


def prepare_crop_manifests(hparams: dict) -> None:
    """Writes ``hparams["train_csv"]`` (the ``train_splits`` of
    ``data_folder``, plus every file under ``unlabelled_folder`` when one is
    set) and ``hparams["valid_csv"]`` (the ``valid_splits``)."""
    extra = {}
    if hparams["unlabelled_folder"]:
        unlabelled = prepare_unlabelled(
            hparams["unlabelled_folder"],
            hparams["save_folder"],
            hparams["unlabelled_name"],
            skip_prep=hparams["skip_prep"],
        )
        extra["train"] = [unlabelled]
    prepare_split_groups(
        hparams["data_folder"],
        hparams["save_folder"],
        {"train": hparams["train_splits"], "valid": hparams["valid_splits"]},
        {"train": hparams["train_csv"], "valid": hparams["valid_csv"]},
        skip_prep=hparams["skip_prep"],
        extra=extra,
        download_url=hparams.get("download_url"),
    )


def crop_datasets(hparams: dict, sample_rate: int) -> Dict[str, DynamicItemDataset]:
    """The ``train`` and ``valid`` datasets of ``hparams["train_csv"]`` /
    ``["valid_csv"]``: each item a crop (``sig``), downmixed and resampled to
    ``sample_rate``, of an utterance at least ``min_duration`` seconds long,
    sorted as ``sorting`` says; at most ``valid_max_utterances`` (evenly
    spaced by ID, so every speaker stays) validate when it is set. The ``CropPlan`` is stored as
    ``hparams["crop_plan"]`` (the Brain moves it to each new epoch)."""
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
        limit = hparams.get("valid_max_utterances") if name == "valid" else None
        if limit and len(dataset) > limit:  # evenly spaced over the sorted set: every speaker, every length
            keep = set(sorted(dataset.data_ids)[:: -(-len(dataset) // limit)])
            dataset = dataset.filtered_sorted(key_test={"id": lambda utt: utt in keep}, sort_key="duration")
        sb.dataio.dataset.add_dynamic_item([dataset], make_pipeline(name == "train"))
        sb.dataio.dataset.set_output_keys([dataset], ["id", "sig"])
        datasets[name] = dataset
    return datasets


def crop_loader_options(hparams: dict, train_set: DynamicItemDataset) -> Tuple[dict, dict]:
    """Train and valid dataloader keyword arguments: fixed-size batches
    (``batch_size``) or, with ``dynamic_batching``, SpeechBrain's
    ``DynamicBatchSampler`` over crop lengths (``max_batch_length`` seconds)."""
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


def start_training_epoch(hparams, epoch: int) -> None:
    """New crops and, for dynamic batches, new batches for a training epoch
    (SpeechBrain sets the epoch only on samplers it made itself)."""
    hparams.crop_plan.epoch = epoch
    if hparams.train_batch_sampler is not None:
        hparams.train_batch_sampler.set_epoch(epoch)


def fit_on_crops(brain, hparams: dict, datasets: Dict[str, DynamicItemDataset]) -> None:
    """Trains ``brain`` on the ``crop_datasets`` with their loaders."""
    train_opts, valid_opts = crop_loader_options(hparams, datasets["train"])
    brain.hparams.train_batch_sampler = train_opts.get("batch_sampler")
    brain.fit(
        brain.hparams.epoch_counter,
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs=train_opts,
        valid_loader_kwargs=valid_opts,
    )
