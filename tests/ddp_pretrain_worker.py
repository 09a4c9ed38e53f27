"""Run by torchrun in tests/test_pretrain_recipe.py: trains a few steps of the
Stage-1 recipe on this rank and saves the encoder's weights for comparison."""

import importlib.util
import sys
from pathlib import Path

import torch

RECIPE = Path(__file__).resolve().parents[1] / "recipes" / "LibriSpeech" / "pretrain_jepa.py"

if __name__ == "__main__":
    spec = importlib.util.spec_from_file_location("pretrain_jepa", RECIPE)
    recipe = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(recipe)
    brain = recipe.main(sys.argv[1:])
    rank = torch.distributed.get_rank()
    encoder = recipe.unwrap(brain.modules.encoder)
    torch.save(
        {"encoder": encoder.state_dict(), "target": brain.hparams.target_encoder.state_dict(),
         "steps": brain.optimizer_step},
        Path(brain.hparams.output_folder) / f"weights_rank{rank}.ckpt",
    )
