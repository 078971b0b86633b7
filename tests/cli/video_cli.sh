#!/usr/bin/env bash
# CLI behaviour of the video verbs: probe, frames, gif -- exit codes (0 ok, 1 failure,
# 2 usage), output formats, and that failures leave nothing half-written.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
T=${VB_TEST_TMP:?}/video_cli
mkdir -p "$T"
PY=/usr/bin/python3
CLIP=$S/data/videos/kinetics400/abseiling_k400.mp4

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; }
expect_rc() { # name expected actual
    if [ "$2" -eq "$3" ]; then pass "$1 (exit $3)"; else fail "$1: exit $3, expected $2"; fi
}

# --- probe ---
"$CLI" probe --help >"$T/out" 2>&1; expect_rc "probe --help" 0 $?
"$CLI" probe >"$T/out" 2>&1; expect_rc "probe without files is a usage error" 2 $?
"$CLI" probe "$CLIP" >"$T/out" 2>"$T/err"; expect_rc "probe a good clip" 0 $?
if grep -q "h264" "$T/out" && grep -q "454" "$T/out" && grep -q "250" "$T/out"; then pass "probe table shows codec, width, frames"
else fail "probe table: $(cat "$T/out")"; fi
"$CLI" probe "$CLIP" /no/such/file.mp4 >"$T/out" 2>"$T/err"; expect_rc "probe with one unreadable file" 1 $?
if grep -q "/no/such/file.mp4.*No such file" "$T/out"; then pass "probe error column names the file and cause"
else fail "probe error column: $(cat "$T/out")"; fi
"$CLI" probe --format json --count "$CLIP" "$S/data/robustness/mp4parse/chunk_out_of_range.mp4" >"$T/out.json" 2>/dev/null
rc=$?
expect_rc "probe --format json with a broken file" 1 $rc
if $PY -c "
import json,sys
d=json.load(open('$T/out.json'))
assert d[0]['frame_count']==250 and d[0]['frame_count_exact'] is True and d[0]['width']==454, d[0]
assert d[1]['error'] and 'chunk_out_of_range' in d[1]['error'], d[1]
"; then pass "probe json parses; counted frames and error entry"; else fail "probe json: $(cat "$T/out.json")"; fi
"$CLI" probe --format csv "$CLIP" "$S/data/robustness/torchcodec/av1_video.mkv" >"$T/out.csv" 2>/dev/null
expect_rc "probe --format csv" 0 $?
if $PY -c "
import csv
rows=list(csv.DictReader(open('$T/out.csv')))
assert len(rows)==2 and rows[0]['codec']=='h264' and rows[1]['codec']=='av1' and rows[1]['frame_count']=='', rows
"; then pass "probe csv has one row per file, unknown count empty"; else fail "probe csv: $(cat "$T/out.csv")"; fi
"$CLI" probe --format xml "$CLIP" >/dev/null 2>&1; expect_rc "probe --format xml is a usage error" 2 $?

# --- frames ---
"$CLI" frames --help >/dev/null 2>&1; expect_rc "frames --help" 0 $?
"$CLI" frames "$CLIP" >/dev/null 2>&1; expect_rc "frames without -o" 2 $?
"$CLI" frames "$CLIP" -o "$T/x.npy" --resize diagonal >/dev/null 2>&1; expect_rc "frames --resize diagonal" 2 $?
"$CLI" frames "$CLIP" -o "$T/x.npy" --size 0 >/dev/null 2>&1; expect_rc "frames --size 0" 2 $?
"$CLI" -q frames "$CLIP" -o "$T/clip.npy" --num-frames 16 --size 112 --dtype float32; expect_rc "frames float32" 0 $?
if $PY -c "
import numpy as np
a=np.load('$T/clip.npy'); assert a.shape==(16,112,112,3) and a.dtype==np.float32 and 0<=a.min() and a.max()<=1, (a.shape,a.dtype)
"; then pass "frames writes a numpy-readable float32 [16,112,112,3]"; else fail "frames npy unreadable or wrong shape"; fi
for mode in pad shortside stretch; do
    "$CLI" -q frames "$CLIP" -o "$T/$mode.npy" --num-frames 4 --resize $mode >/dev/null 2>&1
    if [ $? -eq 0 ] && $PY -c "import numpy as np; a=np.load('$T/$mode.npy'); assert a.shape==(4,224,224,3) and a.dtype==np.uint8"; then
        pass "frames --resize $mode gives [4,224,224,3] uint8"; else fail "frames --resize $mode"; fi
done
# pad: the 454x256 clip sits on a black square: top rows are zero, the middle is not
if $PY -c "
import numpy as np
a=np.load('$T/pad.npy'); assert a[:, :20].max()==0 and a[:, 100:120].max()>0
"; then pass "pad mode puts black bars above and below a wide clip"; else fail "pad mode bars"; fi

echo sentinel >"$T/keep.npy"
"$CLI" frames /no/such/file.mp4 -o "$T/keep.npy" 2>"$T/err"; expect_rc "frames on a missing file" 1 $?
if grep -q "/no/such/file.mp4" "$T/err" && [ "$(cat "$T/keep.npy")" = sentinel ]; then
    pass "failed frames names the file and leaves the existing output untouched"
else fail "failed frames: $(cat "$T/err")"; fi
"$CLI" frames "$CLIP" -o "$T/short.npy" --min-frames 300 2>"$T/err"; expect_rc "frames --min-frames above the clip" 1 $?
if grep -q "250 frames, fewer than the required 300" "$T/err" && [ ! -e "$T/short.npy" ]; then
    pass "too-short clip is refused with the counts, no output"; else fail "min-frames: $(cat "$T/err")"; fi

# every robustness file: exit 0 with a loadable .npy, or exit 1 with a message and no file;
# never a crash, never a hang, never a leftover temporary
while IFS= read -r f; do
    name=${f#"$S"/}
    rm -f "$T/r.npy"
    timeout 120 "$CLI" -q frames "$f" -o "$T/r.npy" --size 64 2>"$T/err"
    rc=$?
    if [ $rc -eq 0 ] && $PY -c "import numpy as np; a=np.load('$T/r.npy'); assert a.ndim==4 and a.shape[0]>0"; then
        pass "frames $name: frames"
    elif [ $rc -eq 1 ] && [ ! -e "$T/r.npy" ] && grep -q "$(basename "$f")" "$T/err"; then
        pass "frames $name: clear error: $(head -c 160 "$T/err")"
    else
        fail "frames $name: exit $rc: $(head -c 300 "$T/err")"
    fi
done < <(find "$S/data/robustness" -type f ! -name '*.txt' ! -name '*.md' ! -name 'PROVENANCE*' | sort)
if ls "$T" | grep -q '\.tmp\.'; then fail "temporary files left behind: $(ls "$T")"; else pass "no temporary files left behind"; fi

# --- gif ---
"$CLI" -q gif "$CLIP" -o "$T/p.gif" --size 64 --fps 5; expect_rc "gif" 0 $?
if [ "$(head -c 6 "$T/p.gif")" = GIF89a ]; then pass "gif starts with GIF89a"; else fail "gif header"; fi
frames=$(ffprobe -v error -count_frames -select_streams v -show_entries stream=nb_read_frames -of csv=p=0 "$T/p.gif" 2>/dev/null)
if [ "$frames" = 50 ]; then pass "gif at 5 fps of a 10 s clip has 50 frames"; else fail "gif has '$frames' frames, expected 50"; fi
"$CLI" gif /no/such/file.mp4 -o "$T/q.gif" 2>/dev/null; expect_rc "gif on a missing file" 1 $?
[ ! -e "$T/q.gif" ] && pass "failed gif writes nothing" || fail "failed gif left a file"
"$CLI" gif "$CLIP" >/dev/null 2>&1; expect_rc "gif without -o" 2 $?
exit 0
