#!/usr/bin/env python3
"""Compares tokenizers on one protocol: downstream ASR and resynthesis.

For each entry of the YAML, runs ``train_asr.py`` (tokens extracted once,
CTC probe, WER/CER per test split, training time per epoch) and, for
tokenizers that decode, the resynthesis metrics of the quickstart (STOI,
PESQ, mel distance, WER of the decoded audio). Writes ``compare.md`` (one
row per entry) and ``wer_vs_bitrate.png``. Finished entries are skipped on a
rerun (their results are in ``results.json``).

Run::

    python recipes/LibriSpeech/ASR/compare_codecs.py recipes/LibriSpeech/ASR/hparams/compare_codecs.yaml \
        --data_folder /path/to/LibriSpeech --device cuda:0

Authors
 * jepa-tokenizer team 2026
"""

import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

import train_asr  # this folder's ASR recipe, run once per tokenizer
from hyperpyyaml import load_hyperpyyaml

from jepa_tokenizer.evaluation.evaluate import evaluate_system, load_manifest, tokenizer_system
from jepa_tokenizer.evaluation.metrics import make_asr
from jepa_tokenizer.evaluation.plots import pyplot, save_figure
from jepa_tokenizer.evaluation.reports import cell, markdown_table, resynthesis_cells, resynthesis_headers
from jepa_tokenizer.training.experiment import parse_arguments, recipe_argv
from jepa_tokenizer.training.train_log import parse_train_log

__all__ = ["compare", "comparison_table", "main"]


def _run_entry(config: dict, entry: dict) -> Dict[str, object]:
    options = {
        "output_folder": str(Path(config["output_folder"]) / entry["name"]),
        "data_folder": config["data_folder"],
        "train_splits": config["train_splits"],
        "valid_splits": config["valid_splits"],
        "test_splits": config["test_splits"],
        "device": config["device"],
        "noprogressbar": True,
        **(config["asr_overrides"] or {}),
        **{k: v for k, v in entry.items() if k != "name"},
    }
    tokenizer_options = dict(options.get("tokenizer_options") or {})
    if options.get("tokenizer_kind", "jepa") == "jepa":
        tokenizer_options.setdefault("device", config["device"])
    options["tokenizer_options"] = tokenizer_options
    brain = train_asr.main(recipe_argv(_beside_this_script(config["asr_hparams"]), options))
    tokenizer = brain.hparams.tokenizer
    epochs = [row for row in parse_train_log(brain.hparams.train_log) if "train seconds" in row]
    row: Dict[str, object] = {
        "name": entry["name"],
        "features": brain.hparams.features,
        "frame_rate": tokenizer.frame_rate,
        "tokens_per_second": tokenizer.tokens_per_second if brain.hparams.features == "tokens" else None,
        "bitrate": tokenizer.bitrate if brain.hparams.features == "tokens" else None,
        "seconds_per_epoch": sum(r["train seconds"] for r in epochs) / len(epochs) if epochs else None,
        "test": {split: {k: float(v) for k, v in stats.items()} for split, stats in brain.test_results.items()},
    }
    if brain.hparams.features == "tokens":
        manifest = Path(brain.hparams.save_folder) / f"asr_test_{config['test_splits'][0]}.csv"
        row["resynthesis"] = _resynthesis(config, tokenizer, manifest, entry["name"])
    return row


def _resynthesis(config: dict, tokenizer, manifest: Path, name: str) -> Dict[str, float]:
    """Encode-decode metrics on the first test split (audio at the tokenizer's rate)."""
    utterances = load_manifest(manifest, tokenizer.sample_rate, config["resynthesis_max_utterances"])
    asr = make_asr(config["resynthesis_asr"], whisper_source=config["whisper_source"], device=config["device"])

    return evaluate_system(name, utterances, tokenizer.sample_rate, tokenizer_system(tokenizer), asr)["averages"]


def _beside_this_script(path: str) -> str:
    """``path`` if it names a file, else the same path in this recipe's folder."""
    return path if Path(path).is_file() else str(Path(__file__).resolve().parent / path)


def comparison_table(results: List[Dict[str, object]]) -> str:
    """One row per entry and test split.

    Example
    -------
    >>> print(comparison_table([{"name": "a", "frame_rate": 2.5, "tokens_per_second": 7.5, "bitrate": 80.0,
    ...     "seconds_per_epoch": 1.3, "test": {"test": {"WER": 91.0, "CER": 70.0}}}]))
    | tokenizer | test split | frames/s | tokens/s | bit/s | ASR WER % | ASR CER % | resynth. STOI | resynth. PESQ-WB | resynth. mel dist. | resynth. WER % | ASR s/epoch |
    |---|---|---|---|---|---|---|---|---|---|---|---|
    | a | test | 2.5 | 7.5 | 80 | 91.0 | 70.0 | — | — | — | — | 1.30 |
    """

    header = ["tokenizer", "test split", "frames/s", "tokens/s", "bit/s", "ASR WER %", "ASR CER %"]
    header += resynthesis_headers("resynth. ") + ["ASR s/epoch"]
    rows = []
    for row in results:
        for split, stats in row["test"].items():
            rows.append(
                [row["name"], split, cell(row["frame_rate"], "g"), cell(row["tokens_per_second"], "g")]
                + [cell(row["bitrate"], ".0f"), cell(stats["WER"], ".1f"), cell(stats["CER"], ".1f")]
                + resynthesis_cells(row.get("resynthesis"))
                + [cell(row["seconds_per_epoch"], ".2f")]
            )
    return markdown_table(header, rows)


def plot_wer_vs_bitrate(results: List[Dict[str, object]], output: Path) -> Optional[Path]:
    """ASR WER (first test split) against bitrate, one point per token entry."""
    points = [(r["bitrate"], next(iter(r["test"].values()))["WER"], r["name"]) for r in results if r["bitrate"]]
    if not points:
        return None
    fig, axis = pyplot().subplots(figsize=(6, 4))
    for bitrate, wer, name in points:
        axis.scatter(bitrate, wer)
        axis.annotate(name, (bitrate, wer), fontsize=8, xytext=(4, 4), textcoords="offset points")
    axis.set_xscale("log")
    axis.set_xlabel("bit/s")
    axis.set_ylabel("ASR WER % on tokens")
    axis.grid(True, alpha=0.3)
    return save_figure(fig, output)


def compare(config: dict) -> Path:
    """Runs every entry (skipping finished ones) and writes the table and plot."""
    folder = Path(config["output_folder"])
    folder.mkdir(parents=True, exist_ok=True)
    store = folder / "results.json"
    done = {r["name"]: r for r in json.loads(store.read_text())} if store.is_file() else {}
    for entry in config["entries"]:
        if entry["name"] not in done:
            done[entry["name"]] = _run_entry(config, entry)
            store.write_text(json.dumps(list(done.values()), indent=2))
    results = [done[e["name"]] for e in config["entries"]]
    table = folder / "compare.md"
    table.write_text(comparison_table(results) + "\n")
    plot_wer_vs_bitrate(results, folder / "wer_vs_bitrate.png")
    print(comparison_table(results))
    return table


def main(argv: Optional[List[str]] = None) -> Path:
    """Command-line entry point (SpeechBrain-style: a YAML file and overrides)."""
    hparams_file, run_opts, overrides = parse_arguments(argv)
    with open(hparams_file, encoding="utf-8") as stream:
        config = load_hyperpyyaml(stream, overrides)
    if run_opts.get("device"):
        config["device"] = run_opts["device"]
    return compare(config)


if __name__ == "__main__":
    main(sys.argv[1:])
