"""Token files and the jepa-tokenizer command line, end to end."""

import json
import subprocess
import sys

import pytest
import soundfile
import torch

from jepa_tokenizer.apps.cli import main
from jepa_tokenizer.data.token_file import MAGIC, load_tokens, save_tokens
from jepa_tokenizer.models.config import load_model_config
from jepa_tokenizer.pretrained.export import export_codec


@pytest.fixture(scope="module")
def models(tmp_path_factory):
    folders = []
    for seed in (0, 1):
        torch.manual_seed(seed)
        codec = load_model_config("jepa_tiny.yaml")["codec"].eval()
        folders.append(export_codec(codec, tmp_path_factory.mktemp(f"model{seed}")))
    return folders


def test_encode_info_decode_eval_on_a_spoken_file(models, spoken_wav, tmp_path, capsys):
    model = str(models[0])
    main(["encode", str(spoken_wav), str(tmp_path / "s.jtok"), "--model", model])
    assert "tokens" in capsys.readouterr().out
    main(["info", str(tmp_path / "s.jtok")])
    header = json.loads(capsys.readouterr().out)
    original = soundfile.info(str(spoken_wav))
    assert header["num_samples"] == -(-original.frames * 16000 // original.samplerate)  # resampled
    assert header["tokens_per_frame"] == 3 and header["sample_rate"] == 16000
    main(["decode", str(tmp_path / "s.jtok"), str(tmp_path / "s.wav")])  # model from the file
    assert soundfile.info(str(tmp_path / "s.wav")).frames == header["num_samples"]
    main(["eval", str(spoken_wav.parent), "--model", model, "--chunk-seconds", "1", "--context-seconds", "0"])
    out = capsys.readouterr().out
    assert "1 files" in out and "mel_distance" in out and "equal to whole-file tokens" in out


def test_eval_with_a_manifest_reports_wer(models, tmp_path, capsys):
    from jepa_tokenizer.data.embedded_corpus import corpus_path

    speaker = corpus_path() / "test" / "9014" / "1"
    lines = (speaker / "9014-1.trans.txt").read_text().splitlines()[:2]
    rows = ["ID,wav,wrd"] + [
        f"{ln.split(' ', 1)[0]},{speaker / (ln.split(' ', 1)[0] + '.flac')},{ln.split(' ', 1)[1]}" for ln in lines
    ]
    # the first utterance as Ogg Opus (how many corpora ship)
    first = rows[1].split(",")[1]
    speech, rate = soundfile.read(first, dtype="float32")
    soundfile.write(tmp_path / "first.opus", speech, rate, format="OGG", subtype="OPUS")
    rows[1] = rows[1].replace(first, str(tmp_path / "first.opus"))
    (tmp_path / "m.csv").write_text("\n".join(rows) + "\n")
    main(["eval", "--model", str(models[0]), "--manifest", str(tmp_path / "m.csv"), "--save-wavs", str(tmp_path / "w")])
    out = capsys.readouterr().out
    original_wer = float(out.split("WER (original):")[1].split()[0])
    codec_wer = float(out.split("wer:")[1].split()[0])
    assert original_wer < 50 <= codec_wer  # an untrained codec is not intelligible
    assert "stoi" in out and len(list((tmp_path / "w").glob("*_codec.wav"))) == 2
    with pytest.raises(SystemExit, match="not both"):
        main(["eval", str(tmp_path), "--model", str(models[0]), "--manifest", str(tmp_path / "m.csv")])


def test_folders_and_the_installed_command(models, tmp_path):
    audio = tmp_path / "audio" / "sub"
    audio.mkdir(parents=True)
    for i in range(2):
        soundfile.write(audio / f"a{i}.flac", 0.1 * torch.randn(8000 + 999 * i).numpy(), 16000)
    soundfile.write(audio / "b.opus", 0.1 * torch.randn(16000).numpy(), 16000, format="OGG", subtype="OPUS")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jepa_tokenizer.apps.cli",
            "encode",
            str(tmp_path / "audio"),
            str(tmp_path / "tokens"),
            "--model",
            str(models[0]),
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in (tmp_path / "tokens" / "sub").iterdir()) == ["a0.jtok", "a1.jtok", "b.jtok"]
    main(["decode", str(tmp_path / "tokens"), str(tmp_path / "wavs"), "--model", str(models[0])])
    assert soundfile.info(str(tmp_path / "wavs" / "sub" / "a1.wav")).frames == 8999
    opus = soundfile.info(str(audio / "b.opus"))
    assert opus.subtype == "OPUS" and soundfile.info(str(tmp_path / "wavs" / "sub" / "b.wav")).frames == opus.frames


def test_another_model_and_damaged_files_are_clear_errors(models, spoken_wav, tmp_path):
    path = tmp_path / "s.jtok"
    main(["encode", str(spoken_wav), str(path), "--model", str(models[0])])
    with pytest.raises(SystemExit, match="was made by model"):
        main(["decode", str(path), str(tmp_path / "x.wav"), "--model", str(models[1])])
    data = path.read_bytes()
    cases = {
        "truncated": data[:-7],
        "checksum": data[:-20] + bytes([data[-20] ^ 1]) + data[-19:],
        "magic": b"NOTATOK\0" + data[8:],
        "version": data[:8] + (9).to_bytes(2, "little") + data[10:],
    }
    for expected, damaged in cases.items():
        bad = tmp_path / f"{expected}.jtok"
        bad.write_bytes(damaged)
        with pytest.raises(SystemExit, match=expected):
            main(["info", str(bad)])
    assert data[:8] == MAGIC


def test_token_file_round_trip_and_wide_tokens(tmp_path):
    tokens = torch.tensor([[0, 70000], [5, 6]])
    save_tokens(tmp_path / "w.jtok", tokens, {"sample_rate": 16000, "num_samples": 9})
    loaded = load_tokens(tmp_path / "w.jtok")
    assert torch.equal(loaded.tokens, tokens) and loaded.header["dtype"] == "int32"
    with pytest.raises(ValueError, match="integer tokens"):
        save_tokens(tmp_path / "f.jtok", tokens.float(), {})


def test_outputs_never_replace_inputs_or_each_other(models, spoken_wav, tmp_path):
    wav = tmp_path / "a.wav"
    wav.write_bytes(spoken_wav.read_bytes())
    before = wav.read_bytes()
    with pytest.raises(SystemExit, match="is an input"):
        main(["encode", str(wav), str(wav), "--model", str(models[0])])
    assert wav.read_bytes() == before
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "a.wav").write_bytes(before)
    soundfile.write(folder / "a.flac", soundfile.read(wav)[0], soundfile.info(str(wav)).samplerate)
    with pytest.raises(SystemExit, match="would both write"):
        main(["encode", str(folder), str(tmp_path / "out"), "--model", str(models[0])])
    assert not (tmp_path / "out").exists()
    for bad in ("0", "-5"):
        with pytest.raises(SystemExit, match="--chunk-seconds must be > 0"):
            main(["encode", str(wav), str(tmp_path / "a.jtok"), "--model", str(models[0]), "--chunk-seconds", bad])


def test_one_bad_file_does_not_stop_a_folder(models, spoken_wav, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.wav").write_bytes(spoken_wav.read_bytes())
    (folder / "broken.wav").write_bytes(b"RIFF not really a wav")
    with pytest.raises(SystemExit, match="1 of 2 files failed:\n  .*broken.wav"):
        main(["encode", str(folder), str(tmp_path / "out"), "--model", str(models[0])])
    assert (tmp_path / "out" / "good.jtok").is_file() and not (tmp_path / "out" / "broken.jtok").exists()
