"""Evaluating a tokenizer on transcribed speech: reconstruction metrics and
resynthesis word error rate, utterance by utterance.

Used by the quickstart; the numbers come from ``jepa_tokenizer.evaluation.metrics``.
A *system* is anything that maps a ``[T]`` waveform to its reconstruction
(``None`` for the original audio, the reference row).

Authors
 * jepa-tokenizer team 2026
"""

import csv
import functools
from pathlib import Path
from typing import Callable, Dict, List, NamedTuple, Optional, Sequence, Union

import torch
from tqdm import tqdm

from jepa_tokenizer.data.audio import load_audio, save_audio
from jepa_tokenizer.data.speech_files import read_speech_rows
from jepa_tokenizer.evaluation.metrics import (
    average_metrics,
    character_error_rate,
    reconstruction_metrics,
    resynthesis_wer,
)

__all__ = ["Utterance", "load_manifest", "resynthesize", "tokenizer_system", "evaluate_system", "write_utterance_table"]

Reconstruct = Callable[[torch.Tensor], torch.Tensor]


class Utterance(NamedTuple):
    """One transcribed test utterance, loaded at the evaluation's rate."""

    id: str
    wav: torch.Tensor  # [T]
    text: str


def load_manifest(
    path: Union[str, Path],
    sample_rate: int,
    max_utterances: Optional[int] = None,
    select: Optional[Dict[str, Sequence[str]]] = None,
    exclude: Optional[Dict[str, Sequence[str]]] = None,
) -> List[Utterance]:
    """Utterances of a CSV manifest with the columns ``ID``, ``wav`` and
    ``wrd`` (a LibriSpeech-recipe manifest, or any folder of speech described
    that way); relative ``wav`` paths are relative to the CSV's folder.
    ``select`` keeps the rows whose column value is one of the listed ones
    (e.g. ``{"corpus": ["LibriSpeech"]}``), ``exclude`` drops such rows
    (e.g. ``{"spk_id": ["2412"]}``); then the first ``max_utterances``.

    Example
    -------
    >>> import tempfile, os
    >>> folder = tempfile.mkdtemp()
    >>> save_audio(os.path.join(folder, "a.wav"), torch.zeros(8000), 8000)
    >>> _ = open(os.path.join(folder, "m.csv"), "w").write("ID,wav,wrd\\nu1,a.wav,HELLO\\n")
    >>> [(u.id, u.wav.shape, u.text) for u in load_manifest(os.path.join(folder, "m.csv"), 16000)]
    [('u1', torch.Size([16000]), 'HELLO')]
    """
    path = Path(path)
    rows = read_speech_rows(path, select, exclude)
    utterances = []
    for row in rows[:max_utterances]:
        wav_path = Path(row["wav"])
        if not wav_path.is_absolute():
            wav_path = path.parent / wav_path
        utterances.append(Utterance(row["ID"], load_audio(wav_path, sample_rate).wav, row["wrd"]))
    return utterances


def resynthesize(tokenizer, wav: torch.Tensor) -> torch.Tensor:
    """One signal ``[T]`` encoded and decoded by ``tokenizer`` (a
    ``JEPATokenizer``, anything with its ``encode_batch`` / ``decode_batch``,
    or a DASB-style tokenizer with ``sig_to_tokens`` / ``tokens_to_sig``),
    trimmed to ``T`` samples, float on the CPU.

    Example
    -------
    >>> import tempfile
    >>> from jepa_tokenizer.models.config import load_model_config
    >>> from jepa_tokenizer.pretrained.export import export_codec
    >>> from jepa_tokenizer.pretrained.tokenizers import JEPADASBTokenizer
    >>> folder = export_codec(load_model_config("jepa_tiny.yaml")["codec"], tempfile.mkdtemp())
    >>> resynthesize(JEPADASBTokenizer(source=str(folder)), torch.randn(12345) * 0.1).shape
    torch.Size([12345])
    """
    batch = wav.unsqueeze(0)
    with torch.no_grad():
        if hasattr(tokenizer, "sig_to_tokens"):
            out = tokenizer.tokens_to_sig(tokenizer.sig_to_tokens(batch, torch.ones(1)))
        else:
            out = tokenizer.decode_batch(tokenizer.encode_batch(batch))
    return out[0, : wav.numel()].float().cpu()


def tokenizer_system(tokenizer) -> Reconstruct:
    """``resynthesize`` with ``tokenizer``: the ``reconstruct`` of
    ``evaluate_system``, at the tokenizer's sample rate."""
    return functools.partial(resynthesize, tokenizer)


def evaluate_system(
    name: str,
    utterances: Sequence[Utterance],
    sample_rate: int,
    reconstruct: Optional[Reconstruct] = None,
    asr=None,
    wav_folder: Optional[Union[str, Path]] = None,
) -> Dict[str, object]:
    """Metrics of one system over ``utterances``.

    Arguments
    ---------
    name : str
        Name of the system (file suffix of its wavs).
    utterances : sequence of Utterance
        Test audio at ``sample_rate`` with transcripts.
    sample_rate : int
        Rate of the audio in and out.
    reconstruct : callable, optional
        ``[T] -> [T]`` waveform; None evaluates the original audio (WER only).
    asr : object, optional
        Recognizer for the resynthesis WER (``jepa_tokenizer.evaluation.metrics``); None: no WER.
    wav_folder : path, optional
        Where to write ``<id>_<name>.wav``.

    Returns
    -------
    dict
        ``averages`` (metric -> mean, ``wer`` and ``cer`` in %), ``utterances`` (one
        dict per utterance with its metrics and ASR hypothesis), ``outputs``
        (the ``[T]`` waveforms evaluated).

    Example
    -------
    >>> utts = [Utterance("u1", torch.randn(16000) * 0.1, "HELLO")]
    >>> result = evaluate_system("noisy", utts, 16000, lambda w: w + 0.01 * torch.randn_like(w))
    >>> sorted(result["averages"])
    ['mel_distance', 'pesq_wb', 'si_sdr', 'stft_distance', 'stoi']
    """
    outputs, rows = [], []
    for utt in tqdm(utterances, desc=f"evaluating {name}", unit="utt", leave=False):
        out = utt.wav if reconstruct is None else reconstruct(utt.wav)
        row: Dict[str, object] = {"ID": utt.id}
        if reconstruct is not None:
            row.update(reconstruction_metrics(utt.wav, out, sample_rate))
        if wav_folder is not None:
            save_audio(Path(wav_folder) / f"{utt.id}_{name}.wav", out, sample_rate)
        outputs.append(out)
        rows.append(row)
    averages = average_metrics({k: v for k, v in row.items() if k != "ID"} for row in rows)
    if asr is not None:
        stats, hypotheses = resynthesis_wer(asr, outputs, sample_rate, [u.text for u in utterances])
        averages["wer"] = stats["WER"]
        averages["cer"] = character_error_rate([u.text for u in utterances], hypotheses)["CER"]
        for row, utt, hypothesis in zip(rows, utterances, hypotheses):
            row["reference"], row["hypothesis"] = utt.text, hypothesis
    return {"averages": averages, "utterances": rows, "outputs": outputs}


def write_utterance_table(path: Union[str, Path], rows: Sequence[Dict[str, object]]) -> Path:
    """Writes per-utterance results as CSV (columns: the union of the keys)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    columns: List[str] = []
    for row in rows:
        columns += [key for key in row if key not in columns]
    with open(path, "w", newline="", encoding="utf-8") as stream:
        writer = csv.DictWriter(stream, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path
