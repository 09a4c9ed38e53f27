"""Codecs compared on resynthesis: the table codec papers print.

For a manifest of transcribed speech (CSV with ``ID``, ``wav``, ``wrd``),
every codec encodes and decodes each recording (resampled to its rate and
back), and each row gets: bit/s, tokens/s, the word and character error
rates of the Whisper judge on the decoded audio (dWER: the original
recordings are the reference row), STOI and wide-band PESQ against the
original, and encode / decode speed as x real time (audio seconds per
second of compute, the whole program for command-line codecs, one recording
at a time on this machine, after one untimed round). Writes ``compare.md``, ``compare.json`` (the
table's numbers and settings) and ``utterances.json`` (every hypothesis)
into ``--output``, each file atomically and after every codec: a rerun with
the same settings keeps the finished rows (``--fresh`` redoes them).

Run::

    python -m jepa_tokenizer.apps.compare --manifest ../shared/realspeech/manifest.csv \\
        --select corpus=LibriSpeech --exclude spk_id=2412 --output results/compare

Codecs (``--codecs``, see ``jepa_tokenizer.evaluation.codecs.codec_from_spec``):
``original`` (the reference row), ``jepa`` (the shipped model) or
``jepa:FOLDER``, ``codec2:MODE``, ``opus:KBPS``, ``encodec``, ``mimi``,
``dac``; one that cannot run here is skipped with a line saying what is
missing. Judges (``--judges``): ``base`` (default), ``tiny.en``, a
CTranslate2 folder, ``pocketsphinx``, or ``auto`` (base where the judge
extra is installed, pocketsphinx otherwise); each adds a WER and a CER column
named after it.

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import json
import time
from pathlib import Path
from typing import Dict, List, Optional, Sequence

import torch
import torchaudio

from jepa_tokenizer.data.atomic import atomic_output
from jepa_tokenizer.data.speech_files import parse_column_values
from jepa_tokenizer.evaluation.codecs import Codec, CodecUnavailable, codec_from_spec
from jepa_tokenizer.evaluation.evaluate import Utterance, evaluate_system, load_manifest
from jepa_tokenizer.evaluation.metrics import character_error_rate, make_asr, resynthesis_wer
from jepa_tokenizer.evaluation.reports import cell, markdown_table
from jepa_tokenizer.evaluation.whisper import WhisperJudge

__all__ = ["DEFAULT_CODECS", "make_judge", "judge_label", "run_codec", "compare", "comparison_markdown", "main"]

#: the reference row, the codecs a user would pick at low bit rates, ours, and the peers SpeechBrain wraps
DEFAULT_CODECS = (
    "original",
    "codec2:700C",
    "codec2:1200",
    "codec2:3200",
    "opus:6",
    "opus:8",
    "jepa",
    "encodec",
    "mimi",
    "dac",
)


def make_judge(name: str, device: str = "cpu"):
    """A judge by name: ``auto`` or ``pocketsphinx`` through ``make_asr``;
    anything else (``base``, ``tiny.en``, a CTranslate2 folder, a model name
    to download) through ``WhisperJudge``."""
    if name in ("auto", "pocketsphinx"):
        return make_asr(name, device=device)
    return WhisperJudge(name)


def judge_label(judge) -> str:
    """The short name of a judge in column headers.

    Example
    -------
    >>> class Judge:
    ...     description = "pocketsphinx en-us, stock LM"
    >>> judge_label(Judge())
    'pocketsphinx'
    """
    if isinstance(judge, WhisperJudge):
        return f"Whisper {judge.name}"
    return judge.description.split(",")[0].split()[0]


def _resample(wav: torch.Tensor, source: int, target: int) -> torch.Tensor:
    return wav if source == target else torchaudio.functional.resample(wav, source, target)


def run_codec(codec: Optional[Codec], utterances: Sequence[Utterance], sample_rate: int, judges) -> Dict[str, object]:
    """One row: ``codec`` (None: the original recordings) on ``utterances``
    at ``sample_rate``, judged by each of ``judges``.

    Returns ``{"row": {...}, "utterances": [...]}``: the row's averages
    (``stoi``, ``pesq_wb``, ``mel_distance``..., ``wer`` and ``cer`` per
    judge label, ``encode_x_realtime``, ``decode_x_realtime``) and each
    utterance's metrics and hypotheses.
    """
    seconds = {"encode": 0.0, "decode": 0.0}

    def reconstruct(wav: torch.Tensor) -> torch.Tensor:
        inner = _resample(wav, sample_rate, codec.sample_rate)
        start = time.perf_counter()
        code = codec.encode(inner)
        middle = time.perf_counter()
        out = codec.decode(code, inner.numel())
        seconds["encode"] += middle - start
        seconds["decode"] += time.perf_counter() - middle
        return Codec.fit(_resample(out, codec.sample_rate, sample_rate), wav.numel())

    if codec is not None and utterances:  # one untimed round first: compilation and caches are not the codec's speed
        warm = _resample(utterances[0].wav, sample_rate, codec.sample_rate)
        codec.decode(codec.encode(warm), warm.numel())
    result = evaluate_system(
        codec.name if codec else "original", utterances, sample_rate, reconstruct if codec else None
    )
    audio_seconds = sum(u.wav.numel() for u in utterances) / sample_rate
    row: Dict[str, object] = {
        "system": codec.name if codec else "original",
        "bitrate": codec.bitrate if codec else None,
        "tokens_per_second": codec.tokens_per_second if codec else None,
        "sample_rate": codec.sample_rate if codec else sample_rate,
        **result["averages"],
        "wer": {},
        "cer": {},
    }
    if codec is not None:
        row.update({f"{k}_x_realtime": audio_seconds / max(v, 1e-9) for k, v in seconds.items()})
    references = [u.text for u in utterances]
    for judge in judges:
        label = judge_label(judge)
        stats, hypotheses = resynthesis_wer(judge, result["outputs"], sample_rate, references)
        row["wer"][label] = stats["WER"]
        row["cer"][label] = character_error_rate(references, hypotheses)["CER"]
        for utterance_row, hypothesis in zip(result["utterances"], hypotheses):
            utterance_row[f"hypothesis ({label})"] = hypothesis
    return {"row": row, "utterances": result["utterances"]}


def comparison_markdown(report: Dict[str, object]) -> str:
    """The report as Markdown: a line of settings, the table (a WER and a
    CER column per judge), and the codecs skipped.

    Example
    -------
    >>> report = {"settings": {"manifest": "m.csv", "utterances": 2, "judges": ["Whisper base (beam 5)"],
    ...     "sample_rate": 16000}, "skipped": ["Mimi skipped: no weights"], "rows": [
    ...     {"system": "original", "bitrate": None, "tokens_per_second": None, "wer": {"Whisper base": 3.2},
    ...      "cer": {"Whisper base": 1.0}},
    ...     {"system": "Codec2 700C", "bitrate": 700.0, "tokens_per_second": None, "wer": {"Whisper base": 20.7},
    ...      "cer": {"Whisper base": 11.1}, "stoi": 0.525, "pesq_wb": 1.62, "encode_x_realtime": 150.0,
    ...      "decode_x_realtime": 90.0}]}
    >>> print(comparison_markdown(report))
    2 utterances of m.csv at 16 kHz; judged by Whisper base (beam 5).
    <BLANKLINE>
    | system | bit/s | tokens/s | WER % (Whisper base) | CER % (Whisper base) | STOI | PESQ-WB | encode x RT | decode x RT |
    |---|---|---|---|---|---|---|---|---|
    | original | — | — | 3.2 | 1.0 | — | — | — | — |
    | Codec2 700C | 700 | — | 20.7 | 11.1 | 0.525 | 1.62 | 150 | 90 |
    <BLANKLINE>
    Mimi skipped: no weights
    """
    settings = report["settings"]
    rows = report["rows"]
    labels = list(dict.fromkeys(label for row in rows for label in row["wer"]))
    header = ["system", "bit/s", "tokens/s"]
    header += [f"{kind} % ({label})" for label in labels for kind in ("WER", "CER")]
    header += ["STOI", "PESQ-WB", "encode x RT", "decode x RT"]
    table = []
    for row in rows:
        cells = [row["system"], cell(row["bitrate"], ".0f"), cell(row["tokens_per_second"], "g")]
        for label in labels:
            cells += [cell(row["wer"].get(label), ".1f"), cell(row["cer"].get(label), ".1f")]
        cells += [cell(row.get("stoi"), ".3f"), cell(row.get("pesq_wb"), ".2f")]
        cells += [cell(row.get("encode_x_realtime"), ".3g"), cell(row.get("decode_x_realtime"), ".3g")]
        table.append(cells)
    lines = [
        f"{settings['utterances']} utterances of {settings['manifest']} at {settings['sample_rate'] / 1000:g} kHz; "
        f"judged by {'; '.join(settings['judges'])}.",
        "",
        markdown_table(header, table),
    ]
    if report["skipped"]:
        lines += [""] + list(report["skipped"])
    return "\n".join(lines)


def _write_json(path: Path, data: object) -> None:
    with atomic_output(path) as partial:
        partial.write_text(json.dumps(data, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def compare(
    manifest: str,
    output: str,
    codecs: Sequence[str] = DEFAULT_CODECS,
    judges: Sequence[str] = ("base",),
    select: Optional[Dict[str, List[str]]] = None,
    exclude: Optional[Dict[str, List[str]]] = None,
    max_utterances: Optional[int] = None,
    sample_rate: int = 16000,
    device: str = "cpu",
    fresh: bool = False,
) -> Dict[str, object]:
    """Runs every codec of ``codecs`` (specs) on the manifest's utterances
    and writes ``compare.md``, ``compare.json`` and ``utterances.json`` in
    ``output`` after each; returns the report. Rows of an earlier run with
    the same settings are kept unless ``fresh``."""
    utterances = load_manifest(manifest, sample_rate, max_utterances, select, exclude)
    judge_models = [make_judge(name, device) for name in judges]
    settings = {
        "manifest": str(manifest),
        "select": select or {},
        "exclude": exclude or {},
        "utterances": len(utterances),
        "ids": [u.id for u in utterances],
        "sample_rate": sample_rate,
        "judges": [judge.description for judge in judge_models],
    }
    folder = Path(output)
    store = folder / "compare.json"
    earlier = json.loads(store.read_text()) if store.is_file() and not fresh else {}
    kept = {row["spec"]: row for row in earlier.get("rows", [])} if earlier.get("settings") == settings else {}
    hypotheses = folder / "utterances.json"
    per_utterance = json.loads(hypotheses.read_text()) if kept and hypotheses.is_file() else {}
    report: Dict[str, object] = {"settings": settings, "rows": [], "skipped": []}
    for spec in codecs:
        if spec in kept:
            report["rows"].append(kept[spec])
            continue
        try:
            codec = None if spec == "original" else codec_from_spec(spec, device)
            if codec is not None:
                codec.check()
        except CodecUnavailable as error:
            report["skipped"].append(str(error))
            print(error)
            continue
        result = run_codec(codec, utterances, sample_rate, judge_models)
        report["rows"].append({"spec": spec, **result["row"]})
        per_utterance[spec] = result["utterances"]
        _write_json(hypotheses, per_utterance)
        _write_json(store, report)
        print(f"{spec}: WER {result['row']['wer']}, STOI {result['row'].get('stoi')}")
    _write_json(store, report)
    with atomic_output(folder / "compare.md") as partial:
        partial.write_text(comparison_markdown(report) + "\n", encoding="utf-8")
    return report


def main(argv: Optional[Sequence[str]] = None) -> Dict[str, object]:
    """Command-line entry point; prints the Markdown table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True, help="CSV with ID, wav, wrd (relative wav paths: to the CSV)")
    parser.add_argument("--output", required=True, help="folder for compare.md, compare.json, utterances.json")
    parser.add_argument("--codecs", nargs="+", default=list(DEFAULT_CODECS), help="codec specs (default: %(default)s)")
    parser.add_argument("--judges", nargs="+", default=["base"], help="judges, the first one leading")
    parser.add_argument("--select", nargs="+", metavar="COLUMN=VALUES", help="rows to keep, e.g. corpus=LibriSpeech")
    parser.add_argument("--exclude", nargs="+", metavar="COLUMN=VALUES", help="rows to drop, e.g. spk_id=2412")
    parser.add_argument("--max-utterances", type=int, default=None)
    parser.add_argument("--sample-rate", type=int, default=16000, help="rate of the metrics and the judges' input")
    parser.add_argument("--device", default="cpu", help="device of our models and the peers")
    parser.add_argument("--fresh", action="store_true", help="redo rows an earlier run with these settings finished")
    args = parser.parse_args(argv)
    try:
        report = compare(
            args.manifest,
            args.output,
            args.codecs,
            args.judges,
            parse_column_values(args.select),
            parse_column_values(args.exclude),
            args.max_utterances,
            args.sample_rate,
            args.device,
            args.fresh,
        )
    except (ValueError, FileNotFoundError, ImportError) as error:
        raise SystemExit(f"error: {str(error).splitlines()[0]}") from None
    print(comparison_markdown(report))
    return report


if __name__ == "__main__":
    main()
