#!/usr/bin/env bash
# vidbench report opened in headless Chromium (tests/browser/check_report.py): a fixture of
# real ../shared clips (symlinked, one under a hostile file name), a results CSV with a wrong
# prediction and labels carrying markup and quotes, and a summary.json with timings, plus two
# more runs for the Compare section (one CSV under a hostile file name). Checks
# no console errors or failed requests, sections, labels, accuracy, red wrong predictions,
# saves a screenshot under $VB_BUILD/test-artifacts/, then moves the folder and checks again.
set -u
: "${VB_CLI:?}" "${VB_SHARED:?}" "${VB_TEST_TMP:?}" "${VB_ROOT:?}" "${VB_BUILD:?}"
PY=/usr/bin/python3
CHECK="$VB_ROOT/tests/browser/check_report.py"
status=0
# check_report.py prints its own PASS/FAIL lines; a crash before its checks (no browser, a
# Python error) shows only in its exit status, so every run's status is checked here.
check_report() { # tag, then check_report.py's arguments
    local tag=$1
    shift
    $PY "$CHECK" --tag "$tag" "$@"
    local rc=$?
    if [ $rc -ne 0 ]; then
        echo "FAIL: check_report.py ($tag) exited $rc"
        status=1
    fi
}
root="$VB_TEST_TMP/report_browser"
rm -rf "$root" "$VB_TEST_TMP/report_moved"
mkdir -p "$root/data/videos" "$root/results" "$root/site"
k400="$VB_SHARED/data/videos/kinetics400"
for clip in R6llTwEh07w SOX5yA1l24A abseiling_k400 mmaction2_demo; do
    ln -s "$k400/$clip.mp4" "$root/data/videos/$clip.mp4"
done
odd_name="odd \"name\" <b>&'x"
ln -s "$k400/abseiling_k400.mp4" "$root/data/videos/$odd_name.mp4"

# Ground truth: the K400 labels documented in ../shared/data/PROVENANCE.tsv; predictions
# are made up so that one is wrong and one label carries markup and quotes.
cat > "$root/results/results.csv" <<'CSV'
video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,pred_3,pred_4,pred_5,score_1,score_2,score_3,score_4,score_5
R6llTwEh07w,R6llTwEh07w,using segway,using segway,riding scooter,skateboarding,riding unicycle,roller skating,0.81,0.07,0.05,0.04,0.01
SOX5yA1l24A,SOX5yA1l24A,using segway,riding unicycle,using segway,skateboarding,roller skating,riding scooter,0.44,0.31,0.1,0.05,0.02
abseiling_k400,,abseiling,abseiling,rock climbing,ice climbing,climbing a rope,bungee jumping,0.92,0.04,0.02,0.01,0.005
mmaction2_demo,,arm wrestling,arm wrestling,"<script>alert(""x"")</script> & 'arm' wrestling",headbutting,punching person (boxing),shaking hands,0.6,0.3,0.05,0.03,0.01
"odd ""name"" <b>&'x",,"<script>alert(""x"")</script> & 'arm' wrestling",abseiling,"<script>alert(""x"")</script> & 'arm' wrestling",rock climbing,ice climbing,bungee jumping,0.5,0.3,0.1,0.05,0.05
CSV
cat > "$root/results/summary.json" <<'JSON'
{"model": "movinet-a0-stream-int8-k600 (fixture)", "num_frames": 16, "skipped": 1,
 "timing_ms": {"decode": 812.5, "preprocess": 120.25, "model": 2400}}
JSON

# The video ingest has landed: previews, histograms and the resampling figure are required.
media=yes

# Two more runs for the Compare section: one under a hostile file name whose summary names a
# hostile model; one with a clip the others lack (dropped and counted). Made-up predictions
# so that the runs disagree, the hostile-named clip among the disagreements.
hostile_csv="$root/results/run <script>\"b\"&'x'.csv"
cat > "$hostile_csv" <<'CSV'
video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,pred_3,pred_4,pred_5,score_1,score_2,score_3,score_4,score_5
R6llTwEh07w,R6llTwEh07w,using segway,riding scooter,using segway,skateboarding,riding unicycle,roller skating,0.5,0.3,0.1,0.05,0.05
SOX5yA1l24A,SOX5yA1l24A,using segway,using segway,riding unicycle,skateboarding,roller skating,riding scooter,0.6,0.2,0.1,0.05,0.05
abseiling_k400,,abseiling,rock climbing,abseiling,ice climbing,climbing a rope,bungee jumping,0.6,0.3,0.05,0.03,0.02
mmaction2_demo,,arm wrestling,arm wrestling,headbutting,"<script>alert(""x"")</script> & 'arm' wrestling",punching person (boxing),shaking hands,0.7,0.1,0.1,0.05,0.05
"odd ""name"" <b>&'x",,"<script>alert(""x"")</script> & 'arm' wrestling","<script>alert(""x"")</script> & 'arm' wrestling",abseiling,rock climbing,ice climbing,bungee jumping,0.6,0.2,0.1,0.05,0.05
CSV
cat > "${hostile_csv%.csv}.summary.json" <<'JSON'
{"parameters": {"model": "<script>alert(\"m\")</script> & 'b'.tflite", "classes": 600, "frames": 8},
 "precision": "int8", "timing": {"clips_per_s_this_run": 4.0, "model_ms_per_clip": 120}}
JSON
mkdir -p "$root/results/c"
cat > "$root/results/c/results.csv" <<'CSV'
video_id,YouTube_Id,Ground_Truth,pred_1,pred_2,pred_3,pred_4,pred_5,score_1,score_2,score_3,score_4,score_5
R6llTwEh07w,R6llTwEh07w,using segway,using segway,riding scooter,skateboarding,riding unicycle,roller skating,0.7,0.1,0.1,0.05,0.05
SOX5yA1l24A,SOX5yA1l24A,using segway,using segway,riding unicycle,skateboarding,roller skating,riding scooter,0.6,0.2,0.1,0.05,0.05
abseiling_k400,,abseiling,abseiling,rock climbing,ice climbing,climbing a rope,bungee jumping,0.6,0.3,0.05,0.03,0.02
mmaction2_demo,,arm wrestling,headbutting,arm wrestling,shaking hands,punching person (boxing),hugging,0.5,0.3,0.1,0.05,0.05
"odd ""name"" <b>&'x",,"<script>alert(""x"")</script> & 'arm' wrestling","<script>alert(""x"")</script> & 'arm' wrestling",abseiling,rock climbing,ice climbing,bungee jumping,0.6,0.2,0.1,0.05,0.05
only_in_c,,abseiling,abseiling,rock climbing,ice climbing,climbing a rope,bungee jumping,0.6,0.3,0.05,0.03,0.02
CSV
cat > "$root/results/c/results.summary.json" <<'JSON'
{"parameters": {"model": "c.safetensors", "classes": 400, "frames": 64, "clips": 1, "crops": 1}, "precision": "fp32",
 "gflop_per_clip": 110.0, "peak_rss_bytes": 524288000, "timing": {"clips_per_s_this_run": 1.5, "model_ms_per_clip": 600}}
JSON

if "$VB_CLI" report --results "$root/results/results.csv" --results "$hostile_csv" --results "$root/results/c/results.csv" \
        --videos "$root/data/videos" \
        --label-map "$VB_SHARED/data/labelmaps/kinetics400_label_map.txt" --sample 10 --num-frames 16 \
        --title "vidbench report (browser test fixture)" -o "$root/site/index.html" >"$VB_TEST_TMP/report_browser.out" 2>&1; then
    echo "PASS: report written"
else
    echo "FAIL: vidbench report exited non-zero:"; cat "$VB_TEST_TMP/report_browser.out"; exit 1
fi

mkdir -p "$VB_BUILD/test-artifacts"
shot="$VB_BUILD/test-artifacts/report.png"
rm -f "$shot"
check_report "report" --page "$root/site/index.html" --results "$root/results/results.csv" --media "$media" \
    --compare "$hostile_csv" --compare "$root/results/c/results.csv" \
    --expect-clip "$odd_name" --screenshot "$shot"

# The folder moves as a whole: relative links must still resolve.
mv "$root" "$VB_TEST_TMP/report_moved"
moved_hostile="$VB_TEST_TMP/report_moved/results/${hostile_csv##*/}"
check_report "moved folder" --page "$VB_TEST_TMP/report_moved/site/index.html" \
    --results "$VB_TEST_TMP/report_moved/results/results.csv" \
    --compare "$moved_hostile" --compare "$VB_TEST_TMP/report_moved/results/c/results.csv" --media "$media"

# Scenario 2: a dataset downloaded by `vidbench data download` from a local mirror (the
# dataset issue's fixture: real annotations plus appended rows, one with a hostile label),
# evaluated by `vidbench evaluate` with the real MoViNet-A0 (Kinetics-600, int8) on 16 frames
# per clip, the page built from --data-dir and the evaluation's CSV and summary.
work="$VB_TEST_TMP/report_mirror"
rm -rf "$work"; mkdir -p "$work"
if ! data_dir=$($PY "$VB_ROOT/tests/browser/make_mirror.py" "$work"); then
    echo "$data_dir"; exit 1
fi
echo "PASS: mirror fixture downloaded into $data_dir"
movinet="$VB_SHARED/models/movinet-a0-stream-int8-k600"
if "$VB_CLI" evaluate --model_type movinet --kinetics_version 400 --kinetics_split val --num_videos all \
        --num_frames 16 --batch_size 2 --data_dir "$data_dir" --results_dir "$work/results" \
        --weights "$movinet/movinet_a0_stream_int8.tflite" --labels "$movinet/kinetics600_label_map.txt" \
        >"$VB_TEST_TMP/report_eval.out" 2>&1; then
    echo "PASS: vidbench evaluate (MoViNet) on the mirror dataset: $(grep -h 'accuracy' "$VB_TEST_TMP/report_eval.out" | tr '\n' ' ')"
else
    echo "FAIL: vidbench evaluate exited non-zero:"; tail -20 "$VB_TEST_TMP/report_eval.out"; exit 1
fi
csv="$work/results/movinet_k600_val400.csv"
if "$VB_CLI" report --data-dir "$data_dir" --version 400 --split val --results "$csv" \
        --sample 4 -o "$work/site/report.html" >"$VB_TEST_TMP/report_mirror.out" 2>&1; then
    echo "PASS: report written from --data-dir and the evaluation's CSV and summary"
else
    echo "FAIL: vidbench report --data-dir exited non-zero:"; cat "$VB_TEST_TMP/report_mirror.out"; exit 1
fi
# 19,906 rows of the real K400 val.csv + 2 appended; 4 clips unpacked.
check_report "mirror+movinet" --page "$work/site/report.html" --results "$csv" \
    --summary "${csv%.csv}.summary.json" --media "$media" --expect-split "400:val:19908:4" \
    --screenshot "$VB_BUILD/test-artifacts/report_mirror.png"
exit $status
