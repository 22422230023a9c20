#!/bin/sh
# 05-systemd-dm: the hand-over on a systemd host whose display manager holds the GPU, through
# D-Bus (src/handoff/units.c on the real systemd and logind). The guest's fake-dm.service, behind
# the display-manager.service alias, holds /dev/dri/card0 open the way Xorg/Wayland do, so bochs
# cannot be unloaded while it runs. attach --yes must stop it over D-Bus (StopUnit, its job's
# JobRemoved), take logind's sleep/shutdown/idle inhibitor in the transient unit
# gpu-handoff-inhibit.service (listed by logind's ListInhibitors while attached) and lend the
# GPU; release must give the GPU back, start fake-dm again (holding card0 again) and let the
# inhibitor go. The host after release equals the host before: drivers, modules, consoles,
# DRM and ALSA devices, the display manager running, no inhibitor, no journal, no unit records
# (the unit release starts again is a note in the journal: no file beside it).
# Then the same with logind sessions of type wayland on seat0 (opened through PAM, as a display
# manager does): a greeter that ends with the display manager is waited for; a desktop session
# that does not end makes attach fail naming it, and roll everything back.
# Judged by 05-systemd-dm.py.
# tb.guest: systemd
# tb.firmware: bios
# tb.iommu: pt
# tb.timeout: 240

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
find_gpu

# the display manager's process has /dev/dri/card0 open (its ExecStartPre waits for the node)
HOLDS='p=$(systemctl show -p MainPID --value fake-dm.service); [ "$p" -gt 0 ] && ls -l /proc/$p/fd | grep /dev/dri/card0'
# the unit the journal noted for the display manager's stop-unit step, the one release starts
# again ("begin I stop-unit display-manager.service ...", then "note I unit UNIT")
# shellcheck disable=SC2016 # (awk's fields, expanded by awk)
DM_NOTED='awk '\''BEGIN { i = -1 } $1 == "begin" && $3 == "stop-unit" && $4 == "display-manager.service" { i = $2 }
    $1 == "note" && $2 == i && $3 == "unit" { u = $4 } END { print u }'\'' /run/gpu-handoff/journal'
inhibitors() { busctl call org.freedesktop.login1 /org/freedesktop/login1 org.freedesktop.login1.Manager ListInhibitors; }
units_state() {
    host_state
    echo "fake-dm: $(systemctl is-active fake-dm.service)"
    echo "inhibit-unit: $(systemctl is-active gpu-handoff-inhibit.service)"
    echo "inhibitor: $(inhibitors | grep -c gpu-handoff)"
    echo "records: $(ls -A /run/gpu-handoff/units 2>/dev/null | tr '\n' ' ')"
}

# 1. The display manager alone
step "dm-running" "systemctl is-active fake-dm.service && readlink /etc/systemd/system/display-manager.service"
wait_for 10 "$HOLDS"
step "dm-holds-card0" "$HOLDS"
units_state > /tmp/state.before
capture inhibitors-before inhibitors

capture attach gpu-handoff --json attach --yes
step "check:vfio-drivers" "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU/driver)\")\" = vfio-pci ] &&
    [ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$AUD/driver)\")\" = vfio-pci ]"
step "check:vfio-group-usable" "vfio-check $GPU"
step "check:dm-stopped" "systemctl show -p ActiveState -p SubState fake-dm.service; ! systemctl is-active --quiet fake-dm.service"
step "check:inhibit-unit" "systemctl show -p ActiveState -p ExecMainPID -p ExecStart gpu-handoff-inhibit.service;
    systemctl is-active --quiet gpu-handoff-inhibit.service"
capture inhibitors-attached inhibitors
capture inhibit-list systemd-inhibit --list --no-pager
step "check:dm-record" "cat /run/gpu-handoff/journal; [ \"\$($DM_NOTED)\" = fake-dm.service ]"
capture status-attached gpu-handoff --json status

capture release gpu-handoff --json release
step "check:dm-running-again" "systemctl is-active fake-dm.service"
wait_for 10 "$HOLDS"
step "check:dm-holds-card0-again" "$HOLDS"
capture inhibitors-released inhibitors
step "check:no-inhibit-unit" "! systemctl is-active --quiet gpu-handoff-inhibit.service"
# snd_hda_intel registers its card asynchronously after the probe: let it settle
_t0=$(now) _i=0
while :; do
    units_state > /tmp/state.now; _i=$((_i + 1))
    cmp -s /tmp/state.before /tmp/state.now && break
    [ $(($(now) - _t0)) -ge 5000 ] && break
    sleep 0.05
done
step "check:state-restored" "echo 'compared $_i times in $(($(now) - _t0)) ms'; diff -u /tmp/state.before /tmp/state.now"
step "check:no-journal" "[ ! -e /run/gpu-handoff/journal ]"

# 2. Graphical sessions (logind, Type=wayland on seat0, opened through PAM like a display
#    manager does). A greeter that goes with the display manager (PartOf=) must be gone when
#    attach goes on; a desktop session that outlives it must make attach fail, naming it, and
#    roll back: the display manager runs again, no inhibitor.
session() { # session UNIT [systemd-run option...]: a wayland session on seat0 (tty7) running sleep
    _u=$1; shift
    # (systemd opens a PAM session only for a unit with User=; pam_systemd takes the seat and VT
    # from the tty and the type from XDG_SESSION_TYPE)
    systemd-run --quiet --unit="$_u" -p User=root -p PAMName=login -p TTYPath=/dev/tty7 \
        -p Environment=XDG_SESSION_TYPE=wayland "$@" sleep infinity
}
GRAPHICAL='for s in $(loginctl list-sessions --no-legend | awk "{print \$1}"); do loginctl show-session "$s" -p Type --value; done | grep -q wayland'
session fake-greeter -p PartOf=fake-dm.service
wait_for 10 "$GRAPHICAL"
step "greeter-session" "loginctl list-sessions --no-legend; $GRAPHICAL"
capture attach-greeter gpu-handoff --json attach --yes
step "check:greeter-session-gone" "loginctl list-sessions --no-legend; ! { $GRAPHICAL; }"
capture release-greeter gpu-handoff --json release
wait_for 10 "$HOLDS"
step "check:dm-running-after-greeter" "systemctl is-active fake-dm.service"

session fake-desktop
wait_for 10 "$GRAPHICAL"
step "desktop-session" "loginctl list-sessions --no-legend; $GRAPHICAL"
capture attach-desktop gpu-handoff --json attach --yes
wait_for 10 "$HOLDS"
step "check:dm-running-after-refusal" "systemctl is-active fake-dm.service; $HOLDS"
capture inhibitors-refused inhibitors
step "check:no-journal-after-refusal" "[ ! -e /run/gpu-handoff/journal ]"
systemctl stop fake-desktop.service
dmesg_clean
result
