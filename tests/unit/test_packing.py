"""MixedRadixPacker: exact round trips, the reference layout, clear errors."""

import itertools

import pytest
import torch

from jepa_tokenizer import MixedRadixPacker


def test_exhaustive_round_trip_mixed_radices():
    radices = [2, 3, 4, 5, 3]
    packer = MixedRadixPacker(radices=radices, group_size=2)
    assert packer.tokens_per_frame == 3
    assert packer.token_ranges == [6, 20, 3]
    assert packer.vocab_size == 20
    space = torch.tensor(list(itertools.product(*[range(r) for r in radices])))
    tokens = packer.pack(space)
    assert torch.equal(packer.unpack(tokens), space)
    # every token value of every position is reached, and each exactly as often
    for pos, size in enumerate(packer.token_ranges):
        counts = torch.bincount(tokens[:, pos], minlength=size)
        assert counts.numel() == size and (counts == counts[0]).all()
    # distinct digit vectors give distinct token tuples
    assert len({tuple(t) for t in tokens.tolist()}) == space.shape[0]


def test_horner_value():
    packer = MixedRadixPacker(radices=[4, 4, 4], group_size=3)
    # 1*16 + 2*4 + 3
    assert packer.pack(torch.tensor([1, 2, 3])).tolist() == [27]


def test_reference_layout():
    packer = MixedRadixPacker(radices=4, num_digits=128, group_size=7)
    assert packer.tokens_per_frame == 19
    assert packer.vocab_size == 16384
    assert packer.token_ranges[-1] == 16  # last group: 2 real digits
    assert packer.bits_per_frame == 256


def test_random_large_round_trip():
    packer = MixedRadixPacker(radices=4, num_digits=128, group_size=7)
    gen = torch.Generator().manual_seed(1)
    digits = torch.randint(0, 4, (8, 50, 128), generator=gen)
    tokens = packer.pack(digits)
    assert tokens.shape == (8, 50, 19) and tokens.dtype == torch.int64
    assert int(tokens.max()) < 16384 and int(tokens.min()) >= 0
    assert torch.equal(packer.unpack(tokens), digits)
    extremes = torch.stack([torch.zeros(128), torch.full((128,), 3)]).long()
    assert torch.equal(packer.unpack(packer.pack(extremes)), extremes)


@pytest.mark.parametrize(
    "tokens, message",
    [
        (torch.tensor([[16384] + [0] * 18]), "out of range"),
        (torch.tensor([[-1] + [0] * 18]), "out of range"),
        (torch.tensor([[0] * 18 + [16]]), "token position 18"),
        (torch.zeros(2, 18, dtype=torch.long), "19 entries"),
        (torch.zeros(2, 19), "integer"),
    ],
)
def test_bad_tokens_raise(tokens, message):
    packer = MixedRadixPacker(radices=4, num_digits=128, group_size=7)
    with pytest.raises(ValueError, match=message):
        packer.unpack(tokens)


def test_bad_digits_raise():
    packer = MixedRadixPacker(radices=[2, 3], group_size=2)
    with pytest.raises(ValueError, match="out of range"):
        packer.pack(torch.tensor([1, 3]))
    with pytest.raises(ValueError, match="2 entries"):
        packer.pack(torch.tensor([1, 1, 1]))
    with pytest.raises(ValueError, match="integer"):
        packer.pack(torch.tensor([1.0, 1.0]))


def test_bad_construction():
    with pytest.raises(ValueError, match="num_digits"):
        MixedRadixPacker(radices=4, group_size=7)
    with pytest.raises(ValueError, match="overflows"):
        MixedRadixPacker(radices=1 << 16, num_digits=4, group_size=4)
