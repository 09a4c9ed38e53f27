"""Text to tokens to speech: the model overfits real (embedded) utterances,
generation stops, the exported synthesizer gives audio of the right rate and
length, bad input is refused; the recipe trains, resumes and reports."""

import pytest
import torch
from speechbrain.dataio.batch import PaddedBatch

from jepa_tokenizer.data.audio import load_audio
from jepa_tokenizer.data.embedded_corpus import corpus_path
from jepa_tokenizer.data.text import TextUnits
from jepa_tokenizer.models.tts import TokenTTS, sample_digits, tts_loss
from jepa_tokenizer.pretrained.synthesis import TextToSpeech, export_tts
from jepa_tokenizer.pretrained.tokenizers import JEPADASBTokenizer

SPEAKERS = ("9009", "9010")  # two training voices of the embedded corpus
ARCH = {"d_model": 64, "nhead": 2, "num_encoder_layers": 2, "num_decoder_layers": 2, "d_ffn": 128, "dropout": 0.0}


@pytest.fixture(scope="module")
def utterances(model_folder):
    """Two utterances of each of two voices: text, speaker index, digits."""
    tok = JEPADASBTokenizer(source=str(model_folder))
    rows = []
    for index, speaker in enumerate(SPEAKERS):
        chapter = corpus_path() / "train" / speaker / "1"
        for line in (chapter / f"{speaker}-1.trans.txt").read_text().splitlines()[:2]:
            utt, text = line.split(" ", 1)
            wav = load_audio(chapter / f"{utt}.flac", tok.sample_rate).wav
            digits = tok.codec.packer.unpack(tok.sig_to_tokens(wav[None])[0])
            rows.append({"text": text, "speaker": index, "digits": digits})
    return rows


@pytest.fixture(scope="module")
def trained(utterances, tmp_path_factory):
    """A small model trained to memorise the utterances (with its loss curve)."""
    torch.manual_seed(0)
    units = TextUnits(tmp_path_factory.mktemp("units"), [u["text"] for u in utterances])
    batch = PaddedBatch(
        [
            {"units": torch.tensor(units.encode(u["text"])), "digits": u["digits"], "speaker": u["speaker"]}
            for u in utterances
        ]
    )
    levels = utterances[0]["digits"].new_full((utterances[0]["digits"].shape[1],), 4).tolist()
    model = TokenTTS(num_units=len(units), levels=levels, num_speakers=len(SPEAKERS), **ARCH)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    losses = []
    for _ in range(200):
        out = model(batch.units.data, batch.units.lengths, batch.digits.data, batch.digits.lengths, batch.speaker)
        loss, _, _ = tts_loss(out, batch.digits.data, batch.digits.lengths, stop_pos_weight=5.0)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(float(loss.detach()))
    return {"model": model.eval(), "units": units, "batch": batch, "losses": losses}


@pytest.fixture(scope="module")
def tts(trained, model_folder, tmp_path_factory):
    folder = export_tts(
        trained["model"],
        tmp_path_factory.mktemp("tts"),
        trained["units"].folder,
        model_folder,
        speakers=SPEAKERS,
        sampling={"temperature": 0.0, "max_frames_per_unit": 0.3},
    )
    return TextToSpeech.from_folder(folder)


def test_model_overfits_embedded_utterances(trained):
    losses = trained["losses"]
    # 4 utterances, 200 full-batch steps: the loss of 16 four-level digits per
    # frame starts near log(4) = 1.39 (+ the stop term) and falls by > 90%
    assert losses[0] > 1.3
    assert losses[-1] < 0.1 * losses[0], losses[::20]


def test_generation_reproduces_and_stops(trained, utterances):
    batch = trained["batch"]
    digits, counts = trained["model"].generate(
        batch.units.data, batch.units.lengths, batch.speaker, max_frames=60, temperature=0.0
    )
    true = [u["digits"].shape[0] for u in utterances]
    assert counts.tolist() == true  # it stops by itself, well before the cap of 60
    agree = total = 0
    for row, target in enumerate(u["digits"] for u in utterances):
        agree += int((digits[row, : len(target)] == target).sum())
        total += target.numel()
        assert not digits[row, len(target) :].any()  # zeros past an item's end
    assert agree / total > 0.95  # memorised (chance: 25%), errors compounding along the frames


def test_generation_cap_and_sampling_controls(trained):
    batch = trained["batch"]
    model = trained["model"]
    _, counts = model.generate(
        batch.units.data, batch.units.lengths, batch.speaker, max_frames=torch.tensor([3, 1, 2, 4]), stop_threshold=1.0
    )
    assert counts.tolist() == [3, 1, 2, 4]  # never stops by itself: each item's cap
    torch.manual_seed(1)
    a, _ = model.generate(batch.units.data, batch.units.lengths, batch.speaker, temperature=1.5, top_k=3)
    torch.manual_seed(1)
    b, _ = model.generate(batch.units.data, batch.units.lengths, batch.speaker, temperature=1.5, top_k=3)
    assert torch.equal(a, b)  # seeded sampling is repeatable
    logits = torch.tensor([[3.0, 2.0, 1.0, 0.0]]).expand(2000, 4)
    drawn = sample_digits(logits, temperature=1.0, top_k=2)
    assert set(drawn.tolist()) == {0, 1}  # top-k keeps the two best levels only
    with pytest.raises(ValueError, match="temperature"):
        sample_digits(logits, temperature=-1.0)
    with pytest.raises(ValueError, match="speaker indices"):
        model.generate(batch.units.data, batch.units.lengths, torch.tensor([0, 1, 2, 0]))
    with pytest.raises(ValueError, match="conditioned on speakers"):
        model.generate(batch.units.data, batch.units.lengths)


def test_gradients_reach_every_part(utterances):
    units = torch.randint(1, 20, (2, 15))
    digits = torch.stack([u["digits"][:8] for u in utterances[:2]])
    model = TokenTTS(num_units=20, levels=4, num_digits=digits.shape[-1], num_speakers=2, **ARCH)
    out = model(units, torch.ones(2), digits, torch.tensor([1.0, 0.75]), torch.tensor([0, 1]))
    tts_loss(out, digits, torch.tensor([1.0, 0.75]))[0].backward()
    for name, parameter in model.named_parameters():
        assert parameter.grad is not None and parameter.grad.abs().sum() > 0, name


def test_synthesizer_rate_duration_and_speakers(tts, utterances):
    hop = tts.tokenizer.codec.hop_length
    assert tts.sample_rate == 16000 and tts.speakers == list(SPEAKERS)
    for utt in utterances:
        wav = tts.synthesize(utt["text"].lower(), speaker=SPEAKERS[utt["speaker"]])  # lower case is normalised
        assert wav.dim() == 1 and torch.isfinite(wav).all()
        assert wav.numel() == utt["digits"].shape[0] * hop  # the memorised duration
    texts = [u["text"] for u in utterances]
    wavs, lens = tts.synthesize_batch(texts, [SPEAKERS[u["speaker"]] for u in utterances])
    frames = (lens * wavs.shape[1] / hop).round().long()
    assert frames.tolist() == [u["digits"].shape[0] for u in utterances]
    # an unseen short text stays within the cap in proportion to its length
    short = tts.synthesize("THE CAT")
    assert 0 < short.numel() <= round(0.3 * len("THE CAT")) * hop


def test_synthesizer_refuses_bad_input(tts, tmp_path):
    with pytest.raises(ValueError, match="empty"):
        tts.synthesize("   ")
    with pytest.raises(ValueError, match="outside the unit inventory"):
        tts.synthesize("HELLO, WORLD!")
    with pytest.raises(ValueError, match="unknown speaker"):
        tts.synthesize("HELLO", speaker="1234")
    with pytest.raises(ValueError, match="unknown sampling"):
        tts.synthesize("HELLO", temprature=0.5)
    with pytest.raises(ValueError, match="non-empty list"):
        tts.synthesize_batch("HELLO")
    with pytest.raises(FileNotFoundError, match="not an exported TTS folder"):
        TextToSpeech.from_folder(tmp_path)


def test_command_line_synthesize(tts, tmp_path):
    from jepa_tokenizer.apps.cli import main

    folder = tts.hparams.folder
    texts = tmp_path / "texts.txt"
    texts.write_text("THE CAT\nA DOG RAN\n")
    main(
        [
            "synthesize",
            "--model",
            folder,
            "--text",
            "THE CAT",
            "--output",
            str(tmp_path / "one.wav"),
            "--speaker",
            SPEAKERS[1],
            "--seed",
            "3",
        ]
    )
    assert load_audio(tmp_path / "one.wav", 16000).wav.numel() > 0
    main(["synthesize", "--model", folder, "--texts", str(texts), "--output", str(tmp_path / "many")])
    assert sorted(p.name for p in (tmp_path / "many").iterdir()) == ["0000.wav", "0001.wav"]
    with pytest.raises(SystemExit, match="outside the unit inventory"):
        main(["synthesize", "--model", folder, "--text", "HI!", "--output", str(tmp_path / "bad.wav")])


def _recipe_args(model_folder, output, *extra):
    from conftest import corpus_args

    small = [
        "--d_model",
        "32",
        "--nhead",
        "2",
        "--num_encoder_layers",
        "1",
        "--num_decoder_layers",
        "1",
        "--d_ffn",
        "64",
        "--batch_size",
        "16",
        "--eval_max_utterances",
        "2",
        "--report_examples",
        "2",
    ]
    return corpus_args(
        "tts_tokens.yaml",
        output,
        "--codec_folder",
        str(model_folder),
        "--default_speaker",
        "9010",
        *small,
        *extra,
        test_split=True,
    )


def test_recipe_trains_exports_reports_and_resumes(model_folder, tmp_path):
    from conftest import load_recipe

    recipe = load_recipe("train_tts")
    output = tmp_path / "tts"
    args = _recipe_args(model_folder, output, "--number_of_epochs", "3")
    recipe.main(args)
    assert len([line for line in (output / "train_log.txt").read_text().splitlines() if line.startswith("epoch:")]) == 3
    assert len(list((output / "features").glob("*.pt"))) == 80 + 7 + 14  # train + valid + test
    report = (output / "report" / "report.md").read_text()
    assert "| TTS (text -> tokens -> codec decoder) |" in report
    assert (output / "report" / "spectrograms.png").stat().st_size > 0
    assert len(list((output / "report" / "wavs").glob("*_tts.wav"))) == 2
    tts = TextToSpeech.from_folder(output / "model")
    assert len(tts.speakers) == 10 and tts.hparams.default_speaker == "9010"
    assert tts.synthesize("THE CAT SAT", seed=0).numel() > 0
    # rerun: nothing extracted or trained again; a larger epoch limit continues from the checkpoint
    brain = recipe.main(args)
    assert brain.hparams.epoch_counter.current == 3
    # ... here in bf16 mixed precision (the AMP path; on a GPU also --precision fp16)
    recipe.main(_recipe_args(model_folder, output, "--number_of_epochs", "4", "--precision", "bf16"))
    lines = [line for line in (output / "train_log.txt").read_text().splitlines() if line.startswith("epoch:")]
    assert len(lines) == 4 and lines[-1].startswith("epoch: 4")
    assert "nan" not in lines[-1] and "inf" not in lines[-1]


def test_recipe_on_two_ranks_trains_the_same_model_and_reports_once(model_folder, tmp_path):
    from conftest import assert_ranks_agree, train_on_two_ranks

    output = tmp_path / "ddp"
    ranks = train_on_two_ranks("train_tts", _recipe_args(model_folder, output, "--number_of_epochs", "1"), output)
    assert ranks[0]["steps"] == ranks[1]["steps"] > 0
    assert_ranks_agree(ranks, ("model",))
    assert len(list((output / "features").glob("*.pt"))) == 80 + 7 + 14  # each rank its share
    assert (output / "report" / "report.md").is_file() and (output / "model" / "model.ckpt").is_file()


def test_sentencepiece_units_without_speakers_export_and_synthesize(utterances, model_folder, tmp_path):
    pytest.importorskip("sentencepiece")
    units = TextUnits(tmp_path / "units", [u["text"] for u in utterances] * 5, "unigram", 60)
    model = TokenTTS(num_units=len(units), levels=[4] * utterances[0]["digits"].shape[1], **ARCH).eval()  # no speakers
    folder = export_tts(
        model,
        tmp_path / "tts",
        units.folder,
        model_folder,
        "unigram",
        60,
        sampling={"max_frames_per_unit": 0.5, "stop_threshold": 1.0},
    )
    tts = TextToSpeech.from_folder(folder)
    assert tts.speakers == [] and tts.units.kind == "unigram"
    text = utterances[0]["text"]
    frames = round(0.5 * len(units.encode(text)))  # never stops by itself: the cap, per SentencePiece unit
    assert tts.synthesize(text).numel() == frames * tts.tokenizer.codec.hop_length
    with pytest.raises(ValueError, match="no speaker table"):
        tts.synthesize(text, speaker="9010")


def test_long_texts_and_bad_sampling_are_one_line_errors(tts):
    """Texts longer than the model reads, and NaN or negative sampling
    options, are clear errors, not tensor-size crashes."""
    longest = tts.model.max_len
    with pytest.raises(ValueError, match=f"longer than this model reads \\({longest}\\); split it"):
        tts.synthesize("HELLO " * (longest // 5))
    for key, value in {"temperature": float("nan"), "top_k": -1, "stop_threshold": 0.0, "min_frames": 1.5}.items():
        with pytest.raises(ValueError, match=f"{key} must be"):
            tts.synthesize("HELLO", **{key: value})


def test_incomplete_or_crafted_tts_folders_are_refused_untouched(tts, tmp_path):
    """A folder without its units or codec is refused without being written
    to (an earlier version made an empty chars.json in it); sampling defaults
    out of range are refused at load."""
    import shutil

    from jepa_tokenizer.apps.cli import main

    for missing, message in (("units/chars.json", "text units"), ("codec", "codec folder")):
        folder = tmp_path / missing.replace("/", "_")
        shutil.copytree(tts.hparams.folder, folder)
        target = folder / missing
        shutil.rmtree(target) if target.is_dir() else target.unlink()
        before = sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
        with pytest.raises(ValueError, match=f"incomplete: its {message}"):
            TextToSpeech.from_folder(folder)
        assert sorted(str(p.relative_to(folder)) for p in folder.rglob("*")) == before
        with pytest.raises(SystemExit, match=f"^error: .*incomplete: its {message}"):
            main(["synthesize", "--model", str(folder), "--text", "HELLO", "--output", str(tmp_path / "x.wav")])
    crafted = tmp_path / "crafted"
    shutil.copytree(tts.hparams.folder, crafted)
    yaml = crafted / "hyperparams.yaml"
    yaml.write_text(yaml.read_text().replace("temperature: 0.0", "temperature: .nan"))
    with pytest.raises(ValueError, match="temperature must be a finite number"):
        TextToSpeech.from_folder(crafted)
    with pytest.raises(SystemExit, match="^error: .*missing.txt"):
        main(
            [
                "synthesize",
                "--model",
                str(tts.hparams.folder),
                "--texts",
                str(tmp_path / "missing.txt"),
                "--output",
                str(tmp_path / "o"),
            ]
        )
    with pytest.raises(SystemExit, match="^error: .*not an exported TTS folder"):
        main(["synthesize", "--model", str(tmp_path / "nowhere"), "--text", "HI", "--output", str(tmp_path / "o.wav")])
