#!/usr/bin/env bash
# vidbench report on the command line: --help, usage errors (exit 2), malformed inputs
# (exit 1 with a message naming the file and the cause, no page written), a page written
# from a results CSV alone.
set -u
: "${VB_CLI:?}" "${VB_SHARED:?}" "${VB_TEST_TMP:?}"
dir="$VB_TEST_TMP/report_cli"
rm -rf "$dir"; mkdir -p "$dir"
failures=0
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; failures=$((failures + 1)); }

expect() { # name expected_rc stderr_substring args...
    local name=$1 want_rc=$2 needle=$3; shift 3
    "$VB_CLI" report "$@" >"$dir/out" 2>"$dir/err"
    local rc=$?
    if [ "$rc" -eq "$want_rc" ] && grep -qF -- "$needle" "$dir/err" "$dir/out"; then
        pass "$name"
    else
        fail "$name (exit $rc, want $want_rc; output: $(head -c 300 "$dir/err" "$dir/out"))"
    fi
}

expect "--help describes the verb" 0 "usage: vidbench report" --help
expect "-o is required" 2 "-o report.html is required" --sample 3
expect "unknown option" 2 "unknown option '--frobnicate'" --frobnicate 1 -o "$dir/r.html"
expect "bad --sample" 2 "--sample must be an integer" --sample many -o "$dir/r.html"
expect "bad --resize" 2 "--resize must be crop" --resize wide -o "$dir/r.html"
expect "--split without --data-dir" 2 "--data-dir" --split val -o "$dir/r.html"
expect "--videos needs a path" 2 "--videos needs at least one" --videos -o "$dir/r.html"

printf 'video_id,Ground_Truth,pred_1,score_1\nclip,a,b,0.5\nclip2,a\n' > "$dir/short_row.csv"
expect "row with missing fields: file and line named" 1 "short_row.csv:3: 2 fields" \
    --results "$dir/short_row.csv" -o "$dir/bad1.html"
printf 'video_id,Ground_Truth,pred_1,score_1\nclip,a,b,7\n' > "$dir/bad_score.csv"
expect "score outside [0,1]" 1 "bad_score.csv:2: score_1 '7' is not a probability" \
    --results "$dir/bad_score.csv" -o "$dir/bad2.html"
printf '{"top1_accuracy": "x"' > "$dir/summary.json"
printf 'video_id,Ground_Truth,pred_1,score_1\nclip,a,a,0.5\n' > "$dir/ok.csv"
expect "broken summary.json" 1 "summary.json: not valid JSON" \
    --results "$dir/ok.csv" --summary "$dir/summary.json" -o "$dir/bad3.html"
expect "missing results file" 1 "nope.csv" --results "$dir/nope.csv" -o "$dir/bad4.html"
expect "missing video path" 1 "no such file or directory" --videos "$dir/nope.mp4" -o "$dir/bad5.html"
if ls "$dir"/bad*.html "$dir"/*.tmp.* >/dev/null 2>&1; then
    fail "a failed run left a page or temporary behind: $(ls "$dir")"
else
    pass "failed runs write no page and no temporary"
fi

# summary.json beside the CSV is picked up by default; accuracy from the CSV alone otherwise.
rm -f "$dir/summary.json"
expect "page from a CSV alone" 0 "wrote $dir/ok.html" --results "$dir/ok.csv" -o "$dir/ok.html"
if grep -q 'id="top1-accuracy">100.00%' "$dir/ok.html"; then pass "top-1 from the CSV"; else fail "top-1 from the CSV"; fi
printf '{"configuration": "fixture model", "top1_accuracy": 0.25, "clips": {"evaluated": 4, "skipped": 0}}\n' > "$dir/summary.json"
expect "summary.json beside the CSV" 0 "wrote" --results "$dir/ok.csv" -o "$dir/ok2.html"
if grep -q 'id="top1-accuracy">25.00%' "$dir/ok2.html" && grep -q "fixture model" "$dir/ok2.html"; then
    pass "summary.json's figures win over the CSV's"
else
    fail "summary.json's figures win over the CSV's"
fi
[ "$failures" -eq 0 ]
