"""The Whisper judge: transcript normalisation, WER / CER, model folders
assembled from packages and checked, and a real recording transcribed."""

import pytest
import torch
import torchaudio

from jepa_tokenizer.data.audio import load_audio
from jepa_tokenizer.evaluation.metrics import character_error_rate, make_asr, normalize_transcript, word_error_rate
from jepa_tokenizer.evaluation.whisper import (
    MODEL_FILES,
    ModelFolderError,
    PackagedModel,
    WhisperJudge,
    assemble_whisper_base,
    check_model_folder,
    file_sha256,
    judge_available,
)


def test_normalisation_keeps_inner_apostrophes_and_splits_hyphens():
    assert normalize_transcript("“It’s Mr. Smith's flour-fattened sauce,” he said—twice.") == [
        "IT'S",
        "MR",
        "SMITH'S",
        "FLOUR",
        "FATTENED",
        "SAUCE",
        "HE",
        "SAID",
        "TWICE",
    ]
    assert normalize_transcript("'quoted'  Naïve\tdéjà vu 42") == ["QUOTED", "NAIVE", "DEJA", "VU", "42"]
    assert normalize_transcript(" ... - ' ") == []


def test_error_rates_score_the_normalised_transcripts():
    references = ["HE HOPED THERE WOULD BE STEW", "FLOUR FATTENED SAUCE"]
    assert word_error_rate(references, ["He hoped there would be stew.", "flour-fattened sauce!"])["WER"] == 0.0
    assert character_error_rate(references, ["He hoped there would be stew.", "Flour-fattened sauce"])["CER"] == 0.0
    stats = character_error_rate(["ab cd"], ["ab"])  # " cd" deleted: 3 of 5 characters
    assert stats["CER"] == pytest.approx(60.0) and stats["deletions"] == 3
    with pytest.raises(ValueError, match="2 references but 1 hypotheses"):
        character_error_rate(["a", "b"], ["a"])


def _fake_packages(root, parts, others=("config.json", "tokenizer.json", "vocabulary.txt")):
    """Import packages ``fakejudge_part<i>`` under ``root`` holding the parts of a model."""
    names = []
    for number, data in enumerate(parts, 1):
        package = root / f"fakejudge_part{number}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"model.bin.part{number}").write_bytes(data)
        if number == 1:
            for name in others:
                (package / "data" / name).write_text("{}")
        names.append(package.name)
    return names


def _fake_model(tmp_path, monkeypatch, parts, whole):
    monkeypatch.syspath_prepend(str(tmp_path))
    names = _fake_packages(tmp_path, parts)
    whole_file = tmp_path / "whole.bin"
    whole_file.write_bytes(whole)
    return PackagedModel(
        "fake", names, ("fakejudge-part1==1", "fakejudge-part2==1"), len(whole), file_sha256(whole_file)
    )


def test_parts_are_assembled_once_into_a_checked_folder(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"first half ", b"second half"], b"first half second half")
    folder = assemble_whisper_base(tmp_path / "cache", model)
    assert sorted(p.name for p in folder.iterdir()) == sorted(MODEL_FILES)
    assert (folder / "model.bin").read_bytes() == b"first half second half"
    assert [p.name for p in (tmp_path / "cache").iterdir()] == [folder.name]  # no partial folder left
    assert assemble_whisper_base(tmp_path / "cache", model) == folder  # reused
    (folder / "model.bin").write_bytes(b"first half second halF")  # corrupted in the cache: same size, other hash
    with pytest.raises(ModelFolderError, match=r"^Whisper fake: .* SHA-256 .*: delete .* and pip install") as error:
        assemble_whisper_base(tmp_path / "cache", model)
    assert "\n" not in str(error.value)


def test_parts_that_do_not_make_the_model_leave_no_folder(tmp_path, monkeypatch):
    model = _fake_model(tmp_path, monkeypatch, [b"first half ", b"second"], b"first half second half")
    with pytest.raises(ModelFolderError, match=r"is 17 bytes, not the expected 22 bytes .*--force-reinstall") as error:
        assemble_whisper_base(tmp_path / "cache", model)
    assert "\n" not in str(error.value)
    assert list((tmp_path / "cache").iterdir()) == []  # nothing that looks complete, nothing half


def test_an_incomplete_folder_is_one_line_naming_the_fix(tmp_path):
    for name in MODEL_FILES[:2]:
        (tmp_path / name).write_text("{}")
    with pytest.raises(ModelFolderError) as error:
        check_model_folder(tmp_path)
    assert str(error.value) == (
        f"Whisper model folder {tmp_path} lacks tokenizer.json, vocabulary.txt: give a complete CTranslate2 "
        "Whisper folder (config.json, model.bin, tokenizer.json, vocabulary.txt)"
    )
    with pytest.raises(ModelFolderError, match="lacks tokenizer.json, vocabulary.txt"):
        WhisperJudge(str(tmp_path))


def _judge_or_skip(model: str = "base") -> WhisperJudge:
    if not judge_available(model):
        pytest.skip(f"the Whisper judge ({model}) is not installed: pip install 'jepa-tokenizer[judge]'")
    return WhisperJudge(model)


@pytest.fixture(scope="module")
def first_librispeech(real_speech):
    row = next(r for r in real_speech if r["corpus"] == "LibriSpeech")
    return load_audio(row["path"], 16000).wav, row["wrd"]


@pytest.mark.parametrize("model", ["base", "tiny.en"])
def test_the_judge_understands_a_real_recording(first_librispeech, model):
    judge = _judge_or_skip(model)
    wav, text = first_librispeech
    scores = judge.score([wav], 16000, [text])
    assert scores["wer"] < 20 and scores["cer"] < 10, scores
    assert judge.description.startswith(f"Whisper {model} (faster-whisper, int8, beam 5, en)")


def test_the_judge_takes_numpy_at_any_rate(first_librispeech):
    judge = _judge_or_skip()
    wav, text = first_librispeech
    at_22k = torchaudio.functional.resample(wav, 16000, 22050).numpy()
    assert word_error_rate([text], [judge.transcribe(at_22k, 22050)])["WER"] < 20
    with pytest.raises(ValueError, match=r"one \[T\] waveform"):
        judge.transcribe(torch.zeros(2, 16000))


def test_auto_asr_is_the_whisper_judge_where_installed():
    _judge_or_skip()
    asr = make_asr("auto")
    assert isinstance(asr, WhisperJudge) and asr.description.startswith("Whisper base")
