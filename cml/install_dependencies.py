"""AMP task 1: the Debian packages vidbench builds with (scripts/install-deps.sh, which does
nothing when they are all present), then the build. Where the session may not install packages
(no root), the script names the missing ones instead of failing halfway."""
import os
import subprocess
import sys

from amp_common import ROOT, run

if os.geteuid() == 0:
    run(["scripts/install-deps.sh"])
else:
    missing = []
    with open(os.path.join(ROOT, "scripts/install-deps.sh")) as f:
        text = f.read()
    names = text.split("packages=(", 1)[1].split(")", 1)[0].split()
    for name in names:
        p = subprocess.run(["dpkg-query", "-W", "-f=${Status}", name], capture_output=True, text=True)
        if "install ok installed" not in p.stdout:
            missing.append(name)
    if missing:
        print("not root: ask an administrator (or use a runtime) with these Debian packages: " + " ".join(missing),
              file=sys.stderr)
        sys.exit(1)
run(["make", "-j%d" % (os.cpu_count() or 2)])
print("vidbench built: %s" % os.path.join(ROOT, "build/vidbench"))
