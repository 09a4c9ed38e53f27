"""Which half of a codec fails to learn? The decoder alone on informative
input, on no input, and the encoder + decoder together, on a fixed batch.

Trains, from the same seed, on the same batch of real utterances (the first
``--batch`` LibriSpeech rows of ``--manifest`` at least ``--seconds`` long),
with the codec recipe's main-job losses (waveform L1 + 2 x multi-resolution
STFT + 15 x mel L1):

- ``mel``: the decoder alone, fed the utterances' own log-mel frames at the
  model's frame rate (bounded by tanh like FSQ codes): what it learns when
  its input carries the content;
- ``zeros``: the decoder alone on a constant input: the average sound, the
  floor of a decoder that gets no information;
- ``continuous`` / ``fsq``: the encoder and decoder together, decoding the
  unrounded bounded latents or the FSQ codes.

Prints the mel term every ``--every`` steps and, for the joint runs, how much
two utterances' codes and Conformer inputs differ (``|x0 - x1| / |x|`` over
the frames: near 0 means the encoder has stopped looking at the audio).
``--config`` must have as many mel bins as code dimensions (128 for the
jepa_mini family). ``--encoder-lr`` and ``--input-gain`` probe the encoder's
optimisation:

    python benchmarks/decoder_conditioning.py --manifest ../shared/realspeech/manifest.csv \\
        --config jepa_mini_25hz.yaml --runs mel zeros continuous fsq
    python benchmarks/decoder_conditioning.py --manifest ../shared/realspeech/manifest.csv \\
        --config jepa_mini.yaml --runs fsq --steps 100 --encoder-lr 1e-3 --input-gain 1
"""

import argparse
import csv
from pathlib import Path
from typing import List, Optional

import torch
import torchaudio
from speechbrain.lobes.models.HifiGAN import L1SpecLoss

from jepa_tokenizer.data.audio import load_audio
from jepa_tokenizer.models.config import load_model_config
from jepa_tokenizer.training.losses import CodecGeneratorLoss, MultiResolutionSTFTLoss

RUNS = ("mel", "zeros", "continuous", "fsq")


def batch_of(manifest: Path, count: int, seconds: float, rate: int) -> torch.Tensor:
    with open(manifest, newline="", encoding="utf-8") as stream:
        rows = [r for r in csv.DictReader(stream) if r.get("corpus", "LibriSpeech") == "LibriSpeech"]
    wavs = []
    for row in rows:
        wav = load_audio(manifest.parent / row["wav"], rate).wav
        if len(wav) >= seconds * rate:
            wavs.append(wav[: int(seconds * rate)])
        if len(wavs) == count:
            return torch.stack(wavs)
    raise SystemExit(f"error: {manifest} has fewer than {count} LibriSpeech rows of {seconds} s")


def generator_loss(rate: int) -> CodecGeneratorLoss:
    """The main job's codec losses (quickstart_mini_librispeech.yaml)."""
    mel = L1SpecLoss(
        sample_rate=rate,
        hop_length=256,
        win_length=1024,
        n_mel_channels=80,
        n_fft=1024,
        mel_fmin=0.0,
        mel_fmax=None,
        power=1,
        norm="slaney",
        mel_scale="slaney",
        dynamic_range_compression=True,
    )
    return CodecGeneratorLoss(MultiResolutionSTFTLoss(), mel_loss=mel, mel_weight=15.0)


def log_mel_frames(wav: torch.Tensor, codec) -> torch.Tensor:
    """``[B, N, D]`` tanh-bounded, standardised log-mel frames at the codec's frame rate."""
    hop, dim = codec.hop_length, codec.encoder.code_dim
    spec = torchaudio.transforms.MelSpectrogram(
        codec.sample_rate, n_fft=2 * hop, hop_length=hop, n_mels=dim, center=False
    )
    feats = torch.log(spec(torch.nn.functional.pad(wav, (hop // 2, hop // 2))) + 1e-5)
    frames = codec.encoder.num_frames(wav.shape[-1])
    return torch.tanh((feats - feats.mean()) / feats.std()).transpose(1, 2)[:, :frames]


def difference(x: torch.Tensor) -> float:
    """How much the first two items of ``[B, N, D]`` differ, relative to the batch's spread."""
    return float((x[0] - x[1]).std() / x.std().clamp_min(1e-12))


def train(run: str, args: argparse.Namespace, wav: torch.Tensor) -> None:
    torch.manual_seed(args.seed)
    codec = load_model_config(args.config, overrides={"decoder_kind": args.decoder_kind})["codec"].train()
    if args.input_gain is not None:
        codec.encoder.input_gain = args.input_gain
    loss_fn = generator_loss(codec.sample_rate)
    joint = run in ("continuous", "fsq")
    groups = [{"params": list(codec.decoder.parameters()), "lr": args.lr}]
    if joint:
        encoder_lr = args.lr if args.encoder_lr is None else args.encoder_lr
        groups.append({"params": list(codec.encoder.parameters()), "lr": encoder_lr})
    optimizer = torch.optim.AdamW(groups, betas=(0.8, 0.99))
    seen = {}
    codec.encoder.conformer.register_forward_pre_hook(lambda module, inputs: seen.update(x=inputs[0].detach()))
    fixed = log_mel_frames(wav, codec) if run == "mel" else None
    for step in range(1, args.steps + 1):
        if joint:
            latents = codec.encoder(wav).latents
            x = codec.quantizer.continuous(latents) if run == "continuous" else codec.quantize(latents).codes
        else:
            x = fixed if run == "mel" else torch.zeros_like(log_mel_frames(wav, codec))
        terms = loss_fn(codec.decoder(x, None)[:, : wav.shape[-1]], wav)
        optimizer.zero_grad()
        terms["G_loss"].backward()
        optimizer.step()
        if step % args.every == 0:
            line = f"{run:<11} step {step:>4}  mel {float(terms['G_mel']):.3f}  stft {float(terms['G_stft']):.3f}"
            if joint:
                line += (
                    f"  codes differ {difference(x.detach()):.3f}  Conformer inputs differ {difference(seen['x']):.3f}"
                )
            print(line, flush=True)


def main(argv: Optional[List[str]] = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--manifest", required=True, type=Path, help="CSV with ID, wav, wrd (and corpus)")
    parser.add_argument("--config", default="jepa_mini_25hz.yaml")
    parser.add_argument("--decoder-kind", default="istft")
    parser.add_argument("--runs", nargs="+", default=list(RUNS), choices=RUNS)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=3.0)
    parser.add_argument("--steps", type=int, default=150)
    parser.add_argument("--every", type=int, default=50)
    parser.add_argument("--lr", type=float, default=1e-3, help="learning rate (the decoder's)")
    parser.add_argument("--encoder-lr", type=float, help="the encoder's (default: --lr)")
    parser.add_argument("--input-gain", type=float, help="the encoder's input_gain (default: the config's)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    rate = load_model_config(args.config)["codec"].sample_rate
    wav = batch_of(args.manifest, args.batch, args.seconds, rate)
    for run in args.runs:
        train(run, args, wav)


if __name__ == "__main__":
    main()
