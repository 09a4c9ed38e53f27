"""The main job (demo) and the parameter summary run end to end."""

import soundfile

from jepa_tokenizer.apps.demo import run_demo
from jepa_tokenizer.apps.summary import summary_table


def test_demo_on_a_spoken_sentence(spoken_wav, tmp_path):
    result = run_demo("jepa_tiny.yaml", str(tmp_path), wav_path=str(spoken_wav))
    assert result["reconstruction_samples"] == result["num_samples"]
    assert result["tokens_shape"][2] == 3
    info = soundfile.info(str(tmp_path / "reconstruction.wav"))
    assert info.samplerate == 16000 and info.frames == result["num_samples"]
    lines = (tmp_path / "tokens.txt").read_text().splitlines()
    assert len(lines) == result["tokens_shape"][1]


def test_summary_table_has_a_row_per_config():
    table = summary_table(["jepa_tiny.yaml", "jepa_16k.yaml"])
    rows = table.splitlines()
    assert len(rows) == 4
    assert rows[3].startswith("| jepa_16k.yaml | 16000 | 2.5 | 19 | 47.5 | 16384 | 640 |")
