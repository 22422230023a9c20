#!/bin/sh
# nested-qemu.sh GPU_BDF [AUDIO_BDF]: for scenarios with "# tb.share: /" - while the GPU's
# functions are bound to vfio-pci, start a nested QEMU (TCG) that takes them with
# -device vfio-pci, the way a real VM would. The QEMU, its libraries and firmware are the
# host's, reached through the host's root exported read-only over 9p (tag hostshare);
# nothing is copied. The nested SeaBIOS runs the assigned VGA's option ROM through VFIO.
# Exit status 0 when the nested VM ran and saw the GPU (1234:1111).
set -u
GPU=$1; AUD=${2:-}
H=/host
if ! grep -q " $H " /proc/mounts; then
    /sbin/modprobe 9pnet_virtio && /sbin/modprobe 9p || exit 1
    mkdir -p $H
    mount -t 9p -o trans=virtio,version=9p2000.L,ro,msize=262144 hostshare $H || exit 1
    for m in proc sys dev; do mount --bind /$m $H/$m; done
    mount -t tmpfs tmpfs $H/tmp
    mount -t tmpfs tmpfs $H/run
fi
set -- -device "vfio-pci,host=$GPU"
[ -n "$AUD" ] && set -- "$@" -device "vfio-pci,host=$AUD"
# HMP commands on stdin: list the PCI devices the nested guest sees, let its SeaBIOS run
# for a few seconds, then quit
t0=$(now)
{ sleep 3; echo "info pci"; echo "cont"; sleep 8; echo "info status"; echo "quit"; } | \
    chroot $H qemu-system-x86_64 -accel tcg -machine q35 -m 128 -nodefaults -display none \
        -S -monitor stdio -serial none "$@" \
        -chardev file,id=dbg,path=/tmp/l2-seabios.log -device isa-debugcon,iobase=0x402,chardev=dbg \
        > /tmp/nested-qemu.log 2>&1
rc=$?
tr -d '\r' < /tmp/nested-qemu.log | sed 's/\x1b\[[0-9;]*[A-Za-z]//g' | \
    grep -E 'Bus|VGA|Audio|Class|status|vfio|qemu-system|rror|arning' | head -40
echo "nested SeaBIOS log (debugcon): $(wc -l < $H/tmp/l2-seabios.log) lines"
grep -iE 'option rom|vga|Running' $H/tmp/l2-seabios.log | head -8
echo "nested qemu exit=$rc, ran $(($(now) - t0)) ms"
[ $rc -eq 0 ] && grep -q 'VM status: running' /tmp/nested-qemu.log && grep -q '1234:1111' /tmp/nested-qemu.log
