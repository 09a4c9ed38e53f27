"""Word error rate, the offline recognizer, the evaluation helpers and the
training clock."""

import math
import shutil

import pytest
import torch
import torchaudio

from jepa_tokenizer.data.audio import load_audio, save_audio, speak
from jepa_tokenizer.evaluation.evaluate import Utterance, evaluate_system, load_manifest
from jepa_tokenizer.evaluation.metrics import (
    PocketSphinxASR,
    resynthesis_wer,
    word_error_rate,
    write_unigram_lm,
)

SENTENCE = "the hunter opened the red window"
VOCABULARY = [SENTENCE, "a baker sold the old key", "my sister cleaned the bright door"]


def test_word_error_rate_counts_each_kind_of_error():
    stats = word_error_rate(["The cat, sat on the mat.", "a b"], ["the cat sat on a mat mat", ""])
    assert stats["num_ref_tokens"] == 8
    assert (stats["substitutions"], stats["insertions"], stats["deletions"]) == (1, 1, 2)
    assert stats["WER"] == pytest.approx(100 * 4 / 8)
    assert word_error_rate(["it's fine"], ["IT'S FINE!"])["WER"] == 0.0
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        word_error_rate(["a", "b"], ["a"])


def test_unigram_lm_probabilities_sum_to_one(tmp_path):
    lm = write_unigram_lm(VOCABULARY, tmp_path / "lm.arpa").read_text().splitlines()
    entries = [line.split() for line in lm[lm.index("\\1-grams:") + 1 :] if len(line.split()) == 2]
    words = {word for _, word in entries}
    assert {"hunter", "window", "<s>", "</s>"} <= words
    total = sum(10 ** float(p) for p, word in entries if word != "<s>")
    assert total == pytest.approx(1.0, abs=1e-3)
    with pytest.raises(ValueError, match="no words"):
        write_unigram_lm(["", "..."], tmp_path / "empty.arpa")


@pytest.fixture(scope="module")
def flite_sentence(tmp_path_factory):
    if shutil.which("flite") is None:
        pytest.skip("flite is not installed (apt-get install flite)")
    path = speak(SENTENCE, tmp_path_factory.mktemp("asr") / "s.wav", engine="flite", voice="slt")
    return load_audio(path, 16000).wav


def test_pocketsphinx_understands_flite_and_not_noise(flite_sentence):
    asr = PocketSphinxASR(VOCABULARY)
    stats, hypotheses = resynthesis_wer(asr, [flite_sentence], 16000, [SENTENCE])
    assert stats["WER"] <= 34, hypotheses
    # audio at another rate is resampled for the recognizer
    wav24 = torchaudio.functional.resample(flite_sentence, 16000, 24000)
    assert resynthesis_wer(asr, [wav24], 24000, [SENTENCE])[0]["WER"] <= 34
    noise = torch.randn_like(flite_sentence) * 0.1
    assert resynthesis_wer(asr, [noise], 16000, [SENTENCE])[0]["WER"] >= 80


def test_evaluate_system_rows_and_wavs(flite_sentence, tmp_path):
    utts = [Utterance("u1", flite_sentence, SENTENCE)]
    asr = PocketSphinxASR(VOCABULARY)
    original = evaluate_system("original", utts, 16000, None, asr, tmp_path)
    assert set(original["averages"]) == {"wer", "cer"}
    muffled = evaluate_system(
        "lowpass", utts, 16000, lambda w: torchaudio.functional.lowpass_biquad(w, 16000, 500.0), asr, tmp_path
    )
    averages = muffled["averages"]
    assert 0 < averages["stoi"] < 1 and averages["mel_distance"] > 0 and math.isfinite(averages["wer"])
    assert muffled["utterances"][0]["hypothesis"] is not None
    assert (tmp_path / "u1_original.wav").is_file() and (tmp_path / "u1_lowpass.wav").is_file()


def test_load_manifest_resolves_relative_paths_and_rejects_bad_files(tmp_path):
    save_audio(tmp_path / "a.wav", torch.zeros(2400), 24000)
    (tmp_path / "ok.csv").write_text("ID,wav,wrd\nx,a.wav,HELLO\ny,a.wav,WORLD\n")
    utts = load_manifest(tmp_path / "ok.csv", 16000, max_utterances=1)
    assert [u.id for u in utts] == ["x"] and utts[0].wav.numel() == 1600
    (tmp_path / "bad.csv").write_text("ID,wav\nx,a.wav\n")
    with pytest.raises(ValueError, match=r"missing: \['wrd'\]"):
        load_manifest(tmp_path / "bad.csv", 16000)
    with pytest.raises(FileNotFoundError):
        load_manifest(tmp_path / "none.csv", 16000)
