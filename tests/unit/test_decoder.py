"""HiFiGANDecoder: exact output lengths, range, silence past the real frames."""

import re

import pytest
import torch

from jepa_tokenizer import HiFiGANDecoder


@pytest.mark.parametrize("rates", [[4, 5], [3, 7], [2, 3, 5], [8]])
@pytest.mark.parametrize("frames", [1, 2, 7])
def test_length_is_frames_times_hop(rates, frames):
    dec = HiFiGANDecoder(
        code_dim=4,
        channels=[8] + [4] * len(rates),
        upsample_rates=rates,
        resblock_kernel_sizes=[3],
        resblock_dilations=[1],
    )
    wav = dec(torch.randn(2, frames, 4))
    assert wav.shape == (2, frames * dec.hop_length)
    assert wav.abs().max() < 1  # tanh output


def test_counts_silence_the_padding():
    dec = HiFiGANDecoder(
        code_dim=4, channels=[8, 4], upsample_rates=[5], resblock_kernel_sizes=[3], resblock_dilations=[1]
    )
    wav = dec(torch.randn(2, 4, 4), counts=torch.tensor([4, 2]))
    assert (wav[1, 10:] == 0).all() and wav[1, :10].abs().sum() > 0


def test_an_item_decodes_the_same_alone_and_in_a_padded_batch():
    torch.manual_seed(0)
    dec = HiFiGANDecoder(
        code_dim=4, channels=[8, 4, 4], upsample_rates=[5, 3], resblock_kernel_sizes=[3, 7], resblock_dilations=[1, 3]
    ).eval()
    latents = torch.randn(1, 3, 4)
    batch = torch.cat([torch.cat([latents, 5 * torch.randn(1, 4, 4)], dim=1), torch.randn(1, 7, 4)])
    out = dec(batch, counts=torch.tensor([3, 7]))
    alone = dec(latents)
    assert torch.allclose(out[:1, :45], alone, atol=1e-6)
    assert (out[0, 45:] == 0).all()


def test_errors():
    with pytest.raises(ValueError, match="channels"):
        HiFiGANDecoder(code_dim=4, channels=[8], upsample_rates=[5])
    with pytest.raises(ValueError, match=">= 2"):
        HiFiGANDecoder(code_dim=4, channels=[8, 4], upsample_rates=[1])
    dec = HiFiGANDecoder(code_dim=4, channels=[8, 4], upsample_rates=[5])
    with pytest.raises(ValueError, match="batch, frames, dim"):
        dec(torch.randn(4, 4))


def test_weights_saved_before_the_shared_residual_unit_still_load():
    # up to commit 81ccb9d the decoder's stacks kept their own lists: stacks.K.convs1.D.*, stacks.K.acts2.D.*
    kw = dict(
        code_dim=6, channels=[8, 4, 4], upsample_rates=[5, 4], resblock_kernel_sizes=[3, 5], resblock_dilations=[1, 3]
    )
    torch.manual_seed(0)
    trained = HiFiGANDecoder(**kw).eval()
    old_keys = {}
    for key, value in trained.state_dict().items():
        old = re.sub(r"stacks\.(\d+)\.(\d+)\.(conv|act)([12])\.", r"stacks.\1.\3s\4.\2.", key)
        old_keys[old] = value
    assert any(".convs1.1." in key for key in old_keys) and any(".acts2.0." in key for key in old_keys)
    torch.manual_seed(1)
    fresh = HiFiGANDecoder(**kw).eval()
    fresh.load_state_dict(old_keys)  # strict: every key found
    frames = torch.randn(2, 3, 6)
    assert torch.equal(fresh(frames), trained(frames))


def test_removing_weight_norm_keeps_the_outputs():
    torch.manual_seed(2)
    dec = HiFiGANDecoder(
        code_dim=6, channels=[8, 4, 4], upsample_rates=[5, 4], resblock_kernel_sizes=[3], resblock_dilations=[1, 3]
    ).eval()
    frames = torch.randn(2, 3, 6)
    with torch.no_grad():
        before = dec(frames)
        dec.remove_weight_norm()
        after = dec(frames)
    assert torch.allclose(before, after, atol=1e-6)
    assert not any("parametrizations" in key for key in dec.state_dict())
    dec.remove_weight_norm()  # twice: nothing left to remove
