# shellcheck shell=sh disable=SC2034  # (the TB_* results are read by the callers)
# Host side of the QEMU testbed, sourced by run-scenarios and demo (POSIX sh).
#
# The machine: q35 + emulated Intel VT-d + a PCIe root port with a two-function
# "GPU" behind it (fn 0: std VGA -> bochs-drm, fn 1: Intel HDA -> snd_hda_intel),
# i.e. the layout of a real GPU with its HDMI audio function. It runs Debian's
# linux-image-amd64 kernel (downloaded with apt-get download and unpacked, never
# installed) with a busybox initramfs, or a small systemd Debian on a virtio disk.
#
# Everything is written below $TB_WORK; the kernel and the systemd image are
# cached there between runs. Variables the caller sets:
#   TB_WORK       work/cache folder (absolute)
#   TB_TOOL       the gpu-handoff executable to put in the guest ("" = none)
#   TB_QUIRKS     quirks database, copied to /usr/share/gpu-handoff/quirks in the guest
#   TB_PCI_IDS    pci.ids, copied to /usr/share/misc/pci.ids in the guest
#   TB_KSUITE     "" = the system's apt sources; e.g. bookworm-backports for a newer
#                 kernel through a private apt state under $TB_WORK (system untouched)

TB_DIR=$(cd "$(dirname "$0")" && pwd)   # tests/vm (the callers live there)
TB_GUEST_SRC=$TB_DIR/guest
TB_SCENARIOS=$TB_DIR/scenarios
OVMF_CODE=/usr/share/OVMF/OVMF_CODE_4M.fd
OVMF_VARS=/usr/share/OVMF/OVMF_VARS_4M.fd

# Kernel modules for the initramfs (with their dependencies): the GPU's two
# drivers, VFIO, KVM (so the guest looks like a host that could run a VM), and
# what the systemd guest (virtio disk) and the nested QEMU (9p) need, and the boot suite's prep
# and rescue boots (the disk's ESP: vfat).
TB_MODULES="bochs snd-hda-intel snd-hda-codec-generic vfio-pci vfio_iommu_type1 kvm-intel kvm-amd \
 virtio_pci virtio_blk ext4 9p 9pnet_virtio overlay autofs4 vfat nls_cp437 nls_utf8 nls_ascii"

tb_log() { printf '%s\n' "$*" >&2; }
tb_die() { printf 'testbed: %s\n' "$*" >&2; exit 1; }

# --- scenario headers --------------------------------------------------------------------------
# A scenario is tests/vm/scenarios/NN-name.sh. Its leading comment block may hold settings:
#   # tb.firmware: bios|uefi          (default bios)
#   # tb.iommu: pt|on|off|no-param    (default pt = intel_iommu=on iommu=pt; on = intel_iommu=on;
#                                      off = no emulated IOMMU at all; no-param = the VT-d is
#                                      there but the kernel parameter is not, so Debian's
#                                      kernel leaves it off)
#   # tb.append: WORDS                extra kernel command line (may repeat)
#   # tb.guest: initramfs|systemd|libvirt  (default initramfs; systemd = Debian with systemd, D-Bus,
#                                      logind; libvirt = that plus Debian's libvirt and QEMU)
#   # tb.share: /                     export a host folder read-only over 9p (tag hostshare)
#   # tb.tool: yes|no                 needs the gpu-handoff executable (default yes)
#   # tb.default: yes|no              part of the default run (default yes; no = only when named)
#   # tb.timeout: SECONDS             per-VM time limit (default $TB_TIMEOUT)
#   # tb.smp: N   # tb.mem: MiB       guest CPUs and memory (default 1, 1024)
TB_KEYS="firmware iommu append guest share tool default timeout smp mem"

tb_hdr() { # tb_hdr FILE KEY DEFAULT: value of "# tb.KEY:" (repeated keys are joined)
    hv=$(awk -v k="$2" '!/^#/ { exit }
        { p = "^# tb\\." k ":[ \t]*"; if ($0 ~ p) { sub(p, ""); printf "%s%s", sep, $0; sep = " " } }' "$1")
    if [ -n "$hv" ]; then printf '%s\n' "$hv"; else printf '%s\n' "$3"; fi
}

tb_hdr_validate() { # tb_hdr_validate FILE: reject unknown keys and values (typos must not pass silently)
    for hk in $(awk '!/^#/ { exit } /^# tb\.[a-z_]+:/ { sub(/^# tb\./, ""); sub(/:.*/, ""); print }' "$1"); do
        case " $TB_KEYS " in *" $hk "*) ;; *) echo "unknown setting tb.$hk"; return 1 ;; esac
    done
    case $(tb_hdr "$1" firmware bios) in bios|uefi) ;; *) echo "tb.firmware must be bios or uefi"; return 1 ;; esac
    case $(tb_hdr "$1" iommu pt) in pt|on|off|no-param) ;; *) echo "tb.iommu must be pt, on, off or no-param"; return 1 ;; esac
    case $(tb_hdr "$1" guest initramfs) in initramfs|systemd|libvirt) ;;
        *) echo "tb.guest must be initramfs, systemd or libvirt"; return 1 ;; esac
    case $(tb_hdr "$1" tool yes)$(tb_hdr "$1" default yes) in yesyes|yesno|noyes|nono) ;;
        *) echo "tb.tool and tb.default must be yes or no"; return 1 ;; esac
    for hk in timeout smp mem; do
        case $(tb_hdr "$1" $hk 1) in ''|*[!0-9]*) echo "tb.$hk must be a number"; return 1 ;; esac
    done
}

# --- prerequisites -----------------------------------------------------------------------------
# tb_prereqs [uefi] [systemd] [tool]: every missing piece is named with the Debian package
# that provides it, and the whole list is returned at once. Never a silent skip.
tb_prereqs() {
    TB_MISSING=""
    need_cmd() { command -v "$1" >/dev/null 2>&1 || TB_MISSING="$TB_MISSING $1($2)"; }
    need_file() { [ -e "$1" ] || TB_MISSING="$TB_MISSING $1($2)"; }
    need_cmd qemu-system-x86_64 qemu-system-x86
    need_cmd cpio cpio
    need_cmd gzip gzip
    need_cmd timeout coreutils
    need_cmd python3 python3
    need_cmd dpkg-deb dpkg
    need_cmd apt-get apt
    need_cmd "${CC:-cc}" gcc
    [ -x /sbin/depmod ] || [ -x /usr/sbin/depmod ] || TB_MISSING="$TB_MISSING depmod(kmod)"
    need_file /usr/bin/kmod kmod
    # the guest's shell and tools: a statically linked busybox (busybox-static, not busybox)
    if [ ! -x /bin/busybox ]; then TB_MISSING="$TB_MISSING busybox(busybox-static)"
    elif ldd /bin/busybox >/dev/null 2>&1; then TB_MISSING="$TB_MISSING static-busybox(busybox-static)"; fi
    # static libc for the two C helpers
    [ -e /usr/lib/x86_64-linux-gnu/libc.a ] || [ -e /usr/lib/libc.a ] || TB_MISSING="$TB_MISSING libc.a(libc6-dev)"
    for want in "$@"; do
        case $want in
            uefi) need_file "$OVMF_CODE" ovmf; need_file "$OVMF_VARS" ovmf ;;
            systemd|libvirt) need_cmd mmdebstrap mmdebstrap; need_cmd mke2fs e2fsprogs ;;
            tool) need_file "$TB_PCI_IDS" pci.ids ;;
        esac
    done
    [ -z "$TB_MISSING" ]
}

tb_missing_message() { # what to tell the user after tb_prereqs failed
    pkgs=$(for m in $TB_MISSING; do m=${m#*\(}; echo "${m%\)}"; done | sort -u | tr '\n' ' ')
    pkgs=${pkgs% }
    printf 'missing:%s -> apt-get install -y --no-install-recommends %s\n' "$TB_MISSING" "$pkgs"
}

# --- accelerator -------------------------------------------------------------------------------
# KVM only when /dev/kvm is usable AND the CPU shows vmx/svm. (A /dev/kvm without them - e.g. the
# PVM flavour of nested KVM - hangs stock kernels right after "Probing EDD".) TCG is fast enough:
# one boot is ~7 s. Sets TB_ACCEL (kvm|tcg) and TB_ACCEL_WHY.
tb_pick_accel() {
    case ${TB_ACCEL_FORCE:-auto} in
        kvm|tcg) TB_ACCEL=$TB_ACCEL_FORCE; TB_ACCEL_WHY="forced"; return ;;
    esac
    if [ ! -e /dev/kvm ]; then TB_ACCEL=tcg; TB_ACCEL_WHY="no /dev/kvm"
    elif [ ! -r /dev/kvm ] || [ ! -w /dev/kvm ]; then TB_ACCEL=tcg; TB_ACCEL_WHY="/dev/kvm not read/writable"
    elif ! grep -qwE 'vmx|svm' /proc/cpuinfo; then TB_ACCEL=tcg; TB_ACCEL_WHY="/dev/kvm exists but the CPU shows no vmx/svm"
    else TB_ACCEL=kvm; TB_ACCEL_WHY="/dev/kvm usable, CPU has vmx/svm"; fi
}

# --- guest kernel ------------------------------------------------------------------------------
# Debian's linux-image-amd64 (DRM/bochs, snd-hda-intel and VFIO as modules; the cloud kernel has
# neither DRM nor sound), fetched with apt-get download and unpacked with dpkg-deb -x into
# $TB_KERNEL, then depmod. Cached: nothing is downloaded when $TB_KERNEL/KVER exists.
tb_fetch_kernel() {
    TB_KERNEL=$TB_WORK/kernel${TB_KSUITE:+-$TB_KSUITE}
    if [ -s "$TB_KERNEL/KVER" ] && [ -e "$TB_KERNEL/vmlinuz" ]; then
        TB_KVER=$(cat "$TB_KERNEL/KVER"); TB_KERNEL_CACHED=yes
        return 0
    fi
    TB_KERNEL_CACHED=no
    kpkg=linux-image-amd64
    apto=""
    if [ -n "${TB_KSUITE:-}" ]; then
        # a private apt state for another suite; the system's sources and lists stay untouched
        mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/debian.sources 2>/dev/null | grep -v security | head -n1)
        [ -n "$mirror" ] || mirror=$(awk '$1=="deb" && $0 !~ /security/ {for (i=2;i<=NF;i++) if ($i ~ /:\/\//) {print $i; exit}}' /etc/apt/sources.list 2>/dev/null)
        a=$TB_WORK/apt-$TB_KSUITE
        mkdir -p "$a/lists/partial" "$a/cache/archives/partial"
        echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $mirror $TB_KSUITE main" > "$a/sources.list"
        apto="-o Dir::Etc::SourceList=$a/sources.list -o Dir::Etc::SourceParts=/nonexistent -o Dir::State::Lists=$a/lists -o Dir::Cache=$a/cache"
        # shellcheck disable=SC2086
        apt-get $apto update -q || return 1
    fi
    # metapackage -> versioned image package (+ the linux-binary/-modules/-base parts of the
    # split packaging that kernels 7.x use)
    # shellcheck disable=SC2086
    kimg=$(apt-cache $apto depends "$kpkg" 2>/dev/null | awk '/Depends: linux-image-[0-9]/ {print $2; exit}')
    if [ -z "$kimg" ]; then
        tb_log "cannot resolve $kpkg with apt-cache: are the apt lists empty? (run apt-get update)"
        return 1
    fi
    kv=${kimg#linux-image-}
    # shellcheck disable=SC2086
    parts=$(apt-cache $apto depends "$kimg" | awk -v v="$kv" '$1=="Depends:" && ($2=="linux-binary-" v || $2=="linux-modules-" v || $2=="linux-base-" v) {print $2}')
    mkdir -p "$TB_WORK/debs" && chmod 755 "$TB_WORK/debs"   # _apt must be able to write there
    for p in $kimg $parts; do
        ls "$TB_WORK/debs/${p}_"*.deb >/dev/null 2>&1 && continue    # downloaded before
        # shellcheck disable=SC2086
        (cd "$TB_WORK/debs" && apt-get $apto download "$p") || return 1
    done
    rm -rf "$TB_KERNEL.tmp" && mkdir -p "$TB_KERNEL.tmp"
    for p in $kimg $parts; do dpkg-deb -x "$TB_WORK/debs/${p}_"*.deb "$TB_KERNEL.tmp" || return 1; done
    # merged-/usr layout (7.x packages): modules and vmlinuz below usr/lib/modules
    [ -d "$TB_KERNEL.tmp/lib" ] || ln -s usr/lib "$TB_KERNEL.tmp/lib"
    TB_KVER=$(ls "$TB_KERNEL.tmp/lib/modules" | head -n1)
    depmod -b "$TB_KERNEL.tmp" "$TB_KVER" || return 1
    if [ -e "$TB_KERNEL.tmp/boot/vmlinuz-$TB_KVER" ]; then ln -sf "boot/vmlinuz-$TB_KVER" "$TB_KERNEL.tmp/vmlinuz"
    else ln -sf "lib/modules/$TB_KVER/vmlinuz" "$TB_KERNEL.tmp/vmlinuz"; fi
    echo "$TB_KVER" > "$TB_KERNEL.tmp/KVER"
    # an interrupted download or unpack never leaves a half kernel that counts as cached
    rm -rf "$TB_KERNEL" && mv "$TB_KERNEL.tmp" "$TB_KERNEL"
    tb_log "testbed: kernel $kimg ($TB_KVER) unpacked in $TB_KERNEL"
}

# --- static helpers ----------------------------------------------------------------------------
tb_build_helpers() { # now (CLOCK_MONOTONIC in ms) and vfio-check (the VFIO API as QEMU uses it)
    mkdir -p "$TB_WORK/bin"
    for h in now vfio-check; do
        if [ ! -x "$TB_WORK/bin/$h" ] || [ -n "$(find "$TB_GUEST_SRC/$h.c" -newer "$TB_WORK/bin/$h")" ]; then
            "${CC:-cc}" -O2 -Wall -static -o "$TB_WORK/bin/$h" "$TB_GUEST_SRC/$h.c" || return 1
        fi
    done
}

# --- initramfs ---------------------------------------------------------------------------------
# tb_build_initramfs OUT [SCENARIO...]: busybox-static (applet symlinks) + the real kmod with
# its libraries + the modules in $TB_MODULES with dependencies + the helpers + /init + /tb (guest
# library, scenarios) + the tool with its libraries and data files. ~8 MB, < 2 s.
tb_build_initramfs() {
    out=$1; shift
    st=$TB_RUN/initramfs.d
    rm -rf "$st"
    mkdir -p "$st/bin" "$st/sbin" "$st/usr/bin" "$st/usr/sbin" "$st/lib" "$st/lib64" "$st/etc" \
             "$st/proc" "$st/sys" "$st/dev" "$st/run" "$st/tmp" "$st/mnt" "$st/root" \
             "$st/tb/lib" "$st/tb/scenarios" "$st/lib/modules/$TB_KVER"
    : > "$st/tb/payload.list"   # what /init copies into the systemd guest's root
    copy_bin() { # copy_bin SRC DEST: an executable plus its shared libraries (same paths as here)
        install -D -m 0755 "$1" "$st$2" || return 1
        echo "$2" >> "$st/tb/payload.list"
        for lib in $(ldd "$1" 2>/dev/null | grep -oE '/[^ ]+'); do
            [ -e "$st$lib" ] && continue
            install -D -m 0755 "$(readlink -f "$lib")" "$st$lib" || return 1
            echo "$lib" >> "$st/tb/payload.list"
        done
    }
    # busybox applets as symlinks in /bin ("busybox --list" names busybox itself: no self-loop)
    cp /bin/busybox "$st/bin/busybox"
    for a in $("$st/bin/busybox" --list); do [ "$a" = busybox ] || ln -sf busybox "$st/bin/$a"; done
    # real kmod: busybox modprobe ignores softdep (vfio_iommu_type1 would never load)
    copy_bin /usr/bin/kmod /sbin/kmod || return 1
    for a in modprobe rmmod insmod lsmod modinfo depmod; do ln -sf kmod "$st/sbin/$a"; done
    # kernel modules with their dependencies ("builtin ..." lines need nothing)
    for m in $TB_MODULES; do
        modprobe -d "$TB_KERNEL" -S "$TB_KVER" --show-depends "$m" 2>/dev/null ||
            tb_log "testbed: note: module $m is not in kernel $TB_KVER"
    done | awk '$1 == "insmod" { print $2 }' | sort -u | while read -r ko; do
        install -D -m 0644 "$ko" "$st/${ko#"$TB_KERNEL"/}"
    done
    cp "$TB_KERNEL/lib/modules/$TB_KVER"/modules.order "$TB_KERNEL/lib/modules/$TB_KVER"/modules.builtin* \
       "$st/lib/modules/$TB_KVER/"
    depmod -b "$st" "$TB_KVER" || return 1
    # helpers, /init, the guest library and every scenario (the kernel command line picks one)
    for h in now vfio-check; do install -m 0755 "$TB_WORK/bin/$h" "$st/usr/bin/$h"; echo "/usr/bin/$h" >> "$st/tb/payload.list"; done
    install -m 0755 "$TB_GUEST_SRC/init" "$st/init"
    install -m 0644 "$TB_GUEST_SRC/lib.sh" "$st/tb/lib/lib.sh"
    install -m 0755 "$TB_GUEST_SRC/run" "$TB_GUEST_SRC/nested-qemu.sh" "$TB_GUEST_SRC/demo.sh" "$st/tb/lib/"
    install -m 0755 "$TB_SCENARIOS"/*.sh "$st/tb/scenarios/"
    for f in "$@"; do install -m 0755 "$f" "$st/tb/scenarios/$(basename "$f")"; done
    # the tool under test and its data files (their paths are given by environment in /tb/env)
    {
        echo "# written by tests/vm/lib/testbed.sh"
        echo "export GPU_HANDOFF_QUIRKS=/usr/share/gpu-handoff/quirks"
        echo "export GPU_HANDOFF_PCI_IDS=/usr/share/misc/pci.ids"
        echo "TB_KVER=$TB_KVER"
        echo "TB_TOOL=${TB_TOOL:+/usr/bin/gpu-handoff}"
    } > "$st/tb/env"
    if [ -n "${TB_TOOL:-}" ]; then
        copy_bin "$TB_TOOL" /usr/bin/gpu-handoff || return 1
        install -D -m 0644 "$TB_QUIRKS" "$st/usr/share/gpu-handoff/quirks"
        install -D -m 0644 "$TB_PCI_IDS" "$st/usr/share/misc/pci.ids"
        printf '%s\n' /usr/share/gpu-handoff/quirks /usr/share/misc/pci.ids >> "$st/tb/payload.list"
    fi
    echo "root:x:0:0:root:/root:/bin/sh" > "$st/etc/passwd"
    echo "root:x:0:" > "$st/etc/group"
    # root-owned files in the guest even when this runs as an ordinary user
    (cd "$st" && find . | cpio -o -H newc -R 0:0 --quiet | gzip -1) > "$out" || return 1
    TB_INITRD_INFO="$(du -h "$out" | cut -f1), $(find "$st" -name '*.ko*' | wc -l) modules"
}

# --- systemd guest -----------------------------------------------------------------------------
# A minimal Debian with systemd, D-Bus, udev and logind, and a fake display manager that holds
# /dev/dri/card0 open like Xorg/Wayland would. Only the OS is in the image (cached; rebuilt when
# build-rootfs.sh changes): the initramfs copies the modules, /tb and the tool in at each boot
# (the disk is attached with snapshot=on, so nothing is ever written back).
# tb_build_rootfs [systemd|libvirt]: sets TB_ROOTFS (the image) and TB_ROOTFS_CACHED; the libvirt
# variant (Debian's libvirt and QEMU on top) is a separate image, built only when a scenario says
# "tb.guest: libvirt".
tb_rootfs_path() { # tb_rootfs_path VARIANT: where the image of that guest is cached
    case ${1:-systemd} in systemd) echo "$TB_WORK/rootfs.img" ;; *) echo "$TB_WORK/rootfs-$1.img" ;; esac
}
tb_build_rootfs() {
    variant=${1:-systemd}
    TB_ROOTFS=$(tb_rootfs_path "$variant")
    stamp="$(cksum < "$TB_DIR/lib/build-rootfs.sh") $variant"
    if [ -e "$TB_ROOTFS" ] && [ "$(cat "$TB_ROOTFS.stamp" 2>/dev/null)" = "$stamp" ]; then
        TB_ROOTFS_CACHED=yes; return 0
    fi
    TB_ROOTFS_CACHED=no
    sh "$TB_DIR/lib/build-rootfs.sh" "${TB_ROOTFS%.img}" "$TB_ROOTFS" "$variant" || return 1
    echo "$stamp" > "$TB_ROOTFS.stamp"
}

# --- boot --------------------------------------------------------------------------------------
# tb_boot: one VM; the serial console is stdout. Settings (environment-style variables):
#   FW=bios|uefi IOMMU=pt|on|off|no-param APPEND="..." SHARE=dir DISK=img SMP MEM TIMEOUT INTERACTIVE=1
# Non-interactive boots read nothing from stdin and are killed after TIMEOUT seconds (exit 124).
tb_boot() {
    fw=${FW:-bios}
    machine=q35 cpu=max accel="tcg,thread=multi"
    if [ "$TB_ACCEL" = kvm ]; then
        machine="q35,kernel-irqchip=split"   # intremap=on needs the split irqchip under KVM
        cpu=host accel=kvm
    fi
    set -- -accel "$accel" -machine "$machine" -cpu "$cpu" -smp "${SMP:-1}" -m "${MEM:-1024}" \
        -nodefaults -display none -no-reboot
    if [ "$fw" = uefi ]; then
        # OVMF boots -kernel/-initrd directly through the EFI stub; each boot gets fresh variables
        cp "$OVMF_VARS" "$TB_RUN/OVMF_VARS.fd"
        set -- "$@" -drive "if=pflash,format=raw,unit=0,readonly=on,file=$OVMF_CODE" \
                    -drive "if=pflash,format=raw,unit=1,file=$TB_RUN/OVMF_VARS.fd"
    fi
    # the IOMMU goes before the PCI devices; caching-mode only matters for a nested vfio user
    case ${IOMMU:-pt} in
        pt)  icmd="intel_iommu=on iommu=pt" ;;
        on)  icmd="intel_iommu=on" ;;
        off|no-param) icmd="" ;;
    esac
    [ "${IOMMU:-pt}" = off ] || set -- "$@" -device intel-iommu,intremap=on,caching-mode=on
    set -- "$@" \
        -device pcie-root-port,id=rp1,bus=pcie.0,chassis=1,slot=1,addr=0x2 \
        -device VGA,id=gpu0,bus=rp1,addr=0x0.0,multifunction=on \
        -device intel-hda,id=gpu0audio,bus=rp1,addr=0x0.1 \
        -device hda-duplex,bus=gpu0audio.0,audiodev=snd0 -audiodev none,id=snd0
    [ -n "${SHARE:-}" ] && set -- "$@" -virtfs \
        "local,path=$SHARE,mount_tag=hostshare,security_model=none,readonly=on,multidevs=remap,id=hostshare"
    [ -n "${DISK:-}" ] && set -- "$@" -drive "file=$DISK,if=virtio,format=raw,snapshot=on"
    set -- "$@" -kernel "$TB_KERNEL/vmlinuz" -initrd "$TB_INITRD" \
        -append "console=ttyS0 $icmd panic=-1 quiet loglevel=4 ${APPEND:-}"
    if [ -n "${INTERACTIVE:-}" ]; then
        echo "testbed: interactive guest; Ctrl-A x quits QEMU" >&2
        qemu-system-x86_64 "$@" -serial mon:stdio
    else
        timeout -k 5 "${TIMEOUT:-180}" qemu-system-x86_64 "$@" -serial stdio < /dev/null
    fi
}

# tb_boot_scenario FILE [INTERACTIVE]: boot the VM a scenario's header describes, running it
tb_boot_scenario() {
    sc=$1 name=$(basename "$1" .sh)
    guest=$(tb_hdr "$sc" guest initramfs)
    if [ "$guest" = initramfs ]; then
        DISK="" root=""
    else
        DISK=$(tb_rootfs_path "$guest"); root="tb.root=/dev/vda"
    fi
    test="tb.test=/tb/scenarios/$name.sh${2:+ tb.shell=1}"
    FW=$(tb_hdr "$sc" firmware bios)
    IOMMU=$(tb_hdr "$sc" iommu pt)
    APPEND="$root $test $(tb_hdr "$sc" append "")"
    SHARE=$(tb_hdr "$sc" share "")
    SMP=$(tb_hdr "$sc" smp 1)
    MEM=$(tb_hdr "$sc" mem 1024)
    TIMEOUT=$(( $(tb_hdr "$sc" timeout "$TB_TIMEOUT") * ${TB_TIMEOUT_MULTIPLIER:-1} ))
    INTERACTIVE=${2:-}
    tb_boot
}

# tb_make_run_dir: $TB_RUN, a folder for this run's files (initramfs, OVMF variables), removed
# on exit; the leftovers of runs that were killed outright are removed after an hour
tb_make_run_dir() {
    find "$TB_WORK" -maxdepth 1 -name 'run.*' -type d -mmin +60 -exec rm -rf {} + 2>/dev/null
    TB_RUN=$(mktemp -d "$TB_WORK/run.XXXXXX") || return 1
    trap 'rm -rf "$TB_RUN"' EXIT
    trap 'exit 130' INT TERM HUP PIPE
}

tb_now() { date +%s.%N; }
tb_secs() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.1f", b - a }'; }
