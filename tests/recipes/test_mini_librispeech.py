"""The main job on real speech (hparams/quickstart_mini_librispeech.yaml: the
CPU-scale model on mini LibriSpeech), two optimizer steps per stage on a
handful of utterances of ../shared/mini_librispeech linked into a LibriSpeech
tree (skipped, with a message, when that copy is absent)."""

import json
from pathlib import Path

import pytest
from conftest import SHARED_SPEECH, load_recipe

from jepa_tokenizer.pretrained.inference import JEPATokenizer

SHARED_MINI = Path(__file__).resolve().parents[3] / "shared" / "mini_librispeech"
#: utterances linked per split (the first chapter of its first speaker)
UTTERANCES = {"train-clean-5": 6, "dev-clean-2": 2}
STEPS = 2


def link_handful(root: Path) -> Path:
    """A LibriSpeech tree holding the first utterances (at least 2 s long) of
    one chapter per split, as symbolic links to the shared Opus files; the
    dev utterances use only characters of the training ones (the ASR stage's
    units come from the training transcripts)."""
    import soundfile

    seen = None
    for split, count in UTTERANCES.items():
        chapter = sorted((SHARED_MINI / split).glob("*/*"))[0]
        transcripts = dict(
            line.split(" ", 1) for line in next(chapter.glob("*.trans.txt")).read_text().splitlines() if line
        )
        chosen = [
            p
            for p in sorted(chapter.glob("*.opus"))
            if soundfile.info(str(p)).duration >= 2.0 and (seen is None or set(transcripts[p.stem]) <= seen)
        ][:count]
        assert len(chosen) == count, split
        if seen is None:
            seen = {c for p in chosen for c in transcripts[p.stem]}
        target = root / split / chapter.parent.name / chapter.name
        target.mkdir(parents=True)
        for path in chosen:
            (target / path.name).symlink_to(path)
        lines = [f"{p.stem} {transcripts[p.stem]}" for p in chosen]
        (target / f"{chapter.parent.name}-{chapter.name}.trans.txt").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    if not SHARED_MINI.is_dir():
        pytest.skip(f"mini LibriSpeech not available: {SHARED_MINI} is missing")
    data = link_handful(tmp_path_factory.mktemp("mini") / "LibriSpeech")
    output = tmp_path_factory.mktemp("main_job")
    argv = [
        "--config",
        "hparams/quickstart_mini_librispeech.yaml",
        "--data_folder",
        str(data),
        "--output",
        str(output),
        "--steps",
        str(STEPS),
        "--eval_max_utterances",
        "2",
        "--num_spectrograms",
        "1",
    ]
    manifest = SHARED_SPEECH / "manifest.csv"
    if manifest.is_file():
        argv += ["--eval-manifest", str(manifest)]
    report = load_recipe("quickstart").main(argv)
    return output, report, json.loads((output / "quickstart_state.json").read_text())


def test_every_stage_runs_on_mini_librispeech(run):
    output, report, state = run
    for stage in ("pretrain", "codec", "control", "asr_jepa", "asr_control"):
        assert state[stage]["steps"] == STEPS, stage
    tokenizer = JEPATokenizer.from_folder(output / "model")
    codec = tokenizer.codec
    assert (codec.frame_rate, codec.tokens_per_frame, codec.tokens_per_second, codec.bitrate) == (2.5, 19, 47.5, 640)
    assert "Stage 1" in report.read_text()


def test_the_evaluation_uses_real_test_speakers_only(run):
    _, _, state = run
    test = state["evaluation"]["test voices"]
    assert all(
        utt.startswith(tuple(p.name for p in (SHARED_MINI / "dev-clean-2").iterdir())) for utt in test["utterances"]
    )
    if "eval manifest" not in state["evaluation"]:
        pytest.skip(f"real speech not available: {SHARED_SPEECH / 'manifest.csv'} is missing")
    chosen = state["evaluation"]["eval manifest"]["utterances"]
    assert len(chosen) == 2 and not any(utt.startswith("2412-") for utt in chosen)
    assert all(utt[0].isdigit() for utt in chosen)  # LibriSpeech IDs, not LJSpeech or ARCTIC
    judge = state["evaluation"]["eval manifest"]["asr"]  # the Whisper judge, or pocketsphinx's stock LM without it
    assert "Whisper" in judge or "stock" in judge


def test_controls_runner_trains_evaluates_and_skips_finished_rows(tmp_path, capsys):
    """recipes/LibriSpeech/mini_controls.py on the handful: a Stage-1 row and
    the codec row built on it, two steps each; a second call skips both."""
    if not SHARED_MINI.is_dir():
        pytest.skip(f"mini LibriSpeech not available: {SHARED_MINI} is missing")
    data = link_handful(tmp_path / "LibriSpeech")
    argv = ["--data_folder", str(data), "--output", str(tmp_path / "controls"), "--steps", str(STEPS)]
    argv += ["--only", "codec_istft", "--eval_max_utterances", "2"]
    manifest = SHARED_SPEECH / "manifest.csv"
    if manifest.is_file():
        argv += ["--eval-manifest", str(manifest)]
    controls = load_recipe("mini_controls")
    report = controls.main(argv)
    state = json.loads((tmp_path / "controls" / "controls.json").read_text())
    assert state["jepa_daam_s1"]["steps"] == state["codec_istft"]["steps"] == STEPS
    stage1 = state["jepa_daam_s1"]["valid"]
    assert stage1["loss"] > 0 and 0 <= stage1["target_item_share"] <= 1
    # the main job's Stage 1 adds the variance term: the table shows the masked loss alone
    assert 0 < stage1["masked_loss"] < stage1["loss"]
    sets = state["codec_istft"]["evaluation"]
    assert "dev" in sets and 0 < sets["dev"]["stoi"] <= 1
    assert 0 < sets["embedded"]["stoi"] <= 1  # the embedded corpus's test voices too
    assert state["codec_istft"]["rates"] == {"frame_rate": 2.5, "bitrate": 640.0}
    text = report.read_text()
    assert "Stage 1, DAAM, seed 1986" in text and "inverse-STFT decoder" in text and "original recordings" in text
    assert f"{stage1['masked_loss']:.4f} | {stage1['target_item_share']:.3f}" in text
    capsys.readouterr()
    controls.main(argv)
    assert "done before (2 steps)" in capsys.readouterr().out
    # a set a finished row has no numbers for (added to the YAML later) is evaluated on a rerun
    state_file = tmp_path / "controls" / "controls.json"
    state = json.loads(state_file.read_text())
    del state["codec_istft"]["evaluation"]["embedded"]
    state_file.write_text(json.dumps(state))
    controls.main(argv)
    again = json.loads(state_file.read_text())["codec_istft"]["evaluation"]
    assert again["dev"] == sets["dev"] and again["embedded"]["stoi"] == pytest.approx(sets["embedded"]["stoi"])
    # a finished row ships like a quickstart run, its training record with it
    ship = load_recipe("ship_model")
    info = json.loads(
        (ship.ship(tmp_path / "controls" / "codec_istft", tmp_path / "shipped") / "training.json").read_text()
    )
    assert info["stages"]["codec"]["steps"] == STEPS and "inverse-STFT" in info["title"]
    assert len(info["commands"]) == 3 and "mini_controls.py" in info["commands"][0]  # one per call
    # float16 may move a digit at an FSQ rounding boundary: a few tokens of a test signal may differ
    assert info["evaluation"]["dev"] == sets["dev"] and info["tokens_equal_to_float32_model"] > 0.98
    with pytest.raises(FileNotFoundError, match="no finished row 'codec_hifigan'"):
        ship.ship(tmp_path / "controls" / "codec_hifigan", tmp_path / "other")
