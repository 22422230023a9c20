#!/bin/sh
# 07-room-systemd: "room for the guest" on a systemd host with 2 CPUs, through the real systemd
# over D-Bus. The configuration keeps the host on CPU 0:
#     [CPU] Housekeeping=0  Units=system.slice user.slice init.scope  Writeback=yes  IRQAffinity=yes
#     [Freeze] Units=heavy.service       (a transient service: systemd-run sleep 1000)
#   1. AllowedCPUs unset on the three units: attach sets them to 0 (systemctl show, the cgroups'
#      cpuset.cpus and cpuset.cpus.effective say 0), the writeback workqueue's cpumask to 1, the
#      IRQs on CPU 1 to CPU 0 (managed ones stay, the kernel refuses them), and FreezeUnit makes
#      heavy.service's FreezerState "frozen"; release puts every value back (AllowedCPUs unset,
#      cpumask 3, the IRQs' lists) and thaws heavy.service ("running").
#   2. The same with system.slice at AllowedCPUs=0-1 before (systemctl set-property --runtime):
#      0 while attached, 0-1 again after release.
#   3. attach SIGKILLed once the three allowed-cpus steps are done (journal polled): status exits
#      4, recover thaws heavy.service and puts AllowedCPUs back (system.slice 0-1).
# Each time the host's GPU state is as before too. The runtime drop-ins systemd writes under
# /run/systemd/system.control are captured (block "cpus-*"), for the record.
# Judged by 07-room-systemd.py (every value before, attached and released).
# tb.guest: systemd
# tb.smp: 2
# tb.mem: 1024
# tb.timeout: 300

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
find_gpu
UNITS="system.slice user.slice init.scope"

# cpus: one "key=value" line per fact the steps change
cpus() {
    # (one systemctl call for the three units: their blocks come in this order, blank-line separated)
    # shellcheck disable=SC2086 # (the list is meant to be split)
    systemctl show -p AllowedCPUs -p EffectiveCPUs $UNITS | awk -v units="$UNITS" '
        BEGIN { split(units, u, " "); k = 1 }
        /^$/ { k++; next }
        { p = index($0, "="); print (substr($0, 1, p - 1) == "AllowedCPUs" ? "allowed " : "effective ") u[k] "=" substr($0, p + 1) }'
    for _u in $UNITS; do
        for _f in cpuset.cpus cpuset.cpus.effective; do
            _v=absent
            [ -e "/sys/fs/cgroup/$_u/$_f" ] && IFS= read -r _v < "/sys/fs/cgroup/$_u/$_f"
            echo "$_f $_u=$_v"
        done
    done
    echo "writeback=$(cat /sys/bus/workqueue/devices/writeback/cpumask)"
    grep -H . /proc/irq/[0-9]*/smp_affinity_list | sed 's|^/proc/irq/\([0-9]*\)/smp_affinity_list:|irq \1=|'
    systemctl show -p FreezerState -p ActiveState -p MainPID heavy.service > /tmp/heavy.show
    _p=$(sed -n 's/^MainPID=//p' /tmp/heavy.show)
    echo "freezer heavy.service=$(sed -n 's/^FreezerState=//p' /tmp/heavy.show)"
    echo "active heavy.service=$(sed -n 's/^ActiveState=//p' /tmp/heavy.show)"
    echo "heavy-pid=$_p state=$(proc_state "$_p")"
    echo "cgroup.freeze heavy.service=$(cat /sys/fs/cgroup/system.slice/heavy.service/cgroup.freeze 2>/dev/null)"
    find /run/systemd/system.control -type f 2>/dev/null | sort | while read -r _f; do
        echo "dropin ${_f#/run/systemd/system.control/}=$(grep -v '^#' "$_f" | tr '\n' ' ')"
    done
}

mkdir -p /etc/gpu-handoff
cat > /etc/gpu-handoff/gpu-handoff.conf <<'EOF'
[CPU]
Housekeeping=0
Units=system.slice user.slice init.scope
Writeback=yes
IRQAffinity=yes

[Freeze]
Units=heavy.service
EOF
chmod 0644 /etc/gpu-handoff/gpu-handoff.conf
step "heavy-started" "systemd-run --unit=heavy.service sleep 1000 && systemctl is-active heavy.service"
step "online-cpus" "cat /sys/devices/system/cpu/online; nproc"
# shellcheck disable=SC2016 # (expanded where it is evaluated)
HOLDS='p=$(systemctl show -p MainPID --value fake-dm.service); [ "$p" -gt 0 ] && ls -l /proc/$p/fd | grep -q /dev/dri/card0'
wait_for 10 "$HOLDS"
host_state > /tmp/state.before

# 1. AllowedCPUs unset
capture cpus-before-1 cpus
capture config gpu-handoff config
capture plan-1 gpu-handoff --json attach --dry-run --yes
capture attach-1 gpu-handoff --json attach --yes
capture cpus-attached-1 cpus
step "check:vfio-driver-1" "echo $GPU $(drv "$GPU"); [ $(drv "$GPU") = vfio-pci ]"
capture release-1 gpu-handoff --json release
no_journal check:no-journal-1
capture cpus-released-1 cpus
wait_for 10 "$HOLDS"
wait_state /tmp/state.before "check:state-restored-1"

# 2. system.slice at 0-1 before
step "set-property" "systemctl set-property --runtime system.slice AllowedCPUs=0-1 && systemctl show -p AllowedCPUs system.slice"
capture cpus-before-2 cpus
capture attach-2 gpu-handoff --json attach --yes
capture cpus-attached-2 cpus
capture release-2 gpu-handoff --json release
no_journal check:no-journal-2
capture cpus-released-2 cpus
wait_for 10 "$HOLDS"
wait_state /tmp/state.before "check:state-restored-2"

# 3. killed after the allowed-cpus steps, then recover
# shellcheck disable=SC2016 # (expanded where it is evaluated)
CPUS_SET='awk '\''$1 == "phase" { split("", i); d = 0 } $1 == "begin" && $3 == "allowed-cpus" { i[$2] = 1 } $1 == "done" && ($2 in i) { d++ } END { exit !(d >= 3) }'\'' $J'
if kill_attach_when after-cpus "$CPUS_SET"; then
    capture cpus-killed-3 cpus
    capture status-3 gpu-handoff --json status
    capture recover-3 gpu-handoff --json recover
    no_journal check:no-journal-3
    capture cpus-recovered-3 cpus
    wait_for 10 "$HOLDS"
    wait_state /tmp/state.before "check:state-restored-3"
fi
systemctl stop heavy.service
dmesg_clean
result
