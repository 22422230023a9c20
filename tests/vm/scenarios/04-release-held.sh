#!/bin/sh
# 04-release-held: release while a "VM" still has the GPU open. After attach, vfio-check holds
# the group, the container and the GPU's device fd (as a running QEMU would) until it is
# killed; the kernel's vfio-pci unbind then blocks until the fds are closed. release must not
# hang: it has to return within its write deadline (20 s; the check allows 60 s) with exit 4
# and a message that a VM or another process still holds the device, and status must say a
# recovery is needed. While the holder still runs, recover is tried once more: it must return
# within 60 s with exit 4 and say that the GPU is still held (not blame another gpu-handoff:
# the lock is kept by release's writer, blocked in the kernel), changing nothing. gpu-handoff
# list and doctor run meanwhile and must not block (they read no attribute that takes the
# device lock, driver_override above all). Then the holder is
# killed, the blocked unbind finishes, and recover completes the release: exit 0, and the host
# state equals the state before attach. The measured times are shown as NOTEs. Judged by
# 04-release-held.py.
# tb.firmware: bios
# tb.iommu: pt
# tb.timeout: 300

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
pci_facts
find_gpu
host_state > /tmp/state.before
capture attach gpu-handoff --json attach --yes
step "check:vfio-drivers" "[ '$(drv "$GPU")' = vfio-pci ] && [ '$(drv "$AUD")' = vfio-pci ]"

# 600 s: longer than this scenario, so the holder ends only when it is killed
vfio-check "$GPU" 600 > /tmp/holder.out 2>&1 &
HOLDER=$!
step "holder-opened-the-device" "i=0; while ! grep -q '^holding' /tmp/holder.out && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done;
    cat /tmp/holder.out; grep -q '^holding' /tmp/holder.out"
info "holder vfio-check pid=$HOLDER"

T0=$(now)
capture release-held gpu-handoff --json release
T1=$(now)
note "release while the device is held returned after $((T1 - T0)) ms"
step "check:release-returned-within-60s" "[ $((T1 - T0)) -lt 60000 ]"
step "check:holder-still-running" "kill -0 $HOLDER"
capture status-held gpu-handoff status
# NB: while vfio-pci's remove() is blocked the kernel holds the device lock, so reading the
# GPU's driver_override (show_state, host_state) would block too; only the driver links here
step "state-while-held" "for d in $GPU $AUD; do echo \"\$d driver=\$(basename \"\$(readlink /sys/bus/pci/devices/\$d/driver)\" 2>/dev/null)\"; done;
    ls /dev/vfio; ps | grep -v ']\$'"

# list and doctor read every GPU's sysfs attributes: read-only verbs must not hang while the GPU
# is stuck (none of their reads may take the device lock the blocked unbind holds)
gpu-handoff list > /tmp/list.out 2>&1 &
LIST=$!
gpu-handoff doctor > /tmp/doctor.out 2>&1 &
DOCTOR=$!
sleep 5
if kill -0 "$LIST" 2>/dev/null; then
    note "gpu-handoff list blocks while the vfio unbind is stuck (still running after 5 s; ps: $(grep State /proc/$LIST/status))"
    info "list-blocked yes"
else
    wait "$LIST"; info "list-blocked no rc=$?"
fi
if kill -0 "$DOCTOR" 2>/dev/null; then
    note "gpu-handoff doctor blocks while the vfio unbind is stuck (still running after 5 s; ps: $(grep State /proc/$DOCTOR/status))"
    info "doctor-blocked yes"
else
    wait "$DOCTOR"; info "doctor-blocked no rc=$?"; DOCTOR=
fi

# recover while the holder still has the device: must return within 60 s
gpu-handoff --json recover > /tmp/recover-held.out 2> /tmp/recover-held.err &
REC=$!
T0=$(now)
while kill -0 "$REC" 2>/dev/null && [ $(($(now) - T0)) -lt 60000 ]; do sleep 0.2; done
T1=$(now)
if kill -0 "$REC" 2>/dev/null; then
    step "check:recover-held-returned-within-60s" "echo 'recover still running after $((T1 - T0)) ms'; false"
    info "recover-held blocked"
else
    wait "$REC"; RC=$?
    note "recover while the device is still held returned after $((T1 - T0)) ms with exit $RC"
    echo "TB-BEGIN recover-held"; cat /tmp/recover-held.out; echo "TB-END recover-held rc=$RC ms=$((T1 - T0))"
    if [ -s /tmp/recover-held.err ]; then
        echo "TB-BEGIN recover-held.stderr"; cat /tmp/recover-held.err; echo "TB-END recover-held.stderr rc=$RC"
    fi
fi
step "state-while-held-after-recover" "for d in $GPU $AUD; do echo \"\$d driver=\$(basename \"\$(readlink /sys/bus/pci/devices/\$d/driver)\" 2>/dev/null)\"; done;
    /sbin/lsmod | awk 'NR > 1 { print \$1 }' | grep -E '^(bochs|snd_hda_intel|vfio)' | tr '\n' ' '"

# the VM goes away: the blocked unbind completes, then recover finishes the release
T0=$(now)
kill -9 "$HOLDER"; wait "$HOLDER" 2>/dev/null
step "vfio-unbind-completes" "i=0; while [ \"\$(cat /sys/bus/pci/devices/$GPU/driver_override)\" = vfio-pci ] && [ -e /sys/bus/pci/drivers/vfio-pci/$GPU ] && [ \$i -lt 200 ]; do sleep 0.05; i=\$((i+1)); done"
if [ -n "${LIST:-}" ]; then
    wait "$LIST"; info "list finished (rc $?) $(($(now) - T0)) ms after the holder was killed"
fi
if [ -n "${DOCTOR:-}" ]; then
    wait "$DOCTOR"; info "doctor finished (rc $?) $(($(now) - T0)) ms after the holder was killed"
fi
sleep 1   # the tool's orphaned writers finish their writes
capture recover gpu-handoff --json recover
capture status-after gpu-handoff --json status
wait_state /tmp/state.before "check:state-restored"
dmesg_clean
result
