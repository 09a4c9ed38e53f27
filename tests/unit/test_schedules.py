"""The learning-rate cooldown over a run's progress (time budget or step
limit), its checkpointing, and its use in the codec recipe."""

from types import SimpleNamespace

import pytest
import torch
from conftest import FakeTimer

from jepa_tokenizer.training.experiment import TrainingClock, run_progress, stop_if_out_of_time
from jepa_tokenizer.training.schedules import LinearCooldown


def _optimizer(*lrs):
    groups = [{"params": [torch.nn.Parameter(torch.zeros(2))], "lr": lr} for lr in lrs]
    return torch.optim.AdamW(groups)


def test_factor_is_constant_then_falls_linearly_to_the_final_factor():
    cooldown = LinearCooldown(share=0.2, final_factor=0.0)
    assert cooldown.factor(0.0) == 1.0 and cooldown.factor(0.8) == 1.0
    assert cooldown.factor(0.9) == pytest.approx(0.5)
    assert cooldown.factor(1.0) == pytest.approx(0.0) and cooldown.factor(2.0) == pytest.approx(0.0)
    values = [cooldown.factor(p / 100) for p in range(101)]
    assert all(a >= b for a, b in zip(values, values[1:]))  # never rises
    assert LinearCooldown(share=0.0).factor(0.99) == 1.0  # off
    assert LinearCooldown(share=1.0, final_factor=0.5).factor(0.5) == pytest.approx(0.75)


@pytest.mark.parametrize("kwargs", [{"share": -0.1}, {"share": 1.5}, {"final_factor": -1.0}, {"final_factor": 2.0}])
def test_bad_arguments_are_one_line_errors(kwargs):
    with pytest.raises(ValueError, match="LinearCooldown") as error:
        LinearCooldown(**kwargs)
    assert "\n" not in str(error.value)


def test_every_group_keeps_its_own_base_rate_and_a_resumed_optimizer_continues():
    cooldown = LinearCooldown(share=0.5, final_factor=0.0)
    optimizer = _optimizer(1e-3, 1e-4)  # decoder and encoder groups, as in the codec recipe
    assert cooldown.apply([optimizer], progress=0.75) == pytest.approx(0.5)
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([5e-4, 5e-5])
    cooldown.apply([optimizer], progress=0.75)  # applying twice does not compound
    assert [g["lr"] for g in optimizer.param_groups] == pytest.approx([5e-4, 5e-5])

    # the base rates travel with the optimizer's state (the checkpoint)
    resumed = _optimizer(1e-3, 1e-4)
    resumed.load_state_dict(optimizer.state_dict())
    cooldown.apply([resumed], progress=1.0)
    assert [g["base_lr"] for g in resumed.param_groups] == [1e-3, 1e-4]
    assert [g["lr"] for g in resumed.param_groups] == pytest.approx([0.0, 0.0])
    cooldown.apply([resumed], progress=0.0)
    assert [g["lr"] for g in resumed.param_groups] == pytest.approx([1e-3, 1e-4])


def test_progress_is_the_further_of_the_budget_and_the_step_limit():
    timer = FakeTimer()
    brain = SimpleNamespace(
        optimizer_step=10,
        optimizer_step_limit=100,
        hparams=SimpleNamespace(clock=TrainingClock(budget_minutes=1.0, timer=timer)),
    )
    assert run_progress(brain) == pytest.approx(0.1)  # steps ahead of the clock
    timer.now += 30.0
    assert run_progress(brain) == pytest.approx(0.5)  # the clock ahead
    brain.optimizer_step_limit = None
    timer.now += 60.0
    assert run_progress(brain) == 1.0  # capped
    brain.hparams.clock = TrainingClock(timer=timer)  # no budget, no limit
    assert run_progress(brain) == 0.0


def test_the_budget_check_sets_the_next_steps_rates():
    timer = FakeTimer()
    generator, discriminator = _optimizer(1e-3, 1e-4), _optimizer(2e-4)
    brain = SimpleNamespace(
        optimizer_step=3,
        optimizer_step_limit=None,
        optimizers_dict={"generator": generator, "discriminator": discriminator},
        hparams=SimpleNamespace(
            clock=TrainingClock(budget_minutes=1.0, timer=timer),
            lr_cooldown=LinearCooldown(share=0.5, final_factor=0.0),
        ),
    )
    stop_if_out_of_time(brain)
    assert generator.param_groups[0]["lr"] == pytest.approx(1e-3)
    timer.now += 45.0
    stop_if_out_of_time(brain)
    assert [g["lr"] for g in generator.param_groups] == pytest.approx([5e-4, 5e-5])
    assert discriminator.param_groups[0]["lr"] == pytest.approx(1e-4)
    assert brain.optimizer_step_limit is None  # not out of time yet
