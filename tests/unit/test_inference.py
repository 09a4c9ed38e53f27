"""JEPATokenizer: reload of an exported folder, files in and out, flat views."""

from pathlib import Path

import numpy as np
import pytest
import soundfile
import torch

from jepa_tokenizer.models.config import load_model_config
from jepa_tokenizer.pretrained.export import export_codec
from jepa_tokenizer.pretrained.inference import JEPATokenizer


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    torch.manual_seed(0)
    codec = load_model_config("jepa_tiny.yaml", {"use_daam": False})["codec"].eval()
    folder = export_codec(codec, tmp_path_factory.mktemp("model"))
    tokenizer = JEPATokenizer.from_hparams(source=str(folder), savedir=str(tmp_path_factory.mktemp("saved")))
    return codec, tokenizer


def test_reloaded_folder_gives_identical_tokens_and_audio(exported):
    codec, tokenizer = exported
    assert tokenizer.codec.encoder.blocks[0].gate is None  # the override travelled with the export
    wav = torch.randn(2, 20000) * 0.1
    with torch.no_grad():
        tokens = codec.encode(wav)
        assert torch.equal(tokenizer.encode_batch(wav), tokens)
        assert torch.allclose(tokenizer.decode_batch(tokens), codec.decode(tokens), atol=1e-6)


def test_export_writes_the_constructor_calls_not_a_configuration(tmp_path):
    # a codec built in Python, with sizes no configuration file has
    from jepa_tokenizer import FSQ, HiFiGANDecoder, JEPACodec, JEPAEncoder, MixedRadixPacker

    torch.manual_seed(3)
    encoder = JEPAEncoder(
        sample_rate=800,
        channels=[4, 8, 8],
        strides=[4, 5],
        code_dim=10,
        res_dilations=[1],
        conformer_layers=1,
        conformer_heads=1,
        daam_alpha_init=1.0e-5,
    )
    decoder = HiFiGANDecoder(
        code_dim=10, channels=[8, 4, 4], upsample_rates=[5, 4], resblock_kernel_sizes=[3], resblock_dilations=[1]
    )
    codec = JEPACodec(encoder, FSQ(levels=4, dim=10), MixedRadixPacker(radices=4, num_digits=10, group_size=7), decoder)
    folder = export_codec(codec.eval(), tmp_path / "model")
    text = (folder / "hyperparams.yaml").read_text()
    assert "!include" not in text and "codec: !new:jepa_tokenizer.models.codec.JEPACodec" in text
    loaded = JEPATokenizer.from_hparams(source=str(folder), savedir=str(tmp_path / "saved")).codec
    assert loaded.encoder.init_arguments == encoder.init_arguments  # 1e-05 read back as a float
    wav = torch.randn(1, 400)
    with torch.no_grad():
        assert torch.equal(loaded.encode(wav), codec.encode(wav))


def test_folders_exported_before_the_constructor_calls_still_load(tmp_path):
    # hyperparams.yaml as the export wrote it up to commit 81ccb9d (a flattened model configuration)
    folder = tmp_path / "old"
    folder.mkdir()
    (folder / "hyperparams.yaml").write_text((Path(__file__).parent / "data" / "legacy_flat_export.yaml").read_text())
    torch.manual_seed(0)
    codec = load_model_config("jepa_tiny.yaml", {"use_daam": False})["codec"].eval()
    torch.save(codec.state_dict(), folder / "codec.ckpt")
    loaded = JEPATokenizer.from_hparams(source=str(folder), savedir=str(tmp_path / "saved"))
    wav = torch.randn(1, 16000) * 0.1
    with torch.no_grad():
        assert torch.equal(loaded.encode_batch(wav), codec.encode(wav))


def test_file_of_any_rate_and_channels(exported, tmp_path):
    _, tokenizer = exported
    t = np.arange(2 * 44100) / 44100
    stereo = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)], axis=1) * 0.3
    soundfile.write(tmp_path / "in.wav", stereo, 44100)
    encoded = tokenizer.encode_file(tmp_path / "in.wav")
    assert encoded.num_samples == 32000 and encoded.tokens.shape == (5, 3)
    assert "downmixed 2 channels" in encoded.conversion and "44100 -> 16000" in encoded.conversion
    out = tokenizer.decode_to_file(encoded.tokens, tmp_path / "out.wav", num_samples=encoded.num_samples)
    info = soundfile.info(str(out))
    assert info.samplerate == 16000 and info.frames == 32000


def test_flat_view_and_its_errors(exported):
    _, tokenizer = exported
    tokens = tokenizer.encode_batch(torch.randn(1, 30000) * 0.1)
    flat = tokenizer.flatten(tokens)
    assert flat.shape == (1, tokens.shape[1] * 3)
    assert torch.equal(flat[0, :3], tokens[0, 0])  # frame by frame
    assert torch.equal(tokenizer.unflatten(flat), tokens)
    with pytest.raises(ValueError, match="frames \\* 3"):
        tokenizer.unflatten(flat[:, :-1])
    with pytest.raises(ValueError, match="out of range"):
        tokenizer.unflatten(torch.full_like(flat, 20000))
    with pytest.raises(ValueError, match="one item"):
        tokenizer.decode_to_file(torch.cat([tokens, tokens]), "unused.wav")


def test_long_audio_in_chunks(exported, monkeypatch):
    """Bounded memory: the encoder never sees more than chunk + 2 x context
    frames; short files and decoding match whole-file results exactly."""
    codec, _ = exported
    hop = codec.hop_length
    torch.manual_seed(2)
    wav = 0.1 * torch.randn(60 * hop + 123)
    seen = []
    original = codec.encoder.forward

    def spy(wavs, *args, **kwargs):
        seen.append(wavs.shape[-1])
        return original(wavs, *args, **kwargs)

    monkeypatch.setattr(codec.encoder, "forward", spy)
    with torch.no_grad():
        whole = codec.encode(wav.unsqueeze(0))[0]
        seen.clear()
        chunked = codec.encode_long(wav, chunk_frames=10, context_frames=4)
    assert chunked.shape == whole.shape == (61, 3)
    assert max(seen) <= (10 + 2 * 4) * hop and len(seen) == 7
    assert torch.equal(codec.encode_long(wav[: 5 * hop], 10, 4), codec.encode(wav[: 5 * hop].unsqueeze(0))[0])
    with torch.no_grad():
        audio = codec.decode(whole.unsqueeze(0))[0]
    pieces = codec.decode_long(whole, chunk_frames=7)
    assert torch.allclose(pieces, audio, atol=1e-5)
    assert not torch.allclose(codec.decode_long(whole, chunk_frames=7, context_frames=0), audio, atol=1e-3)


def test_decoding_to_a_file_in_chunks_is_bounded_exact_and_atomic(exported, tmp_path, monkeypatch):
    codec, tokenizer = exported
    torch.manual_seed(5)
    wav = 0.1 * torch.randn(9 * codec.hop_length + 77)
    tokens = tokenizer.encode_batch(wav.unsqueeze(0))[0]
    whole = tokenizer.decode_to_file(tokens, tmp_path / "whole.wav", num_samples=wav.numel())
    seen = []
    original = tokenizer.codec.decode

    def spy(chunk, *args, **kwargs):
        seen.append(chunk.shape[1])
        return original(chunk, *args, **kwargs)

    monkeypatch.setattr(tokenizer.codec, "decode", spy)
    chunked = tokenizer.decode_to_file(tokens, tmp_path / "chunked.flac", num_samples=wav.numel(), chunk_frames=2)
    a, _ = soundfile.read(whole)
    b, _ = soundfile.read(chunked)
    assert a.shape == b.shape == (wav.numel(),) and np.abs(a - b).max() <= 2 / 32768  # 16-bit files
    assert max(seen) <= 2 + 2 * codec.decoder_context_frames() and len(seen) == 5
    for bad in (-5, 0, 10**15):
        with pytest.raises(ValueError, match="num_samples"):
            tokenizer.decode_to_file(tokens, tmp_path / "bad.wav", num_samples=bad, chunk_frames=2)

    calls = []

    def fails_later(chunk, *args, **kwargs):
        calls.append(1)
        if len(calls) == 3:
            raise RuntimeError("out of memory")
        return original(chunk, *args, **kwargs)

    monkeypatch.setattr(tokenizer.codec, "decode", fails_later)
    with pytest.raises(RuntimeError, match="out of memory"):
        tokenizer.decode_to_file(tokens, tmp_path / "failed.wav", chunk_frames=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["chunked.flac", "whole.wav"]  # nothing half-written
