"""The peer tokenizers behind the DASB interface, each on small random
weights saved locally (nothing downloaded): Mimi, DAC, SpeechTokenizer and
discrete SSL units (EnCodec is in tests/recipes/test_asr_recipe.py)."""

import json

import pytest
import torch
from conftest import fake_hub_snapshot

from jepa_tokenizer.pretrained.tokenizers import TOKENIZERS, build_tokenizer


def check_dasb(tok, frames: int):
    """The DASB contract on one second of noise: ``[B, N, K]`` long tokens
    in the vocabulary, ``[B, N * hop]`` audio back, a ``[K * C, H]`` table."""
    wav = torch.randn(2, tok.sample_rate) * 0.1
    tokens = tok.sig_to_tokens(wav, torch.tensor([1.0, 0.5]))
    assert tokens.dtype == torch.int64 and tokens.shape == (2, frames, tok.num_codebooks)
    assert 0 <= int(tokens.min()) and int(tokens.max()) < tok.vocab_size
    signal = tok.tokens_to_sig(tokens)
    assert signal.shape == (2, round(frames * tok.sample_rate / tok.frame_rate)) and signal.is_floating_point()
    table = tok.get_pretrained_embeddings(tok.vocab_size, tok.num_codebooks)
    assert table.dim() == 2 and table.shape[0] == tok.num_codebooks * tok.vocab_size
    with pytest.raises(ValueError, match=f"{tok.num_codebooks} codebooks; 9 requested"):
        tok.sig_to_tokens(wav, num_codebooks=9)
    return tokens, table


@pytest.fixture(scope="module")
def mimi_folder(tmp_path_factory):
    """A small Mimi with random weights and random (not zero) codebooks."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    config = transformers.MimiConfig(
        hidden_size=32,
        num_filters=8,
        upsample_groups=32,  # the 2x downsampling conv is grouped by upsample_groups
        num_hidden_layers=1,
        intermediate_size=64,
        num_attention_heads=2,
        num_key_value_heads=2,
        codebook_size=64,
        codebook_dim=16,
        vector_quantization_hidden_dimension=16,
        num_quantizers=4,
        num_semantic_quantizers=1,
    )
    model = transformers.MimiModel(config)
    quantizer = model.quantizer
    for layer in [
        *quantizer.semantic_residual_vector_quantizer.layers,
        *quantizer.acoustic_residual_vector_quantizer.layers,
    ]:
        layer.codebook.embed_sum.normal_()
    folder = tmp_path_factory.mktemp("mimi")
    model.save_pretrained(folder)
    return folder


def test_mimi_adapter_on_random_weights(mimi_folder):
    tok = build_tokenizer("mimi", {"source": str(mimi_folder), "num_codebooks": 3})
    assert (tok.sample_rate, tok.frame_rate, tok.vocab_size) == (24000, 12.5, 64)
    table = tok.get_pretrained_embeddings()  # before any encoding
    tokens, _ = check_dasb(tok, frames=13)
    assert table.shape == (3 * 64, 16) and tokens.unique().numel() > 1
    wav = torch.randn(1, 24000) * 0.1
    _, vectors = tok.model.encode(wav, torch.ones(1))  # [1, K, N, H]: the code vectors of the tokens
    codes = tok.sig_to_tokens(wav)[0]  # [N, K]
    for k in range(3):
        assert torch.equal(table[k * 64 + codes[:, k]], vectors[0, k])
    with pytest.raises(ValueError, match="4 codebooks; 5 requested"):
        build_tokenizer("mimi", {"source": str(mimi_folder), "num_codebooks": 5})


def test_dac_adapter_on_random_weights():
    torch.manual_seed(0)
    options = {
        "encoder_dim": 4,
        "encoder_rates": [2, 4, 5],
        "decoder_dim": 16,
        "decoder_rates": [5, 4, 2],
        "n_codebooks": 3,
        "codebook_size": 64,
        "codebook_dim": 4,
        "sample_rate": 16000,
    }
    tok = build_tokenizer("dac", {"num_codebooks": 2, **options})
    assert (tok.frame_rate, tok.vocab_size, tok.bitrate) == (400.0, 64, 4800.0)
    tokens, table = check_dasb(tok, frames=400)  # odd upsampling rates: the decoder's output is padded to N * hop
    assert table.shape == (2 * 64, 4 * 2**3)
    # a frame's quantized latent is the sum of its tokens' rows
    wav = torch.randn(1, 16000) * 0.1
    codes = tok.sig_to_tokens(wav)[0]
    _, latent = tok.model(wav[:, None], n_quantizers=2)
    rows = table[codes[:, 0]] + table[64 + codes[:, 1]]
    assert torch.allclose(rows, latent[0].T, atol=1e-5)
    with pytest.raises(ValueError, match="3 codebooks; 4 requested"):
        build_tokenizer("dac", {"num_codebooks": 4, **options})


@pytest.fixture
def speechtokenizer_cache(tmp_path, offline_hub):
    """A small random SpeechTokenizer in a Hugging Face cache, as the hub
    repository fnlp/SpeechTokenizer lays it out."""
    speechtokenizer = pytest.importorskip("speechtokenizer")
    config = {
        "n_filters": 4,
        "strides": [4, 4, 2],
        "dimension": 16,
        "semantic_dimension": 16,
        "bidirectional": True,
        "dilation_base": 2,
        "residual_kernel_size": 3,
        "n_residual_layers": 1,
        "lstm_layers": 1,
        "activation": "ELU",
        "sample_rate": 16000,
        "n_q": 3,
        "codebook_size": 32,
    }
    torch.manual_seed(0)
    model = speechtokenizer.SpeechTokenizer(config)
    for layer in model.quantizer.vq.layers:
        layer._codebook.embed.normal_()  # k-means-initialised codebooks start at zero
    folder = fake_hub_snapshot(tmp_path / "hub", "org/speechtokenizer") / "speechtokenizer_hubert_avg"
    folder.mkdir()
    (folder / "config.json").write_text(json.dumps(config))
    torch.save(model.state_dict(), folder / "SpeechTokenizer.pt")
    return tmp_path / "hub"


def test_speechtokenizer_adapter_on_random_weights(speechtokenizer_cache):
    tok = build_tokenizer(
        "speechtokenizer",
        {"source": "org/speechtokenizer", "save_path": str(speechtokenizer_cache), "num_codebooks": 2},
    )
    assert (tok.sample_rate, tok.frame_rate, tok.vocab_size) == (16000, 500.0, 32)
    tokens, table = check_dasb(tok, frames=500)
    assert table.shape == (2 * 32, 16)
    layer = tok.model.model.quantizer.vq.layers[0]
    assert torch.equal(table[tokens[0, :, 0]], layer.decode(tokens[:1, :, 0]).transpose(1, 2)[0])


VOCODER_YAML = """
generator: !new:speechbrain.lobes.models.HifiGAN.UnitHifiganGenerator
    in_channels: 8
    out_channels: 1
    resblock_type: "1"
    resblock_dilation_sizes: [[1, 3, 5]]
    resblock_kernel_sizes: [3]
    upsample_kernel_sizes: [20, 16, 8]
    upsample_initial_channel: 16
    upsample_factors: [10, 8, 4]   # 320 samples: one SSL frame
    vocab_size: {vocab}             # 1 + layers x clusters (0: a layer left out)
    embedding_dim: 8
    attn_dim: 8
modules:
    generator: !ref <generator>
pretrainer: !new:speechbrain.utils.parameter_transfer.Pretrainer
    loadables:
        generator: !ref <generator>
"""


@pytest.fixture
def discrete_ssl_files(tmp_path, offline_hub):
    """A tiny random HuBERT (local folder), k-means of its layers 1 and 2 in
    a Hugging Face cache, and a tiny random unit HiFi-GAN already fetched
    into the download folder."""
    transformers = pytest.importorskip("transformers")
    pytest.importorskip("sklearn")
    import joblib
    import numpy as np
    from hyperpyyaml import load_hyperpyyaml
    from sklearn.cluster import MiniBatchKMeans

    torch.manual_seed(0)
    ssl = tmp_path / "hubert"
    config = transformers.HubertConfig(
        hidden_size=16,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=32,
        conv_dim=(8,) * 7,
        num_conv_pos_embeddings=16,
        num_conv_pos_embedding_groups=2,
    )
    transformers.HubertModel(config).save_pretrained(ssl)
    transformers.Wav2Vec2FeatureExtractor(sampling_rate=16000).save_pretrained(ssl)
    save = tmp_path / "save"
    kmeans = fake_hub_snapshot(save, "org/hifigan-hubert") / "kmeans"
    kmeans.mkdir()
    for layer in (1, 2):  # fitted on float64, as SpeechBrain's are (float32 ones reject torch input)
        points = np.random.RandomState(layer).randn(100, 16)
        joblib.dump(
            MiniBatchKMeans(n_clusters=16, n_init=1, random_state=0).fit(points),
            kmeans / f"LibriSpeech_hubert_k16_L{layer}.pt",
        )
    yaml = VOCODER_YAML.format(vocab=1 + 2 * 16)
    (save / "hyperparams.yaml").write_text(yaml)
    torch.save(load_hyperpyyaml(yaml)["generator"].state_dict(), save / "generator.ckpt")
    return {
        "ssl_source": str(ssl),
        "ssl_model": "hubert",
        "vocoder_repo_id": "org/hifigan-hubert",
        "kmeans_dataset": "LibriSpeech",
        "num_clusters": 16,
        "layers": [2, 1],
        "save_path": str(save),
    }


def test_discrete_ssl_adapter_on_random_weights(discrete_ssl_files):
    tok = build_tokenizer("discrete_ssl", discrete_ssl_files)
    assert (tok.sample_rate, tok.frame_rate, tok.vocab_size, tok.layers) == (16000, 50.0, 16, [1, 2])
    tokens, table = check_dasb(tok, frames=49)
    assert table.shape == (2 * 16, 16)
    features = tok.model.ssl_model.extract_features(torch.randn(1, 16000) * 0.1)  # [layers + 1, 1, N, H]
    assert features.shape == (3, 1, 49, 16)
    assert tok.tokens_to_sig(tokens[..., :1]).shape == (2, 49 * 320)  # the other layer left out
    with pytest.raises(ValueError, match="ssl_model must be one of"):
        build_tokenizer("discrete_ssl", {**discrete_ssl_files, "ssl_model": "whisper"})


def test_every_tokenizer_is_registered_under_its_name():
    assert {name: cls.name for name, cls in TOKENIZERS.items()} == {name: name for name in TOKENIZERS}
    assert set(TOKENIZERS) == {"jepa", "encodec", "mimi", "dac", "speechtokenizer", "discrete_ssl"}
