"""The committed embedded corpus: size, voices, splits, sentences, audio format."""

from pathlib import Path

import soundfile

from jepa_tokenizer.data.embedded_corpus import VOICES, corpus_path, make_sentences


def _transcripts(root: Path):
    rows = {}
    for trans in root.glob("*/*/*/*.trans.txt"):
        split = trans.relative_to(root).parts[0]
        for line in trans.read_text().splitlines():
            utt, text = line.split(" ", 1)
            rows[utt] = (split, trans.parent / f"{utt}.flac", text)
    return rows


def test_layout_splits_and_voices():
    root = corpus_path()
    rows = _transcripts(root)
    assert len(rows) == sum(v.utterances for v in VOICES)
    speakers = {
        split: {utt.split("-")[0] for utt, (s, _, _) in rows.items() if s == split}
        for split in ("train", "valid", "test")
    }
    assert len(speakers["train"]) >= 8
    assert not speakers["test"] & speakers["train"] and not speakers["valid"] & speakers["train"]
    voices = {split: {v.voice for v in VOICES if v.split == split} for split in ("train", "valid", "test")}
    assert not (voices["test"] | voices["valid"]) & voices["train"]
    test_voices = voices["test"]
    assert test_voices <= {"awb", "rms", "slt"}  # voices the offline ASR understands
    for split, path, text in rows.values():
        assert path.is_file() and text == text.upper()


def test_at_least_300_distinct_sentences_with_a_real_vocabulary():
    sentences = make_sentences(303)
    assert len(set(sentences)) == 303
    rows = _transcripts(corpus_path())
    # the committed transcripts are the generator's sentences, three per utterance, in order
    order = [f"{v.speaker}-1-{i:04d}" for v in VOICES for i in range(v.utterances)]
    assert sorted(order) == sorted(rows)
    for index, utt in enumerate(order):
        assert rows[utt][2] == " ".join(sentences[3 * index : 3 * index + 3]).upper()
    spoken = " ".join(text for _, _, text in rows.values())
    assert len(set(spoken.split())) > 150


def test_audio_is_16k_flac_and_small():
    root = corpus_path()
    files = list(root.rglob("*.flac"))
    assert sum(f.stat().st_size for f in files) <= 10 * 1024 * 1024
    for f in files[:: max(1, len(files) // 10)]:
        info = soundfile.info(str(f))
        assert info.samplerate == 16000 and info.channels == 1 and info.format == "FLAC"
        assert 2.0 < info.duration < 12.0
