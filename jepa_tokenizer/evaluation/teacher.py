"""A frozen teacher for the codec's supervision: the Whisper encoder of the
judge's model (CTranslate2, through faster-whisper's feature extractor),
whose 50 Hz features the codec's feature head learns to predict. Used to
extract the features of a corpus once (``extract_on_all_ranks(...,
"features")``); never at inference, and never as a loss on decoded audio.

Authors
 * jepa-tokenizer team 2026
"""

import math
from pathlib import Path
from typing import Optional, Union

import numpy as np
import torch

__all__ = ["WhisperTeacher"]


class WhisperTeacher:
    """Whisper encoder features ``[1, ceil(T / 320), 512]`` (base) of 16 kHz audio.

    Whisper reads 30-s windows; a shorter utterance is encoded at its own
    length (CTranslate2 takes any even number of frames up to 3000: a 12-s
    utterance costs 0.4 of a padded window) and a longer one in 30-s pieces.

    Arguments
    ---------
    folder : str or Path, optional
        A CTranslate2 Whisper folder; default: the judge's Whisper base
        (assembled from its PyPI parts on first use).
    compute_type : str
        CTranslate2 compute type (``int8`` on a CPU).
    threads : int
        CTranslate2 threads (0: its default).

    Example
    -------
    >>> teacher = WhisperTeacher()  # doctest: +SKIP
    >>> teacher.features(torch.zeros(1, 16000)).shape  # doctest: +SKIP
    torch.Size([1, 50, 512])
    """

    sample_rate = 16000
    hop_length = 320  # samples per encoder frame (50 Hz)
    window_frames = 3000  # log-mel frames of Whisper's 30-s window

    def __init__(self, folder: Optional[Union[str, Path]] = None, compute_type: str = "int8", threads: int = 0):
        import ctranslate2
        from faster_whisper.feature_extractor import FeatureExtractor

        from jepa_tokenizer.evaluation.whisper import check_model_folder, packaged_model_folder

        self.folder = check_model_folder(folder) if folder is not None else packaged_model_folder("base")
        self.model = ctranslate2.models.Whisper(
            str(self.folder), device="cpu", compute_type=compute_type, intra_threads=threads
        )
        self.extractor = FeatureExtractor(feature_size=self.model.n_mels)
        self._storage = ctranslate2.StorageView

    def info(self) -> dict:
        """What identifies the features (the model folder's name carries its digest)."""
        return {
            "teacher": "whisper-encoder",
            "model": self.folder.name,
            "frame_rate": self.sample_rate / self.hop_length,
        }

    @torch.no_grad()
    def features(self, wav: torch.Tensor) -> torch.Tensor:
        """``[1, T]`` audio at 16 kHz -> ``[1, ceil(T / 320), D]`` float32 features."""
        if wav.dim() != 2 or wav.shape[0] != 1:
            raise ValueError(f"WhisperTeacher takes one signal [1, T]; got {tuple(wav.shape)}")
        mel = self.extractor(wav[0].float().cpu().numpy())
        frames = math.ceil(wav.shape[1] / self.hop_length)
        pieces = []
        for start in range(0, mel.shape[1], self.window_frames):
            piece = mel[:, start : start + self.window_frames]
            piece = piece[:, : piece.shape[1] - piece.shape[1] % 2] if piece.shape[1] > 1 else piece
            if piece.shape[1] < 2:
                break
            out = self.model.encode(self._storage.from_array(piece[None].copy()), to_cpu=True)
            pieces.append(torch.from_numpy(np.array(out))[0])
        feats = torch.cat(pieces)
        if feats.shape[0] < frames:  # the last frame of an odd-length input
            feats = torch.cat([feats, feats[-1:].expand(frames - feats.shape[0], -1)])
        return feats[:frames].unsqueeze(0)
