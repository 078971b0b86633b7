#!/usr/bin/env bash
# vidbench model verify, offline, with the golden i3d-tiny-k400 case standing in for DeepMind's
# published check: its input as a [-1,1] float32 .npy (like v_CricketShot_g04_c01_rgb.npy), its
# expected Logits printed as evaluate_sample.py prints them (like out/imagenet_rgb.txt), the
# checkpoint converted by `model convert` / installed by `model fetch`, then run by the engine.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
T=${VB_TEST_TMP:?}/model_verify
mkdir -p "$T/repo/data/checkpoints/tiny" "$T/repo/out"
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }
export VIDBENCH_HOME=$T/home
unset VIDBENCH_MODEL_BASE_URL

/usr/bin/python3 - "$S" "$T" <<'PY'
import json, struct, sys
import numpy as np
shared, tmp = sys.argv[1], sys.argv[2]
def load(path):
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, e in header.items():
        if name == "__metadata__":
            continue
        a, b = e["data_offsets"]
        dt = {"U8": np.uint8, "F32": np.float32}[e["dtype"]]
        out[name] = np.frombuffer(data[a:b], dt).reshape(e["shape"])
    return out
video = load(shared + "/golden/i3d-tiny-k400/input.safetensors")["video"]
# golden/README.md: the network input is u8 / 127.5 - 1.
np.save(tmp + "/repo/data/sample_rgb.npy", (video.astype(np.float32) / 127.5 - 1).astype(np.float32))
logits = load(shared + "/golden/i3d-tiny-k400/expected.safetensors")["Logits"][0].astype(np.float32)
labels = [l.strip() for l in open(shared + "/data/labelmaps/kinetics400_label_map.txt")]
def listing(path, values):
    p = np.exp(values - values.max()); p /= p.sum()
    with open(path, "w") as f:
        f.write("Norm of logits: %f\n\nTop classes and probabilities\n" % np.linalg.norm(values))
        for i in np.argsort(values)[::-1][:20]:
            f.write("%s %s %s\n" % (repr(p[i]), repr(values[i]), labels[i]))
listing(tmp + "/repo/out/reference.txt", logits)
wrong = logits.copy(); top = np.argsort(logits)[::-1]
wrong[top[2]] += 0.01 * abs(logits).max()      # one listed logit 1% off
listing(tmp + "/wrong.txt", wrong)
PY
cp "$S/golden/i3d-tiny-k400/model.ckpt.index" "$S/golden/i3d-tiny-k400/model.ckpt.data-00000-of-00001" "$T/repo/data/checkpoints/tiny/"
cp "$S/data/labelmaps/kinetics400_label_map.txt" "$T/repo/data/label_map.txt"
sha() { sha256sum "$1" | cut -d' ' -f1; }
cat >"$T/manifest.json" <<JSON
{"models": [{"name": "tiny", "classes": 400, "files": [
  {"role": "index", "path": "data/checkpoints/tiny/model.ckpt.index", "sha256": "$(sha "$T/repo/data/checkpoints/tiny/model.ckpt.index")"},
  {"role": "data", "path": "data/checkpoints/tiny/model.ckpt.data-00000-of-00001"},
  {"role": "labels", "path": "data/label_map.txt", "sha256": "$(sha "$T/repo/data/label_map.txt")"},
  {"role": "sample", "path": "data/sample_rgb.npy"},
  {"role": "reference", "path": "out/reference.txt", "sha256": "$(sha "$T/repo/out/reference.txt")"}]}]}
JSON
export VIDBENCH_MODEL_MANIFEST=$T/manifest.json

# Convert, then verify with explicit files: the engine reproduces the golden logits.
"$CLI" -q model convert "$S/golden/i3d-tiny-k400/model.ckpt" -o "$T/tiny.safetensors" \
    --labels "$S/data/labelmaps/kinetics400_label_map.txt" >/dev/null
out=$("$CLI" model verify --weights "$T/tiny.safetensors" --labels "$T/repo/data/label_map.txt" \
      --sample "$T/repo/data/sample_rgb.npy" --reference "$T/repo/out/reference.txt" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^PASSED$"; then
    pass "converted golden checkpoint reproduces the golden logits ($(printf '%s\n' "$out" | grep 'max relative'))"
else
    fail "verify with explicit files: exit $rc: $out"
fi

# The same through the registry: fetch from a local copy, verify by name (sample and
# reference fetched into \$VIDBENCH_HOME/samples/tiny).
"$CLI" -q model fetch tiny --from "$T/repo" >/dev/null 2>&1
out=$("$CLI" model verify tiny --from "$T/repo" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "^PASSED$" && [ -f "$VIDBENCH_HOME/samples/tiny/reference.txt" ]; then
    pass "model verify NAME fetches sample and reference and passes"
else
    fail "verify by name: exit $rc: $out"
fi

# A listing with one logit 1% off fails, naming the class.
out=$("$CLI" model verify tiny --reference "$T/wrong.txt" 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "^FAILED$" && printf '%s\n' "$out" | grep -q "logit of '.*' differs"; then
    pass "a reference 1% off fails and names the class"
else
    fail "wrong reference: exit $rc: $out"
fi

out=$("$CLI" model verify i3d-kinetics-600 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "not installed"; then
    pass "verify of a model not installed says how to install it"
else
    fail "verify not installed: exit $rc: $out"
fi

# Hostile inputs (issue 13): a NaN in the sample once passed with finite logits; a FIFO as the
# reference or the sample blocked forever. Each must fail at once, naming the file and cause.
/usr/bin/python3 - "$T" <<'PY'
import sys
import numpy as np
t = sys.argv[1]
a = np.load(t + "/repo/data/sample_rgb.npy")
a[0, 3, 100, 100, 1] = np.nan
np.save(t + "/nan_sample.npy", a)
PY
out=$("$CLI" model verify --weights "$T/tiny.safetensors" --labels "$T/repo/data/label_map.txt" \
      --sample "$T/nan_sample.npy" --reference "$T/repo/out/reference.txt" 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "nan_sample.npy: element [0-9]* is nan"; then
    pass "a NaN in the sample is refused, naming the file and the element"
else
    fail "NaN sample: exit $rc: $out"
fi
rm -f "$T/fifo" && mkfifo "$T/fifo"
for role in reference sample; do
    if [ $role = reference ]; then args=(--sample "$T/repo/data/sample_rgb.npy" --reference "$T/fifo")
    else args=(--sample "$T/fifo" --reference "$T/repo/out/reference.txt"); fi
    out=$(timeout 20 "$CLI" model verify --weights "$T/tiny.safetensors" --labels "$T/repo/data/label_map.txt" \
          "${args[@]}" 2>&1)
    rc=$?
    if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "fifo: is a FIFO; only regular files are read"; then
        pass "--$role FIFO is refused at once"
    else
        fail "--$role FIFO: exit $rc (124: it blocked): $out"
    fi
done
