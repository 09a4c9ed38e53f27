"""Downstream ASR: the DASB adapter, token extraction, the front-end, text
units, and the recipe for our tokenizer and a random-weight EnCodec."""

import csv

import pytest
import torch
from conftest import assert_ranks_agree, corpus_args, load_recipe, recipe_file, train_on_two_ranks, wer_file_summary

from jepa_tokenizer.data.embedded_corpus import corpus_path
from jepa_tokenizer.data.extraction import extract_features, load_features
from jepa_tokenizer.data.text import TextUnits
from jepa_tokenizer.models.asr import CodebookEmbedding, TemporalUpsampler
from jepa_tokenizer.pretrained.tokenizers import EncodecDASBTokenizer, JEPADASBTokenizer, build_tokenizer
from jepa_tokenizer.training.train_log import parse_train_log


@pytest.fixture(scope="module")
def encodec_folder(tmp_path_factory):
    """A small EnCodec with random weights saved locally (nothing downloaded)."""
    transformers = pytest.importorskip("transformers")
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("encodec")
    config = transformers.EncodecConfig(num_filters=8, hidden_size=32, codebook_dim=32, num_lstm_layers=1)
    transformers.EncodecModel(config).save_pretrained(folder)
    return folder


@pytest.fixture
def manifest(tmp_path):
    speaker = corpus_path() / "test" / "9013" / "1"
    lines = (speaker / "9013-1.trans.txt").read_text().splitlines()[:3]
    path = tmp_path / "m.csv"
    with open(path, "w", newline="") as stream:
        writer = csv.writer(stream)
        writer.writerow(["ID", "wav", "wrd"])
        for line in lines:
            utt, text = line.split(" ", 1)
            writer.writerow([utt, speaker / f"{utt}.flac", text])
    return path


def test_dasb_adapter_round_trip(model_folder):
    tok = JEPADASBTokenizer(source=str(model_folder))
    wav = torch.randn(2, 20000) * 0.1
    lengths = torch.tensor([1.0, 0.6])
    tokens = tok.sig_to_tokens(wav, lengths)
    assert tokens.dtype == torch.int64 and tokens.shape == (2, 4, tok.num_codebooks)
    assert 0 <= int(tokens.min()) and int(tokens.max()) < tok.vocab_size
    alone = tok.sig_to_tokens(wav[1:, :12000], torch.ones(1))
    assert torch.equal(tokens[1, : alone.shape[1]], alone[0])  # padding-exact
    signal = tok.tokens_to_sig(tokens)
    assert signal.shape == (2, 4 * tok.codec.hop_length) and signal.dtype == torch.float32
    assert tok.tokens_per_second == pytest.approx(7.5) and tok.frame_rate == pytest.approx(2.5)
    with pytest.raises(ValueError, match="num_codebooks=5: JEPA tokens are not coarse-to-fine"):
        tok.sig_to_tokens(wav, lengths, num_codebooks=5)


def test_pretrained_embeddings_are_the_fsq_values_of_each_token(model_folder):
    tok = JEPADASBTokenizer(source=str(model_folder))
    table = tok.get_pretrained_embeddings(tok.vocab_size, tok.num_codebooks)
    K, C = tok.num_codebooks, tok.vocab_size
    assert table.shape[0] == K * C
    tokens = tok.sig_to_tokens(torch.randn(1, 16000) * 0.1)[0]  # [N, K]
    codes = tok.codec.quantizer.digits_to_codes(tok.codec.packer.unpack(tokens))  # [N, digits]
    group = table.shape[1]
    for k in range(K):
        rows = table[k * C + tokens[:, k]]
        expected = codes[:, k * group : (k + 1) * group]
        assert torch.allclose(rows[:, : expected.shape[1]], expected.float())


def test_untrained_tokenizer_has_the_architecture_and_other_weights(model_folder):
    trained = JEPADASBTokenizer(source=str(model_folder))
    untrained = build_tokenizer("jepa", {"source": str(model_folder), "untrained": True, "seed": 5})
    a, b = trained.codec.state_dict(), untrained.codec.state_dict()
    assert a.keys() == b.keys()
    assert any(not torch.equal(a[k], b[k]) for k in a if a[k].is_floating_point())


def test_extraction_is_resumable_identical_and_split_across_ranks(model_folder, manifest, tmp_path):
    tok = JEPADASBTokenizer(source=str(model_folder))
    folder = tmp_path / "features"
    assert extract_features(tok, manifest, folder, progress=False) == 3
    first = {p.name: torch.load(p) for p in folder.glob("*.pt")}
    victim = sorted(folder.glob("*.pt"))[1]
    victim.unlink()
    (folder / f".{victim.stem}.pt.partial").write_bytes(b"interrupted")  # a half-written file is ignored
    assert extract_features(tok, manifest, folder, progress=False) == 1
    again = {p.name: torch.load(p) for p in folder.glob("*.pt")}
    assert first.keys() == again.keys() and all(torch.equal(first[k], again[k]) for k in first)
    assert load_features(folder, victim.stem).dtype == torch.int64
    split = tmp_path / "split"
    done = [extract_features(tok, manifest, split, rank=r, world_size=2, progress=False) for r in (0, 1)]
    assert done == [2, 1] and len(list(split.glob("*.pt"))) == 3
    with pytest.raises(ValueError, match="another tokenizer or kind"):
        extract_features(tok, manifest, folder, kind="latents", progress=False)
    with pytest.raises(FileNotFoundError, match="run the extraction first"):
        load_features(folder, "nope")


def test_encodec_adapter_on_random_weights(encodec_folder):
    tok = EncodecDASBTokenizer(source=str(encodec_folder), bandwidth=1.5)
    tokens = tok.sig_to_tokens(torch.randn(2, 24000) * 0.1, torch.tensor([1.0, 0.5]))
    assert tokens.shape == (2, 75, 2) and tokens.dtype == torch.int64
    assert tok.tokens_to_sig(tokens).shape[-1] == 24000
    assert tok.get_pretrained_embeddings().shape[0] == 2 * tok.vocab_size


def test_front_end_shapes_gradients_and_pretrained_tables():
    pretrained = torch.randn(3 * 10, 4)
    emb = CodebookEmbedding(num_codebooks=3, vocab_size=10, dim=8, pooling="concat", pretrained=pretrained)
    up = TemporalUpsampler(dim=8, factor=16)
    out = up(emb(torch.randint(0, 10, (2, 5, 3))))
    assert out.shape == (2, 80, 8)
    out.sum().backward()
    assert emb.table.weight.grad is None and emb.project.weight.grad is not None  # frozen table
    with pytest.raises(ValueError, match="30 rows"):
        CodebookEmbedding(num_codebooks=3, vocab_size=10, dim=8, pretrained=torch.randn(20, 4))
    with pytest.raises(ValueError, match="pooling"):
        CodebookEmbedding(num_codebooks=3, vocab_size=10, dim=8, pooling="max")


def test_sentencepiece_units_round_trip(tmp_path):
    texts = [
        line.split(" ", 1)[1]
        for line in (corpus_path() / "train" / "9001" / "1" / "9001-1.trans.txt").read_text().splitlines()
    ]
    units = TextUnits(tmp_path, texts, "unigram", 60)
    ids = units.encode(texts[0])
    assert min(ids) >= 1 and units.decode(ids) == texts[0]
    assert len(units) == len(units.vocab_list)
    reloaded = TextUnits(tmp_path, [], "unigram", 60)  # from the saved model
    assert reloaded.encode(texts[0]) == ids


def _asr_args(output, *extra):
    small = ["--lstm_hidden", "32", "--lstm_layers", "1", "--embedding_dim", "32", "--dropout", "0.0"]
    return corpus_args("asr_tokens.yaml", output, *small, *extra, test_split=True)


def test_asr_recipe_trains_and_tests_on_our_tokens(model_folder, tmp_path):
    recipe = load_recipe("train_asr")
    args = _asr_args(
        tmp_path,
        "--tokenizer_options",
        f"{{source: {model_folder}}}",
        "--number_of_epochs",
        "4",
        "--lr",
        "0.002",
        "--test_beam_size",
        "4",
    )
    brain = recipe.main(args)
    log = [row for row in parse_train_log(str(tmp_path / "train_log.txt")) if "train loss" in row]
    assert len(log) == 4 and log[-1]["train loss"] < 0.9 * log[0]["train loss"]
    assert all(row["train unfit_percent"] == 0 for row in log)
    result = brain.test_results["test"]
    # every word of the 14 test utterances scored, and the reported WER is the alignments'
    with open(tmp_path / "save" / "test.csv", newline="") as stream:
        words = sum(len(row["wrd"].split()) for row in csv.DictReader(stream))
    wer, scored = wer_file_summary(tmp_path / "wer_test.txt")
    assert scored == words and result["WER"] == pytest.approx(wer, abs=0.01)
    assert result["CER"] > 0  # 4 epochs on 80 utterances cannot be perfect on unseen voices
    assert "9014-1-0000" in (tmp_path / "wer_test.txt").read_text()
    features = sorted((tmp_path / "features").glob("*.pt"))
    assert len(features) == 80 + 7 + 14
    stamps = [f.stat().st_mtime_ns for f in features]
    recipe.main(args)  # resumed: nothing extracted again, nothing trained again
    assert [f.stat().st_mtime_ns for f in features] == stamps


def test_asr_recipe_on_two_ranks_extracts_each_utterance_once_and_trains(model_folder, tmp_path):
    out = tmp_path / "ddp"
    args = _asr_args(
        out, "--tokenizer_options", f"{{source: {model_folder}}}", "--number_of_epochs", "1", "--test_beam_size", "0"
    )
    ranks = train_on_two_ranks("train_asr", args, out)
    assert ranks[0]["steps"] == ranks[1]["steps"] > 0
    assert_ranks_agree(ranks, ("front_end", "upsampler", "encoder", "output_layer"))
    calls = [call for rank in ranks for call in rank["extractions"]]
    assert sorted((c["rank"], c["world_size"]) for c in calls) == [(0, 2)] * 3 + [(1, 2)] * 3  # train, valid, test
    features = out / "features"
    for manifest in sorted({c["manifest"] for c in calls}):
        with open(manifest, newline="") as stream:
            ids = {row["ID"] for row in csv.DictReader(stream)}
        # the ranks' shares add up to the manifest: with every file present, none was written twice
        assert sum(c["written"] for c in calls if c["manifest"] == manifest) == len(ids)
        assert ids <= {f.stem for f in features.glob("*.pt")}
    assert len(list(features.glob("*.pt"))) == 80 + 7 + 14 and not list(features.glob(".*.partial"))
    assert "test" in (out / "train_log.txt").read_text().splitlines()[-1]


def test_asr_recipe_runs_encodec_and_the_bounds_through_the_same_script(model_folder, encodec_folder, tmp_path):
    recipe = load_recipe("train_asr")
    one = ["--number_of_epochs", "1", "--test_beam_size", "0"]
    enc = recipe.main(
        _asr_args(
            tmp_path / "enc",
            "--tokenizer_kind",
            "encodec",
            "--tokenizer_options",
            f"{{source: {encodec_folder}, bandwidth: 1.5}}",
            "--upsample_factor",
            "1",
            *one,
        )
    )
    assert enc.modules.front_end.num_codebooks == 2 and "test" in enc.test_results
    lat = recipe.main(
        _asr_args(tmp_path / "lat", "--tokenizer_options", f"{{source: {model_folder}}}", "--features", "latents", *one)
    )
    assert type(lat.modules.front_end).__name__ == "LatentProjection"
    low = recipe.main(
        _asr_args(
            tmp_path / "low",
            "--tokenizer_options",
            f"{{source: {model_folder}, untrained: True}}",
            "--use_pretrained_embeddings",
            "True",
            *one,
        )
    )
    assert low.modules.front_end.table.weight.requires_grad is False
    with pytest.raises(ValueError, match="needs our tokenizer"):
        recipe.main(
            _asr_args(
                tmp_path / "bad",
                "--tokenizer_kind",
                "encodec",
                "--tokenizer_options",
                f"{{source: {encodec_folder}}}",
                "--features",
                "latents",
                *one,
            )
        )


def test_compare_codecs_writes_one_row_per_tokenizer_and_resumes(model_folder, encodec_folder, tmp_path):
    compare = load_recipe("compare_codecs")
    entries = (
        f"[{{name: ours, tokenizer_kind: jepa, tokenizer_options: {{source: {model_folder}}}}}, "
        f"{{name: encodec, tokenizer_kind: encodec, upsample_factor: 1, "
        f"tokenizer_options: {{source: {encodec_folder}, bandwidth: 1.5}}}}]"
    )
    args = [
        str(recipe_file("compare_codecs.yaml")),
        "--data_folder",
        str(corpus_path()),
        "--output_folder",
        str(tmp_path),
        "--train_splits",
        "[train]",
        "--valid_splits",
        "[valid]",
        "--test_splits",
        "[test]",
        "--device",
        "cpu",
        "--entries",
        entries,
        "--asr_overrides",
        "{number_of_epochs: 1, lstm_hidden: 16, lstm_layers: 1, embedding_dim: 16, "
        "dropout: 0.0, num_workers: 0, test_beam_size: 0}",
        "--resynthesis_max_utterances",
        "1",
        "--resynthesis_asr",
        "pocketsphinx",
    ]
    table = compare.main(args)
    rows = [
        line for line in table.read_text().splitlines() if line.startswith("| ours") or line.startswith("| encodec")
    ]
    assert len(rows) == 2
    assert "| ours | test | 2.5 | 7.5 | 80 |" in rows[0] and "| encodec | test | 75 | 150 | 1500 |" in rows[1]
    assert (tmp_path / "wer_vs_bitrate.png").stat().st_size > 1000
    stamp = (tmp_path / "results.json").stat().st_mtime_ns
    compare.main(args)  # both finished: nothing runs again
    assert (tmp_path / "results.json").stat().st_mtime_ns == stamp
