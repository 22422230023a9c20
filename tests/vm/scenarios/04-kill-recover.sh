#!/bin/sh
# 04-kill-recover: gpu-handoff killed (SIGKILL) in the middle of attach, at several points of
# the hand-over, on the real kernel (the transition's own process, which the journal names: the
# command only waits for it). The kill is made deterministic by watching the journal:
# attach runs in the background, /run/gpu-handoff/journal is polled until it holds the "begin"
# record of the wanted step, and the process gets kill -9 right then (the step itself, or the
# next one, may still finish; where it really stopped is printed). If attach finished first
# it is released and tried again.
#   A. after each kill: "status" says the hand-over was interrupted and exits 4 (--json:
#      needs_recovery true), "recover" undoes everything (exit 0, every step reverted), and
#      the host state equals the state before; kill points: unbind-vtcon, unbind-driver,
#      unload-module, load-module, bind-vfio (of the GPU), bind-vfio-audio (of the audio
#      function, the last step but one; the last one, wait-vfio-group, takes ~5 ms and attach
#      ends before a kill lands)
#   B. the next "attach --yes" recovers by itself and then attaches (human output, and --json,
#      which must still be one JSON document); release then gives everything back
# No WARNING/BUG/Oops in dmesg. Judged by 04-kill-recover.py.
# A kill after fbcon was unbound but before the DRM module was unloaded (kill points
# unbind-vtcon, unbind-driver) needs unbind-vtcon's revert to really rebind fbcon: on this
# SeaBIOS host "echo 1 > vtcon0/bind" does nothing (bochs's takeover left no system console
# driver, only dummy as a module one), so the state check fails there until the tool brings
# fbcon back another way; repair_fbcon then restores it so the next kill points start clean.
# tb.firmware: bios
# tb.iommu: pt
# tb.timeout: 300

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
find_gpu
J=/run/gpu-handoff/journal
host_state > /tmp/state.before

# kill_attach NAME KIND [ARGS]: start attach, SIGKILL it once the journal has "begin N KIND"
# (followed by ARGS when given); prints "INFO killed NAME kind=KIND ... last=<last journal
# record>", or a FAILED step when attach finished first 12 times in a row. The owner of the
# transition is read as soon as the journal names it, so that nothing but the kill stands between
# seeing the begin and the kill: the last steps (bind-vfio of the audio function, then the group)
# take only a few ms under TCG.
kill_attach() {
    _name=$1 _kind=$2 _args=${3:+ $3} _try=0
    while [ $_try -lt 12 ]; do
        _try=$((_try + 1))
        gpu-handoff attach --yes > "/tmp/$_name.out" 2>&1 &
        _pid=$!
        _ok=0 _own=
        while kill -0 "$_pid" 2>/dev/null; do
            [ -n "$_own" ] || [ ! -s "$J" ] || _own=$(awk '$1 == "phase" { print $3; exit }' "$J" 2>/dev/null)
            if grep -qE "^begin [0-9]+ $_kind$_args( |\$)" "$J" 2>/dev/null; then
                kill_transition "$_pid" "$_own"; _ok=1; break
            fi
        done
        wait "$_pid"; _rc=$?
        if [ $_ok = 1 ] && ! grep -q '^end ' "$J" 2>/dev/null; then
            info "killed $_name kind=$_kind try=$_try rc=$_rc last=$(tail -n 1 "$J" | tr ' ' _)"
            step "journal-at-kill:$_name" "cat $J"
            return 0
        fi
        # attach got to its end before the kill: give the GPU back and try again
        info "attach ended before the kill ($_name try $_try, rc $_rc)"
        gpu-handoff release > /dev/null 2>&1
    done
    step "kill-attach:$_name" "echo 'attach always finished before it could be killed at $_kind'; false"
    return 1
}

# repair_fbcon NAME: when a failed comparison left fbcon unbound, bring it back the only way this
# kernel allows (re-probing the DRM driver registers the framebuffer again and fbcon takes it
# over; "echo 1 > vtconN/bind" does nothing once no system console driver is left), so that
# the next kill point starts from the initial state again
repair_fbcon() {
    for _v in /sys/class/vtconsole/vtcon*; do
        if ! grep -q 'frame buffer' "$_v/name" || [ "$(cat "$_v/bind")" != 0 ]; then continue; fi
        info "fbcon ${_v##*/} left unbound after $1: re-probing $(drv "$GPU") to bring it back"
        _d=$(drv "$GPU")
        echo "$GPU" > "/sys/bus/pci/drivers/$_d/unbind"; echo "$GPU" > "/sys/bus/pci/drivers/$_d/bind"
        info "after the re-probe: ${_v##*/} bind=$(cat "$_v/bind")"
    done
}

# A. kill, status, recover, compare
for point in unbind-vtcon unbind-driver unload-module load-module bind-vfio bind-vfio-audio; do
    kind=${point%-audio}
    if kill_attach "$point" "$kind" "$([ "$point" = bind-vfio-audio ] && echo "$AUD")"; then
        capture "status-$point" gpu-handoff status
        capture "status-json-$point" gpu-handoff --json status
        capture "recover-$point" gpu-handoff --json recover
        wait_state /tmp/state.before "check:state-restored-after-recover:$point"
        repair_fbcon "$point"
    fi
done

# B. the next attach recovers first, then attaches
if kill_attach auto-human unload-module; then
    capture attach-auto-human gpu-handoff attach --yes
    step "check:vfio-drivers:auto-human" "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU/driver)\")\" = vfio-pci ] &&
        [ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$AUD/driver)\")\" = vfio-pci ]"
    step "check:vfio-group-usable:auto-human" "vfio-check $GPU"
    capture release-auto-human gpu-handoff --json release
    wait_state /tmp/state.before "check:state-restored:auto-human"
fi
if kill_attach auto-json bind-vfio; then
    capture attach-auto-json gpu-handoff --json attach --yes
    step "check:vfio-drivers:auto-json" "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU/driver)\")\" = vfio-pci ] &&
        [ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$AUD/driver)\")\" = vfio-pci ]"
    capture release-auto-json gpu-handoff --json release
    wait_state /tmp/state.before "check:state-restored:auto-json"
fi
dmesg_clean
result
