"""The log-mel codec (MelEncoder, MelDecoder, GriffinLim), its supervision
heads (CTC on the transcript, teacher features) and its recipe on the
embedded corpus (tiny model, CPU)."""

import json
import os
import shutil
import subprocess
import sys

import pytest
import torch
from conftest import assert_ranks_agree, corpus_args, load_recipe, recipe_file, train_on_two_ranks

from jepa_tokenizer import FSQ, JEPACodec, MixedRadixPacker
from jepa_tokenizer.data.audio import load_audio, save_audio
from jepa_tokenizer.data.embedded_corpus import corpus_path
from jepa_tokenizer.evaluation.metrics import stoi
from jepa_tokenizer.models.mel_codec import GriffinLim, MelDecoder, MelEncoder
from jepa_tokenizer.pretrained.export import export_codec
from jepa_tokenizer.pretrained.safe_load import load_codec
from jepa_tokenizer.training.supervision import CTCHead, FeatureHead

SMALL = {"stage_dims": [32, 32], "heads": 2, "conv_dim": 16, "dropout": 0.0}


def small_codec(code_dim: int = 128) -> JEPACodec:
    torch.manual_seed(0)
    encoder = MelEncoder(code_dim=code_dim, stage_layers=[1, 1], **SMALL)
    decoder = MelDecoder(code_dim=code_dim, stage_layers=[1, 1], vocoder=GriffinLim(iterations=4), **SMALL)
    quantizer = FSQ(levels=4, dim=code_dim)
    return JEPACodec(encoder, quantizer, MixedRadixPacker(radices=4, num_digits=code_dim, group_size=7), decoder)


def embedded_utterances(count: int = 2):
    files = sorted((corpus_path() / "train").rglob("*.flac"))[:count]
    texts = {}
    for trans in sorted((corpus_path() / "train").rglob("*.trans.txt")):
        for line in trans.read_text().splitlines():
            key, _, text = line.partition(" ")
            texts[key] = text
    return [load_audio(f, 16000).wav for f in files], [texts[f.stem] for f in files]


def padded_pair():
    """The shorter of two embedded utterances, and both as a zero-padded batch with relative lengths."""
    wavs, _ = embedded_utterances(2)
    short, long = sorted(wavs, key=len)
    batch = torch.zeros(2, len(long))
    batch[0, : len(short)], batch[1] = short, long
    return short, batch, torch.tensor([len(short) / len(long), 1.0])


def test_token_format_is_the_methods():
    codec = small_codec()
    assert (codec.frame_rate, codec.tokens_per_frame, codec.tokens_per_second, codec.bitrate) == (2.5, 19, 47.5, 640.0)
    tokens = codec.encode(torch.randn(1, 16000))
    assert tokens.shape == (1, 3, 19) and int(tokens.max()) < 4**7


def test_padded_batch_gives_each_item_what_it_gets_alone():
    codec = small_codec().eval()
    short, batch, lens = padded_pair()
    with torch.no_grad():
        together = codec.encoder(batch, lens)
        alone = codec.encoder(short.unsqueeze(0))
        frames = int(alone.counts[0])
        assert int(together.counts[0]) == frames
        torch.testing.assert_close(together.latents[0, :frames], alone.latents[0], atol=1e-4, rtol=1e-4)
        codes = codec.quantize(together.latents).codes
        mel_batch = codec.decoder.decode_mel(codes, together.counts).log_mel
        mel_alone = codec.decoder.decode_mel(codes[:1, :frames]).log_mel
        torch.testing.assert_close(mel_batch[0, :, : mel_alone.shape[-1]], mel_alone[0], atol=1e-4, rtol=1e-4)


def test_griffin_lim_renders_true_log_mel_aligned():
    pytest.importorskip("pystoi", reason="STOI needs pystoi (the metrics extra)")
    wav = embedded_utterances(1)[0][0]
    encoder = MelEncoder(**SMALL)
    rendered = GriffinLim(iterations=32)(encoder.log_mel(wav.unsqueeze(0)))[0, : len(wav)]
    assert rendered.shape == wav.shape
    aligned = stoi(wav, rendered, 16000)
    shifted = stoi(wav, torch.roll(rendered, encoder.mel_hop // 2), 16000)
    assert aligned > 0.85 and aligned > shifted


def test_encoder_rejects_wrong_shapes():
    encoder = MelEncoder(**SMALL)
    with pytest.raises(ValueError, match="batch, samples"):
        encoder(torch.randn(16000))
    with pytest.raises(ValueError, match="multiple of 25"):
        encoder.encode_log_mel(torch.randn(1, 80, 30))
    with pytest.raises(ValueError, match="one length"):
        MelEncoder(stage_dims=[8], stage_strides=[5, 5], stage_layers=[1], stage_kernels=[3])


def test_exported_folder_reloads_to_the_same_tokens_and_audio(tmp_path):
    codec = small_codec().eval()
    folder = export_codec(codec, tmp_path / "model")
    loaded = load_codec(folder).eval()
    wav = embedded_utterances(1)[0][0].unsqueeze(0)
    tokens = codec.encode(wav)
    assert torch.equal(loaded.encode(wav), tokens)
    out = loaded.decode(tokens, num_samples=wav.shape[1])
    assert out.shape == wav.shape and torch.isfinite(out).all()
    torch.testing.assert_close(out, codec.decode(tokens, num_samples=wav.shape[1]))


def test_ctc_loss_falls_on_real_speech_and_reaches_the_codes():
    codec = small_codec(code_dim=16)
    head = CTCHead(input_dim=32, upsample=2)
    wavs, texts = embedded_utterances(2)
    batch = torch.nn.utils.rnn.pad_sequence(wavs, batch_first=True)
    lens = torch.tensor([len(w) for w in wavs]) / batch.shape[1]
    params = list(codec.parameters()) + list(head.parameters())
    optimizer = torch.optim.Adam(params, lr=3e-3)
    losses = []
    for _ in range(30):
        enc = codec.encoder(batch, lens)
        decoded = codec.decoder.decode_mel(codec.quantize(enc.latents).codes, enc.counts)
        loss = head.loss(decoded.hidden[1], decoded.counts[1], texts)
        optimizer.zero_grad()
        loss.backward()
        if not losses:
            assert codec.encoder.proj.weight.grad.abs().sum() > 0  # through the codes (straight-through)
        optimizer.step()
        losses.append(float(loss))
    assert losses[-1] < 0.7 * losses[0]


def test_ctc_head_reads_a_perfect_feature():
    head = CTCHead(input_dim=4, characters=" AB", upsample=1)
    with torch.no_grad():
        head.proj.weight.copy_(torch.eye(4) * 20)
        head.proj.bias.zero_()
    one_hot = torch.eye(4)[[2, 0, 1, 3]].unsqueeze(0)  # A, blank, space, B
    assert head.greedy(one_hot, torch.tensor([4])) == ["A B"]
    assert float(head.loss(one_hot, torch.tensor([4]), ["a b"])) < 1e-3


def test_feature_head_loss_is_zero_on_its_own_targets_and_masks_padding():
    head = FeatureHead(input_dim=8, teacher_dim=6, upsample=2)
    hidden = torch.randn(2, 3, 8)
    target = head(hidden).detach()
    target[1, 4:] = torch.randn(2, 6)  # beyond item 1's counts: ignored
    loss = head.loss(hidden, torch.tensor([3, 2]), target, torch.tensor([6, 6]))
    assert float(loss) < 1e-6


# ------------------------------------------------------------------ recipe
@pytest.fixture(scope="module")
def recipe():
    return load_recipe("train_mel_codec")


TINY = [
    "--width",
    "32",
    "--conv_dim",
    "16",
    "--heads",
    "2",
    "--encoder_layers",
    "[1, 1]",
    "--decoder_layers",
    "[1, 1]",
    "--max_batch_seconds",
    "12",
    "--griffin_lim_iterations",
    "2",
    "--lr_warmup_steps",
    "2",
]


FOLD_TINY = [a if a != "[1, 1]" else "[1]" for a in TINY]  # the folded YAML has one stage each way


def mel_args(output, *extra):
    judge = [] if "--judge" in extra else ["--judge", "none"]
    return corpus_args("mel_codec.yaml", output, *TINY, *judge, *extra)


def test_recipe_trains_logs_each_term_and_exports(recipe, tmp_path):
    brain = recipe.main(mel_args(tmp_path, "--number_of_epochs", "1", "--optimizer_step_limit", "3"))
    assert brain.optimizer_step == 3
    assert {"mel_l1", "ctc"} <= set(brain.train_stats) and "teacher" not in brain.train_stats
    assert abs(brain.train_stats["loss"] - brain.train_stats["mel_l1"] - 0.5 * brain.train_stats["ctc"]) < 1e-3
    tokenizer_folder = tmp_path / "model"
    codec = load_codec(tokenizer_folder)
    assert codec.bitrate == 640.0 and isinstance(codec.decoder, MelDecoder)


def test_ctc_weight_zero_trains_the_codec_alone(recipe, tmp_path):
    brain = recipe.main(
        mel_args(tmp_path, "--number_of_epochs", "1", "--optimizer_step_limit", "2", "--ctc_weight", "0")
    )
    assert "ctc" not in brain.train_stats
    assert abs(brain.train_stats["loss"] - brain.train_stats["mel_l1"]) < 1e-6
    assert brain.modules.model.ctc_head is None  # not trained, not in the optimizer
    assert all(p.grad is None for p in brain.hparams.ctc_head.parameters())


def test_teacher_loss_reads_teacher_features(recipe, tmp_path):
    teacher = tmp_path / "teacher"
    teacher.mkdir()
    # teacher features of every utterance: a fixed random projection of its log-mel frames
    torch.manual_seed(1)
    projection = torch.randn(80, 512)
    for wav in corpus_path().rglob("*.flac"):
        mel = MelEncoder().features(load_audio(wav, 16000).wav.unsqueeze(0))[0]
        torch.save((mel @ projection).half(), teacher / f"{wav.stem}.pt")
    brain = recipe.main(
        mel_args(
            tmp_path / "run",
            "--number_of_epochs",
            "1",
            "--optimizer_step_limit",
            "2",
            "--teacher_weight",
            "1.0",
            "--teacher_folder",
            str(teacher),
            "--teacher_extractor",
            "null",
        )
    )
    assert 0.0 < brain.train_stats["teacher"] <= 2.0


def test_teacher_weight_without_features_is_a_clear_error(recipe, tmp_path):
    with pytest.raises(ValueError, match="teacher_folder"):
        recipe.main(mel_args(tmp_path, "--teacher_weight", "1.0", "--teacher_folder", "null"))


def test_stopped_run_resumes_and_continues_its_curve(recipe, tmp_path):
    recipe.main(mel_args(tmp_path, "--number_of_epochs", "1", "--optimizer_step_limit", "2"))
    brain = recipe.main(mel_args(tmp_path, "--number_of_epochs", "2", "--optimizer_step_limit", "40"))
    assert brain.optimizer_step > 2
    lines = (tmp_path / "train_log.txt").read_text().splitlines()
    epochs = [int(line.split("epoch: ")[1].split(",")[0]) for line in lines if line.startswith("epoch")]
    assert epochs == [1, 2]


def test_judge_curve_lines(recipe, tmp_path, monkeypatch):
    class Echo:
        description = "echo"
        sample_rate = 16000

        def transcribe(self, wav):
            return "A"

    monkeypatch.setitem(recipe.main.__globals__, "make_asr", lambda kind: Echo())
    recipe.main(
        mel_args(
            tmp_path,
            "--number_of_epochs",
            "1",
            "--optimizer_step_limit",
            "2",
            "--judge",
            "auto",
            "--judge_interval_epochs",
            "1",
            "--judge_utterances",
            "2",
        )
    )
    lines = [json.loads(line) for line in (tmp_path / "judge_curve.jsonl").read_text().splitlines()]
    assert len(lines) == 1 and lines[0]["judge"] == "echo" and lines[0]["utterances"] == 2
    assert lines[0]["judge_wer"] > 0 and 0 <= lines[0]["ctc_cer"]


# -------------------------------------------------------------- GPU script
GPU_SCRIPT = recipe_file("mel_codec_gpu.sh")


def test_gpu_script_trains_and_returns_a_model_in_pieces(tmp_path):
    env = {**os.environ, "DEVICE": "cpu", "PRECISION": "fp32", "PYTHON": sys.executable}
    out = tmp_path / "out"
    splits = ["--train_splits", "[train]", "--valid_splits", "[valid]"]
    cmd = [
        "bash",
        str(GPU_SCRIPT),
        "train",
        str(corpus_path()),
        str(out),
        "0",
        *splits,
        *FOLD_TINY,
        "--judge",
        "none",
        "--optimizer_step_limit",
        "2",
    ]
    subprocess.run(cmd, env=env, check=True, capture_output=True)
    pieces = sorted(out.glob("codec.ckpt.*"))
    assert pieces and all(p.stat().st_size <= 16 << 20 for p in pieces)
    assert (out / "train_log.txt").is_file()
    subprocess.run(["bash", str(GPU_SCRIPT), "join", str(out), str(tmp_path / "model")], check=True)
    codec = load_codec(tmp_path / "model")
    assert codec.bitrate == 640.0 and codec.encoder.fold == 5 and next(codec.parameters()).dtype == torch.float32


def test_gpu_script_packs_a_corpus_small(tmp_path):
    if not shutil.which("opusenc") or not shutil.which("opusdec"):
        pytest.skip("opus-tools (opusenc, opusdec) not installed: apt-get install opus-tools")
    source = tmp_path / "src"
    for split in ("train-clean-5", "dev-clean-2"):
        chapter = source / split / "1" / "2"
        chapter.mkdir(parents=True)
        wav, _ = embedded_utterances(1)
        save_audio(chapter / "1-2-0000.flac", wav[0], 16000)
        (chapter / "1-2.trans.txt").write_text("1-2-0000 HELLO\n")
    subprocess.run(
        ["bash", str(GPU_SCRIPT), "pack", str(source), str(tmp_path / "dst"), "12"], check=True, capture_output=True
    )
    packed = sorted((tmp_path / "dst").rglob("*.opus"))
    assert len(packed) == 2 and all((p.parent / "1-2.trans.txt").is_file() for p in packed)
    assert load_audio(packed[0], 16000).wav.numel() > 0


def test_a_recipe_run_ships_as_a_float16_folder_with_its_record(recipe, tmp_path):
    ship_model = load_recipe("ship_model")
    recipe.main(mel_args(tmp_path / "run", "--number_of_epochs", "1", "--optimizer_step_limit", "2"))
    evaluation = tmp_path / "compare.json"
    evaluation.write_text(json.dumps({"settings": {"utterances": 2}, "rows": [{"system": "ours", "wer": 50.0}]}))
    record = ship_model.recipe_run_record(tmp_path / "run", "python train_mel_codec.py ...", evaluation)
    assert record["stages"]["codec"]["steps"] == 2 and record["evaluation"]["rows"][0]["wer"] == 50.0
    folder = ship_model.ship(tmp_path / "run", tmp_path / "shipped", record)
    info = json.loads((folder / "training.json").read_text())
    assert info["weights"] == "float16" and info["bitrate"] == 640.0 and info["commands"] == record["commands"]
    assert load_codec(folder).tokens_per_frame == 19
    with pytest.raises(FileNotFoundError, match="no logged step"):
        (tmp_path / "empty").mkdir()
        (tmp_path / "empty" / "train_log.txt").write_text("")
        ship_model.recipe_run_record(tmp_path / "empty", "cmd", None)
    continued = ship_model.recipe_run_record(tmp_path / "run", "cmd --init_from shipped", None, folder)
    assert continued["commands"] == ["python train_mel_codec.py ...", "cmd --init_from shipped"]
    assert continued["earlier"]["stages"] == info["stages"] and continued["stages"]["codec"]["steps"] == 2
    with pytest.raises(FileNotFoundError, match="--continues names the shipped model folder"):
        ship_model.recipe_run_record(tmp_path / "run", "cmd", None, tmp_path / "empty")


def test_two_ranks_over_gloo_agree_after_training(tmp_path):
    out = tmp_path / "ddp"
    args = mel_args(out, "--number_of_epochs", "1", "--optimizer_step_limit", "2", "--teacher_weight", "0")
    ranks = train_on_two_ranks("train_mel_codec", args, out)
    assert ranks[0]["steps"] == ranks[1]["steps"] == 2
    assert_ranks_agree(ranks, ("model",))
    written = sorted(call["written"] for rank in ranks for call in rank["extractions"])
    assert sum(written) > 0  # the log-mel frames were shared out between the ranks


# -------------------------------------------------------------- folded codes
FOLD_SMALL = {"stage_dims": [32], "stage_strides": [5], "stage_layers": [1], "stage_kernels": [5], "heads": 2}


def folded_pair():
    """A folded codec (five 12.5 Hz frames of 25 digits in each 2.5 Hz frame)
    and the 12.5 Hz codec of 25 digits with the same weights."""
    torch.manual_seed(0)
    parts = {}
    for name, fold, dim in (("folded", 5, 128), ("sub", 1, 25)):
        encoder = MelEncoder(code_dim=dim, fold=fold, conv_dim=16, dropout=0.0, **FOLD_SMALL)
        decoder = MelDecoder(
            code_dim=dim, fold=fold, conv_dim=16, dropout=0.0, vocoder=GriffinLim(iterations=2), **FOLD_SMALL
        )
        parts[name] = (encoder, decoder)
    parts["sub"][0].load_state_dict(parts["folded"][0].state_dict())
    parts["sub"][1].load_state_dict(parts["folded"][1].state_dict())
    folded = JEPACodec(
        *parts["folded"][:1],
        FSQ(levels=4, dim=128),
        MixedRadixPacker(radices=4, num_digits=128, group_size=7),
        parts["folded"][1],
    )
    return folded.eval(), parts["sub"][0].eval(), parts["sub"][1].eval()


def test_folded_codec_keeps_the_token_format_and_equals_its_sub_frame_codec():
    folded, sub_encoder, sub_decoder = folded_pair()
    assert (folded.frame_rate, folded.tokens_per_frame, folded.bitrate) == (2.5, 19, 640.0)
    assert sub_encoder.frame_rate == 12.5
    short, batch, lens = padded_pair()
    with torch.no_grad():
        log_mel = folded.encoder.log_mel(batch)
        mel_counts = -(-torch.round(lens * batch.shape[1]).long() // folded.encoder.mel_hop)
        enc = folded.encoder.encode_log_mel(log_mel, mel_counts)
        sub = sub_encoder.encode_log_mel(log_mel, mel_counts)
        frames = enc.latents.shape[1]
        assert enc.counts.tolist() == [-(-int(c) // 5) for c in sub.counts.tolist()]
        # five sub-frames side by side, the three values left over constant
        real = sub.latents * (torch.arange(frames * 5) < sub.counts.unsqueeze(1)).unsqueeze(-1)
        torch.testing.assert_close(enc.latents[..., :125], real.reshape(2, frames, 125))
        assert enc.latents[..., 125:].abs().max() == 0
        quant = folded.quantize(enc.latents)
        assert (quant.digits[..., 125:] == quant.digits[0, 0, 125]).all()
        tokens = folded.encode(batch, lens)
        assert torch.equal(folded.packer.unpack(tokens), quant.digits)
        # the decoder reads the same sub-frames as the 12.5 Hz decoder
        sub_codes = quant.codes[..., :125].reshape(2, frames * 5, 25)
        torch.testing.assert_close(
            folded.decoder.decode_mel(quant.codes, enc.counts).log_mel,
            sub_decoder.decode_mel(sub_codes, enc.counts * 5).log_mel,
        )


def test_folded_padded_batch_gives_each_item_what_it_gets_alone():
    folded, _, _ = folded_pair()
    short, batch, lens = padded_pair()
    with torch.no_grad():
        together = folded.encoder(batch, lens)
        alone = folded.encoder(short.unsqueeze(0), torch.tensor([1.0]))
    frames = int(alone.counts[0])
    assert int(together.counts[0]) == frames
    torch.testing.assert_close(together.latents[0, :frames], alone.latents[0], atol=1e-4, rtol=1e-4)


def test_fold_errors_name_the_fix():
    with pytest.raises(ValueError, match="fold must be in"):
        MelEncoder(code_dim=4, fold=5, **FOLD_SMALL)
    with pytest.raises(ValueError, match="fold must be in"):
        MelDecoder(code_dim=8, fold=0, **FOLD_SMALL)
    encoder = MelEncoder(code_dim=128, fold=5, conv_dim=16, **FOLD_SMALL)
    decoder = MelDecoder(code_dim=128, conv_dim=16, vocoder=GriffinLim(iterations=1), **FOLD_SMALL)
    with pytest.raises(ValueError, match="samples per frame"):
        JEPACodec(encoder, FSQ(levels=4, dim=128), MixedRadixPacker(radices=4, num_digits=128, group_size=7), decoder)


def test_folded_codec_exports_and_loads_safely(tmp_path):
    folded, _, _ = folded_pair()
    loaded = load_codec(export_codec(folded, tmp_path / "model")).eval()
    wav = embedded_utterances(1)[0][0].unsqueeze(0)
    assert loaded.encoder.fold == loaded.decoder.fold == 5
    assert torch.equal(loaded.encode(wav), folded.encode(wav))


def test_standardised_teacher_is_blind_to_each_utterances_scale_and_offset():
    torch.manual_seed(0)
    head = FeatureHead(input_dim=8, teacher_dim=6, upsample=2, normalize_teacher=True)
    raw = FeatureHead(input_dim=8, teacher_dim=6, upsample=2)
    raw.load_state_dict(head.state_dict())
    hidden, counts = torch.randn(2, 5, 8), torch.tensor([5, 3])
    teacher, teacher_counts = torch.randn(2, 10, 6), torch.tensor([10, 6])
    warped = teacher * torch.rand(2, 1, 6).add(0.5) * 10 + torch.randn(2, 1, 6) * 5
    warped[1, 6:] = 1e3  # past item 1's frames: ignored
    with torch.no_grad():
        same = head.loss(hidden, counts, teacher, teacher_counts)
        torch.testing.assert_close(head.loss(hidden, counts, warped, teacher_counts), same, atol=1e-4, rtol=1e-4)
        assert abs(float(raw.loss(hidden, counts, warped, teacher_counts)) - float(same)) > 1e-3


def test_folded_recipe_trains_its_heads_on_the_sub_frames_and_exports(recipe, tmp_path):
    args = corpus_args("mel_codec_fold.yaml", tmp_path, *FOLD_TINY, "--judge", "none", "--teacher_weight", "0")
    brain = recipe.main([*args, "--number_of_epochs", "1", "--optimizer_step_limit", "2"])
    assert brain.optimizer_step == 2 and {"mel_l1", "ctc"} <= set(brain.train_stats)
    model = brain.modules.model
    assert model.supervised_stage == 0 and model.codec.decoder.fold == 5
    log_mel = torch.full((1, 80, 50), -4.0)
    hidden = model.codec.decoder.decode_mel(
        model.codec.quantize(model.codec.encoder.encode_log_mel(log_mel).latents).codes
    )
    assert hidden.hidden[0].shape[1] == 10  # 12.5 Hz sub-frames of two 2.5 Hz frames
    codec = load_codec(tmp_path / "model")
    assert codec.bitrate == 640.0 and codec.tokens_per_frame == 19 and codec.encoder.fold == 5


def test_export_checkpoint_equals_the_runs_own_export(recipe, tmp_path):
    export = load_recipe("export_checkpoint")
    args = corpus_args("mel_codec_fold.yaml", tmp_path / "run", *FOLD_TINY, "--judge", "none", "--teacher_weight", "0")
    recipe.main([*args, "--number_of_epochs", "1", "--optimizer_step_limit", "2"])
    assert export.main([str(tmp_path / "run"), "--output", str(tmp_path / "out")]) == 0
    wav = embedded_utterances(1)[0][0].unsqueeze(0)
    ours, theirs = load_codec(tmp_path / "out" / "model").eval(), load_codec(tmp_path / "run" / "model").eval()
    assert torch.equal(ours.encode(wav), theirs.encode(wav))
    lines = (tmp_path / "out" / "train_log.txt").read_text().splitlines()
    assert lines and all("step: " in line for line in lines)
    assert export.main([str(tmp_path / "run"), "--output", str(tmp_path / "x"), "--step", "999"]) == 2
    assert export.main([str(tmp_path), "--output", str(tmp_path / "x")]) == 2


def test_init_from_starts_the_codec_from_a_model_folder_and_rejects_another_build(recipe, tmp_path):
    fold = [*FOLD_TINY, "--judge", "none", "--teacher_weight", "0", "--number_of_epochs", "1"]
    recipe.main([*corpus_args("mel_codec_fold.yaml", tmp_path / "a", *fold), "--optimizer_step_limit", "2"])
    start = tmp_path / "a" / "model"
    # lr 0: the second run's weights stay where init_from put them
    args = corpus_args("mel_codec_fold.yaml", tmp_path / "b", *fold, "--init_from", str(start), "--lr", "0")
    brain = recipe.main([*args, "--optimizer_step_limit", "1"])
    assert brain.optimizer_step == 1
    ours, theirs = load_codec(tmp_path / "b" / "model").state_dict(), load_codec(start).state_dict()
    assert ours.keys() == theirs.keys() and all(torch.equal(ours[k], theirs[k]) for k in ours)
    wider = corpus_args(
        "mel_codec_fold.yaml", tmp_path / "c", *fold, "--init_from", str(start), "--ffn_multiplier", "3"
    )
    with pytest.raises(ValueError, match="init_from .* not built like this YAML's"):
        recipe.main(wider)
    with pytest.raises(ValueError, match="no such model folder"):
        recipe.main(corpus_args("mel_codec_fold.yaml", tmp_path / "d", *fold, "--init_from", str(tmp_path / "none")))
