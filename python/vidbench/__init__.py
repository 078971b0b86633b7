"""vidbench: the C video-classification toolkit (libvidbench) from Python.

The layout follows the seed kit's package: vidbench.data (frames, Kinetics), vidbench.models
(the classifier), vidbench.predict (evaluation), vidbench.visualize (report, figures, GIFs),
vidbench.torch (a torch Dataset, only when torch imports). Everything is thin Python over the
extension vidbench._vidbench; the library decides defaults (a model's input size, resize,
frames) and every error is a vidbench.Error carrying the library's message.
"""
from ._vidbench import (CanceledError, Error, FormatError, InvalidArgumentError, IOError, NetworkError,
                        NotFoundError, library_version, probe, write_gif)
from .data import Kinetics, load_annotations, read_frames
from .models import Classifier
from .predict import evaluate
from .visualize import report

__version__ = library_version
__all__ = ["read_frames", "probe", "write_gif", "Classifier", "Kinetics", "load_annotations", "evaluate", "report",
           "Error", "NotFoundError", "InvalidArgumentError", "FormatError", "IOError", "NetworkError",
           "CanceledError"]
