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
    monkeypatch.setattr(
        safe_load, "load_codec", lambda folder, **options: opened.append(Path(folder)) or original(folder, **options)
    )
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


# ----------------------------------------------------------------- memory and sizes
# Loads each folder given in a process whose address space may grow by 1 GB at
# most past what the imports took: a load that needs more fails there (MemoryError
# or an allocation error) instead of passing.
LIMITED_LOAD = r"""
import json, re, resource, sys
import torch
torch.set_num_threads(1)
from jepa_tokenizer.pretrained.inference import JEPATokenizer
from jepa_tokenizer.pretrained.safe_load import UnsafeModelFolder
size = int(re.search(r"VmSize:\s+(\d+)", open("/proc/self/status").read()).group(1)) * 1024
resource.setrlimit(resource.RLIMIT_AS, (size + 10**9, resource.RLIM_INFINITY))
for folder in sys.argv[1:]:
    try:
        JEPATokenizer.from_folder(folder)
        print(json.dumps(["loaded", ""]))
    except UnsafeModelFolder as err:
        print(json.dumps(["refused", str(err)]))
    except BaseException as err:
        print(json.dumps([type(err).__name__, str(err)[:300]]))
"""


def load_in_1_gb(folders):
    """(outcome, message) of loading each folder, in a process limited to 1 GB more."""
    import json
    import subprocess
    import sys

    result = subprocess.run(
        [sys.executable, "-c", LIMITED_LOAD, *map(str, folders)], capture_output=True, text=True, timeout=900
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return [json.loads(line) for line in result.stdout.splitlines()]


def with_argument(text: str, cls: str, argument: str, value: str) -> str:
    """The YAML text with ``argument`` of the first ``cls`` record set to ``value``."""
    import re

    found = re.compile(rf"(\n\s+{argument}:) [^\n]*").search(text, text.index(cls))
    return text[: found.start()] + f"{found.group(1)} {value}" + text[found.end() :]


def alias_chain(anchor: str = "a") -> str:
    """A chain of YAML aliases of 511 bytes: 10**9 values once expanded."""
    lines = [f"{anchor}0: &{anchor}0 [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"{anchor}{i}: &{anchor}{i} [{', '.join([f'*{anchor}{i - 1}'] * 10)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


def ref_chain() -> str:
    """The same chain of ``!ref``s (10**9 values once expanded)."""
    lines = ["r0: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1]"]
    lines += [f"r{i}: [{', '.join([f'!ref <r{i - 1}>'] * 10)}]" for i in range(1, 9)]
    return "\n".join(lines) + "\n"


SIZE_CASES = {
    "conformer_layers 10^6": ("JEPAEncoder", "conformer_layers", "1000000", "conformer_layers is 1000000, outside"),
    "decoder num_layers 10^6": ("ISTFTDecoder", "num_layers", "1000000", "num_layers is 1000000, outside"),
    "code_dim 10^9": ("JEPAEncoder", "code_dim", "1000000000", "code_dim is 1000000000, outside"),
    "decoder dim 10^9": ("ISTFTDecoder", "dim", "1000000000", "dim is 1000000000, outside"),
    "first channel 10^7": ("JEPAEncoder", "channels", "[10000000, 32, 64, 128, 192, 256]", "channels is 10000000"),
    "n_fft 10^9": ("ISTFTDecoder", "n_fft", "1000000000", "n_fft is 1000000000, outside"),
    "stem kernel 10^9 + 1": ("JEPAEncoder", "stem_kernel_size", "1000000001", "stem_kernel_size is 1000000001"),
    "num_digits 10^9": ("MixedRadixPacker", "num_digits", "1000000000", "num_digits is 1000000000, outside"),
    "negative channels": ("JEPAEncoder", "channels", "[-16, 32, 64, 128, 192, 256]", "channels is -16, outside"),
    "float layers": ("ISTFTDecoder", "num_layers", "1.0e+9", "num_layers is 1000000000.0, outside"),
    "NaN argument": ("ISTFTDecoder", "max_log_magnitude", ".nan", "max_log_magnitude is nan, not a finite number"),
    "heads that do not divide": ("JEPAEncoder", "conformer_heads", "3", "JEPAEncoder: ConformerStack: d_model"),
}


def waveform_codec_folder(folder: Path) -> Path:
    """An export of the waveform codec the issue's inputs were made from
    (``jepa_mini.yaml``, inverse-STFT decoder: the model shipped until 2026-12-05)."""
    from jepa_tokenizer.models.config import load_model_config
    from jepa_tokenizer.pretrained.export import export_codec

    torch.manual_seed(0)
    codec = load_model_config("jepa_mini.yaml", overrides={"decoder_kind": "istft"})["codec"]
    return Path(export_codec(codec, folder))


def test_alias_chains_and_sizes_are_refused_in_bounded_memory(tmp_path):
    """A 511-byte alias chain (billion laughs) under ``codec:``, inside an
    argument, under an unused key, or as a chain of ``!ref``s; every size a
    folder sets (layers, widths, FFT sizes, kernels, digits, negative ones,
    NaN); and sizes each within their limits that together would take
    gigabytes: each a one-line ``UnsafeModelFolder`` from the Python
    interface, in a process that may not grow by 1 GB."""
    base = waveform_codec_folder(tmp_path / "base")
    shipped = (base / "hyperparams.yaml").read_text()
    chain_in_argument = alias_chain() + with_argument(shipped, "FSQ", "levels", "*a8")
    cases = {
        "chain under codec": alias_chain() + "codec: *a8\n",
        "chain in an argument": chain_in_argument,
        "chain in a list argument": alias_chain() + with_argument(shipped, "JEPAEncoder", "res_dilations", "*a8"),
        "chain under an unused key": alias_chain() + shipped,
        "chain of !refs": ref_chain() + with_argument(shipped, "JEPAEncoder", "res_dilations", "!ref <r8>"),
        "a self-containing alias": "loop: &loop [*loop]\n" + shipped,
        **{name: with_argument(shipped, *case[:3]) for name, case in SIZE_CASES.items()},
        "sizes that combine to gigabytes": with_argument(
            with_argument(with_argument(shipped, "ISTFTDecoder", "dim", "4096"), "ISTFTDecoder", "num_layers", "64"),
            "ISTFTDecoder",
            "intermediate_dim",
            "4096",
        ),
    }
    assert len(alias_chain()) < 600
    folders = []
    for number, text in enumerate(cases.values()):
        folders.append(tmp_path / f"case{number}")
        folders[-1].mkdir()
        (folders[-1] / "hyperparams.yaml").write_text(text)
        shutil.copy(base / "codec.ckpt", folders[-1] / "codec.ckpt")
    expected = {name: "expand to more than 100000 values" for name in cases if "chain" in name}
    expected["a self-containing alias"] = "not loaded|contains itself"
    expected.update({name: case[3] for name, case in SIZE_CASES.items()})
    expected["sizes that combine to gigabytes"] = "its modules take more than 1 GiB .max_bytes=1073741824."
    import re

    for name, (outcome, message) in zip(cases, load_in_1_gb(folders)):
        assert outcome == "refused" and "\n" not in message, (name, outcome, message)
        assert "hyperparams.yaml: " in message and re.search(expected[name], message), (name, message)


def test_limits_cover_classes_added_later_and_can_be_raised(monkeypatch):
    """Limits go by argument name, so a class added to the allow-list later is
    checked too; a class may declare its own (``SIZE_LIMITS``); a caller who
    trusts a folder raises them with ``limits``."""
    from torch import nn

    import jepa_tokenizer.pretrained.safe_load as safe_load
    from jepa_tokenizer.pretrained.safe_load import Limit, _New, build_module
    from jepa_tokenizer.quantization.fsq import FSQ

    class Later(nn.Module):
        def __init__(self, conv_dim: int = 8, stage_layers=(1,), mystery: int = 0, scale: float = 1.0):
            super().__init__()
            self.conv_dim, self.proj = conv_dim, nn.Linear(conv_dim, conv_dim)

    monkeypatch.setitem(safe_load.ALLOWED_CLASSES, "jepa_tokenizer.Later", Later)
    refused = {
        "conv_dim": (10**7, "conv_dim is 10000000, outside"),
        "stage_layers": ([2, 10**6], "stage_layers is 1000000, outside"),
        "mystery": (10**8, "mystery is 100000000, outside .-4096, 4096.; .*limits=\\{'mystery'"),
        "scale": (float("inf"), "scale is inf, not a finite number"),
    }
    for argument, (value, message) in refused.items():
        with pytest.raises(UnsafeModelFolder, match=message):
            build_module({"m": _New("jepa_tokenizer.Later", {argument: value})}, "m")
    assert build_module({"m": _New("jepa_tokenizer.Later", {"conv_dim": 64, "scale": -3.5})}, "m").conv_dim == 64
    wide = {"fsq": _New("jepa_tokenizer.FSQ", {"levels": 4, "dim": 5000})}
    with pytest.raises(UnsafeModelFolder, match="dim is 5000, outside"):
        build_module(wide, "fsq")
    assert build_module(wide, "fsq", limits={"dim": Limit(1, 8192)}).dim == 5000
    with pytest.raises(UnsafeModelFolder, match="its modules take more than .* GiB .max_bytes=16383.; "):
        build_module({"m": _New("jepa_tokenizer.Later", {"conv_dim": 64})}, "m", max_bytes=64 * 64 * 4 - 1)
    monkeypatch.setattr(FSQ, "SIZE_LIMITS", {"^dim$": Limit(1, 2)}, raising=False)
    with pytest.raises(UnsafeModelFolder, match="dim is 3, outside .1, 2."):
        build_module({"fsq": _New("jepa_tokenizer.FSQ", {"levels": 4, "dim": 3})}, "fsq")


def test_non_finite_weights_are_refused(tmp_path, model_folder):
    folder = crafted_folder(tmp_path, model_folder, (model_folder / "hyperparams.yaml").read_text())
    state = torch.load(model_folder / "codec.ckpt", weights_only=True)
    name = next(k for k, v in state.items() if v.is_floating_point())
    state[name] = torch.full_like(state[name], float("nan"))
    torch.save(state, folder / "codec.ckpt")
    with pytest.raises(UnsafeModelFolder, match=f"1 weights hold NaN or Inf .first: {name}.; the file is damaged"):
        load_codec(folder)
    torch.save({k: torch.zeros(10**6) if k == name else v for k, v in state.items()}, folder / "codec.ckpt")
    with pytest.raises(UnsafeModelFolder, match="wrong shape|more than this model's weights can take"):
        load_codec(folder)


def test_a_folder_given_to_the_wrong_loader_is_named(tmp_path, model_folder):
    from jepa_tokenizer.pretrained.synthesis import TextToSpeech

    with pytest.raises(UnsafeModelFolder, match="is a codec folder .*, not a TTS folder"):
        TextToSpeech.from_folder(model_folder)
    tts = tmp_path / "tts"
    tts.mkdir()
    (tts / "hyperparams.yaml").write_text("model: !new:jepa_tokenizer.TokenTTS\n    num_units: 30\n    levels: 4\n")
    with pytest.raises(UnsafeModelFolder, match="is a TTS folder .*, not a codec folder"):
        load_codec(tts)
    with pytest.raises(SystemExit, match="^error: .*is a TTS folder"):
        main(["encode", str(tmp_path / "a.wav"), str(tmp_path / "a.jtok"), "--model", str(tts)])
