"""Extracting tokens (or continuous latents, or any frame features) once, to
disk, for downstream recipes.

Every utterance of a manifest becomes ``<folder>/<ID>.pt``: a ``[N, K]``
int32 tensor of tokens, or a ``[N, D]`` float16 tensor of latents or of
features (an extractor with ``info()`` and ``features(wav [1, T]) -> [1, N, D]``:
the codec recipe's log-mel frames, a teacher's features). Files are
written to a temporary name and renamed, so an interrupted extraction leaves
only whole files and a rerun does what is missing (resumable); under DDP
each rank takes every ``world_size``-th utterance. ``info.json`` records what
made the files; a folder made by another tokenizer is an error, not a mix.
Used by the ASR recipe (and the TTS recipe).

Authors
 * jepa-tokenizer team 2026
"""

import csv
import json
import os
from pathlib import Path
from typing import Dict, Iterable, Optional, Union

import torch
from tqdm import tqdm

from jepa_tokenizer.data.audio import load_audio

__all__ = ["tokenizer_info", "extract_features", "extract_on_all_ranks", "load_features"]


def tokenizer_info(tokenizer, kind: str) -> Dict[str, object]:
    """What identifies the features of ``tokenizer`` (``kind``: tokens | latents |
    features; a feature extractor describes itself with ``info()``)."""
    if kind == "features":
        return {"extractor": type(tokenizer).__name__, "kind": kind, **tokenizer.info()}
    return {
        "tokenizer": type(tokenizer).__name__,
        "kind": kind,
        "sample_rate": tokenizer.sample_rate,
        "frame_rate": tokenizer.frame_rate,
        "num_codebooks": tokenizer.num_codebooks,
        "vocab_size": tokenizer.vocab_size,
    }


def extract_features(
    tokenizer,
    manifest: Union[str, Path],
    folder: Union[str, Path],
    kind: str = "tokens",
    rank: int = 0,
    world_size: int = 1,
    progress: bool = True,
) -> int:
    """Writes the features of every utterance of ``manifest`` (columns ``ID``,
    ``wav``) that ``folder`` does not hold yet; returns how many were written.

    Example
    -------
    >>> import tempfile, os
    >>> from jepa_tokenizer.data.audio import save_audio
    >>> from jepa_tokenizer.models.config import load_model_config
    >>> from jepa_tokenizer.pretrained.tokenizers import JEPADASBTokenizer
    >>> tok = JEPADASBTokenizer(codec=load_model_config("jepa_tiny.yaml")["codec"])
    >>> d = tempfile.mkdtemp()
    >>> save_audio(os.path.join(d, "a.wav"), torch.randn(16000) * 0.1, 16000)
    >>> _ = open(os.path.join(d, "m.csv"), "w").write(f"ID,wav\\nu1,{d}/a.wav\\n")
    >>> extract_features(tok, os.path.join(d, "m.csv"), os.path.join(d, "tok"), progress=False)
    1
    >>> extract_features(tok, os.path.join(d, "m.csv"), os.path.join(d, "tok"), progress=False)
    0
    >>> load_features(os.path.join(d, "tok"), "u1").shape
    torch.Size([3, 3])
    """
    if kind not in ("tokens", "latents", "features"):
        raise ValueError(f"kind must be tokens, latents or features, not {kind!r}")
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    info = tokenizer_info(tokenizer, kind)
    info_file = folder / "info.json"
    if info_file.is_file():
        existing = json.loads(info_file.read_text())
        if existing != info:
            raise ValueError(
                f"{folder} holds features of another tokenizer or kind: {existing} (now: {info}); use another folder"
            )
    elif rank == 0:  # renamed into place: the other ranks check it at the same moment
        partial = folder / ".info.json.partial"
        partial.write_text(json.dumps(info, indent=2, sort_keys=True) + "\n")
        os.replace(partial, info_file)
    with open(manifest, newline="", encoding="utf-8") as stream:
        rows = list(csv.DictReader(stream))[rank::world_size]
    todo = [row for row in rows if not (folder / f"{row['ID']}.pt").is_file()]
    for row in tqdm(todo, desc=f"extracting {kind}", unit="utt", disable=not progress):
        wav = load_audio(row["wav"], tokenizer.sample_rate).wav.unsqueeze(0)
        if kind == "tokens":
            features = tokenizer.sig_to_tokens(wav, torch.ones(1))[0].to(torch.int32)
        elif kind == "latents":
            features = tokenizer.latents(wav, torch.ones(1))[0].to(torch.float16)
        else:
            features = tokenizer.features(wav)[0].to(torch.float16)
        partial = folder / f".{row['ID']}.pt.partial"
        torch.save(features.cpu().clone(), partial)
        os.replace(partial, folder / f"{row['ID']}.pt")
    return len(todo)


def extract_on_all_ranks(
    tokenizer, manifests: Iterable[Union[str, Path]], folder: Union[str, Path], kind: str = "tokens"
) -> None:
    """Extracts the features of every manifest: under DDP each rank its share
    (progress shown by rank 0), then every rank waits for the others."""
    from speechbrain.utils.distributed import ddp_barrier

    rank, world = 0, 1
    if torch.distributed.is_available() and torch.distributed.is_initialized():
        rank, world = torch.distributed.get_rank(), torch.distributed.get_world_size()
    for manifest in manifests:
        extract_features(tokenizer, manifest, folder, kind, rank=rank, world_size=world, progress=rank == 0)
    ddp_barrier()


def load_features(folder: Union[str, Path], utt_id: str, device: Optional[str] = None) -> torch.Tensor:
    """The features of one utterance (``[N, K]`` int64 tokens or ``[N, D]`` float32 latents)."""
    path = Path(folder) / f"{utt_id}.pt"
    if not path.is_file():
        raise FileNotFoundError(f"no extracted features for {utt_id} in {folder}: run the extraction first")
    features = torch.load(path, map_location=device or "cpu", weights_only=True)
    return features.long() if not features.is_floating_point() else features.float()
