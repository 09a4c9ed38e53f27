"""Run by torchrun in the recipe tests: trains a few steps of a recipe
(``pretrain_jepa``, ``train_codec`` or ``train_asr``, the first argument) on
this rank and saves every module's weights for comparison across ranks, with
how many feature files each extraction call of this rank wrote."""

import sys
from pathlib import Path

import torch
from conftest import load_recipe

import jepa_tokenizer.data.extraction as extraction
from jepa_tokenizer.training.experiment import unwrap


def record_extractions(recipe) -> list:
    """Calls of ``extract_features`` on this rank: the manifest, the rank
    split and the files written."""
    calls, original = [], extraction.extract_features

    def recording(tokenizer, manifest, folder, *args, **kwargs):
        written = original(tokenizer, manifest, folder, *args, **kwargs)
        calls.append(
            {
                "manifest": str(manifest),
                "written": written,
                "rank": kwargs.get("rank", 0),
                "world_size": kwargs.get("world_size", 1),
            }
        )
        return written

    extraction.extract_features = recording
    return calls


if __name__ == "__main__":
    name, argv = sys.argv[1], sys.argv[2:]
    recipe = load_recipe(name)
    extractions = record_extractions(recipe)
    brain = recipe.main(argv)
    state = {key: unwrap(module).state_dict() for key, module in brain.modules.items()}
    if hasattr(brain.hparams, "target_encoder"):
        state["target"] = brain.hparams.target_encoder.state_dict()
    state["steps"] = brain.optimizer_step
    state["extractions"] = extractions
    rank = torch.distributed.get_rank()
    torch.save(state, Path(brain.hparams.output_folder) / f"weights_rank{rank}.ckpt")
