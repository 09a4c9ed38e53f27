"""The Stage-1 recipe on the embedded corpus: a short run, no leak through the
context path, exact resume after a kill, and two DDP ranks over gloo."""

import pytest
import speechbrain as sb
import torch
from conftest import assert_ranks_agree, embedded_recipe_args, load_recipe, train_on_two_ranks
from speechbrain.dataio.batch import PaddedBatch

from jepa_tokenizer.data.crops import CropPlan


def recipe_args(output, *extra):
    return embedded_recipe_args("pretrain_jepa.yaml", output, "--batch_size", "8", *extra)


@pytest.fixture(scope="module")
def recipe():
    return load_recipe("pretrain_jepa")


@pytest.fixture(scope="module")
def short_run(recipe, tmp_path_factory):
    """Four steps; the EMA updates the recipe makes are recorded, with the
    target as it was before the first one."""
    from jepa_tokenizer.training.jepa import EMAUpdater

    out = tmp_path_factory.mktemp("pretrain")
    updates = []
    original = EMAUpdater.update

    def recorded(self, target, online, step):
        if not updates:
            updates.append({"initial": {k: v.clone() for k, v in target.state_dict().items()}})
        updates.append({"step": step})
        return original(self, target, online, step)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EMAUpdater, "update", recorded)
        brain = recipe.main(recipe_args(out, "--number_of_epochs", "1", "--optimizer_step_limit", "4"))
    brain.ema_updates = updates
    return brain, out


def test_short_run_logs_and_checkpoints(short_run):
    brain, out = short_run
    assert brain.optimizer_step == 4
    log = (out / "train_log.txt").read_text()
    for key in (
        "train loss",
        "valid loss",
        "pred_std",
        "target_item_share",
        "daam0_alpha",
        "daam4_scale",
        "ema_momentum",
    ):
        assert key in log
    assert list((out / "save").glob("CKPT*/target_encoder.ckpt"))
    assert (out / "save" / "pretrain_train.csv").is_file()


def test_target_is_frozen_and_outside_the_optimizer(short_run, recipe):
    brain, _ = short_run
    target = brain.hparams.target_encoder
    optimized = {id(p) for group in brain.optimizer.param_groups for p in group["params"]}
    assert not optimized & {id(p) for p in target.parameters()}
    assert all(not p.requires_grad and p.grad is None for p in target.parameters())
    encoder = recipe.unwrap(brain.modules.encoder)
    # one EMA update after each optimizer step, with the step's momentum index
    initial, *calls = brain.ema_updates
    assert [call["step"] for call in calls] == [0, 1, 2, 3]
    # the target moved (EMA ran) but is not the online encoder (a momentum < 1)
    moved = [
        (value - initial["initial"][name]).abs().max()
        for name, value in target.state_dict().items()
        if value.is_floating_point()
    ]
    assert max(moved) > 0
    delta = [(t - o).abs().max() for t, o in zip(target.parameters(), encoder.parameters())]
    assert max(delta) > 0


def test_context_path_does_not_see_masked_audio(short_run):
    brain, _ = short_run
    brain.modules.eval()
    torch.manual_seed(0)
    wav = 0.1 * torch.randn(16000 * 6)
    batch = PaddedBatch([{"id": "a", "sig": wav}])
    brain.step = 0
    predictions, _, mask, _, _ = brain.compute_forward(batch, sb.Stage.VALID)
    hop = brain.modules.encoder.hop_length
    changed = wav.clone()
    for frame in mask[0].nonzero().flatten().tolist():
        changed[frame * hop : (frame + 1) * hop] = 0.5 * torch.randn(hop)
    again, _, mask_again, _, _ = brain.compute_forward(PaddedBatch([{"id": "a", "sig": changed}]), sb.Stage.VALID)
    assert torch.equal(mask, mask_again) and mask.any()
    assert torch.allclose(predictions, again, atol=1e-6)  # bound: no leak at all
    brain.hparams.leaky_context = True  # the reference script's variant does leak
    try:
        leaky, _, _, _, _ = brain.compute_forward(batch, sb.Stage.VALID)
        leaky_changed, _, _, _, _ = brain.compute_forward(PaddedBatch([{"id": "a", "sig": changed}]), sb.Stage.VALID)
    finally:
        brain.hparams.leaky_context = False
    assert not torch.allclose(leaky, leaky_changed, atol=1e-3)


def test_variance_term_adds_to_the_masked_loss_and_reaches_the_encoder(short_run):
    from jepa_tokenizer.training.jepa import item_variance_hinge

    brain, _ = short_run
    training = brain.modules.training
    brain.modules.eval()
    torch.manual_seed(0)
    batch = PaddedBatch([{"id": str(i), "sig": 0.1 * torch.randn(16000 * 4)} for i in range(3)])
    brain.step = 0
    weight = brain.hparams.variance_weight
    try:
        brain.on_stage_start(sb.Stage.VALID)
        outputs = brain.compute_forward(batch, sb.Stage.VALID)
        predictions, target, mask, counts, latents = outputs
        plain = brain.hparams.jepa_loss(predictions, target, mask, counts)
        brain.hparams.variance_weight = 2.0
        total = brain.compute_objectives(outputs, batch, sb.Stage.VALID)
    finally:
        brain.hparams.variance_weight = weight
        brain.modules.train(training)
    hinge = item_variance_hinge(latents, counts, target_std=brain.hparams.variance_target_std)
    assert float(hinge) > 0  # an encoder of 4 steps does not tell noise crops apart by 1 std
    assert float(total) == pytest.approx(float(plain) + 2.0 * float(hinge), rel=1e-5)
    assert brain.spread["variance_hinge"] == [pytest.approx(float(hinge))]
    assert brain.spread["masked_loss"] == [pytest.approx(float(plain))]
    # the term's own gradient reaches the encoder's stem, which the Conformer's output depends on
    brain.modules.encoder.zero_grad()
    hinge.backward()
    stem = [p for name, p in brain.modules.encoder.named_parameters() if name.startswith("blocks.0.")]
    assert stem and any(p.grad is not None and p.grad.abs().sum() > 0 for p in stem)


def _weights(brain, recipe):
    return {
        "encoder": recipe.unwrap(brain.modules.encoder).state_dict(),
        "predictor": recipe.unwrap(brain.modules.predictor).state_dict(),
        "target": brain.hparams.target_encoder.state_dict(),
    }


@pytest.mark.parametrize(
    "accumulation, interval, kill_at",
    [(1, 4, 5), (2, 3, 3)],  # with accumulation, checkpoints wait for a window's end
)
def test_resume_after_a_kill_matches_an_uninterrupted_run(
    recipe, tmp_path, monkeypatch, accumulation, interval, kill_at
):
    extra = [
        "--number_of_epochs",
        "1",
        "--ckpt_interval_minutes",
        "0",
        "--ckpt_interval_steps",
        str(interval),
        "--grad_accumulation_factor",
        str(accumulation),
        # learning rates falling over the whole run: a resumed run continues the schedule
        "--optimizer_step_limit",
        "10",
        "--lr_cooldown_share",
        "1.0",
    ]
    whole = recipe.main(recipe_args(tmp_path / "whole", *extra))
    assert whole.optimizer_step == 10 // accumulation
    factor = whole.hparams.lr_cooldown.factor(whole.optimizer_step / 10)
    assert whole.optimizer.param_groups[0]["lr"] == pytest.approx(whole.hparams.lr * factor)
    assert factor < 1.0

    original = recipe.JEPABrain.on_fit_batch_start

    def killed(self, batch, should_step):
        if self.optimizer_step == kill_at:  # after a checkpoint, before the end
            raise KeyboardInterrupt("simulated kill")
        original(self, batch, should_step)

    monkeypatch.setattr(recipe.JEPABrain, "on_fit_batch_start", killed)
    with pytest.raises(KeyboardInterrupt):
        recipe.main(recipe_args(tmp_path / "resumed", *extra))
    assert list((tmp_path / "resumed" / "save").glob("CKPT*"))
    monkeypatch.setattr(recipe.JEPABrain, "on_fit_batch_start", original)
    resumed = recipe.main(recipe_args(tmp_path / "resumed", *extra))
    assert resumed.optimizer_step == whole.optimizer_step
    a, b = _weights(whole, recipe), _weights(resumed, recipe)
    for part in a:
        for name in a[part]:
            assert torch.allclose(a[part][name], b[part][name], atol=1e-6), (part, name)


def test_ema_runs_once_per_optimizer_step_with_accumulation(recipe, tmp_path, monkeypatch):
    calls = []
    original = recipe.JEPABrain.compute_forward
    batches = []

    def counting_update(self, target, online, step):
        calls.append((step, self.momentum(step)))
        return original_update(self, target, online, step)

    def counting_forward(self, batch, stage):
        if stage == sb.Stage.TRAIN:
            batches.append(self.step)
        return original(self, batch, stage)

    from jepa_tokenizer import EMAUpdater

    original_update = EMAUpdater.update
    monkeypatch.setattr(EMAUpdater, "update", counting_update)
    monkeypatch.setattr(recipe.JEPABrain, "compute_forward", counting_forward)
    brain = recipe.main(
        recipe_args(
            tmp_path,
            "--number_of_epochs",
            "1",
            "--optimizer_step_limit",
            "3",
            "--grad_accumulation_factor",
            "2",
            "--ema_momentum_start",
            "0.5",
            "--ema_momentum_end",
            "1.0",
            "--ema_ramp_steps",
            "4",
            "--log_interval_steps",
            "1",
        )
    )
    assert len(batches) == 6 and [step for step, _ in calls] == [0, 1, 2]
    assert [m for _, m in calls] == [0.5, 0.625, 0.75]  # the first update uses the start value
    steps_logged = [line for line in (tmp_path / "train_log.txt").read_text().splitlines() if line.startswith("step:")]
    assert len(steps_logged) == 3 and "daam0_alpha" in steps_logged[0]
    assert brain.optimizer_step == 3


def test_training_crops_change_with_the_epoch_and_stay_within_the_limit(recipe):
    plan = CropPlan(seed=1, max_seconds=2.0)
    first = plan.window("utt-1", 6.0, train=True)
    assert plan.window("utt-1", 6.0, train=True) == first  # deterministic
    plan.epoch = 1
    second = plan.window("utt-1", 6.0, train=True)
    assert first != second and all(0 <= w[0] <= 4.0 and w[1] == 2.0 for w in (first, second))
    assert plan.window("utt-1", 6.0, train=False) == (0.0, 2.0)
    assert plan.window("utt-1", 1.5, train=True) == (0.0, None)


def test_two_ranks_over_gloo_agree_after_training(tmp_path):
    out = tmp_path / "ddp"
    args = recipe_args(out, "--number_of_epochs", "1", "--optimizer_step_limit", "2", "--log_interval_steps", "1")
    ranks = train_on_two_ranks("pretrain_jepa", args, out)
    assert ranks[0]["steps"] == ranks[1]["steps"] == 2
    assert_ranks_agree(ranks, ("encoder", "predictor", "target"))
