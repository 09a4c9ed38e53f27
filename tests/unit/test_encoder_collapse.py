"""benchmarks/encoder_collapse.py: the measures tell a collapsed encoder
from one that looks at the audio."""

import importlib.util
from pathlib import Path

import pytest
import torch

from jepa_tokenizer.models.config import load_model_config

REPO = Path(__file__).resolve().parents[2]
MANIFEST = REPO.parent / "shared" / "realspeech" / "manifest.csv"


def _benchmark():
    spec = importlib.util.spec_from_file_location("encoder_collapse", REPO / "benchmarks" / "encoder_collapse.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_measures_of_collapse():
    bench = _benchmark()
    torch.manual_seed(0)
    position = torch.randn(1, 10, 4).expand(5, 10, 4)  # the same vector at frame n of every item
    independent = torch.randn(5, 10, 4)
    constant = torch.randn(5, 1, 4).expand(5, 10, 4)  # one vector per item, all frames alike
    assert bench.pairwise_difference(position) == 0.0
    assert 1.2 < bench.pairwise_difference(independent) < 1.6  # sqrt(2) for unrelated outputs
    assert bench.time_share(constant) < 1e-6 and bench.time_share(position) > 0.9
    assert 0.7 < bench.time_share(independent) <= 1.0


def test_benchmark_reports_an_encoder_and_a_checkpoint_alike(tmp_path, capsys):
    if not MANIFEST.is_file():
        pytest.skip(f"real speech not available: {MANIFEST} is missing")
    bench = _benchmark()
    torch.manual_seed(0)  # the benchmark's seed: the same untrained weights
    encoder = load_model_config("jepa_mini.yaml")["codec"].encoder
    same, collapsed = tmp_path / "same", tmp_path / "collapsed"
    same.mkdir(), collapsed.mkdir()
    torch.save(encoder.state_dict(), same / "target_encoder.ckpt")
    state = encoder.state_dict()
    gains = [
        k for k in state if k.startswith("bottleneck.") and k.split(".")[-1] in ("weight", "weight_g", "original0")
    ]
    for key in gains:  # the bottleneck's output is its bias: the same for every utterance
        state[key].zero_()
    assert gains
    torch.save(state, collapsed / "target_encoder.ckpt")
    argv = ["--manifest", str(MANIFEST), "--batch", "3", "--seconds", "1", "--checkpoint", str(same), str(collapsed)]
    bench.main(argv)
    rows = [line.split() for line in capsys.readouterr().out.splitlines()[2:]]
    assert len(rows) == 6 and rows[0][0] == "untrained" and rows[2][0].endswith("target_encoder.ckpt")
    assert rows[0][-3:] == rows[2][-3:] and rows[1][-3:] == rows[3][-3:]  # same weights, same numbers
    assert 0.5 < float(rows[1][-3]) < 2.0  # an untrained encoder tells utterances apart
    assert float(rows[4][-3]) < 0.01 and float(rows[5][-3]) < 0.01  # a collapsed one does not
    with pytest.raises(SystemExit):
        bench.main(["--manifest", str(MANIFEST), "--batch", "1"])
