"""The YAML configurations: load, share the reference values, reject bad strides."""

import pytest

from jepa_tokenizer import JEPACodec

from conftest import HPARAMS, load_config


@pytest.mark.parametrize("name", ["jepa_24k.yaml", "jepa_16k.yaml", "jepa_tiny.yaml"])
def test_configs_build_a_codec_at_2_5_hz(name):
    hparams = load_config(name)
    assert isinstance(hparams["codec"], JEPACodec)
    assert hparams["codec"].frame_rate == 2.5
    assert hparams["predictor"] is not None and hparams["discriminator"] is not None


def test_16k_is_the_reference_with_other_strides():
    ref, sixteen = load_config("jepa_24k.yaml"), load_config("jepa_16k.yaml")
    assert sixteen["codec"].hop_length == 6400
    assert sixteen["codec"].tokens_per_frame == ref["codec"].tokens_per_frame == 19
    assert sixteen["reference"]["encoder_channels"] == ref["encoder_channels"]


def test_values_are_written_once():
    for name in ("jepa_16k.yaml", "jepa_tiny.yaml"):
        text = (HPARAMS / name).read_text()
        assert "!include:jepa_24k.yaml" in text
        assert "!new:" not in text  # every module is defined in the reference file


def test_wrong_strides_for_the_sample_rate_are_a_clear_error():
    with pytest.raises(ValueError, match="stride product must be sample_rate / frame_rate = 6400"):
        load_config("jepa_24k.yaml", {"sample_rate": 16000})


def test_command_line_override_reaches_the_included_file():
    hparams = load_config("jepa_tiny.yaml", {"encoder_strides": [8, 8, 5, 5, 2],
                                             "decoder_upsample_rates": [2, 5, 5, 8, 8],
                                             "reference": {"frame_rate": 5.0}})
    assert hparams["codec"].frame_rate == 5.0
