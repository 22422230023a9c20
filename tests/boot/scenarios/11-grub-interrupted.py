# SPDX-License-Identifier: GPL-2.0-or-later
"""11-grub-interrupted: see the .sh file."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootchecks  # noqa: E402


def recovered(t, name):
    b = t.block(name)
    if b is not None:
        t.equal(f"{name}: exit status", b.rc, 0)
        t.expect("interrupted: undoing what it left first" in b.text, f"{name} says it settled the setup")


def check(t):
    # A: the generator failed; everything rolled back and the generator ran on the old files
    doc = t.json("setup-fails", rcs=(3,))
    if doc is not None:
        t.equal("setup-fails: outcome", doc.get("outcome"), "rolled-back")
        failed = [s["step"] for s in doc.get("steps", []) if s.get("state") == "failed"]
        t.expect(any("update-initramfs" in s for s in failed), f"the failed step is the generator: {failed}")
    bootchecks.check_status(t, "status-A", "none")
    # B, C: killed during a generator (after the files; after the initramfs generator), recovered
    bootchecks.check_status(t, "status-B", "interrupted")
    recovered(t, "recover-B")
    bootchecks.check_status(t, "status-B2", "none")
    recovered(t, "recover-C")
    bootchecks.check_status(t, "status-C2", "none")
    # D: killed during update-grub, the next setup settles it and applies; from there on the IOMMU
    # scenario: rebooted, ready, undone, rebooted, as before
    bootchecks.check_status(t, "status-D", "interrupted")
    bootchecks.check_iommu_round_trip(t, setup="setup-D", applied_status=None)
