#!/bin/sh
# test-faces-cli.sh PAL: pal faces and pal landmarks end to end (TAP).
# Needs face-api's package (tools/fetch-face-api) and Debian's libdlib-data.
set -u
PAL=$1
SRC=$(cd "$(dirname "$0")" && pwd)
DEMO="$SRC/../data/face-api/node_modules/@vladmandic/face-api/demo"
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
. "$SRC/tap.sh"
# dlib's parsed-model cache in the build folder, not the user's
XDG_CACHE_HOME=${G_TEST_BUILDDIR:-$T}/faces-cache
export XDG_CACHE_HOME

# check, keeping stdout and stderr apart (the JSON tests read stdout)
check () { desc=$1; shift; if "$@" >"$T/out" 2>"$T/err"; then ok "$desc"; else nok "$desc"; sed 's/^/# /' "$T/out" "$T/err"; fi; }
check_fails () {
  # check_fails DESC PATTERN CMD...: must exit non-zero with stderr matching PATTERN
  desc=$1; pat=$2; shift 2
  if "$@" >"$T/out" 2>"$T/err"; then nok "$desc (succeeded)"; sed 's/^/# /' "$T/err";
  elif grep -q -- "$pat" "$T/err"; then ok "$desc";
  else nok "$desc"; sed 's/^/# /' "$T/out" "$T/err"; fi
}
# pyjson DESC SCRIPT FILE: python3 SCRIPT with the JSON lines of FILE as `objs`
pyjson () {
  desc=$1; script=$2; file=$3
  if python3 -c "import json, sys
objs = [json.loads(l) for l in open(sys.argv[1])]
$script" "$file" >"$T/py" 2>&1; then ok "$desc"; else nok "$desc"; sed 's/^/# /' "$T/py"; fi
}

if [ ! -f "$DEMO/sample1.jpg" ] || [ ! -f /usr/share/dlib/shape_predictor_68_face_landmarks.dat ]; then
  nok "face-api's demo photos (tools/fetch-face-api) and libdlib-data are needed"
  echo "1..$n"
  exit 1
fi

# pal faces --json: one object per image, its faces in full.
SHAPE='
def check(o, method, n_faces):
    assert set(o) == {"image", "width", "height", "faces"}, o.keys()
    assert (o["width"], o["height"]) in ((1920, 1280), (1920, 1367)), (o["width"], o["height"])
    assert len(o["faces"]) == n_faces, len(o["faces"])
    for f in o["faces"]:
        assert 0.5 < f["score"] <= 1
        assert len(f["box"]) == 4 and f["box"][2] > 100 and f["box"][3] > 100
        assert len(f["landmarks"]) == 68 and all(len(p) == 2 for p in f["landmarks"])
        x, y, w, h = f["box"]
        inside = sum(x - w / 2 <= p[0] <= x + 1.5 * w and y - h / 2 <= p[1] <= y + 1.5 * h for p in f["landmarks"])
        assert inside == 68, inside
        assert f["landmark_method"] == method
        if method == "dlib":
            L, T, R, B = f["dlib_rect"]
            assert all(isinstance(v, int) for v in f["dlib_rect"]) and R - L == B - T > 100
        else:
            assert "dlib_rect" not in f
        e = f["expression"]
        assert set(e) == {"neutral", "happy", "sad", "surprise", "fear", "disgust", "anger"}, e.keys()
        assert abs(sum(e.values()) - 1) < 1e-5, sum(e.values())
'
check "faces --json on two photos (dlib)" "$PAL" faces --json "$DEMO/sample1.jpg" "$DEMO/sample2.jpg"
cp "$T/out" "$T/dlib.jsonl"
pyjson "faces --json: 2 objects, 3 + 1 faces, 68 dlib points, dlib_rect, expressions sum to 1" "$SHAPE
assert len(objs) == 2
check(objs[0], 'dlib', 3)
check(objs[1], 'dlib', 1)
assert objs[0]['image'].endswith('sample1.jpg')
assert max(objs[1]['faces'][0]['expression'].items(), key=lambda kv: kv[1])[0] == 'sad'" "$T/dlib.jsonl"

check "faces --json --landmarks faceapi" "$PAL" faces --json --landmarks faceapi "$DEMO/sample1.jpg" "$DEMO/sample2.jpg"
cp "$T/out" "$T/faceapi.jsonl"
pyjson "faces --landmarks faceapi: no dlib_rect, same boxes and expressions as with dlib" "$SHAPE
assert len(objs) == 2
check(objs[0], 'faceapi', 3)
check(objs[1], 'faceapi', 1)
d = [json.loads(l) for l in open('$T/dlib.jsonl')]
for a, b in zip(objs, d):
    for fa, fd in zip(a['faces'], b['faces']):
        assert fa['box'] == fd['box'] and fa['expression'] == fd['expression']" "$T/faceapi.jsonl"

check "faces --no-expression --min-score 0.75" "$PAL" faces --json --no-expression --min-score 0.75 "$DEMO/sample1.jpg"
pyjson "faces --no-expression: no expression; --min-score 0.75 keeps 2 of 3 faces" "
assert len(objs) == 1 and len(objs[0]['faces']) == 2
assert all('expression' not in f and f['score'] >= 0.75 for f in objs[0]['faces'])" "$T/out"

check "faces, text output" "$PAL" faces "$DEMO/sample2.jpg"
grep -q "1 face" "$T/out" && grep -q "expression: sad" "$T/out" && grep -q "dlib rect" "$T/out" \
  && ok "faces, text: the face, its expression and dlib's rectangle" || nok "faces, text: the face, its expression and dlib's rectangle"

# --pts beside the image, loadable; a broken JPEG named, the good image still done.
cp "$DEMO/sample2.jpg" "$T/photo.jpg"
head -c 20000 "$DEMO/sample1.jpg" >"$T/broken.jpg"
check_fails "faces: a broken JPEG fails the run" "broken.jpg" "$PAL" faces --json --pts "$T/broken.jpg" "$T/photo.jpg"
pyjson "faces: the broken image is an error object, the good one still printed" "
assert len(objs) == 2
assert objs[0]['image'].endswith('broken.jpg') and 'error' in objs[0]
assert objs[1]['image'].endswith('photo.jpg') and len(objs[1]['faces']) == 1" "$T/out"
grep -q "wrote .*photo.pts" "$T/err" && ok "faces --pts says what it wrote" || nok "faces --pts says what it wrote"
check "faces --pts: the .pts loads (pal prior)" "$PAL" prior "$T/photo.jpg" --landmarks "$T/photo.pts" --out "$T/prior.png"
[ -s "$T/err" ] && { nok "faces --pts: landmarks inside the image"; sed 's/^/# /' "$T/err"; } || ok "faces --pts: landmarks inside the image"
[ ! -e "$T/broken.pts" ] && ok "faces --pts: nothing for the broken image" || nok "faces --pts: nothing for the broken image"

# A picture with no face (colour ramps and waves): no error, no faces.
python3 -c "import math, struct, sys, zlib
w, h = 240, 180
rows = b''.join(b'\\0' + bytes(v for x in range(w) for v in (x * 255 // w, y * 255 // h,
       int(127 + 100 * math.sin(x / 9.0) * math.cos(y / 13.0)))) for y in range(h))
chunk = lambda t, d: struct.pack('>I', len(d)) + t + d + struct.pack('>I', zlib.crc32(t + d))
open(sys.argv[1], 'wb').write(b'\\x89PNG\\r\\n\\x1a\\n' + chunk(b'IHDR', struct.pack('>IIBBBBB', w, h, 8, 2, 0, 0, 0))
  + chunk(b'IDAT', zlib.compress(rows)) + chunk(b'IEND', b''))" "$T/noface.png"
check "faces: a picture without a face" "$PAL" faces --json "$T/noface.png"
pyjson "faces: an image without faces gives an empty list" "assert objs[0]['faces'] == []" "$T/out"
# A face that fills the picture (the 96 x 96 synthetic demo face): too
# large for the detector at 416, found at a smaller size.
check "faces: a close-up" "$PAL" faces --json "$SRC/../data/demo-face.jpg"
pyjson "faces: the close-up's one face, its landmarks within the picture" "f = objs[0]['faces']
assert len(f) == 1, f
assert all(-1 <= x <= 97 and -1 <= y <= 97 for x, y in f[0]['landmarks'])" "$T/out"

check_fails "faces: missing face-api models" "fetch-face-api" env PAL_FACEAPI_DIR="$T/nowhere" "$PAL" faces "$T/photo.jpg"
check_fails "faces: missing dlib model" "libdlib-data" "$PAL" faces --dlib-model "$T/none.dat" "$T/photo.jpg"
check_fails "faces: unknown method" "unknown landmark method" "$PAL" faces --landmarks hog "$T/photo.jpg"

# pal landmarks: a class-folder dataset made of synthetic faces without .pts.
"$PAL" synth --out "$T/syn" --n 14 --seed 5 >/dev/null
make_folder () {
  # make_folder DIR: the synthetic faces as DIR/<class>/<stem>.jpg, no .pts
  while read -r name code; do
    case $code in 1) c=surprise;; 2) c=fear;; 3) c=disgust;; 4) c=happy;; 5) c=sad;; 6) c=anger;; *) c=neutral;; esac
    mkdir -p "$1/$c"
    cp "$T/syn/Image/aligned/${name%.jpg}_aligned.jpg" "$1/$c/${name%.jpg}.jpg"
  done <"$T/syn/EmoLabel/list_patition_label.txt"
}
make_folder "$T/folder"
count_pts () { find "$1" -name '*.pts' | wc -l | tr -d ' '; }
check "landmarks: folder dataset, detection" "$PAL" landmarks "$T/folder"
written=$(sed -n 's/^written: \([0-9]*\).*/\1/p' "$T/out")
noface=$(sed -n 's/^no face: \([0-9]*\).*/\1/p' "$T/out")
[ "$written" -gt 0 ] && [ $((written + noface)) -eq 14 ] && [ "$(count_pts "$T/folder")" -eq "$written" ] \
  && ok "landmarks: $written written, $noface without a face, .pts beside the images" \
  || { nok "landmarks: written + no face = 14"; sed 's/^/# /' "$T/out" "$T/err"; }
grep -q "images/s" "$T/err" && ok "landmarks: progress with images/s" || nok "landmarks: progress with images/s"
check "landmarks: rerun" "$PAL" landmarks "$T/folder"
grep -q "^written: 0 " "$T/out" && grep -q "($written before this run" "$T/out" \
  && ok "landmarks: a rerun keeps the .pts written" || { nok "landmarks: a rerun keeps the .pts written"; sed 's/^/# /' "$T/out"; }
check "landmarks --fixed-box: the rest" "$PAL" landmarks --fixed-box "$T/folder"
grep -q "^written: $noface " "$T/out" && [ "$(count_pts "$T/folder")" -eq 14 ] \
  && ok "landmarks --fixed-box: every image has its .pts" || { nok "landmarks --fixed-box: every image has its .pts"; sed 's/^/# /' "$T/out"; }
check "data sees the landmarks" "$PAL" data "$T/folder"
grep -q "landmarks: 14 of 14" "$T/out" && grep -q "(0 broken)" "$T/out" \
  && ok "data: 14 of 14 samples with landmarks" || { nok "data: 14 of 14 samples with landmarks"; sed 's/^/# /' "$T/out"; }

# RAF-DB layout: Landmarks/ emptied, filled again with --fixed-box and dlib.
rm -f "$T"/syn/Landmarks/*.pts
check "landmarks: RAF-DB, --fixed-box" "$PAL" landmarks --fixed-box --report "$T/report.txt" "$T/syn"
[ "$(count_pts "$T/syn/Landmarks")" -eq 14 ] && ok "landmarks: RAF-DB's Landmarks/ filled" || nok "landmarks: RAF-DB's Landmarks/ filled"
check "data sees RAF-DB's landmarks" "$PAL" data "$T/syn"
grep -q "landmarks: 14 of 14" "$T/out" && ok "data: RAF-DB, 14 of 14" || { nok "data: RAF-DB, 14 of 14"; sed 's/^/# /' "$T/out"; }
check_fails "landmarks: refuses FER2013" "FER2013\|fer2013" "$PAL" landmarks --format fer2013 "$T/syn"

# Ctrl-C: stops after the current image, exit 130, the rerun finishes the job.
make_folder "$T/stop"
"$PAL" landmarks "$T/stop" >"$T/out" 2>"$T/err" &
pid=$!
i=0
while [ "$(count_pts "$T/stop")" -eq 0 ] && [ $i -lt 600 ] && kill -0 $pid 2>/dev/null; do sleep 0.1; i=$((i + 1)); done
kill -INT $pid 2>/dev/null
wait $pid
rc=$?
if [ $rc -eq 130 ] && grep -q "run the same command again" "$T/err"; then ok "landmarks: Ctrl-C stops with 130"
elif [ $rc -eq 0 ]; then ok "landmarks: Ctrl-C came after the end (nothing to check)"
else nok "landmarks: Ctrl-C stops with 130 (got $rc)"; sed 's/^/# /' "$T/err"; fi
check "landmarks: rerun after Ctrl-C" "$PAL" landmarks "$T/stop"
check "data after the interrupted run" "$PAL" data "$T/stop"
grep -q "(0 broken)" "$T/out" && grep -q "landmarks: $written of 14" "$T/out" \
  && ok "data: every .pts readable, as many as in one go" || { nok "data: every .pts readable, as many as in one go"; sed 's/^/# /' "$T/out"; }

# pal attribute --face: face-api's expression net on a real photo, alone and
# beside a model of another input size.
# png_size DESC FILE MIN_W MIN_H: FILE is a non-empty PNG of at least MIN_W x MIN_H
png_size () {
  desc=$1
  if [ -s "$2" ] && python3 -c "import struct, sys
d = open(sys.argv[1], 'rb').read(24)
assert d[:8] == b'\x89PNG\r\n\x1a\n' and d[12:16] == b'IHDR', d
w, h = struct.unpack('>II', d[16:24])
assert w >= int(sys.argv[2]) and h >= int(sys.argv[3]), (w, h)" "$2" "$3" "$4" >"$T/py" 2>&1
  then ok "$desc"; else nok "$desc"; sed 's/^/# /' "$T/py"; fi
}
check "attribute --face --model faceapi on a photo" "$PAL" attribute "$DEMO/sample2.jpg" --face --model faceapi --out "$T/fa.png"
png_size "attribute --face --model faceapi: a PNG" "$T/fa.png" 400 400
grep -q "face 1 of 1" "$T/out" && grep -q "^face-api expression: dense2 128x14x14, predicted sad" "$T/out" \
  && ok "attribute --face --model faceapi: the face found, maps at dense2, sad as pal faces says" \
  || { nok "attribute --face --model faceapi: the face found, maps at dense2, sad as pal faces says"; sed 's/^/# /' "$T/out"; }
check "attribute --face --model faceapi --model2 demo-pal" "$PAL" attribute "$DEMO/sample2.jpg" --face \
  --model faceapi --model2 "$SRC/../data/demo-pal.safetensors" --out "$T/fa2.png"
png_size "attribute --model faceapi --model2: a PNG twice as wide" "$T/fa2.png" 1200 400
grep -q "^face-api expression: dense2" "$T/out" && grep -q "^demo-pal: conv4 " "$T/out" \
  && ok "attribute: 112 x 112 and 48 x 48 models side by side" \
  || { nok "attribute: 112 x 112 and 48 x 48 models side by side"; sed 's/^/# /' "$T/out"; }
check "attribute --face --face-landmarks faceapi" "$PAL" attribute "$DEMO/sample2.jpg" --face \
  --face-landmarks faceapi --model faceapi --out "$T/fa3.png"
grep -q "face 1 of 1 (score [0-9.]*, faceapi landmarks)" "$T/out" \
  && grep -q "^face-api expression: dense2 128x14x14, predicted sad" "$T/out" \
  && ok "attribute --face-landmarks faceapi: the face cropped about face-api's landmarks" \
  || { nok "attribute --face-landmarks faceapi: the face cropped about face-api's landmarks"; sed 's/^/# /' "$T/out"; }
cmp -s "$T/fa.png" "$T/fa3.png" \
  && nok "attribute --face-landmarks: another crop than dlib's landmarks give" \
  || ok "attribute --face-landmarks: another crop than dlib's landmarks give"
check_fails "attribute --face-landmarks hog" "--face-landmarks must be dlib or faceapi" \
  "$PAL" attribute "$DEMO/sample2.jpg" --face --face-landmarks hog --model faceapi --out "$T/bad.png"
check_fails "attribute --face-landmarks without --face" "--face-landmarks goes with --face" \
  "$PAL" attribute "$DEMO/sample2.jpg" --face-landmarks faceapi --model faceapi --out "$T/bad.png"
check_fails "attribute --face 7 on a one-face photo" "face 7: the image has only 1 face" \
  "$PAL" attribute "$DEMO/sample2.jpg" --face 7 --model faceapi --out "$T/bad.png"
check_fails "attribute --face on a picture without a face" "no face found" \
  "$PAL" attribute "$T/noface.png" --face --model faceapi --out "$T/bad.png"
[ ! -e "$T/bad.png" ] && ok "attribute --face: no PNG when it fails" || nok "attribute --face: no PNG when it fails"

# face-api's expression net as a model file.
check "init --arch faceapi writes face-api's expression net" "$PAL" init --arch faceapi --out "$T/fa.safetensors"
check "info on the written net" "$PAL" info "$T/fa.safetensors"
grep -q "classes: *neutral happy sad surprise fear disgust anger" "$T/out" && grep -q "inspect.layer = dense2" "$T/out" \
  && ok "info: the 7 classes in our order, dense2 for inspection" || { nok "info: the 7 classes in our order, dense2 for inspection"; sed 's/^/# /' "$T/out"; }
check "info faceapi" "$PAL" info faceapi

# face-api's expression net by name in the dataset commands
check "synth for eval" "$PAL" synth --out "$T/syn" --n 70 --size 64 --seed 3
check "eval --model faceapi" "$PAL" eval --model faceapi --data "$T/syn" --split test
grep -q "^accuracy: .*(.* of 18)" "$T/out" && grep -q "^model: *faceapi" "$T/out" \
  && ok "eval --model faceapi: the test split's 18 faces" || { nok "eval --model faceapi: the test split's 18 faces"; sed 's/^/# /' "$T/out"; }
check "gradcam-means --model faceapi" "$PAL" gradcam-means --model faceapi --data "$T/syn" --out "$T/gm.png"
png_size "gradcam-means --model faceapi: a PNG" "$T/gm.png" 400 200
grep -q "Grad-CAM at dense2 (14x14" "$T/out" && grep -q "^average " "$T/out" \
  && ok "gradcam-means --model faceapi: the overlap table, at the layer it suggests" \
  || { nok "gradcam-means --model faceapi: the overlap table, at the layer it suggests"; sed 's/^/# /' "$T/out" "$T/err"; }

echo "1..$n"
[ "$fails" -eq 0 ]
