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
