"""End-to-end demo: build a codec from YAML, tokenize a spoken sentence, decode it.

The weights are random (a trained codec comes from the recipes, or a model
folder with ``jepa-tokenizer encode/decode``), so the reconstruction is not
speech: the demo shows the shapes, the token rate, exact length bookkeeping
and the speed of the architecture.

Usage (from the repository root)::

    python -m jepa_tokenizer.apps.demo                       # reference 24 kHz model
    python -m jepa_tokenizer.apps.demo --config jepa_tiny.yaml --wav my.flac

Authors
 * jepa-tokenizer team 2026
"""

import argparse
import tempfile
import time
from pathlib import Path
from typing import Dict, List, Optional

import torch

from jepa_tokenizer.apps.summary import count_parameters
from jepa_tokenizer.data.audio import load_audio, save_audio, speak
from jepa_tokenizer.models.config import load_model_config

__all__ = ["run_demo"]

DEFAULT_TEXT = "The birch canoe slid on the smooth planks. Glue the sheet to the dark blue background."


def run_demo(
    config: str,
    output: str,
    wav_path: Optional[str] = None,
    text: str = DEFAULT_TEXT,
    engine: str = "espeak-ng",
    device: str = "cpu",
    seed: int = 0,
) -> Dict[str, object]:
    """Runs the demo and returns what it measured.

    Arguments
    ---------
    config : str
        YAML file defining ``codec``.
    output : str
        Folder for the wavs and the token file.
    wav_path : str, optional
        Audio to tokenize; by default ``text`` is spoken with ``engine``.
    text : str
        Sentence to speak when no ``wav_path`` is given.
    engine : str
        ``espeak-ng`` or ``flite``.
    device : str
        Torch device, e.g. ``cpu`` or ``cuda:0``.
    seed : int
        Seed of the random initialisation.
    """
    torch.manual_seed(seed)
    out_dir = Path(output)
    out_dir.mkdir(parents=True, exist_ok=True)
    hparams = load_model_config(config)
    codec = hparams["codec"].to(device).eval()
    print(
        f"[1/4] codec from {config}: encoder {count_parameters(codec.encoder) / 1e6:.1f}M, "
        f"decoder {count_parameters(codec.decoder) / 1e6:.1f}M parameters (random weights)"
    )

    if wav_path is None:
        wav_path = speak(text, Path(tempfile.mkdtemp()) / "speech.wav", engine=engine)
        print(f'[2/4] spoke with {engine}: "{text}"')
    audio = load_audio(wav_path, codec.sample_rate)
    wav = audio.wav.unsqueeze(0).to(device)
    seconds = wav.shape[-1] / codec.sample_rate
    print(f"      audio: {seconds:.2f} s at {codec.sample_rate} Hz ({audio.describe()})")
    save_audio(out_dir / "original.wav", audio.wav, codec.sample_rate)

    with torch.inference_mode():
        start = time.perf_counter()
        tokens = codec.encode(wav)
        encode_s = time.perf_counter() - start
        start = time.perf_counter()
        recon = codec.decode(tokens, num_samples=wav.shape[-1])
        decode_s = time.perf_counter() - start
    print(
        f"[3/4] encode: wav {tuple(wav.shape)} -> tokens {tuple(tokens.shape)} {tokens.dtype}, "
        f"{encode_s:.2f} s ({seconds / encode_s:.1f}x real time)"
    )
    print(
        f"      {codec.frame_rate:g} frames/s x {codec.tokens_per_frame} tokens = "
        f"{codec.tokens_per_second:g} tokens/s, vocabulary {codec.vocab_size}, "
        f"{codec.bitrate:g} bit/s"
    )
    print(f"      first frame: {tokens[0, 0].tolist()}")
    print(
        f"[4/4] decode: tokens -> wav {tuple(recon.shape)}, {decode_s:.2f} s "
        f"({seconds / decode_s:.1f}x real time); length matches input: "
        f"{recon.shape[-1] == wav.shape[-1]}"
    )
    save_audio(out_dir / "reconstruction.wav", recon[0], codec.sample_rate)
    (out_dir / "tokens.txt").write_text(
        "\n".join(" ".join(str(t) for t in frame) for frame in tokens[0].tolist()) + "\n"
    )
    print(
        f"      wrote {out_dir}/original.wav, reconstruction.wav, tokens.txt "
        "(untrained weights: the reconstruction is not speech yet)"
    )
    return {
        "tokens_shape": tuple(tokens.shape),
        "num_samples": wav.shape[-1],
        "reconstruction_samples": recon.shape[-1],
        "tokens_per_second": codec.tokens_per_second,
        "encode_rtf": seconds / encode_s,
        "decode_rtf": seconds / decode_s,
    }


def main(argv: Optional[List[str]] = None) -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--config", default="jepa_24k.yaml")
    parser.add_argument("--output", default="results/demo")
    parser.add_argument("--wav", default=None, help="audio file to tokenize")
    parser.add_argument("--text", default=DEFAULT_TEXT)
    parser.add_argument("--engine", default="espeak-ng", choices=["espeak-ng", "flite"])
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    if not Path(args.config).is_file():
        parser.error(f"config not found: {args.config} (run from the repository root)")
    run_demo(args.config, args.output, args.wav, args.text, args.engine, args.device, args.seed)


if __name__ == "__main__":
    main()
