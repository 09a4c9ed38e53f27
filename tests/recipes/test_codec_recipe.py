"""The Stage-2 codec recipe on the embedded corpus (tiny model, CPU), and
loading a Stage-1 encoder checkpoint."""

import copy

import pytest
import torch
from conftest import assert_ranks_agree, embedded_recipe_args, load_recipe, train_on_two_ranks

from jepa_tokenizer.data.audio import load_audio
from jepa_tokenizer.data.embedded_corpus import corpus_path
from jepa_tokenizer.models.config import load_model_config
from jepa_tokenizer.pretrained.inference import JEPATokenizer
from jepa_tokenizer.training.experiment import load_encoder_weights


@pytest.fixture(scope="module")
def recipe():
    return load_recipe("train_codec")


def codec_args(output, *extra):
    # a narrow discriminator, 1-s segments and 2 steps keep this fast on CPU
    return embedded_recipe_args(
        "train_codec.yaml",
        output,
        "--batch_size",
        "2",
        "--max_crop_seconds",
        "1.0",
        "--number_of_epochs",
        "1",
        "--optimizer_step_limit",
        "2",
        "--discriminator_start_step",
        "1",
        "--metrics_max_utterances",
        "2",
        "--num_samples_to_save",
        "1",
        "--log_interval_steps",
        "1",
        "--discriminator_width",
        "0.0625",
        *extra,
    )


def _snapshot(module):
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


def _changed(before, module):
    return any(not torch.equal(before[k], v) for k, v in module.state_dict().items())


@pytest.mark.parametrize("freeze", [True, False])
def test_generator_and_discriminator_steps(recipe, tmp_path, monkeypatch, freeze):
    """Losses are finite; the decoder and discriminator learn; the encoder
    learns only when it is not frozen."""
    initial = {}
    original_build = recipe.build_codec

    def remember(hparams):
        codec = original_build(hparams)
        initial.update(
            encoder=_snapshot(codec.encoder),
            decoder=_snapshot(codec.decoder),
            discriminator=_snapshot(hparams["discriminator"]),
        )
        return codec

    monkeypatch.setattr(recipe, "build_codec", remember)
    brain = recipe.main(codec_args(tmp_path, "--freeze_encoder", str(freeze)))
    codec = brain.modules.codec
    assert brain.optimizer_step == 2
    assert _changed(initial["decoder"], codec.decoder)
    assert _changed(initial["discriminator"], brain.modules.discriminator)
    assert _changed(initial["encoder"], codec.encoder) == (not freeze)
    log = (tmp_path / "train_log.txt").read_text()
    for key in ("D_loss", "G_adv", "G_fm", "G_stft", "valid stft_distance", "valid mel_distance"):
        assert key in log
    stats = brain.last_stats
    assert all(torch.isfinite(torch.tensor(v)) for v in stats.values())
    assert list((tmp_path / "samples" / "epoch_1").glob("*_reconstructed.wav"))
    assert list((tmp_path / "save").glob("CKPT*/optimizer_d.ckpt"))
    # the exported folder reloads on its own and gives the same tokens
    tokenizer = JEPATokenizer.from_hparams(source=str(tmp_path / "model"), savedir=str(tmp_path / "loaded"))
    wav = load_audio(next(corpus_path().glob("test/*/*/*.flac")), 16000).wav.unsqueeze(0)
    codec.eval()
    with torch.no_grad():
        expected = codec.encode(wav)
    assert torch.equal(tokenizer.encode_batch(wav).cpu(), expected)
    assert "!include" not in (tmp_path / "model" / "hyperparams.yaml").read_text()


def test_stage1_checkpoint_loading_and_errors(tmp_path):
    model = load_model_config("jepa_tiny.yaml")
    encoder = model["encoder"]
    trained = copy.deepcopy(encoder)
    with torch.no_grad():
        for p in trained.parameters():
            p.add_(1.0)
    folder = tmp_path / "save" / "CKPT+2026-01-01+00-00-00+00"
    folder.mkdir(parents=True)
    torch.save(trained.state_dict(), folder / "target_encoder.ckpt")
    loaded = load_encoder_weights(encoder, tmp_path / "save")
    assert loaded == folder / "target_encoder.ckpt"
    assert all(torch.equal(a, b) for a, b in zip(encoder.state_dict().values(), trained.state_dict().values()))
    with pytest.raises(FileNotFoundError, match="not found"):
        load_encoder_weights(encoder, tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="encoder.ckpt"):
        load_encoder_weights(encoder, tmp_path / "save", key="encoder")
    bigger = load_model_config("jepa_tiny.yaml", {"base": {"reference": {"code_dim": 32}}})["encoder"]
    with pytest.raises(ValueError, match=r"bottleneck.weight: checkpoint \(16, 32, 1\) vs model \(32, 32, 1\)"):
        load_encoder_weights(bigger, folder / "target_encoder.ckpt")


def test_sample_rate_mismatch_is_a_clear_error(recipe, tmp_path):
    with pytest.raises(ValueError, match="runs at 16000"):
        recipe.main(codec_args(tmp_path, "--sample_rate", "24000"))


def test_two_ranks_over_gloo_agree_after_training(tmp_path):
    out = tmp_path / "ddp"
    ranks = train_on_two_ranks("train_codec", codec_args(out), out)
    assert ranks[0]["steps"] == ranks[1]["steps"] == 2
    assert_ranks_agree(ranks, ("codec", "discriminator"))


def test_bf16_mixed_precision_trains_in_float32_weights(recipe, tmp_path):
    """``--precision bf16`` (CPU autocast, SpeechBrain's AMP path; the speed
    issue's fast path): the steps run, the losses stay finite, the weights stay
    float32 and the export reloads."""
    brain = recipe.main(codec_args(tmp_path, "--precision", "bf16"))
    assert brain.optimizer_step == 2
    assert all(torch.isfinite(torch.tensor(v)) for v in brain.last_stats.values())
    assert {p.dtype for p in brain.modules.codec.parameters()} == {torch.float32}
    assert "G_stft" in (tmp_path / "train_log.txt").read_text()
    assert JEPATokenizer.from_hparams(source=str(tmp_path / "model"), savedir=str(tmp_path / "loaded")) is not None


def test_codec_recipe_cools_its_rates_down_over_the_step_limit(tmp_path):
    """Two steps with a cooldown over the whole run: the rates of the last
    step and those in the checkpoint follow the schedule."""
    recipe = load_recipe("train_codec")
    brain = recipe.main(
        codec_args(tmp_path, "--freeze_encoder", "False", "--lr_cooldown_share", "1.0", "--lr_cooldown_final", "0.0")
    )
    assert brain.optimizer_step == 2
    groups = brain.optimizer_g.param_groups
    assert [g["base_lr"] for g in groups] == pytest.approx([brain.hparams.generator_lr, brain.hparams.encoder_lr])
    # set after step 2 of 2: the end of the run
    assert [g["lr"] for g in groups] == pytest.approx([0.0, 0.0])
    saved = torch.load(next((tmp_path / "save").glob("CKPT*/optimizer_g.ckpt")), weights_only=True)
    assert [g["base_lr"] for g in saved["param_groups"]] == pytest.approx([g["base_lr"] for g in groups])
