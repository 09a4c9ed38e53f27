"""The model shipped in the package (jepa_mini.yaml trained on mini
LibriSpeech): it loads in one call, keeps the reference token layout, round-
trips real speech with its length kept, and the command line uses it by
default."""

import json

import pytest
import soundfile
import torch
from conftest import SHARED_SPEECH

from jepa_tokenizer.apps.cli import main
from jepa_tokenizer.data.audio import load_audio
from jepa_tokenizer.pretrained.inference import DEFAULT_MODEL, JEPATokenizer

#: the largest the shipped folder may be (the issue: tens of MB at most)
MAX_SHIPPED_MIB = 40


@pytest.fixture(scope="module")
def shipped():
    return JEPATokenizer.from_folder()


def real_recording():
    """A LibriSpeech test-clean recording of ../shared/realspeech if present,
    else None (the test then says it skipped)."""
    path = SHARED_SPEECH / "audio" / "1089-134686-0001.flac"
    return path if path.is_file() else None


def test_the_shipped_model_keeps_the_reference_token_layout(shipped):
    codec = shipped.codec
    assert codec.frame_rate == 2.5 and codec.tokens_per_frame == 19
    assert codec.tokens_per_second == 47.5 and codec.bitrate == 640
    assert codec.sample_rate == 16000
    size = sum(p.stat().st_size for p in DEFAULT_MODEL.iterdir()) / 2**20
    assert size < MAX_SHIPPED_MIB
    info = json.loads((DEFAULT_MODEL / "training.json").read_text())
    # a token packs 7 FSQ digits: one digit at a rounding boundary in float16 changes it
    assert info["weights"] == "float16" and info["tokens_equal_to_float32_model"] > 0.98
    assert info["stages"]["codec"]["steps"] > 0 and info["commands"]
    row = info["evaluation"]["rows"][0]  # the compare command's row: the model card's numbers come from here
    assert info["evaluation"]["settings"]["utterances"] > 0 and 0 < row["stoi"] <= 1
    assert 0 <= row["wer"]["Whisper base"] and 0 <= row["cer"]["Whisper base"]


def test_the_shipped_model_hears_the_input(shipped):
    """Different utterances give different tokens and different decoded
    spectra (the first shipped model gave every input the same tokens)."""
    paths = [SHARED_SPEECH / "audio" / f"1089-134686-000{i}.flac" for i in (1, 2)]
    if not all(p.is_file() for p in paths):
        pytest.skip(f"real speech not available: {paths[0].parent} lacks the test-clean recordings")
    seconds = 3 * shipped.sample_rate
    wavs = [load_audio(p, shipped.sample_rate).wav[:seconds] for p in paths]
    with torch.no_grad():
        tokens = [shipped.encode_batch(w.unsqueeze(0)) for w in wavs]
        decoded = [shipped.decode_batch(t, num_samples=seconds)[0] for t in tokens]
    assert (tokens[0] != tokens[1]).float().mean() > 0.5
    spectra = [torch.stft(d, 1024, window=torch.hann_window(1024), return_complex=True).abs() for d in decoded]
    targets = [torch.stft(w, 1024, window=torch.hann_window(1024), return_complex=True).abs() for w in wavs]
    own = sum(float((torch.log1p(s) - torch.log1p(t)).abs().mean()) for s, t in zip(spectra, targets))
    swapped = sum(float((torch.log1p(s) - torch.log1p(t)).abs().mean()) for s, t in zip(spectra, reversed(targets)))
    assert own < swapped


def test_the_shipped_model_round_trips_a_real_recording(shipped, spoken_wav):
    path = real_recording()
    if path is None:
        print(f"../shared/realspeech is missing: using a spoken sentence instead ({spoken_wav})")
        path = spoken_wav
    wav = load_audio(path, shipped.sample_rate).wav
    tokens = shipped.encode_batch(wav.unsqueeze(0))
    assert tokens.shape == (1, -(-wav.numel() // 6400), 19)
    assert int(tokens.min()) >= 0 and int(tokens.max()) < shipped.codec.vocab_size
    recon = shipped.decode_batch(tokens)[0, : wav.numel()]
    assert recon.shape == wav.shape and torch.isfinite(recon).all()
    level = float(recon.std()) / float(wav.std())
    assert 0.02 < level < 10  # sound at a sane level, not silence or noise blown up
    again = shipped.encode_batch(wav.unsqueeze(0))
    assert again.equal(tokens)  # deterministic


def test_the_command_line_uses_the_shipped_model_by_default(spoken_wav, tmp_path):
    main(["encode", str(spoken_wav), str(tmp_path / "s.jtok")])
    main(["decode", str(tmp_path / "s.jtok"), str(tmp_path / "s.wav")])
    info, original = soundfile.info(str(tmp_path / "s.wav")), soundfile.info(str(spoken_wav))
    assert info.samplerate == 16000
    assert info.frames == -(-original.frames * 16000 // original.samplerate)


#: what a training command may say besides its YAML: where data and outputs live, and how it runs
PLACES = {
    "--data_folder",
    "--output_folder",
    "--features_folder",
    "--teacher_folder",
    "--init_from",
    "--device",
    "--noprogressbar",
}


def test_the_shipped_models_yaml_alone_builds_it(shipped, tmp_path):
    """The YAML its training command names, with nothing else on the command
    line but places, builds the modules of the shipped folder."""
    import re
    import shlex

    from hyperpyyaml import load_hyperpyyaml

    from jepa_tokenizer.nn.arguments import constructor_yaml

    info = json.loads((DEFAULT_MODEL / "training.json").read_text())
    yamls = set()
    for command in info["commands"]:  # a run continued from an earlier one (init_from) has one per run
        words = shlex.split(command.split(" (")[0])
        yaml_path = next(w for w in words if re.fullmatch(r"recipes/\S+\.yaml", w))
        options = {w for w in words if w.startswith("--")}
        allowed = PLACES | ({"--optimizer_step_limit"} if "--init_from" in options else set())  # how far it went on
        assert options <= allowed, f"the command overrides {sorted(options - allowed)}: put them in {yaml_path}"
        yamls.add(yaml_path)
    assert len(yamls) == 1, f"one YAML trains the shipped model, not {sorted(yamls)}"
    root = DEFAULT_MODEL.parents[3]
    with open(root / yaml_path, encoding="utf-8") as stream:
        hparams = load_hyperpyyaml(stream, {"data_folder": str(tmp_path), "output_folder": str(tmp_path)})
    assert constructor_yaml("codec", hparams["codec"]) == constructor_yaml("codec", shipped.codec)
