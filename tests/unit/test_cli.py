"""Token files and the jepa-tokenizer command line, end to end."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile
import torch

from jepa_tokenizer.apps.cli import main
from jepa_tokenizer.data.token_file import HEADER_FIELDS, MAGIC, load_tokens, save_tokens
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
    main(["decode", str(tmp_path / "s.jtok"), str(tmp_path / "s.wav"), "--model", model])
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
    for bad in ("-5", "nan"):
        with pytest.raises(SystemExit, match="--chunk-seconds must be >= 0 .0: one piece."):
            main(["encode", str(wav), str(tmp_path / "a.jtok"), "--model", str(models[0]), "--chunk-seconds", bad])


def test_one_bad_file_does_not_stop_a_folder(models, spoken_wav, tmp_path):
    folder = tmp_path / "in"
    folder.mkdir()
    (folder / "good.wav").write_bytes(spoken_wav.read_bytes())
    (folder / "broken.wav").write_bytes(b"RIFF not really a wav")
    with pytest.raises(SystemExit, match="1 of 2 files failed:\n  .*broken.wav"):
        main(["encode", str(folder), str(tmp_path / "out"), "--model", str(models[0])])
    assert (tmp_path / "out" / "good.jtok").is_file() and not (tmp_path / "out" / "broken.jtok").exists()


def test_reruns_keep_finished_outputs_unless_overwrite(models, spoken_wav, tmp_path, capsys):
    """Every output is written atomically, so an existing one is complete: a
    rerun skips it (and only redoes what is missing); --overwrite redoes all."""
    folder = tmp_path / "in"
    for name in ("a", "b"):
        (folder / f"{name}.wav").parent.mkdir(exist_ok=True)
        (folder / f"{name}.wav").write_bytes(spoken_wav.read_bytes())
    out = tmp_path / "out"
    main(["encode", str(folder), str(out), "--model", str(models[0])])
    stamp = (out / "a.jtok").stat().st_mtime_ns
    first = load_tokens(out / "a.jtok").header["fingerprint"]
    (out / "b.jtok").unlink()
    capsys.readouterr()
    main(["encode", str(folder), str(out), "--model", str(models[0])])
    assert "1 of 2 outputs exist, kept (--overwrite to redo)" in capsys.readouterr().err
    assert (out / "a.jtok").stat().st_mtime_ns == stamp and (out / "b.jtok").is_file()
    with pytest.raises(SystemExit, match="2 existing output.s. were not made by this model"):
        main(["encode", str(folder), str(out), "--model", str(models[1])])
    main(["encode", str(folder), str(out), "--model", str(models[1]), "--overwrite"])
    assert load_tokens(out / "a.jtok").header["fingerprint"] != first
    wavs = tmp_path / "wavs"
    main(["decode", str(out), str(wavs), "--model", str(models[1])])
    main(["decode", str(out), str(wavs), "--model", str(models[1])])
    assert "2 of 2 outputs exist" in capsys.readouterr().err
    assert sorted(p.name for p in wavs.iterdir()) == ["a.wav", "b.wav"]  # no partial files left


def test_failed_writes_leave_nothing_at_the_output(models, spoken_wav, tmp_path, monkeypatch):
    """A write that fails midway leaves neither a short output nor a partial file."""
    import jepa_tokenizer.data.token_file as token_file

    main(["encode", str(spoken_wav), str(tmp_path / "s.jtok"), "--model", str(models[0])])
    original = Path.write_bytes

    def disk_full(self, data):
        original(self, data[: len(data) // 2])
        raise OSError("No space left on device")

    monkeypatch.setattr(Path, "write_bytes", disk_full)
    with pytest.raises(SystemExit, match="No space left on device"):
        main(["encode", str(spoken_wav), str(tmp_path / "t.jtok"), "--model", str(models[0])])
    monkeypatch.undo()
    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == ".jtok" or "partial" in p.name) == ["s.jtok"]
    assert token_file.load_tokens(tmp_path / "s.jtok").tokens.numel() > 0
    with pytest.raises(SystemExit, match="names a folder|existing folder"):
        main(["encode", str(spoken_wav), str(tmp_path) + "/", "--model", str(models[0]), "--overwrite"])


def _rewrite_header(path, change):
    """A copy of a token file with its header JSON changed and a valid CRC."""
    import struct
    import zlib

    data = path.read_bytes()
    _, version, length = struct.unpack_from("<8sHI", data)
    header = json.loads(data[14 : 14 + length])
    blob = change(header)
    blob = blob if isinstance(blob, bytes) else json.dumps(blob).encode()
    body = struct.pack("<8sHI", MAGIC, version, len(blob)) + blob + data[14 + length : -4]
    return body + struct.pack("<I", zlib.crc32(body))


def _set(key, value):
    return lambda header: {**header, key: value}


def _drop(key):
    return lambda header: {k: v for k, v in header.items() if k != key}


CRAFTED_HEADERS = {
    "deep nesting": lambda header: b"[" * 100_000 + b"]" * 100_000,
    "a list": lambda header: [header],
    "a string": lambda header: "header",
    "not JSON": lambda header: b"{\xff\xfe",
    **{f"no {key}": _drop(key) for key in ("num_frames", "tokens_per_frame", "dtype", "num_samples", "fingerprint")},
    **{
        f"{key}={value!r}": _set(key, value)
        for key, values in {
            "num_frames": [-1, 1.5, "3", None, True, 10**12],
            "tokens_per_frame": [0, -3, 2.0, [], None],
            "dtype": ["float64", 3, None],
            "num_samples": [-5, 1e15, "many", None, 10**30],
            "sample_rate": [0, -16000, 16000.5, "16k", None],
            "frame_rate": [0, -2.5, float("inf"), "2.5"],
            "radices": [[1, 4], "4", [4.0], None],
            "group_size": [0, "7"],
            "fingerprint": [None, 7, ["x"]],
            "model_source": [7, {"a": 1}],
        }.items()
        for value in values
    },
}


@pytest.fixture(scope="module")
def token_file(models, spoken_wav, tmp_path_factory):
    path = tmp_path_factory.mktemp("tokens") / "good.jtok"
    main(["encode", str(spoken_wav), str(path), "--model", str(models[0])])
    return path


@pytest.mark.parametrize("name", sorted(CRAFTED_HEADERS))
def test_crafted_headers_are_one_line_errors(models, token_file, tmp_path, name):
    """Headers with a valid checksum but wrong types, ranges or structure
    (found by a red-team run: TypeError, KeyError, RecursionError,
    ZeroDivisionError) end every command with a one-line error or decode
    correctly, never with a traceback."""
    crafted = tmp_path / "crafted.jtok"
    crafted.write_bytes(_rewrite_header(token_file, CRAFTED_HEADERS[name]))
    for argv in (
        ["info", str(crafted)],
        ["decode", str(crafted), str(tmp_path / "out.wav"), "--model", str(models[0])],
    ):
        try:
            main(argv)
        except SystemExit as stop:
            message = str(stop.code)
            assert message.startswith("error: ") and "\n" not in message and len(message) < 600, (argv[0], message)
        else:  # accepted: a field the reader does not need (e.g. no fingerprint for info)
            assert argv[0] == "info" or (tmp_path / "out.wav").is_file(), argv[0]


def test_commands_leave_no_temporary_folders_and_report_bad_paths(models, spoken_wav, tmp_path):
    """No call leaves folders in the temporary directory; a folder or a
    missing file given to info, and a folder as an output, are one-line errors."""
    import tempfile

    before = set(Path(tempfile.gettempdir()).iterdir())
    main(["encode", str(spoken_wav), str(tmp_path / "s.jtok"), "--model", str(models[0])])
    main(["decode", str(tmp_path / "s.jtok"), str(tmp_path / "s.wav"), "--model", str(models[0])])
    assert {p for p in set(Path(tempfile.gettempdir()).iterdir()) - before if "jepa" in p.name} == set()
    for target, message in ((tmp_path, "is not a file"), (tmp_path / "missing.jtok", "does not exist")):
        with pytest.raises(SystemExit, match=f"^error: .*{message}"):
            main(["info", str(target)])
    (tmp_path / "taken").mkdir()
    with pytest.raises(SystemExit, match="^error: .*existing folder"):
        main(["decode", str(tmp_path / "s.jtok"), str(tmp_path / "taken"), "--model", str(models[0])])


def test_fuzzed_headers_raise_value_error_or_load(token_file, tmp_path):
    """Random header values (seeded) with valid checksums: the reader either
    loads the file or raises ValueError (nothing else), and writes nothing."""
    import random

    rng = random.Random(0)
    values = [None, True, -1, 0, 1, 7, 2**31, 2**70, -0.5, 2.5, float("nan"), "", "x" * 200, [], [4, 4], {}, {"a": []}]
    keys = list(HEADER_FIELDS) + ["conversion", "extra"]
    before = sorted(tmp_path.iterdir())
    outcomes = {"loaded": 0, "refused": 0}
    for trial in range(300):
        changes = {rng.choice(keys): rng.choice(values) for _ in range(rng.randint(1, 3))}
        crafted = tmp_path / "fuzz.jtok"
        crafted.write_bytes(_rewrite_header(token_file, lambda header: {**header, **changes}))
        try:
            load_tokens(crafted)
            outcomes["loaded"] += 1
        except ValueError as err:
            assert type(err) is ValueError and "\n" not in str(err), changes
            outcomes["refused"] += 1
        crafted.unlink()
    assert sorted(tmp_path.iterdir()) == before
    assert outcomes["loaded"] > 0 and outcomes["refused"] > 0, outcomes


def test_size_and_duration_limits_have_defaults_a_user_can_raise(models, spoken_wav, token_file, tmp_path):
    """A token file above max_bytes is refused before it is read; audio
    longer than --max-seconds is refused from its header (0 lifts it)."""
    with pytest.raises(ValueError, match="more than the limit of 100 .max_bytes."):
        load_tokens(token_file, max_bytes=100)
    assert load_tokens(token_file, max_bytes=10**6).tokens.numel() > 0
    with pytest.raises(SystemExit, match="^error: .*more than the limit of 0.5 s"):
        main(["encode", str(spoken_wav), str(tmp_path / "a.jtok"), "--model", str(models[0]), "--max-seconds", "0.5"])
    assert not (tmp_path / "a.jtok").exists()
    main(["encode", str(spoken_wav), str(tmp_path / "a.jtok"), "--model", str(models[0]), "--max-seconds", "0"])
    assert (tmp_path / "a.jtok").is_file()


def test_outputs_never_replace_the_originals_their_inputs_came_from(models, spoken_wav, tmp_path, capsys):
    """``encode f f`` then ``decode f f``: the decoded audio would replace the
    recording its token file was encoded from; refused with or without
    --overwrite (non-zero exit, nothing written), and so is the other way
    round (re-encoding a decoded file over the token file it came from)."""
    model = ["--model", str(models[0])]
    folder = tmp_path / "f"
    folder.mkdir()
    (folder / "a.wav").write_bytes(spoken_wav.read_bytes())
    original = (folder / "a.wav").read_bytes()
    main(["encode", str(folder), str(folder), *model])
    for extra in ([], ["--overwrite"]):
        with pytest.raises(
            SystemExit,
            match=r"^error: .*f/a.wav is the file .*f/a.jtok was made from; an original is never replaced, --overwrite or not: give another output path .nothing was written.$",
        ):
            main(["decode", str(folder), str(folder), *model, *extra])
        assert (folder / "a.wav").read_bytes() == original
    main(["decode", str(folder), str(tmp_path / "g"), *model])
    tokens = (folder / "a.jtok").read_bytes()
    with pytest.raises(SystemExit, match=r"f/a.jtok is the file .*g/a.wav was made from"):
        main(["encode", str(tmp_path / "g"), str(folder), *model, "--overwrite"])
    assert (folder / "a.jtok").read_bytes() == tokens
    main(["encode", str(tmp_path / "g"), str(tmp_path / "h"), *model])  # another folder: fine


def test_long_audio_is_encoded_in_chunks_by_default(models, spoken_wav, tmp_path, monkeypatch):
    """Above LONG_AUDIO_SECONDS a file is encoded in chunks of that length (the
    --chunk-seconds path, bounded memory); --chunk-seconds 0 keeps one piece.
    The limit is lowered to 1 s here, so that a short file is long."""
    import jepa_tokenizer.pretrained.inference as inference
    from jepa_tokenizer.models.codec import JEPACodec

    calls = []
    original = JEPACodec.encode_long

    def recorded(self, wav, chunk_frames, context_frames):
        calls.append((wav.numel(), chunk_frames, context_frames))
        return original(self, wav, chunk_frames, context_frames)

    monkeypatch.setattr(JEPACodec, "encode_long", recorded)
    monkeypatch.setattr(inference, "LONG_AUDIO_SECONDS", 1.0)
    model = ["--model", str(models[0])]
    main(["encode", str(spoken_wav), str(tmp_path / "default.jtok"), *model])
    samples = load_tokens(tmp_path / "default.jtok").header["num_samples"]
    assert samples > 2 * 16000 and calls == [(samples, round(1.0 * 2.5), round(4.0 * 2.5))]
    main(["encode", str(spoken_wav), str(tmp_path / "one.jtok"), *model, "--chunk-seconds", "0"])
    monkeypatch.setattr(inference, "LONG_AUDIO_SECONDS", 1000.0)
    main(["encode", str(spoken_wav), str(tmp_path / "short.jtok"), *model])
    assert len(calls) == 1  # one piece for both
    tokens = [load_tokens(tmp_path / f"{name}.jtok").tokens for name in ("default", "one", "short")]
    assert torch.equal(tokens[1], tokens[2]) and tokens[0].shape == tokens[1].shape


def test_an_interrupted_decode_ends_in_one_line_and_leaves_no_partial_file(models, token_file, tmp_path, monkeypatch):
    """Ctrl-C midway: one line, no traceback, no partial file; a partial file a
    killed run left is removed by the rerun."""
    from jepa_tokenizer.models.codec import JEPACodec

    original = JEPACodec.decode_chunks

    def interrupted(self, *args, **kwargs):
        yield next(original(self, *args, **kwargs))
        raise KeyboardInterrupt

    monkeypatch.setattr(JEPACodec, "decode_chunks", interrupted)
    out = tmp_path / "out"
    with pytest.raises(SystemExit, match="^error: interrupted; finished outputs are kept and a rerun does the rest$"):
        main(["decode", str(token_file), str(out / "a.wav"), "--model", str(models[0])])
    assert list(out.iterdir()) == []
    monkeypatch.undo()
    (out / ".a.wav.partial").write_bytes(b"left by a killed run")
    main(["decode", str(token_file), str(out / "a.wav"), "--model", str(models[0])])
    assert sorted(p.name for p in out.iterdir()) == ["a.wav"]
    (out / ".a.wav.partial").write_bytes(b"left by a killed run")
    main(["decode", str(token_file), str(out / "a.wav"), "--model", str(models[0])])  # kept, partial removed
    assert sorted(p.name for p in out.iterdir()) == ["a.wav"]


TERMINATED = """
import signal, sys
from jepa_tokenizer.apps.cli import main
from jepa_tokenizer.models.codec import JEPACodec

original = JEPACodec.decode_chunks

def stalled(self, *args, **kwargs):
    yield next(original(self, *args, **kwargs))
    print("stalled", flush=True)  # the partial file is open
    signal.pause()  # until a signal arrives

JEPACodec.decode_chunks = stalled
main(sys.argv[1:])
"""


def test_a_terminated_decode_ends_in_one_line_and_leaves_no_partial_file(models, token_file, tmp_path):
    """SIGTERM (kill, timeout) ends a decode as Ctrl-C does: one line, and the
    partial file it was writing removed."""
    import signal

    out = tmp_path / "out"
    argv = ["decode", str(token_file), str(out / "a.wav"), "--model", str(models[0])]
    process = subprocess.Popen(
        [sys.executable, "-c", TERMINATED, *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout.readline() == "stalled\n" and (out / ".a.wav.partial").is_file()
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=600)
    finally:
        process.kill()
    assert process.returncode == 1 and stderr.strip().splitlines()[-1] == (
        "error: interrupted; finished outputs are kept and a rerun does the rest"
    ), stderr
    assert "Traceback" not in stderr and list(out.iterdir()) == []


def test_header_text_is_escaped_wherever_it_is_printed(models, token_file, tmp_path, capsys):
    """A token file from another model names its folder in its header: the
    error quotes it (and the fingerprint) escaped, never as terminal codes."""
    crafted = tmp_path / "crafted.jtok"
    change = {"model_source": "\x1b[2J\x1b]0;owned\x07/evil\nnext line", "fingerprint": "\x1b[31mred"}
    crafted.write_bytes(_rewrite_header(token_file, lambda header: {**header, **change}))
    for argv in (["decode", str(crafted), str(tmp_path / "x.wav"), "--model", str(models[0])], ["info", str(crafted)]):
        try:
            main(argv)
        except SystemExit as stop:
            message = str(stop.code)
        else:
            message = ""
        assert "\x1b" not in message and "\x07" not in message and "\n" not in message, message
    assert "\x1b" not in capsys.readouterr().out  # info prints the header as JSON
    with pytest.raises(SystemExit) as stop:
        main(["decode", str(crafted), str(tmp_path / "x.wav"), "--model", str(models[0])])
    assert '(the file names "\\u001b[2J\\u001b]0;owned\\u0007/evil\\nnext line"' in str(stop.value.code)
    named = tmp_path / "\x1b[2Jname.jtok"
    named.write_bytes(b"not a token file")
    with pytest.raises(SystemExit) as stop:
        main(["info", str(named)])
    assert "\x1b" not in str(stop.value.code) and "\\x1b[2Jname.jtok" in str(stop.value.code)


def test_special_files_and_missing_suffixes_are_named(models, token_file, tmp_path):
    """/dev/zero and a FIFO are named as such (never opened, so nothing
    blocks); an output without a suffix is named before anything is decoded."""
    import os

    fifo = tmp_path / "pipe.jtok"
    os.mkfifo(fifo)
    model = ["--model", str(models[0])]
    cases = [
        (["decode", "/dev/zero", str(tmp_path / "z.wav"), *model], "/dev/zero is a character device, not a file"),
        (["decode", str(fifo), str(tmp_path / "p.wav"), *model], "pipe.jtok is a FIFO, not a file or folder"),
        (["info", str(fifo)], "pipe.jtok is a FIFO, not a token file"),
        (["encode", str(fifo), str(tmp_path / "p2.jtok"), *model], "pipe.jtok is a FIFO"),
        (["decode", str(token_file), str(tmp_path / "out"), *model], "output .*out has no suffix .* e.g. .*out.wav$"),
        (["decode", str(token_file), str(tmp_path / "out.xyz"), *model], "'xyz' is not an audio format; use .wav"),
        (["synthesize", "--model", str(tmp_path), "--text", "HI", "--output", str(tmp_path / "o")], "has no suffix"),
    ]
    for argv, message in cases:
        with pytest.raises(SystemExit, match=f"^error: .*{message}"):
            main(argv)
    from jepa_tokenizer.data.audio import load_audio

    with pytest.raises(ValueError, match="pipe.jtok is a FIFO, not an audio file"):
        load_audio(fifo, 16000)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.jtok"]
