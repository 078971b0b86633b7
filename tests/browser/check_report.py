"""Opens a vidbench report in headless Chromium and checks what a reader would see.

Expected values come from the inputs, not from the page: the results CSV is read here with
Python's csv module and the accuracies recomputed with the seed's definitions (top-1: pred_1 ==
Ground_Truth; top-N: Ground_Truth among pred_1..N). Prints PASS:/FAIL: lines.

usage: check_report.py --page report.html --results results.csv [--screenshot out.png]
                       [--media yes|no] [--expect-clip NAME]... [--compare CSV]... [--tag TEXT]

With --compare (the other runs given to `vidbench report --results`), the Compare section is
checked against tests/tools/compare_expected.py.
"""
import argparse
import csv
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tools"))
from cdp import Browser  # noqa: E402
from compare_expected import expected as compare_expected  # noqa: E402

failures = 0


def check(ok, name, detail=""):
    global failures
    if ok:
        print(f"PASS: {name}")
    else:
        failures += 1
        print(f"FAIL: {name}{': ' + detail if detail else ''}")


def expected_from_csv(path):
    with open(path, newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    top_n = sum(1 for k in rows[0] if k.startswith("pred_"))
    top1 = sum(r["pred_1"] == r["Ground_Truth"] for r in rows) / len(rows)
    topn = sum(r["Ground_Truth"] in [r[f"pred_{k}"] for k in range(1, top_n + 1)] for r in rows) / len(rows)
    by_id = {r["video_id"]: r for r in rows}
    return rows, top_n, top1, topn, by_id


# Everything the checks need from the DOM, gathered in one evaluation.
DOM_PROBE = r"""
(() => {
  const text = el => el ? el.textContent.trim() : null;
  const rows = [...document.querySelectorAll('table.samples tr.sample')].map(tr => {
    const prediction = tr.querySelector('td.prediction');
    return {
      clip: text(tr.querySelector('.clip-name')),
      truth: text(tr.querySelector('td.truth')),
      prediction: prediction ? prediction.childNodes[0].textContent.trim() : null,
      correct: prediction ? prediction.dataset.correct : null,
      color: prediction ? getComputedStyle(prediction).color : null,
      preview: !!tr.querySelector('img.preview'),
      previewNote: text(tr.querySelector('.preview-note')),
      topkBars: tr.querySelectorAll('svg.topk rect.bar').length,
    };
  });
  return {
    title: document.title,
    scripts: document.querySelectorAll('script').length,
    sections: [...document.querySelectorAll('main > section')].map(s => s.id + ':' + text(s.querySelector('h2'))),
    top1: text(document.getElementById('top1-accuracy')),
    topn: text(document.getElementById('topn-accuracy')),
    evaluated: text(document.getElementById('evaluated-count')),
    rows,
    videos: [...document.querySelectorAll('video')].map(v => ({src: v.getAttribute('src'),
      ready: v.readyState, error: v.error ? v.error.code : 0, width: v.videoWidth})),
    images: [...document.querySelectorAll('img')].map(i => ({src: i.getAttribute('src'),
      complete: i.complete, width: i.naturalWidth})),
    histogramBars: document.querySelectorAll('#properties figure.histogram rect.bar').length,
    resamplingImages: document.querySelectorAll('#resampling img').length,
    classBars: [...document.querySelectorAll('#dataset svg.bar-chart g title')].map(t => t.textContent),
    splits: [...document.querySelectorAll('table.splits tbody tr')].map(tr =>
      [...tr.querySelectorAll('td')].map(td => td.textContent.trim())),
    bodyText: document.body.innerText,
    compare: document.getElementById('compare') ? {
      runs: [...document.querySelectorAll('tr.compare-run')].map(tr => ({
        label: text(tr.querySelector('.run-label')), top1: text(tr.querySelector('td.top1')),
        pareto: text(tr.querySelector('td.pareto'))})),
      plot: !!document.querySelector('#compare svg.accuracy-speed'),
      points: [...document.querySelectorAll('#compare svg.accuracy-speed g.run-point')].map(g =>
        ({front: g.classList.contains('on-front'), title: text(g.querySelector('title'))})),
      frontLine: !!document.querySelector('#compare svg.accuracy-speed polyline.pareto-front'),
      disagreements: [...document.querySelectorAll('#compare table.disagreements')].map(t => ({
        pair: t.dataset.pair,
        rows: [...t.querySelectorAll('tr.disagreement')].map(tr => {
          const a = tr.querySelector('a');
          const target = a ? document.getElementById(a.getAttribute('href').slice(1)) : null;
          return {clip: text(tr.querySelector('.clip-name')), href: a ? a.getAttribute('href') : null,
                  targetIsSample: !!target && target.matches('table.samples tr.sample'),
                  targetClip: target ? text(target.querySelector('.clip-name')) : null,
                  targetPreview: !!target && !!target.querySelector('img.preview')};
        })})),
      common: text(document.getElementById('compare-clips')),
      droppedAbsent: text(document.getElementById('dropped-absent')),
    } : null,
  };
})()
"""

SETTLED = ("[...document.querySelectorAll('video')].every(v => v.readyState >= 1 || v.error) && "
           "[...document.querySelectorAll('img')].every(i => i.complete)")


def check_compare(tag, page, csvs, media):
    """The Compare section against the recomputation from the CSVs."""
    want = compare_expected(csvs)
    check(page is not None, f"{tag}: Compare section present")
    if page is None:
        return
    check(page["common"] == str(len(want["common"])) and page["droppedAbsent"] == str(want["dropped"]["absent_from_a_run"]),
          f"{tag}: compared on {len(want['common'])} clips, {want['dropped']['absent_from_a_run']} dropped as absent",
          f"page {page['common']}/{page['droppedAbsent']}")
    shown = [r["top1"].split("%")[0] for r in page["runs"]]
    check(shown == [f"{100 * r['top1'][0]:.2f}" for r in want["runs"]], f"{tag}: each run's top-1 as recomputed",
          f"page {shown}")
    speeds = [r for r in want["runs"] if r["clips_per_s"]]
    check(page["plot"] and len(page["points"]) == len(speeds) > 0, f"{tag}: accuracy-vs-speed plot with one point per "
          f"run that recorded its speed ({len(speeds)})", json.dumps(page["points"]))
    check([p["front"] for p in page["points"]] == [r["pareto"] for r in speeds] and
          page["frontLine"] == (sum(r["pareto"] for r in speeds) > 1), f"{tag}: Pareto front marked as recomputed")
    hostile = [r["label"] for r in page["runs"] if "<script>" in (r["label"] or "")]
    check(len(hostile) == 1 and hostile[0].startswith('<script>alert("m")</script> & \'b\''),
          f"{tag}: a run label with markup and quotes shows as text", f"{[r['label'] for r in page['runs']]}")
    rows = [row for table in page["disagreements"] for row in table["rows"]]
    want_rows = sum(min(len(p["disagree"]), 20) for p in want["pairs"])
    check(len(rows) == want_rows > 0 and [r["clip"] for r in rows] == [v for p in want["pairs"] for v in p["disagree"][:20]],
          f"{tag}: {want_rows} disagreement rows, the clips recomputed", json.dumps([r["clip"] for r in rows]))
    check(all(r["href"] and r["targetIsSample"] and r["targetClip"] == r["clip"] for r in rows),
          f"{tag}: every disagreement links to the existing sample-table row of that clip",
          json.dumps([r for r in rows if not r["targetIsSample"] or r["targetClip"] != r["clip"]]))
    if media:
        check(all(r["targetPreview"] for r in rows), f"{tag}: linked sample rows have previews")


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--page", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--screenshot")
    parser.add_argument("--summary", help="the evaluation's summary.json: its accuracies are the expected ones")
    parser.add_argument("--media", choices=["yes", "no"], default="no",
                        help="yes: the video ingest is implemented, previews and histograms must exist")
    parser.add_argument("--expect-clip", action="append", default=[],
                        help="a clip name that must appear in the sample table as text")
    parser.add_argument("--tag", default="report")
    parser.add_argument("--compare", action="append", default=[],
                        help="another run's results CSV given to the report: the Compare section is checked")
    parser.add_argument("--expect-split", action="append", default=[],
                        help="VERSION:SPLIT:ANNOTATED:DOWNLOADED, a row of the dataset table")
    args = parser.parse_args()

    rows, top_n, top1, topn, by_id = expected_from_csv(args.results)
    evaluated = len(rows)
    source = "the CSV"
    if args.summary:
        with open(args.summary) as f:
            summary = json.load(f)
        top1, topn = summary["top1_accuracy"], summary["topn_accuracy"]
        evaluated = summary["clips"]["evaluated"]
        source = "summary.json"
    url = "file://" + os.path.abspath(args.page)
    with Browser() as browser:
        browser.load(url, settle_expression=SETTLED)
        dom = browser.evaluate(DOM_PROBE)
        problems = browser.problems()
        if args.screenshot:
            os.makedirs(os.path.dirname(os.path.abspath(args.screenshot)), exist_ok=True)
            browser.screenshot(args.screenshot)
        requested = browser.requested_urls()
    tag = args.tag

    check(not problems, f"{tag}: no console errors, exceptions, failed requests or dialogs", "; ".join(problems))
    check(all(u.startswith("file://") or u.startswith("data:") for u in requested),
          f"{tag}: only local files requested (no network)", ", ".join(u for u in requested if not u.startswith(("file://", "data:"))))
    check(dom["scripts"] == 0, f"{tag}: page has no <script> element", f"{dom['scripts']} found")
    want_sections = ["dataset:Dataset", "properties:Video properties", "samples:Sample clips",
                     "resampling:Frame resampling", "evaluation:Evaluation"] + (["compare:Compare"] if args.compare else [])
    check(dom["sections"] == want_sections, f"{tag}: sections in order", f"got {dom['sections']}")

    check(dom["top1"] == f"{100 * top1:.2f}%", f"{tag}: top-1 accuracy {100 * top1:.2f}% as in {source}",
          f"page {dom['top1']!r}")
    check(dom["topn"] == f"{100 * topn:.2f}%", f"{tag}: top-{top_n} accuracy {100 * topn:.2f}% as in {source}",
          f"page {dom['topn']!r}")
    check(dom["evaluated"] == str(evaluated), f"{tag}: evaluated count {evaluated} as in {source}",
          f"page {dom['evaluated']!r}")

    # Each sample row: the labels exactly as in the CSV (escaped markup shows as text).
    rows_ok, red_ok, green_ok, wrong_seen = True, True, True, 0
    for row in dom["rows"]:
        source = by_id.get(row["clip"])
        if source is None:
            rows_ok = False
            print(f"    sample row {row['clip']!r} is not in the CSV")
            continue
        if row["truth"] != source["Ground_Truth"] or row["prediction"] != source["pred_1"]:
            rows_ok = False
            print(f"    {row['clip']}: page truth/pred {row['truth']!r}/{row['prediction']!r}, "
                  f"CSV {source['Ground_Truth']!r}/{source['pred_1']!r}")
        wrong = source["pred_1"] != source["Ground_Truth"]
        if row["correct"] != ("0" if wrong else "1") or row["topkBars"] != top_n:
            rows_ok = False
            print(f"    {row['clip']}: data-correct {row['correct']}, top-k bars {row['topkBars']}")
        if wrong:
            wrong_seen += 1
            red_ok &= row["color"] == "rgb(198, 40, 40)"
        else:
            green_ok &= row["color"] == "rgb(46, 125, 50)"
    check(rows_ok and len(dom["rows"]) > 0, f"{tag}: sample rows show the CSV's labels and predictions as text")
    check(wrong_seen > 0 and red_ok, f"{tag}: a wrong top-1 prediction is red (computed style rgb(198, 40, 40))",
          f"{wrong_seen} wrong rows, colors {[r['color'] for r in dom['rows']]}")
    check(green_ok, f"{tag}: right top-1 predictions are green")
    hostile = [r["Ground_Truth"] for r in rows if "<" in r["Ground_Truth"] or '"' in r["Ground_Truth"]]
    check(all(h in dom["bodyText"] for h in hostile) and len(hostile) > 0,
          f"{tag}: labels with markup and quotes show as text", f"{hostile}")
    for spec in args.expect_split:
        version, split, annotated, downloaded = spec.split(":")
        found = [r for r in dom["splits"] if r[:2] == [version, split]]
        check(len(found) == 1 and found[0][2] == annotated and found[0][4] == downloaded,
              f"{tag}: dataset table row {version} {split}: {annotated} annotated, {downloaded} downloaded",
              f"rows {dom['splits']}")
    truths = sorted({r["Ground_Truth"] for r in rows})
    check(all(t in dom["classBars"] for t in truths), f"{tag}: class distribution names every ground-truth class",
          f"chart {dom['classBars']}, CSV {truths}")
    for name in args.expect_clip:
        check(any(r["clip"] == name for r in dom["rows"]), f"{tag}: clip {name!r} listed as text")

    # Media: every video reaches metadata through its relative link, every image decodes.
    check(len(dom["videos"]) > 0 and all(v["ready"] >= 1 and v["error"] == 0 and v["width"] > 0 for v in dom["videos"]),
          f"{tag}: every <video> loads its clip by relative path", json.dumps(dom["videos"]))
    check(all(not v["src"].startswith("/") and "://" not in v["src"] for v in dom["videos"] + dom["images"]),
          f"{tag}: media links are relative")
    check(all(i["complete"] and i["width"] > 0 for i in dom["images"]), f"{tag}: every image decodes",
          json.dumps([i for i in dom["images"] if not i["width"]]))
    if args.media == "yes":
        check(all(r["preview"] for r in dom["rows"]), f"{tag}: each sample clip has a GIF preview",
              json.dumps([r["previewNote"] for r in dom["rows"]]))
        check(dom["histogramBars"] > 0, f"{tag}: property histograms have bars")
        check(dom["resamplingImages"] > 0, f"{tag}: resampling figure drawn from real frames")
    else:
        # The video ingest is a placeholder in this build: the page must say why, not break.
        check(all(r["previewNote"] for r in dom["rows"]),
              f"{tag}: without video ingest each sample says why it has no preview")
    if args.compare:
        check_compare(tag, dom["compare"], [args.results] + args.compare, args.media == "yes")
        names = [os.path.basename(p) for p in args.compare if "<" in os.path.basename(p)]
        check(names and all(n in dom["bodyText"] for n in names),
              f"{tag}: results file names with markup and quotes show as text", f"{names}")
    if args.screenshot:
        check(os.path.getsize(args.screenshot) > 10000, f"{tag}: screenshot saved to {args.screenshot}")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
