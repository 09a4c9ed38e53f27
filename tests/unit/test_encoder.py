"""JEPAEncoder and JEPAPredictor: lengths, frame rate checks, masking, padding, errors."""

import math

import pytest
import torch

from jepa_tokenizer import JEPAEncoder, JEPAPredictor
from jepa_tokenizer.nn.frontend import LogMelFrontend


def small_encoder(**kwargs):
    torch.manual_seed(0)
    args = dict(
        sample_rate=1600,
        channels=[4, 8, 8],
        strides=[4, 5],
        code_dim=8,
        res_dilations=[1, 3],
        conformer_layers=2,
        conformer_heads=2,
    )
    args.update(kwargs)
    return JEPAEncoder(**args).eval()


@pytest.mark.parametrize("length", [1, 19, 20, 21, 67, 203])
def test_frames_for_odd_lengths(length):
    enc = small_encoder()
    out = enc(torch.randn(2, length))
    assert out.latents.shape == (2, math.ceil(length / 20), 8)
    assert out.counts.tolist() == [math.ceil(length / 20)] * 2


def test_frame_rate_is_derived_and_checked():
    enc = small_encoder(frame_rate=80)
    assert enc.hop_length == 20 and enc.frame_rate == 80
    with pytest.raises(ValueError, match="stride product must be"):
        small_encoder(frame_rate=2.5)
    with pytest.raises(ValueError, match="len\\(strides\\) \\+ 1"):
        small_encoder(channels=[4, 8])


def test_padded_batch_equals_single_items():
    enc = small_encoder()
    a, b = torch.randn(1, 57), torch.randn(1, 120)
    batch = torch.cat([torch.nn.functional.pad(a, (0, 63)), b])
    out = enc(batch, torch.tensor([57 / 120, 1.0]))
    alone_a, alone_b = enc(a), enc(b)
    assert out.counts.tolist() == [3, 6]
    assert torch.allclose(out.latents[:1, :3], alone_a.latents, atol=1e-5)
    assert torch.allclose(out.latents[1:], alone_b.latents, atol=1e-5)
    assert (out.latents[0, 3:] == 0).all()


def test_frame_mask_replaces_frames_before_the_conformer():
    enc = small_encoder()
    seen = {}
    enc.conformer.register_forward_pre_hook(lambda mod, args: seen.update(x=args[0]))
    mask = torch.zeros(2, 5, dtype=torch.bool)
    mask[:, 1:3] = True
    enc(torch.randn(2, 100), frame_mask=mask)
    hidden = seen["x"]
    assert torch.equal(hidden[:, 1:3], enc.mask_embedding.expand(2, 2, -1))
    assert not torch.equal(hidden[:, 0], enc.mask_embedding)
    with pytest.raises(ValueError, match="frame_mask must have shape"):
        enc(torch.randn(2, 100), frame_mask=mask[:, :4])


def test_gates_are_returned_per_block():
    enc = small_encoder()
    out = enc(torch.randn(3, 100), return_gates=True)
    assert [tuple(g.shape) for g in out.gates] == [(3, 1, 25), (3, 1, 5)]
    assert small_encoder(use_daam=False)(torch.randn(1, 40), return_gates=True).gates == [None, None]


@pytest.mark.parametrize(
    "wav, lens, message",
    [
        (torch.randn(40), None, "unsqueeze"),
        (torch.randn(2, 1, 40), None, "squeeze"),
        (torch.randn(2, 0), None, "empty"),
        (torch.full((1, 40), float("nan")), None, "NaN"),
        (torch.ones(1, 40, dtype=torch.long), None, "floating-point"),
        (torch.randn(2, 40), torch.tensor([1.0]), "shape"),
        (torch.randn(2, 40), torch.tensor([0.0, 1.0]), "\\(0, 1\\]"),
    ],
)
def test_bad_input_is_a_clear_error(wav, lens, message):
    with pytest.raises(ValueError, match=message):
        small_encoder()(wav, lens)


def test_gradients_reach_the_stem():
    enc = small_encoder().train()
    enc(torch.randn(2, 100)).latents.pow(2).mean().backward()
    assert enc.stem.weight.grad.abs().sum() > 0
    assert enc.blocks[0].gate.alpha.grad.abs().sum() > 0


def test_predictor_uses_mask_token_and_keeps_shape():
    torch.manual_seed(0)
    pred = JEPAPredictor(code_dim=8, hidden_dim=16, nhead=2).eval()
    ctx = torch.randn(2, 6, 8)
    mask = torch.zeros(2, 6, dtype=torch.bool)
    mask[:, 2:4] = True
    out = pred(ctx, mask)
    assert out.shape == (2, 6, 8)
    # what sits under masked frames does not matter: the mask token replaces it
    other = ctx.clone()
    other[:, 2:4] = 50.0
    assert torch.allclose(pred(other, mask), out, atol=1e-6)
    out.sum().backward()
    assert pred.mask_token.grad.abs().sum() > 0


def test_hidden_frames_do_not_leak_into_the_output():
    enc = small_encoder()
    wav = torch.randn(2, 200)
    mask = torch.zeros(2, 10, dtype=torch.bool)
    mask[0, 3:5] = True
    mask[1, 6:9] = True
    other = wav.clone()
    other[0, 60:100] = 5 * torch.randn(40)  # audio under frames 3-4
    other[1, 120:180] = 5 * torch.randn(60)  # audio under frames 6-8
    a = enc(wav, frame_mask=mask, return_gates=True)
    b = enc(other, frame_mask=mask, return_gates=True)
    assert torch.allclose(a.latents, b.latents, atol=1e-6)
    for gate_a, gate_b in zip(a.gates, b.gates):
        assert torch.allclose(gate_a, gate_b, atol=1e-6)
    # without the mask the same change does reach the visible frames
    assert not torch.allclose(enc(wav).latents[0, :3], enc(other).latents[0, :3], atol=1e-3)


def test_receptive_field_counts_every_convolution():
    enc = small_encoder(res_dilations=[1, 3])
    # stem 7 -> 6; block 1 (stride 4, jump 1): 7 + (6*1 + 6 + 6*3 + 6) * 4;
    # block 2 (stride 5, jump 4): 9 * 4 + (6 + 6 + 18 + 6) * 20
    assert enc.receptive_field == 1 + 6 + 7 + 36 * 4 + 9 * 4 + 36 * 20


def test_other_float_dtypes_are_converted():
    enc = small_encoder()
    wav = torch.randn(2, 100)
    reference = enc(wav).latents
    assert torch.allclose(enc(wav.double()).latents, reference, atol=1e-5)
    assert torch.allclose(enc(wav.half()).latents, enc(wav.half().float()).latents, atol=1e-5)


def test_predictor_is_padding_safe_with_wide_convs():
    torch.manual_seed(0)
    pred = JEPAPredictor(code_dim=8, hidden_dim=16, nhead=2, conv_kernel_size=3).eval()
    ctx = torch.randn(1, 5, 8)
    mask = torch.zeros(1, 5, dtype=torch.bool)
    mask[0, 1] = True
    padded = torch.cat([ctx, 9 * torch.randn(1, 3, 8)], dim=1)
    padded_mask = torch.cat([mask, torch.zeros(1, 3, dtype=torch.bool)], dim=1)
    out = pred(padded, padded_mask, torch.tensor([5]))
    assert torch.allclose(out[:, :5], pred(ctx, mask), atol=1e-5)


def test_weight_normalised_encoder_folds_to_the_same_outputs():
    enc = small_encoder(weight_norm=True, bottleneck_norm=True)
    wav, lens = torch.randn(2, 120), torch.tensor([1.0, 0.6])
    names = [n for n, _ in enc.named_parameters()]
    assert any(
        "parametrizations.weight.original0" in n for n in names if n.startswith(("stem", "blocks", "bottleneck"))
    )
    before = enc(wav, lens).latents
    enc.remove_weight_norm()
    assert not any("parametrizations" in k for k in enc.state_dict())
    assert torch.allclose(enc(wav, lens).latents, before, atol=1e-6)


def test_bottleneck_norm_puts_the_conformer_input_at_unit_scale():
    enc = small_encoder(bottleneck_norm=True)
    seen = []
    enc.conformer.register_forward_hook(lambda module, args, out: seen.append(args[0]))
    with torch.no_grad():
        enc.bottleneck.weight.mul_(1e6)  # a stack whose gains have run away
        enc(torch.randn(1, 200))
    per_frame = seen[0][0]  # [N, D]
    assert torch.allclose(per_frame.std(-1, unbiased=False), torch.ones(per_frame.shape[0]), atol=1e-2)


def mel_encoder(**kwargs):
    """``small_encoder``'s hop (20) and Conformer, reading log-mel frames of hop 4."""
    frontend = LogMelFrontend(sample_rate=1600, n_fft=16, hop_length=4, n_mels=6)
    return small_encoder(frontend=frontend, channels=[4, 8], strides=[5], **kwargs)


def test_log_mel_frontend_frames_and_errors():
    frontend = LogMelFrontend(sample_rate=1600, n_fft=16, hop_length=4, n_mels=6, mean=-2.0, std=3.0)
    assert frontend(torch.zeros(2, 40)).shape == (2, 6, 10)
    silence = frontend(torch.zeros(1, 40))
    assert torch.allclose(silence, torch.full_like(silence, (math.log(1e-5) + 2.0) / 3.0))
    click = torch.zeros(1, 40)
    click[0, 21] = 1.0  # frame 5 covers samples 14..29 (hop 4 centred, window 16)
    changed = (frontend(click) != silence).any(1)[0].nonzero().flatten().tolist()
    assert changed == [3, 4, 5, 6]
    with pytest.raises(ValueError, match="not a multiple of hop_length"):
        frontend(torch.zeros(1, 41))
    with pytest.raises(ValueError, match="n_fft"):
        LogMelFrontend(sample_rate=1600, n_fft=2, hop_length=4)
    with pytest.raises(ValueError, match="positive"):
        LogMelFrontend(sample_rate=1600, std=0.0)


def test_log_mel_encoder_keeps_the_hop_padding_and_masking_rules():
    enc = mel_encoder(frame_rate=80)
    assert enc.hop_length == 20 and enc.stem.in_channels == 6
    a, b = torch.randn(1, 57), torch.randn(1, 120)
    batch = torch.cat([torch.nn.functional.pad(a, (0, 63)), b])
    out = enc(batch, torch.tensor([57 / 120, 1.0]))
    assert out.counts.tolist() == [3, 6]
    assert torch.allclose(out.latents[:1, :3], enc(a).latents, atol=1e-5)
    assert torch.allclose(out.latents[1:], enc(b).latents, atol=1e-5)
    wav = torch.randn(1, 200)
    mask = torch.zeros(1, 10, dtype=torch.bool)
    mask[0, 3:5] = True
    other = wav.clone()
    other[0, 60:100] = 5 * torch.randn(40)
    assert torch.allclose(enc(wav, frame_mask=mask).latents, enc(other, frame_mask=mask).latents, atol=1e-6)
    # window 16, stem kernel 7 at hop 4, block (stride 5) at jump 4 then units at jump 20
    assert enc.receptive_field == 16 + 6 * 4 + 9 * 4 + 36 * 20
    with pytest.raises(ValueError, match="front end's hop"):
        mel_encoder(frame_rate=400)


def test_input_gain_scales_the_waveform_before_the_stem():
    wav = torch.randn(2, 100)
    assert torch.allclose(small_encoder(input_gain=16.0)(wav).latents, small_encoder()(16.0 * wav).latents, atol=1e-5)
    with pytest.raises(ValueError, match="input_gain must be a positive number"):
        small_encoder(input_gain=0.0)
    with pytest.raises(ValueError, match="input_gain must be a positive number"):
        small_encoder(input_gain=float("nan"))
