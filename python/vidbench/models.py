"""Models (the seed's models.py): the library's one classifier, I3D (.safetensors) or MoViNet
(.tflite), opened from an installed registry model or an explicit weights file."""
import numpy as np

from . import _vidbench
from .data import read_frames

def resolve(name):
    """(weights, labels) of an installed registry model (vidbench model fetch NAME installs)."""
    return _vidbench.resolve_model(name)


def _resolve_default():
    """(name, (weights, labels)) of the model `vidbench classify` opens when none is named (the
    library decides: vb_model_resolve_default)."""
    return _vidbench.resolve_default_model()


class Classifier:
    """Classifier(model=None, weights=None, labels=None, threads=0, num_frames=0, backend='onednn',
    precision='auto').

    model: a registry name; weights: a .safetensors (I3D) or .tflite (MoViNet) file with its
    label map in labels. Neither: the default model, as `vidbench classify`. threads 0: automatic.
    precision: 'auto' (what the file holds), 'fp32', 'bf16' (AMX only, else fp32: see .note) or
    'int8' (a file from `vidbench model quantize`); .precision and .isa say what runs.
    Inputs: a video path (decoded as input_spec says), uint8 frames [T,S,S,3], or float32 frames
    in [0,1] [T,S,S,3] or a batch [B,T,S,S,3]."""

    def __init__(self, model=None, weights=None, labels=None, threads=0, num_frames=0, backend="onednn",
                 precision="auto"):
        if model is not None and weights is not None:
            raise _vidbench.InvalidArgumentError("Classifier: give model or weights, not both")
        if weights is None:
            if model is None:
                model, (weights, default_labels) = _resolve_default()
            else:
                weights, default_labels = resolve(model)
            if labels is None and default_labels:
                labels = default_labels
        self.model = model
        self.weights = weights
        self._c = _vidbench._Classifier(weights, labels, threads=threads, num_frames=num_frames, backend=backend,
                                        precision=precision)

    def __repr__(self):
        return (f"Classifier({self.model or self.weights!r}: {self.kind}, {self.num_classes} classes, "
                f"{self.threads} threads, {self.precision})")

    input_spec = property(lambda self: self._c.input_spec, doc="size, resize, frames, value_range: what the model takes")
    labels = property(lambda self: self._c.labels, doc="class names (None without a label map)")
    kind = property(lambda self: self._c.kind, doc="'i3d' or 'movinet'")
    num_classes = property(lambda self: self._c.num_classes)
    threads = property(lambda self: self._c.threads, doc="threads the model runs with")
    precision = property(lambda self: self._c.precision, doc="'fp32', 'bf16' or 'int8': what the model computes in")
    isa = property(lambda self: self._c.isa, doc="I3D: the oneDNN ISA its kernels use; None for MoViNet")
    note = property(lambda self: self._c.note, doc="why the run differs from what was asked, or ''")

    def read(self, path, dtype="uint8"):
        """The frames of a file as this model takes them (its size, resize and frame count)."""
        spec = self.input_spec
        return read_frames(path, num_frames=spec["frames"], size=spec["size"], resize=spec["resize"], dtype=dtype)

    def logits(self, x):
        """Logits [classes] (or [B,classes] for a float32 batch)."""
        return self._c.logits(x)

    def probabilities(self, x):
        """Softmax of the logits, as `vidbench classify` computes it."""
        return self._c.probabilities(x)

    def classify(self, x, top=5):
        """[(label, probability)] of the top classes, most probable first (a list of such lists
        for a batch). Without a label map the label is the class id."""
        p = self._c.probabilities(x)
        if p.ndim == 2:
            return [self._c.top_k(row, top) for row in p]
        return self._c.top_k(p, top)

    def top_k(self, probabilities, k=5):
        return self._c.top_k(np.ascontiguousarray(probabilities, dtype=np.float32), k)
