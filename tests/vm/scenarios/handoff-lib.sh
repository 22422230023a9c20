# shellcheck shell=sh
# handoff-lib.sh: helpers shared by the hand-over scenarios (03-attach-release-efifb, 04-*, 07-*),
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
#                              the probe); prints the diff on failure. A scenario whose "host
#                              state" says more sets STATE_FN to the name of its own function
#   wait_for SECONDS 'test'    polls the shell test every 20 ms; 0 once true, 1 at the deadline
#   dmesg_clean                step check:dmesg-clean: no WARNING/BUG/Oops/Call Trace in dmesg
#   kill_attach_when NAME 'test' [OPTION...]
#                              starts "gpu-handoff attach --yes OPTION..." in the background and
#                              SIGKILLs it as soon as the shell test (eval'ed on every poll; $J is
#                              the journal) holds: "INFO killed NAME try=N rc=N last=RECORD" and
#                              step journal-at-kill:NAME. When attach ends first (the journal says
#                              "end"), release and try again, 5 times, then a FAILED step. A
#                              journal left by an earlier failure is recovered first
#   no_journal NAME            step NAME: no journal is left (else it is printed: which step
#                              failed, with its errno)
#   proc_state PID             the state letter of /proc/PID/stat (R, S, T, ...), "gone" if none

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
        ${STATE_FN:-host_state} | grep -vE "$_x" > /tmp/state.now
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

J=/run/gpu-handoff/journal
# kill_transition PID [OWNER]: SIGKILL for the command PID and for the transition it runs detached
# from the caller's session (OWNER, or the owner the journal's last "phase" record names). A kill that
# lands during a sysfs write leaves the write's child (kernel.h: comm gpu-handoff) to finish it,
# holding the lock meanwhile, and a recover that finds it there stops at once by design ("an
# earlier gpu-handoff's write ... has not returned"): wait, up to 10 s, until no gpu-handoff
# process is left, so that what follows meets the state a crash leaves once its write is done.
kill_transition() {
    _owner=${2:-$(awk '$1 == "phase" { p = $3 } END { print p }' "$J" 2>/dev/null)}
    kill -9 ${_owner:+"$_owner"} "$1"
    _t0=$(now)
    while handoff_running && [ $(($(now) - _t0)) -lt 10000 ]; do
        sleep 0.02
    done
}
# handoff_running: a gpu-handoff process is alive (zombies, like the killed command the caller
# has not waited for yet, do not count)
handoff_running() {
    for _s in /proc/[0-9]*/stat; do
        read -r _l < "$_s" 2>/dev/null || continue
        case $_l in
            *"(gpu-handoff) Z"*) ;;
            *"(gpu-handoff) "*) return 0 ;;
        esac
    done
    return 1
}
kill_attach_when() {
    _kn=$1 _kt=$2 _try=0; shift 2
    if [ -e "$J" ]; then   # left by an earlier failure: the polls must see this attach's records only
        info "a journal was left before $_kn: recover first"
        gpu-handoff recover > /dev/null 2>&1
    fi
    while [ $_try -lt 5 ]; do
        _try=$((_try + 1))
        gpu-handoff attach --yes "$@" > "/tmp/$_kn.out" 2>&1 &
        _kpid=$!
        _ok=0
        while kill -0 "$_kpid" 2>/dev/null; do
            if eval "$_kt" 2>/dev/null; then kill_transition "$_kpid"; _ok=1; break; fi
        done
        wait "$_kpid"; _rc=$?
        if [ $_ok = 1 ] && ! grep -q '^end ' "$J" 2>/dev/null; then
            info "killed $_kn try=$_try rc=$_rc last=$(tail -n 1 "$J" | tr ' ' _)"
            step "journal-at-kill:$_kn" "cat $J"
            return 0
        fi
        info "attach ended before the kill ($_kn try $_try, rc $_rc): $(tail -n 3 "/tmp/$_kn.out" | tr '\n' ' ')"
        gpu-handoff release > /dev/null 2>&1
    done
    step "kill-attach:$_kn" "echo 'attach always finished before it could be killed'; false"
    return 1
}

proc_state() {
    _st=$(cat "/proc/$1/stat" 2>/dev/null) || { echo gone; return; }
    _st=${_st##*) }
    echo "${_st%% *}"
}

no_journal() {
    step "$1" "[ ! -e $J ] || { cat $J; false; }"
}
