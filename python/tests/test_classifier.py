"""vidbench.Classifier: the same classes and probabilities as `vidbench classify --format json`,
array inputs, and errors that carry the library's message (bad model files, wrong shapes)."""
import json
import os
import shutil

import numpy as np
import pytest

import vidbench
from conftest import MOVINET, MOVINET_LABELS, SANITIZED, VIDEOS, cli

CLIPS = ["kinetics400/abseiling_k400.mp4", "kinetics400/SOX5yA1l24A.mp4"]
FRAMES = 8 if SANITIZED else 32  # MoViNet runs every frame by default; fewer keep the suite fast


@pytest.fixture(scope="module")
def movinet():
    return vidbench.Classifier(weights=MOVINET, labels=MOVINET_LABELS, threads=2, num_frames=FRAMES)


def test_classify_equals_cli_json(movinet):
    paths = [os.path.join(VIDEOS, c) for c in CLIPS]
    args = ["classify", "--format", "json", "--weights", MOVINET, "--labels", MOVINET_LABELS, "--top", 5,
            "--threads", 2, "--num-frames", FRAMES]
    ref = json.loads(cli(*args, *paths).stdout)
    for path, entry in zip(paths, ref):
        mine = movinet.classify(path, top=5)
        # cJSON prints 15 significant digits: enough to give back the float32 the library computed
        theirs = [(t["label"], np.float32(t["probability"])) for t in entry["top"]]
        assert [(label, np.float32(p)) for label, p in mine] == theirs, f"{path}: {mine} != {theirs}"


def test_input_spec_is_the_librarys(movinet):
    spec = movinet.input_spec
    assert (spec["size"], spec["resize"], spec["frames"], spec["value_range"]) == (172, "stretch", FRAMES, (0.0, 1.0))
    assert movinet.kind == "movinet" and movinet.num_classes == 600 and len(movinet.labels) == 600
    assert movinet.labels[0] == "abseiling"


def test_frames_input_equals_path_input(movinet):
    path = os.path.join(VIDEOS, CLIPS[0])
    frames = movinet.read(path)
    assert frames.dtype == np.uint8 and frames.shape[1:] == (172, 172, 3)
    assert np.array_equal(movinet.logits(frames), movinet.logits(path))
    probabilities = movinet.probabilities(frames)
    assert abs(float(probabilities.sum()) - 1.0) < 1e-5
    assert movinet.classify(frames) == movinet.top_k(probabilities)


def test_wrong_shape_names_what_the_model_takes(movinet):
    with pytest.raises(vidbench.FormatError, match=r"takes uint8 \[T,172,172,3\]") as e:
        movinet.logits(np.zeros((4, 224, 224, 3), np.uint8))
    assert isinstance(e.value, ValueError)
    with pytest.raises(vidbench.FormatError):
        movinet.logits(np.zeros((4, 172, 172, 3), np.float64))


@pytest.mark.parametrize("kind", ["truncated", "video", "missing"])
def test_bad_model_file_raises_with_the_librarys_message(kind, tmp):
    bad = tmp / "model.tflite"
    if kind == "truncated":
        bad.write_bytes(open(MOVINET, "rb").read()[:4096])
    elif kind == "video":
        shutil.copy(os.path.join(VIDEOS, CLIPS[0]), bad)
    with pytest.raises(vidbench.Error) as e:
        vidbench.Classifier(weights=bad, labels=MOVINET_LABELS)
    assert str(bad) in str(e.value)
    if kind == "missing":
        assert isinstance(e.value, FileNotFoundError)
    else:
        assert isinstance(e.value, vidbench.FormatError) and isinstance(e.value, ValueError)
    # the CLI reports the same sentence
    proc = cli("classify", "--weights", bad, "--labels", MOVINET_LABELS, os.path.join(VIDEOS, CLIPS[0]), check=False)
    assert proc.returncode != 0 and str(e.value) in proc.stderr, proc.stderr


def test_unknown_weights_type_and_model_name(tmp):
    with pytest.raises(vidbench.Error, match="model.onnx"):
        vidbench.Classifier(weights=tmp / "model.onnx")
    with pytest.raises(vidbench.NotFoundError, match="no-such-model"):
        vidbench.Classifier(model="no-such-model")
    with pytest.raises(ValueError, match="not both"):
        vidbench.Classifier(model="x", weights=MOVINET)


def test_one_classifier_from_two_threads(movinet):
    """Calls run without the GIL; the classifier serialises them, so results equal serial ones."""
    from concurrent.futures import ThreadPoolExecutor

    clips = [movinet.read(os.path.join(VIDEOS, c))[:8] for c in CLIPS]
    serial = [movinet.logits(c) for c in clips]
    with ThreadPoolExecutor(2) as pool:
        parallel = list(pool.map(movinet.logits, clips * 2))
    for got, want in zip(parallel, serial * 2):
        assert np.array_equal(got, want)


def test_precision_int8_equals_cli(tmp):
    """An int8 model from `vidbench model quantize` runs with precision='int8' (and 'auto'), names
    its precision and ISA, and gives the CLI's probabilities; fp32 on it is refused."""
    golden = os.path.join(os.path.dirname(VIDEOS), "..", "golden", "i3d-tiny-k400", "weights.safetensors")
    labels = os.path.join(os.path.dirname(VIDEOS), "labelmaps", "kinetics400_label_map.txt")
    int8 = str(tmp / "int8.safetensors")
    clip = os.path.join(VIDEOS, CLIPS[0])
    cli("model", "quantize", "--weights", golden, "--calibration", os.path.join(VIDEOS, CLIPS[1]), "--num-frames", 16,
        "-o", int8)
    for precision in ("int8", "auto"):
        model = vidbench.Classifier(weights=int8, labels=labels, threads=2, num_frames=16, precision=precision)
        assert model.precision == "int8" and model.isa, (model.precision, model.isa)
        ref = json.loads(cli("classify", "--format", "json", "--weights", int8, "--labels", labels, "--top", 3,
                             "--threads", 2, "--num-frames", 16, clip).stdout)[0]
        assert ref["precision"] == "int8"
        theirs = [(t["label"], np.float32(t["probability"])) for t in ref["top"]]
        assert [(label, np.float32(p)) for label, p in model.classify(clip, top=3)] == theirs
    with pytest.raises(vidbench.Error, match="int8 model"):
        vidbench.Classifier(weights=int8, labels=labels, precision="fp32")
    with pytest.raises(vidbench.InvalidArgumentError, match="precision must be"):
        vidbench.Classifier(weights=int8, labels=labels, precision="int4")
