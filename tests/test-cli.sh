#!/bin/sh
# test-cli.sh PAL: the pal tool end to end (TAP).  Checks pal grads against
# PyTorch autograd (tests/torch/check_grads.py) when /usr/bin/python3 has torch.
set -u
PAL=$1
SRC=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$SRC/tap.sh"

check_fails () {
  # check_fails DESC PATTERN CMD...: must exit non-zero with one line matching PATTERN
  desc=$1; pat=$2; shift 2
  if "$@" >"$T/out" 2>&1; then nok "$desc (succeeded)"; sed 's/^/# /' "$T/out";
  elif grep -q -- "$pat" "$T/out" && [ "$(wc -l <"$T/out")" -le 3 ]; then ok "$desc";
  else nok "$desc"; sed 's/^/# /' "$T/out"; fi
}

check "init bench-vgg" "$PAL" init --arch bench-vgg --seed 1 --out "$T/bv.safetensors"
check "init resnet18@64" "$PAL" init --arch resnet18 --input-size 64 --seed 2 --out "$T/rn.safetensors"
printf 'input data shape=3x16x16\nconv c1 out=8 k=3 pad=1 act=relu\nconv c2 out=8 k=3 pad=1 act=relu\nmaxpool p k=2\nconv c3 out=8 k=3 pad=1\nadd r in=c3,p act=relu\ngap g\nlinear fc out=7\n' >"$T/small.arch"
check "init from a text architecture" "$PAL" init --arch-file "$T/small.arch" --out "$T/small.safetensors"
check "info" "$PAL" info "$T/bv.safetensors"
grep -q "conv7 *conv *256 x  12 x  12" "$T/out" && ok "info shows conv7 256x12x12" || nok "info shows conv7 256x12x12"

check "random batch" "$PAL" random-batch --model "$T/bv.safetensors" --layer conv7 --n 4 --seed 3 --out "$T/b.safetensors"
check "grads" "$PAL" grads --model "$T/bv.safetensors" --batch "$T/b.safetensors" --layer conv7 --out "$T/g.safetensors"

check_fails "unknown command" "unknown command" "$PAL" frobnicate
check_fails "missing model file" "no-such" "$PAL" info "$T/no-such.safetensors"
head -c 1000 "$T/bv.safetensors" >"$T/trunc.safetensors"
check_fails "truncated model" "trunc.safetensors" "$PAL" info "$T/trunc.safetensors"
check_fails "model of another architecture" "conv1.weight" "$PAL" info --arch bench-vgg "$T/rn.safetensors"
check_fails "unknown layer" "conv99" "$PAL" grads --model "$T/bv.safetensors" --batch "$T/b.safetensors" --layer conv99 --out "$T/x"
check_fails "unknown architecture" "unknown architecture" "$PAL" init --arch vgg99 --out "$T/x"
check_fails "bad channels" "channel strategy" "$PAL" grads --model "$T/bv.safetensors" --batch "$T/b.safetensors" --layer conv7 --channels half --out "$T/x"
check_fails "C1 too large" "C1 = 300" "$PAL" grads --model "$T/bv.safetensors" --batch "$T/b.safetensors" --layer conv7 --channels first:300 --out "$T/x"
"$PAL" random-batch --model "$T/rn.safetensors" --layer layer4.1 --n 3 --seed 5 --out "$T/rb.safetensors"
check_fails "PAL before training batch norm" "batch norm" "$PAL" grads --model "$T/rn.safetensors" --batch "$T/rb.safetensors" --layer layer3.1 --out "$T/x"
check_fails "batch of the wrong image size" "images" "$PAL" grads --model "$T/rn.safetensors" --batch "$T/b.safetensors" --layer layer4.1 --out "$T/x"

# Faces in: a synthetic dataset, its counts, broken rows, the loader.
check "synth" "$PAL" synth --out "$T/syn" --n 35 --seed 3 --size 64
check "data: counts" "$PAL" data "$T/syn"
grep -q "samples: 35 of 35 rows" "$T/out" && ok "data: 35 samples read" || nok "data: 35 samples read"
grep -q "landmarks: 35 of 35" "$T/out" && ok "data: every sample has landmarks" || nok "data: every sample has landmarks"
check "data: loader speed" "$PAL" data "$T/syn" --bench --batches 2 --batch 4 --input 64 --map 8
grep -q "images/s" "$T/out" && ok "data: loader reports images/s" || nok "data: loader reports images/s"
printf 'train_99999.jpg\n' >>"$T/syn/EmoLabel/list_patition_label.txt"
check "data: a broken row is skipped" "$PAL" data "$T/syn"
grep -q "list_patition_label.txt:36" "$T/out" && ok "data: the broken row is named with its line" || nok "data: the broken row is named with its line"
check_fails "data --strict: a broken row is fatal" "list_patition_label.txt:36" "$PAL" data --strict "$T/syn"
check_fails "data: no dataset there" "no-such-dir" "$PAL" data "$T/no-such-dir"

# Analyses on the synthetic set with a small model.
printf 'input data shape=3x64x64\nconv c1 out=8 k=3 pad=1 act=relu\nmaxpool p1 k=2\nconv c2 out=16 k=3 pad=1 act=relu\nmaxpool p2 k=2\nconv c3 out=16 k=3 pad=1 act=relu\ngap g\nlinear fc out=7\n' >"$T/s64.arch"
check "init a 64x64 model" "$PAL" init --arch-file "$T/s64.arch" --seed 4 --out "$T/s64.safetensors"
"$PAL" synth --out "$T/syn2" --n 21 --seed 5 --size 64 >/dev/null 2>&1
check "eval" "$PAL" eval --model "$T/s64.safetensors" --data "$T/syn2" --split test --png "$T/cm.png"
grep -qi "accuracy" "$T/out" && [ -s "$T/cm.png" ] && ok "eval: accuracy and a confusion PNG" || nok "eval: accuracy and a confusion PNG"
check "attribute" "$PAL" attribute "$T/syn2/Image/aligned/train_00001_aligned.jpg" --model "$T/s64.safetensors" --landmarks "$T/syn2/Landmarks/train_00001_aligned.pts" --layer c2 --out "$T/attr.png"
[ -s "$T/attr.png" ] && ok "attribute: a PNG" || nok "attribute: a PNG"
check "train (one epoch)" "$PAL" train "$T/syn2" --arch-file "$T/s64.arch" --epochs 1 --batch 4 --lr 1e-3 --out "$T/run" --quiet
[ -s "$T/run/best.safetensors" ] && [ -s "$T/run/log.jsonl" ] && [ -s "$T/run/config.ini" ] && ok "train: run folder complete" || nok "train: run folder complete"
check "train: resume a finished run" "$PAL" train --resume "$T/run" --quiet
check "gradcam-means" "$PAL" gradcam-means --model "$T/run/best.safetensors" --data "$T/syn2" --split test --layer c3 --out "$T/gcm.png" --csv "$T/gcm.csv"
[ -s "$T/gcm.png" ] && grep -q "happy" "$T/gcm.csv" && ok "gradcam-means: picture and table" || nok "gradcam-means: picture and table"
check "eval --agreement" "$PAL" eval --model "$T/run/best.safetensors" --data "$T/syn2" --split test --agreement c2
grep -q "Grad\*Input *[-+][0-9]" "$T/out" && ok "eval: agreement table" || nok "eval: agreement table"
check_fails "attribute: no such layer" "c9" "$PAL" attribute "$T/syn2/Image/aligned/train_00001_aligned.jpg" --model "$T/s64.safetensors" --layer c9 --out "$T/x.png"
check_fails "eval: model and dataset classes differ" "classes" "$PAL" eval --model "$T/rn.safetensors" --data "$T/syn2" --contempt --split test

# Against PyTorch autograd, when available.
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  cmp_torch () {
    desc=$1; shift
    if /usr/bin/python3 "$SRC/torch/check_grads.py" "$PAL" "$@" >"$T/cmp" 2>&1; then ok "$desc"
    else nok "$desc"; sed 's/^/# /' "$T/cmp"; fi
  }
  cmp_torch "torch: bench-vgg grad-input first" "$T/bv.safetensors" "$T/b.safetensors" conv7 grad-input first 1.0
  cmp_torch "torch: bench-vgg grad first:64" "$T/bv.safetensors" "$T/b.safetensors" conv7 grad first:64 1.0
  cmp_torch "torch: bench-vgg grad-input all" "$T/bv.safetensors" "$T/b.safetensors" conv7 grad-input all 2.0
  cmp_torch "torch: bench-vgg grad mean" "$T/bv.safetensors" "$T/b.safetensors" conv7 grad mean 0.5
  "$PAL" random-batch --model "$T/bv.safetensors" --layer conv5 --n 3 --seed 4 --out "$T/b5.safetensors"
  cmp_torch "torch: bench-vgg grad-input at conv5" "$T/bv.safetensors" "$T/b5.safetensors" conv5 grad-input first 1.0
  cmp_torch "torch: resnet18 grad-input at layer4.1 (batch norm in training form before)" "$T/rn.safetensors" "$T/rb.safetensors" layer4.1 grad-input first 1.0
  "$PAL" random-batch --model "$T/rn.safetensors" --layer layer3.0 --n 3 --seed 6 --out "$T/rb3.safetensors"
  cmp_torch "torch: resnet18 grad at layer3.0, batch norm frozen" "$T/rn.safetensors" "$T/rb3.safetensors" layer3.0 grad first 1.0 --bn-frozen
  "$PAL" random-batch --model "$T/small.safetensors" --layer c2 --n 3 --seed 7 --out "$T/bs.safetensors"
  cmp_torch "torch: text architecture, residual in the tail" "$T/small.safetensors" "$T/bs.safetensors" c2 grad-input first:3 1.0
else
  nok "torch comparison: /usr/bin/python3 has no torch (apt-get install python3-torch)"
fi

echo "1..$n"
[ "$fails" -eq 0 ]
