#!/usr/bin/env bash
# vidbench model inspect / convert / list / info: listings of the five real DeepMind indexes
# (counts and shard sizes from issue 4), the golden conversion, and exit codes for bad input.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
T=${VB_TEST_TMP:?}/model_inspect
mkdir -p "$T"
export VIDBENCH_HOME=$T/home
unset VIDBENCH_MODEL_MANIFEST VIDBENCH_MODEL_BASE_URL
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }

for spec in rgb_imagenet:230:50818176 rgb_scratch:230:50818176 flow_imagenet:230:50730368 \
            flow_scratch:230:50730368 rgb_scratch_kin600:346:103218112; do
    IFS=: read -r name count bytes <<<"$spec"
    out=$("$CLI" model inspect "$S/data/i3d/checkpoints/$name/model.ckpt" 2>&1)
    rc=$?
    summary="$S/data/i3d/checkpoints/$name/model.ckpt: $count tensors, 1 shard(s); shard 0: $bytes bytes; entries tile the index's shard ranges without gaps or overlaps (data files absent, not checked)"
    rows=$(printf '%s\n' "$out" | grep -c ' DT_FLOAT ')
    if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -qxF "$summary" && [ "$rows" -eq "$count" ]; then
        pass "inspect $name: $count tensors, $bytes-byte shard"
    else
        fail "inspect $name (exit $rc, $rows rows): $(printf '%s\n' "$out" | tail -n 1)"
    fi
done

out=$("$CLI" model inspect "$S/data/i3d/checkpoints/rgb_imagenet/model.ckpt.index")
if printf '%s\n' "$out" | grep -E '^RGB/inception_i3d/Conv3d_1a_7x7/conv_3d/w +DT_FLOAT +7x7x7x3x64 ' >/dev/null; then
    pass "inspect shows Conv3d_1a_7x7 as 7x7x7x3x64 (PREFIX.index accepted too)"
else
    fail "Conv3d_1a_7x7 shape not listed as 7x7x7x3x64"
fi
out=$("$CLI" model inspect "$S/data/i3d/checkpoints/rgb_scratch_kin600/model.ckpt")
if printf '%s\n' "$out" | grep -E '^Logits/Conv3d_0c_1x1/conv_3d/w +DT_FLOAT +1x1x1x1024x600 ' >/dev/null; then
    pass "inspect shows kin600 logits as 1x1x1x1024x600"
else
    fail "kin600 logits shape not listed as 1x1x1x1024x600"
fi

out=$("$CLI" model inspect "$S/data/tf-checkpoints/aind-intro/train_model.ckpt" --verify 2>&1)
if [ $? -eq 0 ] && printf '%s\n' "$out" | grep -q "crc32c verified for every tensor"; then
    pass "inspect --verify checks crc32c of train_model.ckpt"
else
    fail "inspect --verify on train_model.ckpt: $out"
fi

cp "$S/data/tf-checkpoints/aind-intro/model.ckpt.index" "$T/flip.ckpt.index"
cp "$S/data/tf-checkpoints/aind-intro/model.ckpt.data-00000-of-00001" "$T/flip.ckpt.data-00000-of-00001"
chmod u+w "$T"/flip.ckpt.*
printf '\x42' | dd of="$T/flip.ckpt.data-00000-of-00001" bs=1 seek=4 conv=notrunc status=none
out=$("$CLI" model inspect "$T/flip.ckpt" --verify 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "tensor 'bias_0'.*crc32c"; then
    pass "a flipped data byte fails --verify naming bias_0"
else
    fail "flipped byte: exit $rc: $out"
fi

head -c 100 "$S/data/i3d/checkpoints/rgb_imagenet/model.ckpt.index" >"$T/cut.ckpt.index"
out=$("$CLI" model inspect "$T/cut.ckpt" 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -q "cut.ckpt.index"; then
    pass "a truncated index is exit 1 naming the file"
else
    fail "truncated index: exit $rc: $out"
fi

out=$("$CLI" model convert "$S/golden/i3d-tiny-k600/model.ckpt" -o "$T/k600.safetensors" \
      --labels "$S/data/labelmaps/kinetics600_label_map.txt" 2>&1)
if [ $? -eq 0 ] && printf '%s\n' "$out" | grep -q "230 tensors written, 116 dropped.*600 classes"; then
    pass "convert golden k600: 230 tensors kept, 116 optimizer slots dropped"
else
    fail "convert golden k600: $out"
fi
out=$("$CLI" model convert "$T/missing.ckpt" -o "$T/none.safetensors" 2>&1)
rc=$?
if [ $rc -eq 1 ] && [ ! -e "$T/none.safetensors" ] && printf '%s\n' "$out" | grep -q "missing.ckpt.index"; then
    pass "convert of a missing checkpoint: exit 1, nothing written"
else
    fail "convert missing: exit $rc: $out"
fi

"$CLI" model convert "$S/golden/i3d-tiny-k400/model.ckpt" >/dev/null 2>&1
[ $? -eq 2 ] && pass "convert without -o is a usage error (exit 2)" || fail "convert without -o: not exit 2"
"$CLI" model frobnicate >/dev/null 2>&1
[ $? -eq 2 ] && pass "unknown subcommand: exit 2" || fail "unknown subcommand: not exit 2"
"$CLI" model --help | grep -q "model fetch NAME" && pass "model --help lists fetch" || fail "model --help"

out=$("$CLI" model list)
if printf '%s\n' "$out" | grep -Eq '^i3d-kinetics-400 +i3d +400 .* no$' &&
   printf '%s\n' "$out" | grep -Eq '^i3d-kinetics-600 +i3d +600 ' &&
   printf '%s\n' "$out" | grep -Eq '^movinet-a0-stream-k600 +movinet-a0-stream +600 '; then
    pass "model list shows the three built-in models, not installed"
else
    fail "model list: $out"
fi
out=$("$CLI" model info i3d-kinetics-600)
if printf '%s\n' "$out" | grep -q "https://github.com/deepmind/kinetics-i3d/raw/master/data/checkpoints/rgb_scratch_kin600/model.ckpt.index" &&
   printf '%s\n' "$out" | grep -q "366815af85b76e46222db13761f087584b3dc9c56abf67b822949846302e432a"; then
    pass "model info shows source URL and pinned index sha256"
else
    fail "model info: $out"
fi
"$CLI" model info no-such-model >/dev/null 2>&1
[ $? -eq 1 ] && pass "info on an unknown model: exit 1" || fail "info unknown: not exit 1"

out=$("$CLI" model inspect "$S/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -q "TFLite"; then
    pass "inspect FILE.tflite goes to the TFLite lister"
else
    fail "inspect .tflite: exit $rc: $(printf '%s\n' "$out" | head -n 3)"
fi

# An index whose size claims exceed its shard (issue 13): 4 GiB and 16 GiB float tensors over
# an 8-byte data file. Nothing may be allocated from the claim, and inspect must not say the
# entries tile the shards: each command fails naming the index, the claim and the real size.
for gib in 4 16; do
    bytes=$((gib << 30))
    /usr/bin/python3 "${VB_ROOT:?}/tests/tools/tfckpt_index.py" "$T/huge$gib.ckpt.index" "a:1:$((bytes / 4)):0:$bytes"
    printf '\0\0\200\77\0\0\0\100' >"$T/huge$gib.ckpt.data-00000-of-00001"
    for cmd in "inspect" "inspect --verify" "convert"; do
        if [ "$cmd" = convert ]; then
            out=$("$CLI" model convert "$T/huge$gib.ckpt" -o "$T/huge$gib.safetensors" 2>&1)
        else
            out=$("$CLI" model inspect "$T/huge$gib.ckpt" ${cmd#inspect} 2>&1)
        fi
        rc=$?
        if [ $rc -eq 1 ] && printf '%s\n' "$out" |
               grep -qF "huge$gib.ckpt.index: the index places $bytes bytes in shard 0, but $T/huge$gib.ckpt.data-00000-of-00001 holds 8" &&
               ! printf '%s\n' "$out" | grep -q "tile the shards" && [ ! -e "$T/huge$gib.safetensors" ]; then
            pass "model $cmd: a $gib GiB claim on an 8-byte shard is refused before allocating"
        else
            fail "model $cmd with a $gib GiB claim: exit $rc: $(printf '%s\n' "$out" | tail -n 2)"
        fi
    done
done
