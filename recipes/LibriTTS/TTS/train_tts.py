#!/usr/bin/env python3
"""Text to speech on 2.5 Hz tokens (LibriTTS; the embedded corpus on CPU).

1. Manifests (``libritts_prepare.py``: LibriTTS, or a LibriSpeech-layout
   corpus such as the embedded one).
2. Tokens extracted once with the frozen codec (``jepa_tokenizer.data.extraction``,
   the code of the ASR recipe): resumable, split across DDP ranks.
3. ``jepa_tokenizer.models.tts.TokenTTS`` trains with teacher forcing: each frame's
   FSQ digits and an end-of-speech decision, from text units (characters or
   SentencePiece units trained here) and a speaker table.
4. The best checkpoint (validation loss) is tested, exported as a
   ``TextToSpeech`` folder (``<output_folder>/model``), and the test
   sentences are synthesized and judged by an offline ASR next to the same
   ASR on the original recordings and on their codec resynthesis
   (``<report_folder>/report.md`` with wavs and spectrograms).

Run: see hparams/tts_tokens.yaml (next to this script).

Why LibriTTS: it is LibriSpeech cut at sentence boundaries for TTS (clean
segment edges, normalised text with punctuation, 2,456 speakers), so the
codec's LibriSpeech training data and the TTS data are the same speech and a
speaker table is meaningful; LJSpeech has one voice.

Authors
 * jepa-tokenizer team 2026
"""

import csv
import json
import logging
from pathlib import Path
from typing import Dict, List, Optional

import speechbrain as sb
import torch
from libritts_prepare import prepare_libritts  # this folder's prepare script
from speechbrain.dataio.dataset import DynamicItemDataset
from speechbrain.utils.distributed import if_main_process, run_on_main

from jepa_tokenizer.data.extraction import extract_on_all_ranks, load_features
from jepa_tokenizer.data.manifests import merge_manifests
from jepa_tokenizer.data.text import TextUnits
from jepa_tokenizer.models.tts import tts_loss
from jepa_tokenizer.nn.lengths import relative_to_absolute
from jepa_tokenizer.training.experiment import TimeBudgetBrain, start_experiment, unwrap

logger = logging.getLogger(__name__)


class TTSBrain(TimeBudgetBrain):
    """Teacher-forced training of ``TokenTTS``."""

    def compute_forward(self, batch, stage):
        """Digit logits and stop logits of every frame."""
        batch = batch.to(self.device)
        units, unit_lens = batch.units
        digits, frame_lens = batch.digits
        speakers = batch.speaker if self.hparams.use_speakers else None
        return self.modules.model(units, unit_lens, digits, frame_lens, speakers)

    def compute_objectives(self, predictions, batch, stage):
        """Digit NLL + weighted stop BCE; digit accuracy outside training."""
        digits, frame_lens = batch.digits
        loss, nll, stop = tts_loss(
            predictions, digits, frame_lens, self.hparams.stop_weight, self.hparams.stop_pos_weight
        )
        self.parts["digit_nll"] += float(nll.detach())
        self.parts["stop_bce"] += float(stop.detach())
        self.parts["batches"] += 1
        if stage != sb.Stage.TRAIN:
            frames = relative_to_absolute(frame_lens, digits.shape[1])
            real = sb.dataio.dataio.length_to_mask(frames, digits.shape[1]).bool()
            correct = (predictions.digit_logits.argmax(-1) == digits)[real]
            self.parts["correct"] += int(correct.sum())
            self.parts["digits"] += correct.numel()
        return loss

    def on_stage_start(self, stage, epoch=None):
        """Fresh statistics."""
        self.parts = {"digit_nll": 0.0, "stop_bce": 0.0, "batches": 0, "correct": 0, "digits": 0}

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs; anneals the learning rate and checkpoints on validation loss."""
        count = max(1, self.parts["batches"])
        stats = {
            "loss": stage_loss,
            "digit_nll": self.parts["digit_nll"] / count,
            "stop_bce": self.parts["stop_bce"] / count,
        }
        if self.parts["digits"]:
            stats["digit_accuracy"] = 100 * self.parts["correct"] / self.parts["digits"]
        if stage == sb.Stage.TRAIN:
            self.train_stats = stats
        elif stage == sb.Stage.VALID:
            old_lr, new_lr = self.hparams.lr_annealing(stage_loss)
            sb.nnet.schedulers.update_learning_rate(self.optimizer, new_lr)
            self.hparams.train_logger.log_stats(
                stats_meta={"epoch": epoch, "lr": old_lr, "steps": self.optimizer_step},
                train_stats=self.train_stats,
                valid_stats=stats,
            )
            self.checkpointer.save_and_keep_only(meta={"loss": stage_loss}, min_keys=["loss"])
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={"Epoch loaded": self.hparams.epoch_counter.current}, test_stats=stats
            )
            self.test_stats = stats


# ------------------------------------------------------------------ data
def manifest_paths(hparams) -> Dict[str, str]:
    """CSV of each role: train, valid, test."""
    return {role: str(Path(hparams["save_folder"]) / f"tts_{role}.csv") for role in ("train", "valid", "test")}


def prepare_data(hparams) -> None:
    """Writes the manifests of ``manifest_paths``."""
    groups = {role: hparams[f"{role}_splits"] for role in ("train", "valid", "test")}
    splits = sorted({s for group in groups.values() for s in group})
    paths = prepare_libritts(hparams["data_folder"], hparams["save_folder"], splits, hparams["skip_prep"])
    for role, manifest in manifest_paths(hparams).items():
        merge_manifests([paths[s] for s in groups[role]], manifest, with_text=True)


def _column(manifest: str, column: str) -> List[str]:
    with open(manifest, newline="", encoding="utf-8") as stream:
        return [row[column] for row in csv.DictReader(stream)]


def speaker_table(hparams, manifests: Dict[str, str]) -> List[str]:
    """The training speakers (rows of the speaker table); [] without speakers."""
    if not hparams["use_speakers"]:
        return []
    speakers = sorted(set(_column(manifests["train"], "spk_id")))
    default = hparams["default_speaker"]
    if default is not None and str(default) not in speakers:
        raise ValueError(f"default_speaker {default!r} is not a training speaker ({speakers})")
    return speakers


def dataio_prepare(hparams, manifests: Dict[str, str], speakers: List[str]) -> Dict[str, DynamicItemDataset]:
    """Datasets of text units, speaker indices and frame digits; trains the text units."""
    texts = _column(manifests["train"], "wrd")
    units_folder = Path(hparams["save_folder"]) / "units"
    options = [units_folder, texts, hparams["text_units"], hparams["sentencepiece_vocab_size"]]
    run_on_main(TextUnits, args=options)
    units = hparams["text_encoder"] = TextUnits(*options)
    rows = {name: row for row, name in enumerate(speakers)}
    default = rows[str(hparams["default_speaker"])] if hparams["default_speaker"] is not None else 0
    packer, folder = hparams["tokenizer"].codec.packer, hparams["features_folder"]

    @sb.utils.data_pipeline.takes("id", "wrd", "spk_id")
    @sb.utils.data_pipeline.provides("units", "speaker", "digits")
    def pipeline(utt_id, wrd, spk_id):
        yield torch.LongTensor(units.encode(wrd))
        # voices outside the table (validation/test speakers) use the default voice
        yield rows.get(spk_id, default)
        yield packer.unpack(load_features(folder, utt_id))

    datasets = {}
    for role, manifest in manifests.items():
        dataset = DynamicItemDataset.from_csv(manifest)
        dataset = dataset.filtered_sorted(
            key_min_value={"duration": hparams["min_duration"]},
            key_max_value={"duration": hparams["max_duration"]},
            sort_key="duration" if hparams["sorting"] != "random" else None,
            reverse=hparams["sorting"] == "descending",
        )
        sb.dataio.dataset.add_dynamic_item([dataset], pipeline)
        sb.dataio.dataset.set_output_keys([dataset], ["id", "units", "speaker", "digits"])
        datasets[role] = dataset
    return datasets


# ------------------------------------------------------- export and report
def export(hparams, model, speakers: List[str]) -> Path:
    """Writes the ``TextToSpeech`` folder of the loaded (best) model."""
    from jepa_tokenizer.pretrained.synthesis import SAMPLING_KEYS, export_tts

    return export_tts(
        unwrap(model),
        hparams["model_folder"],
        Path(hparams["save_folder"]) / "units",
        hparams["codec_folder"],
        hparams["text_units"],
        hparams["sentencepiece_vocab_size"],
        speakers,
        None if hparams["default_speaker"] is None else str(hparams["default_speaker"]),
        {key: hparams[key] for key in SAMPLING_KEYS},
    )


def digit_baselines(datasets) -> Dict[str, float]:
    """Digit accuracy (%) on the test set of two predictors that ignore the
    text: each digit's most frequent training level, and the previous frame's
    digits; the model's teacher-forced accuracy is read against them."""
    with datasets["train"].output_keys_as(["digits"]):
        train = torch.cat([item["digits"] for item in datasets["train"]])
    levels = int(train.max()) + 1
    majority = torch.stack([torch.bincount(column, minlength=levels).argmax() for column in train.T])
    same = previous = total = 0
    with datasets["test"].output_keys_as(["digits"]):
        for item in datasets["test"]:
            digits = item["digits"]
            same += int((digits == majority).sum())
            previous += int((digits == torch.cat([majority[None], digits[:-1]])).sum())
            total += digits.numel()
    return {"majority_level": 100 * same / total, "previous_frame": 100 * previous / total}


def evaluate_synthesis(
    hparams, manifests: Dict[str, str], device: str, token_stats: Optional[Dict[str, float]] = None
) -> Dict[str, Dict[str, float]]:
    """Synthesizes the test sentences and judges them, the original
    recordings and their codec resynthesis with one ASR; writes the report."""
    from jepa_tokenizer.evaluation.evaluate import (
        Utterance,
        evaluate_system,
        load_manifest,
        tokenizer_system,
        write_utterance_table,
    )
    from jepa_tokenizer.evaluation.metrics import make_asr
    from jepa_tokenizer.evaluation.plots import plot_spectrograms
    from jepa_tokenizer.evaluation.reports import cell, markdown_table
    from jepa_tokenizer.pretrained.synthesis import TextToSpeech

    tts = TextToSpeech.from_folder(hparams["model_folder"], device)
    rate, tok = tts.sample_rate, tts.tokenizer
    utterances = load_manifest(manifests["test"], rate, hparams["eval_max_utterances"])
    vocabulary = [text for manifest in manifests.values() for text in _column(manifest, "wrd")]
    asr = make_asr(hparams["eval_asr"], vocabulary, hparams["whisper_source"], device)
    torch.manual_seed(hparams["eval_seed"])
    synthesized = [Utterance(u.id, tts.synthesize(u.text), u.text) for u in utterances]
    report = Path(hparams["report_folder"])
    wavs = report / "wavs"

    systems = {
        "original": evaluate_system("original", utterances, rate, None, asr),
        "codec": evaluate_system("codec", utterances, rate, tokenizer_system(tok), asr, wavs),
        "tts": evaluate_system("tts", synthesized, rate, None, asr, wavs),
    }
    rows = []
    for index, utt in enumerate(utterances):
        row = {
            "ID": utt.id,
            "reference": utt.text,
            "seconds": utt.wav.numel() / rate,
            "tts_seconds": synthesized[index].wav.numel() / rate,
        }
        for name, result in systems.items():
            row[f"{name}_hypothesis"] = result["utterances"][index].get("hypothesis")
        rows.append(row)
    write_utterance_table(report / "utterances.csv", rows)
    ratios = [row["tts_seconds"] / row["seconds"] for row in rows]
    results = {name: {"wer": result["averages"]["wer"]} for name, result in systems.items()}
    results["tts"]["duration_ratio"] = sum(ratios) / len(ratios)
    results["test_digit_accuracy"] = token_stats or {}
    examples = range(min(hparams["report_examples"], len(utterances)))
    picture = plot_spectrograms(
        [[utterances[i].wav, systems["codec"]["outputs"][i], synthesized[i].wav] for i in examples],
        [utterances[i].id for i in examples],
        ["original", "codec resynthesis", "TTS"],
        rate,
        report / "spectrograms.png",
    )
    lines = [
        "# TTS on tokens: report",
        "",
        f"Codec: {hparams['codec_folder']} ({tok.tokens_per_second:g} tokens/s, {tok.bitrate:g} bit/s). "
        f"{len(utterances)} test sentences (held out), synthesized in the voice "
        f"{tts.hparams.default_speaker or '(no speaker table)'} with temperature {hparams['temperature']}, "
        f"top-k {hparams['top_k']}, seed {hparams['eval_seed']}. WER by {asr.description}.",
        "",
        markdown_table(
            ["audio", "WER %"],
            [
                [title, cell(results[key]["wer"], ".1f")]
                for key, title in (
                    ("original", "original recordings"),
                    ("codec", "codec resynthesis of the recordings"),
                    ("tts", "TTS (text -> tokens -> codec decoder)"),
                )
            ],
        ),
        "",
        f"Synthesized duration / recorded duration: {results['tts']['duration_ratio']:.2f} on average.",
        "",
        "Digit accuracy on the test set (%): "
        + ", ".join(f"{key.replace('_', ' ')} {value:.1f}" for key, value in (token_stats or {}).items()),
        "(teacher-forced model against two predictors that ignore the text).",
        "",
        f"![spectrograms]({picture.name})",
        "",
        markdown_table(
            ["utterance", "reference", "TTS hypothesis", "wavs"],
            [
                [u.id, u.text, rows[i]["tts_hypothesis"], f"[codec](wavs/{u.id}_codec.wav), [TTS](wavs/{u.id}_tts.wav)"]
                for i, u in ((i, utterances[i]) for i in examples)
            ],
        ),
    ]
    (report / "report.md").write_text("\n".join(lines) + "\n")
    return results


def main(argv: Optional[List[str]] = None) -> TTSBrain:
    """Prepares, extracts, trains, tests, exports and reports; returns the brain."""
    hparams, run_opts = start_experiment(argv)
    device = run_opts.get("device") or "cpu"
    hparams["tokenizer"].codec.to(device)
    run_on_main(prepare_data, kwargs={"hparams": hparams})
    manifests = manifest_paths(hparams)
    extract_on_all_ranks(hparams["tokenizer"], manifests.values(), hparams["features_folder"])
    speakers = speaker_table(hparams, manifests)
    datasets = dataio_prepare(hparams, manifests, speakers)
    codec = hparams["tokenizer"].codec
    sizes = {
        "num_units": len(hparams["text_encoder"]),
        "levels": codec.quantizer.radices,
        "num_speakers": len(speakers),
    }
    model = hparams["model"](**sizes)
    hparams["checkpointer"].add_recoverables({"model": model})
    brain = TTSBrain(
        modules={"model": model},
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
    brain.fit_seconds = hparams["clock"].seconds  # testing recovers the clock too
    brain.evaluate(datasets["test"], min_key="loss", test_loader_kwargs=valid_loader)  # loads the best model
    run_on_main(export, args=[hparams, brain.modules.model, speakers])
    if if_main_process():
        results_file = Path(hparams["report_folder"]) / "results.json"
        from jepa_tokenizer.pretrained.synthesis import SAMPLING_KEYS

        # the tested (best) checkpoint and every setting of the evaluation
        setting = {key: hparams[key] for key in (*SAMPLING_KEYS, "eval_asr", "eval_seed", "eval_max_utterances")}
        setting["checkpoint_epoch"] = hparams["epoch_counter"].current
        done = json.loads(results_file.read_text()) if results_file.is_file() else {}
        if done.get("evaluated_with") != setting:  # a rerun of a finished run does not evaluate again
            token_stats = {"model (teacher-forced)": brain.test_stats["digit_accuracy"], **digit_baselines(datasets)}
            done = {**evaluate_synthesis(hparams, manifests, device, token_stats), "evaluated_with": setting}
            results_file.write_text(json.dumps(done, indent=2) + "\n")
        brain.synthesis_results = done
        logger.info("TTS evaluation: %s (report: %s)", done, hparams["report_folder"])
    return brain


if __name__ == "__main__":
    main()
