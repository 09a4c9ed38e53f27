"""Model folders from strangers: loading never runs code the folder chose, and
every problem is a one-line error naming the file."""

import os
import shutil
from pathlib import Path

import pytest
import torch

from jepa_tokenizer.apps.cli import main
from jepa_tokenizer.data.token_file import codec_header, save_tokens
from jepa_tokenizer.pretrained.inference import JEPATokenizer
from jepa_tokenizer.pretrained.safe_load import UnsafeModelFolder, load_codec

DATA = Path(__file__).parent / "data"


def crafted_folder(tmp_path, model_folder, yaml_text: str) -> Path:
    folder = tmp_path / "crafted"
    folder.mkdir()
    shutil.copy(model_folder / "codec.ckpt", folder / "codec.ckpt")
    (folder / "hyperparams.yaml").write_text(yaml_text)
    return folder


@pytest.mark.parametrize(
    "line, message",
    [
        ('codec: !apply:os.makedirs ["{marker}"]', "only !new: of this package's modules"),
        ('codec: !!python/object/apply:os.makedirs ["{marker}"]', "only !new: of this package's modules"),
        ('codec: !new:os.makedirs\n    name: "{marker}"', "not one of this package's modules"),
        ('codec: !name:os.makedirs\n    name: "{marker}"', "only !new: of this package's modules"),
        ('x: "{marker}"\ncodec: !ref <x> + "/y"', "only a reference to a top-level key"),
        ("codec: !include:/etc/passwd", "only !new: of this package's modules"),
    ],
)
def test_a_yaml_that_runs_code_is_refused_before_anything_runs(tmp_path, model_folder, line, message):
    marker = tmp_path / "ran"
    folder = crafted_folder(tmp_path, model_folder, line.format(marker=marker) + "\n")
    with pytest.raises(UnsafeModelFolder, match=message):
        load_codec(folder)
    assert not marker.exists()


def test_decode_without_model_never_opens_the_named_folder(tmp_path, model_folder, monkeypatch):
    """Without --model the shipped model decodes; the folder a token file
    names is not opened at all (not even safely), and a file made by another
    model is a one-line error naming that folder."""
    import jepa_tokenizer.pretrained.safe_load as safe_load

    opened = []
    original = safe_load.load_codec
    monkeypatch.setattr(safe_load, "load_codec", lambda folder: opened.append(Path(folder)) or original(folder))
    marker = tmp_path / "ran"
    folder = crafted_folder(tmp_path, model_folder, f'codec: !apply:os.makedirs ["{marker}"]\n')
    tokenizer = JEPATokenizer.from_folder(model_folder)
    header = codec_header(tokenizer.codec, 6400, str(folder))  # the file names the crafted folder
    header["fingerprint"] = tokenizer.fingerprint
    save_tokens(tmp_path / "x.jtok", torch.zeros(1, tokenizer.tokens_per_frame, dtype=torch.long), header)
    opened.clear()
    with pytest.raises(
        SystemExit, match="error: .*(was made by model .*the file names .*crafted|shipped model is missing)"
    ):
        main(["decode", str(tmp_path / "x.jtok"), str(tmp_path / "x.wav")])
    assert not marker.exists() and not (tmp_path / "x.wav").exists()
    assert folder not in opened and all(p.resolve() != folder.resolve() for p in opened)


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return os.makedirs, (str(self.marker),)


def test_weights_are_plain_tensors_whatever_the_environment_says(tmp_path, model_folder, monkeypatch):
    marker = tmp_path / "ran"
    folder = crafted_folder(tmp_path, model_folder, (model_folder / "hyperparams.yaml").read_text())
    torch.save({"payload": _Payload(marker)}, folder / "codec.ckpt")
    monkeypatch.setenv("TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD", "1")
    with pytest.raises(UnsafeModelFolder, match="codec.ckpt: not a weights file"):
        load_codec(folder)
    assert not marker.exists()


def test_weights_that_do_not_fit_are_errors_not_random_weights(tmp_path, model_folder):
    folder = crafted_folder(tmp_path, model_folder, (model_folder / "hyperparams.yaml").read_text())
    state = torch.load(model_folder / "codec.ckpt", weights_only=True)
    cases = {
        "empty": ({}, "weights missing"),
        "no decoder": ({k: v for k, v in state.items() if not k.startswith("decoder.")}, "weights missing"),
        "extra": ({**state, "extra.weight": torch.zeros(1)}, "1 unexpected"),
        "shape": ({**state, next(iter(state)): torch.zeros(99)}, "wrong shape"),
    }
    for weights, message in cases.values():
        torch.save(weights, folder / "codec.ckpt")
        with pytest.raises(UnsafeModelFolder, match=message):
            load_codec(folder)
    (folder / "codec.ckpt").write_bytes(b"not a checkpoint")
    with pytest.raises(UnsafeModelFolder, match="not a weights file"):
        load_codec(folder)
    (folder / "codec.ckpt").unlink()
    with pytest.raises(UnsafeModelFolder, match="no weights file"):
        load_codec(folder)


@pytest.mark.parametrize(
    "text, message",
    [
        ("codec: [unclosed", "not valid YAML"),
        ("- a list", "not a YAML mapping"),
        ("other: 1", "!ref <codec>: no such key"),
        ("codec: !ref <codec>", "refers to itself"),
        ("codec: !new:jepa_tokenizer.FSQ\n    levels: 4\n    dim: 3\n    nonsense: 1", "FSQ"),
    ],
)
def test_broken_folders_are_one_line_errors(tmp_path, model_folder, text, message):
    folder = crafted_folder(tmp_path, model_folder, text + "\n")
    with pytest.raises(UnsafeModelFolder, match=message):
        load_codec(folder)


def test_missing_folders_are_one_line_errors(tmp_path):
    with pytest.raises(UnsafeModelFolder, match="no such model folder"):
        load_codec(tmp_path / "nope")
    with pytest.raises(UnsafeModelFolder, match="no hyperparams.yaml"):
        load_codec(tmp_path)
    (tmp_path / "a.wav").write_bytes(b"")
    with pytest.raises(SystemExit, match="error: .*no hyperparams.yaml"):
        main(["encode", str(tmp_path / "a.wav"), str(tmp_path / "a.jtok"), "--model", str(tmp_path)])


def test_exports_old_and_new_load_safely_with_the_same_results(tmp_path, model_folder):
    new = JEPATokenizer.from_folder(model_folder)
    trusted = JEPATokenizer.from_hparams(source=str(model_folder), savedir=str(tmp_path / "saved"))
    wav = torch.randn(1, 16000) * 0.1
    assert torch.equal(new.encode_batch(wav), trusted.encode_batch(wav))
    assert new.fingerprint == trusted.fingerprint
    old = tmp_path / "old"
    old.mkdir()
    (old / "hyperparams.yaml").write_text((DATA / "legacy_flat_export.yaml").read_text())
    from jepa_tokenizer.models.config import load_model_config

    torch.manual_seed(0)
    codec = load_model_config("jepa_tiny.yaml", {"use_daam": False})["codec"].eval()
    torch.save(codec.state_dict(), old / "codec.ckpt")
    with torch.no_grad():
        assert torch.equal(load_codec(old).encode(wav), codec.encode(wav))


def test_a_tts_folder_that_runs_code_is_refused(tmp_path):
    from jepa_tokenizer.pretrained.synthesis import TextToSpeech

    marker = tmp_path / "ran"
    folder = tmp_path / "tts"
    folder.mkdir()
    (folder / "hyperparams.yaml").write_text(f'folder: !PLACEHOLDER\nmodel: !apply:os.makedirs ["{marker}"]\n')
    with pytest.raises(UnsafeModelFolder, match="not loaded"):
        TextToSpeech.from_folder(folder)
    assert not marker.exists()


def test_an_encoder_with_a_log_mel_front_end_exports_and_loads_safely(tmp_path):
    from jepa_tokenizer.models.config import load_model_config
    from jepa_tokenizer.models.encoder import JEPAEncoder
    from jepa_tokenizer.nn.frontend import LogMelFrontend
    from jepa_tokenizer.pretrained.export import export_codec

    torch.manual_seed(0)
    codec = load_model_config("jepa_tiny.yaml")["codec"]
    args = dict(codec.encoder.init_arguments)
    first = args["strides"][0]
    args.update(
        strides=args["strides"][1:],
        channels=args["channels"][1:],
        frontend=LogMelFrontend(sample_rate=args["sample_rate"], n_fft=4 * first, hop_length=first, n_mels=8),
    )
    built = dict(codec.init_arguments, encoder=JEPAEncoder(**args))
    codec = type(codec)(**built).eval()
    loaded = load_codec(export_codec(codec, tmp_path / "mel"))
    assert isinstance(loaded.encoder.frontend, LogMelFrontend)
    wav = torch.randn(1, 16000) * 0.1
    with torch.no_grad():
        assert torch.equal(loaded.encode(wav), codec.encode(wav))
