#!/usr/bin/env python3
"""A codec whose tokens carry words: the log-mel codec (``MelEncoder`` ->
FSQ -> ``MelDecoder``) trained on whole utterances with an L1 loss on the
log-mel frames, a CTC loss on the transcript read from the decoder's hidden
frames and, optionally, a cosine loss against a frozen teacher's features.

The log-mel frames of every utterance are extracted once to
``features_folder`` (the training then reads no audio); batches hold whole
utterances of similar length, ``max_batch_seconds`` of audio each.
Validation reports the log-mel L1 and CTC losses and, every
``judge_interval_epochs``, the word and character error rates of the judge
(Whisper base where installed) on ``judge_utterances`` fixed validation
utterances decoded from their tokens, plus the CTC head's own character
error rate; each check is a line of ``judge_log``. At the end the codec is
exported as a model folder that ``JEPATokenizer.from_folder`` loads.

Run::

    python recipes/LibriSpeech/codec/train_mel_codec.py recipes/LibriSpeech/codec/hparams/mel_codec.yaml \\
        --data_folder ../shared/mini_librispeech

Authors
 * jepa-tokenizer team 2026
"""

import csv
import json
import logging
import math
from pathlib import Path
from typing import Dict, List, Optional

import speechbrain as sb
import torch
from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.dataio.sampler import DynamicBatchSampler
from speechbrain.utils.distributed import if_main_process, run_on_main
from torch.nn import functional as F

from jepa_tokenizer.data.atomic import write_csv
from jepa_tokenizer.data.extraction import extract_on_all_ranks, load_features
from jepa_tokenizer.data.manifests import prepare_split_groups
from jepa_tokenizer.evaluation.metrics import character_error_rate, make_asr, normalize_transcript, resynthesis_wer
from jepa_tokenizer.pretrained.export import export_codec
from jepa_tokenizer.pretrained.safe_load import load_codec
from jepa_tokenizer.training.experiment import TimeBudgetBrain, start_experiment, unwrap
from jepa_tokenizer.training.supervision import SupervisedMelCodec
from jepa_tokenizer.training.train_log import log_recent_steps

logger = logging.getLogger(__name__)


class MelCodecBrain(TimeBudgetBrain):
    """The codec and its training-only supervision heads (one module, one optimizer)."""

    def compute_forward(self, batch, stage):
        """Log-mel frames -> codes -> decoded log-mel frames, with the loss terms."""
        batch = batch.to(self.device)
        model = unwrap(self.modules.model)
        feats, lens = batch.log_mel  # [B, F, n_mels], relative lengths
        counts = torch.round(lens * feats.shape[1]).long()
        padding = -feats.shape[1] % (model.codec.hop_length // model.codec.encoder.mel_hop)
        floor = math.log(model.codec.encoder.frontend.log_floor)
        log_mel = F.pad(feats.transpose(1, 2), (0, padding), value=floor)
        texts = teacher = teacher_counts = None
        if self.hparams.ctc_weight > 0:
            texts = [" ".join(normalize_transcript(text)) for text in batch.wrd]
        if self.hparams.teacher_weight > 0:
            teacher, teacher_lens = batch.teacher
            teacher_counts = torch.round(teacher_lens * teacher.shape[1]).long()
        return self.modules.model(log_mel, counts, texts, teacher, teacher_counts)

    def compute_objectives(self, predictions, batch, stage):
        """L1 on the real log-mel frames plus the weighted supervision terms."""
        terms = predictions.terms
        loss = terms["mel_l1"] + self.hparams.ctc_weight * terms.get("ctc", 0.0)
        loss = loss + self.hparams.teacher_weight * terms.get("teacher", 0.0)
        for key, value in terms.items():
            self.running.setdefault(key, []).append(float(value.detach()))
        if stage != sb.Stage.TRAIN and self.judging:
            self._judge_batch(predictions, batch)
        return loss

    def _judge_batch(self, predictions, batch):
        """Audio of the first ``judge_utterances`` items for the judge; the CTC head's reading."""
        model = unwrap(self.modules.model)
        room = self.hparams.judge_utterances - len(self.judged["ref"])
        if room <= 0:
            return
        decoded = predictions.decoded
        stage = model.supervised_stage
        with torch.no_grad():
            wavs = model.codec.decoder.vocoder(decoded.log_mel[:room].float())
            readings = [None] * room
            if model.ctc_head is not None:
                readings = model.ctc_head.greedy(decoded.hidden[stage][:room], decoded.counts[stage][:room])
        for row, text in enumerate(batch.wrd[:room]):
            samples = int(predictions.counts[row]) * model.codec.encoder.mel_hop
            self.judged["wav"].append(wavs[row, :samples].cpu())
            self.judged["ref"].append(text)
            self.judged["ctc"].append(readings[row])

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        """The time budget and schedule (``TimeBudgetBrain``), then every
        ``log_interval_steps`` a train-log line of the recent terms."""
        super().on_fit_batch_end(batch, outputs, loss, should_step)
        if should_step:
            log_recent_steps(self, self.running, meta={"minutes": round(self.hparams.clock.seconds / 60, 2)})

    def on_fit_start(self):
        """Running statistics start empty (also after recovery)."""
        self.running, self.judging = {}, False
        super().on_fit_start()

    def on_stage_start(self, stage, epoch=None):
        """Judge on this validation when its interval says so."""
        self.running = {}
        interval = self.hparams.judge_interval_epochs
        self.judging = (
            stage != sb.Stage.TRAIN
            and self.hparams.judge != "none"
            and (stage == sb.Stage.TEST or (epoch is not None and interval and epoch % interval == 0))
        )
        self.judged = {"wav": [], "ref": [], "ctc": []}

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs the terms (and the judge's rates); checkpoints after validation."""
        stats = {"loss": stage_loss}
        stats.update({key: sum(v) / len(v) for key, v in self.running.items() if v})
        if stage == sb.Stage.TRAIN:
            self.train_stats = stats
            return
        if self.judging and self.judged["wav"] and if_main_process():
            stats.update(self._judge())
        meta = {"epoch": epoch, "step": self.optimizer_step, "minutes": round(self.hparams.clock.seconds / 60, 2)}
        if stage == sb.Stage.VALID:
            self.hparams.train_logger.log_stats(stats_meta=meta, train_stats=self.train_stats, valid_stats=stats)
            self.checkpointer.save_and_keep_only(
                meta={"loss": stage_loss, "step": self.optimizer_step}, num_to_keep=self.hparams.keep_checkpoints
            )
        self.last_stats = stats

    def _judge(self) -> Dict[str, float]:
        """WER / CER of the judge on the decoded audio and CER of the CTC head; one judge_log line."""
        if getattr(self, "asr", None) is None:
            self.asr = make_asr(self.hparams.judge)
        rate = unwrap(self.modules.model).codec.sample_rate
        refs = self.judged["ref"]
        words, hyps = resynthesis_wer(self.asr, self.judged["wav"], rate, refs)
        result = {"judge_wer": words["WER"], "judge_cer": character_error_rate(refs, hyps)["CER"]}
        if None not in self.judged["ctc"]:
            result["ctc_cer"] = character_error_rate(refs, self.judged["ctc"])["CER"]
        line = {"step": self.optimizer_step, "minutes": round(self.hparams.clock.seconds / 60, 2), **result}
        line.update(judge=getattr(self.asr, "description", self.hparams.judge), utterances=len(refs))
        with open(self.hparams.judge_log, "a", encoding="utf-8") as stream:
            stream.write(json.dumps(line) + "\n")
        return result


class LogMelExtractor:
    """The encoder's log-mel frames as an extractor for :func:`extract_on_all_ranks`."""

    def __init__(self, encoder):
        self.encoder = encoder
        self.sample_rate = encoder.sample_rate

    def info(self) -> dict:
        """What identifies the frames."""
        return self.encoder.info()

    @torch.no_grad()
    def features(self, wav: torch.Tensor) -> torch.Tensor:
        """``[1, T]`` -> ``[1, F, n_mels]``."""
        return self.encoder.features(wav)


def init_codec_from(codec: torch.nn.Module, folder: str) -> None:
    """Starts ``codec`` from the weights of the exported model folder ``folder``
    (loaded safely; the supervision heads and the optimizer start fresh). The
    two must be built alike: a mismatch is a one-line error naming both."""
    weights = load_codec(folder).state_dict()
    ours = codec.state_dict()
    shapes = {key: tuple(value.shape) for key, value in ours.items()}
    theirs = {key: tuple(value.shape) for key, value in weights.items()}
    if shapes != theirs:
        differ = sorted(set(shapes) ^ set(theirs)) or sorted(k for k in shapes if shapes[k] != theirs[k])
        raise ValueError(
            f"init_from {folder}: its codec is not built like this YAML's (first difference: {differ[0]}); "
            "start from a model folder trained with the same model section"
        )
    with torch.no_grad():
        for key, value in ours.items():
            value.copy_(weights[key].to(value.dtype))


def prepare_data(hparams) -> Dict[str, str]:
    """Manifests (transcripts included) of the training and validation splits."""
    outputs = {"train": hparams["train_csv"], "valid": hparams["valid_csv"]}
    groups = {"train": hparams["train_splits"], "valid": hparams["valid_splits"]}
    run_on_main(
        prepare_split_groups,
        args=[hparams["data_folder"], hparams["save_folder"], groups, outputs, True, hparams["skip_prep"]],
        kwargs={"download_url": hparams["download_url"]},
    )
    return outputs


def evenly_spaced_subset(manifest: str, limit: Optional[int], output: str) -> str:
    """A manifest of at most ``limit`` rows of ``manifest``, evenly spaced by
    ID (every speaker stays); ``manifest`` itself when it is small enough."""
    with open(manifest, newline="", encoding="utf-8") as stream:
        reader = csv.DictReader(stream)
        columns, rows = reader.fieldnames, sorted(reader, key=lambda row: row["ID"])
    if not limit or len(rows) <= limit:
        return manifest
    write_csv(Path(output), columns, [[row[c] for c in columns] for row in rows[:: -(-len(rows) // limit)]])
    return output


def dataio_prepare(hparams, manifests: Dict[str, str]) -> Dict[str, DynamicItemDataset]:
    """Datasets of cached log-mel frames (and teacher features), with transcripts."""
    features, teacher = hparams["features_folder"], hparams["teacher_folder"]

    @sb.utils.data_pipeline.takes("id")
    @sb.utils.data_pipeline.provides("log_mel")
    def mel_pipeline(utt_id):
        return load_features(features, utt_id)

    keys = ["id", "log_mel", "wrd"]
    pipelines = [mel_pipeline]
    if hparams["teacher_weight"] > 0:
        if not teacher:
            raise ValueError("teacher_weight > 0 needs teacher_folder (per-utterance teacher features)")

        @sb.utils.data_pipeline.takes("id")
        @sb.utils.data_pipeline.provides("teacher")
        def teacher_pipeline(utt_id):
            return load_features(teacher, utt_id)

        pipelines.append(teacher_pipeline)
        keys.append("teacher")
    datasets = {}
    for role, manifest in manifests.items():
        dataset = DynamicItemDataset.from_csv(manifest)
        dataset = dataset.filtered_sorted(
            key_min_value={"duration": hparams["min_duration"]}, sort_key="duration" if role == "train" else "id"
        )
        for pipeline in pipelines:
            sb.dataio.dataset.add_dynamic_item([dataset], pipeline)
        sb.dataio.dataset.set_output_keys([dataset], keys)
        datasets[role] = dataset
    return datasets


def main(argv: Optional[List[str]] = None) -> MelCodecBrain:
    """Prepares the data, extracts the log-mel frames, trains and exports; returns the Brain."""
    hparams, run_opts = start_experiment(argv)
    codec = hparams["codec"]
    if codec.sample_rate != hparams["sample_rate"]:
        raise ValueError(f"the codec runs at {codec.sample_rate} Hz but sample_rate is {hparams['sample_rate']}")
    if hparams.get("init_from"):
        init_codec_from(codec, hparams["init_from"])
        logger.info("Codec weights start from %s", hparams["init_from"])
    manifests = prepare_data(hparams)
    subset = str(Path(hparams["save_folder"]) / "mel_codec_valid_subset.csv")
    manifests["valid"] = evenly_spaced_subset(manifests["valid"], hparams["valid_max_utterances"], subset)
    extract_on_all_ranks(LogMelExtractor(codec.encoder), manifests.values(), hparams["features_folder"], "features")
    if hparams["teacher_weight"] > 0 and hparams["teacher_folder"] and hparams["teacher_extractor"] is not None:
        teacher = hparams["teacher_extractor"]()
        extract_on_all_ranks(teacher, manifests.values(), hparams["teacher_folder"], "features")
    datasets = dataio_prepare(hparams, manifests)
    ctc_head = hparams["ctc_head"] if hparams["ctc_weight"] > 0 else None
    feature_head = hparams["feature_head"] if hparams["teacher_weight"] > 0 else None
    model = SupervisedMelCodec(codec, ctc_head, feature_head, hparams["supervised_stage"])
    brain = MelCodecBrain(
        modules={"model": model},
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    sampler = DynamicBatchSampler(
        datasets["train"],
        max_batch_length=hparams["max_batch_seconds"],
        num_buckets=hparams["num_buckets"],
        length_func=lambda item: float(item["duration"]),
        shuffle=True,
        batch_ordering="random",
        seed=hparams["seed"],
    )
    brain.fit(
        hparams["epoch_counter"],
        datasets["train"],
        datasets["valid"],
        train_loader_kwargs={"batch_sampler": sampler, "num_workers": hparams["num_workers"]},
        valid_loader_kwargs={"batch_size": hparams["valid_batch_size"], "num_workers": hparams["num_workers"]},
    )
    hparams["clock"].close()
    run_on_main(export_codec, kwargs={"codec": unwrap(brain.modules.model).codec, "folder": hparams["export_folder"]})
    if if_main_process():
        logger.info("Exported the codec to %s", hparams["export_folder"])
    return brain


if __name__ == "__main__":
    main()
