# SPDX-License-Identifier: GPL-2.0-or-later
"""12-grub-rescue: see the .sh file."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootchecks  # noqa: E402


def check(t):
    gpu = (t.log.fact("gpu") or "").split()
    doc = t.json("setup-refused", rcs=(1,))
    if doc is not None:
        t.expect(doc.get("refused"), "setup of the only GPU without --yes is refused")
        t.equal("setup-refused: files", doc.get("files"), [])
    bootchecks.check_setup_applied(t, "setup", add=bootchecks.VT_D_ADD + ["gpu_handoff.vfio=1"], vfio=gpu)
    doc = t.json("rescue-undo")
    if doc is not None:
        t.equal("rescue-undo: outcome", doc.get("outcome"), "undone")
    hows = [b[1] for b in bootchecks.boots(t)]
    t.equal("boots", hows, ["disk", "disk", "rescue", "disk"])
    t.equal("/proc/cmdline after the rescue", bootchecks.words(t.log.fact("cmdline-undone")),
            bootchecks.words(t.log.fact("cmdline-before")))
    bootchecks.check_status(t, "status-2", "none")
