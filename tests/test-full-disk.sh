#!/bin/sh
# test-full-disk.sh PAL: saves onto a nearly full file system (TAP).
#
# Each save (pal init --out over a model, the checkpoints of pal train,
# pal attribute --out over a PNG, pal synth over a face set and its .pts
# landmarks) must fail with a message naming the file, leave the previous
# file byte for byte and no temporary file behind; the run of pal train
# then resumes to its end once there is room again.
#
# The full file system is the first of these that can be made: a 2 MiB
# tmpfs, an ext2 file system in a 2 MiB file mounted through a loop device
# (both need the right to mount), or, without privileges, a limit on the
# size of the files written (ulimit -f: writes then fail with EFBIG, as
# they fail with ENOSPC on a full disk).  PAL_TEST_FULL_DISK_METHOD=tmpfs,
# loop or ulimit asks for one.
set -u
PAL=$1
SRC=$(cd "$(dirname "$0")" && pwd)
T=$(mktemp -d)
M=$T/mnt
mounted=
pid=
cleanup () {
  [ -n "$pid" ] && kill -9 "$pid" 2>/dev/null
  [ -n "$mounted" ] && umount "$M" 2>/dev/null
  rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
. "$SRC/tap.sh"


# --- the full file system ------------------------------------------------------

mkdir -p "$M"
want=${PAL_TEST_FULL_DISK_METHOD:-}
method=
why=
if [ -z "$want" ] || [ "$want" = tmpfs ]; then
  if mount -t tmpfs -o size=2M tmpfs "$M" 2>"$T/why"; then method=tmpfs; mounted=1
  else why="tmpfs: $(head -1 "$T/why")"; fi
fi
if [ -z "$method" ] && { [ -z "$want" ] || [ "$want" = loop ]; }; then
  if dd if=/dev/zero of="$T/disk.img" bs=1024 count=2048 2>/dev/null \
     && mkfs.ext2 -q -F -m 0 "$T/disk.img" >"$T/why" 2>&1 \
     && mount -o loop "$T/disk.img" "$M" 2>"$T/why"; then method=loop; mounted=1
  else why="$why; loop device: $(head -1 "$T/why")"; fi
fi
if [ -z "$method" ] && { [ -z "$want" ] || [ "$want" = ulimit ]; }; then
  if (trap '' XFSZ; ulimit -f 64 && dd if=/dev/zero of="$M/probe" bs=1024 count=64 2>/dev/null); then
    why="$why; ulimit -f: no limit"
  else method=ulimit; fi
  rm -f "$M/probe"
fi
if [ -z "$method" ]; then
  echo "1..0 # SKIP no nearly full file system can be made here (${why#; })"
  exit 0
fi
case $method in
  tmpfs) echo "# a 2 MiB tmpfs (mount -t tmpfs -o size=2M)";;
  loop) echo "# a 2 MiB ext2 file system on a loop device";;
  ulimit) echo "# files limited in size with ulimit -f, writes fail with EFBIG";;
esac
[ -n "$why" ] && echo "# not available: ${why#; }"
ok "a nearly full file system: $method"

room=0
# fill KB: leaves about KB kilobytes free on the file system (or, with
# ulimit, lets no file grow past KB kilobytes)
fill () {
  room=$1
  rm -f "$M/filler"
  [ "$method" = ulimit ] && return
  avail=$(df -k -P "$M" | awk 'NR == 2 { print $4 }')
  if [ "$avail" -gt "$room" ]; then
    dd if=/dev/zero of="$M/filler" bs=1024 count=$((avail - room)) 2>/dev/null
  fi
  sync
}
unfill () { rm -f "$M/filler"; room=0; }
# limited CMD...: CMD with the file-size limit of the ulimit method
limited () {
  if [ "$method" = ulimit ] && [ "$room" -gt 0 ]; then
    (trap '' XFSZ; ulimit -f $((room * 2)); exec "$@")
  elif [ "$method" = ulimit ]; then
    (trap '' XFSZ; ulimit -f 1; exec "$@")
  else "$@"; fi
}
# fails_cleanly DESC FILE CMD...: CMD fails with at most 3 lines, one of
# which names FILE's name and says why
fails_cleanly () {
  desc=$1; name=$(basename "$2"); shift 2
  if limited "$@" >"$T/out" 2>&1; then nok "$desc: succeeded on a full disk"; sed 's/^/# /' "$T/out"
  elif grep "$name" "$T/out" | grep -q -i -e "no space left" -e "file too large" \
       && [ "$(wc -l <"$T/out")" -le 3 ]; then ok "$desc: fails, naming the file"; sed 's/^/# /' "$T/out"
  else nok "$desc: unclear message"; sed 's/^/# /' "$T/out"; fi
}
# no_temporaries DESC DIR: nothing hidden left in DIR
no_temporaries () {
  left=$(find "$2" -name '.*' ! -name . | head -5)
  [ -z "$left" ] && ok "$1: no temporary file left" || { nok "$1: temporary files left"; echo "$left" | sed 's/^/# /'; }
}
intact () {
  if cmp -s "$2" "$3"; then ok "$1: the previous file is intact"; else nok "$1: the previous file changed"; fi
}

# --- pal init --out over a model --------------------------------------------------

ARCH48=$SRC/../data/small48.arch
check "init: a model of 1.4 MB" "$PAL" init --arch-file "$ARCH48" --seed 1 --out "$M/model.safetensors"
cp "$M/model.safetensors" "$T/model.copy"
fill 64
fails_cleanly "init over it" "$M/model.safetensors" "$PAL" init --arch-file "$ARCH48" --seed 2 --out "$M/model.safetensors"
intact "init" "$M/model.safetensors" "$T/model.copy"
check "init: the previous model still loads" "$PAL" info "$M/model.safetensors"
no_temporaries "init" "$M"
unfill
rm -f "$M/model.safetensors"

# --- pal attribute --out over a PNG ----------------------------------------------

printf 'input data shape=3x48x48\nconv c1 out=16 k=3 pad=1 act=relu\nmaxpool p1 k=2\nconv c2 out=32 k=3 pad=1 act=relu\nmaxpool p2 k=2\nconv c3 out=64 k=3 pad=1 act=relu\ngap g\nlinear fc out=7\n' >"$T/tiny.arch"
"$PAL" synth --out "$T/syn" --n 70 --seed 1 --size 48 >/dev/null 2>&1
"$PAL" init --arch-file "$T/tiny.arch" --seed 1 --out "$T/tiny.safetensors" >/dev/null 2>&1
FACE=$T/syn/Image/aligned/train_00001_aligned.jpg
PTS=$T/syn/Landmarks/train_00001_aligned.pts
check "attribute: a PNG" "$PAL" attribute "$FACE" --model "$T/tiny.safetensors" --landmarks "$PTS" --layer c2 --out "$M/attr.png"
cp "$M/attr.png" "$T/attr.copy"
kb=$(( $(wc -c <"$M/attr.png") / 1024 ))
echo "# the PNG is $kb KB"
fill $((kb / 4))
fails_cleanly "attribute over it" "$M/attr.png" "$PAL" attribute "$FACE" --model "$T/tiny.safetensors" --landmarks "$PTS" --layer c3 --out "$M/attr.png"
intact "attribute" "$M/attr.png" "$T/attr.copy"
no_temporaries "attribute" "$M"
unfill
rm -f "$M/attr.png"

# --- pal synth over a face set: images, .pts landmarks, labels ----------------------

check "synth: 7 faces" "$PAL" synth --out "$M/faces" --n 7 --seed 1 --size 48
(cd "$M/faces" && find . -type f | sort | xargs md5sum) >"$T/faces.sum"
fill 0
fails_cleanly "synth over them" "_aligned." "$PAL" synth --out "$M/faces" --n 7 --seed 2 --size 48
if (cd "$M/faces" && md5sum --quiet -c "$T/faces.sum") >"$T/out" 2>&1; then ok "synth: every previous image, .pts and label file intact"
else nok "synth: previous files changed"; sed 's/^/# /' "$T/out"; fi
no_temporaries "synth" "$M/faces"
unfill
rm -rf "$M/faces"

# --- pal train: checkpoints on a full disk ---------------------------------------

RUN=$M/run
SET="--arch-file $T/tiny.arch --epochs 20 --batch 8 --seed 1 --checkpoint-every 1 --report-every 10 --threads 2 --quiet"
# shellcheck disable=SC2086
"$PAL" train "$T/syn" $SET --out "$RUN" >"$T/session" 2>&1 &
pid=$!
i=0
while [ ! -f "$RUN/last.safetensors" ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i + 1)); done
sleep 0.1
kill -INT "$pid" 2>/dev/null
wait "$pid"
rc=$?
pid=
[ "$rc" -eq 130 ] && [ -f "$RUN/last.safetensors" ] && ok "train: stopped by Ctrl-C with a checkpoint" \
  || { nok "train: stopped by Ctrl-C with a checkpoint (status $rc)"; sed 's/^/# /' "$T/session"; }
mkdir "$T/before"
for f in last.safetensors last-optim.safetensors best.safetensors; do
  [ -f "$RUN/$f" ] && cp "$RUN/$f" "$T/before/$f"
done
echo "# checkpoint before: $(ls "$T/before" | tr '\n' ' ')"
fill 64
fails_cleanly "train --resume with no room for a checkpoint" "safetensors" "$PAL" train --resume "$RUN" --quiet
ok_all=1
for f in $(ls "$T/before"); do cmp -s "$RUN/$f" "$T/before/$f" || { ok_all=; echo "# $f changed"; }; done
[ -n "$ok_all" ] && ok "train: the last good checkpoint is intact" || nok "train: the last good checkpoint changed"
[ ! -f "$RUN/last-optim-previous.safetensors" ] && ok "train: the optimizer file is back in place" \
  || nok "train: last-optim-previous.safetensors left"
no_temporaries "train" "$RUN"
unfill
check "train: resumed to its end with room again" "$PAL" train --resume "$RUN" --quiet
check "train: the final weights load" "$PAL" eval --model "$RUN/best.safetensors" --data "$T/syn" --split test --threads 1

echo "1..$n"
[ "$fails" -eq 0 ]
