"""Audio loading: conversion to the model's rate, and clear errors on bad files."""

import numpy as np
import pytest
import soundfile
import torch

from jepa_tokenizer.data.audio import load_audio, speak


def test_stereo_44k_becomes_mono_at_the_model_rate(tmp_path):
    t = np.arange(44100) / 44100
    tone = 0.5 * np.sin(2 * np.pi * 440 * t)
    soundfile.write(tmp_path / "s.flac", np.stack([tone, tone], axis=1), 44100)
    audio = load_audio(tmp_path / "s.flac", 16000)
    assert audio.wav.shape == (16000,) and audio.wav.dtype == torch.float32
    assert audio.source_channels == 2 and audio.source_sample_rate == 44100
    assert "downmixed 2 channels" in audio.describe() and "44100 -> 16000" in audio.describe()
    assert abs(float(audio.wav.abs().max()) - 0.5) < 0.02


def test_bad_files_are_clear_errors(tmp_path):
    with pytest.raises(ValueError, match="not found"):
        load_audio(tmp_path / "missing.wav", 16000)
    (tmp_path / "corrupt.wav").write_bytes(b"RIFF\x00\x00garbage")
    with pytest.raises(ValueError, match="cannot read"):
        load_audio(tmp_path / "corrupt.wav", 16000)
    soundfile.write(tmp_path / "empty.wav", np.zeros(0), 16000)
    with pytest.raises(ValueError, match="empty"):
        load_audio(tmp_path / "empty.wav", 16000)
    soundfile.write(tmp_path / "nan.wav", np.array([0.0, np.nan]), 16000, subtype="FLOAT")
    with pytest.raises(ValueError, match="NaN"):
        load_audio(tmp_path / "nan.wav", 16000)


def test_speak_checks_its_arguments(tmp_path):
    with pytest.raises(ValueError, match="empty"):
        speak("  ", tmp_path / "x.wav")
    with pytest.raises(ValueError, match="engine"):
        speak("hello", tmp_path / "x.wav", engine="say")


def test_spoken_sentence_is_speech_length(spoken_wav):
    audio = load_audio(spoken_wav, 16000)
    assert 1.5 < audio.wav.shape[0] / 16000 < 8
    assert float(audio.wav.abs().max()) > 0.05


def _forge_wav_rate(path, rate):
    """A valid 16 kHz WAV whose header then claims ``rate`` (bytes 24-27 and
    the byte rate 28-31 of the fmt chunk)."""
    import struct

    soundfile.write(path, np.zeros(16000, dtype="float32"), 16000, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    data[24:28] = struct.pack("<I", rate)
    data[28:32] = struct.pack("<I", rate * 2)
    path.write_bytes(bytes(data))
    return path


@pytest.mark.parametrize("rate", [1, 100, 4_000_000])
def test_forged_sample_rate_is_refused_before_allocating(tmp_path, rate):
    """A header that declares 1 Hz would make resampling to 16 kHz allocate
    16,000 samples per stored one; such rates are refused from the header."""
    path = _forge_wav_rate(tmp_path / "forged.wav", rate)
    assert soundfile.info(path).samplerate == rate
    with pytest.raises(ValueError, match=f"declares {rate} Hz, outside"):
        load_audio(path, 16000)


def test_many_channels_are_downmixed_block_by_block(tmp_path, monkeypatch):
    """Multi-channel audio is read in blocks and averaged as it comes (the
    same result as a whole-file mean), and absurd channel counts are refused."""
    import jepa_tokenizer.data.audio as audio

    rng = np.random.default_rng(0)
    frames = rng.uniform(-0.5, 0.5, (16000, 8)).astype("float32")
    soundfile.write(tmp_path / "eight.flac", frames, 16000, subtype="PCM_24")
    whole = soundfile.read(tmp_path / "eight.flac", dtype="float32")[0].mean(axis=1)
    monkeypatch.setattr(audio, "READ_BLOCK_SECONDS", 0.07)  # 15 blocks
    loaded = load_audio(tmp_path / "eight.flac", 16000)
    assert loaded.source_channels == 8
    torch.testing.assert_close(loaded.wav, torch.from_numpy(whole), rtol=0, atol=1e-6)
    monkeypatch.setattr(audio, "MAX_SOURCE_CHANNELS", 4)
    with pytest.raises(ValueError, match="declares 8 channels"):
        load_audio(tmp_path / "eight.flac", 16000)


def test_duration_limit_is_checked_before_decoding(tmp_path, monkeypatch):
    """``max_seconds`` refuses a long file from its header; nothing is read."""
    soundfile.write(tmp_path / "long.flac", np.zeros((16000 * 20, 2), dtype="float32"), 16000)
    monkeypatch.setattr(soundfile.SoundFile, "read", lambda *a, **k: pytest.fail("decoded"))
    with pytest.raises(ValueError, match="lasts 20.0 s, more than the limit of 10 s"):
        load_audio(tmp_path / "long.flac", 16000, max_seconds=10)


def test_truncated_wav_and_loud_floats_are_reported(tmp_path, caplog):
    """A WAV cut mid-data is decoded (what it holds) with a warning, and so
    are float samples far outside [-1, 1]."""
    soundfile.write(tmp_path / "full.wav", np.full(16000 * 3, 0.1, dtype="float32"), 16000, subtype="PCM_16")
    data = (tmp_path / "full.wav").read_bytes()
    (tmp_path / "cut.wav").write_bytes(data[: len(data) // 3])
    with caplog.at_level("WARNING"):
        cut = load_audio(tmp_path / "cut.wav", 16000)
    assert 15000 < cut.wav.numel() < 17000
    assert "cut.wav is truncated" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING"):
        load_audio(tmp_path / "full.wav", 16000)
    assert caplog.text == ""
    soundfile.write(tmp_path / "loud.wav", np.full(1600, 30.0, dtype="float32"), 16000, subtype="FLOAT")
    with caplog.at_level("WARNING"):
        assert float(load_audio(tmp_path / "loud.wav", 16000).wav.max()) == 30.0
    assert "far outside [-1, 1]" in caplog.text


def test_float64_beyond_float32_is_a_range_error_and_blocks_are_bounded(tmp_path, monkeypatch):
    """A finite float64 peak of 3.4e39 is named as a range problem (not as
    NaN or Inf); a block never holds more than READ_BLOCK_SAMPLES samples."""
    import jepa_tokenizer.data.audio as audio

    soundfile.write(tmp_path / "huge.wav", np.array([0.0, 3.4e39, 0.5]), 16000, subtype="DOUBLE")
    with pytest.raises(ValueError, match="has samples up to 3.4e.39, beyond float32's range .*rescale it to"):
        load_audio(tmp_path / "huge.wav", 16000)
    soundfile.write(tmp_path / "inf.wav", np.array([0.0, np.inf]), 16000, subtype="DOUBLE")
    with pytest.raises(ValueError, match="NaN or Inf"):
        load_audio(tmp_path / "inf.wav", 16000)
    frames = np.random.default_rng(0).uniform(-0.5, 0.5, (1000, 4))
    soundfile.write(tmp_path / "four.wav", frames, 16000, subtype="DOUBLE")
    reads = []
    original = soundfile.SoundFile.read
    monkeypatch.setattr(soundfile.SoundFile, "read", lambda self, n, **k: reads.append(n) or original(self, n, **k))
    monkeypatch.setattr(audio, "READ_BLOCK_SAMPLES", 400)
    loaded = load_audio(tmp_path / "four.wav", 16000).wav
    assert max(reads) == 100 and len(reads) == 10
    torch.testing.assert_close(loaded, torch.from_numpy(frames.mean(axis=1)).float(), rtol=0, atol=1e-7)
