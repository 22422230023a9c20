#!/bin/sh
# 09-reset: gpu-handoff reset and the once-per-boot lends on the real kernel.
#  1. reset_method has the kernel's semantics the kernel model (tests/kmodel) claims: "" empties
#     it, "default" brings the kernel's list back, a method the device does not offer is EINVAL.
#  2. With the GPU unbound and its audio function on snd_hda_intel, a bus reset of the GPU is
#     refused, naming 0000:01:00.1 and its driver, and nothing changes.
#  3. With both functions free, the bus reset of the GPU goes through the root port's
#     reset_subordinate where the kernel has it (Linux 6.13+) and the GPU comes back (config
#     space answers, vendor 1234, D0); on older kernels it is refused naming reset_subordinate.
#     --remove-rescan then removes the GPU and rescans the port, and the GPU comes back.
#  4. A test quirks file makes the testbed's GPU (1234:1111) a card that cannot reset: the first
#     attach and release work (release checks that it answers), the second attach of the boot is
#     refused with the reason and the remedy, --force lends it anyway.
# The host ends as it began. Judged by 09-reset.py.
# tb.firmware: bios
# tb.iommu: pt
# tb.timeout: 300

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
GPU=0000:01:00.0 AUDIO=0000:01:00.1 PORT=0000:00:02.0
D=/sys/bus/pci/devices
host_state > /tmp/state.before
for v in /sys/class/vtconsole/vtcon*; do echo "$v $(cat "$v/bind")"; done > /tmp/vtcon.before
info "reset_method gpu=\"$(cat $D/$GPU/reset_method 2>/dev/null)\" audio=\"$(cat $D/$AUDIO/reset_method 2>/dev/null)\""
if [ -e $D/$PORT/reset_subordinate ]; then info "reset_subordinate=yes"; else info "reset_subordinate=no"; fi

# 1. reset_method as the kernel model has it
if [ -e $D/$GPU/reset_method ]; then
    DEFAULT=$(cat $D/$GPU/reset_method)
    step "reset-method:empty" "echo > $D/$GPU/reset_method && [ -z \"\$(cat $D/$GPU/reset_method)\" ]"
    # "default" probes the methods again: the GPU's "bus", listed at boot before its audio
    # function joined the bus, is gone then (the kernel model keeps the boot list)
    step "reset-method:default" "echo default > $D/$GPU/reset_method"
    AGAIN=$(cat $D/$GPU/reset_method)
    info "reset_method boot=\"$DEFAULT\" default=\"$AGAIN\""
    xstep "reset-method:unsupported" "echo cxl_bus > $D/$GPU/reset_method"
    step "reset-method:unchanged" "[ \"\$(cat $D/$GPU/reset_method)\" = \"$AGAIN\" ]"
fi

# 2. the GPU unbound, its audio function in use: a bus reset is refused, naming it
step "unbind-gpu" "echo $GPU > /sys/bus/pci/drivers/bochs-drm/unbind"
capture reset-bus-refused gpu-handoff reset --method bus $GPU
capture reset-dry-run gpu-handoff reset --dry-run --method bus $GPU

# 3. both free: the bus reset, or its refusal before Linux 6.13; then remove and rescan
step "unbind-audio" "echo $AUDIO > /sys/bus/pci/drivers/snd_hda_intel/unbind"
capture reset-bus gpu-handoff --json reset --method bus $GPU
capture reset-remove-rescan gpu-handoff --json reset --remove-rescan $GPU
step "check:gpu-answers" "[ \"\$(cat $D/$GPU/vendor)\" = 0x1234 ] && [ \"\$(cat $D/$GPU/power_state)\" = D0 ] &&
    [ \"\$(od -An -tx1 -N2 $D/$GPU/config | tr -d ' ')\" = 3412 ]"
step "check:reset-journal-gone" "[ ! -e /run/gpu-handoff/reset/journal ]"
# give both back to their drivers (the rescan probed the GPU again; the audio function was unbound)
for f in $GPU $AUDIO; do
    [ -e $D/$f/driver ] || echo $f > /sys/bus/pci/drivers_probe
done
while read -r v b; do [ "$(cat "$v/bind")" = "$b" ] || echo "$b" > "$v/bind"; done < /tmp/vtcon.before
wait_state /tmp/state.before "check:state-restored-after-reset"

# 4. a card that cannot reset: lent once per boot
cat > /tmp/quirks-once <<'QUIRKS'
[testbed-once]
name     = the testbed's std VGA as a card that cannot reset
match    = 1234:1111
severity = warning
flags    = reset-once-per-boot
summary  = The GPU may not reset after a VM run.
fix      = Reboot the host before lending it again.
source   = tests/vm/scenarios/09-reset.sh
QUIRKS
Q="gpu-handoff --quirks /tmp/quirks-once"
capture attach-once $Q --json attach --yes
capture release-once $Q --json release
capture lends cat /run/gpu-handoff/lends
capture attach-twice $Q attach --yes
capture doctor-twice $Q doctor
capture attach-force $Q --json attach --yes --force
capture release-force $Q --json release
wait_state /tmp/state.before "check:state-restored-after-lends"
step "check:no-unreset" "[ ! -s /run/gpu-handoff/unreset ]"
dmesg_clean
result
