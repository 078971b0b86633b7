#!/usr/bin/env bash
# vidbench model fetch against the local test mirror (tests/tools/mirror_server.py on
# 127.0.0.1) serving the golden k400 checkpoint laid out like the kinetics-i3d repository:
# it installs; a dropped connection resumes; a corrupt byte, a 404, a truncated body and a
# wrong index pin each leave nothing installed with a clear error; no network explains the
# manual route; MoViNet installs from a local copy.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
ROOT=${VB_ROOT:-$(pwd)}
T=${VB_TEST_TMP:?}/model_fetch
mkdir -p "$T/repo/data/checkpoints/tiny"
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }

cp "$S/golden/i3d-tiny-k400/model.ckpt.index" "$S/golden/i3d-tiny-k400/model.ckpt.data-00000-of-00001" \
   "$T/repo/data/checkpoints/tiny/"
cp "$S/data/labelmaps/kinetics400_label_map.txt" "$T/repo/data/label_map.txt"
INDEX_SHA=$(sha256sum "$T/repo/data/checkpoints/tiny/model.ckpt.index" | cut -d' ' -f1)
LABEL_SHA=$(sha256sum "$T/repo/data/label_map.txt" | cut -d' ' -f1)
WRONG_SHA=$LABEL_SHA
DATA=/data/checkpoints/tiny/model.ckpt.data-00000-of-00001

model() { # name index_sha data_path
    printf '{"name": "%s", "classes": 400, "files": [
      {"role": "index", "path": "data/checkpoints/tiny/model.ckpt.index", "sha256": "%s"},
      {"role": "data", "path": "%s"},
      {"role": "labels", "path": "data/label_map.txt", "sha256": "%s"}]}' "$1" "$2" "${3#/}" "$LABEL_SHA"
}
cat >"$T/manifest.json" <<JSON
{"models": [
  $(model tiny "$INDEX_SHA" "$DATA"),
  $(model tiny-missing "$INDEX_SHA" data/checkpoints/nowhere/model.ckpt.data-00000-of-00001),
  $(model tiny-wrong-pin "$WRONG_SHA" "$DATA")
]}
JSON
export VIDBENCH_MODEL_MANIFEST=$T/manifest.json
export VIDBENCH_FETCH_BACKOFF_MS=20
unset VIDBENCH_MODEL_BASE_URL

echo '[]' >"$T/faults.json"
/usr/bin/python3 "$ROOT/tests/tools/mirror_server.py" --root "$T/repo" --port-file "$T/port" \
    --log "$T/requests.log" --faults "$T/faults.json" --max-seconds 120 &
SERVER=$!
trap 'kill $SERVER 2>/dev/null; wait $SERVER 2>/dev/null' EXIT
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
BASE=http://127.0.0.1:$(cat "$T/port")

installed() { [ -f "$VIDBENCH_HOME/models/$1/weights.safetensors" ]; }
leftovers() { ls -A "$VIDBENCH_HOME/models" 2>/dev/null | wc -l; }

# 1. A clean install, then `model list` sees it.
export VIDBENCH_HOME=$T/home-ok
out=$("$CLI" model fetch tiny --base-url "$BASE" 2>&1)
rc=$?
if [ $rc -eq 0 ] && installed tiny && "$CLI" model list | grep -Eq '^tiny .* yes$'; then
    pass "fetch from the mirror installs the golden checkpoint"
else
    fail "clean fetch: exit $rc: $out"
fi
out=$("$CLI" model fetch tiny --base-url "$BASE" 2>&1)
printf '%s\n' "$out" | grep -q "already installed" && pass "a second fetch is a no-op" || fail "second fetch: $out"

# 2. The connection drops mid-file once: the next try resumes with a Range request.
export VIDBENCH_HOME=$T/home-drop
echo "[{\"path\": \"$DATA\", \"drop_after\": 400000, \"times\": 1}]" >"$T/faults.json"
out=$(VIDBENCH_MODEL_BASE_URL=$BASE "$CLI" model fetch tiny 2>&1)
rc=$?
if [ $rc -eq 0 ] && installed tiny && grep -q "\"range\": \"bytes=400000-\"" "$T/requests.log"; then
    pass "a connection dropped at byte 400000 resumes from there (VIDBENCH_MODEL_BASE_URL)"
else
    fail "dropped connection: exit $rc: $out"
fi

# 2b. Interrupted run (the only try drops): nothing installed, the partial file stays, and the
#     next run resumes it.
export VIDBENCH_HOME=$T/home-interrupted
echo "[{\"path\": \"$DATA\", \"drop_after\": 250000, \"times\": 1}]" >"$T/faults.json"
out=$(VIDBENCH_FETCH_ATTEMPTS=1 "$CLI" model fetch tiny --base-url "$BASE" 2>&1)
rc=$?
part=$VIDBENCH_HOME/downloads/tiny/model.ckpt.data-00000-of-00001.part
if [ $rc -eq 1 ] && ! installed tiny && [ "$(leftovers)" -eq 0 ] && [ "$(stat -c %s "$part" 2>/dev/null)" = 250000 ]; then
    pass "an interrupted fetch installs nothing and keeps 250000 bytes for resume"
else
    fail "interrupted fetch: exit $rc: $out"
fi
out=$("$CLI" model fetch tiny --base-url "$BASE" 2>&1)
rc=$?
if [ $rc -eq 0 ] && installed tiny && [ "$(grep -c '"range": "bytes=250000-"' "$T/requests.log")" -eq 1 ] &&
   [ ! -e "$VIDBENCH_HOME/downloads/tiny" ]; then
    pass "the next run resumes from byte 250000 and installs"
else
    fail "resume across runs: exit $rc: $out"
fi

# 3. One corrupt byte in the data shard: crc32c names the tensor, nothing installed.
export VIDBENCH_HOME=$T/home-corrupt
echo "[{\"path\": \"$DATA\", \"corrupt_offset\": 600000}]" >"$T/faults.json"
out=$("$CLI" model fetch tiny --base-url "$BASE" 2>&1)
rc=$?
if [ $rc -eq 1 ] && ! installed tiny && [ "$(leftovers)" -eq 0 ] &&
   printf '%s\n' "$out" | grep -q "tensor '.*' .*is corrupt: crc32c"; then
    pass "a corrupt byte is caught by crc32c naming the tensor; nothing installed"
else
    fail "corrupt byte: exit $rc: $out"
fi

# 4. 404 for the data shard.
export VIDBENCH_HOME=$T/home-404
echo '[]' >"$T/faults.json"
out=$("$CLI" model fetch tiny-missing --base-url "$BASE" 2>&1)
rc=$?
if [ $rc -eq 1 ] && ! installed tiny-missing && [ "$(leftovers)" -eq 0 ] && printf '%s\n' "$out" | grep -q "HTTP 404"; then
    pass "a 404 is a clear error; nothing installed"
else
    fail "404: exit $rc: $out"
fi

# 5. A truncated body (Content-Length agrees with the short body).
export VIDBENCH_HOME=$T/home-truncated
echo "[{\"path\": \"$DATA\", \"truncate\": 4096}]" >"$T/faults.json"
out=$(VIDBENCH_FETCH_ATTEMPTS=2 "$CLI" model fetch tiny --base-url "$BASE" 2>&1)
rc=$?
if [ $rc -eq 1 ] && ! installed tiny && [ "$(leftovers)" -eq 0 ] && printf '%s\n' "$out" | grep -q "got 4096 bytes, expected 1013176"; then
    pass "a truncated body is refused by the size the pinned index implies; nothing installed"
else
    fail "truncated body: exit $rc: $out"
fi

# 6. An index that does not match the pinned hash.
export VIDBENCH_HOME=$T/home-wrongpin
echo '[]' >"$T/faults.json"
out=$("$CLI" model fetch tiny-wrong-pin --base-url "$BASE" 2>&1)
rc=$?
if [ $rc -eq 1 ] && ! installed tiny-wrong-pin && [ "$(leftovers)" -eq 0 ] &&
   printf '%s\n' "$out" | grep -q "model.ckpt.index: sha256 $INDEX_SHA does not match the expected $WRONG_SHA"; then
    pass "an index with the wrong sha256 is refused; nothing installed"
else
    fail "wrong pin: exit $rc: $out"
fi

# 7. A manifest cannot override a built-in model's pins.
printf '{"models": [%s]}' "$(model i3d-kinetics-400 "$INDEX_SHA" "$DATA")" >"$T/override.json"
out=$(VIDBENCH_MODEL_MANIFEST=$T/override.json "$CLI" model fetch i3d-kinetics-400 --base-url "$BASE" 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "built in"; then
    pass "a manifest redefining i3d-kinetics-400 is refused"
else
    fail "override: exit $rc: $out"
fi

# 8. No network (nothing listens): the message says how to install by hand.
export VIDBENCH_HOME=$T/home-offline
out=$(VIDBENCH_FETCH_ATTEMPTS=1 "$CLI" model fetch i3d-kinetics-400 --base-url http://127.0.0.1:9 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "vidbench model fetch i3d-kinetics-400 --from DIR" &&
   printf '%s\n' "$out" | grep -q "http://127.0.0.1:9/data/checkpoints/rgb_imagenet/model.ckpt.data-00000-of-00001"; then
    pass "without network: a message naming the URLs and --from DIR"
else
    fail "offline: exit $rc: $out"
fi

# 9. MoViNet from a local copy, verified by its pinned sha256.
export VIDBENCH_HOME=$T/home-movinet
out=$("$CLI" model fetch movinet-a0-stream-k600 --from "$S/models/movinet-a0-stream-int8-k600" 2>&1)
rc=$?
if [ $rc -eq 0 ] && cmp -s "$VIDBENCH_HOME/models/movinet-a0-stream-k600/model.tflite" \
       "$S/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite" &&
   "$CLI" model info movinet-a0-stream-k600 | grep -q "installed:     yes"; then
    pass "movinet-a0-stream-k600 installs from --from DIR"
else
    fail "movinet --from: exit $rc: $out"
fi
mkdir -p "$T/fake-movinet"
head -c 1000 "$S/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite" >"$T/fake-movinet/movinet_a0_stream_int8.tflite"
cp "$S/models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt" "$T/fake-movinet/"
export VIDBENCH_HOME=$T/home-movinet-bad
out=$("$CLI" model fetch movinet-a0-stream-k600 --from "$T/fake-movinet" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ "$(leftovers)" -eq 0 ] && printf '%s\n' "$out" | grep -q "1000 bytes, expected 3276048"; then
    pass "a wrong local .tflite is refused; nothing installed"
else
    fail "bad movinet copy: exit $rc: $out"
fi

# 10. A mirror that streams the hash-pinned index without end (no Content-Length): the fetch
#     stops at the index's size cap (64 MiB) instead of filling the disk, keeps no .part, and
#     does not retry. The server's own bound (200 MiB) keeps this test finite on old code.
export VIDBENCH_HOME=$T/home-endless
echo '[{"path": "/data/checkpoints/tiny/model.ckpt.index", "endless": "close", "endless_max_bytes": 209715200}]' \
    >"$T/faults.json"
: >"$T/requests.log"
out=$(timeout 120 "$CLI" model fetch tiny --base-url "$BASE" 2>&1)
rc=$?
sent=$(grep '"/data/checkpoints/tiny/model.ckpt.index"' "$T/requests.log" | sed -n 's/.*"sent": \([0-9]*\).*/\1/p' | head -1)
parts=$(find "$VIDBENCH_HOME" -name '*.part' 2>/dev/null | wc -l)
if [ $rc -eq 1 ] && ! installed tiny && [ "$parts" -eq 0 ] && [ "$(leftovers)" -eq 0 ] &&
   printf '%s\n' "$out" | grep -q "model.ckpt.index: the server sent more than the 67108864 bytes expected" &&
   [ -n "$sent" ] && [ "$sent" -lt 104857600 ] && [ "$(grep -c 'model.ckpt.index' "$T/requests.log")" -eq 1 ]; then
    pass "an endless index stops at the 64 MiB cap (server sent $sent bytes); no .part, one request"
else
    fail "endless index: exit $rc, server sent ${sent:-?} bytes, $parts .part files: $out"
fi
echo '[]' >"$T/faults.json"
