"""The DASB adapter called the way DASB's own code calls it: extraction
with SpeechBrain's ``undo_padding``, ``num_codebooks`` and ``vocab_size``
from the YAML, the embedding table, a settable device, repeated frames for
CTC, and whether CTC is feasible on the test sets at the README's
``repeat_frames``."""

import csv
import math

import pytest
import soundfile
import torch
from conftest import SHARED_SPEECH
from speechbrain.utils.data_utils import undo_padding

from jepa_tokenizer.data.embedded_corpus import corpus_path
from jepa_tokenizer.pretrained.inference import default_model_folder
from jepa_tokenizer.pretrained.tokenizers import JEPADASBTokenizer

RECOMMENDED_REPEAT = 16  # the README's DASB section: 2.5 x 16 = 40 frames/s for character CTC
MINI_DEV = SHARED_SPEECH.parent / "mini_librispeech" / "dev-clean-2"
AUDIO = (".flac", ".opus", ".wav")


@pytest.fixture(scope="module")
def codec(tiny):
    return tiny["codec"].eval()


def batch_of(lengths, seed):
    """A padded batch of noise bursts (a speech-like level) and SpeechBrain's relative lengths."""
    generator = torch.Generator().manual_seed(seed)
    longest = max(lengths)
    wavs = torch.zeros(len(lengths), longest)
    for row, length in enumerate(lengths):
        wavs[row, :length] = torch.randn(length, generator=generator) * 0.1
    return wavs, torch.tensor(lengths, dtype=torch.float32) / longest


@pytest.mark.parametrize("repeat", [1, 4, RECOMMENDED_REPEAT])
def test_undo_padding_keeps_each_item_within_one_copy_of_its_tokens_alone(codec, repeat):
    """DASB's extraction: sig_to_tokens on a padded batch, then undo_padding
    (round(rel_len * N) frames). Each item keeps its own tokens, at most one
    trailing copy of its last frame more or fewer, never padding; with
    repeat_frames > 1 the codec frames read back are all there."""
    tok = JEPADASBTokenizer(codec=codec, repeat_frames=repeat)
    generator = torch.Generator().manual_seed(repeat)
    off = 0
    for trial in range(12):
        size = int(torch.randint(2, 7, (1,), generator=generator))
        lengths = torch.randint(3000, 40000, (size,), generator=generator).tolist()
        wavs, rel = batch_of(lengths, trial)
        tokens = tok.sig_to_tokens(wavs, rel, num_codebooks=tok.num_codebooks)
        assert tokens.shape == (size, tok.num_frames(max(lengths)), tok.num_codebooks)
        kept = undo_padding(tokens, rel)
        for row, length in enumerate(lengths):
            alone = tok.sig_to_tokens(wavs[row : row + 1, :length], torch.ones(1))[0]
            assert alone.shape[0] == tok.num_frames(length)
            got = torch.tensor(kept[row])
            common = min(len(got), len(alone))
            assert abs(len(got) - len(alone)) <= 1
            assert torch.equal(got[:common], alone[:common])
            if len(got) > len(alone):
                assert torch.equal(got[-1], alone[-1])  # a copy of its last frame, not padding
            off += len(got) != len(alone)
            if repeat > 1 and len(got) >= len(alone):
                assert torch.equal(tok.codec_frames(got[None])[0], tok.codec_frames(alone[None])[0])
    assert off < 12 * 2  # mostly exact; a rounding case now and then, as the docstring says


def test_batch_size_one_is_exact_and_batches_can_be_off_by_one(codec):
    tok = JEPADASBTokenizer(codec=codec, repeat_frames=RECOMMENDED_REPEAT)
    # 6401 samples alone: 17 frames; next to 12800 samples, round(6401 / 12800 * 32) = 16
    wavs, rel = batch_of([6401, 12800], 0)
    alone = tok.sig_to_tokens(wavs[:1, :6401], torch.ones(1))
    assert undo_padding(alone, torch.ones(1))[0] == alone[0].tolist()
    kept = undo_padding(tok.sig_to_tokens(wavs, rel), rel)
    assert len(kept[0]) == len(alone[0]) - 1 == 16


def test_repeated_frames_decode_like_the_codec_and_keep_the_true_bit_rate(codec):
    plain = JEPADASBTokenizer(codec=codec)
    tok = JEPADASBTokenizer(codec=codec, repeat_frames=RECOMMENDED_REPEAT)
    wavs, rel = batch_of([20000, 12000], 3)
    tokens = tok.sig_to_tokens(wavs, rel)
    assert tokens.shape[1] == tok.num_frames(20000) == math.ceil(20000 * 16 / codec.hop_length)
    assert tok.frame_rate == pytest.approx(plain.frame_rate * 16)
    assert tok.bitrate == plain.bitrate == codec.bitrate
    assert tok.tokens_per_second == pytest.approx(codec.tokens_per_second)
    codec_tokens = plain.sig_to_tokens(wavs, rel)
    assert torch.equal(tok.codec_frames(tokens), codec_tokens)
    assert torch.equal(tok.tokens_to_sig(tokens, rel), plain.tokens_to_sig(codec_tokens, rel))
    assert torch.equal(tok.tokens_to_sig(tokens[:1]), plain.tokens_to_sig(codec_tokens[:1]))


def test_frames_that_differ_within_a_group_are_refused(codec):
    tok = JEPADASBTokenizer(codec=codec, repeat_frames=4)
    tokens = tok.sig_to_tokens(torch.randn(2, 16000) * 0.1)
    tokens[1, 5] = (tokens[1, 4] + 1) % tok.vocab_size
    with pytest.raises(ValueError, match="frames 4-7 of item 1 differ within a group of repeat_frames=4"):
        tok.tokens_to_sig(tokens)
    # past an item's real length (padding of a model's output) nothing is checked
    assert tok.tokens_to_sig(tokens, torch.tensor([1.0, 0.1])).shape[0] == 2
    for bad in (0, -2, 1.5, True, "16"):
        with pytest.raises(ValueError, match="repeat_frames must be a whole number"):
            JEPADASBTokenizer(codec=codec, repeat_frames=bad)


def test_num_codebooks_and_vocab_size_have_one_meaning(codec):
    tok = JEPADASBTokenizer(codec=codec)
    K, C = tok.num_codebooks, tok.vocab_size
    wavs, rel = batch_of([16000, 9000], 1)
    assert torch.equal(tok.sig_to_tokens(wavs, rel, num_codebooks=K), tok.sig_to_tokens(wavs, rel))
    for bad in (1, K - 1, K + 1):
        with pytest.raises(ValueError, match=f"num_codebooks={bad}: JEPA tokens are not coarse-to-fine"):
            tok.sig_to_tokens(wavs, rel, num_codebooks=bad)
        with pytest.raises(ValueError, match=f"num_codebooks={bad}"):
            tok.get_pretrained_embeddings(C, bad)
    with pytest.raises(ValueError, match=r"a list picks SSL layers in DASB"):
        tok.sig_to_tokens(wavs, rel, num_codebooks=[1, 3, 7])
    with pytest.raises(ValueError, match=f"vocab_size=1024: this model's tokens take {C} values"):
        tok.get_pretrained_embeddings(1024, K)
    positional = tok.get_pretrained_embeddings(C, K)  # DASB's extraction script
    keyword = tok.get_pretrained_embeddings(vocab_size=C, num_codebooks=K, device="cpu")  # DASB's ASR script
    assert positional.shape == (K * C, codec.packer.place_values.shape[-1]) and torch.equal(positional, keyword)
    assert keyword.device.type == "cpu"


def test_device_is_settable_as_dasb_recipes_do(codec):
    tok = JEPADASBTokenizer(codec=codec)
    tok.device = "cpu"
    assert tok.device == torch.device("cpu")
    tok.device = torch.device("cpu")
    assert all(p.device.type == "cpu" for p in tok.codec.parameters())
    if torch.cuda.is_available():  # pragma: no cover - GPU machines only
        tok.device = "cuda"
        assert tok.device.type == "cuda" and tok.sig_to_tokens(torch.zeros(1, 16000)).device.type == "cuda"


def ctc_frames_needed(text: str) -> int:
    """Fewest frames character CTC needs: one per character, one blank between repeats."""
    chars = list(text)
    return len(chars) + sum(a == b for a, b in zip(chars, chars[1:]))


def utterances_of_the_test_sets():
    """(set name, samples at 16 kHz, text) of every test utterance at hand."""
    rows = []
    for trans in sorted((corpus_path() / "test").rglob("*.trans.txt")):
        for line in trans.read_text().splitlines():
            utt, text = line.split(" ", 1)
            info = soundfile.info(str(trans.parent / f"{utt}.flac"))
            rows.append(("embedded test voices", round(info.frames * 16000 / info.samplerate), text))
    missing = []
    manifest = SHARED_SPEECH / "manifest.csv"
    if manifest.is_file():
        with open(manifest, newline="", encoding="utf-8") as stream:
            for row in csv.DictReader(stream):
                if row["corpus"] == "LibriSpeech":
                    rows.append(("LibriSpeech test-clean", round(float(row["duration"]) * 16000), row["wrd"]))
    else:
        missing.append(str(manifest))
    if MINI_DEV.is_dir():
        for trans in sorted(MINI_DEV.rglob("*.trans.txt")):
            for line in trans.read_text().splitlines():
                utt, text = line.split(" ", 1)
                audio = next(p for p in (trans.parent / f"{utt}{ext}" for ext in AUDIO) if p.is_file())
                info = soundfile.info(str(audio))
                rows.append(("dev-clean-2", round(info.frames * 16000 / info.samplerate), text))
    else:
        missing.append(str(MINI_DEV))
    return rows, missing


def test_ctc_is_feasible_on_every_test_utterance_at_the_recommended_repeat():
    """At repeat_frames 16 the shipped model gives every test utterance at
    least as many frames as character CTC needs; at 2.5 frames/s almost none."""
    tok = JEPADASBTokenizer(source=str(default_model_folder()), repeat_frames=RECOMMENDED_REPEAT)
    plain = JEPADASBTokenizer(codec=tok.codec)
    rows, missing = utterances_of_the_test_sets()
    assert len(rows) >= 10
    short = [(name, text) for name, samples, text in rows if tok.num_frames(samples) < ctc_frames_needed(text)]
    assert not short, f"CTC infeasible at repeat_frames={RECOMMENDED_REPEAT}: {short[:3]}"
    feasible_plain = sum(plain.num_frames(s) >= ctc_frames_needed(t) for _, s, t in rows)
    assert feasible_plain < 0.05 * len(rows)
    if missing:
        pytest.skip(f"checked {len(rows)} utterances; not available here: {', '.join(missing)}")
