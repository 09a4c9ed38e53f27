"""JEPA training pieces: block masking, the EMA target, the masked loss."""

import pytest
import torch
from torch import nn

from jepa_tokenizer import BlockMasker, EMAUpdater, MaskedPredictionLoss
from jepa_tokenizer.training.jepa import batch_centered, item_variance_hinge, item_variance_share


def test_mask_ratio_span_bounds_and_padding():
    masker = BlockMasker(mask_ratio=0.5, min_span=2, max_span=4, max_span_fraction=0.25)
    gen = torch.Generator().manual_seed(0)
    counts = torch.tensor([40, 17, 9, 3, 2])
    for _ in range(50):
        mask = masker(counts, 40, generator=gen)
        for row, frames in enumerate(counts.tolist()):
            masked = int(mask[row].sum())
            target = min(max(round(0.5 * frames), 1), frames - 1)
            low, high = masker.span_bounds(frames)
            assert target <= masked <= target + high - 1  # stops once the ratio is reached
            assert masked < frames  # something stays visible
            assert not mask[row, frames:].any()  # padding is never masked
    ratios = [float(masker(torch.tensor([200]), 200, gen).float().mean()) for _ in range(50)]
    assert 0.5 <= sum(ratios) / len(ratios) < 0.56


def test_span_lengths_follow_the_notes():
    masker = BlockMasker(mask_ratio=0.5, min_span=2, max_span=4, max_span_fraction=0.25)
    assert masker.span_bounds(10) == (2, 4)  # short item: [2, max(4, T/4)]
    assert masker.span_bounds(100) == (2, 25)  # long item: up to T/4
    assert masker.span_bounds(2) == (1, 1)  # never the whole item
    gen = torch.Generator().manual_seed(1)
    lengths = [length for _ in range(200) for _, length in masker.sample_spans(100, gen)]
    assert min(lengths) == 2 and max(lengths) == 25


def test_masks_are_deterministic_under_a_seed():
    masker = BlockMasker()
    counts = torch.tensor([30, 25])
    first = masker(counts, 30, torch.Generator().manual_seed(7))
    again = masker(counts, 30, torch.Generator().manual_seed(7))
    other = masker(counts, 30, torch.Generator().manual_seed(8))
    assert torch.equal(first, again) and not torch.equal(first, other)
    assert not masker(torch.tensor([1]), 1).any()  # one frame: nothing to predict from


def test_bad_masking_options():
    with pytest.raises(ValueError, match="mask_ratio"):
        BlockMasker(mask_ratio=1.0)
    with pytest.raises(ValueError, match="min_span"):
        BlockMasker(min_span=5, max_span=4)


def test_ema_update_math_and_schedule():
    torch.manual_seed(0)
    online, target = nn.Linear(3, 2), nn.Linear(3, 2)
    ema = EMAUpdater(start=0.9, end=1.0, total_steps=10)
    ema.init_target(target, online)
    assert all(not p.requires_grad for p in target.parameters())
    before = {k: v.clone() for k, v in target.state_dict().items()}
    with torch.no_grad():
        for p in online.parameters():
            p.add_(torch.randn_like(p))
    momentum = ema.update(target, online, step=5)
    assert momentum == pytest.approx(0.95)
    for name, value in target.state_dict().items():
        expected = 0.95 * before[name] + 0.05 * online.state_dict()[name]
        assert torch.allclose(value, expected, atol=1e-7)
    assert ema.momentum(0) == 0.9 and ema.momentum(10) == 1.0 and ema.momentum(99) == 1.0
    constant = EMAUpdater(start=0.996, end=0.996, total_steps=24000)
    assert {constant.momentum(s) for s in (0, 100, 24000, 10**6)} == {0.996}


def test_target_never_gets_gradients():
    online, target = nn.Linear(3, 2), nn.Linear(3, 2)
    EMAUpdater().init_target(target, online)
    loss = (online(torch.randn(4, 3)) - target(torch.randn(4, 3))).pow(2).sum()
    loss.backward()
    assert all(p.grad is None for p in target.parameters())
    assert all(p.grad is not None for p in online.parameters())


def test_loss_scores_only_masked_frames():
    loss = MaskedPredictionLoss()
    pred, target = torch.zeros(2, 4, 3), torch.ones(2, 4, 3)
    target[:, 0] = 100.0  # unmasked frame: ignored
    mask = torch.tensor([[False, True, True, True], [False, True, False, False]])
    assert float(loss(pred, target, mask)) == 1.0
    assert float(loss(pred, target, torch.zeros(2, 4, dtype=torch.bool))) == 0.0
    normed = MaskedPredictionLoss(normalize_targets=True)
    target = torch.randn(2, 4, 3) * 5 + 3
    value = normed(torch.nn.functional.layer_norm(target, (3,)), target, mask)
    assert float(value) == pytest.approx(0.0, abs=1e-6)
    smooth = MaskedPredictionLoss(kind="smooth_l1", beta=1.0)
    assert float(smooth(torch.zeros(1, 1, 1), torch.full((1, 1, 1), 3.0), torch.ones(1, 1, dtype=torch.bool))) == 2.5


def test_batch_centering_removes_a_positional_target_and_ignores_padding():
    torch.manual_seed(0)
    content = torch.randn(4, 6, 3)
    position = torch.randn(1, 6, 3).expand(4, 6, 3) * 10  # the same vector at frame n of every item
    counts = torch.tensor([6, 6, 5, 3])
    centred = batch_centered(content + position, counts)
    real = torch.arange(6).view(1, -1) < counts.view(-1, 1)
    assert torch.allclose(centred[real], batch_centered(content, counts)[real], atol=1e-5)
    # at every frame index the real items average to zero
    for n in range(6):
        assert torch.allclose(centred[real[:, n], n].mean(0), torch.zeros(3), atol=1e-5)
    padded = content.clone()
    padded[3, 3:] = 1e6  # padding neither moves the means nor is changed
    assert torch.equal(batch_centered(padded, counts)[:3], batch_centered(content, counts)[:3])
    assert torch.equal(batch_centered(padded, counts)[3, 3:], padded[3, 3:])
    # a frame only one item has is left as it is (no mean to take)
    lone = batch_centered(content, torch.tensor([6, 2, 2, 2]))
    assert torch.equal(lone[0, 2:], content[0, 2:])
    # the monitor: near 0 for a positional target, near 1 for independent items
    assert item_variance_share(position + 1e-4 * content, counts) < 1e-3
    assert item_variance_share(content, counts) > 0.5


def test_centred_loss_gives_a_positional_target_no_easy_prediction():
    torch.manual_seed(0)
    position = torch.randn(1, 8, 3).expand(4, 8, 3) * 3
    target = position + torch.randn(4, 8, 3) * 1e-2  # what the collapsed Stage-1 encoder made
    everything = torch.ones(4, 8, dtype=torch.bool)
    timed = MaskedPredictionLoss(normalize_targets_over_time=True)
    guess = timed.time_normalized(position, None)  # predicting the position alone
    assert float(timed(guess, target, everything)) < 1e-3
    centred = MaskedPredictionLoss(normalize_targets_over_time=True, center_targets_over_batch=True)
    assert float(centred(guess, target, everything)) > 0.8
    # frames that one item only has keep their positional part: they are not scored
    counts = torch.tensor([8, 6, 6, 6])
    lone = centred(guess, target, everything, counts)
    tail = guess.clone()
    tail[0, 6:] += 100.0  # a wild prediction on item 0's own tail changes nothing
    assert float(centred(tail, target, everything, counts)) == pytest.approx(float(lone))
    assert float(centred(guess[:1], target[:1], everything[:1])) == 0.0  # one item: nothing shared to score


def test_variance_hinge_scores_only_what_differs_between_items():
    torch.manual_seed(0)
    content = torch.randn(6, 5, 4)
    position = torch.randn(1, 5, 4).expand(6, 5, 4) * 10
    counts = torch.tensor([5, 5, 5, 5, 4, 3])
    hinge = item_variance_hinge(content + position, counts, target_std=1.0)
    assert float(hinge) == pytest.approx(float(item_variance_hinge(content, counts, target_std=1.0)), abs=1e-5)
    padded = content.clone()
    padded[5, 3:] = 1e6  # padding is not a frame
    assert float(item_variance_hinge(padded, counts)) == pytest.approx(float(item_variance_hinge(content, counts)))
    collapsed = (position + 1e-3 * content).clone().requires_grad_(True)
    value = item_variance_hinge(collapsed, counts, target_std=1.0)
    assert float(value) > 0.95  # nothing tells the items apart
    value.backward()
    assert collapsed.grad.abs().sum() > 0  # and the term pushes them apart
    assert float(item_variance_hinge(content * 10, counts, target_std=1.0)) == 0.0
    one = torch.randn(1, 5, 4, requires_grad=True)
    alone = item_variance_hinge(one)
    assert float(alone) == 0.0
    alone.backward()
    assert float(one.grad.abs().sum()) == 0.0


def test_targets_normalised_over_time_ignore_padding_and_punish_collapse():
    loss = MaskedPredictionLoss(normalize_targets_over_time=True)
    torch.manual_seed(0)
    target = torch.randn(2, 6, 3) * 4 + 10  # the second item has 4 real frames
    counts = torch.tensor([6, 4])
    normed = loss.time_normalized(target, counts)
    assert torch.allclose(normed[0].mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(normed[1, :4].mean(0), torch.zeros(3), atol=1e-5)
    assert torch.allclose(normed[1, :4].pow(2).mean(0), torch.ones(3), atol=1e-3)
    assert (normed[1, 4:] == 0).all()
    padded = target.clone()
    padded[1, 4:] = 1e6  # padding does not change the statistics
    assert torch.equal(loss.time_normalized(padded, counts), normed)
    mask = torch.ones(2, 6, dtype=torch.bool)
    mask[1, 4:] = False
    assert float(loss(normed, target, mask, counts)) == pytest.approx(0.0, abs=1e-6)
    # a target that is almost the same vector at every frame is not an easy one
    collapsed = torch.full((1, 8, 3), 5.0) + torch.randn(1, 8, 3) * 1e-2
    raw = MaskedPredictionLoss()
    constant_guess = torch.full((1, 8, 3), 5.0)
    everything = torch.ones(1, 8, dtype=torch.bool)
    assert float(raw(constant_guess, collapsed, everything)) < 1e-3
    assert float(loss(torch.zeros(1, 8, 3), collapsed, everything)) > 0.8
    pred = torch.zeros(1, 8, 3, requires_grad=True)
    loss(pred, collapsed, everything).backward()
    assert pred.grad.abs().sum() > 0
