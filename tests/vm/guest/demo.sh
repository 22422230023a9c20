#!/bin/sh
# Guest side of tests/vm/demo: what gpu-handoff says about the testbed machine, the plan, then
# the real hand-over of the emulated GPU to vfio-pci and back, with each step's time.
# shellcheck source=lib.sh
. /tb/lib/lib.sh
banner() { echo "DEMO $*"; }
if [ -z "$TB_TOOL" ]; then
    banner "(no gpu-handoff in the guest: pass --tool PATH; showing the kernel baseline cycle instead)"
    exec /tb/scenarios/00-kernel-baseline.sh
fi
banner "gpu-handoff list"
gpu-handoff list
banner "gpu-handoff doctor"
gpu-handoff doctor
echo "(exit status $?)"
banner "gpu-handoff attach --dry-run --yes: the plan"
gpu-handoff attach --dry-run --yes
banner "gpu-handoff attach --yes: lend the GPU and its audio function to vfio-pci"
gpu-handoff attach --yes
echo "(exit status $?)"
banner "gpu-handoff status"
gpu-handoff status
banner "the VFIO API on the lent group, as QEMU would use it (open, map DMA)"
vfio-check 0000:01:00.0 && echo "vfio-check: the group is usable by a VM"
banner "gpu-handoff release: give it back"
gpu-handoff release
echo "(exit status $?)"
banner "after release"
echo "drivers: 01:00.0 $(basename "$(readlink /sys/bus/pci/devices/0000:01:00.0/driver)")," \
     "01:00.1 $(basename "$(readlink /sys/bus/pci/devices/0000:01:00.1/driver)")"
echo "framebuffer console: $(cat /proc/fb)"
