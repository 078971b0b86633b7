#!/usr/bin/env bash
# The Python bindings (python/) in `make test`: builds the extension against $VB_BUILD's
# libvidbench.a into $VB_BUILD/python (a sanitized build folder builds it with the sanitizer
# flags; Python then runs with the ASan runtime preloaded), runs the pytest suite in
# python/tests and executes the notebook headless. Prints one PASS:/FAIL:/SKIP: line per test
# (SKIP with its reason, e.g. torch missing), which tests/run.sh counts.
set -u
ROOT=${VB_ROOT:-$PWD}
BUILD=${VB_BUILD:-$ROOT/build}
TMP=${VB_TEST_TMP:-$(mktemp -d)}/python_sh
PY=/usr/bin/python3   # Debian's, with numpy/opencv/pytest (the python3 on PATH may be another)
mkdir -p "$TMP"
fails=0
fail() { echo "FAIL: $1"; fails=$((fails + 1)); }

missing=()
for module in numpy pytest setuptools; do
    $PY -c "import $module" 2>/dev/null || missing+=("$module")
done
if [ "${#missing[@]}" -gt 0 ]; then
    fail "Python modules missing: ${missing[*]} (run scripts/install-deps.sh)"
    exit 1
fi

# ---- build (setuptools rebuilds only when the module, the headers or the library changed) ----
if ! VB_BUILD=$BUILD nice $PY "$ROOT/python/setup.py" -q build --build-base "$BUILD/python-build" \
        --build-lib "$BUILD/python" >"$TMP/build.log" 2>&1; then
    fail "the extension builds against $BUILD/libvidbench.a: $(tail -n 20 "$TMP/build.log")"
    exit 1
fi
echo "PASS: the extension builds against $BUILD/libvidbench.a"
export PYTHONPATH=$BUILD/python:$ROOT/python/tests
export PYTHONDONTWRITEBYTECODE=1
export VB_RESULT_LINES=$TMP/results.txt
: >"$VB_RESULT_LINES"
if [ "${VB_SANITIZED:-0}" = 1 ]; then
    # CPython is not built with ASan: the runtime must be loaded first, and LeakSanitizer would
    # report the interpreter's own never-freed allocations (the C tests run LSan on the library)
    export LD_PRELOAD=$(gcc -print-file-name=libasan.so)
    export ASAN_OPTIONS=detect_leaks=0:abort_on_error=1
    # the check that this run is one: the module is instrumented and the runtime is loaded
    so=$(ls "$BUILD"/python/vidbench/_vidbench*.so)
    if nm -D "$so" | grep -q ' U __asan_report_load' &&
        $PY -c "import vidbench; print(open('/proc/self/maps').read())" | grep -q libasan; then
        echo "PASS: the extension is ASan-instrumented and runs with the ASan runtime loaded"
    else
        fail "the extension is ASan-instrumented and runs with the ASan runtime loaded ($so)"
    fi
fi

# ---- pytest ----
(cd "$TMP" && $PY -m pytest -q -p no:cacheprovider -rs "$ROOT/python/tests") >"$TMP/pytest.log" 2>&1
rc=$?
cat "$VB_RESULT_LINES"
if [ "$rc" -ne 0 ] && ! grep -q '^FAIL:' "$VB_RESULT_LINES"; then
    fail "pytest exited $rc without a failed test (collection error or crash): $(tail -n 30 "$TMP/pytest.log")"
elif [ "$rc" -ne 0 ]; then
    fails=$((fails + 1))
    tail -n 60 "$TMP/pytest.log"
fi

# ---- the notebook, headless ----
if [ "${VB_SANITIZED:-0}" = 1 ]; then
    # matplotlib, the Jupyter kernel and a MoViNet run under ASan take minutes; the bindings
    # themselves are exercised under ASan by the pytest suite above
    echo "SKIP: notebook -- under the sanitizers matplotlib, the kernel and MoViNet take minutes (the pytest suite covers the bindings under ASan)"
else
    unset VB_RESULT_LINES
    (cd "$TMP" && $PY "$ROOT/python/tests/run_notebook.py" "$ROOT/notebooks/video_classification.ipynb" \
        "$TMP/notebook") 2>&1
    [ $? -eq 0 ] || fails=$((fails + 1))
fi
[ "$fails" -eq 0 ]
