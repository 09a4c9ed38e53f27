"""DAAMGate: the formula of the notes, padding, heads, float32 under autocast."""

import math

import pytest
import torch

from jepa_tokenizer import DAAMGate


def direct_gate(gate: DAAMGate, x: torch.Tensor) -> torch.Tensor:
    """The notes' formula written out per head and Gaussian, in float64."""
    x = x.double()
    heads, group = gate.num_heads, gate.channels // gate.num_heads
    weight = gate.proj.weight.detach().double()  # [H, group, 1]
    bias = gate.proj.bias.detach().double()
    out = []
    for h in range(heads):
        chunk = x[:, h * group : (h + 1) * group]  # [B, group, T]
        a = torch.einsum("bct,c->bt", chunk, weight[h, :, 0]) + bias[h]
        mu = a.mean(dim=-1, keepdim=True)
        var = a.var(dim=-1, unbiased=False, keepdim=True).clamp(min=gate.var_floor)
        mixture = torch.zeros_like(a)
        for k in range(gate.num_gaussians):
            delta = gate.mean_offset[h, k].detach().double()
            s = torch.nn.functional.softplus(gate.log_scale[h, k].detach().double()) + gate.scale_floor
            z = (a - (mu + delta)) / (var.sqrt() * s + gate.eps)
            mixture = mixture + torch.exp(-(z**2) / 2 - torch.log(s) - math.log(2 * math.pi) / 2)
        out.append(mixture / gate.num_gaussians)
    return torch.stack(out, dim=1)  # [B, H, T]


@pytest.mark.parametrize("heads", [1, 2])
def test_gate_matches_formula(heads):
    torch.manual_seed(0)
    gate = DAAMGate(channels=6, num_gaussians=3, num_heads=heads, alpha_init=0.3)
    with torch.no_grad():
        gate.mean_offset.normal_(0, 0.5)
        gate.log_scale.uniform_(-1, 1)
    x = torch.randn(2, 6, 40)
    y, g = gate(x, return_gate=True)
    expected = direct_gate(gate, x)
    assert torch.allclose(g.double(), expected, atol=1e-5)
    factor = 1 + gate.alpha.detach().double().view(1, -1, 1) * expected
    factor = factor.repeat_interleave(6 // heads, dim=1)
    assert torch.allclose(y.double(), x.double() * factor, atol=1e-5)


def test_reference_initialisation():
    gate = DAAMGate(channels=4)
    assert torch.equal(gate.mean_offset, torch.zeros(1, 4))
    assert torch.allclose(gate.log_scale, torch.full((1, 4), math.log(0.5)))
    assert torch.allclose(gate.alpha, torch.tensor([0.05]))


def test_padding_does_not_change_real_frames():
    torch.manual_seed(0)
    gate = DAAMGate(channels=8, num_heads=2)
    x = torch.randn(1, 8, 30)
    y, g = gate(x, return_gate=True)
    padded = torch.cat([x, 100 * torch.randn(1, 8, 17)], dim=-1)
    for lengths in (torch.tensor([30]), torch.tensor([30 / 47])):
        y_pad, g_pad = gate(padded, lengths, return_gate=True)
        assert torch.allclose(g_pad[..., :30], g, atol=1e-6)
        assert torch.allclose(y_pad[..., :30], y, atol=1e-5)
    # without lengths the padding would change the statistics
    _, g_unmasked = gate(padded, return_gate=True)
    assert not torch.allclose(g_unmasked[..., :30], g, atol=1e-3)


def test_float32_under_autocast():
    gate = DAAMGate(channels=4)
    x = torch.randn(2, 4, 25)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        y, g = gate(x.bfloat16(), return_gate=True)
    assert g.dtype == torch.float32
    assert y.dtype == torch.bfloat16
    assert torch.allclose(g, gate(x.bfloat16().float(), return_gate=True)[1], atol=1e-6)


def test_gradients_reach_all_parameters():
    gate = DAAMGate(channels=4, num_heads=2)
    gate(torch.randn(2, 4, 20)).pow(2).sum().backward()
    for name, param in gate.named_parameters():
        assert param.grad is not None and param.grad.abs().sum() > 0, name


def test_bad_heads():
    with pytest.raises(ValueError, match="divisible"):
        DAAMGate(channels=6, num_heads=4)
