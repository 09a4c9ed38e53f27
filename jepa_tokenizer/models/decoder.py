"""HiFi-GAN style decoder from latent frames to waveform, with SnakeBeta.

SpeechBrain's ``HifiganGenerator`` uses LeakyReLU and a fixed first kernel;
ours follows the notes (SnakeBeta, 1x1 input conv, kernel ``2 * stride``
transposed convs) so the hop matches the encoder exactly.

Authors
 * jepa-tokenizer team 2026
"""

import math
import re
from typing import Optional, Sequence

import torch
from torch import nn

from jepa_tokenizer.nn.activations import SnakeBeta
from jepa_tokenizer.nn.arguments import RecordsArguments
from jepa_tokenizer.nn.lengths import any_padded, steps_mask
from jepa_tokenizer.nn.residual import ResidualUnit, fold_weight_norm, maybe_weight_norm, same_padding

__all__ = ["MRFBlock", "HiFiGANDecoder"]


class MRFBlock(nn.Module):
    """Multi-receptive-field block: the mean of one residual stack per kernel.

    Arguments
    ---------
    channels : int
        Channels in and out.
    kernel_sizes : sequence of int
        One residual stack per kernel size (odd).
    dilations : sequence of int
        Dilations used in every stack.
    weight_norm : bool
        Weight-normalise the convolutions.

    Example
    -------
    >>> block = MRFBlock(channels=4, kernel_sizes=[3, 7], dilations=[1, 3])
    >>> block(torch.randn(2, 4, 30)).shape
    torch.Size([2, 4, 30])
    """

    def __init__(
        self,
        channels: int,
        kernel_sizes: Sequence[int] = (3, 7, 11),
        dilations: Sequence[int] = (1, 3, 5),
        weight_norm: bool = True,
    ):
        super().__init__()
        # one stack of residual units (one per dilation) per kernel size
        self.stacks = nn.ModuleList(
            nn.ModuleList(ResidualUnit(channels, k, d, weight_norm) for d in dilations) for k in kernel_sizes
        )
        self.register_load_state_dict_pre_hook(_rename_stack_keys)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """``[B, C, T]`` -> ``[B, C, T]``; ``mask`` (``[B, 1, T]``) zeroes padding."""
        total = 0
        for stack in self.stacks:
            h = x
            for unit in stack:
                h = unit(h, mask)
            total = total + h
        return total / len(self.stacks)


# weights saved before the decoder used the shared ResidualUnit (up to commit
# 81ccb9d): stacks.K.convs1.D.* -> stacks.K.D.conv1.* (acts likewise)
_OLD_STACK_KEY = re.compile(r"stacks\.(\d+)\.(conv|act)s([12])\.(\d+)\.(.+)")


def _rename_stack_keys(module, state_dict, prefix, *args) -> None:
    for key in [k for k in state_dict if k.startswith(prefix)]:
        match = _OLD_STACK_KEY.fullmatch(key[len(prefix) :])
        if match:
            stack, kind, which, unit, rest = match.groups()
            state_dict[f"{prefix}stacks.{stack}.{unit}.{kind}{which}.{rest}"] = state_dict.pop(key)


class HiFiGANDecoder(RecordsArguments, nn.Module):
    """Latent frames ``[B, N, D]`` -> waveform ``[B, N * hop]`` in ``(-1, 1)``.

    1x1 conv ``D -> channels[0]``, then per upsampling rate ``s``: SnakeBeta,
    ``ConvTranspose1d`` (kernel ``2 s``, stride ``s``, exact ``x s``
    length), MRF block; then SnakeBeta, Conv1d to one channel, tanh.

    Arguments
    ---------
    code_dim : int
        Width of the input latents.
    channels : sequence of int
        Width after the input conv, then after each upsampling
        (``len(upsample_rates) + 1`` entries).
    upsample_rates : sequence of int
        Upsampling factors; their product is the hop.
    input_kernel_size : int
        Kernel of the input conv (1 in the reference).
    output_kernel_size : int
        Kernel of the output conv.
    resblock_kernel_sizes : sequence of int
        Kernels of the MRF blocks.
    resblock_dilations : sequence of int
        Dilations of the MRF blocks.
    weight_norm : bool
        Weight-normalise the convolutions.

    Example
    -------
    >>> dec = HiFiGANDecoder(code_dim=8, channels=[16, 8, 4], upsample_rates=[5, 4],
    ...                      resblock_kernel_sizes=[3], resblock_dilations=[1])
    >>> dec.hop_length
    20
    >>> dec(torch.randn(2, 3, 8)).shape
    torch.Size([2, 60])
    """

    def __init__(
        self,
        code_dim: int,
        channels: Sequence[int],
        upsample_rates: Sequence[int],
        input_kernel_size: int = 1,
        output_kernel_size: int = 7,
        resblock_kernel_sizes: Sequence[int] = (3, 7, 11),
        resblock_dilations: Sequence[int] = (1, 3, 5),
        weight_norm: bool = True,
    ):
        super().__init__()
        if len(channels) != len(upsample_rates) + 1:
            raise ValueError(
                f"HiFiGANDecoder: channels needs len(upsample_rates) + 1 = "
                f"{len(upsample_rates) + 1} entries; got {len(channels)}"
            )
        if min(upsample_rates) < 2:
            raise ValueError(f"HiFiGANDecoder: upsample rates must be >= 2; got {list(upsample_rates)}")
        self.upsample_rates = list(upsample_rates)
        self.hop_length = math.prod(upsample_rates)
        self.conv_in = maybe_weight_norm(
            nn.Conv1d(code_dim, channels[0], input_kernel_size, padding=same_padding(input_kernel_size)),
            weight_norm,
        )
        self.acts = nn.ModuleList()
        self.ups = nn.ModuleList()
        self.mrfs = nn.ModuleList()
        for i, rate in enumerate(upsample_rates):
            self.acts.append(SnakeBeta(channels[i]))
            # kernel 2s, padding ceil(s/2), output_padding s % 2: length x s exactly
            self.ups.append(
                maybe_weight_norm(
                    nn.ConvTranspose1d(
                        channels[i],
                        channels[i + 1],
                        2 * rate,
                        stride=rate,
                        padding=(rate + 1) // 2,
                        output_padding=rate % 2,
                    ),
                    weight_norm,
                )
            )
            self.mrfs.append(MRFBlock(channels[i + 1], resblock_kernel_sizes, resblock_dilations, weight_norm))
        self.act_out = SnakeBeta(channels[-1])
        self.conv_out = maybe_weight_norm(
            nn.Conv1d(channels[-1], 1, output_kernel_size, padding=same_padding(output_kernel_size)),
            weight_norm,
        )

    def remove_weight_norm(self) -> None:
        """Folds the weight normalisation into plain weights (for inference:
        the same outputs, no re-normalisation on every call); the state dict
        then has plain ``weight`` keys."""
        fold_weight_norm(self)

    def context_frames(self) -> int:
        """Frames on each side that decoding one frame depends on (the
        receptive field, rounded up, plus one): chunked decoding with this much
        context reproduces decoding the whole sequence."""
        field, jump = (self.conv_in.kernel_size[0] - 1) / 2, 1.0  # in frames, one side
        for up, mrf in zip(self.ups, self.mrfs):
            jump /= up.stride[0]
            field += (up.kernel_size[0] - 1) * jump
            # the stacks of an MRF block run side by side: the widest counts
            field += max(sum(unit.reach() for unit in stack) for stack in mrf.stacks) * jump
        field += (self.conv_out.kernel_size[0] - 1) / 2 * jump
        return math.ceil(field) + 1

    def forward(self, latents: torch.Tensor, counts: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Decodes ``[B, N, D]`` latents.

        With ``counts`` (real frames per item), frames past them are zeroed
        before every convolution and give silence, so an item decodes the
        same alone or inside a padded batch.
        """
        if latents.dim() != 3:
            raise ValueError(f"latents must have shape [batch, frames, dim]; got {tuple(latents.shape)}")
        if counts is not None and not any_padded(counts, latents.shape[1]):
            counts = None  # no padding: no masks
        x = latents.transpose(1, 2)
        x = self.conv_in(x)
        steps = None
        if counts is not None:
            steps = counts.to(x.device)
            x = x * steps_mask(steps, x.shape[-1]).to(x.dtype)
        for act, up, mrf, rate in zip(self.acts, self.ups, self.mrfs, self.upsample_rates):
            x = up(act(x))
            mask = None
            if steps is not None:
                steps = steps * rate
                mask = steps_mask(steps, x.shape[-1]).to(x.dtype)
                x = x * mask
            x = mrf(x, mask)
        wav = torch.tanh(self.conv_out(self.act_out(x))).squeeze(1)
        if steps is not None:
            wav = wav * steps_mask(steps, wav.shape[-1]).squeeze(1).to(wav.dtype)
        return wav
