"""Run by torchrun in the recipe tests: trains a few steps of a recipe
(``pretrain_jepa`` or ``train_codec``, the first argument) on this rank and
saves every module's weights for comparison across ranks."""

import sys
from pathlib import Path

import torch

from jepa_tokenizer.training import load_recipe, unwrap

if __name__ == "__main__":
    name, argv = sys.argv[1], sys.argv[2:]
    recipe = load_recipe(name)
    brain = recipe.main(argv)
    state = {key: unwrap(module).state_dict() for key, module in brain.modules.items()}
    if hasattr(brain.hparams, "target_encoder"):
        state["target"] = brain.hparams.target_encoder.state_dict()
    state["steps"] = brain.optimizer_step
    rank = torch.distributed.get_rank()
    torch.save(state, Path(brain.hparams.output_folder) / f"weights_rank{rank}.ckpt")
