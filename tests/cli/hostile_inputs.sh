#!/usr/bin/env bash
# Hostile files given to the CLI (issue 13): FIFOs where files are expected must be refused at
# once (they used to block forever), a UTF-8 BOM must not break argument files or clip lists,
# control bytes from files must never reach the terminal raw. Each check runs under a timeout
# so that a hang is a failure, not a stuck suite.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
T=${VB_TEST_TMP:?}/hostile_inputs
rm -rf "$T" && mkdir -p "$T"
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
W=$S/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite
L=$S/models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt
CLIP=$S/data/videos/kinetics400/abseiling_k400.mp4
mkfifo "$T/fifo"

# expect NAME EXIT NEEDLE -- COMMAND...: the command ends within 20 s with exit EXIT and its
# output contains NEEDLE (a fixed string).
expect() {
    local name=$1 want=$2 needle=$3
    shift 4
    local out rc
    out=$(timeout 20 "$@" 2>&1)
    rc=$?
    if [ $rc -eq "$want" ] && printf '%s\n' "$out" | grep -qF -- "$needle"; then
        pass "$name"
    else
        fail "$name: exit $rc (124: it blocked), expected $want and '$needle': $(printf '%s' "$out" | head -c 400)"
    fi
}

# ---- FIFOs: refused without blocking, naming the file and what it is ----
expect "evaluate @FIFO" 2 "fifo: is a FIFO; only regular files are read" -- "$CLI" evaluate @"$T/fifo"
expect "evaluate --labels FIFO" 1 "fifo: is a FIFO" -- \
    "$CLI" evaluate --model_type movinet --weights "$W" --labels "$T/fifo" --clips "$T/none.csv" --results_dir "$T/r"
printf '%s,abseiling,\n' "$CLIP" >"$T/clips.csv"
expect "evaluate --clips FIFO" 1 "fifo: is a FIFO" -- \
    "$CLI" evaluate --model_type movinet --weights "$W" --labels "$L" --clips "$T/fifo" --results_dir "$T/r"
expect "report --results FIFO" 1 "fifo: is a FIFO" -- "$CLI" report --results "$T/fifo" -o "$T/report.html"
mkfifo "$T/fifo.tflite" "$T/fifo.safetensors" "$T/fifo.shard0of1.sqlite"
expect "classify --weights FIFO.safetensors" 1 "fifo.safetensors: is a FIFO" -- \
    "$CLI" classify --weights "$T/fifo.safetensors" --labels "$L" "$CLIP"
expect "classify --weights FIFO.tflite" 1 "fifo.tflite: is a FIFO" -- \
    "$CLI" classify --weights "$T/fifo.tflite" --labels "$L" "$CLIP"
expect "model inspect FIFO.tflite" 1 "fifo.tflite: is a FIFO" -- "$CLI" model inspect "$T/fifo.tflite"
expect "merge FIFO" 1 "fifo.shard0of1.sqlite: is a FIFO" -- "$CLI" merge --output "$T/merged" "$T/fifo.shard0of1.sqlite"

# ---- a UTF-8 BOM (Notepad) at the start of an argument file, a clip list, a label map ----
printf '\xef\xbb\xbf--num_frames 8\n' >"$T/bom_config.txt"
printf '\xef\xbb\xbf%s,abseiling,\n' "$CLIP" >"$T/bom_clips.csv"
{ printf '\xef\xbb\xbf'; cat "$L"; } >"$T/bom_labels.txt"
expect "BOM in @config, --clips and --labels is accepted" 0 "top-1 accuracy" -- \
    "$CLI" evaluate @"$T/bom_config.txt" --model_type movinet --weights "$W" --labels "$T/bom_labels.txt" \
    --clips "$T/bom_clips.csv" --num_videos all --threads 1 --results_dir "$T/bom"

# ---- control bytes: refused in label maps, escaped in every message ----
{ head -n 3 "$L"; printf 'evil\033]0;pwned\007\n'; tail -n +5 "$L"; } >"$T/escape_labels.txt"
expect "a label map with an escape sequence is refused, naming line and byte" 1 \
    "escape_labels.txt: line 4 has control byte 0x1b at column 5" -- \
    "$CLI" classify --weights "$W" --labels "$T/escape_labels.txt" "$CLIP"
/usr/bin/python3 - "$T" <<'PY'
import struct, sys
name = '"\u001b]0;pwned\u0007"'
entry = '{"dtype":"U8","shape":[1],"data_offsets":[0,1]}'
header = ('{%s:%s,%s:%s}' % (name, entry, name, entry)).encode()
with open(sys.argv[1] + "/evil.safetensors", "wb") as f:
    f.write(struct.pack("<Q", len(header)) + header + b"\0")
PY
out=$(timeout 20 "$CLI" classify --weights "$T/evil.safetensors" --labels "$L" "$CLIP" 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s' "$out" | grep -qF "tensor '\\x1b]0;pwned\\x07' appears twice" &&
   ! printf '%s' "$out" | grep -q $'\033'; then
    pass "a tensor name with an escape sequence is printed escaped (\\x1b), never raw"
else
    fail "escaped tensor name: exit $rc: $(printf '%s' "$out" | od -c | head -5)"
fi
# C1 controls (U+009B is a CSI on some terminals) and invalid UTF-8 are not control bytes to the
# label-map check, but the CLI prints them escaped: the clip's top class is "rock climbing".
sed 's/^rock climbing$/rock\xc2\x9b2J\xffclimbing/' "$L" >"$T/c1_labels.txt"
out=$(timeout 60 "$CLI" classify --weights "$W" --labels "$T/c1_labels.txt" "$CLIP" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s' "$out" | grep -qF 'rock\xc2\x9b2J\xffclimbing' &&
   ! printf '%s' "$out" | LC_ALL=C grep -q $'\xc2\x9b'; then
    pass "a label with a C1 control and invalid UTF-8 is printed escaped"
else
    fail "C1 label: exit $rc: $(printf '%s' "$out" | head -n 3 | od -c | head -5)"
fi
