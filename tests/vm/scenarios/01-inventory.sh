#!/bin/sh
# 01-inventory: "gpu-handoff list" and "gpu-handoff doctor" on the testbed machine with the
# IOMMU on. The guest only runs the tool and prints what it says (human and JSON output, exit
# status) next to the ground truth from sysfs (FACT lines); 01-inventory.py on the host parses
# the JSON and checks that the tool agrees with the machine: the GPU 01:00.0 and its audio
# function 01:00.1 alone in one IOMMU group, the root port 00:02.0 in its own, IOMMU enabled,
# group "isolated", bochs-drm bound, ... The tool must change nothing (it only reads).
# tb.firmware: bios
# tb.iommu: pt

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
if [ -z "$TB_TOOL" ] || [ ! -x "$TB_TOOL" ]; then
    echo "RESULT FAIL (gpu-handoff is not in the guest)"; exit 1
fi
pci_facts
pci_snapshot > /tmp/pci.before
# exit status 1 from doctor means "not ready" (no KVM in this guest); the checker judges them
capture list gpu-handoff list
capture list-json gpu-handoff --json list
capture list-gpus-json gpu-handoff --json list --gpus
capture doctor gpu-handoff doctor
capture doctor-json gpu-handoff --json doctor
pci_snapshot > /tmp/pci.after
step "check:drivers-unchanged" "diff -u /tmp/pci.before /tmp/pci.after"
result
