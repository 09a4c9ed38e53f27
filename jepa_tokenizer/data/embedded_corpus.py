"""The embedded corpus: English sentences spoken by espeak-ng and flite voices.

A small speech corpus the project makes itself, so that recipes, tests and the
quickstart run on a fresh clone without downloads. Sentences come from a
seeded grammar over a plain English vocabulary; each utterance strings a few
of them together (utterances of several seconds suit a 2.5 frames/s model).
The corpus is written in the LibriSpeech layout at 16 kHz FLAC, so the
LibriSpeech prepare script reads it::

    <root>/<split>/<speaker>/<chapter>/<speaker>-<chapter>-<utt>.flac
    <root>/<split>/<speaker>/<chapter>/<speaker>-<chapter>.trans.txt

Test and validation voices are never heard in training. Test voices are
flite's ``rms`` and ``slt`` at their normal rate, validation's ``awb`` and
one espeak-ng voice: of the voices here, pocketsphinx's English model
understands flite's rms, slt and awb best (in that order; espeak-ng's much
less), so reconstructions of the test set can be judged by word error rate.
Training voices speak 25% faster than the engines' default, to keep the
committed corpus under 10 MB.

The output is committed in ``jepa_tokenizer/data/embedded_corpus``;
regenerate it (Debian: ``apt-get install espeak-ng flite``) with::

    python -m jepa_tokenizer.data.embedded_corpus --output jepa_tokenizer/data/embedded_corpus

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import random
import shutil
import tempfile
from pathlib import Path
from typing import Dict, List, NamedTuple, Sequence

import torch

from jepa_tokenizer.data.audio import load_audio, save_audio, speak

__all__ = [
    "Voice",
    "VOICES",
    "CORPUS_DIR",
    "corpus_path",
    "make_sentences",
    "trim_silence",
    "generate",
]

CORPUS_DIR = Path(__file__).resolve().parent / "embedded_corpus"


class Voice(NamedTuple):
    """One speaker of the corpus."""

    speaker: str
    engine: str
    voice: str
    split: str
    utterances: int
    speed: float = 1.25  # relative to the engine's default rate


# Speaker ids are LibriSpeech-like numbers; each voice is one speaker.
VOICES: Sequence[Voice] = (
    Voice("9001", "espeak-ng", "en-us", "train", 8),
    Voice("9002", "espeak-ng", "en-us+f3", "train", 8),
    Voice("9003", "espeak-ng", "en-gb+m3", "train", 8),
    Voice("9004", "espeak-ng", "en-gb-scotland+f2", "train", 8),
    Voice("9005", "espeak-ng", "en-gb-x-rp+m5", "train", 8),
    Voice("9006", "espeak-ng", "en-029+f4", "train", 8),
    Voice("9007", "espeak-ng", "en-gb-x-gbclan+m1", "train", 8),
    Voice("9008", "espeak-ng", "en-gb-x-gbcwmd+f1", "train", 8),
    Voice("9009", "flite", "kal16", "train", 8),
    Voice("9010", "flite", "kal", "train", 8),
    Voice("9011", "flite", "awb", "valid", 4, 1.0),
    Voice("9012", "espeak-ng", "en-us+m7", "valid", 3),
    Voice("9013", "flite", "rms", "test", 7, 1.0),
    Voice("9014", "flite", "slt", "test", 7, 1.0),
)

_DETERMINERS = ("the", "a", "my", "our", "his", "her", "your", "that")
_PEOPLE = (
    "man",
    "woman",
    "girl",
    "boy",
    "farmer",
    "teacher",
    "doctor",
    "captain",
    "baker",
    "driver",
    "nurse",
    "painter",
    "cook",
    "sailor",
    "student",
    "soldier",
    "singer",
    "judge",
    "neighbor",
    "hunter",
    "writer",
    "uncle",
    "sister",
    "friend",
)
_VERBS = (
    "found",
    "carried",
    "painted",
    "opened",
    "cleaned",
    "bought",
    "dropped",
    "washed",
    "fixed",
    "sold",
    "brought",
    "watched",
    "closed",
    "filled",
    "moved",
    "lost",
    "wanted",
    "needed",
    "pushed",
    "kept",
    "mended",
    "hid",
    "lifted",
    "counted",
    "shared",
    "borrowed",
    "wrapped",
    "checked",
)
_ADJECTIVES = (
    "red",
    "blue",
    "green",
    "old",
    "new",
    "heavy",
    "small",
    "big",
    "warm",
    "cold",
    "wooden",
    "broken",
    "yellow",
    "black",
    "white",
    "round",
    "long",
    "soft",
    "bright",
    "dark",
    "clean",
    "empty",
    "tiny",
    "strange",
)
_PERSON_ADJECTIVES = (
    "young",
    "old",
    "tall",
    "quiet",
    "busy",
    "kind",
    "tired",
    "happy",
    "clever",
    "brave",
    "angry",
    "honest",
)
_THINGS = (
    "box",
    "door",
    "book",
    "cup",
    "coat",
    "bottle",
    "chair",
    "clock",
    "table",
    "boat",
    "basket",
    "bag",
    "letter",
    "window",
    "hat",
    "key",
    "map",
    "stone",
    "lamp",
    "knife",
    "shoe",
    "rope",
    "ball",
    "bell",
    "bucket",
    "blanket",
    "ladder",
    "jar",
    "pencil",
    "wheel",
)
_INTRANSITIVE = (
    "slept",
    "waited",
    "laughed",
    "worked",
    "sang",
    "danced",
    "rested",
    "walked",
    "stayed",
    "played",
    "smiled",
    "talked",
    "cried",
    "listened",
    "arrived",
    "prayed",
)
_PLACES = (
    "in the kitchen",
    "near the river",
    "at the station",
    "on the hill",
    "by the door",
    "in the garden",
    "at school",
    "on the bridge",
    "in the morning",
    "after dinner",
    "before the rain",
    "at night",
    "last week",
    "in the park",
    "under the tree",
    "on the farm",
    "at the market",
    "in the village",
    "near the church",
    "by the harbor",
    "in the forest",
    "on the road",
    "after the storm",
    "every sunday",
)


def _phrase(rng: random.Random, *slots: Sequence[str]) -> str:
    """A determiner and one word from each slot, with "an" before a vowel."""
    words = [rng.choice(_DETERMINERS)] + [rng.choice(slot) for slot in slots]
    if words[0] == "a" and words[1][0] in "aeiou":
        words[0] = "an"
    return " ".join(words)


def make_sentences(count: int, seed: int = 0) -> List[str]:
    """``count`` distinct sentences from a seeded grammar (lower case, no
    punctuation, LibriSpeech style once upper-cased).

    Example
    -------
    >>> sentences = make_sentences(300)
    >>> len(set(sentences)), sentences[0] == make_sentences(1)[0]
    (300, True)
    """
    rng = random.Random(seed)
    seen: Dict[str, None] = {}
    while len(seen) < count:
        form = rng.random()
        subject = _phrase(rng, _PEOPLE)
        if form < 0.5:
            sentence = f"{subject} {rng.choice(_VERBS)} {_phrase(rng, _ADJECTIVES, _THINGS)}"
        elif form < 0.8:
            sentence = f"{subject} {rng.choice(_INTRANSITIVE)} {rng.choice(_PLACES)}"
        else:
            sentence = f"{_phrase(rng, _PERSON_ADJECTIVES, _PEOPLE)} {rng.choice(_VERBS)} the {rng.choice(_THINGS)}"
        seen.setdefault(sentence, None)
    return list(seen)


def trim_silence(wav: torch.Tensor, sample_rate: int, threshold: float, keep: float) -> torch.Tensor:
    """Cuts leading and trailing samples below ``threshold``, keeping ``keep`` s.

    Example
    -------
    >>> wav = torch.cat([torch.zeros(1000), torch.ones(10), torch.zeros(1000)])
    >>> trim_silence(wav, 1000, 0.5, 0.1).shape
    torch.Size([210])
    """
    loud = (wav.abs() > threshold).nonzero().flatten()
    if loud.numel() == 0:
        return wav
    margin = int(keep * sample_rate)
    start = max(int(loud[0]) - margin, 0)
    end = min(int(loud[-1]) + 1 + margin, wav.numel())
    return wav[start:end]


def corpus_path() -> Path:
    """The committed corpus folder (raises if it is missing)."""
    if not (CORPUS_DIR / "train").is_dir():
        raise FileNotFoundError(
            f"the embedded corpus is missing at {CORPUS_DIR}; regenerate it with "
            "python -m jepa_tokenizer.data.embedded_corpus"
        )
    return CORPUS_DIR


def generate(
    output: Path,
    sentences_per_utterance: int = 3,
    sample_rate: int = 16000,
    seed: int = 0,
    voices: Sequence[Voice] = VOICES,
    chapter: str = "1",
    trim_threshold: float = 0.01,
    keep_silence: float = 0.1,
) -> Dict[str, int]:
    """Speaks the corpus into ``output`` (replaced) and returns utterances per split.

    Each voice speaks at its own ``speed``; leading/trailing silence beyond ``keep_silence`` seconds (below
    ``trim_threshold`` of full scale) is cut, to keep the corpus small.
    """
    output = Path(output)
    total = sum(v.utterances for v in voices) * sentences_per_utterance
    sentences = make_sentences(total, seed)
    if output.exists():
        shutil.rmtree(output)
    counts: Dict[str, int] = {}
    cursor = 0
    with tempfile.TemporaryDirectory() as tmp:
        for voice in voices:
            folder = output / voice.split / voice.speaker / chapter
            lines = []
            for index in range(voice.utterances):
                words = sentences[cursor : cursor + sentences_per_utterance]
                cursor += sentences_per_utterance
                text = ". ".join(w.capitalize() for w in words) + "."
                raw = speak(text, Path(tmp) / "utt.wav", voice.engine, voice.voice, voice.speed)
                wav = trim_silence(load_audio(raw, sample_rate).wav, sample_rate, trim_threshold, keep_silence)
                peak = float(wav.abs().max())
                if peak > 0.99:
                    wav = wav * (0.99 / peak)
                utt = f"{voice.speaker}-{chapter}-{index:04d}"
                save_audio(folder / f"{utt}.flac", wav.clamp(-1, 1), sample_rate)
                lines.append(f"{utt} {' '.join(words).upper()}")
            (folder / f"{voice.speaker}-{chapter}.trans.txt").write_text("\n".join(lines) + "\n")
            counts[voice.split] = counts.get(voice.split, 0) + voice.utterances
    readme = ["| speaker | engine | voice | speed | split | utterances |", "|---|---|---|---|---|---|"]
    readme += [f"| {v.speaker} | {v.engine} | {v.voice} | {v.speed:g} | {v.split} | {v.utterances} |" for v in voices]
    (output / "VOICES.md").write_text(
        "Generated by `python -m jepa_tokenizer.data.embedded_corpus`: "
        f"{cursor} distinct sentences, {sentences_per_utterance} per utterance, "
        f"{sample_rate} Hz FLAC.\n\n" + "\n".join(readme) + "\n"
    )
    return counts


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description="Generate the embedded speech corpus")
    parser.add_argument("--output", type=Path, default=CORPUS_DIR)
    parser.add_argument("--sentences-per-utterance", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    torch.manual_seed(args.seed)
    counts = generate(args.output, args.sentences_per_utterance, seed=args.seed)
    print(f"wrote {args.output}: {counts}")


if __name__ == "__main__":
    main()
