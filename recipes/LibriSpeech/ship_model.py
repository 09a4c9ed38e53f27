#!/usr/bin/env python3
"""Ships a trained codec as the package's default model.

Takes the output folder of a quickstart run (its exported ``model/`` and
``quickstart_state.json``), of one row of ``mini_controls.py``
(``<controls output>/<row>``, described by ``controls.json`` one folder up)
or of a recipe run with its exported ``model/`` and ``train_log.txt`` (the
mel codec's; ``--command`` says what ran it, ``--evaluation`` names the
``compare.json`` of its evaluation),
loads the codec safely, and writes it into the
package (``jepa_tokenizer/pretrained/models/<name>/``) with float16 weights
(half the size; outputs checked against the float32 model) and
``training.json``: the command, the steps and minutes of every stage, and the
evaluation averages that the model card (docs/model_card.md) quotes.

Usage (from the repository root)::

    python recipes/LibriSpeech/ship_model.py results/quickstart_mini_librispeech
    python recipes/LibriSpeech/ship_model.py results/mini_controls/codec_scratch_istft
    python recipes/LibriSpeech/ship_model.py results/mel_codec --command "python ..." \
        --evaluation results/compare/compare.json [--continues FOLDER_ITS_INIT_FROM_NAMED]

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import json
import sys
from pathlib import Path
from typing import List, Optional

import torch

from jepa_tokenizer.pretrained.export import export_codec
from jepa_tokenizer.pretrained.inference import DEFAULT_MODEL, JEPATokenizer
from jepa_tokenizer.pretrained.safe_load import load_codec
from jepa_tokenizer.training.train_log import parse_train_log

__all__ = ["recipe_run_record", "run_record", "ship", "main"]

#: Seconds of noise-like test signal used to compare float16 and float32 outputs.
CHECK_SECONDS = 4.0


def recipe_run_record(
    run_folder: Path, command: str, evaluation: Optional[Path], continues: Optional[Path] = None
) -> dict:
    """What ``training.json`` says of a recipe run: the command, the steps and
    minutes of its train log's last line, the judge's curve and the rows of
    a ``compare.json``; for a run started (``init_from``) from the model folder
    ``continues``, that folder's commands come first and its stages and
    curve are kept as ``earlier``."""
    rows = [row for row in parse_train_log(str(run_folder / "train_log.txt")) if "step" in row]
    if not rows:
        raise FileNotFoundError(f"{run_folder / 'train_log.txt'} has no logged step: is {run_folder} a recipe run?")
    curve = run_folder / "judge_curve.jsonl"
    record = {
        "commands": [command],
        "stages": {"codec": {"steps": int(rows[-1]["step"]), "minutes": rows[-1].get("minutes")}},
        "judge_curve": [json.loads(line) for line in curve.read_text().splitlines()] if curve.is_file() else [],
    }
    if evaluation is not None:
        compared = json.loads(Path(evaluation).read_text())
        record["evaluation"] = {"settings": compared["settings"], "rows": compared["rows"]}
    if continues is not None:
        info = Path(continues) / "training.json"
        if not info.is_file():
            raise FileNotFoundError(
                f"{info} not found: --continues names the shipped model folder the run started from"
            )
        before = json.loads(info.read_text())
        record["commands"] = [*before.get("commands", []), command]
        record["earlier"] = {key: before[key] for key in ("stages", "judge_curve", "earlier") if key in before}
    return record


def run_record(run_folder: Path) -> dict:
    """What ``training.json`` says of a run: its commands, stages and
    evaluation, from a quickstart run's state or a controls row's entry."""
    quickstart = run_folder / "quickstart_state.json"
    controls = run_folder.parent / "controls.json"
    if quickstart.is_file():
        state = json.loads(quickstart.read_text())
        return {
            "commands": state.get("commands", []),
            "stages": {
                k: {f: v[f] for f in ("steps", "minutes") if f in v}
                for k, v in state.items()
                if isinstance(v, dict) and "steps" in v
            },
            "evaluation": {
                name: {"manifest": result["manifest"], "asr": result["asr"], "rows": result["rows"]}
                for name, result in state.get("evaluation", {}).items()
            },
        }
    table = json.loads(controls.read_text()) if controls.is_file() else {}
    row = table.get(run_folder.name, {})
    if not row.get("done"):
        raise FileNotFoundError(
            f"{quickstart} not found and {controls} has no finished row {run_folder.name!r}: "
            "give the output folder of a finished quickstart run or controls row"
        )
    return {
        "commands": table.get("commands", []),
        "title": row["title"],
        "stages": {row["recipe"]: {"steps": row["steps"], "minutes": row["minutes"]}},
        "evaluation": row.get("evaluation", {}),
    }


def ship(run_folder: Path, destination: Path = DEFAULT_MODEL, record: Optional[dict] = None) -> Path:
    """Copies ``run_folder/model`` into ``destination`` with float16 weights
    and writes ``training.json`` (``record``, or ``run_record``'s); returns ``destination``."""
    run_folder = Path(run_folder)
    record = run_record(run_folder) if record is None else record
    codec = load_codec(run_folder / "model").eval()
    destination.mkdir(parents=True, exist_ok=True)
    export_codec(codec, destination, weights_dtype=torch.float16)
    shipped = JEPATokenizer.from_folder(destination)
    reference = JEPATokenizer.from_folder(run_folder / "model")
    torch.manual_seed(0)
    wav = torch.randn(1, int(CHECK_SECONDS * codec.sample_rate)) * 0.1
    with torch.no_grad():
        agree = float((shipped.encode_batch(wav) == reference.encode_batch(wav)).float().mean())
    info = {
        "run_folder": str(run_folder),
        **record,
        "weights": "float16",
        "tokens_equal_to_float32_model": round(agree, 4),
        "parameters": sum(p.numel() for p in codec.parameters()),
        "tokens_per_second": codec.tokens_per_second,
        "bitrate": codec.bitrate,
    }
    (destination / "training.json").write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
    return destination


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run_folder", help="output folder of a finished quickstart run or controls row")
    parser.add_argument("--destination", default=str(DEFAULT_MODEL), help="where the shipped folder goes")
    parser.add_argument("--command", help="a recipe run: the command that trained it")
    parser.add_argument("--evaluation", help="a recipe run: the compare.json of its evaluation")
    parser.add_argument("--continues", help="a recipe run: the shipped model folder its init_from named")
    args = parser.parse_args(argv)
    record = None
    if args.command:
        evaluation = Path(args.evaluation) if args.evaluation else None
        continues = Path(args.continues) if args.continues else None
        record = recipe_run_record(Path(args.run_folder), args.command, evaluation, continues)
    folder = ship(Path(args.run_folder), Path(args.destination), record)
    size = sum(p.stat().st_size for p in folder.iterdir()) / 2**20
    print(f"shipped {folder} ({size:.1f} MiB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
