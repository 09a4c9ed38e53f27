#!/usr/bin/env python3
"""Stage 1 of the JEPA tokenizer: self-supervised JEPA pretraining.

The context encoder sees the audio with masked latent frames hidden (their
samples zeroed, left out of the DAAM statistics, replaced by a learned
embedding before the Conformer); the predictor fills in the masked frames;
the loss compares its output with an EMA target encoder that sees all the
audio, on masked frames only. The EMA target is updated after every
optimizer step and checkpointed with everything else.

Run (see hparams/pretrain_jepa.yaml next to this script for more)::

    python recipes/LibriSpeech/JEPA/pretrain_jepa.py recipes/LibriSpeech/JEPA/hparams/pretrain_jepa.yaml \
        --data_folder /path/to/LibriSpeech

Authors
 * jepa-tokenizer team 2026
"""

import copy
import dataclasses
import logging
from typing import Dict, List, Optional

import speechbrain as sb
import torch
from speechbrain.utils.distributed import if_main_process, run_on_main

from jepa_tokenizer.data.crops import (
    crop_datasets,
    fit_on_crops,
    prepare_crop_manifests,
    start_training_epoch,
    step_seed,
)
from jepa_tokenizer.nn.lengths import ceil_div, relative_to_absolute
from jepa_tokenizer.training.experiment import start_experiment, stop_if_out_of_time, unwrap
from jepa_tokenizer.training.jepa import item_variance_hinge, item_variance_share
from jepa_tokenizer.training.train_log import log_recent_steps

logger = logging.getLogger(__name__)


class JEPABrain(sb.Brain):
    """JEPA pretraining: context encoder + predictor, EMA target encoder."""

    def on_fit_start(self):
        """Puts the target on the device before the checkpoint is recovered;
        a run resumed with its time budget spent does not train further."""
        self.hparams.target_encoder.to(self.device)
        super().on_fit_start()
        stop_if_out_of_time(self)

    def on_evaluate_start(self, max_key=None, min_key=None):
        """Same for evaluation."""
        self.hparams.target_encoder.to(self.device)
        super().on_evaluate_start(max_key=max_key, min_key=min_key)

    @property
    def micro_batch(self) -> int:
        """Index of this batch inside its gradient-accumulation window."""
        return self.step % self.grad_accumulation_factor

    def _generator(self, stage, stream: int) -> torch.Generator:
        if stage == sb.Stage.TRAIN:
            seed = step_seed(self.hparams.seed, self.optimizer_step, self.process_rank, stream, self.micro_batch)
        else:
            seed = step_seed(self.hparams.valid_mask_seed, self.step, 0, stream)
        return torch.Generator().manual_seed(seed)

    @property
    def process_rank(self) -> int:
        """This process's rank (0 without DDP)."""
        if torch.distributed.is_available() and torch.distributed.is_initialized():
            return torch.distributed.get_rank()
        return 0

    def on_fit_batch_start(self, batch, should_step):
        """Seeds dropout from the step, so a resumed run repeats the same draws."""
        torch.manual_seed(self._generator(sb.Stage.TRAIN, 2).initial_seed())

    def compute_forward(self, batch, stage):
        """Masks, encodes (context and target) and predicts."""
        batch = batch.to(self.device)
        wavs, lens = batch.sig  # already cropped by the data pipeline (CropPlan)
        encoder = unwrap(self.modules.encoder)

        frames = encoder.num_frames(wavs.shape[1])
        samples = relative_to_absolute(lens, wavs.shape[1])
        counts = ceil_div(samples, encoder.hop_length)
        mask = self.hparams.masker(counts.cpu(), frames, self._generator(stage, 1)).to(self.device)

        if self.hparams.leaky_context:
            context = self.modules.encoder(wavs, lens)  # sees the masked audio
        else:
            context = self.modules.encoder(wavs, lens, frame_mask=mask)
        with torch.no_grad():
            target = self.hparams.target_encoder(wavs, lens).latents
        predictions = self.modules.predictor(context.latents, mask, context.counts)
        return predictions, target, mask, counts, context.latents

    def compute_objectives(self, outputs, batch, stage):
        """Masked prediction loss (plus the weighted variance term on the
        context latents); tracks the predictions' spread (collapse monitor)."""
        predictions, target, mask, counts, latents = outputs
        loss = self.hparams.jepa_loss(predictions, target, mask, counts)
        self.spread["masked_loss"].append(float(loss.detach()))  # without the variance term
        if self.hparams.variance_weight > 0:
            hinge = item_variance_hinge(
                latents, counts, target_std=self.hparams.variance_target_std, eps=self.hparams.variance_eps
            )
            self.spread["variance_hinge"].append(float(hinge.detach()))
            loss = loss + self.hparams.variance_weight * hinge
        with torch.no_grad():
            chosen = predictions[mask].float()
            if chosen.shape[0] > 1:
                self.spread["pred_std"].append(float(chosen.std(dim=0).mean()))
                self.spread["target_std"].append(float(target[mask].float().std(dim=0).mean()))
            if target.shape[0] > 1:
                self.spread["target_item_share"].append(item_variance_share(target, counts))
        return loss

    def on_fit_batch_end(self, batch, outputs, loss, should_step):
        """EMA update of the target after every optimizer step."""
        if not should_step:
            return
        self.hparams.ema.update(  # the first update uses ema_momentum_start
            self.hparams.target_encoder, unwrap(self.modules.encoder), self.optimizer_step - 1
        )
        log_recent_steps(self, self.spread, self.gate_stats(), {"loss": self.avg_train_loss})
        stop_if_out_of_time(self, loss=f"{float(loss.detach()):.4f}")

    def on_stage_start(self, stage, epoch=None):
        """Resets the statistics; new crops and batches for each training epoch."""
        self.spread = {
            key: [] for key in ("pred_std", "target_std", "target_item_share", "masked_loss", "variance_hinge")
        }
        if stage == sb.Stage.TRAIN and epoch is not None:
            start_training_epoch(self.hparams, epoch)

    def _should_save_intra_epoch_ckpt(self, last_ckpt_time, steps_since_ckpt):
        """Never inside a gradient-accumulation window (its gradients would be lost)."""
        if self.step % self.grad_accumulation_factor != 0:
            return False
        return super()._should_save_intra_epoch_ckpt(last_ckpt_time, steps_since_ckpt)

    def gate_stats(self) -> Dict[str, float]:
        """Mean alpha, scale and mean offset of each block's DAAM gate."""
        stats = {}
        with torch.no_grad():
            for index, block in enumerate(unwrap(self.modules.encoder).blocks):
                if block.gate is not None:
                    stats[f"daam{index}_alpha"] = float(block.gate.alpha.mean())
                    stats[f"daam{index}_scale"] = float(block.gate.scales().mean())
                    stats[f"daam{index}_offset"] = float(block.gate.mean_offset.mean())
        return stats

    def on_stage_end(self, stage, stage_loss, epoch=None):
        """Logs, and checkpoints at the end of each epoch."""
        stats = {"loss": stage_loss}
        for key, values in self.spread.items():
            if values:
                stats[key] = sum(values) / len(values)
        if stage == sb.Stage.TRAIN:
            self.train_stats = stats
            return
        if stage == sb.Stage.VALID:
            meta = {
                "epoch": epoch,
                "step": self.optimizer_step,
                "lr": self.optimizer.param_groups[0]["lr"],
                "ema_momentum": self.hparams.ema.momentum(self.optimizer_step),
                "minutes": round(self.hparams.clock.seconds / 60, 2),
            }
            self.hparams.train_logger.log_stats(
                stats_meta={**meta, **self.gate_stats()},
                train_stats=self.train_stats,
                valid_stats=stats,
            )
            # the most recent are kept: losses against a moving target do not rank checkpoints
            self.checkpointer.save_and_keep_only(
                meta={"loss": stage_loss, "step": self.optimizer_step},
                num_to_keep=self.hparams.keep_checkpoints,
            )
            self.last_stats = stats


def main(argv: Optional[List[str]] = None) -> JEPABrain:
    """Prepares the data and trains; returns the trained ``JEPABrain``."""
    hparams, run_opts = start_experiment(argv)
    run_on_main(prepare_crop_manifests, kwargs={"hparams": hparams})

    if hparams["leaky_context"] and not run_opts.get("find_unused_parameters"):
        # the leaky context path never uses the mask embedding: DDP must allow that
        run_opts = dataclasses.replace(run_opts, find_unused_parameters=True)
    encoder = hparams["model"]["encoder"]
    predictor = hparams["model"]["predictor"]
    datasets = crop_datasets(hparams, encoder.sample_rate)  # the data pipeline: random crops

    target = copy.deepcopy(encoder)
    hparams["ema"].init_target(target, encoder)
    hparams["target_encoder"] = target
    hparams["checkpointer"].add_recoverables({"encoder": encoder, "predictor": predictor, "target_encoder": target})
    brain = JEPABrain(
        modules={"encoder": encoder, "predictor": predictor},
        opt_class=hparams["opt_class"],
        hparams=hparams,
        run_opts=run_opts,
        checkpointer=hparams["checkpointer"],
    )
    fit_on_crops(brain, hparams, datasets)
    hparams["clock"].close()
    if if_main_process():
        logger.info("Stage-1 pretraining done; checkpoints in %s", hparams["save_folder"])
    return brain


if __name__ == "__main__":
    main()
