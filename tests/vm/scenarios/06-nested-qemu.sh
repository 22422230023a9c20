#!/bin/sh
# 06-nested-qemu: the GPU really reaches a VM. After gpu-handoff attach --yes, a nested QEMU
# (the host's qemu-system-x86_64, its libraries and firmware reached through the host's root,
# exported read-only over 9p; TCG) starts with -device vfio-pci for both functions of the GPU,
# as a real VM would. Its monitor must list the VGA 1234:1111 and the audio 8086:2668 as its
# own PCI devices; after "cont" its SeaBIOS must pick the assigned GPU as the primary VGA and
# run the GPU's option ROM, read through VFIO (the isa-debugcon log); the VM must be running.
# Then QEMU quits (exit 0), gpu-handoff release returns 0 and the host state equals the state
# before attach (drivers, overrides, sorted module list, vtcon bindings, /dev/dri, /proc/fb,
# ALSA cards, no journal); no WARNING/BUG/Oops in dmesg. Every wait is on an answer of the
# monitor or a line of a log, with a deadline; no fixed sleeps. Judged by 06-nested-qemu.py.
# tb.firmware: bios
# tb.iommu: pt
# tb.share: /
# tb.timeout: 150

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
pci_facts
find_gpu
H=/host                                    # the host's root (read-only 9p)
MON_IN=/tmp/mon.in MON_RAW=/tmp/nested-monitor.raw QERR=/tmp/nested-qemu.err
DEBUGCON=$H/tmp/l2-seabios.log             # /tmp/l2-seabios.log inside the chroot
E=$(printf '\033')
QPID=""

# The share is mounted before the "before" snapshot: its modules (9p, 9pnet_virtio) and
# mounts are part of the host as it was, not something the hand-over has to undo.
step "mount-host-share" "set -e; /sbin/modprobe 9pnet_virtio; /sbin/modprobe 9p; mkdir -p $H
    mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostshare $H
    for m in proc sys dev; do mount --bind /\$m $H/\$m; done
    mount -t tmpfs tmpfs $H/tmp; mount -t tmpfs tmpfs $H/run
    chroot $H qemu-system-x86_64 --version | head -n1"
host_state > /tmp/state.before

capture attach gpu-handoff --json attach --yes
step "check:vfio-drivers" "[ '$(drv "$GPU")' = vfio-pci ] && [ '$(drv "$AUD")' = vfio-pci ] && ls -l /dev/vfio"

# --- the nested VM ------------------------------------------------------------------------------
alive() { # the nested QEMU still runs (a zombie that ash has not reaped yet does not count)
    [ -n "$QPID" ] && [ -e "/proc/$QPID" ] && ! grep -q '^State:.*Z' "/proc/$QPID/status" 2>/dev/null
}
until_true() { # until_true SECONDS 'test': polls the test every 0.1 s; 1 at the deadline or
               # when QEMU ended without the test becoming true
    _dl=$(($(now) + $1 * 1000))
    until eval "$2"; do
        [ "$(now)" -ge "$_dl" ] && return 1
        alive || { eval "$2"; return; }
        sleep 0.1
    done
}
prompts() { grep -o '(qemu)' "$MON_RAW" 2>/dev/null | wc -l; }
clean() { # the monitor transcript without CRs and readline's redrawing: "(qemu) info pci"
    tr -d '\r' < "$MON_RAW" | sed -e "s/^(qemu) .*$E\[D/(qemu) /" -e "s/$E\[[0-9;]*[A-Za-z]//g"
}
answer() { # answer 'HMP command': the monitor's answer to it (the lines up to the next prompt)
    clean | awk -v c="(qemu) $1" '$0 == c { on = 1; next } /^\(qemu\)/ { on = 0 } on'
}
mon() { # mon SECONDS 'HMP command' FILE: sends it; 0 once the next prompt is out (the answer
         # is complete); the answer goes to FILE (steps run in a subshell without these functions)
    _n=$(prompts)
    echo "$2" > "$MON_IN"
    until_true "$1" "[ \$(prompts) -gt $_n ]"; _rc=$?
    answer "$2" > "$3"
    return $_rc
}
wstep() { # wstep NAME RC 'report command': a step for a wait that ran in this shell
    step "$1" "$3; exit $2"
}

mkfifo "$MON_IN"
exec 3<> "$MON_IN"    # a writer that stays: QEMU never reads EOF between two commands
T_Q0=$(now)
chroot $H qemu-system-x86_64 -accel tcg,tb-size=64 -machine q35 -m 128 -nodefaults -display none \
    -S -monitor stdio -serial none \
    -device "vfio-pci,host=$GPU,id=hostgpu" -device "vfio-pci,host=$AUD,id=hostaud" \
    -chardev file,id=dbg,path=/tmp/l2-seabios.log -device isa-debugcon,iobase=0x402,chardev=dbg \
    < "$MON_IN" > "$MON_RAW" 2> "$QERR" &
QPID=$!

# 1. QEMU's monitor prompts (it does so before the devices are realized: a vfio-pci device
#    that cannot be opened ends QEMU right after; info pci below is the proof that they were)
# shellcheck disable=SC2016  # (the test is eval'd later)
until_true 60 '[ "$(prompts)" -ge 1 ]'; rc=$?
alive || rc=1
wstep "nested:monitor-up" $rc "echo 'after $(($(now) - T_Q0)) ms'; cat $QERR"
T_UP=$(now)

# 2. its PCI bus holds the GPU's two functions
mon 20 "info pci" /tmp/answer.pci; rc=$?
wstep "nested:info-pci" $rc "grep -B1 -A5 -E 'VGA|Audio' /tmp/answer.pci; cat $QERR"
step "check:nested-sees-vga-1234:1111" "grep -q 'VGA controller: PCI device 1234:1111' /tmp/answer.pci"
step "check:nested-sees-audio-8086:2668" "grep -q 'Audio controller: PCI device 8086:2668' /tmp/answer.pci"

capture status-in-use gpu-handoff --json status

# 3. the nested SeaBIOS runs: it must use the assigned GPU as its VGA and run its option ROM
mon 20 "cont" /tmp/answer.cont; rc=$?
wstep "nested:cont" $rc "cat /tmp/answer.cont"
until_true 60 "grep -qE '^Scan for option roms|^No VGA found' $DEBUGCON"; rc=$?
wstep "nested:seabios-vga-init" $rc "echo 'after $(($(now) - T_UP)) ms'; grep -E 'VGA|vga|option rom|1234:1111|8086:2668' $DEBUGCON"
step "check:nested-seabios-ran-gpu-option-rom" "awk '/^Scan for VGA option rom/ { v = 1; next }
    /^Scan for option roms/ { v = 0 } v && /^Running option rom at/ { ok = 1 } END { exit !ok }' $DEBUGCON &&
    grep -qE '^PCI: Using 00:[0-9a-f]+\.0 for primary VGA' $DEBUGCON"

mon 20 "info status" /tmp/answer.status; rc=$?
wstep "nested:info-status" $rc "cat /tmp/answer.status"
step "check:nested-vm-running" "grep -qx 'VM status: running' /tmp/answer.status"

# 4. QEMU quits and closes the devices
T_QUIT=$(now)
echo quit > "$MON_IN"
until_true 30 '! alive'; rc=$?
if alive; then kill -9 "$QPID"; fi
wait "$QPID"; qrc=$?
exec 3>&-
wstep "nested:quit" "$([ $rc -eq 0 ] && [ $qrc -eq 0 ] && echo 0 || echo 1)" \
    "echo 'qemu exit status $qrc, gone $(($(now) - T_QUIT)) ms after quit'"
note "nested QEMU: monitor up $((T_UP - T_Q0)) ms after start, held the GPU $(($(now) - T_Q0)) ms in all"

capture nested-monitor clean
capture nested-seabios cat "$DEBUGCON"
capture nested-qemu-stderr cat "$QERR"

# --- the hand-back --------------------------------------------------------------------------------
capture release gpu-handoff --json release
capture status-released gpu-handoff --json status
wait_state /tmp/state.before "check:state-restored"
dmesg_clean
result
