#!/usr/bin/env bash
# The shipped mel codec (hparams/mel_codec_fold.yaml) trained on mini LibriSpeech on one GPU
# in a fixed time, without its teacher term (the teacher's features, ~1 GB, do not travel); what comes back fits a device's return limits (files under 16 MiB).
#
#   # here, once: mini LibriSpeech re-encoded small enough to travel with the tree (~40 MiB)
#   recipes/LibriSpeech/codec/mel_codec_gpu.sh pack ../shared/mini_librispeech .gpu/mini_ls
#   # there (or anywhere): train for MINUTES, then the model folder (float16, in pieces) and curves in OUT
#   recipes/LibriSpeech/codec/mel_codec_gpu.sh train .gpu/mini_ls OUT [MINUTES] [recipe options...]
#   # here: join the pieces back into a model folder
#   recipes/LibriSpeech/codec/mel_codec_gpu.sh join OUT FOLDER
#
# DEVICE (default cuda) and PRECISION (default bf16) choose where and how it trains; the
# CPU test runs `DEVICE=cpu PRECISION=fp32 ... train DATA OUT 0 --optimizer_step_limit 2`.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
python=${PYTHON:-python3}

case ${1:-} in
pack)  # SRC DEST [KBITS]: train-clean-5 and dev-clean-2 as Ogg Opus at KBITS (16) kbit/s
    src=$2 dest=$3 kbits=${4:-16}
    for split in train-clean-5 dev-clean-2; do
        find "$src/$split" -name '*.trans.txt' | while read -r trans; do
            folder=$dest/${trans#"$src"/}; folder=${folder%/*}
            mkdir -p "$folder" && cp "$trans" "$folder/"
        done
        find "$src/$split" \( -name '*.opus' -o -name '*.flac' -o -name '*.wav' \) | while read -r audio; do
            out=$dest/${audio#"$src"/}; out=${out%.*}.opus
            [ -s "$out" ] && continue
            case $audio in  # opusenc reads WAV and FLAC itself; Opus goes through opusdec first
            *.opus) opusdec --quiet "$audio" - | opusenc --quiet --bitrate "$kbits" - "$out" ;;
            *) opusenc --quiet --bitrate "$kbits" "$audio" "$out" ;;
            esac
        done
    done
    du -sh "$dest"
    ;;
train)  # DATA OUT [MINUTES] [options]
    data=$2 out=$3 minutes=${4:-7}
    shift $(( $# < 4 ? $# : 4 ))
    budget=(--max_train_minutes "$minutes")
    [ "$minutes" = 0 ] && budget=()
    "$python" "$here/train_mel_codec.py" "$here/hparams/mel_codec_fold.yaml" --data_folder "$data" \
        --output_folder "$out/run" --device "${DEVICE:-cuda}" --precision "${PRECISION:-bf16}" \
        --num_workers 4 --noprogressbar --lr_cooldown_share 0.3 --teacher_weight 0 "${budget[@]}" "$@"
    "$python" - "$out" <<'PY'
import sys
from pathlib import Path
import torch
from jepa_tokenizer.pretrained.export import export_codec
from jepa_tokenizer.pretrained.safe_load import load_codec
out = Path(sys.argv[1])
folder = export_codec(load_codec(out / "run" / "model"), out / "model16", weights_dtype=torch.float16)
data = (folder / "codec.ckpt").read_bytes()
piece = 15 << 20  # the device returns files of at most 16 MiB
for i in range(0, len(data), piece):
    (out / f"codec.ckpt.{i // piece:02d}").write_bytes(data[i : i + piece])
PY
    cp "$out/model16/hyperparams.yaml" "$out/hyperparams.yaml"
    cp "$out/run/train_log.txt" "$out/train_log.txt"
    [ -f "$out/run/judge_curve.jsonl" ] && cp "$out/run/judge_curve.jsonl" "$out/judge_curve.jsonl"
    ls -la "$out"
    ;;
join)  # OUT FOLDER: the pieces back into a model folder
    out=$2 folder=$3
    mkdir -p "$folder"
    cat "$out"/codec.ckpt.[0-9][0-9] > "$folder/codec.ckpt"
    cp "$out/hyperparams.yaml" "$folder/"
    ;;
*)
    echo "usage: $0 pack SRC DEST [KBITS] | train DATA OUT [MINUTES] [recipe options] | join OUT FOLDER" >&2
    exit 2
    ;;
esac
