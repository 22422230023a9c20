#!/bin/sh
# 08-libvirt-hook: the libvirt QEMU hook end to end, with Debian's real libvirt (libvirtd 9.0,
# virsh, qemu-system-x86 of the guest image). gpu-handoff is installed as libvirt installs hooks
# (/etc/libvirt/hooks/qemu.d/gpu-handoff, a symlink to the tool, made before libvirtd starts,
# since libvirt looks for hooks at startup), and never called by the scenario during the runs:
# only "virsh start" and "virsh destroy" are:
#   1. tbvm-plain, no hostdev: QEMU runs, and the hook touched nothing: no journal, no syslog line
#      of gpu-handoff, /run/gpu-handoff as before, the display manager the same process, the host
#      state as before - while it runs and after destroy. (libvirtd's debug log shows that it did
#      run the hook with "prepare begin" and "release end" for it.)
#   2. tbvm-nosingle, the GPU's two functions as <hostdev managed='no'>, no SingleGPU= anywhere:
#      "virsh start" fails with gpu-handoff's one line (the GPU drives the display, SingleGPU=yes
#      would allow it) in virsh's error; the domain is shut off, the host as before.
#   3. tbvm-managed, managed='yes' (SingleGPU=yes in /etc/gpu-handoff/vm.d/tbvm-managed.conf):
#      "virsh start" runs the hook, which stops the display manager and frees both functions from
#      the host (no bind-vfio step in its journal); libvirt binds them to vfio-pci itself. Checked
#      while the domain runs and after "virsh destroy" as in 4.
#   4. tbvm, managed='no' (vm.d/tbvm.conf: SingleGPU=yes): the hook stops the display manager and
#      lends both functions to vfio-pci; while the domain runs the journal says phase attach by
#      "hook tbvm", status says attached, QEMU's command line has libvirt's vfio-pci devices for
#      host 0000:01:00.0 and .1, QEMU holds the group's /dev/vfio/N open, and QEMU's monitor (info
#      pci) lists 1234:1111 and 8086:2668 as the VM's own devices. "virsh destroy": the hook gives
#      everything back; the host state equals the state before (drivers, overrides, modules,
#      consoles, DRM, ALSA, /dev/vfio, the display manager running and holding card0 again, no
#      inhibitor, no journal, no syslog error).
#   5. tbvm-managed again, after 4: libvirtd now leaves its functions on vfio-pci when it stops
#      (it remembers them as unmanaged); the hook's release end takes them from vfio-pci, says so
#      in syslog, and the host state equals the state before, as in 4.
# The domains are TCG (q35, 128 MiB, no disk, a serial console, no graphics, no network). The
# hook's steps are in syslog (journalctl -t gpu-handoff); libvirtd's debug log (hook, command,
# pci, hostdev) says which hooks it ran and what it did with the devices.
# Judged by 08-libvirt-hook.py.
# tb.guest: libvirt
# tb.smp: 2
# tb.mem: 1536
# tb.timeout: 420

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
pci_facts
find_gpu
HOOK=/etc/libvirt/hooks/qemu.d/gpu-handoff
DEBUGLOG=/var/log/libvirt/libvirtd-debug.log
# shellcheck disable=SC2016 # (expanded where it is evaluated)
HOLDS='p=$(systemctl show -p MainPID --value fake-dm.service); [ "$p" -gt 0 ] && ls -l /proc/$p/fd | grep -q /dev/dri/card0'

# the host as the hand-over must leave it: host_state plus what the hook and libvirt touch
lv_state() {
    host_state
    echo "vfio: $(ls /dev/vfio 2>/dev/null | tr '\n' ' ')"
    echo "fake-dm: $(systemctl is-active fake-dm.service)"
    echo "inhibit-unit: $(systemctl is-active gpu-handoff-inhibit.service)"
    echo "unit-records: $(ls -A /run/gpu-handoff/units 2>/dev/null | tr '\n' ' ')"
}
STATE_FN=lv_state   # (what wait_state compares)
dm_pid() { systemctl show -p MainPID --value fake-dm.service; }
# shellcheck disable=SC2010 # (a listing to compare, names and times as ls shows them)
run_dir() { ls -la --time-style=+%s.%N /run/gpu-handoff 2>&1 | grep -v ' \.\.$'; }
cursor() { journalctl -q -n 0 --show-cursor | sed -n 's/^-- cursor: //p'; }
# syslog_since CURSOR: gpu-handoff's syslog lines since then (journald takes them in asynchronously:
# --sync first; a scenario that expects a line waits for it with syslog_wait CURSOR TEXT). Not
# "journalctl -t gpu-handoff --after-cursor": systemd 252 then skips the first matching entry when
# the cursor's own entry does not match.
SYSLOG_FILTER='s/^[^]]*\] [^ ]* gpu-handoff\[[0-9]*\]: //p'
syslog_since() { journalctl --sync; journalctl -q -o short-monotonic --after-cursor="$1" | sed -n "$SYSLOG_FILTER"; }
syslog_wait() { wait_for 10 "journalctl -q -o short-monotonic --after-cursor='$1' | sed -n '$SYSLOG_FILTER' | grep -qF '$2'"; }
qemu_pid() { cat "/run/libvirt/qemu/$1.pid" 2>/dev/null; }

# domain_xml NAME none|no|yes: a TCG q35 domain; none: no hostdev, else the GPU's functions
# (as find_gpu found them) with that managed= value
domain_xml() {
    cat <<EOF
<domain type='qemu'>
  <name>$1</name>
  <memory unit='MiB'>128</memory>
  <vcpu>1</vcpu>
  <os><type arch='x86_64' machine='q35'>hvm</type></os>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <controller type='usb' model='none'/>
    <serial type='pty'/>
    <console type='pty'/>
    <memballoon model='none'/>
EOF
    if [ "$2" != none ]; then
        for _f in $GPU $AUD; do
            _b=${_f#*:}
            printf "    <hostdev mode='subsystem' type='pci' managed='%s'>\n" "$2"
            printf "      <source><address domain='0x%s' bus='0x%s' slot='0x%s' function='0x%s'/></source>\n" \
                "${_f%%:*}" "${_b%%:*}" "$(echo "$_b" | cut -d: -f2 | cut -d. -f1)" "${_f##*.}"
            echo "    </hostdev>"
        done
    fi
    echo "  </devices>"
    echo "</domain>"
}

# --- setup: configuration, the hook, then the daemon --------------------------------------------
# the hook runs with libvirt's environment (no GPU_HANDOFF_QUIRKS): the database goes where the
# tool looks by default
QDEF=$(gpu-handoff --help | sed -n 's/.*--quirks FILE.*(default \([^;]*\);.*/\1/p')
step "quirks-default-path" "[ -n '$QDEF' ] && mkdir -p \"\$(dirname '$QDEF')\" && { [ -e '$QDEF' ] || ln -s $GPU_HANDOFF_QUIRKS '$QDEF'; } && ls -l '$QDEF'"
mkdir -p /etc/gpu-handoff/vm.d
for vm in tbvm tbvm-managed; do
    printf '[Devices]\nSingleGPU=yes\n' > "/etc/gpu-handoff/vm.d/$vm.conf"
    chmod 0644 "/etc/gpu-handoff/vm.d/$vm.conf"
done
step "hook-installed" "mkdir -p /etc/libvirt/hooks/qemu.d && ln -s $TB_TOOL $HOOK && ls -l $HOOK"
cat >> /etc/libvirt/libvirtd.conf <<EOF
log_filters="1:hook 1:command 1:pci 1:hostdev"
log_outputs="1:file:$DEBUGLOG"
EOF
T0=$(now)
step "libvirtd-start" "systemctl start libvirtd.service && systemctl is-active libvirtd.service"
# libvirtd probes QEMU's capabilities as it starts: about 10 s here, but once (a CI run) it had
# not answered after 4 minutes. Give it a deadline; if it misses it, say what it was doing (in
# the log, for the next person) and start it once more.
if ! timeout 90 virsh version > /dev/null 2>&1; then
    capture libvirtd-stuck sh -c 'systemctl status libvirtd.service --no-pager; ps -eo pid,stat,etime,wchan:24,args |
        grep -e qemu -e libvirt -e virsh | grep -v grep; cat /proc/sys/kernel/random/entropy_avail;
        tail -n 60 /var/log/libvirt/libvirtd-debug.log'
    systemctl restart libvirtd.service
fi
step "virsh-version" "timeout 90 virsh version"
note "libvirtd up and answering in $(($(now) - T0)) ms"
step "libvirt-hook-dir" "ls -la /etc/libvirt/hooks /etc/libvirt/hooks/qemu.d"
for d in tbvm-plain:none tbvm-nosingle:no tbvm:no tbvm-managed:yes; do
    domain_xml "${d%%:*}" "${d#*:}" > "/tmp/${d%%:*}.xml"
    step "define:${d%%:*}" "virsh define /tmp/${d%%:*}.xml"
done
capture domain-xml-tbvm cat /tmp/tbvm.xml
wait_for 10 "$HOLDS"
step "dm-holds-card0" "$HOLDS"
lv_state > /tmp/state.before
capture state-before cat /tmp/state.before

# --- 1. no hostdev: nothing touched ---------------------------------------------------------------
DM0=$(dm_pid)
run_dir > /tmp/run.before
C=$(cursor)
capture start-plain virsh start tbvm-plain
P=$(qemu_pid tbvm-plain)
step "check:plain-qemu-runs" "virsh domstate tbvm-plain | grep -x running && [ -n '$P' ] && [ -d /proc/$P ]"
capture plain-syslog-running syslog_since "$C"
run_dir > /tmp/run.running
lv_state > /tmp/state.running
step "check:plain-running-nothing-touched" "echo 'display manager: before $DM0, now $(dm_pid)'; [ '$(dm_pid)' = '$DM0' ] &&
    diff -u /tmp/run.before /tmp/run.running && diff -u /tmp/state.before /tmp/state.running"
capture destroy-plain virsh destroy tbvm-plain
run_dir > /tmp/run.after
capture plain-syslog syslog_since "$C"
step "check:plain-dm-same-process" "echo 'before $DM0, now $(dm_pid)'; [ '$(dm_pid)' = '$DM0' ]"
step "check:plain-run-dir-unchanged" "diff -u /tmp/run.before /tmp/run.after"
wait_state /tmp/state.before "check:plain-state-unchanged"
# libvirtd's debug log: every hook it ran for tbvm-plain, each followed (same thread) by its exit
# status and output
capture plain-hook-calls sh -c "grep -E 'virCommandRunAsync.*hooks/qemu.d/gpu-handoff tbvm-plain|virCommandRun:.*Result status' $DEBUGLOG"

# --- 2. the display's GPU without SingleGPU=: refused, nothing changed -----------------------------
C=$(cursor)
capture start-nosingle virsh start tbvm-nosingle
syslog_wait "$C" "tbvm-nosingle: "
step "check:nosingle-shut-off" "virsh domstate tbvm-nosingle; virsh domstate tbvm-nosingle | grep -x 'shut off'"
capture nosingle-syslog syslog_since "$C"
no_journal "check:nosingle-no-journal"
wait_state /tmp/state.before "check:nosingle-state-unchanged"

# --- 3. managed='yes': the hook frees the GPU, libvirt binds vfio-pci -------------------------------
# run_vm NAME TAG: start NAME, record what the hook and QEMU did, destroy, compare
run_vm() {
    _vm=$1 _tag=$2
    C=$(cursor)
    T0=$(now)
    capture "start-$_tag" virsh start "$_vm"
    note "$_vm: virsh start took $(($(now) - T0)) ms"
    P=$(qemu_pid "$_vm")
    step "check:$_tag-running" "virsh domstate $_vm | grep -x running && [ -n '$P' ] && [ -d /proc/$P ]"
    step "check:$_tag-vfio-drivers" "echo $GPU \$(readlink /sys/bus/pci/devices/$GPU/driver) $AUD \$(readlink /sys/bus/pci/devices/$AUD/driver);
        [ '$(drv "$GPU")' = vfio-pci ] && [ '$(drv "$AUD")' = vfio-pci ]"
    step "check:$_tag-dm-stopped" "! systemctl is-active fake-dm.service"
    capture "journal-$_tag" cat "$J"
    capture "status-$_tag" gpu-handoff --json status
    capture "cmdline-$_tag" sh -c "tr '\\0' '\\n' < /proc/$P/cmdline"
    capture "vfio-fds-$_tag" sh -c "ls -l /proc/$P/fd | sed -n 's/.* -> //p' | grep /dev/vfio | sort"
    capture "vfio-group-$_tag" sh -c "basename \$(readlink /sys/bus/pci/devices/$GPU/iommu_group)"
    capture "info-pci-$_tag" virsh qemu-monitor-command --hmp "$_vm" "info pci"
    syslog_wait "$C" "$_vm: lent "
    capture "syslog-running-$_tag" syslog_since "$C"
    T0=$(now)
    capture "destroy-$_tag" virsh destroy "$_vm"
    note "$_vm: virsh destroy took $(($(now) - T0)) ms"
    syslog_wait "$C" "$_vm: the GPU is back"
    capture "syslog-$_tag" syslog_since "$C"
    step "check:$_tag-shut-off" "virsh domstate $_vm | grep -x 'shut off'"
    no_journal "check:$_tag-no-journal"
    wait_for 10 "$HOLDS"
    step "check:$_tag-dm-holds-card0-again" "$HOLDS"
    wait_state /tmp/state.before "check:$_tag-state-restored"
    capture "qemu-log-$_tag" tail -n 30 "/var/log/libvirt/qemu/$_vm.log"
}
# managed='yes' first, on a libvirtd that has not used the functions yet (5. is the other order).
run_vm tbvm-managed managed
capture managed-libvirt-pci sh -c "grep -E 'vfio|drivers_probe|driver_override|unbind|eattach|etach|inactive list|active list' $DEBUGLOG | grep -v 'About to run' | tail -n 60"

# --- 4. managed='no': the hook binds vfio-pci -------------------------------------------------------
run_vm tbvm unmanaged

# --- 5. managed='yes' after managed='no' -------------------------------------------------------------
# Once libvirtd has used the functions as unmanaged hostdevs it keeps them in its list of inactive
# devices as unmanaged (until it restarts), and then does not unbind them from vfio-pci for a
# managed='yes' domain either ("Not reattaching unmanaged PCI device"; libvirt 9.0's
# virPCIDeviceDetach() keeps an existing entry of that list). The hook's release end takes them
# from vfio-pci itself: the host is as before all the same.
run_vm tbvm-managed managed-again
capture managed-again-libvirt-pci sh -c "grep -E 'vfio|drivers_probe|driver_override|unbind|eattach|etach|inactive list|active list' $DEBUGLOG | grep -v 'About to run' | tail -n 60"

capture libvirtd-journal journalctl -q -o cat -u libvirtd.service
capture hook-calls sh -c "grep -E 'hooks/qemu' $DEBUGLOG"
dmesg_clean
result
