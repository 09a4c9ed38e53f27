"""The quickstart: the whole method end to end, and a report of what it bought.

A recipe-level orchestrator: it runs this folder's recipes (their ``main``)
in one process, so the library never executes recipe files.

On the embedded corpus with the tiny model (``hparams/quickstart.yaml``), in
a time budget (20 minutes on 2 CPU cores by default):

1. Stage-1 JEPA pretraining (``recipes/LibriSpeech/JEPA/pretrain_jepa.py``);
2. Stage-2 codec training on that encoder (``train_codec.py``), exported to
   ``<output>/model``;
3. a control: Stage 2 with the same number of steps on an untrained, frozen
   encoder (what Stage 1 bought);
4. evaluation on the test voices (and on ``--eval-manifest``): STOI, PESQ,
   mel distance and resynthesis WER for the original audio, the codec and
   the control;
5. ``report.md`` with the table and pictures, wavs next to the originals.

Interrupted, the same command resumes: finished stages are skipped, the
running one continues from its last checkpoint with what is left of its
time budget.

Usage (from the repository root)::

    python recipes/LibriSpeech/quickstart.py
    python recipes/LibriSpeech/quickstart.py --minutes 5 --output results/qs5 --device cpu
    python recipes/LibriSpeech/quickstart.py --eval-manifest ../shared/realspeech/manifest.csv
    python recipes/LibriSpeech/quickstart.py --config hparams/quickstart_librispeech.yaml \\
        --data_folder /data/LibriSpeech --device cuda:0

Any other ``--key value`` overrides a key of the quickstart YAML.

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import csv
import datetime
import functools
import importlib
import json
import logging
import platform
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch
from hyperpyyaml import load_hyperpyyaml

from jepa_tokenizer.data.manifests import prepare_split_groups
from jepa_tokenizer.evaluation.evaluate import (
    evaluate_system,
    load_manifest,
    tokenizer_system,
    write_utterance_table,
)
from jepa_tokenizer.evaluation.reports import cell, markdown_table, resynthesis_cells, resynthesis_headers
from jepa_tokenizer.models.config import resolve_config_path
from jepa_tokenizer.training.experiment import recipe_argv

__all__ = ["Quickstart", "stage_recipe", "repo_path", "parse_overrides", "main"]

logger = logging.getLogger(__name__)

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]  # the clone's root: relative paths of the quickstart YAML start there


def repo_path(path: str) -> str:
    """``path`` if it is a file, else the same path under the clone's root;
    else a packaged model configuration of that name."""
    if Path(path).is_file():
        return str(path)
    if (REPO / path).is_file():
        return str(REPO / path)
    return str(resolve_config_path(path))


#: the stages' recipes, each in its own folder of this one with its hparams/ (this folder is
#: importable, as running a script of it makes it)
RECIPE_MODULES = {
    "pretrain_jepa": "JEPA.pretrain_jepa",
    "train_codec": "codec.train_codec",
    "train_asr": "ASR.train_asr",
}


def stage_recipe(name: str):
    """The recipe ``name`` of :data:`RECIPE_MODULES`, imported on first use
    (its ``main(argv)`` runs it in this process)."""
    return importlib.import_module(RECIPE_MODULES[name])


STAGES = ("pretrain", "codec", "control", "asr_jepa", "asr_control")
# stage -> (its keys in the quickstart YAML: <kind>_hparams, <kind>_overrides; its recipe)
RECIPE_OF = {
    "pretrain": ("pretrain", "pretrain_jepa"),
    "codec": ("codec", "train_codec"),
    "control": ("codec", "train_codec"),
    "asr_jepa": ("asr", "train_asr"),
    "asr_control": ("asr", "train_asr"),
}
TITLES = {
    "pretrain": "Stage 1: JEPA pretraining",
    "codec": "Stage 2: codec on the Stage-1 encoder",
    "control": "Control: codec on an untrained encoder",
    "asr_jepa": "ASR on the JEPA codec's tokens",
    "asr_control": "ASR on the control's tokens",
}


class Quickstart:
    """Runs the stages of ``config`` (the quickstart YAML, loaded) and writes the report.

    Arguments
    ---------
    config : dict
        The loaded quickstart YAML (with command-line overrides applied).
    eval_manifest : str, optional
        A CSV (``ID, wav, wrd``) of extra transcribed speech to evaluate on.
    command : str
        The command line, for the report.
    """

    def __init__(self, config: dict, eval_manifest: Optional[str] = None, command: str = ""):
        self.config = config
        self.command = command
        self.eval_manifest = eval_manifest
        self.output = Path(config["output_folder"])
        self.output.mkdir(parents=True, exist_ok=True)
        self.state_file = self.output / "quickstart_state.json"
        self.state = json.loads(self.state_file.read_text()) if self.state_file.is_file() else {}
        self.started = time.monotonic()
        if config["data_folder"] is None:
            from jepa_tokenizer.data.embedded_corpus import corpus_path

            config["data_folder"] = str(corpus_path())

    # ---------------------------------------------------------------- budget
    def budget_minutes(self, stage: str) -> float:
        """Training minutes of ``stage``."""
        return self.config["minutes"] * self.config[f"{stage}_share"]

    def minutes_left(self, from_stage: str) -> float:
        """Estimate of the wall time left, from the start of ``from_stage``."""
        later = STAGES[STAGES.index(from_stage) :]
        share = sum(self.config[f"{s}_share"] for s in later if not self._done(s))
        rest = 1.0 - sum(self.config[f"{s}_share"] for s in STAGES)
        return self.config["minutes"] * (share + rest)

    def _done(self, stage: str) -> bool:
        return bool(self.state.get(stage, {}).get("done"))

    def _save_state(self) -> None:
        self.state_file.write_text(json.dumps(self.state, indent=2, sort_keys=True) + "\n")

    # ---------------------------------------------------------------- stages
    def _label(self, stage: str) -> str:
        return f"[{STAGES.index(stage) + 1}/{len(STAGES) + 1}]"

    def _options(self, stage: str) -> Dict[str, object]:
        c = self.config
        kind = RECIPE_OF[stage][0]
        options = {
            "output_folder": str(self.output / stage),
            "data_folder": c["data_folder"],
            "train_splits": c["train_splits"],
            "valid_splits": c["valid_splits"],
            "seed": c["seed"],
            "device": c["device"],
            "noprogressbar": True,
            "log_config": repo_path(c["log_config"]),
            "max_train_minutes": self.budget_minutes(stage),
            "progress_label": f"{self._label(stage)} {stage}",
        }
        if kind != "asr":
            options["model_config"] = str(resolve_config_path(c["model_config"]))
        options.update(c[f"{kind}_overrides"] or {})
        if c["steps"] is not None:  # every stage ends on its step count, whatever the clock says
            options["optimizer_step_limit"] = c["steps"]
            options["max_train_minutes"] = None
        if stage == "codec":
            options["pretrained_encoder"] = str(self.output / "pretrain" / "save")
            options["export_folder"] = str(self.output / "model")
        if stage == "control":
            options["pretrained_encoder"] = None
            options["export_folder"] = str(self.output / "control" / "model")
            # the same number of generator steps as the real codec (the budget is a cap)
            options["optimizer_step_limit"] = self.state["codec"]["steps"]
        if stage == "asr_control":  # the same number of steps as on the JEPA tokens
            options["optimizer_step_limit"] = self.state["asr_jepa"]["steps"]
        if kind == "asr":
            model = self.output / ("model" if stage == "asr_jepa" else "control/model")
            options["test_splits"] = c["test_splits"]
            options["tokenizer_kind"] = "jepa"
            options["tokenizer_options"] = {"source": str(model), "device": c["device"]}
        return options

    def run_stage(self, stage: str) -> None:
        """Runs one training stage through its recipe (skipped when done)."""
        if self._done(stage):
            info = self.state[stage]
            print(
                f"{self._label(stage)} {TITLES[stage]}: done before ({info['steps']} steps, {info['minutes']:.1f} min)"
            )
            return
        print(
            f"{self._label(stage)} {TITLES[stage]}: "
            + (f"{self.config['steps']} steps, " if self.config["steps"] is not None else "")
            + f"budget {self.budget_minutes(stage):.1f} min, "
            f"about {self.minutes_left(stage):.1f} min left in total"
        )
        kind, recipe = RECIPE_OF[stage]
        hparams_file = repo_path(self.config[f"{kind}_hparams"])
        brain = stage_recipe(recipe).main(recipe_argv(hparams_file, self._options(stage)))
        clock = brain.hparams.clock
        self.state[stage] = {
            "done": True,
            "steps": int(brain.optimizer_step),
            "minutes": round(getattr(brain, "fit_seconds", clock.seconds) / 60, 2),
            "train_log": str(Path(brain.hparams.train_log)),
        }
        if kind == "asr":
            self.state[stage]["test"] = {
                split: {k: float(v) for k, v in stats.items()} for split, stats in brain.test_results.items()
            }
            h = brain.hparams  # what the report says of the model is what was trained
            self.state[stage]["model"] = (
                f"{h.text_units} units, {'frozen pretrained' if h.use_pretrained_embeddings else 'learned'} "
                f"per-frame {h.features} embeddings ({h.embedding_dim}), x{h.upsample_factor} temporal upsampling, "
                f"{h.lstm_layers}-layer BiLSTM ({h.lstm_hidden}), "
                + (f"beam search ({h.test_beam_size}) in test" if h.test_beam_size else "greedy decoding")
            )
        self._save_state()

    # ------------------------------------------------------------ evaluation
    def _test_manifest(self) -> Path:
        folder = self.output / "eval" / "manifests"
        groups, outputs = {"test": self.config["test_splits"]}, {"test": str(folder / "test.csv")}
        return Path(
            prepare_split_groups(self.config["data_folder"], str(folder), groups, outputs, with_text=True)["test"]
        )

    def _asr(self, corpus_vocabulary: bool):
        from jepa_tokenizer.evaluation.metrics import make_asr

        texts = None
        if corpus_vocabulary and self.config["asr"] in ("pocketsphinx", "auto"):  # auto: the fallback's vocabulary
            # the words of the training transcripts (Stage 1 prepared them)
            prepared = self.output / "pretrain" / "save"
            texts = []
            for split in self.config["train_splits"]:
                with open(prepared / f"{split}.csv", newline="", encoding="utf-8") as stream:
                    texts += [row["wrd"] for row in csv.DictReader(stream)]
        return make_asr(self.config["asr"], texts, self.config["whisper_source"], self.config["device"])

    def evaluate(self) -> Dict[str, dict]:
        """Evaluates the original audio, the codec and the control on each set."""
        from jepa_tokenizer.pretrained.inference import JEPATokenizer

        systems = {
            "jepa": JEPATokenizer.from_hparams(
                source=str(self.output / "model"),
                savedir=str(self.output / "model"),
                run_opts={"device": self.config["device"]},
            ),
            "control": JEPATokenizer.from_hparams(
                source=str(self.output / "control" / "model"),
                savedir=str(self.output / "control" / "model"),
                run_opts={"device": self.config["device"]},
            ),
        }
        if self.config.get("compare_shipped"):  # the package's own model, on the same utterances
            from jepa_tokenizer.pretrained.inference import DEFAULT_MODEL

            if (DEFAULT_MODEL / "codec.ckpt").is_file():
                systems["shipped"] = JEPATokenizer.from_folder(DEFAULT_MODEL, self.config["device"])
        rate = systems["jepa"].sample_rate
        sets = {"test voices": (self._test_manifest(), bool(self.config["asr_corpus_vocabulary"]))}
        if self.eval_manifest:
            sets["eval manifest"] = (Path(self.eval_manifest), False)
        results = {}
        for name, (manifest, vocabulary) in sets.items():
            folder = self.output / "eval" / name.replace(" ", "_")
            filters = {}
            if name == "eval manifest":  # which rows of it (e.g. one corpus, minus speakers seen in training)
                filters = {"select": self.config.get("eval_select"), "exclude": self.config.get("eval_exclude")}
            utterances = load_manifest(manifest, rate, self.config["eval_max_utterances"], **filters)
            asr = self._asr(vocabulary)
            print(
                f"[{len(STAGES) + 1}/{len(STAGES) + 1}] evaluating on {name}: {len(utterances)} utterances from {manifest} ({asr.description})"
            )
            rows = {"original": evaluate_system("original", utterances, rate, None, asr, folder / "wavs")}
            for system, tokenizer in systems.items():
                with torch.no_grad():
                    rows[system] = evaluate_system(
                        system, utterances, rate, tokenizer_system(tokenizer), asr, folder / "wavs"
                    )
            for system, result in rows.items():
                write_utterance_table(folder / f"utterances_{system}.csv", result["utterances"])
            results[name] = {
                "manifest": str(manifest),
                "asr": asr.description,
                "utterances": [u.id for u in utterances],
                "rows": {system: result["averages"] for system, result in rows.items()},
            }
            self._pictures(folder, utterances, rows, systems["jepa"], rate)
        self.state["evaluation"] = results
        self._save_state()
        return results

    def _pictures(self, folder, utterances, rows, jepa, rate) -> None:
        """Spectrograms of the first utterances (from the evaluation's outputs)
        and the DAAM gates of the Stage-1 encoder on the first one."""
        from jepa_tokenizer.evaluation.plots import plot_daam_gates, plot_spectrograms

        count = min(self.config["num_spectrograms"], len(utterances))
        shown = {"original": "original", "jepa": "JEPA codec", "control": "control", "shipped": "shipped model"}
        shown = {system: title for system, title in shown.items() if system in rows}
        grid = [[rows[system]["outputs"][i] for system in shown] for i in range(count)]
        plot_spectrograms(
            grid,
            [u.id for u in utterances[:count]],
            list(shown.values()),
            rate,
            folder / "spectrograms.png",
        )
        with torch.no_grad():
            out = jepa.codec.encoder(utterances[0].wav.unsqueeze(0).to(jepa.device), return_gates=True)
        if out.gates:
            plot_daam_gates(
                utterances[0].wav,
                [g[0] for g in out.gates],
                rate,
                folder / "daam_gates.png",
                f"DAAM gates of the Stage-1 encoder, {utterances[0].id}",
            )

    # ---------------------------------------------------------------- report
    def plot_curves(self) -> List[Path]:
        """Training curves of the three stages."""
        from jepa_tokenizer.evaluation.plots import plot_curves

        pictures = []
        pretrain = self.state["pretrain"]["train_log"]
        pictures.append(
            Path(
                plot_curves(
                    [pretrain],
                    ["Stage 1"],
                    ["train loss", "valid loss"],
                    str(self.output / "curves_pretrain.png"),
                    title="Stage 1: masked-prediction loss",
                )
            )
        )
        logs = [self.state["codec"]["train_log"], self.state["control"]["train_log"]]
        pictures.append(
            Path(
                plot_curves(
                    logs,
                    ["Stage-1 encoder", "untrained encoder"],
                    ["train G_loss", "valid G_loss"],
                    str(self.output / "curves_codec.png"),
                    title="Stage 2: generator loss (spectral + waveform)",
                )
            )
        )
        return pictures

    @functools.cached_property
    def codec(self):
        """The exported codec (for its rates and vocabulary), loaded once."""
        from jepa_tokenizer.pretrained.inference import JEPATokenizer

        folder = str(self.output / "model")
        return JEPATokenizer.from_hparams(source=folder, savedir=folder).codec

    @property
    def shipped_codecs(self) -> Dict[str, object]:
        """``{"shipped": codec}`` when the evaluation had the shipped model's row."""
        if not any("shipped" in result["rows"] for result in self.state.get("evaluation", {}).values()):
            return {}
        from jepa_tokenizer.pretrained.inference import JEPATokenizer

        return {"shipped": JEPATokenizer.from_folder().codec}

    def write_report(self) -> Path:
        """``report.md``: the tables, the pictures, how it was run."""
        codec = self.codec
        c = self.config
        lines = [
            "# Quickstart report",
            "",
            f"{datetime.datetime.now().strftime('%Y-%m-%d %H:%M')}, {platform.node()}, "
            f"{torch.get_num_threads()} CPU threads, device {c['device']}, budget {c['minutes']:g} min, "
            f"model {c['model_config']}, data {c['data_folder']}.",
            "",
            f"Command: `{self.command}`",
            "",
            "## Training",
            "",
            markdown_table(
                ["stage", "optimizer steps", "minutes"],
                [[TITLES[s], self.state[s]["steps"], cell(self.state[s]["minutes"], ".1f")] for s in STAGES],
            ),
        ]
        lines += ["", "![Stage 1](curves_pretrain.png)", "", "![Stage 2](curves_codec.png)", ""]
        lines += [
            "## Downstream ASR on the tokens",
            "",
            f"CTC over each codec's tokens ({c['asr_hparams']}: {self.state['asr_jepa'].get('model', 'as its YAML says')}), trained on "
            "the training voices, tested on the test voices (the checkpoint with the lowest validation WER).",
            "",
            self.asr_table(),
            "",
        ]
        for name, result in self.state["evaluation"].items():
            folder = "eval/" + name.replace(" ", "_")
            lines += [
                f"## Evaluation: {name}",
                "",
                f"{len(result['utterances'])} utterances of `{result['manifest']}`; WER judged by "
                f"{result['asr']}. Per-utterance numbers and ASR hypotheses: `{folder}/utterances_*.csv`; "
                f"wavs: `{folder}/wavs/`.",
                "",
                report_table(result["rows"], codec, self.shipped_codecs),
                "",
                f"![spectrograms]({folder}/spectrograms.png)",
                "",
            ]
            if (self.output / folder / "daam_gates.png").is_file():
                lines += [f"![DAAM gates]({folder}/daam_gates.png)", ""]
        path = self.output / "report.md"
        path.write_text("\n".join(lines))
        return path

    def asr_table(self) -> str:
        """Markdown table of the downstream ASR stages."""
        rows = []
        for stage in ("asr_jepa", "asr_control"):
            info = self.state[stage]
            for split, stats in info["test"].items():
                rows.append(
                    [NAMES[stage[4:]], split, cell(stats["WER"], ".1f"), cell(stats["CER"], ".1f")]
                    + [info["steps"], cell(info["minutes"], ".1f")]
                )
        return markdown_table(["tokens of", "test split", "WER %", "CER %", "optimizer steps", "minutes"], rows)

    def run(self) -> Path:
        """All stages, the evaluation and the report; returns ``report.md``."""
        self.state.setdefault("commands", []).append(self.command)  # every session of a resumed run
        self._save_state()
        for stage in STAGES:
            self.run_stage(stage)
        results = self.evaluate()
        self.plot_curves()
        report = self.write_report()
        minutes = (time.monotonic() - self.started) / 60
        print(f"\nDone in {minutes:.1f} min (this session). Report: {report}\n")
        for name, result in results.items():
            print(f"{name}:")
            print(report_table(result["rows"], self.codec, self.shipped_codecs))
            print()
        print("downstream ASR on the tokens:")
        print(self.asr_table())
        return report


NAMES = {
    "original": "original audio (reference)",
    "jepa": "JEPA codec (Stage 1 + 2)",
    "control": "control (untrained encoder)",
    "shipped": "the shipped model (jepa_mini_librispeech)",
}


def report_table(rows: Dict[str, Dict[str, float]], codec=None, codecs: Optional[Dict[str, object]] = None) -> str:
    """Markdown table of the evaluation rows (``—`` where not applicable).

    Example
    -------
    >>> print(report_table({"original": {"wer": 5.0}, "jepa": {"stoi": 0.5, "wer": 90.0}}))
    | system | tokens/s | bit/s | vocabulary | STOI | PESQ-WB | mel dist. | WER % |
    |---|---|---|---|---|---|---|---|
    | original audio (reference) | — | — | — | — | — | — | 5.0 |
    | JEPA codec (Stage 1 + 2) | — | — | — | 0.500 | — | — | 90.0 |
    """

    table = []
    for system, metrics in rows.items():
        model = (codecs or {}).get(system, codec)  # the shipped model has rates of its own
        coded = model is not None and system != "original"
        table.append(
            [
                NAMES.get(system, system),
                cell(model.tokens_per_second if coded else None, "g"),
                cell(model.bitrate if coded else None, "g"),
                cell(model.vocab_size if coded else None, "d"),
                *resynthesis_cells(metrics),
            ]
        )
    return markdown_table(["system", "tokens/s", "bit/s", "vocabulary", *resynthesis_headers()], table)


def parse_overrides(pairs: List[str]) -> Dict[str, object]:
    """``{key: value}`` of ``--key value`` pairs, each value read as YAML."""
    import yaml

    if len(pairs) % 2:
        raise SystemExit(f"overrides come as --key value pairs, got {pairs}")
    result = {}
    for key, value in zip(pairs[::2], pairs[1::2]):
        if not key.startswith("--"):
            raise SystemExit(f"unexpected argument {key!r}")
        result[key[2:]] = yaml.safe_load(value)
    return result


def main(argv: Optional[List[str]] = None) -> Path:
    """Command-line entry point; returns the report's path."""
    parser = argparse.ArgumentParser(
        description=__doc__.splitlines()[0], formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--config", default="hparams/quickstart.yaml", help="quickstart YAML")
    parser.add_argument("--minutes", type=float, help="wall-clock budget (default: the YAML's)")
    parser.add_argument("--steps", type=int, help="optimizer steps per training stage instead of the time budget")
    parser.add_argument("--device", help="torch device, e.g. cpu or cuda:0")
    parser.add_argument("--output", help="output folder (default: the YAML's output_folder)")
    parser.add_argument("--data_folder", help="LibriSpeech-style corpus (default: the embedded corpus)")
    parser.add_argument("--eval-manifest", help="CSV (ID, wav, wrd) of extra speech to evaluate on")
    args, rest = parser.parse_known_args(argv)
    overrides = parse_overrides(rest)
    for key, name in (
        ("minutes", "minutes"),
        ("steps", "steps"),
        ("device", "device"),
        ("output", "output_folder"),
        ("data_folder", "data_folder"),
    ):
        if getattr(args, key) is not None:
            overrides[name] = getattr(args, key)
    try:
        config_path = repo_path(args.config)
    except FileNotFoundError as err:
        raise SystemExit(f"error: {err}") from err
    with open(config_path, encoding="utf-8") as stream:
        config = load_hyperpyyaml(stream, overrides)
    command = " ".join(["python recipes/LibriSpeech/quickstart.py", *(argv if argv is not None else sys.argv[1:])])
    return Quickstart(config, args.eval_manifest, command).run()


if __name__ == "__main__":
    main()
