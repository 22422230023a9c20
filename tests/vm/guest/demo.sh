#!/bin/sh
# Guest side of tests/vm/demo: what gpu-handoff says about the testbed machine, then the
# hand-over cycle. Until the engine exists the cycle is the manual one of the scenario
# 00-kernel-baseline (the engine issue replaces it with gpu-handoff attach / release).
# shellcheck source=lib.sh
. /tb/lib/lib.sh
banner() { echo "DEMO $*"; }
if [ -n "$TB_TOOL" ]; then
    banner "gpu-handoff list"
    gpu-handoff list
    banner "gpu-handoff doctor"
    gpu-handoff doctor
    echo "(exit status $?)"
    banner "gpu-handoff attach --dry-run --yes (the plan; this version does not apply it yet)"
    gpu-handoff attach --dry-run --yes
else
    banner "(no gpu-handoff in the guest: pass --tool PATH to see list and doctor)"
fi
banner "GPU hand-over to vfio-pci and back, done by hand (gpu-handoff attach/release will do this)"
/tb/scenarios/00-kernel-baseline.sh
