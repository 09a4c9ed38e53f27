"""Every key of each recipe YAML is used: referenced in the YAML itself, read
by the code (recipes or library), or consumed by SpeechBrain or hyperpyyaml."""

import dataclasses
import re
from pathlib import Path

import pytest
from conftest import HPARAMS, REPO, load_recipe
from speechbrain.utils.run_opts import RunOptions

QUICKSTART = load_recipe("quickstart")  # recipes/LibriSpeech/quickstart.py
RECIPE_OF, STAGES = QUICKSTART.RECIPE_OF, QUICKSTART.STAGES

#: run options a Brain takes from the YAML by key (max_grad_norm, ...)
SPEECHBRAIN_KEYS = {field.name for field in dataclasses.fields(RunOptions)}
#: keys the quickstart reads by stage: <stage>_share, <kind>_hparams, <kind>_overrides
QUICKSTART_KEYS = {f"{stage}_share" for stage in STAGES} | {
    f"{kind}_{suffix}" for kind, _ in RECIPE_OF.values() for suffix in ("hparams", "overrides")
}
NOT_RECIPE_YAML = {"quickstart_logging.yaml"}  # a logging.config dictionary


def python_sources() -> str:
    files = list((REPO / "jepa_tokenizer").rglob("*.py")) + list((REPO / "recipes").rglob("*.py"))
    return "\n".join(path.read_text() for path in files)


def unused_keys(yaml_text: str, sources: str):
    """Top-level keys neither referenced (``<key>``, ``<key[...]>``, ``<key.x>``) in
    the YAML nor read in ``sources`` (``"key"``, ``.key``), nor known consumers'."""
    unused = []
    for key in re.findall(r"^([A-Za-z_]\w*):", yaml_text, re.M):
        if key.startswith("__") or key in SPEECHBRAIN_KEYS | QUICKSTART_KEYS:
            continue  # hyperpyyaml runs __set_seed; SpeechBrain and the quickstart read these
        if re.search(rf"<{key}[\[.>]", yaml_text):
            continue
        if re.search(rf"[\"']{key}[\"']|\.{key}\b", sources):
            continue
        unused.append(key)
    return unused


@pytest.fixture(scope="module")
def sources():
    return python_sources()


#: the quickstart's YAML (top-level hparams/) and each recipe's (hparams/ next to its script)
RECIPE_YAML = sorted(HPARAMS.glob("*.yaml")) + sorted((REPO / "recipes").rglob("hparams/*.yaml"))


@pytest.mark.parametrize(
    "path", [p for p in RECIPE_YAML if p.name not in NOT_RECIPE_YAML], ids=lambda p: str(p.relative_to(REPO))
)
def test_every_key_is_used(path, sources):
    assert unused_keys(path.read_text(), sources) == []


def test_every_recipe_yaml_is_found():
    names = {path.name for path in RECIPE_YAML}
    assert {"pretrain_jepa.yaml", "train_codec.yaml", "asr_tokens.yaml", "tts_tokens.yaml", "quickstart.yaml"} <= names


def test_an_unused_key_is_found(sources):
    text = "base_lr: 0.1\nsurely_nobody_reads_this_key: 3\nopt_class: !name:torch.optim.Adam\n    lr: !ref <base_lr>\n"
    assert unused_keys(text, sources) == ["surely_nobody_reads_this_key"]  # opt_class: read by the recipes


def test_the_model_configurations_are_checked_too(sources):
    for path in sorted(Path(REPO / "jepa_tokenizer" / "configs").glob("*.yaml")):
        assert unused_keys(path.read_text(), sources) == [], path.name
