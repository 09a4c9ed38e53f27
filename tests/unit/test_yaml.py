"""The YAML configurations: load, share the reference values, reject bad strides."""

import pytest
from conftest import load_config

from jepa_tokenizer import JEPACodec
from jepa_tokenizer.models.config import PACKAGE_CONFIGS


@pytest.mark.parametrize("name", ["jepa_24k.yaml", "jepa_16k.yaml", "jepa_tiny.yaml"])
def test_configs_build_a_codec_at_2_5_hz(name):
    hparams = load_config(name)
    assert isinstance(hparams["codec"], JEPACodec)
    assert hparams["codec"].frame_rate == 2.5
    assert hparams["predictor"] is not None


def test_16k_is_the_reference_with_other_strides():
    ref, sixteen = load_config("jepa_24k.yaml"), load_config("jepa_16k.yaml")
    assert sixteen["codec"].hop_length == 6400
    assert sixteen["decoder"].upsample_rates == [4, 5, 5, 8, 8]  # mirrored strides
    assert sixteen["codec"].tokens_per_frame == ref["codec"].tokens_per_frame == 19
    ref_shapes = {k: v.shape for k, v in ref["codec"].state_dict().items()}
    new_shapes = {k: v.shape for k, v in sixteen["codec"].state_dict().items()}
    assert ref_shapes.keys() == new_shapes.keys()
    differing = {k for k in ref_shapes if ref_shapes[k] != new_shapes[k]}
    # only the kernels of the stride-6 conv and its mirror (kernel 2 x stride) change
    assert differing and all(k.startswith(("encoder.blocks.4.down", "decoder.ups.0")) for k in differing)


def test_values_are_written_once():
    texts = {name: (PACKAGE_CONFIGS / name).read_text() for name in ("jepa_16k.yaml", "jepa_tiny.yaml")}
    assert "!include:jepa_24k.yaml" in texts["jepa_16k.yaml"]
    assert "!include:jepa_16k.yaml" in texts["jepa_tiny.yaml"]
    for text in texts.values():
        assert "!new:" not in text  # every module is defined in the reference file
        assert "decoder_upsample_rates" not in text  # derived from the strides
    assert "sample_rate" not in texts["jepa_tiny.yaml"]


def test_wrong_strides_for_the_sample_rate_are_a_clear_error():
    with pytest.raises(ValueError, match="stride product must be sample_rate / frame_rate = 6400"):
        load_config("jepa_24k.yaml", {"sample_rate": 16000})


def test_overrides_reach_the_included_files():
    hparams = load_config(
        "jepa_tiny.yaml",
        {"base": {"encoder_strides": [8, 8, 5, 5, 2], "reference": {"frame_rate": 5.0}}},
    )
    assert hparams["codec"].frame_rate == 5.0
    assert hparams["decoder"].upsample_rates == [2, 5, 5, 8, 8]
