"""Builds the vidbench Python package: pure Python over the C extension vidbench._vidbench,
which links the static libvidbench.a the Makefile builds (with -fPIC) and the same
pkg-config libraries. Offline on Debian 12:

    make -j2                                    # build/libvidbench.a
    python3 python/setup.py build_ext --inplace # or: pip install --no-build-isolation ./python

VB_BUILD names the build folder whose libvidbench.a is linked (default ../build, relative to
this file); a folder named *san* (make SAN=1: build-san) also compiles and links the extension
with the sanitizer flags, and Python must then run with the ASan runtime preloaded
(tests/cli/python.sh shows how)."""
import os
import shlex
import subprocess

import numpy
from setuptools import Extension, setup

HERE = os.path.dirname(os.path.abspath(__file__))
os.chdir(HERE)  # setuptools takes sources and packages relative to the working directory
ROOT = os.path.dirname(HERE)
BUILD = os.path.abspath(os.environ.get("VB_BUILD") or os.path.join(ROOT, "build"))
LIBRARY = os.path.join(BUILD, "libvidbench.a")
# The Makefile's PKGS and extra libraries: the static library needs them all.
PKGS = "libavformat libavcodec libavutil libswscale libavfilter libcurl libarchive sqlite3 libcjson".split()
SANITIZED = "san" in os.path.basename(BUILD)
SAN_FLAGS = ["-fsanitize=address,undefined", "-fno-sanitize-recover=all", "-fno-omit-frame-pointer"]


def pkg_config_libs():
    try:
        out = subprocess.run(["pkg-config", "--libs"] + PKGS, check=True, capture_output=True, text=True).stdout
    except (OSError, subprocess.CalledProcessError) as e:
        raise SystemExit(f"setup.py: pkg-config --libs {' '.join(PKGS)} failed ({e}); run scripts/install-deps.sh")
    return shlex.split(out) + ["-ldnnl", "-lcrypto", "-lm", "-lpthread"]


if not os.path.exists(LIBRARY):
    raise SystemExit(f"setup.py: {LIBRARY} not found: run `make` (or `make SAN=1`) in {ROOT} first, "
                     "or set VB_BUILD to the build folder")

extension = Extension(
    "vidbench._vidbench",
    sources=["src/module.c", "src/video.c", "src/classifier.c", "src/dataset.c", "src/evaluate.c"],
    include_dirs=[os.path.join(ROOT, "include"), numpy.get_include()],
    extra_compile_args=["-std=gnu11", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers",
                        "-Werror=implicit-function-declaration",
                        "-fvisibility=hidden"]  # only PyInit__vidbench is exported
    + (SAN_FLAGS + ["-O1", "-g"] if SANITIZED else []),
    # the whole archive is not needed: the linker takes the objects the module references
    extra_objects=[LIBRARY],
    extra_link_args=pkg_config_libs() + (SAN_FLAGS if SANITIZED else []),
    # rebuilt when the library changes (setuptools otherwise looks at the sources only)
    depends=[LIBRARY, "src/module.h"] + [os.path.join(ROOT, "include", "vidbench", h)
                         for h in sorted(os.listdir(os.path.join(ROOT, "include", "vidbench")))],
)

setup(
    name="vidbench",
    version="0.1.0",
    description="Python bindings of libvidbench: video frames, I3D/MoViNet classification, Kinetics data, "
                "evaluation and reports",
    packages=["vidbench"],
    ext_modules=[extension],
    python_requires=">=3.9",
)
