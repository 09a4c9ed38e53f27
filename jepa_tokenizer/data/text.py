"""Text units for the downstream recipes: characters, or SentencePiece units
the recipe trains on its training transcripts. Index 0 is reserved (the CTC
blank, or padding); units are 1..N.

Authors
 * jepa-tokenizer team 2026
"""

import json
from pathlib import Path
from typing import Iterable, List, Union

__all__ = ["TextUnits"]


class TextUnits:
    """Maps transcripts to unit ids and back.

    Arguments
    ---------
    folder : str or Path
        Where the unit inventory (and a SentencePiece model) is saved.
    texts : iterable of str
        Training transcripts; read only when the folder holds no inventory yet.
    kind : str
        ``char``, or a SentencePiece model type (``unigram``, ``bpe``).
    vocab_size : int
        SentencePiece vocabulary size (ignored for characters).

    Example
    -------
    >>> import tempfile
    >>> units = TextUnits(tempfile.mkdtemp(), ["HELLO WORLD", "HOLD"], "char")
    >>> units.encode("HELLO")
    [4, 3, 5, 5, 6]
    >>> units.decode([4, 3, 5, 5, 6])
    'HELLO'
    >>> units.encode("HELLO!")
    Traceback (most recent call last):
    ...
    ValueError: characters outside the unit inventory: ['!'] in 'HELLO!'
    """

    @staticmethod
    def inventory_file(folder: Union[str, Path], kind: str = "char", vocab_size: int = 100) -> Path:
        """The file that holds the units of ``kind`` in ``folder`` (``chars.json``
        or the SentencePiece model): made from the texts when missing."""
        return Path(folder) / ("chars.json" if kind == "char" else f"spm_{kind}_{vocab_size}.model")

    def __init__(self, folder: Union[str, Path], texts: Iterable[str], kind: str = "char", vocab_size: int = 100):
        self.folder = Path(folder)
        self.folder.mkdir(parents=True, exist_ok=True)
        self.kind = kind
        if kind == "char":
            inventory = self.inventory_file(self.folder, kind, vocab_size)
            if not inventory.is_file():
                chars = sorted({c for text in texts for c in text})
                inventory.write_text(json.dumps(chars))
            self.units = json.loads(inventory.read_text())
            self.index = {c: i + 1 for i, c in enumerate(self.units)}
        else:
            import sentencepiece as spm

            model = self.inventory_file(self.folder, kind, vocab_size)
            if not model.is_file():
                corpus = self.folder / "spm_train.txt"
                corpus.write_text("\n".join(texts) + "\n", encoding="utf-8")
                spm.SentencePieceTrainer.train(
                    input=str(corpus),
                    model_prefix=str(model.with_suffix("")),
                    vocab_size=vocab_size,
                    model_type=kind,
                    character_coverage=1.0,
                    bos_id=-1,
                    eos_id=-1,
                    unk_id=0,
                    hard_vocab_limit=False,
                )
            self.sp = spm.SentencePieceProcessor(model_file=str(model))
            self.units = [self.sp.id_to_piece(i) for i in range(self.sp.get_piece_size())]

    def __len__(self) -> int:
        """Number of units plus the reserved index 0."""
        return len(self.units) + 1

    @property
    def vocab_list(self) -> List[str]:
        """Unit strings by index (index 0: ``<blank>``), for beam search."""
        return ["<blank>"] + list(self.units)

    @property
    def space_token(self) -> str:
        """The unit that separates words."""
        return " " if self.kind == "char" else "\u2581"

    def encode(self, text: str) -> List[int]:
        """Unit ids (1-based) of a transcript."""
        if self.kind == "char":
            unknown = sorted({c for c in text if c not in self.index})
            if unknown:
                raise ValueError(f"characters outside the unit inventory: {unknown} in {text!r}")
            return [self.index[c] for c in text]
        return [i + 1 for i in self.sp.encode(text)]

    def decode(self, ids: Iterable[int]) -> str:
        """Transcript of unit ids (index 0 skipped)."""
        ids = [int(i) for i in ids if int(i) > 0]
        if self.kind == "char":
            return "".join(self.units[i - 1] for i in ids)
        return self.sp.decode([i - 1 for i in ids])
