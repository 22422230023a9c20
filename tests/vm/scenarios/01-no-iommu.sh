#!/bin/sh
# 01-no-iommu: the same machine booted without the emulated IOMMU (no VT-d device, no DMAR
# table, no intel_iommu=on): there are no IOMMU groups. "gpu-handoff doctor" must say that the
# IOMMU is off (iommu_enabled false, ready false, exit status 1) with a finding that tells
# how to enable it; "list" shows every device as ungrouped. Judged by 01-no-iommu.py.
# tb.firmware: bios
# tb.iommu: off

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
if [ -z "$TB_TOOL" ] || [ ! -x "$TB_TOOL" ]; then
    echo "RESULT FAIL (gpu-handoff is not in the guest)"; exit 1
fi
pci_facts
capture list-json gpu-handoff --json list
capture list-group gpu-handoff list --group 0
capture doctor gpu-handoff doctor
capture doctor-json gpu-handoff --json doctor
result
