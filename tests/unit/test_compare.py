"""The codec comparison: codecs behind one interface, the table and its
JSON from the command, rows kept on a rerun, codecs that cannot run skipped
with a line."""

import json
import shutil

import pytest
import torch

from jepa_tokenizer.apps import compare as compare_app
from jepa_tokenizer.evaluation import codecs
from jepa_tokenizer.evaluation.codecs import Codec2Codec, CodecUnavailable, OpusCodec, codec_from_spec, peer_codec
from jepa_tokenizer.evaluation.whisper import judge_available


def _needs(*tools):
    missing = [tool for tool in tools if shutil.which(tool) is None]
    if missing:
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install codec2 opus-tools)")


@pytest.mark.parametrize("codec, tools", [(Codec2Codec("700C"), ("c2enc", "c2dec")), (OpusCodec(6), ("opusenc",))])
def test_command_line_codecs_give_audio_of_the_input_length(codec, tools):
    _needs(*tools, "opusdec")
    torch.manual_seed(0)
    t = torch.arange(codec.sample_rate) / codec.sample_rate
    wav = 0.3 * torch.sin(2 * torch.pi * 220 * t) * (1 + torch.sin(2 * torch.pi * 3 * t))
    code = codec.encode(wav)
    assert isinstance(code, bytes) and 0 < len(code) * 8 < 3 * codec.bitrate  # one second of audio
    out = codec.decode(code, wav.numel())
    assert out.shape == wav.shape and out.abs().max() > 0.05


def test_a_missing_tool_or_peer_is_one_line_naming_it(monkeypatch, offline_hub, tmp_path):
    monkeypatch.setattr(codecs.shutil, "which", lambda tool: None)
    with pytest.raises(CodecUnavailable, match=r"^Codec2 1200 needs c2enc, c2dec: apt-get install codec2$"):
        codec_from_spec("codec2:1200").check()
    from huggingface_hub import constants

    monkeypatch.setattr(constants, "HF_HUB_CACHE", str(tmp_path))  # an empty cache
    with pytest.raises(CodecUnavailable, match=r"^Mimi skipped: its pretrained weights \(kyutai/mimi\)"):
        peer_codec("mimi")
    with pytest.raises(ValueError, match="Codec2 mode 'fast' is not a bit rate"):
        codec_from_spec("codec2:fast")


@pytest.fixture
def two_utterances(real_speech, tmp_path):
    """A manifest of the two shortest LibriSpeech recordings of ../shared/realspeech (absolute paths)."""
    rows = sorted((r for r in real_speech if r["corpus"] == "LibriSpeech"), key=lambda r: float(r["duration"]))[:2]
    manifest = tmp_path / "two.csv"
    lines = ["ID,wav,wrd,spk_id"] + [f"{r['ID']},{r['path']},{r['wrd']},{r['spk_id']}" for r in rows]
    manifest.write_text("\n".join(lines) + "\n")
    return manifest


def test_compare_writes_the_table_and_keeps_finished_rows(two_utterances, model_folder, tmp_path, monkeypatch):
    judge = "base" if judge_available() else "auto"  # pocketsphinx where the judge extra is missing
    argv = ["--manifest", str(two_utterances), "--output", str(tmp_path / "out"), "--judges", judge]
    argv += ["--codecs", "original", f"jepa:{model_folder}", "codec2:700C", "encodec"]
    monkeypatch.setattr(codecs, "_hub_snapshot", _no_snapshot)
    report = compare_app.main(argv)
    systems = [row["system"] for row in report["rows"]]
    if shutil.which("c2enc") is None:
        assert systems == ["original", model_folder.name]
        assert report["skipped"][0] == "Codec2 700C needs c2enc, c2dec: apt-get install codec2"
    else:
        assert systems == ["original", model_folder.name, "Codec2 700C"]
        codec2 = report["rows"][2]
        assert codec2["bitrate"] == 700 and codec2["tokens_per_second"] is None and 0 < codec2["stoi"] < 1
    assert report["skipped"][-1].startswith("EnCodec skipped: its pretrained weights (facebook/encodec_24khz)")
    original, ours = report["rows"][:2]
    label = next(iter(original["wer"]))
    assert label == ("Whisper base" if judge == "base" else "pocketsphinx")
    if judge == "base":
        assert original["wer"][label] < 25 and original["cer"][label] < 15
    assert ours["tokens_per_second"] > 0 and ours["encode_x_realtime"] > 0 and ours["decode_x_realtime"] > 0
    assert ours["wer"][label] > original["wer"][label]  # random weights
    saved = json.loads((tmp_path / "out" / "compare.json").read_text())
    assert saved["rows"] == report["rows"] and saved["settings"]["utterances"] == 2
    markdown = (tmp_path / "out" / "compare.md").read_text()
    assert f"| WER % ({label}) | CER % ({label}) |" in markdown and "| original | — | — |" in markdown
    hypotheses = json.loads((tmp_path / "out" / "utterances.json").read_text())
    assert len(hypotheses[f"jepa:{model_folder}"]) == 2
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["compare.json", "compare.md", "utterances.json"]

    def no_rerun(*args, **kwargs):
        raise AssertionError("a finished row was evaluated again")

    monkeypatch.setattr(compare_app, "run_codec", no_rerun)
    assert compare_app.main(argv)["rows"] == report["rows"]


def _no_snapshot(repo_id, name):
    raise CodecUnavailable(f"{name} skipped: its pretrained weights ({repo_id}) are not in the Hugging Face cache")


def test_the_markdown_names_each_judge_in_its_columns():
    report = {
        "settings": {
            "manifest": "m.csv",
            "utterances": 1,
            "judges": ["pocketsphinx en-us, stock LM"],
            "sample_rate": 8000,
        },
        "skipped": [],
        "rows": [
            {"system": "original", "bitrate": None, "tokens_per_second": None, "wer": {"pocketsphinx": 20.0}, "cer": {}}
        ],
    }
    markdown = compare_app.comparison_markdown(report)
    assert markdown.splitlines()[0] == "1 utterances of m.csv at 8 kHz; judged by pocketsphinx en-us, stock LM."
    assert (
        "| WER % (pocketsphinx) | CER % (pocketsphinx) |" in markdown and "| original | — | — | 20.0 | — |" in markdown
    )
