"""Writes notebooks/video_classification.ipynb from the cells below (run from the repository
root: /usr/bin/python3 python/tools/make_notebook.py); edit here, not the JSON, to keep it reviewable."""
import nbformat
from nbformat.v4 import new_code_cell as code, new_markdown_cell as md, new_notebook

cells = [
md("""# Video classification with vidbench

The seed kit's teaching notebook, rebuilt on the C core through its Python bindings
(`import vidbench`). It walks through

1. **the Kinetics data**: classes and clip counts from the real annotation files,
2. **one clip before and after preprocessing**: frames and a GIF,
3. **classifying it** with the real MoViNet-A0 (and I3D when installed),
4. **a small evaluation** with the seed's accuracy lines,
5. **the HTML report** of that evaluation.

Everything runs offline on the shared data beside the repository (`../shared`), and `make test`
executes this notebook headless."""),
code("""import os
import sys

# The repository root (this notebook lives in notebooks/) and the shared data beside it.
ROOT = os.environ.get("VB_ROOT") or os.path.abspath("..")
SHARED = os.environ.get("VB_SHARED") or os.path.join(os.path.dirname(ROOT), "shared")
OUT = os.environ.get("VB_NOTEBOOK_OUT") or os.path.join(ROOT, "results", "notebook")
os.makedirs(OUT, exist_ok=True)
try:
    import vidbench
except ImportError:  # not installed: the in-place build (python3 python/setup.py build_ext --inplace)
    sys.path.insert(0, os.path.join(ROOT, "python"))
    import vidbench

import matplotlib
import matplotlib.pyplot as plt
import numpy as np
from IPython.display import IFrame, Image, display

print("vidbench", vidbench.__version__, "from", os.path.dirname(vidbench.__file__))"""),
md("""## 1. The Kinetics data

Kinetics annotation files list one clip per row: label, YouTube id, start and end time, split.
`vidbench.load_annotations` parses them with the library's parser (the same one `vidbench data`
uses); here are the validation splits of the three versions."""),
code("""ANNOTATIONS = os.path.join(SHARED, "data", "annotations")
splits = {
    "Kinetics-400 val": os.path.join(ANNOTATIONS, "kinetics400", "val.csv"),
    "Kinetics-600 val": os.path.join(ANNOTATIONS, "kinetics600", "val.csv"),
    "Kinetics-700-2020 val": os.path.join(ANNOTATIONS, "kinetics700_2020", "val.csv"),
}
annotations = {name: vidbench.load_annotations(path) for name, path in splits.items()}
print(f"{'split':<24}{'classes':>8}{'clips':>8}{'min/class':>11}{'max/class':>11}")
for name, a in annotations.items():
    print(f"{name:<24}{len(a['labels']):>8}{a['rows']:>8}{min(a['counts']):>11}{max(a['counts']):>11}")"""),
code("""k400 = annotations["Kinetics-400 val"]
order = np.argsort(k400["counts"])
print("fewest clips:", [(k400["labels"][i], k400["counts"][i]) for i in order[:3]])
print("most clips:  ", [(k400["labels"][i], k400["counts"][i]) for i in order[-3:]])
fig, ax = plt.subplots(figsize=(8, 3))
for name, a in annotations.items():
    ax.hist(a["counts"], bins=30, alpha=0.6, label=name)
ax.set_xlabel("validation clips per class")
ax.set_ylabel("classes")
ax.legend()
plt.show()"""),
md("""## 2. One clip, before and after preprocessing

`vidbench.probe` reads the stream's header. `vidbench.read_frames` decodes and transforms in one
call: the seed's centre square resized to 224 for I3D (`resize="crop"`), the whole frame stretched
to 172 for MoViNet (`resize="stretch"`), resampled to `num_frames` with the seed's rule (frame
*i* = floor(*i* · count / N)). `resize="pad"` at the frame's own size keeps the original pixels."""),
code("""CLIP = os.path.join(SHARED, "data", "videos", "kinetics400", "abseiling_k400.mp4")
info = vidbench.probe(CLIP)
print({k: info[k] for k in ("codec", "width", "height", "fps", "duration_seconds", "frame_count")})

original = vidbench.read_frames(CLIP, num_frames=16, size=max(info["width"], info["height"]), resize="pad",
                                 dtype="uint8")
i3d_input = vidbench.read_frames(CLIP, num_frames=100, size=224, resize="crop")   # float32 in [0, 1]
movinet_input = vidbench.read_frames(CLIP, num_frames=100, size=172, resize="stretch")
for name, x in [("original (padded)", original), ("I3D input", i3d_input), ("MoViNet input", movinet_input)]:
    print(f"{name:<18} {x.dtype} {x.shape} range [{x.min()}, {x.max()}]")"""),
code("""from vidbench.visualize import plot_frames, write_gif

fig, rows = plt.subplots(3, 6, figsize=(12, 6.5))
plot_frames(original, count=6, axes_row=rows[0])
plot_frames(i3d_input, count=6, axes_row=rows[1])
plot_frames(movinet_input, count=6, axes_row=rows[2])
for row, title in zip(rows, ["before: the decoded frames", "after: I3D (224, centre crop)",
                             "after: MoViNet (172, stretched)"]):
    row[0].set_title(title, loc="left", fontsize=10)
plt.tight_layout()
plt.show()"""),
code("""# a lighter copy for the GIF: 25 frames of the same crop at 112 pixels
preview = vidbench.read_frames(CLIP, num_frames=25, size=112, resize="crop", dtype="uint8")
gif = write_gif(preview, os.path.join(OUT, "abseiling_i3d_input.gif"), fps=5)
print(gif, os.path.getsize(gif), "bytes")
display(Image(filename=gif))"""),
md("""## 3. Classify the clip

`vidbench.Classifier` is the library's one classifier: it opens a `.tflite` (MoViNet) or
`.safetensors` (I3D) model and says which input it takes (`input_spec`). It classifies a path
(decoded exactly as the model wants) or frames you already hold."""),
code("""MOVINET_DIR = os.path.join(SHARED, "models", "movinet-a0-stream-int8-k600")
movinet = vidbench.Classifier(weights=os.path.join(MOVINET_DIR, "movinet_a0_stream_int8.tflite"),
                              labels=os.path.join(MOVINET_DIR, "kinetics600_label_map.txt"), num_frames=50)
print(movinet)
print("input:", movinet.input_spec)
top = movinet.classify(CLIP, top=5)
for label, p in top:
    print(f"{p:8.4f}  {label}")
fig, ax = plt.subplots(figsize=(6, 2.5))
ax.barh([label for label, _ in top][::-1], [p for _, p in top][::-1])
ax.set_xlabel("probability (MoViNet-A0, Kinetics-600 classes)")
plt.show()"""),
code("""# The same from frames already in memory: uint8 frames as the model takes them.
frames = movinet.read(CLIP)
print(frames.shape, movinet.classify(frames, top=1))

# I3D (the seed's model) when its weights are installed (vidbench model fetch i3d-kinetics-400).
try:
    i3d = vidbench.Classifier(model="i3d-kinetics-400")
except vidbench.NotFoundError as e:
    print("I3D not installed here:", str(e).splitlines()[0])
else:
    print(i3d, i3d.classify(i3d_input, top=5))"""),
md("""## 4. A small evaluation

`vidbench.evaluate` is the seed's `python scripts/evaluate.py @scripts/config.txt`: the same
argument file, with keyword overrides for any flag. Offline, it runs MoViNet on a `--clips` list
of the real Kinetics-400 clips in `../shared` with their labels, and returns the run's
`summary.json`."""),
code("""VIDEOS = os.path.join(SHARED, "data", "videos", "kinetics400")
clips_csv = os.path.join(OUT, "clips.csv")
with open(clips_csv, "w") as f:
    f.write("# path,label,youtube_id: Kinetics-400 clips from ../shared with their documented labels\\n")
    f.write(f"{VIDEOS}/R6llTwEh07w.mp4,using segway,R6llTwEh07w\\n")
    f.write(f"{VIDEOS}/SOX5yA1l24A.mp4,using segway,SOX5yA1l24A\\n")
    f.write(f"{VIDEOS}/abseiling_k400.mp4,abseiling,\\n")
    f.write(f"{VIDEOS}/mmaction2_demo.mp4,arm wrestling,\\n")

summary = vidbench.evaluate(os.path.join(ROOT, "scripts", "config.txt"), model_type="movinet",
                            weights=os.path.join(MOVINET_DIR, "movinet_a0_stream_int8.tflite"),
                            labels=os.path.join(MOVINET_DIR, "kinetics600_label_map.txt"),
                            clips=clips_csv, num_videos="all", num_frames=50, min_frames=0,
                            results_dir=os.path.join(OUT, "results"), overwrite_output_dir=True,
                            progress=False)
print(summary.accuracy_lines())
print("clips:", summary["clips"])
print("CSV:", summary.csv_path)"""),
code("""import csv

with open(summary.csv_path) as f:
    for row in csv.DictReader(f):
        print(f"{row['video_id']:<16} truth {row['Ground_Truth']!r:<16} -> {row['pred_1']!r} ({float(row['score_1']):.3f})")"""),
md("""## 5. The report

`vidbench.report` writes the same page as `vidbench report`: the evaluation's metrics, per-class
accuracy, the sample clips with their predictions and previews (GIFs of what the model saw)."""),
code("""page = vidbench.report(os.path.join(OUT, "report.html"), evaluation=summary,
                       label_map=os.path.join(MOVINET_DIR, "kinetics600_label_map.txt"),
                       title="MoViNet-A0 on four Kinetics-400 clips")
print(page, os.path.getsize(page), "bytes")
display(IFrame(os.path.relpath(page), width="100%", height=600))"""),
]
nb = new_notebook(cells=cells, metadata={
    "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
    "language_info": {"name": "python"}})
nbformat.write(nb, "notebooks/video_classification.ipynb")
