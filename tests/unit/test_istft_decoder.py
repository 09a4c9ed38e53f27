"""ISTFTDecoder (Vocos-style): exact lengths, padding exactness, exact chunked
decoding, gradients, the codec and YAML around it, and bad arguments."""

import pytest
import torch
from conftest import load_config

from jepa_tokenizer import FSQ, ISTFTDecoder, JEPACodec, JEPAEncoder, MixedRadixPacker


def small_decoder(**overrides):
    options = dict(
        code_dim=6, hop_length=160, istft_hop=40, n_fft=160, dim=16, intermediate_dim=24, num_layers=2, kernel_size=5
    )
    torch.manual_seed(0)
    return ISTFTDecoder(**{**options, **overrides}).eval()


@pytest.mark.parametrize("frames", [1, 2, 7])
@pytest.mark.parametrize("istft_hop, n_fft", [(40, 160), (32, 64), (80, 400)])
def test_length_is_frames_times_hop(frames, istft_hop, n_fft):
    dec = small_decoder(istft_hop=istft_hop, n_fft=n_fft)
    wav = dec(torch.randn(2, frames, 6))
    assert wav.shape == (2, frames * 160) and torch.isfinite(wav).all()


@pytest.mark.parametrize("frame_layers", [0, 2])  # blocks at the latent frame rate too
def test_each_item_of_a_padded_batch_decodes_as_alone(frame_layers):
    dec = small_decoder(frame_layers=frame_layers)
    latents = torch.randn(3, 9, 6)
    counts = torch.tensor([9, 4, 1])
    with torch.no_grad():
        batch = dec(latents, counts)
        for i, n in enumerate(counts.tolist()):
            alone = dec(latents[i : i + 1, :n])[0]
            assert torch.allclose(batch[i, : n * 160], alone, atol=1e-5)
            assert (batch[i, n * 160 :] == 0).all()
            assert alone.abs().sum() > 0


@pytest.mark.parametrize("frame_layers", [0, 2])  # blocks at the latent frame rate too
def test_chunked_decoding_with_its_context_equals_whole_decoding(frame_layers):
    dec = small_decoder(frame_layers=frame_layers)
    latents = torch.randn(1, 40, 6)
    context = dec.context_frames()
    with torch.no_grad():
        whole = dec(latents)[0]
        for start in range(0, 40, 5):  # keep [start, start + 5) of a chunk with context on both sides
            left, right = max(0, start - context), min(40, start + 5 + context)
            piece = dec(latents[:, left:right])[0]
            kept = piece[(start - left) * 160 : (start - left + 5) * 160]
            assert torch.allclose(kept, whole[start * 160 : (start + 5) * 160], atol=1e-5), start
        # too little context differs: the receptive field is real
        short = dec(latents[:, 10:15])[0]
        assert not torch.allclose(short, whole[10 * 160 : 15 * 160], atol=1e-4)


@pytest.mark.parametrize("frame_layers", [0, 2])  # blocks at the latent frame rate too
def test_gradients_reach_every_parameter(frame_layers):
    dec = small_decoder(frame_layers=frame_layers)
    dec.train()
    latents = torch.randn(2, 3, 6, requires_grad=True)
    dec(latents, torch.tensor([3, 2])).pow(2).sum().backward()
    assert latents.grad.abs().sum() > 0
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in dec.parameters())


def test_a_codec_with_it_decodes_long_audio_in_exact_chunks():
    torch.manual_seed(1)
    enc = JEPAEncoder(
        sample_rate=800,
        channels=[4, 8, 8],
        strides=[4, 5],
        code_dim=6,
        res_dilations=[1],
        conformer_layers=1,
        conformer_heads=1,
    )
    dec = ISTFTDecoder(code_dim=6, hop_length=20, istft_hop=5, n_fft=20, dim=8, intermediate_dim=8, num_layers=2)
    codec = JEPACodec(enc, FSQ(levels=4, dim=6), MixedRadixPacker(radices=4, num_digits=6, group_size=3), dec).eval()
    with torch.no_grad():
        tokens = codec.encode(torch.randn(1, 20 * 30) * 0.1)[0]
        whole = codec.decode(tokens.unsqueeze(0))[0]
    assert torch.allclose(codec.decode_long(tokens, chunk_frames=4), whole, atol=1e-5)
    assert codec.decode(tokens.unsqueeze(0), num_samples=599).shape == (1, 599)


def test_selectable_in_the_model_yaml():
    hparams = load_config("jepa_tiny.yaml", {"decoder_kind": "istft"})
    assert isinstance(hparams["codec"].decoder, ISTFTDecoder)
    assert hparams["codec"].decoder.hop_length == hparams["codec"].hop_length
    with torch.no_grad():
        tokens = hparams["codec"].eval().encode(torch.randn(1, 16000) * 0.1)
        assert hparams["codec"].decode(tokens).shape == (1, 3 * 6400)


@pytest.mark.parametrize(
    "overrides, message",
    [
        ({"hop_length": 150}, "multiple of istft_hop"),
        ({"n_fft": 60}, "at least 2 \\* istft_hop"),
        ({"num_layers": 0}, "num_layers"),
        ({"input_kernel_size": 2}, "odd"),
        ({"kernel_size": 4}, "odd"),
        ({"frame_layers": -1}, "frame_layers"),
        ({"frame_layers": 1, "frame_kernel_size": 2}, "odd"),
    ],
)
def test_bad_arguments_are_clear_errors(overrides, message):
    with pytest.raises(ValueError, match=message):
        small_decoder(**overrides)
    with pytest.raises(ValueError, match="latents must have shape"):
        small_decoder()(torch.randn(3, 6))
