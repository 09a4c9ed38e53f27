"""The quickstart end to end on a one-minute budget, its resumption, and the
time budget of the recipes it runs."""

import csv
import json
import math
import re

import pytest
import soundfile

from jepa_tokenizer.quickstart import main as quickstart
from jepa_tokenizer.training import recipe_argv

from conftest import HPARAMS, SHARED_SPEECH, embedded_recipe_args, load_recipe

SMALL = ["--eval_max_utterances", "2", "--num_spectrograms", "1", "--codec_share", "0.2", "--control_share", "0.3",
         "--asr_jepa_share", "0.2", "--asr_control_share", "0.2"]
STAGES = ("pretrain", "codec", "control", "asr_jepa", "asr_control")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One quickstart run (1 minute of training) on the embedded corpus, plus
    two utterances of real speech when ../shared/realspeech is present."""
    output = tmp_path_factory.mktemp("quickstart")
    argv = ["--minutes", "1.5", "--output", str(output), "--device", "cpu", *SMALL]
    manifest = SHARED_SPEECH / "manifest.csv"
    if manifest.is_file():
        argv += ["--eval-manifest", str(manifest)]
    report = quickstart(argv)
    return output, report, json.loads((output / "quickstart_state.json").read_text())


def test_every_stage_trained_and_the_control_matches_the_step_count(run):
    _, _, state = run
    for stage in STAGES:
        assert state[stage]["done"] and state[stage]["steps"] > 0, stage
        # each stage stops on its share of the budget (plus at most the step in flight and validation)
        assert state[stage]["minutes"] < 1.0, stage
    # the control stops at the codec's step count (its larger time share is only a cap)
    assert state["control"]["steps"] == state["codec"]["steps"]
    assert state["asr_control"]["steps"] <= state["asr_jepa"]["steps"]
    for stage in ("asr_jepa", "asr_control"):
        assert math.isfinite(state[stage]["test"]["test"]["WER"]) and state[stage]["test"]["test"]["CER"] >= 0


def test_report_numbers_pictures_and_wavs_exist(run):
    output, report, state = run
    text = report.read_text()
    assert report == output / "report.md"
    for picture in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (output / picture).stat().st_size > 1000, picture
    assert "curves_pretrain.png" in text and "spectrograms.png" in text and "daam_gates.png" in text
    assert "## Downstream ASR on the tokens" in text and "| control (untrained encoder) | test |" in text
    rows = state["evaluation"]["test voices"]["rows"]
    assert set(rows) == {"original", "jepa", "control"}
    for system in ("jepa", "control"):
        for key in ("stoi", "pesq_wb", "mel_distance", "wer"):
            assert math.isfinite(rows[system][key]), (system, key)
    assert 0 <= rows["original"]["wer"] < 50  # pocketsphinx understands the flite test voices
    rows_md = [line for line in text.splitlines() if line.startswith("| JEPA codec (Stage 1 + 2) | 7.5 |")]
    assert rows_md and "| 7.5 | 80 | 16384 |" in rows_md[0]
    wavs = sorted((output / "eval" / "test_voices" / "wavs").glob("*.wav"))
    assert len(wavs) == 2 * 3  # two utterances x (original, codec, control)
    for wav in wavs:
        info = soundfile.info(str(wav))
        assert info.samplerate == 16000 and info.frames > 16000
    with open(output / "eval" / "test_voices" / "utterances_jepa.csv", newline="") as stream:
        per_utt = list(csv.DictReader(stream))
    assert len(per_utt) == 2 and all(row["reference"] for row in per_utt)
    assert (output / "model" / "codec.ckpt").is_file() and (output / "control" / "model" / "codec.ckpt").is_file()


def test_eval_manifest_of_real_speech(run):
    if not (SHARED_SPEECH / "manifest.csv").is_file():
        pytest.skip(f"real speech not available: {SHARED_SPEECH / 'manifest.csv'} is missing")
    output, report, state = run
    rows = state["evaluation"]["eval manifest"]["rows"]
    assert math.isfinite(rows["jepa"]["stoi"]) and math.isfinite(rows["original"]["wer"])
    assert "## Evaluation: eval manifest" in report.read_text()
    assert "stock LM" in state["evaluation"]["eval manifest"]["asr"]


def test_rerun_resumes_without_training_again(run, capsys):
    output, _, state = run
    quickstart(["--minutes", "1.5", "--output", str(output), "--device", "cpu", *SMALL])
    printed = capsys.readouterr().out
    assert printed.count("done before") == 5
    again = json.loads((output / "quickstart_state.json").read_text())
    for stage in STAGES:
        assert again[stage] == state[stage]


def test_recipe_resumed_with_its_budget_spent_does_not_train(tmp_path):
    args = embedded_recipe_args(
        "pretrain_jepa.yaml", tmp_path, "--batch_size", "8", "--max_crop_seconds", "2.0",
        "--max_train_minutes", "0.05",
    )
    recipe = load_recipe("pretrain_jepa")
    first = recipe.main(args)
    assert 0 < first.optimizer_step < 1000
    assert first.hparams.clock.seconds >= 3.0
    second = recipe.main(args)
    assert second.optimizer_step == first.optimizer_step
    # the first run's time came back from its last checkpoint, saved after the budget ran out
    assert second.hparams.clock.spent_before >= 3.0


def test_recipe_argv_writes_yaml_values_and_run_options():
    argv = recipe_argv(str(HPARAMS / "train_codec.yaml"),
                       {"train_splits": ["a b"], "noprogressbar": False, "optimizer_step_limit": 3,
                        "progress_label": "[1/4] x: y"})
    assert argv[1:] == ["--train_splits", '["a b"]', "--optimizer_step_limit", "3",
                        "--progress_label", '"[1/4] x: y"']


def test_unknown_asr_is_a_clear_error(tmp_path):
    from jepa_tokenizer.quickstart import Quickstart

    config = {"output_folder": str(tmp_path), "data_folder": str(tmp_path), "asr": "whisperx",
              "whisper_source": "x", "device": "cpu"}
    with pytest.raises(ValueError, match="pocketsphinx or whisper"):
        Quickstart(config)._asr(False)
