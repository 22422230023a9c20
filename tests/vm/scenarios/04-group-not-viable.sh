#!/bin/sh
# 04-group-not-viable: an IOMMU group that is only half on vfio-pci is useless to a VM, and
# gpu-handoff must notice.
#   A. By hand, the GPU goes to vfio-pci while its audio function stays on snd_hda_intel.
#      vfio-check must find the group not viable; doctor --json and list --json are captured
#      with what they say about it (the checker reports whether doctor warns). Then
#      attach --yes must finish the job (take the audio function too: the group becomes
#      viable) and release must give back only what attach took (the GPU stays on vfio-pci,
#      as it was). Undone by hand; the host state must equal the initial one.
#   B. gpu-handoff's own viability check: its last step, wait-vfio-group, waits for
#      /dev/vfio/N and then refuses a group with a member on a host driver. To get there
#      deterministically a tmpfs hides /dev/vfio, so the step keeps waiting; meanwhile the
#      audio function is taken from vfio-pci and given back to snd_hda_intel (what a udev
#      rule or another tool could do), then /dev/vfio/N is made to appear. attach must fail at
#      that step naming the member and its driver, roll back (exit 3) and leave the host as
#      it was.
# Judged by 04-group-not-viable.py.
# tb.firmware: bios
# tb.iommu: pt

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
pci_facts
find_gpu
GROUP=$(group_of "$GPU")
J=/run/gpu-handoff/journal
host_state > /tmp/state.before

# --- A. the GPU on vfio-pci by hand, audio left on snd_hda_intel ------------------------------
step "hand:unbind-gpu" "echo $GPU > /sys/bus/pci/drivers/bochs-drm/unbind"
step "hand:modprobe-vfio-pci" "/sbin/modprobe vfio-pci"
step "hand:bind-gpu-vfio" "echo vfio-pci > /sys/bus/pci/devices/$GPU/driver_override && echo $GPU > /sys/bus/pci/drivers_probe &&
    [ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU/driver)\")\" = vfio-pci ]"
step "hand:audio-still-on-host" "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$AUD/driver)\")\" = snd_hda_intel ]"
step "hand:group-node" "wait_for() { i=0; while [ ! -c /dev/vfio/$GROUP ] && [ \$i -lt 100 ]; do sleep 0.05; i=\$((i+1)); done; }; wait_for; ls -l /dev/vfio/$GROUP"
xstep "check:vfio-check-not-viable" "vfio-check $GPU"
step "check:vfio-check-says-not-viable" "vfio-check $GPU 2>&1 | grep -x 'group=$GROUP viable=0'"
show_state "half on vfio-pci"
host_state > /tmp/state.half
capture doctor-half gpu-handoff --json doctor
capture list-half gpu-handoff --json list
capture doctor-half-human gpu-handoff doctor
capture plan-half gpu-handoff --json attach --dry-run --yes
capture attach-half gpu-handoff --json attach --yes
step "check:group-complete" "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$AUD/driver)\")\" = vfio-pci ] && vfio-check $GPU | grep -x 'group=$GROUP viable=1'"
capture release-half gpu-handoff --json release
wait_state /tmp/state.half "check:release-gave-back-only-the-audio-function"
# undo by hand
step "hand:unbind-gpu-vfio" "echo $GPU > /sys/bus/pci/drivers/vfio-pci/unbind && echo > /sys/bus/pci/devices/$GPU/driver_override"
step "hand:unload-vfio" "for m in vfio_pci vfio_pci_core vfio_virqfd vfio_iommu_type1 vfio; do
    ! grep -q \"^\$m \" /proc/modules || /sbin/rmmod \$m || exit 1; done"
step "hand:bind-gpu-bochs" "echo $GPU > /sys/bus/pci/drivers/bochs-drm/bind"
wait_state /tmp/state.before "check:state-restored-after-A"

# --- B. a group member back on a host driver when wait-vfio-group checks ---------------------
mkdir -p /dev/vfio
step "hide-dev-vfio" "mount -t tmpfs -o mode=0755 tmpfs /dev/vfio"
gpu-handoff --json attach --yes > /tmp/attach-race.out 2> /tmp/attach-race.err &
ATT=$!
step "attach-reached-wait-vfio-group" "i=0; while ! grep -q '^begin [0-9]* wait-vfio-group $GROUP\$' $J && [ \$i -lt 400 ]; do sleep 0.02; i=\$((i+1)); done;
    cat $J; grep -q '^begin [0-9]* wait-vfio-group $GROUP\$' $J"
step "audio-back-to-snd_hda_intel" "echo $AUD > /sys/bus/pci/drivers/vfio-pci/unbind && echo > /sys/bus/pci/devices/$AUD/driver_override &&
    /sbin/modprobe snd_hda_intel && [ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$AUD/driver)\")\" = snd_hda_intel ]"
step "dev-vfio-node-appears" "touch /dev/vfio/$GROUP"
T0=$(now)
wait "$ATT"; RC=$?
info "attach returned $(($(now) - T0)) ms after /dev/vfio/$GROUP appeared"
echo "TB-BEGIN attach-race"; cat /tmp/attach-race.out; echo "TB-END attach-race rc=$RC"
if [ -s /tmp/attach-race.err ]; then
    echo "TB-BEGIN attach-race.stderr"; cat /tmp/attach-race.err; echo "TB-END attach-race.stderr rc=$RC"
fi
step "unhide-dev-vfio" "umount /dev/vfio"
wait_state /tmp/state.before "check:state-restored-after-B"
dmesg_clean
result
