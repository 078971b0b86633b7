#!/usr/bin/env bash
# The benchmark verbs still run and print their tables (tiny sizes: this checks that they
# work, never how fast anything is), and bad options are usage errors.
set -u
CLI=${VB_CLI:?}
S=${VB_SHARED:?}
T=${VB_TEST_TMP:?}/bench_cli
mkdir -p "$T"
CLIP=$S/data/videos/kinetics400/abseiling_k400.mp4

pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; }
expect_rc() { # name expected actual
    if [ "$2" -eq "$3" ]; then pass "$1 (exit $3)"; else fail "$1: exit $3, expected $2"; fi
}

"$CLI" bench >"$T/out" 2>&1; expect_rc "bench without a name is a usage error" 2 $?
"$CLI" bench nosuch >"$T/out" 2>&1; expect_rc "bench with an unknown name" 2 $?
"$CLI" bench i3d --batch 1,x >"$T/out" 2>&1; expect_rc "bench i3d --batch with a non-number" 2 $?
"$CLI" bench i3d --frames 1,2,3,4,5,6,7,8,9 >"$T/out" 2>&1; expect_rc "bench i3d --frames too many / too short" 2 $?
"$CLI" bench video --repeat 0 >"$T/out" 2>&1; expect_rc "bench video --repeat 0" 2 $?
"$CLI" bench movinet --threads 65 >"$T/out" 2>&1; expect_rc "bench movinet --threads 65" 2 $?

# bench video on one clip without the Python side: every row has a rate, and the share of
# frames left undecoded is printed (abseiling_k400 has non-reference B-frames)
(cd "$VB_ROOT" && "$CLI" bench video --repeat 1 --no-python "$CLIP") >"$T/video.out" 2>&1
expect_rc "bench video --no-python on one clip" 0 $?
rows=$(grep -c "^vidbench: .* [0-9][0-9.]* " "$T/video.out")
if [ "$rows" -eq 3 ]; then pass "bench video prints its three vidbench rows"
else fail "bench video rows ($rows): $(cat "$T/video.out")"; fi
if grep -Eq "left [1-9][0-9.]*% of the frames undecoded" "$T/video.out"; then pass "bench video reports the undecoded share"
else fail "bench video undecoded share: $(cat "$T/video.out")"; fi
# the seed baseline (bench/seed_opencv_path.py under /usr/bin/python3) runs too: its row has a
# rate and a CPU figure, and every vidbench row is set against it
(cd "$VB_ROOT" && "$CLI" bench video --repeat 1 --best-only "$CLIP") >"$T/seed.out" 2>&1
expect_rc "bench video with the seed baseline on one clip" 0 $?
if grep -Eq "^seed: python3 \+ cv2 .* [0-9]+\.[0-9]+ +1\.00x +[0-9]+\.[0-9] +1\.00x" "$T/seed.out" &&
   grep -Eq "^vidbench: 1 clip per core.* [0-9]+\.[0-9]+x +[0-9]+\.[0-9] +[0-9]+\.[0-9]+x$" "$T/seed.out"; then
    pass "bench video runs the seed baseline and compares with it"
else fail "bench video seed baseline: $(cat "$T/seed.out")"; fi
(cd "$VB_ROOT" && "$CLI" bench video --repeat 1 --no-python --best-only "$CLIP") >"$T/best.out" 2>&1
expect_rc "bench video --best-only" 0 $?
if [ "$(grep -c "^vidbench: " "$T/best.out")" -eq 1 ] && grep -q "^vidbench: 1 clip per core" "$T/best.out"; then
    pass "bench video --best-only prints only the 1-clip-per-core row"
else fail "bench video --best-only: $(cat "$T/best.out")"; fi

"$CLI" bench movinet --frames 10 --repeat 1 --threads 1 --levels 0 >"$T/movinet.out" 2>&1
expect_rc "bench movinet, 10 frames, plain C" 0 $?
if grep -Eq "^plain C +1 +[0-9]" "$T/movinet.out"; then pass "bench movinet prints a plain C row"
else fail "bench movinet row: $(cat "$T/movinet.out")"; fi
# --threads 0 is the library default (every core or VIDBENCH_THREADS): the row shows the count
VIDBENCH_THREADS=1 "$CLI" bench movinet --frames 10 --repeat 1 --threads 0 --levels 0 >"$T/movinet.out" 2>&1
if grep -Eq "^plain C +1 \(def\) +[0-9]" "$T/movinet.out"; then pass "bench movinet default row shows the resolved count"
else fail "bench movinet default row: $(cat "$T/movinet.out")"; fi

# bench i3d --precision on the tiny golden net: int8 (calibrated in the run) is timed against fp32
# in one table that names the ISA; bf16 is timed only where it runs (AMX), else a note says why
GOLDEN_W=$S/golden/i3d-tiny-k400/weights.safetensors
"$CLI" bench i3d --precision int8 --weights "$GOLDEN_W" --frames 16 --repeat 1 >"$T/int8.out" 2>&1
expect_rc "bench i3d --precision int8 on the tiny golden net" 0 $?
if grep -q -E "^\| 16 \| [0-9]+ \| [0-9]+ \| [0-9.]+x \|" "$T/int8.out" && grep -q "int8: oneDNN ISA [a-z0-9_]*, ran int8" "$T/int8.out"
then pass "bench i3d --precision int8 prints the fp32/int8 row and the ISA int8 ran on"
else fail "bench i3d --precision int8 output: $(cat "$T/int8.out")"; fi
"$CLI" bench i3d --precision bf16 --weights "$GOLDEN_W" --frames 16 --repeat 1 >"$T/bf16.out" 2>&1
expect_rc "bench i3d --precision bf16 on the tiny golden net" 0 $?
if grep -q "ran bf16" "$T/bf16.out"; then
    grep -q -E "^\| 16 \| " "$T/bf16.out" && pass "bench i3d --precision bf16 (AMX) prints its row" ||
        fail "bench i3d --precision bf16 (AMX) output: $(cat "$T/bf16.out")"
elif grep -q "^bf16 not measured: bf16 needs AMX" "$T/bf16.out" && ! grep -q -E "^\| 16 \| " "$T/bf16.out"; then
    pass "bench i3d --precision bf16 without AMX reports no bf16 figure, and says why"
else fail "bench i3d --precision bf16 output: $(cat "$T/bf16.out")"; fi
"$CLI" bench i3d --precision int4 >"$T/out" 2>&1; expect_rc "bench i3d --precision int4" 2 $?

# bench i3d --peers on the tiny golden nets (1/8 width, so PyTorch eager stays fast): every peer
# present must agree with our logits at 1e-4 relative, and a peer with a real porting slip
# (VIDBENCH_PEER_FAULT=bn-epsilon: PyTorch's default BatchNorm epsilon 1e-5 instead of i3d.py's
# 1e-3) must be caught: FAIL rows, a difference above 1e-4, exit 1.
"$CLI" bench i3d --peers --frames 9,16 >"$T/out" 2>&1; expect_rc "bench i3d --peers with two --frames values" 2 $?
"$CLI" bench i3d --peers --batch 1,2 >"$T/out" 2>&1; expect_rc "bench i3d --peers with two --batch values" 2 $?
GOLDEN=$S/golden
# "| ENGINE | ms | ratio | diff | PASS |" -> diff of the row whose engine matches $2
peer_diff() { grep -E "^\| $2 " "$1" | awk -F'|' '{gsub(/ /, "", $5); print $5}'; }
peer_row_ok() { # out engine-pattern: a time, a ratio, a diff <= 1e-4 and PASS
    grep -Eq "^\| $2 \| [0-9]+\.[0-9] \| [0-9]+\.[0-9]{2}x \| [0-9.]+e[-+][0-9]+ \| PASS \|$" "$1" &&
        awk -v d="$(peer_diff "$1" "$2")" 'BEGIN { exit !(d + 0 <= 1e-4) }'
}
for case in i3d-tiny-k400 i3d-tiny-k600; do
    out=$T/peers-$case.out
    (cd "$VB_ROOT" && "$CLI" bench i3d --peers --weights "$GOLDEN/$case/weights.safetensors" --frames 16 --repeat 1) >"$out" 2>&1
    rc=$?
    if grep -q "^PyTorch skipped: " "$out"; then
        echo "SKIP: bench i3d --peers pytorch $case -- $(grep '^PyTorch skipped: ' "$out")"
        continue
    fi
    expect_rc "bench i3d --peers on $case agrees" 0 $rc
    if peer_row_ok "$out" "PyTorch [^|]* eager" && peer_row_ok "$out" "PyTorch [^|]* TorchScript frozen" &&
       grep -Eq "^\| vidbench onednn \| [0-9]+\.[0-9] \| 1\.00x \| - \| reference \|$" "$out"; then
        pass "bench i3d --peers on $case: PyTorch eager and TorchScript logits within 1e-4 of ours"
    else fail "bench i3d --peers on $case PyTorch rows: $(cat "$out")"; fi
    if grep -q "^ONNX Runtime skipped: " "$out"; then
        echo "SKIP: bench i3d --peers onnxruntime $case -- $(grep '^ONNX Runtime skipped: ' "$out")"
    elif peer_row_ok "$out" "ONNX Runtime \(onnxruntime-node [^|]*\)"; then
        pass "bench i3d --peers on $case: ONNX Runtime logits within 1e-4 of ours"
    else fail "bench i3d --peers on $case ONNX Runtime row: $(cat "$out")"; fi
done

out=$T/peers-fault.out
(cd "$VB_ROOT" && VIDBENCH_PEER_FAULT=bn-epsilon "$CLI" bench i3d --peers \
    --weights "$GOLDEN/i3d-tiny-k400/weights.safetensors" --frames 16 --repeat 1) >"$out" 2>&1
rc=$?
if ! grep -q "^PyTorch skipped: " "$out"; then
    expect_rc "bench i3d --peers with a peer whose BatchNorm epsilon is wrong" 1 $rc
    d=$(peer_diff "$out" "PyTorch [^|]* eager")
    if grep -Eq "^\| PyTorch [^|]* eager \|.*\| FAIL \|$" "$out" && grep -Eq "^\| PyTorch [^|]* TorchScript frozen \|.*\| FAIL \|$" "$out" &&
       awk -v d="$d" 'BEGIN { exit !(d + 0 > 1e-4) }'; then
        pass "bench i3d --peers catches the wrong epsilon (eager max rel diff $d > 1e-4, FAIL)"
    else fail "bench i3d --peers fault not caught: $(cat "$out")"; fi
fi

# peers that are not installed are one-line notes, not failures: only our row remains
mkdir -p "$T/no_node_modules"
out=$T/peers-missing.out
(cd "$VB_ROOT" && VIDBENCH_PEER_PYTHON=$T/no-such-python VIDBENCH_NODE_MODULES=$T/no_node_modules "$CLI" bench i3d --peers \
    --weights "$GOLDEN/i3d-tiny-k400/weights.safetensors" --frames 16 --repeat 1) >"$out" 2>&1
expect_rc "bench i3d --peers without python and onnxruntime-node" 0 $?
if [ "$(grep -c '^| ' "$out")" -eq 2 ] && [ "$(grep -c '^PyTorch skipped: cannot start ' "$out")" -eq 1 ] &&
   [ "$(grep -c '^ONNX Runtime skipped: ' "$out")" -eq 1 ]; then
    pass "bench i3d --peers skips missing peers with one note each"
else fail "bench i3d --peers missing peers: $(cat "$out")"; fi
