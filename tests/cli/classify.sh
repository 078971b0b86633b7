#!/usr/bin/env bash
# vidbench classify: usage errors exit 2, bad inputs exit 1 naming the input, a real clip
# through the golden I3D prints top-k with probabilities, MoViNet's reference clip is carving ice.
set -u
CLI=${VB_CLI:?}
SHARED=${VB_SHARED:?}
TMP=${VB_TEST_TMP:-/tmp}
W=$SHARED/golden/i3d-tiny-k400/weights.safetensors
L=$SHARED/data/labelmaps/kinetics400_label_map.txt
CLIP=$SHARED/data/videos/kinetics400/abseiling_k400.mp4

check() { # name expected_rc actual_rc [pattern file]
    local name=$1 want=$2 got=$3
    if [ "$got" -ne "$want" ]; then echo "FAIL: $name (exit $got, expected $want)"; return; fi
    if [ $# -ge 5 ] && ! grep -q -- "$4" "$5"; then
        echo "FAIL: $name (output lacks '$4'):"; sed 's/^/    /' "$5"; return
    fi
    echo "PASS: $name"
}

"$CLI" classify --help >"$TMP/out" 2>&1; check "--help exits 0 and shows usage" 0 $? "--num-frames" "$TMP/out"
"$CLI" classify --weights "$W" >"$TMP/out" 2>&1; check "no files is a usage error" 2 $? "no video files" "$TMP/out"
"$CLI" classify --top 0 --weights "$W" "$CLIP" >"$TMP/out" 2>&1; check "--top 0 is a usage error" 2 $? "--top" "$TMP/out"
"$CLI" classify --format xml --weights "$W" "$CLIP" >"$TMP/out" 2>&1; check "--format xml is a usage error" 2 $? "text or json" "$TMP/out"
"$CLI" classify --backend gpu --weights "$W" "$CLIP" >"$TMP/out" 2>&1; check "unknown backend is a usage error" 2 $? "onednn or reference" "$TMP/out"
"$CLI" classify --model a --weights "$W" "$CLIP" >"$TMP/out" 2>&1; check "--model with --weights is a usage error" 2 $? "exclude" "$TMP/out"
"$CLI" classify --weights "$TMP/none.safetensors" "$CLIP" >"$TMP/out" 2>&1; check "missing weights file exits 1 naming it" 1 $? "none.safetensors" "$TMP/out"
"$CLI" classify --weights "$W" --labels "$SHARED/data/labelmaps/kinetics600_label_map.txt" "$CLIP" >"$TMP/out" 2>&1
check "label map of the wrong size exits 1" 1 $? "label map has 600 classes" "$TMP/out"
"$CLI" classify --weights "$W" --labels "$L" "$TMP/no-such-clip.mp4" >"$TMP/out" 2>&1; check "missing clip exits 1 naming it" 1 $? "no-such-clip.mp4" "$TMP/out"
"$CLI" classify --format json --weights "$W" "$TMP/no-such-clip.mp4" >"$TMP/out" 2>/dev/null
check "json output carries per-file errors" 1 $? '"error"' "$TMP/out"

# A real clip through the golden I3D.
"$CLI" classify --weights "$W" --labels "$L" --num-frames 16 --top 3 "$CLIP" >"$TMP/out" 2>&1
check "text output: file then 3 lines of probability and label" 0 $? "abseiling_k400.mp4" "$TMP/out"
n=$(grep -c -E '^  [01]\.[0-9]{4}  [a-z]' "$TMP/out")
[ "$n" -eq 3 ] && echo "PASS: three top-k lines" || echo "FAIL: expected 3 top-k lines, got $n"
"$CLI" classify --format json --weights "$W" --labels "$L" --num-frames 16 --top 2 "$CLIP" >"$TMP/json" 2>&1
check "json output" 0 $? '"probability"' "$TMP/json"
/usr/bin/python3 -c "
import json,sys
r=json.load(open('$TMP/json'))
t=r[0]['top']
assert len(t)==2 and t[0]['probability']>=t[1]['probability'] and isinstance(t[0]['label'],str), t
" && echo "PASS: json parses with 2 ordered entries" || echo "FAIL: json structure"

# MoViNet through the same verb: the reference clip of the model's PROVENANCE is "carving ice".
M=$SHARED/models/movinet-a0-stream-int8-k600
"$CLI" classify --weights "$M/movinet_a0_stream_int8.tflite" --labels "$M/kinetics600_label_map.txt" --top 1 \
    "$SHARED/data/videos/reference/carving_ice_rpi.mp4" >"$TMP/out" 2>&1
check "MoViNet top-1 of the reference clip is carving ice" 0 $? "^  0\.[0-9]*  carving ice$" "$TMP/out"
