#!/bin/sh
# 11-grub-interrupted: setup when the generator fails, and setup killed in the middle; GRUB (BIOS)
# + initramfs-tools. --vfio of the twin GPU where both generators must run (update-initramfs,
# then update-grub), without it where update-grub alone is enough.
#   boot 0: A. an initramfs-tools hook that fails once (the injected failure; named to run first,
#              so the failure comes early): setup --vfio exits non-zero, rolled back, and the
#              generator ran again on the restored files: /etc and /boot as before, the image
#              without vfio-pci's file or ours, grub.cfg without the arguments, status none
#           B. setup --vfio killed (SIGKILL) while update-initramfs runs, after the files (the
#              generator's children outlive it): status interrupted; recover stops what is left
#              of the generator and puts everything back, as in A
#           C. setup --vfio killed while update-grub runs, after the initramfs generator: recover,
#              everything back, as in A
#           D. setup (no --vfio) killed while update-grub runs: the next setup settles the
#              interrupted one and applies completely. The host it starts from is the stock
#              install, as A-C proved, so D is also issue 13's scenario 1, the IOMMU from a
#              stock install:
#   boot 1: the complete new boot: the command line is the old one with exactly the plan's
#           arguments added and intel_iommu=off gone, IOMMU groups, doctor ready, setup status
#           applied with nothing missing or drifted; then setup undo
#   boot 2: the command line and every file under /etc and /boot as before the scenario (content,
#           mode, owner; grub.cfg and the initramfs images regenerated, not compared), the IOMMU
#           off, setup status none
# The next boot after A, B and C is the previous one because everything it reads is (grub.cfg,
# the initramfs listing, /etc and /boot byte for byte); D's reboot shows the complete new one.
# Judged by 11-grub-interrupted.py and the steps here.
# tb.disk: grub-bios
# tb.boots: 3
# tb.timeout: 1500

# shellcheck source=../../vm/guest/lib.sh
. /tb/lib/lib.sh
. /tb/scenarios/boot-lib.sh
S=/var/lib/tb J=/var/lib/gpu-handoff/setup/journal
HOOK=/etc/initramfs-tools/hooks/00-tb-fail-once
INITRD=/boot/initrd.img-$(uname -r)
gpu_pair

# kill_setup_at NAME 'journal regex' [OPTION...]: setup --yes OPTION... in the background, SIGKILLed
# as soon as its own phase of the journal (the "phase" line naming its pid) has a line matching
# the regex: a crash of gpu-handoff, whose generator dies with it (PR_SET_PDEATHSIG) while the
# generator's own children live on; "INFO killed NAME: last=<journal's last line>"
kill_setup_at() {
    _n=$1 _re=$2; shift 2
    gpu-handoff setup --yes "$@" > /tmp/kill-$_n.out 2>&1 &
    _pid=$!
    _dl=$(($(now) + 300000))
    until awk -v p="$_pid" -v re="$_re" '$1 == "phase" && $3 == p { on = 1 } on && $0 ~ re { f = 1 } END { exit !f }' $J 2>/dev/null; do
        if ! kill -0 $_pid 2>/dev/null || [ "$(now)" -ge "$_dl" ]; then
            step "kill-$_n(setup ended before the kill point)" "false"; return 1
        fi
        sleep 0.05
    done
    kill -9 $_pid
    wait $_pid 2>/dev/null
    info "killed $_n: last=$(tail -n1 $J)"
    step "kill-$_n" "! kill -0 $_pid 2>/dev/null"
}
nothing_applied() { # nothing_applied TAG: A and B leave the host as before setup
    snapshot_same "config-as-before-$1" $S/snapshot.hook
    step "initramfs-without-vfio-$1" "! lsinitramfs $INITRD | grep -q 'modprobe.d/gpu-handoff.conf'"
    step "grub.cfg-without-args-$1" "! grep -q gpu_handoff.vfio /boot/grub/grub.cfg"
}

case $TB_PHASE in
0)
    record_before
    fact twin "$GPU1 $AUD1"
    printf '%s\n' '#!/bin/sh' '# testbed: fails once, when /run/tb-fail-once exists' \
        '[ "$1" = prereqs ] && exit 0' \
        'if [ -e /run/tb-fail-once ]; then rm -f /run/tb-fail-once; echo "tb: injected failure" >&2; exit 1; fi' > $HOOK
    chmod 755 $HOOK
    config_snapshot > $S/snapshot.hook
    # A
    touch /run/tb-fail-once
    capture setup-fails gpu-handoff setup --yes --json --vfio "$GPU1"
    step "generator-ran-and-failed" "[ ! -e /run/tb-fail-once ]"
    nothing_applied A
    capture status-A gpu-handoff setup status --json
    # B
    kill_setup_at B '^begin [0-9]+ run update-initramfs' --vfio "$GPU1"
    capture status-B gpu-handoff setup status --json
    capture recover-B gpu-handoff recover
    capture status-B2 gpu-handoff setup status --json
    nothing_applied B
    # C
    kill_setup_at C '^begin [0-9]+ run update-grub' --vfio "$GPU1"
    capture recover-C gpu-handoff recover
    capture status-C2 gpu-handoff setup status --json
    nothing_applied C
    # D
    kill_setup_at D '^begin [0-9]+ run update-grub'
    capture status-D gpu-handoff setup status --json
    capture setup-D gpu-handoff setup --yes --json || step "setup-D-exit-status" false
    rm -f $HOOK
    next_boot disk ;;
1)
    fact cmdline-after "$(cat /proc/cmdline)"
    fact iommu_groups "$(ls /sys/kernel/iommu_groups | wc -l)"
    step iommu-groups "[ \$(ls /sys/kernel/iommu_groups | wc -l) -gt 0 ]"
    capture doctor gpu-handoff doctor --json
    capture status-1 gpu-handoff setup status --json
    capture undo gpu-handoff setup undo --yes --json || step "undo-exit-status" false
    next_boot disk ;;
2)
    as_before
    step iommu-off-again "[ \$(ls /sys/kernel/iommu_groups | wc -l) -eq 0 ]"
    capture status-2 gpu-handoff setup status --json
    result
    next_boot done ;;
esac
