#!/bin/sh
# 12-grub-rescue: the way back when the only GPU was bound at boot; GRUB (BIOS) +
# initramfs-tools, one GPU (the machine of a single-GPU host).
#   boot 0: setup --vfio of the only GPU without consent is refused (exit 1, nothing changed);
#           with --yes (the explicit single-GPU consent) it is applied
#   boot 1: the GPU and its audio are on vfio-pci and the console is gone (no framebuffer, no
#           frame buffer console bound; the serial line is all that is left)
#   rescue: the testbed kernel and initramfs with the disk (a live USB): the disk mounted on /mnt
#           (/dev /proc /sys bound in, the by-uuid links a live USB's udev makes), gpu-handoff
#           --root /mnt setup undo --yes
#   boot 2: the GPU on bochs-drm, the framebuffer console back; the command line and /etc + /boot
#           as before
# Judged by 12-grub-rescue.py and the steps here.
# tb.disk: grub-bios
# tb.gpus: 1
# tb.boots: 4
# tb.timeout: 720

# shellcheck source=../../vm/guest/lib.sh
. /tb/lib/lib.sh
. /tb/scenarios/boot-lib.sh
S=/var/lib/tb
gpu_pair
fb_console() { # the frame buffer console is bound and /proc/fb lists bochs's framebuffer
    grep -q bochs /proc/fb && grep -l 'frame buffer' /sys/class/vtconsole/vtcon*/name >/dev/null 2>&1 &&
        for n in $(grep -l 'frame buffer' /sys/class/vtconsole/vtcon*/name); do [ "$(cat "${n%/name}/bind")" = 1 ] || return 1; done
}
case $TB_PHASE in
0)
    record_before
    fact gpu "$GPU0 $AUD0"
    fb_console || step "console-on-the-gpu" false
    capture setup-refused gpu-handoff setup --vfio "$GPU0" --json
    snapshot_same "nothing-changed-by-the-refusal" $S/snapshot.0
    capture setup gpu-handoff setup --vfio "$GPU0" --yes --json || step "setup-exit-status" false
    next_boot disk ;;
1)
    fact cmdline-after "$(cat /proc/cmdline)"
    pci_facts
    step "vfio-pci:$GPU0" "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU0/driver)\")\" = vfio-pci ]"
    step "no-framebuffer" "[ ! -s /proc/fb ]"
    fb_console && step "console-gone" false
    next_boot rescue ;;
rescue)
    mkdir -p /mnt
    if mount_disk /mnt; then
        live_usb_links /mnt
        capture rescue-undo gpu-handoff --root /mnt setup undo --yes --json || step "undo-exit-status" false
        echo 2 > /mnt$S/phase
        umount_disk /mnt
    else
        step mount-disk false
    fi
    echo "TB-NEXT disk" ;;
2)
    as_before
    step "bochs-drm:$GPU0" "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU0/driver)\")\" = bochs-drm ]"
    fb_console || step "console-back" false
    capture status-2 gpu-handoff setup status --json
    result
    next_boot done ;;
esac
