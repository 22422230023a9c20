#!/bin/sh
# build-rootfs.sh ROOTDIR IMAGE [VARIANT]: the systemd guest of the testbed (scenarios with
# "# tb.guest: systemd"), as an ext4 image booted through the testbed initramfs
# (kernel command line tb.root=/dev/vda). VARIANT libvirt (scenarios with "# tb.guest: libvirt")
# is the same guest plus Debian's libvirt and QEMU, see below.
#
# Only the operating system is in the image: mmdebstrap minbase + systemd, dbus, udev, kmod,
# logind. At every boot the initramfs copies the kernel modules, /tb (guest library and
# scenarios) and the tool into it before switch_root; the disk is attached with snapshot=on,
# so the image is never modified and can be cached (testbed.sh rebuilds it when this file
# changes). ~12 s with a fast mirror, 1 GiB sparse, ~280 MB used. Needs mmdebstrap, e2fsprogs.
#
# Besides the Debian defaults the image has:
#   fake-dm.service   aliased to display-manager.service; holds /dev/dri/card0 open the way
#                     Xorg/Wayland do, so "modprobe -r bochs" fails until it is stopped
#   tb-test.service   runs /tb/lib/run (the scenario named by tb.test=) on the serial
#                     console, then powers the VM off
#   no gettys         a getty on ttyS0 vhangup()s the console and cuts off the test output
#   MIRROR=URL        the Debian mirror (default: the one this system's apt uses)
#
# The libvirt variant adds libvirt-daemon-system (the monolithic libvirtd of Debian 12, with
# virtlogd, machined, polkit), libvirt-clients (virsh) and qemu-system-x86 (with SeaBIOS), all
# as Debian installs them, with these changes only, so that a scenario decides when the daemon
# starts (libvirt reads /etc/libvirt/hooks/ at startup) and boots stay fast:
#   libvirtd, its sockets and libvirt-guests are not started at boot (the scenario starts
#   libvirtd.service after installing the hook); the default network does not autostart (no
#   dnsmasq, no NAT; the test domains have no network); qemu.conf security_driver = "none"
#   (the guest has no AppArmor userspace to load libvirt's profiles with).
# ~30 s with a fast mirror (~27 s measured), 2 GiB sparse, ~530 MB used.
set -eu
ROOT=$1
IMG=$2
VARIANT=${3:-systemd}
case $VARIANT in
    systemd) EXTRA="" SIZE=1G ;;
    libvirt) EXTRA=",libvirt-daemon-system,libvirt-clients,qemu-system-x86" SIZE=2G ;;
    *) echo "build-rootfs: unknown variant $VARIANT (systemd or libvirt)" >&2; exit 2 ;;
esac
MIRROR=${MIRROR:-$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1)}
[ -n "$MIRROR" ] || MIRROR=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null)
[ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian

rm -rf "$ROOT"
mmdebstrap --variant=minbase \
    --include=systemd,systemd-sysv,dbus,udev,kmod,procps,libpam-systemd$EXTRA \
    bookworm "$ROOT" "$MIRROR"

echo tbguest > "$ROOT/etc/hostname"
echo "/dev/vda / ext4 rw,relatime 0 1" > "$ROOT/etc/fstab"
passwd -R "$ROOT" -d root >/dev/null          # empty root password (serial shell for debugging)
mkdir -p "$ROOT/tb"

cat > "$ROOT/etc/systemd/system/fake-dm.service" <<'UNIT'
[Unit]
Description=Fake display manager (holds /dev/dri/card0 open)
After=systemd-udev-settle.service systemd-udev-trigger.service
[Service]
ExecStartPre=/bin/sh -c 'for i in $(seq 100); do [ -e /dev/dri/card0 ] && exit 0; sleep 0.1; done; exit 1'
ExecStart=/bin/sh -c 'exec 3<>/dev/dri/card0; exec sleep infinity'
[Install]
Alias=display-manager.service
WantedBy=graphical.target
UNIT
cat > "$ROOT/etc/systemd/system/tb-test.service" <<'UNIT'
[Unit]
Description=gpu-handoff testbed scenario
After=multi-user.target display-manager.service
[Service]
Type=simple
ExecStart=/tb/lib/run
ExecStopPost=/bin/systemctl --no-block poweroff
StandardOutput=tty
StandardError=tty
TTYPath=/dev/ttyS0
[Install]
WantedBy=graphical.target
UNIT
ln -sf /lib/systemd/system/graphical.target "$ROOT/etc/systemd/system/default.target"
mkdir -p "$ROOT/etc/systemd/system/graphical.target.wants"
ln -sf /etc/systemd/system/fake-dm.service "$ROOT/etc/systemd/system/display-manager.service"
ln -sf /etc/systemd/system/tb-test.service "$ROOT/etc/systemd/system/graphical.target.wants/tb-test.service"
systemctl --root="$ROOT" mask serial-getty@ttyS0.service getty@tty1.service >/dev/null 2>&1
# faster boot: nothing periodic, no pstore
rm -f "$ROOT"/etc/systemd/system/timers.target.wants/* "$ROOT"/etc/systemd/system/sysinit.target.wants/systemd-pstore.service
rm -f "$ROOT/etc/machine-id"; : > "$ROOT/etc/machine-id"

if [ "$VARIANT" = libvirt ]; then
    systemctl --root="$ROOT" disable libvirtd.service libvirtd.socket libvirtd-ro.socket libvirtd-admin.socket \
        libvirtd-tcp.socket libvirtd-tls.socket virtlogd.socket virtlogd-admin.socket virtlockd.socket \
        virtlockd-admin.socket libvirt-guests.service >/dev/null 2>&1 || true
    rm -f "$ROOT/etc/libvirt/qemu/networks/autostart/default.xml"
    echo 'security_driver = "none"' >> "$ROOT/etc/libvirt/qemu.conf"
fi

rm -f "$IMG"
mke2fs -q -t ext4 -L tbroot -d "$ROOT" "$IMG" "$SIZE"
rm -rf "$ROOT"
echo "build-rootfs: $IMG"
