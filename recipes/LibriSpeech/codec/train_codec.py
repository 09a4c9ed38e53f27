#!/usr/bin/env python3
"""Stage 2 of the JEPA tokenizer: FSQ tokens and a HiFi-GAN decoder on top of
the Stage-1 encoder, trained adversarially.

The generator (encoder, frozen or fine-tuned, then FSQ and the decoder) and
SpeechBrain's multi-period + multi-scale discriminator have one optimizer
each; the discriminator and the adversarial terms start after
``discriminator_start_step`` optimizer steps. Validation reports
reconstruction metrics (``jepa_tokenizer.evaluation.metrics``) and saves a few example
wavs each epoch. At the end the codec is exported as a self-contained
pretrained-model folder (``export_folder``) that
``jepa_tokenizer.pretrained.inference.JEPATokenizer.from_hparams`` loads.

Run (see hparams/train_codec.yaml next to this script for more)::

    python recipes/LibriSpeech/codec/train_codec.py recipes/LibriSpeech/codec/hparams/train_codec.yaml \
        --data_folder /path/to/LibriSpeech --pretrained_encoder results/pretrain_jepa/1986/save

Authors
 * jepa-tokenizer team 2026
"""

import logging
from pathlib import Path
from typing import List, Optional

import speechbrain as sb
import torch
from speechbrain.utils.distributed import if_main_process, run_on_main

from jepa_tokenizer.data.audio import save_audio
from jepa_tokenizer.data.crops import crop_datasets, fit_on_crops, prepare_crop_manifests, start_training_epoch
from jepa_tokenizer.evaluation.metrics import average_metrics, reconstruction_metrics
from jepa_tokenizer.nn.lengths import relative_to_absolute, steps_mask
from jepa_tokenizer.pretrained.export import export_codec
from jepa_tokenizer.training.experiment import load_encoder_weights, start_experiment, stop_if_out_of_time, unwrap
from jepa_tokenizer.training.train_log import log_recent_steps

logger = logging.getLogger(__name__)


class CodecBrain(sb.Brain):
    """Generator (the codec) and discriminator with their own optimizers."""

    def init_optimizers(self):
        """One optimizer for the generator (the encoder in its own group when
        fine-tuned), one for the discriminator; both checkpointed."""
        codec = unwrap(self.modules.codec)
        groups = [{"params": [p for p in codec.decoder.parameters() if p.requires_grad]}]
        if not self.hparams.freeze_encoder:
            groups.append({"params": list(codec.encoder.parameters()), "lr": self.hparams.encoder_lr})
        self.optimizer_g = self.hparams.generator_opt_class(groups)
        self.optimizer_d = self.hparams.discriminator_opt_class(self.modules.discriminator.parameters())
        self.optimizer = self.optimizer_g  # what SpeechBrain reports as "the" optimizer
        self.optimizers_dict = {"generator": self.optimizer_g, "discriminator": self.optimizer_d}
        if self.checkpointer is not None:
            self.checkpointer.add_recoverable("optimizer_g", self.optimizer_g)
            self.checkpointer.add_recoverable("optimizer_d", self.optimizer_d)

    def on_stage_start(self, stage, epoch=None):
        """Frozen encoders stay in eval mode; new crops each training epoch."""
        self.metric_rows, self.saved = [], 0
        if self.hparams.freeze_encoder:
            unwrap(self.modules.codec).encoder.eval()
        if stage == sb.Stage.TRAIN and epoch is not None:
            start_training_epoch(self.hparams, epoch)

    def _reconstruct(self, batch):
        batch = batch.to(self.device)
        wavs, lens = batch.sig
        out = self.modules.codec(wavs, lens)
        samples = relative_to_absolute(lens, wavs.shape[1])
        real = steps_mask(samples, wavs.shape[1]).squeeze(1).to(out.wav.dtype)
        return out.wav * real, wavs, samples

    @property
    def discriminator_on(self) -> bool:
        """Whether the adversarial part has started."""
        return self.optimizer_step >= self.hparams.discriminator_start_step

    def _discriminate(self, fake, real):
        """One discriminator pass over fake and real together (one forward
        per backward, as DDP wants); returns (scores, feats) split in halves."""
        scores, feats = self.modules.discriminator(torch.cat([fake, real]).unsqueeze(1))
        half = fake.shape[0]
        scores = ([s[:half] for s in scores], [s[half:] for s in scores])
        feats = ([[f[:half] for f in g] for g in feats], [[f[half:] for f in g] for g in feats])
        return scores, feats

    def _step(self, optimizer, loss, module):
        optimizer.zero_grad(set_to_none=True)
        self.scaler.scale(loss).backward()
        self.scaler.unscale_(optimizer)
        torch.nn.utils.clip_grad_norm_(module.parameters(), self.max_grad_norm)
        self.scaler.step(optimizer)

    def fit_batch(self, batch):
        """One discriminator step (once started), then one generator step."""
        if self.grad_accumulation_factor != 1:
            raise ValueError("train_codec.py does not support --grad_accumulation_factor")
        with self.training_ctx:
            y_hat, y, _ = self._reconstruct(batch)
        terms = {}
        discriminator = self.modules.discriminator
        if self.discriminator_on:
            with self.training_ctx:
                (fake, real), _ = self._discriminate(y_hat.detach(), y)
                d_loss = self.hparams.discriminator_loss(fake, real)["D_loss"]
            self._step(self.optimizer_d, d_loss, discriminator)
            terms["D_loss"] = d_loss.detach()
        with self.training_ctx:
            scores_fake = feats_fake = feats_real = None
            if self.discriminator_on:
                (scores_fake, _), (feats_fake, feats_real) = self._discriminate(y_hat, y)
                feats_real = [[f.detach() for f in group] for group in feats_real]
            terms.update(self.hparams.generator_loss(y_hat, y, scores_fake, feats_fake, feats_real))
        self._step(self.optimizer_g, terms["G_loss"], self.modules.codec)
        self.scaler.update()
        self.optimizer_step += 1
        self._track(terms)
        log_recent_steps(self, self.running)
        stop_if_out_of_time(self, G_loss=f"{float(terms['G_loss'].detach()):.3f}")
        return terms["G_loss"].detach().cpu()

    def _track(self, terms):
        for key, value in terms.items():
            self.running.setdefault(key, []).append(float(value.detach()))

    def evaluate_batch(self, batch, stage):
        """Reconstruction loss and metrics; saves a few example wavs."""
        with torch.no_grad(), self.evaluation_ctx:
            y_hat, y, samples = self._reconstruct(batch)
            loss = self.hparams.generator_loss(y_hat, y)["G_loss"]
        rate = unwrap(self.modules.codec).sample_rate
        for row, length in enumerate(samples.tolist()):
            if len(self.metric_rows) < self.hparams.metrics_max_utterances:
                self.metric_rows.append(reconstruction_metrics(y[row, :length], y_hat[row, :length], rate))
            if self.saved < self.hparams.num_samples_to_save and if_main_process():
                folder = Path(self.hparams.samples_folder) / f"epoch_{self.hparams.epoch_counter.current}"
                utt = batch.id[row]
                save_audio(folder / f"{utt}_original.wav", y[row, :length], rate)
                save_audio(folder / f"{utt}_reconstructed.wav", y_hat[row, :length].float(), rate)
                self.saved += 1
        return loss.detach().cpu()

    def on_fit_start(self):
        """Resets the running statistics before training (and recovery); a run
        resumed with its time budget spent does not train further."""
        self.running = {}
        super().on_fit_start()
        stop_if_out_of_time(self)

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs losses and metrics; checkpoints after validation."""
        if stage == sb.Stage.TRAIN:
            self.train_stats = {"G_loss": stage_loss}
            for key, values in self.running.items():
                if values:
                    self.train_stats[key] = sum(values) / len(values)
            self.running = {}
            return
        stats = {"G_loss": stage_loss, **average_metrics(self.metric_rows)}
        if stage == sb.Stage.VALID:
            self.hparams.train_logger.log_stats(
                stats_meta={
                    "epoch": epoch,
                    "step": self.optimizer_step,
                    "discriminator": int(self.discriminator_on),
                    "minutes": round(self.hparams.clock.seconds / 60, 2),
                },
                train_stats=self.train_stats,
                valid_stats=stats,
            )
            self.checkpointer.save_and_keep_only(
                meta={"G_loss": stage_loss, "step": self.optimizer_step},
                num_to_keep=self.hparams.keep_checkpoints,
            )
        else:
            self.hparams.train_logger.log_stats(
                stats_meta={"Epoch loaded": self.hparams.epoch_counter.current}, test_stats=stats
            )
        self.last_stats = stats


def build_codec(hparams: dict):
    """The codec of the model file, with the Stage-1 encoder loaded and frozen
    as configured."""
    codec = hparams["model"]["codec"]
    if codec.sample_rate != hparams["sample_rate"]:
        raise ValueError(
            f"sample_rate in the recipe YAML is {hparams['sample_rate']} but the model "
            f"({hparams['model_config']}) runs at {codec.sample_rate}; set --sample_rate {codec.sample_rate}"
        )
    if hparams["pretrained_encoder"]:
        loaded = load_encoder_weights(codec.encoder, hparams["pretrained_encoder"], hparams["pretrained_encoder_key"])
        logger.info("Stage-1 encoder loaded from %s", loaded)
    elif hparams["freeze_encoder"]:
        logger.warning("No pretrained encoder: the encoder is random and frozen (a control run).")
    if hparams["freeze_encoder"]:
        codec.encoder.requires_grad_(False)
    return codec


def main(argv: Optional[List[str]] = None) -> CodecBrain:
    """Prepares the data and trains the codec; returns the ``CodecBrain``."""
    hparams, run_opts = start_experiment(argv)
    run_on_main(prepare_crop_manifests, kwargs={"hparams": hparams})
    codec = build_codec(hparams)
    datasets = crop_datasets(hparams, codec.sample_rate)  # the data pipeline: random crops
    hparams["checkpointer"].add_recoverables({"codec": codec})
    brain = CodecBrain(
        modules={"codec": codec, "discriminator": hparams["discriminator"]},
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    fit_on_crops(brain, hparams, datasets)
    hparams["clock"].close()
    run_on_main(
        export_codec,
        kwargs={
            "codec": unwrap(brain.modules.codec),
            "folder": hparams["export_folder"],
        },
    )
    if if_main_process():
        logger.info("Exported the codec to %s", hparams["export_folder"])
    return brain


if __name__ == "__main__":
    main()
