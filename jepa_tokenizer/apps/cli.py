"""The ``jepa-tokenizer`` command line.

::

    jepa-tokenizer encode IN_AUDIO OUT_TOKENS --model DIR   # files or folders
    jepa-tokenizer decode IN_TOKENS OUT_WAV [--model DIR]   # files or folders
    jepa-tokenizer info IN_TOKENS
    jepa-tokenizer eval --model DIR AUDIO_DIR                # reconstruction metrics
    jepa-tokenizer eval --model DIR --manifest CSV           # ... and resynthesis WER
    jepa-tokenizer synthesize --model TTS_DIR --text "HELLO" --output out.wav
    jepa-tokenizer synthesize --model TTS_DIR --texts lines.txt --output OUT_DIR

Token files end in ``.jtok`` (see ``jepa_tokenizer.data.token_file``). Decoding
without ``--model`` uses the shipped model, never the folder a token file names.
Outputs never replace an input or a file an input was made from; Ctrl-C (or
SIGTERM, SIGHUP) ends a run with one line and no partial file.

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import json
import signal
import sys
import threading
from pathlib import Path
from typing import Callable, Iterable, List, Optional, Tuple

import torch
from tqdm import tqdm

from jepa_tokenizer.data.atomic import file_digest, partial_path, special_file_kind
from jepa_tokenizer.data.audio import AUDIO_EXTENSIONS, LONG_AUDIO_SECONDS, check_audio_output, decoded_from
from jepa_tokenizer.data.speech_files import walk_files

__all__ = ["main", "build_parser", "TOKEN_SUFFIX"]

TOKEN_SUFFIX = ".jtok"
#: frames per decoded chunk by default (40 s at 2.5 frames/s): memory bounded by the chunk, not the file
DECODE_CHUNK_FRAMES = 100
#: longest audio encoded by default (4 hours): checked from the header, before decoding
MAX_AUDIO_SECONDS = 4 * 3600.0


def _load(model: Optional[str], device: str):
    """The model folder (None: the shipped model), loaded safely (nothing
    the folder names is executed)."""
    from jepa_tokenizer.pretrained.inference import JEPATokenizer
    from jepa_tokenizer.pretrained.safe_load import UnsafeModelFolder

    try:
        return JEPATokenizer.from_folder(model, device)
    except (UnsafeModelFolder, FileNotFoundError) as err:
        raise SystemExit(f"error: {err}") from None


def _pairs(src: Path, dst: Path, suffixes: Iterable[str], new_suffix: str) -> List[Tuple[Path, Path]]:
    """(input, output) pairs: one file, or every matching file under a folder."""
    if src.is_file():
        return [(src, dst)]
    if special_file_kind(src):
        raise SystemExit(f"error: {src} is a {special_file_kind(src)}, not a file or folder")
    if not src.is_dir():
        raise SystemExit(f"error: {src} does not exist")
    files = [p for p in walk_files(src) if p.suffix.lower() in suffixes]
    if not files:
        raise SystemExit(f"error: no {'/'.join(suffixes)} files under {src}")
    return [(f, (dst / f.relative_to(src)).with_suffix(new_suffix)) for f in files]


def _check_outputs(pairs: List[Tuple[Path, Path]], made_from: Callable[[Path], Optional[str]]) -> None:
    """No output may be an input, no two inputs may share an output
    (``a.wav`` and ``a.flac`` would both write ``a.jtok``), and no output may
    replace a file an input was made from (``made_from``: the digest an input
    records of its source, e.g. a token file of its audio), ``--overwrite`` or
    not: refused before anything is written."""
    inputs = {src.resolve() for src, _ in pairs}
    seen = {}
    for src, dst in pairs:
        if dst.resolve() in inputs:
            raise SystemExit(f"error: {dst} is an input; give another output path (nothing was written)")
        if dst.resolve() in seen:
            raise SystemExit(
                f"error: {seen[dst.resolve()]} and {src} would both write {dst}; rename one (nothing was written)"
            )
        seen[dst.resolve()] = src
    sources = {digest: src for digest, src in ((made_from(src), src) for src, _ in pairs) if digest}
    if sources:
        originals = [(sources[d], dst) for _, dst in pairs if dst.is_file() and (d := file_digest(dst)) in sources]
        if originals:
            (src, dst), more = originals[0], len(originals) - 1
            raise SystemExit(
                f"error: {dst} is the file {src} was made from"
                + (f" ({more} more outputs are originals)" if more else "")
                + "; an original is never replaced, --overwrite or not: give another output path (nothing was written)"
            )


def _token_source(path: Path) -> Optional[str]:
    """The digest a token file records of the audio it was encoded from."""
    from jepa_tokenizer.data.token_file import read_header

    try:
        return read_header(path).get("source_sha256")
    except ValueError:
        return None


def _printable(text: str) -> str:
    """``text`` with unprintable characters escaped: file names and headers
    from strangers cannot drive the terminal."""
    return "".join(c if c.isprintable() else c.encode("unicode_escape").decode("ascii") for c in text)


def _one_line(err: BaseException) -> str:
    lines = str(err).splitlines()
    return _printable(lines[0] if lines else type(err).__name__)


def _run(pairs, action, what: str, overwrite: bool = False) -> None:
    """Runs ``action`` on every pair; a file that fails is reported and the
    others go on; any failure makes the exit status non-zero. Outputs that
    exist are complete (every write is atomic) and are kept unless
    ``overwrite``: a rerun after an interruption does only what is left (and
    removes a partial file a killed run left)."""
    inputs = {src.resolve() for src, _ in pairs}
    for _, dst in pairs:
        if partial_path(dst).is_file() and partial_path(dst).resolve() not in inputs:
            partial_path(dst).unlink()
    if not overwrite:
        done = [(src, dst) for src, dst in pairs if dst.is_file()]
        if done:
            print(
                f"{len(done)} of {len(pairs)} outputs exist, kept (--overwrite to redo): {done[0][1]}"
                + (" ..." if len(done) > 1 else ""),
                file=sys.stderr,
            )
            pairs = [pair for pair in pairs if pair not in done]
    failures = []
    for src, dst in tqdm(pairs, desc=what, unit="file", disable=len(pairs) < 2):
        try:
            action(src, dst)
        except (ValueError, OSError, RuntimeError) as err:  # bad file, unreadable, decoder error: this file only
            if len(pairs) == 1:
                raise SystemExit(f"error: {_printable(str(src))}: {_one_line(err)}") from err
            failures.append(f"{_printable(str(src))}: {_one_line(err)}")
            tqdm.write(failures[-1], file=sys.stderr)
    if failures:
        raise SystemExit(f"error: {len(failures)} of {len(pairs)} files failed:\n  " + "\n  ".join(failures))


def cmd_encode(args) -> None:
    """Encodes an audio file, or a folder of them, into token files."""
    if args.chunk_seconds is not None and not args.chunk_seconds >= 0:
        raise SystemExit(f"error: --chunk-seconds must be >= 0 (0: one piece); got {args.chunk_seconds}")
    tokenizer = _load(args.model, args.device)
    pairs = _pairs(Path(args.input), Path(args.output), AUDIO_EXTENSIONS, TOKEN_SUFFIX)

    _check_outputs(pairs, decoded_from)
    if not args.overwrite:  # kept outputs must be this model's, or the folder would mix two models
        foreign = [dst for _, dst in pairs if dst.is_file() and _made_by(dst) != tokenizer.fingerprint]
        if foreign:
            raise SystemExit(
                f"error: {len(foreign)} existing output(s) were not made by this model (first: {foreign[0]}); "
                "give --overwrite or another output folder (nothing was written)"
            )

    def encode(src, dst):
        encoded = tokenizer.encode_to_token_file(src, dst, args.chunk_seconds, max_seconds=args.max_seconds or None)
        if len(pairs) == 1:
            print(f"{src} -> {dst}: {tuple(encoded.tokens.shape)} tokens ({encoded.conversion})")

    _run(pairs, encode, "encoding", args.overwrite)


def _made_by(path: Path) -> Optional[str]:
    """The model fingerprint in a token file's header (None if unreadable)."""
    from jepa_tokenizer.data.token_file import read_header

    try:
        return read_header(path).get("fingerprint")
    except ValueError:
        return None


def cmd_decode(args) -> None:
    """Decodes a token file, or a folder of them, into wav files."""
    pairs = _pairs(Path(args.input), Path(args.output), (TOKEN_SUFFIX,), ".wav")
    for _, dst in pairs:
        check_audio_output(dst)
    _check_outputs(pairs, _token_source)
    # the model is the one given (or the shipped one), never the folder a token
    # file names: a file from a stranger must not choose the code that runs
    tokenizer = _load(args.model, args.device)
    if args.chunk_frames < 0:
        raise SystemExit(f"error: --chunk-frames must be >= 0; got {args.chunk_frames}")
    chunk = args.chunk_frames or None
    _run(pairs, lambda src, dst: tokenizer.decode_token_file(src, dst, chunk), "decoding", args.overwrite)


def cmd_info(args) -> None:
    """Prints a token file's header as JSON."""
    from jepa_tokenizer.data.token_file import load_tokens

    loaded = load_tokens(args.input)
    header = dict(loaded.header)
    if "num_samples" in header and "sample_rate" in header:  # both checked by load_tokens (rate >= 1)
        header["seconds"] = round(header["num_samples"] / header["sample_rate"], 3)
    print(json.dumps(header, indent=2, sort_keys=True))


def cmd_eval(args) -> None:
    """Prints reconstruction metrics over audio (with ``--manifest``, resynthesis WER too)."""
    if (args.audio is None) == (args.manifest is None):
        raise SystemExit("error: eval takes an audio file or folder, or --manifest, not both")
    tokenizer = _load(args.model, args.device)
    if args.manifest:
        _eval_manifest(tokenizer, args)
    else:
        _eval_audio(tokenizer, args)


def cmd_synthesize(args) -> None:
    """Synthesizes speech from text with an exported TTS folder."""
    from jepa_tokenizer.data.audio import save_audio
    from jepa_tokenizer.pretrained.synthesis import TextToSpeech

    if (args.text is None) == (args.texts is None):
        raise SystemExit("error: synthesize takes --text or --texts, not both")
    if args.text is not None:
        check_audio_output(args.output)
    tts = TextToSpeech.from_folder(args.model, args.device)
    sampling = {"temperature": args.temperature, "top_k": args.top_k}
    if args.text is not None:
        path = tts.synthesize_to_file(args.text, args.output, args.speaker, args.seed, **sampling)
        print(f"wrote {path}")
        return
    lines = [line for line in Path(args.texts).read_text(encoding="utf-8").splitlines() if line.strip()]
    output = Path(args.output)
    output.mkdir(parents=True, exist_ok=True)
    if args.seed is not None:
        torch.manual_seed(args.seed)
    for number, text in enumerate(tqdm(lines, desc="synthesizing", unit="text")):
        save_audio(output / f"{number:04d}.wav", tts.synthesize(text, args.speaker, **sampling), tts.sample_rate)
    print(f"wrote {len(lines)} files to {output}")


def _eval_manifest(tokenizer, args) -> None:
    from jepa_tokenizer.evaluation.evaluate import evaluate_system, load_manifest, tokenizer_system
    from jepa_tokenizer.evaluation.metrics import make_asr

    utterances = load_manifest(args.manifest, tokenizer.sample_rate, args.max_utterances)
    asr = make_asr(args.asr, whisper_source=args.whisper_source, device=args.device)
    rate = tokenizer.sample_rate
    original = evaluate_system("original", utterances, rate, None, asr)["averages"]
    coded = evaluate_system("codec", utterances, rate, tokenizer_system(tokenizer), asr, args.save_wavs)["averages"]
    print(
        f"{len(utterances)} utterances of {args.manifest}, {tokenizer.codec.tokens_per_second:g} tokens/s, "
        f"{tokenizer.codec.bitrate:g} bit/s; WER by {asr.description}"
    )
    print(f"{'WER (original)':>14}: {original['wer']:.2f}")
    for key, value in coded.items():
        print(f"{key:>14}: {value:.4f}")


def _eval_audio(tokenizer, args) -> None:
    from jepa_tokenizer.data.audio import load_audio
    from jepa_tokenizer.evaluation.evaluate import resynthesize
    from jepa_tokenizer.evaluation.metrics import average_metrics, reconstruction_metrics

    files = [src for src, _ in _pairs(Path(args.audio), Path("."), AUDIO_EXTENSIONS, ".wav")]
    rows, agree, total = [], 0, 0
    rate = tokenizer.codec.frame_rate
    for path in tqdm(files, desc="evaluating", unit="file"):
        wav = load_audio(path, tokenizer.sample_rate).wav
        recon = resynthesize(tokenizer, wav)
        if args.chunk_seconds:
            with torch.no_grad():
                tokens = tokenizer.encode_batch(wav.unsqueeze(0))
                chunked = tokenizer.codec.encode_long(
                    wav.to(tokenizer.device),
                    max(1, round(args.chunk_seconds * rate)),
                    round(args.context_seconds * rate),
                )
                agree += int((chunked == tokens[0]).sum())
                total += chunked.numel()
        rows.append(reconstruction_metrics(wav, recon, tokenizer.sample_rate))
    averages = average_metrics(rows)
    if total:
        print(
            f"chunked tokens ({args.chunk_seconds:g} s chunks, {args.context_seconds:g} s context) "
            f"equal to whole-file tokens: {100 * agree / total:.1f}%"
        )
    print(f"{len(files)} files, {tokenizer.codec.tokens_per_second:g} tokens/s, {tokenizer.codec.bitrate:g} bit/s")
    for key, value in averages.items():
        print(f"{key:>14}: {value:.4f}")


_MODEL_HELP = "exported model folder (default: the shipped model)"
_OVERWRITE_HELP = "redo outputs that exist (default: keep them)"


def _add_encode(sub) -> None:
    enc = sub.add_parser("encode", help="audio file or folder -> token files")
    enc.add_argument("input")
    enc.add_argument("output")
    enc.add_argument("--model", default=None, help=_MODEL_HELP)
    enc.add_argument(
        "--chunk-seconds",
        type=float,
        default=None,
        help=f"encode in chunks of this many seconds (bounded memory; default: files longer than "
        f"{LONG_AUDIO_SECONDS:g} s in chunks of that length); 0: every file in one piece",
    )
    enc.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)
    enc.add_argument(
        "--max-seconds",
        type=float,
        default=MAX_AUDIO_SECONDS,
        help=f"refuse audio longer than this, from its header, before decoding it (default {MAX_AUDIO_SECONDS:g}; "
        "0: no limit)",
    )
    enc.set_defaults(handler=cmd_encode)


def _add_decode(sub) -> None:
    dec = sub.add_parser("decode", help="token file or folder -> wav")
    dec.add_argument("input")
    dec.add_argument("output")
    dec.add_argument(
        "--model",
        default=None,
        help="model folder (default: the shipped model); the folder a token file names is never loaded by itself",
    )
    dec.add_argument(
        "--chunk-frames",
        type=int,
        default=DECODE_CHUNK_FRAMES,
        help=f"decode and write in chunks of this many frames (bounded memory, the same audio; default "
        f"{DECODE_CHUNK_FRAMES}); 0: the whole file at once",
    )
    dec.add_argument("--overwrite", action="store_true", help=_OVERWRITE_HELP)
    dec.set_defaults(handler=cmd_decode)


def _add_info(sub) -> None:
    info = sub.add_parser("info", help="print a token file's header")
    info.add_argument("input")
    info.set_defaults(handler=cmd_info)


def _add_eval(sub) -> None:
    ev = sub.add_parser("eval", help="reconstruction metrics over audio; with --manifest also WER")
    ev.add_argument("audio", nargs="?", help="audio file or folder")
    ev.add_argument("--model", default=None, help=_MODEL_HELP)
    ev.add_argument("--manifest", help="CSV with ID, wav, wrd columns: adds resynthesis WER")
    ev.add_argument(
        "--asr",
        default="auto",
        choices=["auto", "faster-whisper", "pocketsphinx", "whisper"],
        help="the judge of the WER (auto: Whisper base where the judge extra is installed, else pocketsphinx)",
    )
    ev.add_argument("--whisper-source", default="openai/whisper-small")
    ev.add_argument("--max-utterances", type=int, default=None)
    ev.add_argument("--save-wavs", default=None, help="folder for the reconstructions (with --manifest)")
    ev.add_argument(
        "--chunk-seconds", type=float, default=None, help="also report how often chunked tokens equal whole-file tokens"
    )
    ev.add_argument("--context-seconds", type=float, default=4.0)
    ev.set_defaults(handler=cmd_eval)


def _add_synthesize(sub) -> None:
    syn = sub.add_parser("synthesize", help="text -> speech with an exported TTS folder")
    syn.add_argument("--model", required=True, help="exported TTS folder (recipes/LibriTTS/TTS/train_tts.py)")
    syn.add_argument("--text", help="one text -> the --output file")
    syn.add_argument("--texts", help="a text file, one text per line -> --output folder (0000.wav...)")
    syn.add_argument("--output", required=True)
    syn.add_argument("--speaker", default=None, help="a speaker the model knows (default: its default)")
    syn.add_argument("--temperature", type=float, default=None, help="0: most likely digits")
    syn.add_argument("--top-k", type=int, default=None, help="sample among the k most likely levels")
    syn.add_argument("--seed", type=int, default=None)
    syn.set_defaults(handler=cmd_synthesize)


def build_parser() -> argparse.ArgumentParser:
    """The parser of ``jepa-tokenizer``: each sub-command names its handler (``args.handler``)."""
    parser = argparse.ArgumentParser(prog="jepa-tokenizer", description="JEPA speech tokenizer")
    parser.add_argument("--device", default="cpu", help="e.g. cpu or cuda:0")
    sub = parser.add_subparsers(dest="command", required=True)
    for add in (_add_encode, _add_decode, _add_info, _add_eval, _add_synthesize):
        add(sub)
    return parser


def main(argv: Optional[List[str]] = None) -> None:
    """Entry point of ``jepa-tokenizer``."""
    args = build_parser().parse_args(argv)
    handled = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
    if threading.current_thread() is not threading.main_thread():  # only the main thread may set handlers
        handled = []
    previous = {number: signal.signal(number, _interrupted) for number in handled}
    try:
        args.handler(args)
    except KeyboardInterrupt:
        raise SystemExit("error: interrupted; finished outputs are kept and a rerun does the rest") from None
    except (ValueError, FileNotFoundError, IsADirectoryError, NotADirectoryError, PermissionError) as err:
        raise SystemExit(f"error: {_one_line(err)}") from None
    except SystemExit as stop:
        if not isinstance(stop.code, str):
            raise
        raise SystemExit("\n".join(_printable(line) for line in stop.code.split("\n"))) from None
    finally:
        for number, handler in previous.items():
            signal.signal(number, signal.SIG_DFL if handler is None else handler)


def _interrupted(number, frame) -> None:
    """SIGTERM and SIGHUP end a run as Ctrl-C does (partial files removed)."""
    raise KeyboardInterrupt


if __name__ == "__main__":
    main()
