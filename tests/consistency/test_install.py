"""The install: the lock covers setup.py and is what is installed, and a plain
(non-editable) wheel works outside the source tree with its packaged data."""

import ast
import os
import subprocess
import sys
from importlib import metadata
from pathlib import Path

import pytest
from conftest import REPO
from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

LOCK = REPO / "requirements" / "lock.txt"


def locked(path: Path = LOCK) -> dict:
    """``{name: version}`` of the lock's pins that apply to this interpreter."""
    pins = {}
    for line in path.read_text().splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        spec, _, marker = line.partition(";")
        name, sep, version = spec.strip().partition("==")
        assert sep, f"not an exact pin in {path.name}: {line!r}"
        if marker.strip() and not Marker(marker.strip()).evaluate():
            continue
        pins[canonicalize_name(name)] = version.strip()
    return pins


def setup_keywords(*names: str) -> dict:
    """``{name: value}`` of the keywords ``names`` of setup.py's ``setup(...)`` call."""
    tree = ast.parse((REPO / "setup.py").read_text())
    call = next(
        node for node in ast.walk(tree) if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "setup"
    )
    return {k.arg: ast.literal_eval(k.value) for k in call.keywords if k.arg in names}


def setup_requirements() -> dict:
    """``{"install": [...], <extra>: [...]}`` as written in setup.py."""
    keywords = setup_keywords("install_requires", "extras_require")
    return {"install": keywords["install_requires"], **keywords["extras_require"]}


def test_every_requirement_of_setup_py_is_pinned_in_the_lock_within_its_range():
    pins = locked()
    for group, requirements in setup_requirements().items():
        for text in requirements:
            requirement = Requirement(text)
            name = canonicalize_name(requirement.name)
            assert name in pins, f"{text} ({group}) is not in {LOCK.name}: run `make lock`"
            assert requirement.specifier.contains(pins[name], prereleases=True), (
                f"{LOCK.name} pins {name}=={pins[name]}, outside setup.py's {text} ({group}): run `make lock`"
            )


def test_torch_and_torchaudio_are_one_exact_pair():
    requirements = {Requirement(r).name: str(Requirement(r).specifier) for r in setup_requirements()["install"]}
    pins = locked()
    assert requirements["torch"] == f"=={pins['torch']}"
    assert requirements["torchaudio"] == f"=={pins['torchaudio']}"
    assert pins["torch"].split(".")[:2] == pins["torchaudio"].split(".")[:2]


def test_the_running_environment_is_the_lock():
    """What the suite runs on is what the lock says (`make test` installs it)."""
    wrong = []
    for name, version in sorted(locked().items()):
        try:
            installed = metadata.version(name)
        except metadata.PackageNotFoundError:
            installed = "missing"
        if installed.split("+")[0] != version:  # torch's local tag: 2.11.0+cu130
            wrong.append(f"{name} {installed} (locked {version})")
    assert not wrong, "the environment differs from requirements/lock.txt (run `make install`): " + ", ".join(wrong)


def test_the_lock_rejects_a_range_pin(tmp_path):
    (tmp_path / "lock.txt").write_text("torch>=2.11\n")
    with pytest.raises(AssertionError, match="not an exact pin"):
        locked(tmp_path / "lock.txt")


def test_setup_py_the_package_and_the_changelog_name_one_version():
    import jepa_tokenizer

    version = setup_keywords("version")["version"]
    assert version == jepa_tokenizer.__version__
    assert f"## [{version}]" in (REPO / "CHANGELOG.md").read_text(), "CHANGELOG.md has no entry for this version"


@pytest.fixture(scope="module")
def installed_wheel(tmp_path_factory):
    """This package built as a wheel and installed (no dependencies: those of
    this environment) into a folder of its own, outside the source tree."""
    root = tmp_path_factory.mktemp("wheel")
    build = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(root / "dist"),
            str(REPO),
        ],
        capture_output=True,
        text=True,
    )
    assert build.returncode == 0, build.stderr[-3000:]
    (wheel,) = (root / "dist").glob("jepa_tokenizer-*.whl")
    site = root / "site"
    install = subprocess.run(
        [sys.executable, "-m", "pip", "install", "-q", "--no-deps", "--target", str(site), str(wheel)],
        capture_output=True,
        text=True,
    )
    assert install.returncode == 0, install.stderr[-3000:]
    return site


def run_outside(site: Path, cwd: Path, *argv: str) -> subprocess.CompletedProcess:
    """Runs Python with only the wheel's copy of jepa_tokenizer importable
    (the editable install of the checkout is shadowed), from ``cwd``."""
    env = {**os.environ, "PYTHONPATH": str(site)}
    return subprocess.run([sys.executable, *argv], cwd=cwd, env=env, capture_output=True, text=True)


def test_a_wheel_loads_the_model_configurations_by_name_outside_the_checkout(installed_wheel, tmp_path):
    code = (
        "import jepa_tokenizer, pathlib; from jepa_tokenizer.models.config import load_model_config, model_config_names;"
        "print(pathlib.Path(jepa_tokenizer.__file__).parent);"
        "print(model_config_names());"
        "print(load_model_config('jepa_tiny.yaml')['codec'].tokens_per_second)"
    )
    out = run_outside(installed_wheel, tmp_path, "-c", code)
    assert out.returncode == 0, out.stderr[-3000:]
    where, names, rate = out.stdout.split("\n")[:3]
    assert Path(where) == installed_wheel / "jepa_tokenizer"
    assert (
        names
        == "['jepa_16k.yaml', 'jepa_24k.yaml', 'jepa_mini.yaml', 'jepa_mini_12hz.yaml', 'jepa_mini_25hz.yaml', 'jepa_tiny.yaml']"
        and rate == "7.5"
    )


def test_a_wheel_exports_encodes_and_decodes_with_its_command_line(installed_wheel, tmp_path, spoken_wav):
    export = (
        "import torch; from jepa_tokenizer.models.config import load_model_config; from jepa_tokenizer.pretrained.export import export_codec;"
        "torch.manual_seed(0); export_codec(load_model_config('jepa_tiny.yaml')['codec'].eval(), 'model')"
    )
    out = run_outside(installed_wheel, tmp_path, "-c", export)
    assert out.returncode == 0, out.stderr[-3000:]
    script = run_outside(installed_wheel, tmp_path, str(installed_wheel / "bin" / "jepa-tokenizer"), "--help")
    assert script.returncode == 0 and "encode" in script.stdout, script.stderr[-3000:]
    cli = ["-m", "jepa_tokenizer.apps.cli"]
    steps = [("encode", str(spoken_wav), "speech.jtok"), ("decode", "speech.jtok", "speech.wav")]
    for command, source, target in steps:
        out = run_outside(installed_wheel, tmp_path, *cli, command, "--model", "model", source, target)
        assert out.returncode == 0, out.stderr[-3000:]
    import soundfile

    info, original = soundfile.info(str(tmp_path / "speech.wav")), soundfile.info(str(spoken_wav))
    assert info.samplerate == 16000 and abs(info.frames - original.frames * 16000 / original.samplerate) < 6400


def test_a_wheel_ships_the_default_model(installed_wheel, tmp_path, spoken_wav):
    """The wheel carries the shipped model: its command line encodes and
    decodes without --model, from a folder outside the checkout."""
    cli = ["-m", "jepa_tokenizer.apps.cli"]
    for command, source, target in [
        ("encode", str(spoken_wav), "speech.jtok"),
        ("decode", "speech.jtok", "speech.wav"),
    ]:
        out = run_outside(installed_wheel, tmp_path, *cli, command, source, target)
        assert out.returncode == 0, out.stderr[-3000:]
    shipped = installed_wheel / "jepa_tokenizer" / "pretrained" / "models" / "jepa_mini_librispeech"
    assert sorted(p.name for p in shipped.iterdir()) == ["codec.ckpt", "hyperparams.yaml", "training.json"]
