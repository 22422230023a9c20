# shellcheck shell=sh
# boot-lib.sh: helpers of the boot suite's guest side (tests/boot), sourced after /tb/lib/lib.sh
# (tests/vm/guest/lib.sh: step, capture, fact, result...). In the disk's own system and in the
# testbed's busybox initramfs (prep and rescue boots).
#   phase              this boot's number in the scenario (0 first), or "rescue"
#   next_boot disk|rescue|done   what the host does after this boot: boot the disk again, boot
#                      the rescue initramfs with the disk, or stop. Prints "TB-NEXT ..."; the
#                      phase counter on the disk goes up for disk and rescue
#   gpu_pair           sets GPU0/AUD0 (the boot display, first root port) and GPU1/AUD1 (the twin)
#   live_usb_links DIR the /dev/disk/by-uuid links of the disk mounted on DIR, as udev makes them
#                      on a live USB (the testbed's busybox initramfs has no udev; without them
#                      update-grub writes root=/dev/vda1 instead of root=UUID=...)
# (mount_disk and umount_disk are in disk-lib.sh, sourced here: the prep boot uses them too)
. /tb/scenarios/disk-lib.sh
TB_PHASE_FILE=/var/lib/tb/phase

phase() {
    _p=$(tb_arg phase "")
    [ -n "$_p" ] && { echo "$_p"; return; }
    cat "$TB_PHASE_FILE" 2>/dev/null || echo 0
}

# boot-run passes the phase in $TB_PHASE; the rescue initramfs's /tb/lib/run does not
TB_PHASE=${TB_PHASE:-$(phase)}

next_boot() {
    case $1 in
        disk|rescue) _n=$(($(cat "$TB_PHASE_FILE" 2>/dev/null || echo 0) + 1))
            mkdir -p "${TB_PHASE_FILE%/*}" && echo "$_n" > "$TB_PHASE_FILE" && sync ;;
    esac
    echo "TB-NEXT $1"
}

gpu_pair() {
    GPU0="" GPU1=""
    for _d in /sys/bus/pci/devices/*; do
        case $(cat "$_d/vendor"):$(cat "$_d/device") in 0x1234:0x1111) ;; *) continue ;; esac
        if [ "$(cat "$_d/boot_vga" 2>/dev/null)" = 1 ]; then GPU0=${_d##*/}; else GPU1=${_d##*/}; fi
    done
    AUD0=${GPU0%.*}.1 AUD1=${GPU1%.*}.1
}

# config_snapshot: one line per file, link and directory under /etc and /boot (the ESP on
# /boot/efi too): type, mode, owner, and the content's checksum or the link's target. What a
# generator writes from the configuration - grub.cfg, the initramfs images, their copies on the
# ESP - is left out: it is regenerated, not restored (the issue's "byte-identical" is about what
# the configuration is). /etc/ld.so.cache and the like do not change between these boots.
config_snapshot() {
    _prune="( -path /boot/grub/grub.cfg -o -name initrd.img-* -o -name initrd -o -name initrd-* ) -prune"
    # shellcheck disable=SC2086   # (the words of the prune expression)
    find /etc /boot $_prune -o -printf '%p %y %m %U:%G %l\n' 2>/dev/null | LC_ALL=C sort
    # shellcheck disable=SC2086
    find /etc /boot $_prune -o -type f -exec sha256sum {} + 2>/dev/null | LC_ALL=C sort -k2
}

# snapshot_same NAME FILE: step NAME - config_snapshot equals FILE (the diff is the output)
snapshot_same() {
    config_snapshot > /tmp/snap.now
    step "$1" "diff -u $2 /tmp/snap.now"
}

# cmdline_words FILE: the words of a command line, one per line, BOOT_IMAGE= left out (GRUB's)
cmdline_words() { tr ' ' '\n' < "$1" | grep -v '^BOOT_IMAGE=' | grep -v '^$'; }

# record_before: the stock boot's command line and configuration, kept on the disk for the boot
# after the undo (FACT cmdline-before)
record_before() {
    cp /proc/cmdline /var/lib/tb/cmdline.0
    config_snapshot > /var/lib/tb/snapshot.0
    fact cmdline-before "$(cat /proc/cmdline)"
}

# as_before: after the undo and a reboot, steps cmdline-as-before and config-as-before against
# what record_before kept (FACT cmdline-undone)
as_before() {
    fact cmdline-undone "$(cat /proc/cmdline)"
    cmdline_words /var/lib/tb/cmdline.0 > /tmp/w0; cmdline_words /proc/cmdline > /tmp/w2
    step cmdline-as-before "diff -u /tmp/w0 /tmp/w2"
    snapshot_same config-as-before /var/lib/tb/snapshot.0
}

live_usb_links() {
    mkdir -p /dev/disk/by-uuid
    for _dev in $DISK_ROOT $DISK_ESP; do
        _u=$(chroot "$1" /sbin/blkid -s UUID -o value "$_dev") && [ -n "$_u" ] &&
            ln -sf "../../${_dev#/dev/}" "/dev/disk/by-uuid/$_u"
    done
}
