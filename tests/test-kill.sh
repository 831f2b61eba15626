#!/bin/sh
# test-kill.sh PAL: pal train killed with SIGKILL at random moments (TAP).
#
# A tiny synthetic set, the small48 network, a checkpoint at every step.
# One uninterrupted run is the reference (and sets the time scale); then
# runs are started (fresh, or --resume where a checkpoint exists) and
# killed after a random delay, many times.  After each kill the files of
# the run folder must be whole: last.safetensors and best.safetensors load
# and evaluate, the checkpoint never goes back, nothing but the run's own
# files and the hidden temporary files of an interrupted write is there,
# and the next session resumes from the pair left.  A run that ends
# between two kills, and the last one resumed to its end, must give the
# reference run's weights bit for bit.
#
# PAL_TEST_KILLS: number of kills (default: 24, fewer when one run takes
# long, as under a sanitizer; never fewer than 8).  PAL_TEST_KILL_SEED:
# the seed of the delays (printed; default: the time).
set -u
PAL=$1
SRC=$(cd "$(dirname "$0")" && pwd)
ARCH=$SRC/../data/small48.arch
T=$(mktemp -d)
pid=
trap '[ -n "$pid" ] && kill -9 "$pid" 2>/dev/null; rm -rf "$T"' EXIT
trap 'exit 1' INT TERM
. "$SRC/tap.sh"

now () { date +%s.%N; }
# elapsed START: seconds since START, 3 decimals
elapsed () { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.3f", b - a }'; }

# the tensors of a safetensors file: the bytes after its 8-byte length and header
tensors () {
  hl=$(od -An -tu8 -N8 "$1" | tr -d ' ')
  tail -c +$((8 + hl + 1)) "$1"
}
same_tensors () { tensors "$1" >"$T/a.bin" && tensors "$2" >"$T/b.bin" && cmp -s "$T/a.bin" "$T/b.bin"; }

# stray DIR: the names in a run folder other than its own files and the
# hidden temporary files of an interrupted replacement
stray () {
  ls -A "$1" 2>/dev/null | grep -v -x -e config.ini -e log.jsonl -e last.safetensors \
    -e last-optim.safetensors -e last-optim-previous.safetensors -e best.safetensors \
    -e '\.\(last\|last-optim\|best\)\.safetensors\.[A-Za-z0-9]\{6\}' \
    -e 'config\.ini\.[A-Za-z0-9]\{6\}'
}
temps () { ls -A "$1" 2>/dev/null | grep -c -e '^\.' -e '^config\.ini\.' ; }
ckpt_step () { "$PAL" info "$1" 2>/dev/null | sed -n 's/^ *train\.checkpoint-step = //p'; }

SET="--arch-file $ARCH --epochs 6 --batch 8 --lr 1e-3 --seed 1 --checkpoint-every 1 --report-every 1 --threads 2 --workers 1 --quiet"

check "synth: 70 faces at 48 x 48" "$PAL" synth --out "$T/syn" --n 70 --seed 1 --size 48

t0=$(now)
# shellcheck disable=SC2086
check "reference run, uninterrupted" "$PAL" train "$T/syn" $SET --out "$T/ref"
tref=$(elapsed "$t0")
echo "# the reference run took $tref s"

kills=${PAL_TEST_KILLS:-$(awk -v t="$tref" 'BEGIN { k = int (60 / t); print (k > 24 ? 24 : k) }')}
[ "$kills" -lt 8 ] && kills=8
seed=${PAL_TEST_KILL_SEED:-$(date +%s)}
# a resumed session has less to do than the reference run
dmax=$(awk -v t="$tref" 'BEGIN { printf "%.3f", 0.75 * t }')
echo "# $kills kills, delays uniform in 0 .. $dmax s, seed $seed (PAL_TEST_KILL_SEED=$seed to repeat)"
awk -v s="$seed" -v n="$kills" -v t="$dmax" 'BEGIN { srand (s); for (i = 0; i < n; i++) printf "%.3f\n", rand () * t }' >"$T/delays"

# checks the ends of a run folder against the reference
check_finished () {
  desc=$1; dir=$2
  if same_tensors "$dir/last.safetensors" "$T/ref/last.safetensors" \
     && same_tensors "$dir/best.safetensors" "$T/ref/best.safetensors"; then ok "$desc"
  else nok "$desc"; fi
}

run=1
dir=$T/run$run
prev=-1
k=0
t_kills=$(now)
killed=0
finished=0
left=0
between=0
while read -r delay; do
  k=$((k + 1))
  if [ -f "$dir/last.safetensors" ]; then how=resumed; set -- train --resume "$dir" --quiet
  else how=fresh; set -- train "$T/syn" $SET --out "$dir"; fi
  "$PAL" "$@" >"$T/session" 2>&1 &
  pid=$!
  sleep "$delay"
  kill -9 "$pid" 2>/dev/null
  { wait "$pid"; } 2>/dev/null
  rc=$?
  pid=
  what="kill $k after $delay s (run $run, $how)"
  if [ "$rc" -eq 0 ]; then
    finished=$((finished + 1))
    check_finished "$what: the run had finished, with the reference weights" "$dir"
    [ -z "$(stray "$dir")" ] && [ "$(temps "$dir")" -eq 0 ] \
      && ok "$what: nothing left but the run's files" || { nok "$what: stray files"; ls -A "$dir" | sed 's/^/# /'; }
    run=$((run + 1)); dir=$T/run$run; prev=-1
    continue
  elif [ "$rc" -ne 137 ]; then
    nok "$what: the session failed (status $rc) before the kill"
    sed 's/^/# /' "$T/session"
    continue
  fi
  killed=$((killed + 1))
  msg=
  s=$(stray "$dir")
  [ -n "$s" ] && msg="$msg; stray files: $(echo $s)"
  nt=$(temps "$dir")
  left=$((left + nt))
  step=none
  if [ -f "$dir/last.safetensors" ]; then
    step=$(ckpt_step "$dir/last.safetensors")
    if [ -z "$step" ]; then
      msg="$msg; last.safetensors does not load: $("$PAL" info "$dir/last.safetensors" 2>&1 | tail -1)"
    else
      [ "$step" -lt "$prev" ] && msg="$msg; the checkpoint went back from step $prev to $step"
      prev=$step
      "$PAL" eval --model "$dir/last.safetensors" --data "$T/syn" --split val --threads 1 >"$T/out" 2>&1 \
        || msg="$msg; pal eval of last.safetensors failed: $(tail -1 "$T/out")"
      [ -f "$dir/last-optim.safetensors" ] || [ -f "$dir/last-optim-previous.safetensors" ] \
        || msg="$msg; last.safetensors without its optimizer file"
    fi
  elif [ -f "$dir/best.safetensors" ]; then
    msg="$msg; best.safetensors but no last.safetensors"
  fi
  if [ -f "$dir/best.safetensors" ]; then
    "$PAL" eval --model "$dir/best.safetensors" --data "$T/syn" --split val --threads 1 >"$T/out" 2>&1 \
      || msg="$msg; best.safetensors does not load: $(tail -1 "$T/out")"
  fi
  note=
  if [ -f "$dir/last-optim-previous.safetensors" ]; then
    between=$((between + 1)); note=", stopped between the two files of a checkpoint"
  fi
  if [ -z "$msg" ]; then ok "$what: checkpoint step $step loads, $nt temporary file(s) left$note"
  else nok "$what$msg"; fi
done <"$T/delays"
echo "# $killed sessions killed ($between between the two files of a checkpoint), $finished ended before their kill, $left temporary files seen after kills, in $(elapsed "$t_kills") s"
[ "$killed" -ge $((kills / 3)) ] && ok "at least a third of the $kills sessions were killed while running ($killed)" \
  || nok "only $killed of $kills sessions were killed while running"

# the last run, resumed to its end (or started, if no checkpoint was written)
if [ -f "$dir/last.safetensors" ]; then
  check "run $run: resumed to its end" "$PAL" train --resume "$dir" --quiet
else
  # shellcheck disable=SC2086
  check "run $run: no checkpoint yet, started again to its end" "$PAL" train "$T/syn" $SET --out "$dir"
fi
check_finished "run $run: the reference weights, bit for bit" "$dir"
check "run $run: the final weights evaluate" "$PAL" eval --model "$dir/best.safetensors" --data "$T/syn" --split test --threads 1
[ -z "$(ls -A "$dir" | grep -v -x -e config.ini -e log.jsonl -e last.safetensors -e last-optim.safetensors -e best.safetensors)" ] \
  && ok "run $run: no temporary file left after the resume" \
  || { nok "run $run: files left after the resume"; ls -A "$dir" | sed 's/^/# /'; }
[ "$(grep -c '"event":"finished"' "$dir/log.jsonl")" -eq 1 ] && ok "run $run: the log ends once" \
  || nok "run $run: the log does not end exactly once"

echo "1..$n"
[ "$fails" -eq 0 ]
