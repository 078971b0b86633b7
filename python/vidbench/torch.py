"""vidbench.torch: a torch.utils.data.Dataset over the library's clip cache. Imports only when
torch does (import vidbench.torch raises ImportError otherwise)."""
import os

import numpy as np
import torch
import torch.utils.data

from . import _vidbench
from .data import Kinetics


class KineticsClips(torch.utils.data.Dataset):
    """The prepared clips of a Kinetics version/split as (tensor float32 [C,T,H,W] in [0,1],
    label index) pairs; label index -1 for unlabelled clips, class names in .classes (the
    annotations' sorted labels). Clips are listed once here; each DataLoader worker opens its
    own handle on the cache (nothing from the library crosses a fork)."""

    def __init__(self, kinetics=None, **kinetics_args):
        if kinetics is None:
            kinetics = Kinetics(**kinetics_args)
        elif kinetics_args:
            raise TypeError("KineticsClips: pass a Kinetics or its arguments, not both")
        self.version, self.split, self.data_dir = kinetics.version, kinetics.split, kinetics.data_dir
        self.params = dict(kinetics.params)
        self.classes = kinetics.classes()
        index = {name: i for i, name in enumerate(self.classes)}
        self.clips = [(c["clip_id"], index.get(c["label"], -1)) for c in kinetics.clips(prepared_only=True)]
        self._dataset, self._pid = None, None

    def __len__(self):
        return len(self.clips)

    def __getstate__(self):  # workers get the list, not a library handle
        state = dict(self.__dict__)
        state["_dataset"] = state["_pid"] = None
        return state

    def __getitem__(self, i):
        if self._dataset is None or self._pid != os.getpid():
            self._dataset, self._pid = _vidbench._Dataset(self.data_dir), os.getpid()
        clip_id, label = self.clips[i]
        frames = self._dataset.load_prepared(self.version, self.split, clip_id, dtype="float32", **self.params)
        return torch.from_numpy(np.ascontiguousarray(frames.transpose(3, 0, 1, 2))), label
