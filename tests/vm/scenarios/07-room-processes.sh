#!/bin/sh
# 07-room-processes: "room for the guest", [Freeze] Processes=, on the real kernel. Processes
# named heavyproc (busybox's sleep run through a symlink of that name, so comm is heavyproc):
# A1..A32 sleep, C was stopped (SIGSTOP) by someone else before attach. The configuration says
# [Freeze] Processes=heavyproc (and DropCaches=yes, whose steps come after the stop-process ones).
#   1. attach --dry-run plans one stop-process step (pid, start time, comm) for each of A1..A32,
#      none for C; attach stops them (/proc/PID/stat state T) and lends the GPU; release lets
#      them run again (state S) and leaves C stopped, as it found it.
#   2. attach SIGKILLed once all stop-process steps are done (the journal polled, as in
#      04-kill-recover): A1..A32 are stopped, status exits 4, recover lets them all run again,
#      C stays stopped, the host state is as before.
#   3. attach SIGKILLed in the middle of the stop-process steps (32 of them take long enough for
#      the kill to land there; tried again up to 3 times until the last journal record at the kill
#      is a stop-process one): some are stopped, the one being stopped may or may not be;
#      recover leaves none of them stopped.
#   4. attach SIGKILLed after the stop-process steps again, then the next "attach --json --yes"
#      recovers by itself (all run), attaches (stops them again) and release lets them run.
# Judged by 07-room-processes.py (the states before, attached, killed, recovered, released).
# tb.firmware: bios
# tb.iommu: pt
# tb.timeout: 240

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
find_gpu

NP=32
ln -sf /bin/busybox /tmp/heavyproc
i=0 PIDS=""
while [ $i -lt $NP ]; do
    i=$((i + 1))
    sh -c 'exec -a sleep /tmp/heavyproc 1000' &
    eval "A$i=\$!"; PIDS="$PIDS $!"
done
sh -c 'exec -a sleep /tmp/heavyproc 1000' & C=$!
for p in $PIDS $C; do wait_for 5 "grep -qx heavyproc /proc/$p/comm"; done
kill -STOP "$C"
wait_for 5 "[ \"\$(sed 's/.*) //' /proc/$C/stat | cut -d' ' -f1)\" = T ]"
# procs: "NAME PID STATE COMM" for A1..A32 and C
procs() {
    _i=0
    while [ $_i -lt $NP ]; do _i=$((_i + 1)); eval "_p=\$A$_i"; echo "A$_i $_p $(proc_state "$_p") $(cat "/proc/$_p/comm" 2>/dev/null)"; done
    echo "C $C $(proc_state "$C") $(cat "/proc/$C/comm" 2>/dev/null)"
}

mkdir -p /etc/gpu-handoff
printf '[Freeze]\nProcesses=heavyproc\n\n[Memory]\nDropCaches=yes\n' > /etc/gpu-handoff/gpu-handoff.conf
chmod 0644 /etc/gpu-handoff/gpu-handoff.conf
host_state > /tmp/state.before
capture procs-before procs

# 1. attach and release
capture plan gpu-handoff --json attach --dry-run --yes
capture attach gpu-handoff --json attach --yes
capture procs-attached procs
step "check:vfio-driver" "echo $GPU $(drv "$GPU"); [ $(drv "$GPU") = vfio-pci ]"
capture release gpu-handoff --json release
no_journal check:no-journal
capture procs-released procs
wait_state /tmp/state.before "check:state-restored"

# 2. killed once all are stopped
# shellcheck disable=SC2016 # (expanded where it is evaluated)
STOPPED='awk '\''$1 == "phase" { split("", i); d = 0 } $1 == "begin" && $3 == "stop-process" { i[$2] = 1 } $1 == "done" && ($2 in i) { d++ } END { exit !(d >= '$NP') }'\'' $J'
if kill_attach_when after-stop "$STOPPED"; then
    capture procs-killed-after-stop procs
    capture status-after-stop gpu-handoff --json status
    capture recover-after-stop gpu-handoff --json recover
    no_journal check:no-journal-after-stop
    capture procs-recovered-after-stop procs
    wait_state /tmp/state.before "check:state-restored-after-stop"
fi

# 3. killed in the middle of the stop-process steps: once one of them is done
# shellcheck disable=SC2016 # (expanded where it is evaluated)
MIDDLE='awk '\''$1 == "phase" { split("", i); d = 0 } $1 == "begin" && $3 == "stop-process" { i[$2] = 1 } $1 == "done" && ($2 in i) { d++ } END { exit !(d >= 1) }'\'' $J'
try=0
while [ $try -lt 3 ]; do
    try=$((try + 1))
    kill_attach_when at-stop "$MIDDLE" || break
    last=$(tail -n 1 "$J")
    n=$(awk '$1 == "begin" { k[$2] = $3 } END { for (s in k) if (k[s] == "stop-process") n++; print n + 0 }' "$J")
    capture "procs-killed-at-stop-$try" procs
    capture "recover-at-stop-$try" gpu-handoff --json recover
    capture "procs-recovered-at-stop-$try" procs
    wait_state /tmp/state.before "check:state-restored-at-stop-$try"
    info "at-stop try=$try begun=$n last=$(echo "$last" | tr ' ' _)"
    case $last in *stop-process*|"done "*) [ "$n" -lt $NP ] && break ;; esac
done
info "at-stop tries=$try"

# 4. the next attach recovers by itself
if kill_attach_when auto "$STOPPED"; then
    capture procs-killed-auto procs
    capture attach-auto gpu-handoff --json attach --yes
    capture procs-attached-auto procs
    capture release-auto gpu-handoff --json release
    no_journal check:no-journal-auto
    capture procs-released-auto procs
    wait_state /tmp/state.before "check:state-restored-auto"
fi

# shellcheck disable=SC2086 # (the list is meant to be split)
kill -KILL $PIDS "$C"
dmesg_clean
result
