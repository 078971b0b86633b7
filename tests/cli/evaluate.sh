#!/usr/bin/env bash
# vidbench evaluate / merge on the command line, with the real MoViNet-A0-Stream (an explicit
# --weights file from ../shared) on real shared clips listed in a --clips file, 32 frames per
# clip to stay fast: flags and argument-file errors, the seed's CSV and report lines, skipped
# clips, the partial last batch, kill -9 then resume to the same CSV, two shards merged to
# the unsharded CSV, refusals. (The golden I3D path is tests/unit/test_eval_i3d.c.)
set -u
CLI=${VB_CLI:-build/vidbench}
SHARED=${VB_SHARED:-../shared}
ROOT=${VB_ROOT:-$PWD}
TMP=${VB_TEST_TMP:-$(mktemp -d)}/evaluate_sh
mkdir -p "$TMP"
fails=0
pass() { echo "PASS: $1"; }
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }
check() { # name, condition exit status
    if [ "$2" -eq 0 ]; then pass "$1"; else fail "$1"; fi
}

WEIGHTS=$SHARED/models/movinet-a0-stream-int8-k600/movinet_a0_stream_int8.tflite
LABELS=$SHARED/models/movinet-a0-stream-int8-k600/kinetics600_label_map.txt
V=$SHARED/data/videos
CLIPS=$TMP/clips.csv
cat >"$CLIPS" <<EOF
# path,label,youtube_id: 8 good clips, a corrupted file, two clips under 128 frames
$V/kinetics400/R6llTwEh07w.mp4,using segway,R6llTwEh07w
$SHARED/data/robustness/decord/corrupted.mp4,abseiling,
$V/kinetics400/SOX5yA1l24A.mp4,using segway,SOX5yA1l24A
$V/kinetics400_unverified/mmaction2_rawvideo_part_0.mp4,cleaning pool,
$V/kinetics400/mmaction2_demo.mp4,arm wrestling,
$V/kinetics400/abseiling_k400.mp4,abseiling,
$V/ucf101/v_Basketball_g01_c01.avi,,
$V/ucf101/v_SoccerJuggling_g23_c01.avi,juggling soccer ball,
$V/kinetics400_unverified/mmaction2_demo_2020-06.mp4,,
$V/hmdb51/RATRACE_wave_f_nm_np1_fr_goo_37.avi,,
$V/kinetics400_unverified/mmaction2_tests_test.mp4,,
EOF
COMMON=(--model_type movinet --weights "$WEIGHTS" --labels "$LABELS" --clips "$CLIPS" --num_frames 32
        --threads 1 --batch_size 3 --num_videos all)
NAME=movinet_k600_val400

# ---- usage and argument files ----
"$CLI" evaluate --help >"$TMP/help.out" 2>&1
check "evaluate --help exits 0 and lists the seed flags" \
    $([ $? -eq 0 ] && grep -q -- "--model_trained_on" "$TMP/help.out" && echo 0 || echo 1)
"$CLI" evaluate @"$ROOT/scripts/config.txt" --frobnicate 1 >"$TMP/o" 2>"$TMP/e"
check "unknown flag: exit 2, names the flag" \
    $([ $? -eq 2 ] && grep -q "unknown flag '--frobnicate'" "$TMP/e" && echo 0 || echo 1)
printf -- '--batch_size 8\n\n--top_n five\n' >"$TMP/bad.txt"
"$CLI" evaluate @"$TMP/bad.txt" >"$TMP/o" 2>"$TMP/e"
check "bad value in an argument file: exit 2 with FILE:LINE" \
    $([ $? -eq 2 ] && grep -q "bad.txt:3: --top_n: invalid value 'five'" "$TMP/e" && echo 0 || echo 1)
"$CLI" evaluate @"$TMP/missing.txt" >"$TMP/o" 2>"$TMP/e"
check "missing argument file: exit 2, names it" \
    $([ $? -eq 2 ] && grep -q "missing.txt" "$TMP/e" && echo 0 || echo 1)
"$CLI" evaluate --model_type movinet --weights "$WEIGHTS" >"$TMP/o" 2>"$TMP/e"
check "--weights without --labels is a usage error" $([ $? -eq 2 ] && echo 0 || echo 1)

# ---- a whole run: CSV, report lines, skipped clips, partial last batch ----
R1=$TMP/run1
"$CLI" evaluate @"$ROOT/scripts/config.txt" "${COMMON[@]}" --results_dir "$R1" >"$TMP/run1.out" 2>"$TMP/run1.err"
rc=$?
check "evaluate exits 0 ($(tail -c 300 "$TMP/run1.err" | tr '\n' ' '))" $rc
CSV=$R1/$NAME.csv
check "prints the seed's report lines" \
    $(grep -Eq '^top-1 accuracy: [0-9]+\.[0-9]{2}%$' "$TMP/run1.out" &&
      grep -Eq '^top-5 accuracy: [0-9]+\.[0-9]{2}%$' "$TMP/run1.out" && echo 0 || echo 1)
check "CSV has the seed's header" \
    $([ "$(head -1 "$CSV")" = "video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,pred_3,pred_4,pred_5,score_1,score_2,score_3,score_4,score_5" ] && echo 0 || echo 1)
check "8 good clips in the CSV (batches of 3: the partial last batch is included)" \
    $([ "$(tail -n +2 "$CSV" | wc -l)" -eq 8 ] && grep -q '^mmaction2_tests_test,' "$CSV" && echo 0 || echo 1)
check "broken and too-short clips are skipped and counted" \
    $(grep -q "8 evaluated, 3 skipped" "$TMP/run1.out" &&
      grep -q "fewer than the required 128" "$R1/$NAME.summary.json" && echo 0 || echo 1)
/usr/bin/python3 - "$CSV" <<'EOF'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1])))
ok = all(abs(sum(float(r["score_%d" % k]) for k in range(1, 6))) <= 1.0 + 1e-6 and
         all(float(r["score_%d" % k]) >= float(r["score_%d" % (k + 1)]) for k in range(1, 5))
         for r in rows)
sys.exit(0 if ok and rows[0]["Ground_Truth"] == "using segway" else 1)
EOF
check "scores are sorted probabilities and labels stay aligned with clips" $?

# ---- resume: nothing is recomputed ----
"$CLI" evaluate @"$ROOT/scripts/config.txt" "${COMMON[@]}" --results_dir "$R1" >"$TMP/again.out" 2>&1
check "a re-run of a finished evaluation computes nothing" \
    $(grep -q "11 from earlier runs" "$TMP/again.out" && cmp -s "$CSV" "$R1/$NAME.csv" && echo 0 || echo 1)
"$CLI" evaluate @"$ROOT/scripts/config.txt" "${COMMON[@]}" --results_dir "$R1" --num_frames 10 >"$TMP/o" 2>"$TMP/e"
check "another configuration on the same store is refused (exit 1, says how to start over)" \
    $([ $? -eq 1 ] && grep -q -- "--overwrite_output_dir" "$TMP/e" && echo 0 || echo 1)

# ---- kill -9 on progress, then resume: same CSV ----
# Killed right after the 1st or 2nd progress line (each printed once a batch is committed), not
# after a timer: a timer can outlast the whole run on a fast machine and then kill nothing.
# The case fails unless the kill landed mid-run.
R2=$TMP/killed
target=$((1 + RANDOM % 2))
"$CLI" evaluate @"$ROOT/scripts/config.txt" "${COMMON[@]}" --results_dir "$R2" --verbose_logging \
    >"$TMP/k.out" 2>"$TMP/k.err" &
pid=$!
for _ in $(seq 1 6000); do   # at most 60 s
    [ "$(grep -c ' clips done ' "$TMP/k.err" 2>/dev/null)" -ge $target ] && break
    kill -0 $pid 2>/dev/null || break
    sleep 0.01
done
kill -9 $pid 2>/dev/null
killed=$?
wait $pid 2>/dev/null
status=$?
stored=$(/usr/bin/python3 -c "
import sqlite3
print(sqlite3.connect('file:$R2/$NAME.sqlite?mode=ro', uri=True).execute('select count(*) from results').fetchone()[0])" 2>/dev/null)
check "kill -9 landed mid-run (after progress line $target: $(grep ' clips done ' "$TMP/k.err" | tail -1 | sed 's/.*: //'); exit status $status, $stored of 11 clips stored)" \
    $([ $killed -eq 0 ] && [ $status -eq 137 ] && [ "${stored:-0}" -ge 1 ] && [ "${stored:-11}" -lt 11 ] &&
      ! grep -q '^clips: ' "$TMP/k.out" && echo 0 || echo 1)
"$CLI" evaluate @"$ROOT/scripts/config.txt" "${COMMON[@]}" --results_dir "$R2" >"$TMP/resumed.out" 2>&1
check "re-run after kill -9: CSV equals the uninterrupted one" $(cmp -s "$CSV" "$R2/$NAME.csv" && echo 0 || echo 1)
check "the resumed run continued from the store ($(grep -o '[0-9]* from earlier runs' "$TMP/resumed.out"))" \
    $(grep -q " ${stored:-x} from earlier runs" "$TMP/resumed.out" && echo 0 || echo 1)
"$CLI" evaluate @"$ROOT/scripts/config.txt" "${COMMON[@]}" --results_dir "$R2" --overwrite_output_dir >"$TMP/o" 2>&1
check "--overwrite_output_dir starts over" \
    $(grep -q " 0 from earlier runs" "$TMP/o" && cmp -s "$CSV" "$R2/$NAME.csv" && echo 0 || echo 1)

# ---- shards: 0/2 and 1/2 merged equal the unsharded run ----
R3=$TMP/shards
for i in 0 1; do
    "$CLI" evaluate @"$ROOT/scripts/config.txt" "${COMMON[@]}" --results_dir "$R3" --shard $i/2 >"$TMP/s$i.out" 2>&1
    check "shard $i/2 exits 0" $?
done
"$CLI" merge "$R3/$NAME.shard0of2.sqlite" >"$TMP/m.out" 2>"$TMP/m.err"
check "merge of one shard of two refuses the gap (exit 1)" \
    $([ $? -eq 1 ] && grep -q "shard 1/2 is missing" "$TMP/m.err" && echo 0 || echo 1)
"$CLI" merge "$R3/$NAME.shard0of2.sqlite" "$R3/$NAME.shard0of2.sqlite" >"$TMP/m.out" 2>"$TMP/m.err"
check "merge of a shard given twice refuses the overlap" \
    $([ $? -eq 1 ] && grep -q "overlap" "$TMP/m.err" && echo 0 || echo 1)
"$CLI" merge "$R3/$NAME.shard1of2.sqlite" "$R3/$NAME.shard0of2.sqlite" >"$TMP/m.out" 2>"$TMP/m.err"
check "merge of both shards exits 0 and prints the accuracy lines" \
    $([ $? -eq 0 ] && grep -q "^top-1 accuracy:" "$TMP/m.out" && echo 0 || echo 1)
check "merged CSV equals the unsharded CSV" $(cmp -s "$CSV" "$R3/$NAME.csv" && echo 0 || echo 1)

[ $fails -eq 0 ]
