# shellcheck shell=sh
# vfio-lib.sh: the "binding at boot by address" scenario (issue 13's scenarios 2 and 3), the same
# on every disk (10-grub-vfio-twin, 20-sdboot-vfio-twin, 30-grub-efi-vfio-twin): setup --vfio of
# the twin GPU (it also turns the IOMMU on, so this covers the IOMMU scenario's checks), one
# reboot, the checks, undo, reboot, as before. NESTED=no leaves the nested QEMU out and
# ATTACH=no the hand-over of the boot GPU (they do not depend on the bootloader).
# Facts for the checker: cmdline-before/-after/-undone, iommu_groups, pci (pci_facts).
bound_to() { # bound_to DRIVER BDF...: step "DRIVER:BDF" for each
    _want=$1; shift
    for _b in "$@"; do step "$_want:$_b" "[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$_b/driver)\")\" = $_want ]"; done
}
vfio_twin_scenario() {
    gpu_pair
    info "boot GPU $GPU0 ($AUD0), twin $GPU1 ($AUD1)"
    case $TB_PHASE in
    0)
        [ -n "$GPU0" ] && [ -n "$GPU1" ] || { echo "RESULT FAIL (not two 1234:1111 GPUs)"; return 1; }
        record_before
        fact twin "$GPU1 $AUD1"
        bound_to bochs-drm "$GPU0" "$GPU1"
        bound_to snd_hda_intel "$AUD0" "$AUD1"
        # the check of boot 1 can fail: here the kernel log does have bochs-drm's probe of the twin
        step "bochs-drm-probed-twin-now" "dmesg | grep -q 'bochs-drm $GPU1'"
        capture setup gpu-handoff setup --yes --json --vfio "$GPU1" || step "setup-exit-status" false
        next_boot disk ;;
    1)
        fact cmdline-after "$(cat /proc/cmdline)"
        fact iommu_groups "$(ls /sys/kernel/iommu_groups | wc -l)"
        pci_facts
        bound_to vfio-pci "$GPU1" "$AUD1"
        bound_to bochs-drm "$GPU0"
        bound_to snd_hda_intel "$AUD0"
        step "bochs-drm-never-probed-twin" "! dmesg | grep 'bochs-drm $GPU1'"
        step "console-on-boot-gpu" "grep -q bochs /proc/fb && [ \$(wc -l < /proc/fb) -eq 1 ] &&
            [ \"\$(basename \"\$(readlink -f /sys/class/graphics/fb0/device)\")\" = $GPU0 ] &&
            grep -l 'frame buffer' /sys/class/vtconsole/vtcon*/name | while read -r n; do [ \$(cat \${n%/name}/bind) = 1 ] || exit 1; done"
        step "initramfs-has-vfio" "$INITRD_LIST | grep -q 'vfio-pci.ko' && $INITRD_LIST | grep -q 'modprobe.d/gpu-handoff.conf'"
        _g=$(basename "$(readlink /sys/bus/pci/devices/$GPU1/iommu_group)")
        step "dev-vfio-$_g" "[ -c /dev/vfio/$_g ]"
        step "vfio-check:$GPU1" "vfio-check $GPU1"
        [ "${NESTED:-yes}" = yes ] && step "nested-qemu-with-twin" "/tb/lib/nested-qemu.sh $GPU1 $AUD1"
        capture doctor gpu-handoff doctor --json
        capture status-1 gpu-handoff setup status --json
        if [ "${ATTACH:-yes}" = yes ]; then
            capture attach-boot-gpu gpu-handoff attach --yes --json "$GPU0"
            bound_to vfio-pci "$GPU0" "$GPU1"
            capture release-boot-gpu gpu-handoff release --json
            bound_to bochs-drm "$GPU0"
            bound_to vfio-pci "$GPU1" "$AUD1"
        fi
        capture undo gpu-handoff setup undo --yes --json || step "undo-exit-status" false
        next_boot disk ;;
    2)
        as_before
        bound_to bochs-drm "$GPU0" "$GPU1"
        bound_to snd_hda_intel "$AUD0" "$AUD1"
        capture status-2 gpu-handoff setup status --json
        result
        next_boot done ;;
    esac
}
