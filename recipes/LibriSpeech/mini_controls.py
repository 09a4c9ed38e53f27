#!/usr/bin/env python3
"""The controls of the CPU-scale model on mini LibriSpeech: each row trained
for the same time (or the same steps), evaluated on the same utterances.

Rows (``hparams/mini_controls.yaml`` says which and with what):

- Stage 1 (JEPA masked prediction) with and without DAAM, two seeds each:
  the validation masked loss at the end (the paper's 0.09 vs 0.17 claim),
  and the share of the targets' variance that differs between utterances
  (a collapse monitor); Stage 1 with the masked loss alone and with
  centred targets alone (without the guards against collapse);
- Stage 2 on the Stage-1 encoder (fine-tuned and frozen), on an untrained
  frozen encoder, and with the encoder trained from scratch (what JEPA
  buys);
- the same from-scratch codec at 12.5 frames/s and the same bit rate
  (``jepa_mini_12hz.yaml``: what 2.5 Hz costs);
- the HiFi-GAN decoder instead of the inverse-STFT one.

Every row runs a recipe of this folder (its ``main``) with the YAML's
overrides; finished rows are skipped when the command is run again (an
interrupted row resumes from its checkpoint). The table
(``controls.md``) and its numbers (``controls.json``) are written at the
end, with the learning curves of each row.

Usage (from the repository root)::

    python recipes/LibriSpeech/mini_controls.py --data_folder /data/mini_librispeech/LibriSpeech \\
        --eval-manifest ../shared/realspeech/manifest.csv

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import json
import sys
from pathlib import Path
from typing import Dict, List, Optional

import torch
from hyperpyyaml import load_hyperpyyaml
from quickstart import parse_overrides, repo_path, stage_recipe  # this folder's quickstart

from jepa_tokenizer.evaluation.evaluate import evaluate_system, load_manifest, tokenizer_system
from jepa_tokenizer.evaluation.metrics import make_asr
from jepa_tokenizer.evaluation.reports import cell, markdown_table, resynthesis_cells, resynthesis_headers
from jepa_tokenizer.training.experiment import recipe_argv

HERE = Path(__file__).resolve().parent

__all__ = ["Controls", "main"]

STAGES = {"pretrain": "Stage 1", "codec": "Stage 2"}


class Controls:
    """Trains and evaluates the rows of ``config`` (the loaded YAML)."""

    def __init__(self, config: dict, eval_manifest: Optional[str] = None, command: str = ""):
        self.config = config
        self.eval_manifest = eval_manifest
        self.command = command
        self.output = Path(config["output_folder"])
        self.output.mkdir(parents=True, exist_ok=True)
        self.state_file = self.output / "controls.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.is_file() else {}

    def _save(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=2, sort_keys=True) + "\n")

    def _options(self, row: dict) -> Dict[str, object]:
        c = self.config
        options = {
            "output_folder": str(self.output / row["name"]),
            "data_folder": c["data_folder"],
            "train_splits": c["train_splits"],
            "valid_splits": c["valid_splits"],
            "device": c["device"],
            "noprogressbar": True,
            "log_config": repo_path(c["log_config"]),
            "max_train_minutes": self.minutes(row),
            "progress_label": row["name"],
        }
        options.update(c[f"{row['recipe']}_overrides"] or {})
        options.update(row.get("overrides") or {})
        if c["steps"] is not None:
            options["optimizer_step_limit"] = c["steps"]
            options["max_train_minutes"] = None
        if row.get("encoder_from"):
            options["pretrained_encoder"] = str(self.output / row["encoder_from"] / "save")
        if row["recipe"] == "codec":
            options["export_folder"] = str(self.output / row["name"] / "model")
        return options

    def minutes(self, row: dict) -> float:
        """Training minutes of a row: one number for all, or one per recipe."""
        minutes = self.config["minutes_per_row"]
        return float(minutes[row["recipe"]] if isinstance(minutes, dict) else minutes)

    def train(self, row: dict) -> None:
        """Runs one row's recipe (skipped when done)."""
        name = row["name"]
        if self.state.get(name, {}).get("done"):
            print(f"{name}: done before ({self.state[name]['steps']} steps)")
            return
        print(f"{name}: {row['title']}")
        recipe = stage_recipe("pretrain_jepa" if row["recipe"] == "pretrain" else "train_codec")
        hparams_file = repo_path(self.config[f"{row['recipe']}_hparams"])
        brain = recipe.main(recipe_argv(hparams_file, self._options(row)))
        result = {
            "done": True,
            "title": row["title"],
            "recipe": row["recipe"],
            "steps": int(brain.optimizer_step),
            "minutes": round(brain.hparams.clock.seconds / 60, 2),
            "train_log": str(brain.hparams.train_log),
            "valid": {k: float(v) for k, v in getattr(brain, "last_stats", {}).items()},
        }
        self.state[name] = result
        self._save()

    def evaluate(self, row: dict) -> None:
        """Resynthesis metrics of a codec row on every evaluation set (the
        sets it has no numbers for: a set added later is evaluated on a rerun)."""
        from jepa_tokenizer.pretrained.inference import JEPATokenizer

        name = row["name"]
        sets = {k: v for k, v in self.eval_sets().items() if k not in self.state[name].get("evaluation", {})}
        if not sets:
            return
        tokenizer = JEPATokenizer.from_folder(self.output / name / "model", self.config["device"])
        results = self.state[name].get("evaluation", {})
        for set_name, (manifest, filters) in sets.items():
            utterances = load_manifest(manifest, tokenizer.sample_rate, self.config["eval_max_utterances"], **filters)
            with torch.no_grad():
                out = evaluate_system(name, utterances, tokenizer.sample_rate, tokenizer_system(tokenizer), self.asr)
            results[set_name] = out["averages"]
        codec = tokenizer.codec
        self.state[name]["evaluation"] = results
        self.state[name]["rates"] = {"frame_rate": codec.frame_rate, "bitrate": codec.bitrate}
        self._save()

    def eval_sets(self) -> Dict[str, tuple]:
        """name -> (manifest, load_manifest filters)."""
        from jepa_tokenizer.data.embedded_corpus import corpus_path
        from jepa_tokenizer.data.manifests import prepare_split_groups

        folder = self.output / "eval_manifests"
        groups = {"dev": self.config["test_splits"]}
        prepared = prepare_split_groups(
            self.config["data_folder"], str(folder), groups, {"dev": str(folder / "dev.csv")}, with_text=True
        )
        sets = {"dev": (prepared["dev"], {})}
        if self.config["embedded_test_splits"]:  # the embedded corpus's synthetic test voices
            embedded = prepare_split_groups(
                corpus_path(),
                str(folder / "embedded"),
                {"embedded": self.config["embedded_test_splits"]},
                {"embedded": str(folder / "embedded.csv")},
                with_text=True,
            )
            sets["embedded"] = (embedded["embedded"], {})
        if self.eval_manifest:
            sets["test-clean"] = (
                self.eval_manifest,
                {"select": self.config["eval_select"], "exclude": self.config["eval_exclude"]},
            )
        return sets

    @property
    def asr(self):
        if getattr(self, "_asr", None) is None:
            self._asr = make_asr(self.config["asr"], None, self.config["whisper_source"], self.config["device"])
        return self._asr

    def originals(self) -> Dict[str, Dict[str, float]]:
        """WER of the original recordings of each set (the reference row)."""
        rows = self.state.setdefault("original", {"evaluation": {}})["evaluation"]
        missing = {k: v for k, v in self.eval_sets().items() if k not in rows}
        rate = self.config["sample_rate"]
        for set_name, (manifest, filters) in missing.items():
            utterances = load_manifest(manifest, rate, self.config["eval_max_utterances"], **filters)
            rows[set_name] = evaluate_system("original", utterances, rate, None, self.asr)["averages"]
        if missing:
            self._save()
        return rows

    def report(self) -> Path:
        """``controls.md``: the Stage-1 table, the codec table, the curves."""
        from jepa_tokenizer.evaluation.plots import plot_curves

        rows = self.config["rows"]
        stage1 = [r for r in rows if r["recipe"] == "pretrain"]
        codecs = [r for r in rows if r["recipe"] == "codec"]
        lines = [
            "# Controls of the CPU-scale model on mini LibriSpeech",
            "",
            (
                f"{self.config['steps']} optimizer steps per row"
                if self.config["steps"] is not None
                else "Training time per row: "
                + ", ".join(f"{label} {self.minutes({'recipe': recipe}):g} min" for recipe, label in STAGES.items())
            )
            + f", device {self.config['device']}, {torch.get_num_threads()} threads.",
            "",
            "## Stage 1: masked-prediction loss (validation, end of training)",
            "",
            "valid masked loss: the masked loss alone, without the variance term; target item share: the "
            "share of the targets' variance that differs between utterances at the same frame index (near 0: "
            "the encoder codes the position in the crop, not the audio; at most about (B - 1) / B for batches "
            "of B).",
            "",
            markdown_table(
                ["row", "steps", "minutes", "valid masked loss", "target item share"],
                [
                    [
                        r["title"],
                        self.state[r["name"]]["steps"],
                        cell(self.state[r["name"]]["minutes"], ".1f"),
                        cell(masked_loss(self.state[r["name"]]["valid"]), ".4f"),
                        cell(self.state[r["name"]]["valid"].get("target_item_share"), ".3f"),
                    ]
                    for r in stage1
                ],
            ),
            "",
        ]
        sets = list(self.originals())
        for set_name in sets:
            table = [["original recordings", "—", "—", "—", *resynthesis_cells(self.originals()[set_name])]]
            for r in codecs:
                info = self.state[r["name"]]
                table.append(
                    [
                        r["title"],
                        cell(info["rates"]["frame_rate"], "g"),
                        cell(info["rates"]["bitrate"], "g"),
                        info["steps"],
                        *resynthesis_cells(info["evaluation"][set_name]),
                    ]
                )
            lines += [
                f"## Stage 2 on {set_name}",
                "",
                markdown_table(["row", "frames/s", "bit/s", "steps", *resynthesis_headers()], table),
                "",
            ]
        for group, keys in (
            ("stage1", ["train loss", "valid loss", "valid target_item_share"]),
            ("codec", ["train G_loss", "valid G_loss", "valid stoi"]),
        ):
            chosen = stage1 if group == "stage1" else codecs
            if chosen:
                picture = plot_curves(
                    [self.state[r["name"]]["train_log"] for r in chosen],
                    [r["title"] for r in chosen],
                    keys,
                    str(self.output / f"curves_{group}.png"),
                    title=f"{'Stage 1' if group == 'stage1' else 'Stage 2'} controls",
                )
                lines += [f"![{group}]({Path(picture).name})", ""]
        path = self.output / "controls.md"
        path.write_text("\n".join(lines))
        return path

    def run(self) -> Path:
        chosen = self.config.get("only")
        if self.command:
            self.state.setdefault("commands", []).append(self.command)  # every session of a resumed run
            self._save()
        for row in self.config["rows"]:
            if (
                chosen
                and row["name"] not in chosen
                and not any(r.get("encoder_from") == row["name"] for r in self.config["rows"] if r["name"] in chosen)
            ):
                continue
            self.train(row)
            if row["recipe"] == "codec":
                self.evaluate(row)
        if chosen:
            self.config["rows"] = [r for r in self.config["rows"] if r["name"] in self.state]
        report = self.report()
        print(report.read_text())
        return report


def masked_loss(valid: Dict[str, float]) -> Optional[float]:
    """A Stage-1 row's validation masked loss: its ``masked_loss`` when the
    loss had a variance term added, else the loss itself."""
    return valid.get("masked_loss", valid.get("loss"))


def main(argv: Optional[List[str]] = None) -> Path:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default=str(HERE.parents[1] / "hparams" / "mini_controls.yaml"))
    parser.add_argument("--data_folder", required=True, help="mini LibriSpeech root (train-clean-5/, dev-clean-2/)")
    parser.add_argument("--output", help="output folder (default: the YAML's)")
    parser.add_argument("--minutes", type=float, help="training minutes per row (default: the YAML's)")
    parser.add_argument("--steps", type=int, help="optimizer steps per row instead of minutes")
    parser.add_argument("--only", nargs="+", help="rows to run (and the Stage-1 rows they need)")
    parser.add_argument("--eval-manifest", help="CSV (ID, wav, wrd, ...) of test speech, filtered as the YAML says")
    args, rest = parser.parse_known_args(argv)
    overrides = {"data_folder": args.data_folder}
    for key, value in (("output_folder", args.output), ("minutes_per_row", args.minutes), ("steps", args.steps)):
        if value is not None:
            overrides[key] = value
    with open(args.config, encoding="utf-8") as stream:
        config = load_hyperpyyaml(stream, overrides)
    config.update(parse_overrides(rest))
    config["only"] = args.only
    command = " ".join(["python recipes/LibriSpeech/mini_controls.py", *(argv if argv is not None else sys.argv[1:])])
    return Controls(config, args.eval_manifest, command).run()


if __name__ == "__main__":
    main()
