"""CPU encode/decode speed of the JEPA codec configurations and of peer codecs.

Speed is reported as "x real time" (x RT): seconds of audio processed per
second of wall time, for one mono clip of ``--seconds`` of random noise at
each model's own sample rate (speed does not depend on content). Each model
runs under ``torch.inference_mode()`` in eval mode with ``--threads`` torch
threads: one warm-up run, then the median of ``--repeats`` timed runs.
Encode is waveform -> discrete codes, decode is codes -> waveform.

Models: our ``jepa_24k.yaml``, ``jepa_16k.yaml`` and ``jepa_tiny.yaml``,
each with the paper's HiFi-GAN decoder and with the inverse-STFT decoder
(``_istft``), and the 9.5M-parameter "paper shape" codec of
``train_speed.py`` (untrained, weights do not change speed; decoders as a
loaded model folder runs them: weight norm folded), and, with random weights
and nothing downloaded, EnCodec 24 kHz and Mimi (``transformers``) and DAC
24 kHz (SpeechBrain). Ratio columns divide each row's x RT by the peer's x RT
from the same run (> 1: faster than that peer).

``--old-tree`` (a checkout of an old commit, e.g. 25d9101) also times that
tree's ``jepa_24k`` with its own ``benchmarks/speed.py`` in the same run.
``--memory-hours H`` decodes a token file of H hours (the tiny codec) with the
command line's default (chunked) path in a fresh process and reports its peak
memory.

    python benchmarks/speed.py --threads 2
    python benchmarks/speed.py --threads 2 --only jepa_24k jepa_24k_istft mimi --old-tree ~/old25 --memory-hours 1
"""

import argparse
import datetime
import os
import re
import shlex
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Callable, Dict, List, Optional, Tuple

import torch

REPO_ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO_ROOT / "benchmarks"))
from train_speed import PAPER_SHAPE, PAPER_SHAPE_ISTFT  # noqa: E402 (the benchmarks share these codecs)

#: our rows: (packaged model configuration, overrides)
OUR_MODELS = {
    "jepa_24k": ("jepa_24k.yaml", {}),
    "jepa_24k_istft": ("jepa_24k.yaml", {"decoder_kind": "istft"}),
    "jepa_16k": ("jepa_16k.yaml", {}),
    "jepa_16k_istft": ("jepa_16k.yaml", {"decoder_kind": "istft"}),
    "paper_shape": ("jepa_16k.yaml", PAPER_SHAPE),
    "paper_shape_istft": ("jepa_16k.yaml", PAPER_SHAPE_ISTFT),
    "jepa_tiny": ("jepa_tiny.yaml", {}),
    "jepa_tiny_istft": ("jepa_tiny.yaml", {"decoder_kind": "istft"}),
}
OURS = list(OUR_MODELS)
PEERS = ["encodec", "mimi", "dac"]
# Architecture of the published DAC 24 kHz model (descript-audio-codec,
# conf/final/24khz.yml); SpeechBrain only reads it from the checkpoint metadata.
DAC_24KHZ = dict(
    encoder_dim=64,
    encoder_rates=[2, 4, 5, 8],
    decoder_dim=1536,
    decoder_rates=[8, 5, 4, 2],
    n_codebooks=32,
    codebook_size=1024,
    codebook_dim=8,
    sample_rate=24000,
)

# A model under test: (sample rate, tokens/s, encode fn wav[1, T] -> codes, decode fn codes -> wav)
Entry = Tuple[int, float, Callable, Callable]


def build_ours(name: str) -> Entry:
    """Build one of ``OUR_MODELS`` as a loaded model folder runs it."""
    from jepa_tokenizer.models.config import load_model_config

    config, overrides = OUR_MODELS[name]
    codec = load_model_config(config, overrides)["codec"].eval().fold_for_inference()
    return codec.sample_rate, codec.tokens_per_second, codec.encode, codec.decode


def old_tree_speed(tree: Path, args: argparse.Namespace) -> Optional[Tuple[float, float]]:
    """(encode, decode) x RT of ``jepa_24k`` measured by the old tree's own benchmark."""
    cmd = [sys.executable, "benchmarks/speed.py", "--only", "jepa_24k", "--skip-peers"]
    cmd += ["--threads", str(args.threads), "--seconds", str(args.seconds), "--repeats", str(args.repeats)]
    env = {**os.environ, "PYTHONPATH": str(tree), "OMP_NUM_THREADS": str(args.threads)}
    result = subprocess.run(cmd, cwd=tree, env=env, capture_output=True, text=True)
    match = re.search(r"jepa_24k: encode ([0-9.]+) x RT, decode ([0-9.]+) x RT", result.stderr)
    if result.returncode or not match:
        print(f"old tree {tree}: failed\n{result.stderr[-2000:]}", file=sys.stderr)
        return None
    return float(match.group(1)), float(match.group(2))


MEMORY_WORKER = """
import resource, sys, tempfile, time, torch
from pathlib import Path
from jepa_tokenizer.apps import cli
from jepa_tokenizer.data.token_file import codec_header, save_tokens
from jepa_tokenizer.models.config import load_model_config
from jepa_tokenizer.pretrained.export import export_codec
from jepa_tokenizer.pretrained.inference import JEPATokenizer
hours, folder = float(sys.argv[1]), Path(tempfile.mkdtemp())
torch.manual_seed(0)
model = export_codec(load_model_config("jepa_tiny.yaml")["codec"].eval(), folder / "model")
tok = JEPATokenizer.from_hparams(source=str(model), savedir=str(model))
frames = int(hours * 3600 * tok.codec.frame_rate)
tokens = torch.stack([torch.randint(0, int(g), (frames,)) for g in tok.codec.packer.group_sizes], dim=1)
header = codec_header(tok.codec, frames * tok.codec.hop_length, str(model))
header["fingerprint"] = tok.fingerprint
save_tokens(folder / "long.jtok", tokens, header)
def peak_gib():
    # VmHWM: this process's peak resident memory (ru_maxrss would start from the parent's, kept over exec)
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
before = peak_gib()
started = time.perf_counter()
cli.main(["decode", str(folder / "long.jtok"), str(folder / "long.wav")])
seconds = time.perf_counter() - started
print("PEAK", peak_gib(), before, seconds)
"""


def decode_memory(hours: float, threads: int) -> Tuple[float, float, float]:
    """(peak GiB, GiB before decoding, seconds) of the CLI's default decode of
    ``hours`` of tiny-codec tokens, in a fresh process."""
    env = {**os.environ, "OMP_NUM_THREADS": str(threads)}
    result = subprocess.run(
        [sys.executable, "-c", MEMORY_WORKER, str(hours)], capture_output=True, text=True, env=env, cwd=REPO_ROOT
    )
    match = re.search(r"PEAK ([0-9.]+) ([0-9.]+) ([0-9.]+)", result.stdout)
    if result.returncode or not match:
        raise RuntimeError(f"memory run failed:\n{result.stderr[-2000:]}")
    return float(match.group(1)), float(match.group(2)), float(match.group(3))


def build_peer(name: str, args: argparse.Namespace) -> Entry:
    """Build a peer codec with random weights (nothing is downloaded)."""
    if name == "encodec":
        from transformers import EncodecConfig, EncodecModel

        cfg = EncodecConfig()
        model = EncodecModel(cfg).eval()
        n_q = model.quantizer.get_num_quantizers_for_bandwidth(args.encodec_bandwidth)

        def enc(w):
            return model.encode(w[:, None], bandwidth=args.encodec_bandwidth)

        def dec(out):
            return model.decode(out.audio_codes, out.audio_scales).audio_values

        return cfg.sampling_rate, cfg.frame_rate * n_q, enc, dec
    if name == "mimi":
        from transformers import MimiConfig, MimiModel

        cfg = MimiConfig()
        model = MimiModel(cfg).eval()

        def enc(w):
            return model.encode(w[:, None], num_quantizers=args.mimi_quantizers).audio_codes

        def dec(codes):
            return model.decode(codes).audio_values

        return cfg.sampling_rate, cfg.frame_rate * args.mimi_quantizers, enc, dec
    if name == "dac":
        from speechbrain.lobes.models.discrete.dac import DAC

        model = DAC(**DAC_24KHZ, model_type="24khz", model_bitrate="8kbps", load_pretrained=False).eval()
        n_q = args.dac_codebooks

        def enc(w):
            return model(w[:, None], n_quantizers=n_q)[0]  # pads to the hop, returns codes

        def dec(codes):
            return model.decode(model.quantizer.from_codes(codes)[0])

        return model.sample_rate, model.sample_rate / int(model.hop_length) * n_q, enc, dec
    raise ValueError(f"unknown model {name}")


def time_model(entry: Entry, seconds: float, repeats: int, amplitude: float) -> Tuple[float, float]:
    """Return (encode x RT, decode x RT): warm-up, then median of ``repeats`` runs."""
    sample_rate, _, encode, decode = entry
    wav = amplitude * torch.randn(1, int(seconds * sample_rate))

    def median_time(fn: Callable, x, label: str) -> float:
        """Median wall time of ``fn(x)``; the individual times go to stderr."""
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            fn(x)
            times.append(time.perf_counter() - start)
        print(f"  {label}: " + ", ".join(f"{t:.2f} s" for t in times), file=sys.stderr)
        return statistics.median(times)

    with torch.inference_mode():
        codes = encode(wav)  # encode warm-up; its codes feed decode
        decode(codes)  # decode warm-up
        return seconds / median_time(encode, wav, "encode"), seconds / median_time(decode, codes, "decode")


def markdown_table(results: Dict[str, Tuple[int, float, float, float]]) -> str:
    """Markdown table with x RT and ratios to each measured peer."""
    refs = [p for p in PEERS if p in results]
    head = ["model", "sample rate", "tokens/s", "encode x RT", "decode x RT"]
    for p in refs:
        label = {"encodec": "EnCodec", "mimi": "Mimi", "dac": "DAC"}[p]
        head += [f"encode vs {label}", f"decode vs {label}"]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, (sr, tps, enc, dec) in results.items():
        row = [name, f"{sr}", f"{tps:g}", f"{enc:.2f}", f"{dec:.2f}"]
        for p in refs:
            row += [f"{enc / results[p][2]:.2f}", f"{dec / results[p][3]:.2f}"]
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    """Command-line options."""
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=torch.get_num_threads(), help="torch CPU threads")
    p.add_argument("--seconds", type=float, default=10.0, help="audio length in seconds")
    p.add_argument("--repeats", type=int, default=3, help="timed runs (median reported)")
    p.add_argument("--amplitude", type=float, default=0.1, help="scale of the noise input")
    p.add_argument("--seed", type=int, default=0, help="torch seed (weights and noise)")
    p.add_argument("--only", nargs="+", choices=OURS + PEERS, help="models to run (default all)")
    p.add_argument("--skip-peers", action="store_true", help="run only our configurations")
    p.add_argument("--encodec-bandwidth", type=float, default=1.5, help="EnCodec kbps (1.5 = 2 codebooks)")
    p.add_argument("--mimi-quantizers", type=int, default=8, help="Mimi codebooks used")
    p.add_argument("--dac-codebooks", type=int, default=DAC_24KHZ["n_codebooks"], help="DAC codebooks used")
    p.add_argument("--old-tree", type=Path, help="checkout of an old commit: its jepa_24k in the same run")
    p.add_argument("--memory-hours", type=float, help="peak memory of the CLI decoding this many hours of tokens")
    p.add_argument("--output", type=Path, help="also write the report as markdown")
    return p.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    """Run the benchmark and print the report."""
    args = parse_args(argv)
    torch.set_num_threads(args.threads)
    torch.manual_seed(args.seed)
    names = [n for n in OURS + PEERS if args.only is None or n in args.only]
    if args.skip_peers:
        names = [n for n in names if n in OURS]
    notes = []
    try:
        import transformers  # noqa: F401
    except ImportError:
        skipped = [n for n in names if n in ("encodec", "mimi")]
        names = [n for n in names if n not in skipped]
        if skipped:
            notes.append(f"transformers is not installed: skipped {', '.join(skipped)}")
    results = {}
    for name in names:
        entry = build_ours(name) if name in OURS else build_peer(name, args)
        enc, dec = time_model(entry, args.seconds, args.repeats, args.amplitude)
        results[name] = (entry[0], entry[1], enc, dec)
        print(f"{name}: encode {enc:.2f} x RT, decode {dec:.2f} x RT", file=sys.stderr, flush=True)
    if args.old_tree is not None:
        old = old_tree_speed(args.old_tree, args)
        if old is not None:
            results["jepa_24k (old tree)"] = (24000, 47.5, old[0], old[1])
            if "jepa_24k" in results:
                notes.append(
                    f"jepa_24k against the old tree ({args.old_tree}): encode x{results['jepa_24k'][2] / old[0]:.2f}, "
                    f"decode x{results['jepa_24k'][3] / old[1]:.2f}"
                )
    if args.memory_hours:
        peak, before, seconds = decode_memory(args.memory_hours, args.threads)
        notes.append(
            f"decoding {args.memory_hours:g} h of tiny-codec tokens with `jepa-tokenizer decode` (default, chunked): "
            f"peak {peak:.2f} GiB of memory (process, {before:.2f} GiB before decoding), {seconds:.0f} s"
        )
    notes += [
        f"EnCodec 24 kHz at {args.encodec_bandwidth} kbps, Mimi with {args.mimi_quantizers} codebooks, "
        f"DAC 24 kHz with {args.dac_codebooks} of {DAC_24KHZ['n_codebooks']} codebooks; peers have random weights."
    ]
    report = "\n".join(
        [
            f"- command: `python {' '.join(shlex.quote(a) for a in sys.argv)}`",
            f"- date: {datetime.datetime.now().isoformat(timespec='seconds')}",
            f"- torch {torch.__version__}, CPU threads: {torch.get_num_threads()}",
            f"- audio: {args.seconds:g} s of noise (amplitude {args.amplitude}), "
            f"median of {args.repeats} runs after 1 warm-up",
            *[f"- {n}" for n in notes],
            "",
            markdown_table(results),
            "",
        ]
    )
    print(report)
    if args.output:
        args.output.write_text(report)


if __name__ == "__main__":
    main()
