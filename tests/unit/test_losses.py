"""Codec losses: the multi-resolution STFT term and the weighted generator loss."""

import torch

from jepa_tokenizer import CodecGeneratorLoss, MultiResolutionSTFTLoss


def test_stft_loss_is_zero_on_identity_and_has_gradients():
    loss = MultiResolutionSTFTLoss(fft_sizes=[256, 128])
    y = torch.randn(2, 2000)
    assert float(loss(y, y)) == 0
    y_hat = (y + 0.3 * torch.randn_like(y)).requires_grad_()
    value = loss(y_hat, y)
    value.backward()
    assert value > 0 and y_hat.grad.abs().sum() > 0
    # closer signals, smaller loss
    assert loss(y + 0.01 * torch.randn_like(y), y) < loss(y + torch.randn_like(y), y)


def test_generator_loss_weights_and_adversarial_terms():
    stft = MultiResolutionSTFTLoss(fft_sizes=[128])
    loss = CodecGeneratorLoss(
        stft, waveform_weight=1.0, stft_weight=2.0, adversarial_weight=0.1, feature_matching_weight=2.0
    )
    y, y_hat = torch.randn(2, 1024), torch.randn(2, 1024)
    base = loss(y_hat, y)
    assert torch.allclose(base["G_loss"], base["G_wave_l1"] + 2.0 * base["G_stft"])
    scores = [torch.zeros(2, 5), torch.zeros(2, 3)]
    feats_fake = [[torch.ones(2, 4)], [torch.ones(2, 2)]]
    feats_real = [[torch.zeros(2, 4)], [torch.zeros(2, 2)]]
    full = loss(y_hat, y, scores, feats_fake, feats_real)
    assert torch.allclose(full["G_adv"], torch.tensor(2.0))  # (1 - 0)^2 per discriminator
    assert torch.allclose(full["G_fm"], torch.tensor(1.0))
    assert torch.allclose(full["G_loss"], base["G_loss"] + 0.1 * (2.0 + 2.0 * 1.0))


def test_stft_loss_on_clips_shorter_than_the_window_and_reductions():
    y = torch.randn(2, 800)
    mean = MultiResolutionSTFTLoss(fft_sizes=[2048, 128])(y + 0.1, y)
    total = MultiResolutionSTFTLoss(fft_sizes=[2048, 128], reduction="sum")(y + 0.1, y)
    assert torch.isfinite(mean) and torch.allclose(total, 2 * mean)
