"""Data preparation (jepa_tokenizer.data.manifests, .speech_files, .download and
the recipes' prepare scripts): manifests, skipping done work, clear errors, FLAC/WAV/Ogg Opus."""

import csv
import importlib.util
import logging
import os
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile

from jepa_tokenizer.data import download, manifests, speech_files

SCRIPT = Path(__file__).resolve().parents[2] / "recipes" / "LibriSpeech" / "librispeech_prepare.py"
RATE = 16000


def _load_script():
    spec = importlib.util.spec_from_file_location("librispeech_prepare", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


script = _load_script()  # the command line
prep = manifests  # the routines it runs


SHARED_MINI = Path(__file__).resolve().parents[3] / "shared" / "mini_librispeech"


def write_audio(path: Path, seconds: float = 0.2, seed: int = 0) -> Path:
    """Noise in the file's format; ``.opus``: Ogg Opus encoded by libsndfile."""
    path.parent.mkdir(parents=True, exist_ok=True)
    noise = np.random.default_rng(seed).uniform(-0.1, 0.1, int(seconds * RATE))
    if path.suffix.lower() == ".opus":
        soundfile.write(path, noise.astype("float32"), RATE, format="OGG", subtype="OPUS")
    else:
        soundfile.write(path, noise.astype("float32"), RATE)
    return path


def write_chapter(split: Path, spk: str, chapter: str, words: dict, ext: str = ".flac", seconds=0.2):
    """One chapter folder: audio per utterance plus its trans.txt."""
    folder = split / spk / chapter
    for utt, _ in words.items():
        write_audio(folder / f"{spk}-{chapter}-{utt}{ext}", seconds)
    lines = [f"{spk}-{chapter}-{utt} {text}" for utt, text in words.items()]
    (folder / f"{spk}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
    return folder


@pytest.fixture
def corpus(tmp_path):
    """A tiny LibriSpeech tree with two splits."""
    root = tmp_path / "LibriSpeech"
    dev = root / "dev-clean"
    write_chapter(dev, "84", "121123", {"0001": "GO DO YOU HEAR", "0000": "HELLO WORLD"})
    write_chapter(dev, "1272", "128104", {"0000": "MISTER QUILTER"}, ext=".wav", seconds=0.3)
    write_chapter(root / "test-clean", "61", "70968", {"0000": "HE BEGAN A CONFUSED COMPLAINT"})
    return root


def read_csv(path):
    with open(path, newline="") as stream:
        reader = csv.reader(stream)
        return next(reader), list(reader)


def test_manifest_rows_columns_and_durations(corpus, tmp_path):
    save = tmp_path / "save"
    manifests = prep.prepare_librispeech(corpus, save, ["dev-clean", "test-clean"])
    assert manifests == {"dev-clean": str(save / "dev-clean.csv"), "test-clean": str(save / "test-clean.csv")}
    header, rows = read_csv(manifests["dev-clean"])
    assert header == ["ID", "duration", "wav", "spk_id", "wrd"]
    assert [row[0] for row in rows] == ["1272-128104-0000", "84-121123-0000", "84-121123-0001"]
    by_id = {row[0]: row for row in rows}
    assert by_id["84-121123-0000"][3:] == ["84", "HELLO WORLD"]
    assert by_id["84-121123-0001"][4] == "GO DO YOU HEAR"
    assert by_id["1272-128104-0000"][3] == "1272"
    assert float(by_id["84-121123-0000"][1]) == pytest.approx(0.2)
    assert float(by_id["1272-128104-0000"][1]) == pytest.approx(0.3)
    for row in rows:
        assert os.path.isabs(row[2]) and Path(row[2]).is_file()
    assert by_id["1272-128104-0000"][2].endswith(".wav")
    assert by_id["84-121123-0000"][2] == str(corpus / "dev-clean/84/121123/84-121123-0000.flac")
    _, test_rows = read_csv(manifests["test-clean"])
    assert [row[4] for row in test_rows] == ["HE BEGAN A CONFUSED COMPLAINT"]
    assert not list(save.glob("*.tmp"))


def test_manifest_loads_in_speechbrain(corpus, tmp_path):
    from speechbrain.dataio.dataio import load_data_csv

    manifest = prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean"])["dev-clean"]
    data = load_data_csv(manifest)
    assert data["84-121123-0000"]["duration"] == pytest.approx(0.2)
    assert data["84-121123-0000"]["wrd"] == "HELLO WORLD"


def test_rerun_is_skipped_without_reading_audio(corpus, tmp_path, monkeypatch, caplog):
    save = tmp_path / "save"
    first = prep.prepare_librispeech(corpus, save, ["dev-clean", "test-clean"])
    mtimes = {path: os.stat(path).st_mtime_ns for path in first.values()}

    def must_not_read(path):
        raise AssertionError(f"audio re-read: {path}")

    monkeypatch.setattr(speech_files, "audio_duration", must_not_read)
    caplog.set_level(logging.INFO)
    again = prep.prepare_librispeech(str(corpus), str(save), ["test-clean", "dev-clean"])
    assert again == {"test-clean": first["test-clean"], "dev-clean": first["dev-clean"]}
    assert {path: os.stat(path).st_mtime_ns for path in first.values()} == mtimes
    assert "skipping" in caplog.text


def _counting_reader(monkeypatch):
    calls = []
    real = speech_files.audio_duration

    def reader(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr(speech_files, "audio_duration", reader)
    return calls


def test_different_options_or_interrupted_run_are_redone(corpus, tmp_path, monkeypatch):
    save = tmp_path / "save"
    prep.prepare_librispeech(corpus, save, ["dev-clean"])
    calls = _counting_reader(monkeypatch)

    prep.prepare_librispeech(corpus, save, ["dev-clean", "test-clean"])  # other splits
    assert len(calls) == 4 and (save / "test-clean.csv").is_file()

    calls.clear()
    (save / "test-clean.csv").unlink()  # a manifest went missing
    prep.prepare_librispeech(corpus, save, ["dev-clean", "test-clean"])
    assert len(calls) == 4

    calls.clear()
    (save / prep.LABELLED_OPTIONS_FILE).unlink()  # run interrupted before the options file
    prep.prepare_librispeech(corpus, save, ["dev-clean", "test-clean"])
    assert len(calls) == 4

    calls.clear()
    other = tmp_path / "copy"
    write_chapter(other / "dev-clean", "7", "1", {"0000": "OTHER DATA"})
    prep.prepare_librispeech(other, save, ["dev-clean"])  # other data folder
    assert len(calls) == 1
    _, rows = read_csv(save / "dev-clean.csv")
    assert [row[0] for row in rows] == ["7-1-0000"]


def test_failed_run_does_not_leave_a_done_marker(corpus, tmp_path, monkeypatch):
    save = tmp_path / "save"
    prep.prepare_librispeech(corpus, save, ["dev-clean"])
    (corpus / "dev-clean/84/121123/84-121123-0000.flac").unlink()
    with pytest.raises(ValueError):
        prep.prepare_librispeech(corpus, save, ["dev-clean", "test-clean"])
    assert not (save / prep.LABELLED_OPTIONS_FILE).exists()
    calls = _counting_reader(monkeypatch)
    write_audio(corpus / "dev-clean/84/121123/84-121123-0000.flac")
    prep.prepare_librispeech(corpus, save, ["dev-clean"])
    assert len(calls) == 3


def test_skip_prep_returns_paths_without_work(tmp_path):
    save = tmp_path / "save"
    assert prep.prepare_librispeech(tmp_path / "missing", save, ["dev-clean"], skip_prep=True) == {
        "dev-clean": str(save / "dev-clean.csv")
    }
    assert prep.prepare_unlabelled(tmp_path / "missing", save, "ll", skip_prep=True) == str(save / "ll.csv")
    assert not save.exists()


def test_missing_data_folder(tmp_path):
    with pytest.raises(FileNotFoundError, match="Data folder not found: .*nowhere"):
        prep.prepare_librispeech(tmp_path / "nowhere", tmp_path / "save", ["dev-clean"])


def test_missing_split_folder_lists_available(corpus, tmp_path):
    with pytest.raises(FileNotFoundError, match=r"Split folder not found: .*train-clean-100.*dev-clean, test-clean"):
        prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean", "train-clean-100"])
    assert not (tmp_path / "save" / "dev-clean.csv").exists()


def test_split_without_audio(corpus, tmp_path):
    (corpus / "train-other-500" / "1" / "2").mkdir(parents=True)
    with pytest.raises(ValueError, match="No audio files .* found under .*train-other-500"):
        prep.prepare_librispeech(corpus, tmp_path / "save", ["train-other-500"])


def test_bad_split_names(corpus, tmp_path):
    with pytest.raises(ValueError, match="No split"):
        prep.prepare_librispeech(corpus, tmp_path / "save", [])
    with pytest.raises(ValueError, match="Duplicate split"):
        prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean", "dev-clean"])


def test_malformed_transcript_line(corpus, tmp_path):
    transcript = corpus / "dev-clean/84/121123/84-121123.trans.txt"
    transcript.write_text("84-121123-0000 HELLO WORLD\n84-121123-0001\n")
    with pytest.raises(ValueError, match=r"Malformed transcript line 2 of .*84-121123\.trans\.txt"):
        prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean"])


def test_chapter_without_transcript(corpus, tmp_path):
    (corpus / "dev-clean/84/121123/84-121123.trans.txt").unlink()
    with pytest.raises(FileNotFoundError, match=r"Chapter folder .*84/121123 holds 2 audio file\(s\) but no"):
        prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean"])


def test_audio_without_transcript_line(corpus, tmp_path):
    write_audio(corpus / "dev-clean/84/121123/84-121123-0002.flac")
    with pytest.raises(ValueError, match=r"Audio file .*84-121123-0002\.flac has no transcript line"):
        prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean"])


def test_transcript_line_without_audio(corpus, tmp_path):
    (corpus / "dev-clean/84/121123/84-121123-0001.flac").unlink()
    with pytest.raises(ValueError, match=r"Transcript line '84-121123-0001' of .*84-121123\.trans\.txt has no audio"):
        prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean"])


def test_corrupt_audio_is_skipped_with_a_warning(corpus, tmp_path, caplog):
    corrupt = corpus / "dev-clean/84/121123/84-121123-0001.flac"
    corrupt.write_bytes(b"fLaC not really")
    empty = corpus / "dev-clean/1272/128104/1272-128104-0000.wav"
    soundfile.write(empty, np.zeros(0, dtype="float32"), RATE)
    caplog.set_level(logging.WARNING)
    manifest = prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean"])["dev-clean"]
    _, rows = read_csv(manifest)
    assert [row[0] for row in rows] == ["84-121123-0000"]
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("unreadable" in m and str(corrupt) in m for m in warnings)
    assert any("empty" in m and str(empty) in m for m in warnings)
    assert any("Skipped 2 of 3" in m for m in warnings)


def test_truncated_audio_is_skipped_not_listed(corpus, tmp_path, caplog):
    """A FLAC cut short keeps a valid header claiming its full length."""
    path = corpus / "dev-clean/84/121123/84-121123-0001.flac"
    soundfile.write(path, np.random.default_rng(0).normal(0, 0.1, 3 * RATE), RATE)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 3])
    assert soundfile.info(str(path)).frames == 3 * RATE  # the header still says 3 s
    caplog.set_level(logging.WARNING)
    manifest = prep.prepare_librispeech(corpus, tmp_path / "save", ["dev-clean"])["dev-clean"]
    _, rows = read_csv(manifest)
    assert "84-121123-0001" not in [row[0] for row in rows]
    assert any("truncated" in r.getMessage() and str(path) in r.getMessage() for r in caplog.records)


def test_split_with_only_corrupt_audio_raises(corpus, tmp_path):
    (corpus / "test-clean/61/70968/61-70968-0000.flac").write_bytes(b"garbage")
    with pytest.raises(ValueError, match="All 1 audio file.* unreadable"):
        prep.prepare_librispeech(corpus, tmp_path / "save", ["test-clean"])


def test_unlabelled_tree(tmp_path, monkeypatch, caplog):
    tree = tmp_path / "librilight"
    write_audio(tree / "100" / "book_a" / "seg_0.flac", 0.2)
    write_audio(tree / "100" / "book_a" / "seg_1.WAV", 0.25)
    write_audio(tree / "200" / "seg_0.flac", 0.3)
    write_audio(tree / "top.wav", 0.1)
    (tree / "200" / "notes.txt").write_text("not audio")
    (tree / "200" / "broken.flac").write_bytes(b"garbage")
    save = tmp_path / "save"
    caplog.set_level(logging.WARNING)
    manifest = prep.prepare_unlabelled(tree, save, "small")
    assert manifest == str(save / "small.csv")
    header, rows = read_csv(manifest)
    assert header == ["ID", "duration", "wav", "spk_id"]
    assert [row[0] for row in rows] == ["100-book_a-seg_0", "100-book_a-seg_1", "200-seg_0", "top"]
    assert [row[3] for row in rows] == ["100", "100", "200", "unknown"]
    assert [float(row[1]) for row in rows] == pytest.approx([0.2, 0.25, 0.3, 0.1])
    assert rows[1][2] == str(tree / "100" / "book_a" / "seg_1.WAV")
    assert "broken.flac" in caplog.text and "Skipped 1 of 5" in caplog.text

    def must_not_read(path):
        raise AssertionError(f"audio re-read: {path}")

    monkeypatch.setattr(speech_files, "audio_duration", must_not_read)
    assert prep.prepare_unlabelled(tree, save, "small") == manifest  # skipped
    with pytest.raises(AssertionError, match="re-read"):  # other extensions: redone
        prep.prepare_unlabelled(tree, save, "small", extensions=["flac"])


def test_unlabelled_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="Data folder not found"):
        prep.prepare_unlabelled(tmp_path / "nowhere", tmp_path / "save", "x")
    tree = tmp_path / "tree"
    write_audio(tree / "a" / "x.flac")
    with pytest.raises(ValueError, match=r"No audio files with extension \.ogg"):
        prep.prepare_unlabelled(tree, tmp_path / "save", "x", extensions=["ogg"])
    write_audio(tree / "a" / "x.wav")
    with pytest.raises(ValueError, match="same ID 'a-x'"):
        prep.prepare_unlabelled(tree, tmp_path / "save", "x")
    with pytest.raises(ValueError, match="Invalid manifest name"):
        prep.prepare_unlabelled(tree, tmp_path / "save", "a/b")
    (tree / "a" / "x.wav").write_bytes(b"garbage")
    (tree / "a" / "x.flac").unlink()
    with pytest.raises(ValueError, match="All 1 audio file.* unreadable"):
        prep.prepare_unlabelled(tree, tmp_path / "save", "x")


def test_command_line(corpus, tmp_path, capsys):
    save = tmp_path / "save"
    assert script.main([str(corpus), str(save), "--splits", "dev-clean", "test-clean"]) == 0
    assert (save / "dev-clean.csv").is_file() and (save / "test-clean.csv").is_file()
    assert script.main([str(corpus / "dev-clean"), str(save), "--unlabelled", "dev_audio"]) == 0
    _, rows = read_csv(save / "dev_audio.csv")
    assert [row[3] for row in rows] == ["1272", "84", "84"]
    assert "dev_audio.csv" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        script.main([str(corpus), str(save)])  # neither --splits nor --unlabelled


def test_ogg_opus_speech_is_collected_measured_and_loaded(tmp_path):
    """Speech re-encoded to Ogg Opus (as ../shared/mini_librispeech and many
    corpora ship): collected in the LibriSpeech layout and in any tree, its
    duration measured, and decoded by the package's audio loader."""
    from jepa_tokenizer.data.audio import load_audio
    from jepa_tokenizer.data.embedded_corpus import corpus_path

    source = sorted((corpus_path() / "test").rglob("*.flac"))[0]
    speech, rate = soundfile.read(str(source), dtype="float32")
    chapter = tmp_path / "LibriSpeech" / "dev-clean" / "19" / "198"
    chapter.mkdir(parents=True)
    soundfile.write(chapter / "19-198-0000.opus", speech, rate, format="OGG", subtype="OPUS")
    write_audio(chapter / "19-198-0001.opus", 0.5)
    (chapter / "19-198.trans.txt").write_text("19-198-0000 A SPOKEN SENTENCE\n19-198-0001 NOISE\n")
    assert soundfile.info(str(chapter / "19-198-0000.opus")).subtype == "OPUS"

    manifest = prep.prepare_librispeech(tmp_path / "LibriSpeech", tmp_path / "save", ["dev-clean"])["dev-clean"]
    _, rows = read_csv(manifest)
    assert [row[0] for row in rows] == ["19-198-0000", "19-198-0001"]
    assert float(rows[0][1]) == pytest.approx(len(speech) / rate, abs=0.02)
    assert float(rows[1][1]) == pytest.approx(0.5, abs=0.02)
    assert rows[0][2].endswith(".opus") and rows[0][4] == "A SPOKEN SENTENCE"
    unlabelled = prep.prepare_unlabelled(tmp_path / "LibriSpeech", tmp_path / "save", "any")
    assert [row[0] for row in read_csv(unlabelled)[1]] == [
        "dev-clean-19-198-19-198-0000",
        "dev-clean-19-198-19-198-0001",
    ]

    loaded = load_audio(rows[0][2], 16000).wav
    assert abs(loaded.numel() - len(speech) * 16000 / rate) < 0.02 * 16000
    assert float(loaded.abs().max()) > 0.05  # speech, not silence


def test_mini_librispeech_in_ogg_opus():
    """The shared copy of mini LibriSpeech (Ogg Opus): every utterance of
    train-clean-5 and dev-clean-2 listed, with the durations of the set."""
    if not SHARED_MINI.is_dir():
        pytest.skip(f"mini LibriSpeech not available: {SHARED_MINI} is missing")
    import tempfile

    with tempfile.TemporaryDirectory() as save:
        manifests = prep.prepare_librispeech(SHARED_MINI, save, ["train-clean-5", "dev-clean-2"])
        tables = {split: read_csv(path)[1] for split, path in manifests.items()}
    expected = {"train-clean-5": (1519, 5.3, 28), "dev-clean-2": (1089, 2.0, 26)}
    for split, (count, hours, speakers) in expected.items():
        rows = tables[split]
        assert len(rows) == count, split
        assert sum(float(row[1]) for row in rows) / 3600 == pytest.approx(hours, abs=0.05), split
        assert len({row[3] for row in rows}) == speakers, split
        assert all(row[2].endswith(".opus") and row[4] for row in rows), split


def test_libritts_layout_with_wav_and_ogg_opus(tmp_path):
    from conftest import load_recipe

    libritts = load_recipe("libritts_prepare")
    chapter = tmp_path / "LibriTTS" / "train-clean-100" / "103" / "1241"
    write_audio(chapter / "103_1241_000001_000000.wav", 0.4)
    write_audio(chapter / "103_1241_000002_000000.opus", 0.6)
    (chapter / "103_1241_000001_000000.normalized.txt").write_text("Hello, world.\n")
    (chapter / "103_1241_000002_000000.normalized.txt").write_text("  Second   sentence. \n")
    manifest = libritts.prepare_libritts(tmp_path / "LibriTTS", tmp_path / "save", ["train-clean-100"])
    header, rows = read_csv(manifest["train-clean-100"])
    assert [row[0] for row in rows] == ["103_1241_000001_000000", "103_1241_000002_000000"]
    assert [float(row[1]) for row in rows] == pytest.approx([0.4, 0.6], abs=0.02)
    assert rows[1][2].endswith(".opus") and [row[3:] for row in rows] == [
        ["103", "Hello, world."],
        ["103", "Second sentence."],
    ]
    (chapter / "103_1241_000003_000000.normalized.txt").write_text("No audio.\n")
    with pytest.raises(ValueError, match="103_1241_000003_000000 .* has no audio file"):
        libritts.prepare_libritts(tmp_path / "LibriTTS", tmp_path / "save2", ["train-clean-100"])


def test_linked_speaker_and_split_folders_are_followed(tmp_path):
    """A split assembled from symbolic links to speaker folders (and a split
    folder that is itself a link) lists the linked audio once, and a link
    loop does not recurse."""
    store = tmp_path / "store"
    write_chapter(store / "speakers", "84", "121123", {"0000": "HELLO WORLD", "0001": "GO ON"})
    write_chapter(store / "speakers", "61", "70968", {"0000": "HE BEGAN"}, ext=".opus")
    root = tmp_path / "LibriSpeech"
    split = root / "dev-clean"
    split.mkdir(parents=True)
    for speaker in ("84", "61"):
        (split / speaker).symlink_to(store / "speakers" / speaker)
    (split / "84" / "121123" / "loop").symlink_to(split)  # a loop through the link
    (root / "test-clean").symlink_to(store / "speakers")
    manifests = prep.prepare_librispeech(root, tmp_path / "save", ["dev-clean", "test-clean"])
    for name, path in manifests.items():
        rows = read_csv(path)[1]
        assert [row[0] for row in rows] == ["61-70968-0000", "84-121123-0000", "84-121123-0001"], name
        assert [row[4] for row in rows] == ["HE BEGAN", "HELLO WORLD", "GO ON"], name


def test_mini_librispeech_through_linked_speakers(tmp_path):
    """The shared mini LibriSpeech linked speaker by speaker (how a user
    assembles a subset) reads like the original tree."""
    if not SHARED_MINI.is_dir():
        pytest.skip(f"mini LibriSpeech not available: {SHARED_MINI} is missing")
    split = tmp_path / "mini" / "dev-clean-2"
    split.mkdir(parents=True)
    speakers = sorted(p.name for p in (SHARED_MINI / "dev-clean-2").iterdir() if p.is_dir())[:2]
    for speaker in speakers:
        (split / speaker).symlink_to(SHARED_MINI / "dev-clean-2" / speaker)
    rows = read_csv(prep.prepare_librispeech(tmp_path / "mini", tmp_path / "save", ["dev-clean-2"])["dev-clean-2"])[1]
    expected = sum(1 for s in speakers for _ in (SHARED_MINI / "dev-clean-2" / s).rglob("*.opus"))
    assert len(rows) == expected > 0
    assert {row[3] for row in rows} == set(speakers)


def _archive(folder: Path, name: str, tree: Path, arcname: str) -> Path:
    import tarfile

    folder.mkdir(parents=True, exist_ok=True)
    with tarfile.open(folder / f"{name}.tar.gz", "w:gz") as tar:
        tar.add(tree, arcname=arcname)
    return folder


def test_download_step_fetches_missing_splits_only(tmp_path):
    """The download step (SpeechBrain's download_file; here from a local
    mirror, so no network) unpacks OpenSLR's LibriSpeech/<split>/ archive into
    the data folder, prepares from it, and fetches nothing the second time."""
    tree = tmp_path / "build" / "dev-clean-2"
    write_chapter(tree, "84", "121123", {"0000": "HELLO WORLD"})
    mirror = _archive(tmp_path / "mirror", "dev-clean-2", tree, "LibriSpeech/dev-clean-2")
    root = tmp_path / "data" / "LibriSpeech"
    assert download.download_librispeech(root, ["dev-clean-2"], str(mirror)) == ["dev-clean-2"]
    assert sorted(p.name for p in root.iterdir()) == ["dev-clean-2"]  # no archive or staging left
    (mirror / "dev-clean-2.tar.gz").unlink()  # a second fetch would fail
    outputs = {"valid": str(tmp_path / "valid.csv")}
    prep.prepare_split_groups(root, tmp_path / "save", {"valid": ["dev-clean-2"]}, outputs, download_url=str(mirror))
    assert [row[0] for row in read_csv(outputs["valid"])[1]] == ["84-121123-0000"]


def test_download_refuses_archives_that_escape(tmp_path):
    """An archive whose members point outside the data folder is refused
    and leaves no split behind."""
    import tarfile

    evil = tmp_path / "mirror"
    evil.mkdir()
    payload = tmp_path / "payload.txt"
    payload.write_text("x")
    with tarfile.open(evil / "dev-clean-2.tar.gz", "w:gz") as tar:
        tar.add(payload, arcname="../../escaped.txt")
    root = tmp_path / "data" / "LibriSpeech"
    with pytest.raises(Exception, match="outside|escaped"):
        download.download_librispeech(root, ["dev-clean-2"], str(evil))
    assert not (root / "dev-clean-2").exists()
    assert not any(tmp_path.rglob("escaped.txt"))


def test_download_of_an_archive_without_the_split(tmp_path):
    tree = tmp_path / "build" / "other"
    write_chapter(tree, "84", "121123", {"0000": "HELLO"})
    mirror = _archive(tmp_path / "mirror", "dev-clean-2", tree, "LibriSpeech/other")
    with pytest.raises(ValueError, match="holds no dev-clean-2/"):
        download.download_librispeech(tmp_path / "data", ["dev-clean-2"], str(mirror))


def _eval_manifest(tmp_path):
    """An evaluation manifest (relative wav paths, extra columns) of 3 rows."""
    folder = tmp_path / "eval"
    for name in ("61-70968-0000", "61-70968-0001", "121-121726-0000"):
        write_audio(folder / "audio" / f"{name}.flac")
    write_audio(folder / "audio" / "LJ001-0001.wav")
    (folder / "manifest.csv").write_text(
        "ID,wav,wrd,spk_id,corpus\n"
        "61-70968-0000,audio/61-70968-0000.flac,HE BEGAN,61,LibriSpeech\n"
        "61-70968-0001,audio/61-70968-0001.flac,GIVE NOT SO EARNEST A MIND,61,LibriSpeech\n"
        "121-121726-0000,audio/121-121726-0000.flac,ALSO A POPULAR CONTRIVANCE,121,LibriSpeech\n"
        "LJ001-0001,audio/LJ001-0001.wav,PRINTING,LJ,LJSpeech\n"
    )
    return folder / "manifest.csv"


def test_link_split_reads_back_as_a_split(tmp_path):
    """The selected rows of a manifest become a LibriSpeech split of links:
    the preparation lists exactly them, with their words and speakers."""
    manifest = _eval_manifest(tmp_path)
    root = tmp_path / "LibriSpeech"
    split = prep.link_split(manifest, root, "test-46", select={"corpus": ["LibriSpeech"]}, exclude={"spk_id": ["121"]})
    assert split == root / "test-46"
    assert all(p.is_symlink() for p in split.rglob("*.flac"))
    _, rows = read_csv(prep.prepare_librispeech(root, tmp_path / "save", ["test-46"])["test-46"])
    assert [(r[0], r[3], r[4]) for r in rows] == [
        ("61-70968-0000", "61", "HE BEGAN"),
        ("61-70968-0001", "61", "GIVE NOT SO EARNEST A MIND"),
    ]
    with pytest.raises(FileExistsError, match="test-46 exists"):
        prep.link_split(manifest, root, "test-46")  # nothing overwritten
    with pytest.raises(ValueError, match="no column 'gender'"):
        prep.link_split(manifest, root, "other", select={"gender": ["f"]})
    with pytest.raises(ValueError, match="LJ001-0001.*not LibriSpeech's"):
        prep.link_split(manifest, root, "other")  # an LJSpeech ID has no speaker-chapter
    assert not (root / "other").exists() and [p.name for p in root.iterdir()] == ["test-46"]  # no staging left


def test_link_split_command_line(tmp_path, capsys):
    manifest = _eval_manifest(tmp_path)
    root, save = tmp_path / "LibriSpeech", tmp_path / "save"
    argv = [str(root), str(save), "--splits", "t", "--link-from", str(manifest), "--select", "corpus=LibriSpeech"]
    assert script.main(argv) == 0
    _, rows = read_csv(save / "t.csv")
    assert len(rows) == 3 and "t.csv" in capsys.readouterr().out
    for bad, message in (
        (argv, "exists"),
        ([*argv[:3], "t", "u", *argv[4:]], "only --splits"),
        ([str(root), str(save), "--splits", "v", "--select", "corpus=x"], "go with --link-from"),
        ([str(root), str(save), "--splits", "w", "--link-from", str(manifest), "--exclude", "corpus"], "COLUMN=VALUE"),
    ):
        with pytest.raises(SystemExit):
            script.main(bad)
        assert message in capsys.readouterr().err
