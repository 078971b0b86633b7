"""What the AMP's task scripts share: the repository root, the built tool, and running it with
its output shown (a CML session or job log is the user's only view)."""
import os
import shlex
import subprocess
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
VIDBENCH = os.path.join(ROOT, "build", "vidbench")


def run(args, **kwargs):
    """Runs a command from the repository root, echoing it; exits with its status on failure."""
    print("+ " + " ".join(shlex.quote(a) for a in args), flush=True)
    rc = subprocess.call(args, cwd=ROOT, **kwargs)
    if rc != 0:
        print("command failed with exit status %d" % rc, file=sys.stderr)
        sys.exit(rc)


def env_args(name):
    """Extra arguments from an environment variable, split like a shell would."""
    return shlex.split(os.environ.get(name, ""))
