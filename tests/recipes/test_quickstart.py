"""The quickstart end to end (a few steps per stage), its resumption, and the
time budget of the recipes it runs (with a fake clock)."""

import csv
import json
import math
import re
from types import SimpleNamespace

import pytest
import soundfile
from conftest import SHARED_SPEECH, FakeTimer, embedded_recipe_args, load_recipe, recipe_file, wer_file_summary

from jepa_tokenizer.evaluation.whisper import judge_available
from jepa_tokenizer.training.experiment import TrainingClock, recipe_argv, stop_if_out_of_time

QUICKSTART = load_recipe("quickstart")  # recipes/LibriSpeech/quickstart.py
quickstart = QUICKSTART.main

# every stage bounded by optimizer steps (--steps), never by the clock; the
# budget logic has unit tests with a fake clock below
STEPS = 8
SMALL = ["--steps", str(STEPS), "--eval_max_utterances", "2", "--num_spectrograms", "1"]
STAGES = ("pretrain", "codec", "control", "asr_jepa", "asr_control")


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    """One quickstart run (a few steps per stage) on the embedded corpus, plus
    two utterances of real speech when ../shared/realspeech is present."""
    output = tmp_path_factory.mktemp("quickstart")
    argv = ["--output", str(output), "--device", "cpu", *SMALL]
    manifest = SHARED_SPEECH / "manifest.csv"
    if manifest.is_file():
        argv += ["--eval-manifest", str(manifest)]
    report = quickstart(argv)
    return output, report, json.loads((output / "quickstart_state.json").read_text())


def test_every_stage_trained_its_steps_and_the_control_matches_the_step_count(run):
    output, _, state = run
    for stage in STAGES:
        assert state[stage]["done"], stage
    # each stage its steps; the control and the ASR on its tokens match their counterparts
    assert [state[stage]["steps"] for stage in STAGES] == [STEPS] * len(STAGES)
    with open(output / "eval" / "manifests" / "test.csv", newline="") as stream:
        words = sum(len(row["wrd"].split()) for row in csv.DictReader(stream))
    for stage in ("asr_jepa", "asr_control"):
        wer, scored = wer_file_summary(output / stage / "wer_test.txt")
        # every word of every test utterance was scored, and the state holds that WER
        assert scored == words and state[stage]["test"]["test"]["WER"] == pytest.approx(wer, abs=0.01)
        assert state[stage]["test"]["test"]["CER"] > 0  # 8 steps of training cannot be perfect


def test_report_numbers_pictures_and_wavs_exist(run):
    output, report, state = run
    text = report.read_text()
    assert report == output / "report.md"
    for picture in re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text):
        assert (output / picture).stat().st_size > 1000, picture
    assert "curves_pretrain.png" in text and "spectrograms.png" in text and "daam_gates.png" in text
    assert "## Downstream ASR on the tokens" in text and "| control (untrained encoder) | test |" in text
    # the report describes the ASR model that was trained (the YAML's, with the quickstart's overrides)
    assert "x16 temporal upsampling, 2-layer BiLSTM (128)" in text and "beam search (10)" in text
    rows = state["evaluation"]["test voices"]["rows"]
    assert set(rows) == {"original", "jepa", "control", "shipped"}  # the shipped model on the same utterances
    for system in ("jepa", "control", "shipped"):
        for key in ("stoi", "pesq_wb", "mel_distance", "wer"):
            assert math.isfinite(rows[system][key]), (system, key)
    assert 0 <= rows["original"]["wer"] < 50  # the judge (Whisper, or pocketsphinx on the vocabulary) understands them
    rows_md = [line for line in text.splitlines() if line.startswith("| JEPA codec (Stage 1 + 2) | 7.5 |")]
    assert rows_md and "| 7.5 | 80 | 16384 |" in rows_md[0]
    shipped_md = [line for line in text.splitlines() if line.startswith("| the shipped model")]
    assert shipped_md and "| 47.5 | 640 | 16384 |" in shipped_md[0]  # its own rates, not the tiny model's
    wavs = sorted((output / "eval" / "test_voices" / "wavs").glob("*.wav"))
    assert len(wavs) == 2 * 4  # two utterances x (original, codec, control, shipped)
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
    judge = state["evaluation"]["eval manifest"]["asr"]  # real speech: never the corpus vocabulary
    assert judge.startswith("Whisper base") if judge_available() else "stock LM" in judge


def test_rerun_resumes_without_training_again(run, capsys):
    output, _, state = run
    quickstart(["--output", str(output), "--device", "cpu", *SMALL])
    printed = capsys.readouterr().out
    assert printed.count("done before") == 5
    again = json.loads((output / "quickstart_state.json").read_text())
    for stage in STAGES:
        assert again[stage] == state[stage]


def test_recipe_resumed_with_its_budget_spent_does_not_train(tmp_path):
    """A run bounded by steps records its time in the checkpoint; resumed with
    a budget that this time exceeds, it does not train again."""
    recipe = load_recipe("pretrain_jepa")
    common = ["--batch_size", "8", "--max_crop_seconds", "2.0"]
    first = recipe.main(embedded_recipe_args("pretrain_jepa.yaml", tmp_path, *common, "--optimizer_step_limit", "3"))
    assert first.optimizer_step == 3
    (saved,) = tmp_path.glob("save/CKPT+*/clock.ckpt")
    spent = float(saved.read_text())
    assert spent > 0
    second = recipe.main(
        embedded_recipe_args(
            "pretrain_jepa.yaml",
            tmp_path,
            *common,
            "--optimizer_step_limit",
            "100",
            "--max_train_minutes",
            repr(spent / 60 / 2),
        )
    )
    assert second.optimizer_step == 3
    assert second.hparams.clock.spent_before == spent  # the first run's time came back from its checkpoint


def test_training_clock_budget_with_a_fake_clock(tmp_path):
    from speechbrain.utils.checkpoints import Checkpointer

    timer = FakeTimer()
    clock = TrainingClock(budget_minutes=1.0, timer=timer)
    assert clock.seconds == 0 and not clock.out_of_time()
    timer.now += 59.9
    assert not clock.out_of_time()
    timer.now += 0.1
    assert clock.seconds == pytest.approx(60.0) and clock.out_of_time()
    assert not TrainingClock(budget_minutes=None, timer=timer).out_of_time()  # no budget: never

    # a checkpoint carries the time spent into a resumed run
    clock = TrainingClock(budget_minutes=1.0, timer=timer)
    timer.now += 45.0
    Checkpointer(tmp_path, {"clock": clock}).save_checkpoint()
    timer.now += 1000.0  # time between the two runs does not count
    resumed = TrainingClock(budget_minutes=1.0, timer=timer)
    Checkpointer(tmp_path, {"clock": resumed}).recover_if_possible()
    assert resumed.spent_before == pytest.approx(45.0) and resumed.seconds == pytest.approx(45.0)
    timer.now += 14.0
    assert not resumed.out_of_time()
    timer.now += 1.0
    assert resumed.out_of_time()


def test_out_of_time_ends_fit_after_the_current_step():
    timer = FakeTimer()
    brain = SimpleNamespace(
        optimizer_step=7,
        optimizer_step_limit=None,
        hparams=SimpleNamespace(clock=TrainingClock(budget_minutes=0.5, timer=timer)),
    )
    stop_if_out_of_time(brain)
    assert brain.optimizer_step_limit is None
    timer.now += 30.0
    stop_if_out_of_time(brain)
    assert brain.optimizer_step_limit == 7


def test_quickstart_shares_its_budget_between_the_stages(tmp_path):
    Quickstart = QUICKSTART.Quickstart

    config = {
        "output_folder": str(tmp_path),
        "data_folder": str(tmp_path),
        "minutes": 20.0,
        "pretrain_share": 0.2,
        "codec_share": 0.3,
        "control_share": 0.3,
        "asr_jepa_share": 0.05,
        "asr_control_share": 0.05,
    }
    run = Quickstart(config)
    assert run.budget_minutes("codec") == pytest.approx(6.0)
    assert run.minutes_left("pretrain") == pytest.approx(20.0)  # every stage, plus the evaluation's rest
    run.state = {"pretrain": {"done": True}, "codec": {"done": True}}
    assert run.minutes_left("control") == pytest.approx(20.0 * (0.3 + 0.1 + 0.1))


def test_recipe_argv_writes_yaml_values_and_run_options():
    argv = recipe_argv(
        str(recipe_file("train_codec.yaml")),
        {"train_splits": ["a b"], "noprogressbar": False, "optimizer_step_limit": 3, "progress_label": "[1/4] x: y"},
    )
    assert argv[1:] == ["--train_splits", '["a b"]', "--optimizer_step_limit", "3", "--progress_label", '"[1/4] x: y"']


def test_unknown_asr_is_a_clear_error(tmp_path):
    Quickstart = QUICKSTART.Quickstart

    config = {
        "output_folder": str(tmp_path),
        "data_folder": str(tmp_path),
        "asr": "whisperx",
        "whisper_source": "x",
        "device": "cpu",
    }
    with pytest.raises(ValueError, match="pocketsphinx or whisper"):
        Quickstart(config)._asr(False)
