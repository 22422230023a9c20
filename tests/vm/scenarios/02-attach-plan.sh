#!/bin/sh
# 02-attach-plan: "gpu-handoff attach --dry-run" on the real kernel. The plan for the testbed's
# single GPU must name the real module behind bochs-drm (from sysfs, not a guess), unbind the
# framebuffer console, refuse without --yes (the GPU drives the console), and change nothing.
# Judged by 02-attach-plan.py on the host.
# tb.firmware: bios
# tb.iommu: pt

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
if [ -z "$TB_TOOL" ] || [ ! -x "$TB_TOOL" ]; then
    echo "RESULT FAIL (gpu-handoff is not in the guest)"; exit 1
fi
pci_facts
pci_snapshot > /tmp/pci.before
/sbin/lsmod > /tmp/modules.before
capture plan-refused gpu-handoff attach --dry-run
capture plan-json gpu-handoff --json attach --dry-run --yes
capture plan gpu-handoff attach --dry-run --yes 01:00.0
pci_snapshot > /tmp/pci.after
/sbin/lsmod > /tmp/modules.after
step "check:drivers-unchanged" "diff -u /tmp/pci.before /tmp/pci.after"
step "check:modules-unchanged" "diff -u /tmp/modules.before /tmp/modules.after"
result
