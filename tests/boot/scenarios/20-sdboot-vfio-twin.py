# SPDX-License-Identifier: GPL-2.0-or-later
"""20-sdboot-vfio-twin: see the .sh file (bootchecks.check_vfio_twin)."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bootchecks  # noqa: E402


def check(t):
    bootchecks.check_vfio_twin(t, attach=False)
