# shellcheck shell=sh
# handoff-lib.sh: helpers shared by the hand-over scenarios (03-attach-release-efifb, 04-*),
# sourced after /tb/lib/lib.sh. Not a scenario itself (no NN- prefix, so run-scenarios
# never runs it).
#   need_tool                  ends the scenario unless gpu-handoff is in the guest
#   host_state                 what "the host as before" means, one fact per line: every PCI
#                              function's driver and driver_override, the sorted module list,
#                              each vtcon's binding and name, /dev/dri, /proc/fb, the firmware
#                              framebuffer platform devices, the ALSA cards, the journal
#   wait_state FILE NAME [RE]  step NAME: host_state equals FILE (lines matching the grep -E
#                              pattern RE left out on both sides), allowing the kernel up to 5 s
#                              to settle (snd_hda_intel registers its card asynchronously after
#                              the probe); prints the diff on failure
#   wait_for SECONDS 'test'    polls the shell test every 20 ms; 0 once true, 1 at the deadline
#   dmesg_clean                step check:dmesg-clean: no WARNING/BUG/Oops/Call Trace in dmesg

need_tool() {
    if [ -z "$TB_TOOL" ] || [ ! -x "$TB_TOOL" ]; then
        echo "RESULT FAIL (gpu-handoff is not in the guest)"; exit 1
    fi
}

host_state() {
    pci_snapshot
    /sbin/lsmod | awk 'NR > 1 { print "module " $1 }' | sort
    for _v in /sys/class/vtconsole/vtcon*; do echo "${_v##*/} bind=$(cat "$_v/bind") $(cat "$_v/name")"; done
    echo "dri: $(ls /dev/dri 2>/dev/null | tr '\n' ' ')"
    echo "fb: $(tr '\n' ';' < /proc/fb)"
    for _p in /sys/bus/platform/devices/*; do
        case ${_p##*/} in *framebuffer*|simple*)
            echo "platform ${_p##*/} driver=$(basename "$(readlink "$_p/driver" 2>/dev/null)" 2>/dev/null)" ;;
        esac
    done
    echo "alsa: $(grep -E '^ *[0-9]' /proc/asound/cards 2>/dev/null | tr '\n' ';')"
    echo "journal: $([ -e /run/gpu-handoff/journal ] && echo present || echo none)"
}

wait_for() { # wait_for SECONDS 'shell test'
    _deadline=$(($(now) + $1 * 1000))
    while ! sh -c "$2" 2>/dev/null; do
        [ "$(now)" -ge "$_deadline" ] && return 1
        sleep 0.02
    done
    return 0
}

wait_state() {
    _f=$1 _n=$2 _x=${3:-^\$}
    grep -vE "$_x" "$_f" > /tmp/state.want
    _t0=$(now) _i=0
    while :; do
        host_state | grep -vE "$_x" > /tmp/state.now
        _i=$((_i + 1))
        cmp -s /tmp/state.want /tmp/state.now && break
        [ $(($(now) - _t0)) -ge 5000 ] && break
        sleep 0.05
    done
    _waited=$(($(now) - _t0))
    step "$_n" "echo 'compared $_i times in $_waited ms'; diff -u /tmp/state.want /tmp/state.now"
}

dmesg_clean() {
    step "check:dmesg-clean" "! dmesg | grep -E 'WARNING|BUG|Oops|Call Trace'"
}
