#!/usr/bin/env python3
"""Downstream ASR on audio tokens, for any tokenizer (DASB-style probe).

1. The LibriSpeech manifests are prepared (``librispeech_prepare.py``).
2. Tokens (or, with ``--features latents``, our encoder's continuous
   latents) are extracted once with the frozen tokenizer chosen in the YAML
   and stored per utterance (``jepa_tokenizer.data.extraction``): resumable, split
   across DDP ranks.
3. An ASR trains on them: per-frame embeddings of the K tokens, a learned
   temporal upsampling (at 2.5 frames/s CTC needs more frames than the
   tokenizer gives), a BiLSTM and CTC over characters or SentencePiece units
   trained here; greedy decoding in validation, beam search in test; WER and
   CER with SpeechBrain's error-rate statistics, alignments to ``wer_file``.

Run (see hparams/asr_tokens.yaml next to this script for the tokenizer choices)::

    python recipes/LibriSpeech/ASR/train_asr.py recipes/LibriSpeech/ASR/hparams/asr_tokens.yaml \
        --data_folder /path/to/LibriSpeech --tokenizer_options "{source: results/quickstart/model}"

Authors
 * jepa-tokenizer team 2026
"""

import logging
import time
from pathlib import Path
from typing import Dict, List, Optional

import speechbrain as sb
import torch
from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.utils.distributed import if_main_process, run_on_main

from jepa_tokenizer.data.extraction import extract_on_all_ranks, load_features
from jepa_tokenizer.data.manifests import prepare_split_groups
from jepa_tokenizer.data.text import TextUnits
from jepa_tokenizer.nn.lengths import relative_to_absolute
from jepa_tokenizer.training.experiment import TimeBudgetBrain, start_experiment

logger = logging.getLogger(__name__)


class ASRBrain(TimeBudgetBrain):
    """CTC on token (or latent) sequences."""

    def compute_forward(self, batch, stage):
        """Features -> per-frame vectors -> upsampled -> BiLSTM -> log-probabilities."""
        batch = batch.to(self.device)
        features, lens = batch.features
        x = self.modules.front_end(features)
        x = self.modules.upsampler(x)
        x, _ = self.modules.encoder(x)
        return self.modules.output_layer(x).log_softmax(dim=-1), lens

    def compute_objectives(self, predictions, batch, stage):
        """CTC loss; transcripts and error rates outside training."""
        log_probs, lens = predictions
        units, unit_lens = batch.units
        loss = sb.nnet.losses.ctc_loss(log_probs, units, lens, unit_lens, self.hparams.blank_index)
        # CTC needs a frame per label (more with repeats); PyTorch zeroes the
        # loss of utterances that cannot fit, so count them: they teach nothing
        frames = relative_to_absolute(lens, log_probs.shape[1])
        labels = relative_to_absolute(unit_lens, units.shape[1])
        self.too_short[0] += int((frames < labels).sum())
        self.too_short[1] += len(frames)
        if stage != sb.Stage.TRAIN:
            hypotheses = self._decode(log_probs, lens, stage)
            words = [h.split() for h in hypotheses]
            targets = [t.split() for t in batch.wrd]
            self.wer_metric.append(batch.id, words, targets)
            self.cer_metric.append(batch.id, words, targets)
        return loss

    def _decode(self, log_probs, lens, stage) -> List[str]:
        units = self.hparams.text_encoder
        if stage == sb.Stage.TEST and self.hparams.test_beam_size:
            hyps = self.beam_searcher(log_probs.float().cpu(), lens.cpu())
            return [" ".join(h[0].text.split()) for h in hyps]
        ids = sb.decoders.ctc_greedy_decode(log_probs, lens, blank_id=self.hparams.blank_index)
        return [" ".join(units.decode(seq).split()) for seq in ids]

    def on_stage_start(self, stage, epoch=None):
        """Fresh error-rate statistics outside training."""
        self.too_short = [0, 0]
        self.stage_started = time.monotonic()
        if stage != sb.Stage.TRAIN:
            self.wer_metric = self.hparams.error_rate_computer()
            self.cer_metric = self.hparams.cer_computer()
        if stage == sb.Stage.TEST and self.hparams.test_beam_size:
            units = self.hparams.text_encoder
            self.beam_searcher = sb.decoders.ctc.CTCBeamSearcher(
                blank_index=self.hparams.blank_index,
                vocab_list=units.vocab_list,
                space_token=units.space_token,
                beam_size=self.hparams.test_beam_size,
            )

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs; anneals the learning rate and checkpoints on validation WER."""
        stats = {"loss": stage_loss, "unfit_percent": 100 * self.too_short[0] / max(1, self.too_short[1])}
        if stats["unfit_percent"] > 0:
            logger.warning(
                "%.1f%% of the %s utterances have fewer frames than text units after upsampling "
                "(x%d): CTC cannot learn from them; raise upsample_factor",
                stats["unfit_percent"],
                stage.name.lower(),
                self.hparams.upsample_factor,
            )
        if stage == sb.Stage.TRAIN:
            stats["seconds"] = time.monotonic() - self.stage_started  # training time of the epoch
            self.train_stats = stats
            return
        stats["WER"] = self.wer_metric.summarize("error_rate")
        stats["CER"] = self.cer_metric.summarize("error_rate")
        if stage == sb.Stage.VALID:
            old_lr, new_lr = self.hparams.lr_annealing(stats[self.hparams.annealing_key])
            sb.nnet.schedulers.update_learning_rate(self.optimizer, new_lr)
            self.hparams.train_logger.log_stats(
                stats_meta={"epoch": epoch, "lr": old_lr, "steps": self.optimizer_step},
                train_stats=self.train_stats,
                valid_stats=stats,
            )
            key = self.hparams.selection_key
            self.checkpointer.save_and_keep_only(meta={key: stats[key]}, min_keys=[key])
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={"Epoch loaded": self.hparams.epoch_counter.current}, test_stats=stats
            )
            if if_main_process():
                with open(self.hparams.test_wer_file, "w", encoding="utf-8") as stream:
                    self.wer_metric.write_stats(stream)
            self.test_stats = stats


def manifest_paths(hparams) -> Dict[str, str]:
    """CSV of each role: train, valid and one per test split."""
    roles = ["train", "valid"] + [f"test_{s}" for s in hparams["test_splits"]]
    return {role: str(Path(hparams["save_folder"]) / f"asr_{role}.csv") for role in roles}


def prepare_data(hparams) -> None:
    """Writes the manifests of ``manifest_paths`` (transcripts included)."""
    groups = {"train": hparams["train_splits"], "valid": hparams["valid_splits"]}
    groups.update({f"test_{s}": [s] for s in hparams["test_splits"]})
    prepare_split_groups(
        hparams["data_folder"],
        hparams["save_folder"],
        groups,
        manifest_paths(hparams),
        True,
        hparams["skip_prep"],
        download_url=hparams.get("download_url"),
    )


def dataio_prepare(hparams, manifests: Dict[str, str]) -> Dict[str, DynamicItemDataset]:
    """Datasets of features and unit sequences; trains the text units."""
    import csv

    with open(manifests["train"], newline="", encoding="utf-8") as stream:
        texts = [row["wrd"] for row in csv.DictReader(stream)]
    run_on_main(
        TextUnits, args=[hparams["save_folder"], texts, hparams["text_units"], hparams["sentencepiece_vocab_size"]]
    )
    units = hparams["text_encoder"] = TextUnits(
        hparams["save_folder"], texts, hparams["text_units"], hparams["sentencepiece_vocab_size"]
    )
    folder = hparams["features_folder"]

    @sb.utils.data_pipeline.takes("id")
    @sb.utils.data_pipeline.provides("features")
    def feature_pipeline(utt_id):
        return load_features(folder, utt_id)

    @sb.utils.data_pipeline.takes("wrd")
    @sb.utils.data_pipeline.provides("units")
    def text_pipeline(wrd):
        return torch.LongTensor(units.encode(wrd))

    datasets = {}
    for role, manifest in manifests.items():
        dataset = DynamicItemDataset.from_csv(manifest)
        dataset = dataset.filtered_sorted(
            key_min_value={"duration": hparams["min_duration"]},
            sort_key="duration" if hparams["sorting"] != "random" else None,
            reverse=hparams["sorting"] == "descending",
        )
        sb.dataio.dataset.add_dynamic_item([dataset], feature_pipeline)
        sb.dataio.dataset.add_dynamic_item([dataset], text_pipeline)
        sb.dataio.dataset.set_output_keys([dataset], ["id", "features", "units", "wrd"])
        datasets[role] = dataset
    return datasets


def build_modules(hparams, units: TextUnits) -> Dict[str, torch.nn.Module]:
    """The front-end sized by the tokenizer, the output layer by the text units."""
    tokenizer = hparams["tokenizer"]
    if hparams["features"] == "latents":
        dim = tokenizer.latents(torch.zeros(1, tokenizer.sample_rate)).shape[-1]
        front_end = hparams["latent_front_end"](input_dim=dim)
    else:
        pretrained = None
        if hparams["use_pretrained_embeddings"]:
            pretrained = tokenizer.get_pretrained_embeddings(tokenizer.vocab_size, tokenizer.num_codebooks).cpu()
        front_end = hparams["token_front_end"](
            num_codebooks=tokenizer.num_codebooks, vocab_size=tokenizer.vocab_size, pretrained=pretrained
        )
    return {
        "front_end": front_end,
        "upsampler": hparams["upsampler"],
        "encoder": hparams["encoder"],
        "output_layer": hparams["output_layer"](n_neurons=len(units)),
    }


def main(argv: Optional[List[str]] = None) -> ASRBrain:
    """Prepares, extracts, trains and tests; returns the ``ASRBrain``."""
    hparams, run_opts = start_experiment(argv)
    if hparams["features"] == "latents" and not hasattr(hparams["tokenizer"], "latents"):
        raise ValueError(f"--features latents needs our tokenizer; {hparams['tokenizer_kind']} has no latents")
    run_on_main(prepare_data, kwargs={"hparams": hparams})
    manifests = manifest_paths(hparams)
    extract_on_all_ranks(hparams["tokenizer"], manifests.values(), hparams["features_folder"], hparams["features"])
    datasets = dataio_prepare(hparams, manifests)
    modules = build_modules(hparams, hparams["text_encoder"])
    hparams["checkpointer"].add_recoverables(modules)
    brain = ASRBrain(
        modules=modules,
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    loader = {
        "batch_size": hparams["batch_size"],
        "num_workers": hparams["num_workers"],
        "shuffle": hparams["sorting"] == "random",
    }
    valid_loader = {"batch_size": hparams["valid_batch_size"], "num_workers": hparams["num_workers"]}
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs=loader,
        valid_loader_kwargs=valid_loader,
    )
    hparams["clock"].close()
    # testing recovers the best checkpoint, clock included: keep the training time now
    brain.fit_seconds = hparams["clock"].seconds
    brain.test_results = {}
    for split in hparams["test_splits"]:
        brain.hparams.test_wer_file = str(Path(hparams["output_folder"]) / f"wer_{split}.txt")
        brain.evaluate(datasets[f"test_{split}"], min_key=hparams["selection_key"], test_loader_kwargs=valid_loader)
        brain.test_results[split] = brain.test_stats
    return brain


if __name__ == "__main__":
    main()
