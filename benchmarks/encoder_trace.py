"""Does a codec's encoder still hear its input? A collapse check.

Encodes two different utterances and prints, for every encoder block, the
bottleneck and the Conformer, the activations' standard deviation and how
much the two utterances differ relative to it; then how many FSQ digits
change over time and between the utterances, and how much the decoded
outputs differ. A healthy encoder keeps the relative difference of the
order of 0.1 through the stack; a collapsed one lets a component that is
the same for every frame swamp the rest (activations of 1e12 or more, a
relative difference of 1e-7 after the Conformer, the same tokens for both
utterances).

    python benchmarks/encoder_trace.py a.flac b.flac                      # the shipped model
    python benchmarks/encoder_trace.py a.flac b.flac --model results/quickstart/model
    python benchmarks/encoder_trace.py a.flac b.flac --config jepa_mini.yaml \\
        --checkpoint results/train_codec/1986/save                       # a training run's latest codec.ckpt
    python benchmarks/encoder_trace.py a.flac b.flac --config jepa_mini.yaml   # untrained weights
"""

import argparse
from pathlib import Path
from typing import Dict, List, Optional

import torch

from jepa_tokenizer.data.audio import load_audio


def load_codec(args: argparse.Namespace):
    """The codec to trace: an exported folder (safely), or a model file with
    a training checkpoint's weights, or untrained weights."""
    if args.config is None:
        from jepa_tokenizer.pretrained.inference import JEPATokenizer

        return JEPATokenizer.from_folder(args.model).codec
    from jepa_tokenizer.models.config import load_model_config

    torch.manual_seed(args.seed)
    codec = load_model_config(args.config, overrides={"decoder_kind": args.decoder_kind})["codec"]
    if args.checkpoint:
        files = sorted(Path(args.checkpoint).glob("CKPT+*/codec.ckpt"))
        if not files:
            raise SystemExit(f"error: no CKPT+*/codec.ckpt under {args.checkpoint}")
        codec.load_state_dict(torch.load(files[-1], map_location="cpu", weights_only=True))
    return codec


def trace(codec, wavs: List[torch.Tensor]) -> Dict[str, List[torch.Tensor]]:
    """Outputs of every block, the bottleneck and the Conformer for each signal."""
    encoder, seen, hooks = codec.encoder, {}, []
    parts = [(f"block{i}", block) for i, block in enumerate(encoder.blocks)]
    parts += [("bottleneck", encoder.bottleneck), ("conformer", encoder.conformer)]
    for name, module in parts:
        hooks.append(
            module.register_forward_hook(
                lambda m, a, out, key=name: seen.setdefault(key, []).append(out if torch.is_tensor(out) else out[0])
            )
        )
    with torch.no_grad():
        for wav in wavs:
            encoder(wav[None])
    for hook in hooks:
        hook.remove()
    return seen


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("audio", nargs=2, help="two different utterances")
    parser.add_argument("--model", help="exported model folder (default: the shipped model)")
    parser.add_argument("--config", help="model file (e.g. jepa_mini.yaml) instead of --model")
    parser.add_argument("--checkpoint", help="with --config: a training save folder (its latest codec.ckpt)")
    parser.add_argument("--decoder-kind", default="istft", help="with --config: hifigan | istft")
    parser.add_argument("--seconds", type=float, default=2.0, help="length compared (both cut to it)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    codec = load_codec(args).eval()
    length = int(args.seconds * codec.sample_rate)
    wavs = [load_audio(path, codec.sample_rate).wav[:length] for path in args.audio]
    if min(len(w) for w in wavs) < length:
        raise SystemExit(f"error: both files must last at least {args.seconds} s")
    print(f"{'part':<11} {'std':>10} {'utterances differ / std':>24}")
    for name, (a, b) in trace(codec, wavs).items():
        print(f"{name:<11} {float(a.std()):>10.3g} {float((a - b).std() / a.std()):>24.3g}")
    with torch.no_grad():
        digits = [codec.quantize(codec.encoder(w[None]).latents).digits for w in wavs]
        out = [codec.decode(codec.encode(w[None])) for w in wavs]
    changing = float((digits[0][:, 1:] != digits[0][:, :-1]).float().mean())
    differing = float((digits[0] != digits[1]).float().mean())
    print(f"FSQ digits changing from frame to frame {changing:.3f}, differing between the utterances {differing:.3f}")
    print(
        f"decoded std {float(out[0].std()):.4f} (input {float(wavs[0].std()):.4f}); "
        f"the two decoded outputs differ by {float((out[0] - out[1]).std()):.4f}"
    )


if __name__ == "__main__":
    main()
