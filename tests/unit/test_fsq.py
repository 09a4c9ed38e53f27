"""FSQ: the reference grid, digit round trips, straight-through gradients."""

import pytest
import torch

from jepa_tokenizer import FSQ


def test_reference_symmetric_grid():
    fsq = FSQ(levels=4, dim=1)
    z = torch.linspace(-6, 6, 1001).unsqueeze(-1)
    values = sorted(set(fsq(z).codes.detach().flatten().tolist()))
    assert values == [-0.75, -0.25, 0.25, 0.75]


def test_standard_grid_values():
    fsq = FSQ(levels=5, dim=1, grid="standard")
    z = torch.linspace(-8, 8, 1001).unsqueeze(-1)
    values = sorted(set(fsq(z).codes.detach().flatten().tolist()))
    assert values == [-1.0, -0.5, 0.0, 0.5, 1.0]


@pytest.mark.parametrize("grid", ["symmetric", "standard"])
def test_digit_code_round_trip(grid):
    levels = [3, 4, 5, 8]
    fsq = FSQ(levels=levels, grid=grid)
    grids = torch.meshgrid(*[torch.arange(n) for n in levels], indexing="ij")
    digits = torch.stack([g.flatten() for g in grids], dim=-1)
    codes = fsq.digits_to_codes(digits)
    assert torch.equal(fsq.codes_to_digits(codes), digits)
    # quantizing the codes' pre-images gives the same digits back
    z = torch.randn(500, 4) * 3
    out = fsq(z)
    assert torch.equal(fsq.codes_to_digits(out.codes), out.digits)
    assert torch.allclose(fsq.digits_to_codes(out.digits), out.codes.detach())
    assert (out.digits >= 0).all() and (out.digits < torch.tensor(levels)).all()


def test_straight_through_gradient():
    fsq = FSQ(levels=4, dim=8)
    z = torch.randn(3, 8, requires_grad=True)
    weights = torch.randn(3, 8)
    (fsq(z).codes * weights).sum().backward()
    expected = weights * (1 - torch.tanh(z.detach()) ** 2)
    assert torch.allclose(z.grad, expected, atol=1e-6)
    assert (z.grad != 0).all()


def test_float32_island_for_half_precision_input():
    """Quantization runs in float32: half inputs give the float32 digits of
    their (rounded) values, which a computation in half precision would not."""
    torch.manual_seed(0)
    fsq = FSQ(levels=8, dim=1)
    # values near the cell boundaries atanh(2 i / 8 - 1), where rounding matters
    edges = torch.atanh(torch.tensor([-0.75, -0.5, -0.25, 0.25, 0.5, 0.75]))
    z = (edges.repeat(2000) + 0.01 * torch.randn(12000)).half().unsqueeze(-1)
    out = fsq(z)
    assert out.codes.dtype == torch.float16 and out.digits.dtype == torch.int64
    assert torch.equal(out.digits, fsq(z.float()).digits)
    in_half = torch.floor((torch.tanh(z) + 1) / 2 * 8).long().clamp(0, 7)
    assert not torch.equal(in_half, out.digits)  # the check above can fail
    with torch.autocast("cpu", dtype=torch.bfloat16):
        assert torch.equal(fsq(z.float()).digits, out.digits)


def test_standard_grid_two_levels_and_gradient_scale():
    fsq = FSQ(levels=[2, 5], grid="standard")
    z = torch.linspace(-4, 4, 101).unsqueeze(-1).repeat(1, 2).requires_grad_()
    out = fsq(z)
    assert torch.isfinite(out.codes).all()
    assert set(out.digits[:, 0].tolist()) == {0, 1}
    assert set(out.digits[:, 1].tolist()) == {0, 1, 2, 3, 4}
    out.codes[:, 1].sum().backward()
    # codes are normalised by L // 2 = 2, and so is their gradient
    half = 4 * (1 + fsq.eps) / 2
    expected = (1 - torch.tanh(z.detach()[:, 1]) ** 2) * half / 2
    assert torch.allclose(z.grad[:, 1], expected, atol=1e-5)


def test_errors():
    with pytest.raises(ValueError, match="at least 2 levels"):
        FSQ(levels=[4, 1])
    with pytest.raises(ValueError, match="grid"):
        FSQ(levels=4, dim=2, grid="odd")
    fsq = FSQ(levels=4, dim=2)
    with pytest.raises(ValueError, match="2 dimensions"):
        fsq(torch.randn(3, 5))
    with pytest.raises(ValueError, match="out of range"):
        fsq.digits_to_codes(torch.tensor([[0, 4]]))
