#!/bin/sh
# 01-iommu-param-off: the emulated VT-d is there (the firmware has a DMAR table) but the kernel
# does not use it (intel_iommu=off): no IOMMU groups although the hardware has an IOMMU.
# doctor must tell to enable it on the kernel command line (intel_iommu=on). Same guest side
# as 01-no-iommu; judged by 01-iommu-param-off.py.
# (Without any intel_iommu= parameter Debian's 6.1 kernel turns the emulated VT-d on by
# itself - groups appear - so the parameter-missing case cannot be shown with it.)
# tb.firmware: bios
# tb.iommu: no-param
# tb.append: intel_iommu=off
exec /tb/scenarios/01-no-iommu.sh
