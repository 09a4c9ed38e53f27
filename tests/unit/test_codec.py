"""JEPACodec on the tiny configuration: tokens, lengths, invariance, errors."""

import math

import pytest
import torch
from conftest import load_config

from jepa_tokenizer import (
    FSQ,
    CodecGeneratorLoss,
    HiFiGANDecoder,
    JEPACodec,
    MixedRadixPacker,
    MultiResolutionSTFTLoss,
)
from jepa_tokenizer.data.audio import load_audio


def test_tokens_shape_dtype_and_range(tiny_codec):
    wav = torch.randn(2, 16000) * 0.1
    tokens = tiny_codec.encode(wav)
    frames = math.ceil(16000 / tiny_codec.hop_length)
    assert tokens.shape == (2, frames, tiny_codec.tokens_per_frame)
    assert tokens.dtype == torch.int64
    assert (tokens >= 0).all() and (tokens < torch.tensor(tiny_codec.packer.token_ranges)).all()


@pytest.mark.parametrize("length", [1, 6399, 6400, 6401, 17777])
def test_decode_encode_keeps_the_length(tiny_codec, length):
    with torch.no_grad():
        wav = torch.randn(1, length) * 0.1
        tokens = tiny_codec.encode(wav)
        assert tokens.shape[1] == math.ceil(length / tiny_codec.hop_length)
        full = tiny_codec.decode(tokens)
        assert full.shape == (1, tokens.shape[1] * tiny_codec.hop_length)
        assert tiny_codec.decode(tokens, num_samples=length).shape == (1, length)
        assert tiny_codec(wav).wav.shape == (1, length)


def test_same_tokens_alone_and_in_a_padded_batch(tiny_codec):
    torch.manual_seed(3)
    a, b = torch.randn(1, 20000) * 0.1, torch.randn(1, 33000) * 0.1
    batch = torch.cat([torch.nn.functional.pad(a, (0, 13000)), b])
    with torch.no_grad():
        tokens, counts = tiny_codec.encode(batch, torch.tensor([20000 / 33000, 1.0]), return_counts=True)
        alone_a, alone_b = tiny_codec.encode(a), tiny_codec.encode(b)
    assert counts.tolist() == [alone_a.shape[1], alone_b.shape[1]]
    assert torch.equal(tokens[:1, : alone_a.shape[1]], alone_a)
    assert torch.equal(tokens[1:], alone_b)


def test_decode_with_lengths_matches_decoding_alone(tiny_codec):
    torch.manual_seed(4)
    with torch.no_grad():
        tokens = tiny_codec.encode(torch.randn(2, 32000) * 0.1)
        short = tokens[:1, :2]
        out = tiny_codec.decode(tokens, lens=torch.tensor([2 / 5, 1.0]))
        assert torch.allclose(out[:1, : 2 * 6400], tiny_codec.decode(short), atol=1e-6)
        assert (out[0, 2 * 6400 :] == 0).all()
        assert torch.equal(tiny_codec.decode(tokens.int()), tiny_codec.decode(tokens))


def test_training_forward_has_gradients_everywhere(tiny):
    codec = tiny["codec"].train()
    out = codec(torch.randn(2, 12800) * 0.1)
    assert out.codes.shape == out.latents.shape == (2, 2, 16)
    out.wav.pow(2).mean().backward()
    assert codec.decoder.conv_in.parametrizations.weight.original1.grad.abs().sum() > 0
    assert codec.encoder.stem.weight.grad.abs().sum() > 0  # through the straight-through FSQ
    codec.zero_grad()


@pytest.mark.parametrize(
    "tokens, message",
    [
        (torch.zeros(1, 2, 4, dtype=torch.long), "3 entries per frame"),
        (torch.zeros(2, 3), "shape \\[batch, frames, 3\\]"),
        (torch.zeros(1, 2, 3), "integer"),
        (torch.tensor([[[0, 0, 16]]]), "out of range"),
        (torch.tensor([[[16384, 0, 0]]]), "out of range"),
        (torch.zeros(1, 0, 3, dtype=torch.long), "empty"),
    ],
)
def test_bad_tokens_are_a_clear_error(tiny_codec, tokens, message):
    with pytest.raises(ValueError, match=message):
        tiny_codec.decode(tokens)


def test_bad_audio_is_a_clear_error(tiny_codec):
    with pytest.raises(ValueError, match="Inf"):
        tiny_codec.encode(torch.tensor([[0.0, float("inf")]]))
    with pytest.raises(ValueError, match="num_samples"):
        tiny_codec.decode(torch.zeros(1, 1, 3, dtype=torch.long), num_samples=7000)


def test_mismatched_parts_are_rejected(tiny):
    enc = tiny["encoder"]
    fsq = FSQ(levels=4, dim=16)
    packer = MixedRadixPacker(radices=4, num_digits=16, group_size=7)
    wrong_hop = HiFiGANDecoder(code_dim=16, channels=[8, 8], upsample_rates=[5])
    with pytest.raises(ValueError, match="decoder makes 5 samples per frame"):
        JEPACodec(enc, fsq, packer, wrong_hop)
    with pytest.raises(ValueError, match="quantizer has 8 dimensions"):
        JEPACodec(enc, FSQ(levels=4, dim=8), packer, tiny["decoder"])
    with pytest.raises(ValueError, match="radices"):
        JEPACodec(enc, FSQ(levels=5, dim=16), packer, tiny["decoder"])


def test_reference_configuration_rates():
    ref = load_config("jepa_24k.yaml")
    codec = ref["codec"]
    assert codec.sample_rate == 24000 and codec.hop_length == 9600
    assert codec.frame_rate == 2.5
    assert codec.tokens_per_frame == 19 and codec.tokens_per_second == 47.5
    assert codec.vocab_size == 16384 and codec.bitrate == 640
    fsq_values = codec.quantizer.digits_to_codes(torch.arange(4).unsqueeze(-1).expand(4, 128))
    assert fsq_values[:, 0].tolist() == [-0.75, -0.25, 0.25, 0.75]


def test_real_speech_round_trip_lengths(tiny_codec, real_speech):
    """Real recordings at 16 and 22.05 kHz load, resample and keep their length."""
    rates = {}
    for row in real_speech:
        rates.setdefault(row["sample_rate"], row)
    with torch.no_grad():
        for row in rates.values():
            audio = load_audio(row["path"], tiny_codec.sample_rate)
            wav = audio.wav[: 3 * tiny_codec.sample_rate].unsqueeze(0)
            recon = tiny_codec.decode(tiny_codec.encode(wav), num_samples=wav.shape[-1])
            assert recon.shape == wav.shape and torch.isfinite(recon).all()


def test_bfloat16_autocast_forward_is_finite(tiny):
    codec = tiny["codec"].train()
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = codec(torch.randn(2, 12800) * 0.1)
        loss_fn = CodecGeneratorLoss(MultiResolutionSTFTLoss())
        loss = loss_fn(out.wav, torch.randn(2, 12800) * 0.1)["G_loss"]
    assert torch.isfinite(out.wav.float()).all() and torch.isfinite(loss)
    assert out.digits.dtype == torch.int64
    codec.zero_grad()


def test_reconstruction_loss_falls_on_speech(spoken_wav):
    """The parts train together: 30 AdamW steps on one spoken sentence."""
    torch.manual_seed(0)
    hparams = load_config("jepa_tiny.yaml")
    codec, loss_fn = hparams["codec"].train(), CodecGeneratorLoss(MultiResolutionSTFTLoss())
    wav = load_audio(spoken_wav, codec.sample_rate).wav.unsqueeze(0)
    optimizer = torch.optim.AdamW(codec.parameters(), lr=3e-3)
    losses = []
    for _ in range(30):
        loss = loss_fn(codec(wav).wav, wav)["G_loss"]
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert sum(losses[-5:]) / 5 < 0.85 * losses[0], losses


def test_training_can_skip_the_rounding_for_some_items_and_evaluation_never_does():
    codec = load_config("jepa_tiny.yaml")["codec"]
    wav = torch.randn(4, 12800) * 0.1
    seen = []
    codec.decoder.register_forward_hook(lambda module, args, out: seen.append(args[0].detach().clone()))

    def decoder_input(probability, training):
        codec.quantize_probability = probability
        codec.train(training)
        torch.manual_seed(0)
        out = codec(wav)
        return out, seen[-1]

    out, given = decoder_input(0.0, True)
    assert torch.allclose(given, codec.quantizer.continuous(out.latents))
    assert not torch.allclose(given, out.codes)
    out, given = decoder_input(1.0, True)
    assert torch.equal(given, out.codes)
    out, given = decoder_input(0.0, False)  # evaluation: always the codes
    assert torch.equal(given, out.codes)
    out, given = decoder_input(0.5, True)
    rounded = [torch.equal(given[i], out.codes[i]) for i in range(4)]
    continuous = [torch.allclose(given[i], codec.quantizer.continuous(out.latents)[i]) for i in range(4)]
    assert all(r or c for r, c in zip(rounded, continuous))
    codec.train()
    codec.quantize_probability = 0.0
    codec(wav).wav.pow(2).mean().backward()  # the unrounded path reaches the encoder directly
    assert codec.encoder.stem.weight.grad is not None and codec.encoder.stem.weight.grad.abs().sum() > 0
    with pytest.raises(ValueError, match="quantize_probability must be in"):
        JEPACodec(codec.encoder, codec.quantizer, codec.packer, codec.decoder, quantize_probability=1.5)
