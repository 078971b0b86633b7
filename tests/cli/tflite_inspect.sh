#!/usr/bin/env bash
# vidbench model inspect FILE.tflite on the shared MoViNet model (inputs, outputs, operator
# counts from its PROVENANCE.txt) and on files that are not TFLite models; bench movinet usage.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
T=${VB_TEST_TMP:?}/tflite_inspect
mkdir -p "$T"
M=$S/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; }

out=$("$CLI" model inspect "$M" 2>&1)
rc=$?
if [ $rc -eq 0 ] && printf '%s\n' "$out" | grep -qF "1 subgraph, 452 tensors, 227 operators"; then
    pass "inspect: 227 operators, 452 tensors"
else
    fail "inspect summary (exit $rc): $(printf '%s\n' "$out" | head -n 1)"
fi
if printf '%s\n' "$out" | grep -qE '^inputs \(44\):' && printf '%s\n' "$out" | grep -qE '^outputs \(44\):'; then
    pass "inspect lists 44 inputs and 44 outputs"
else
    fail "input/output counts missing"
fi
if printf '%s\n' "$out" | grep -qE 'FLOAT32 +\[1,1,172,172,3\] +image ' &&
   printf '%s\n' "$out" | grep -qE 'FLOAT32 +\[1,600\] +logits '; then
    pass "inspect names image [1,1,172,172,3] and logits [1,600] from the signature"
else
    fail "image/logits lines missing"
fi
ok=1
for spec in RESHAPE:74 CONV_2D:38 DEPTHWISE_CONV_2D:26 ADD:17 MUL:16 QUANTIZE:14 DEQUANTIZE:13 \
            CONCATENATION:11 STRIDED_SLICE:11 AVERAGE_POOL_2D:4 SUM:1 CAST:1 DIV:1; do
    op=${spec%%:*}; n=${spec##*:}
    printf '%s\n' "$out" | grep -qE "^  $op +$n  " || { ok=0; fail "operator count $op $n not listed"; }
done
[ $ok -eq 1 ] && pass "operator counts match PROVENANCE.txt"
if printf '%s\n' "$out" | grep -qE '^  CONV_2D +38  INT8->INT8$' && printf '%s\n' "$out" | grep -qE '^  ADD +17  INT8->INT8, INT32->INT32$'; then
    pass "operator types listed (CONV_2D INT8, ADD INT8 and INT32)"
else
    fail "operator types missing"
fi
ops=$("$CLI" model inspect "$M" --ops 2>&1 | sed -n '/^operator list:/,$p' | grep -cE '^  [0-9]+ +[A-Z_0-9]+ ')
if [ "$ops" -eq 227 ]; then pass "--ops lists 227 operators"; else fail "--ops listed $ops operators"; fi

printf 'not a model at all, just text\n' >"$T/bad.tflite"
out=$("$CLI" model inspect "$T/bad.tflite" 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -qF "bad.tflite: not a TFLite model"; then
    pass "a text file is refused with exit 1 and names the file"
else
    fail "bad file (exit $rc): $out"
fi
head -c 100000 "$M" >"$T/cut.tflite"
out=$("$CLI" model inspect "$T/cut.tflite" 2>&1)
rc=$?
if [ $rc -eq 1 ] && printf '%s\n' "$out" | grep -qF "cut.tflite: malformed TFLite file"; then
    pass "a truncated model is refused with exit 1"
else
    fail "truncated file (exit $rc): $out"
fi
"$CLI" bench movinet --help >/dev/null 2>&1 && pass "bench movinet --help" || fail "bench movinet --help"
"$CLI" bench movinet --threads x >/dev/null 2>&1
[ $? -eq 2 ] && pass "bench movinet bad --threads is a usage error" || fail "bench movinet bad --threads exit code"
