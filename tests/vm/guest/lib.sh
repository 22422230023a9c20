# shellcheck shell=sh
# Guest library of the testbed, sourced by every scenario (busybox ash, or bash in the
# systemd guest). It defines the lines a scenario prints on the serial console; the host
# (tests/vm/lib/tbcheck.py) reads them:
#   STEP name rc=N ms=N t=N [FAILED]   one action; t = ms since the scenario started;
#                                      FAILED when it counts as a failure of the scenario
#       | output                       its output, indented
#   INFO text                          state dumps, for the log and for failure reports
#   NOTE text                          shown by the runner even when the scenario passes
#   FACT key value...                  ground truth read from sysfs, for host-side checkers
#   TB-BEGIN name / TB-END name rc=N   a command's stdout, verbatim (e.g. JSON), with its exit
#                                      status; its stderr follows as block "name.stderr"
#   RESULT PASS | RESULT FAIL (...)    the scenario's own verdict
# NB: Debian's busybox-static ash runs its own applets (modprobe, lsmod, ...) before PATH,
# so the real kmod tools are called as /sbin/... .

export PATH=/sbin:/bin:/usr/sbin:/usr/bin
# GPU_HANDOFF_QUIRKS, GPU_HANDOFF_PCI_IDS (data files of the tool), TB_KVER, TB_TOOL
# shellcheck source=/dev/null
[ -r /tb/env ] && . /tb/env
TB_FAILS=0
TB_T0=$(now)

tb_arg() { # tb_arg NAME DEFAULT: the value of tb.NAME= on the kernel command line
    _v=$2
    for _a in $(cat /proc/cmdline); do
        case $_a in "tb.$1="*) _v=${_a#"tb.$1="} ;; esac
    done
    echo "$_v"
}

info() { echo "INFO $*"; }
note() { echo "NOTE $*"; }
fact() { echo "FACT $*"; }

_step_report() { # NAME RC T0 T1 OUTPUT FAILED
    echo "STEP $1 rc=$2 ms=$(($4 - $3)) t=$(($3 - TB_T0))${6:+ FAILED}"
    [ -n "$5" ] && printf '%s\n' "$5" | sed 's/^/    | /'
    [ -n "$6" ] && TB_FAILS=$((TB_FAILS + 1))
    return 0
}

step() { # step NAME 'shell command': an action that must succeed; returns its exit status
    _name=$1; shift
    _t0=$(now); _out=$(sh -c "$*" 2>&1); _rc=$?; _t1=$(now)
    _step_report "$_name" "$_rc" "$_t0" "$_t1" "$_out" "$([ $_rc -ne 0 ] && echo y)"
    return $_rc
}

xstep() { # xstep NAME 'shell command': an action that must fail (the kernel refuses it)
    _name=$1; shift
    _t0=$(now); _out=$(sh -c "$*" 2>&1); _rc=$?; _t1=$(now)
    _step_report "$_name(expected to fail)" "$_rc" "$_t0" "$_t1" "$_out" "$([ $_rc -eq 0 ] && echo y)"
    [ $_rc -ne 0 ]
}

capture() { # capture NAME CMD [ARG...]: run CMD, print its stdout verbatim between markers
    _name=$1; shift
    _t0=$(now)
    "$@" > /tmp/tb-capture.out 2> /tmp/tb-capture.err; _rc=$?
    _t1=$(now)
    # keep kernel messages off the console while the block is printed: a printk in the middle
    # of a line would break the JSON the host parses (dmesg still has them)
    _pk=$(cut -f1 /proc/sys/kernel/printk); echo 1 > /proc/sys/kernel/printk
    echo "TB-BEGIN $_name"
    awk '{ print }' /tmp/tb-capture.out     # (adds the final newline if missing)
    echo "TB-END $_name rc=$_rc ms=$((_t1 - _t0))"
    if [ -s /tmp/tb-capture.err ]; then
        echo "TB-BEGIN $_name.stderr"; awk '{ print }' /tmp/tb-capture.err; echo "TB-END $_name.stderr rc=$_rc"
    fi
    echo "$_pk" > /proc/sys/kernel/printk
    return $_rc
}

result() { # the scenario's verdict; use as its last command
    if [ "$TB_FAILS" -eq 0 ]; then echo "RESULT PASS"; return 0; fi
    echo "RESULT FAIL ($TB_FAILS failed steps)"
    return 1
}

# --- PCI helpers -----------------------------------------------------------------------------
drv() { # drv BDF: name of the bound driver, or "none"
    _l=$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null) && basename "$_l" || echo none
}
drvmod() { # drvmod BDF: the module of the bound driver (empty if built in or none)
    _l=$(readlink "/sys/bus/pci/devices/$1/driver/module" 2>/dev/null) && basename "$_l"
}
group_of() { # group_of BDF: IOMMU group number, or "none"
    _l=$(readlink "/sys/bus/pci/devices/$1/iommu_group" 2>/dev/null) && basename "$_l" || echo none
}

find_gpu() { # sets GPU (the display function not on the root bus), AUD (a sibling function), SLOT
    GPU=""
    for _d in /sys/bus/pci/devices/*; do
        case $(cat "$_d/class") in 0x03*) ;; *) continue ;; esac
        case ${_d##*/} in 0000:00:*) continue ;; esac
        GPU=${_d##*/}; break
    done
    SLOT=${GPU%.*}
    AUD=""
    for _d in /sys/bus/pci/devices/"$SLOT".*; do
        [ "${_d##*/}" = "$GPU" ] || { AUD=${_d##*/}; break; }
    done
}

pci_facts() { # FACT lines: every PCI function as sysfs sees it, the IOMMU groups, firmware, CPU,
              # kernel (the words of "FACT pci BDF key=value..." never contain blanks)
    for _d in /sys/bus/pci/devices/*; do
        _b=${_d##*/}
        fact pci "$_b" vendor="$(sed 's/^0x//' "$_d/vendor")" device="$(sed 's/^0x//' "$_d/device")" \
            class="$(cat "$_d/class")" driver="$(drv "$_b")" group="$(group_of "$_b")" \
            boot_vga="$(cat "$_d/boot_vga" 2>/dev/null || echo -)" \
            reset_method="$( { tr ' ' , < "$_d/reset_method"; } 2>/dev/null || echo -)"
    done
    for _g in /sys/kernel/iommu_groups/*; do
        [ -d "$_g" ] && fact group "${_g##*/}" "$(ls "$_g/devices" | tr '\n' ' ')"
    done
    fact iommu_groups "$(ls /sys/kernel/iommu_groups | wc -l)"
    fact firmware "$([ -d /sys/firmware/efi ] && echo uefi || echo bios)"
    fact cpu_vendor "$(awk '/^vendor_id/ { print $3; exit }' /proc/cpuinfo)"
    fact cpu_virt "$(grep -owE 'vmx|svm' /proc/cpuinfo | head -n1 || true)"
    fact dev_kvm "$([ -c /dev/kvm ] && echo yes || echo no)"
    fact kernel "$(uname -r)"
    fact cmdline "$(cat /proc/cmdline)"
}

show_state() { # INFO lines: drivers, consoles, framebuffers, device nodes, modules of the GPU
    info "--- state: $1"
    for _d in $GPU $AUD; do
        info "$_d driver=$(drv "$_d") override=$(cat "/sys/bus/pci/devices/$_d/driver_override")"
    done
    for _v in /sys/class/vtconsole/vtcon*; do info "${_v##*/} bind=$(cat "$_v/bind") $(cat "$_v/name")"; done
    info "/proc/fb: $(tr '\n' ';' < /proc/fb)"
    info "/dev/dri: $(ls /dev/dri 2>/dev/null | tr '\n' ' ')  /dev/vfio: $(ls /dev/vfio 2>/dev/null | tr '\n' ' ')"
    info "modules: $(/sbin/lsmod | awk 'NR>1 {print $1"("$3")"}' | grep -E '^(bochs|virtio_gpu|drm|snd_hda_intel|vfio)' | tr '\n' ' ')"
    info "sound cards: $(grep -E '^ *[0-9]' /proc/asound/cards 2>/dev/null | tr '\n' ';')"
    info "platform fb devices: $(for _p in /sys/bus/platform/devices/*; do case ${_p##*/} in *framebuffer*|simple*)
        echo "${_p##*/}[$(basename "$(readlink "$_p/driver")" 2>/dev/null)]" ;; esac; done | tr '\n' ' ')"
}

pci_snapshot() { # one line per PCI function: address, driver, driver_override (to compare)
    for _d in /sys/bus/pci/devices/*; do
        echo "${_d##*/} $(drv "${_d##*/}") $(cat "$_d/driver_override" 2>/dev/null)"
    done
}

evidence() { # the guest's state after a scenario, between markers; the host shows it on failure
    echo 1 > /proc/sys/kernel/printk
    echo "TB-BEGIN evidence"
    echo "cmdline: $(cat /proc/cmdline)"
    echo "firmware: $([ -d /sys/firmware/efi ] && echo UEFI || echo BIOS), kernel $(uname -r), uptime $(cut -d' ' -f1 /proc/uptime) s"
    echo "pci devices (bdf vendor:device class driver override iommu-group):"
    for _d in /sys/bus/pci/devices/*; do
        _b=${_d##*/}
        echo "  $_b $(sed 's/^0x//' "$_d/vendor"):$(sed 's/^0x//' "$_d/device") $(cat "$_d/class")" \
             "driver=$(drv "$_b") override=$(cat "$_d/driver_override" 2>/dev/null)" \
             "group=$(group_of "$_b")"
    done
    echo "iommu groups: $(ls /sys/kernel/iommu_groups | wc -l)"
    echo "vtconsoles: $(for _v in /sys/class/vtconsole/vtcon*; do printf '%s(bind=%s: %s) ' "${_v##*/}" "$(cat "$_v/bind")" "$(cat "$_v/name")"; done)"
    echo "/proc/fb: $(tr '\n' ';' < /proc/fb)"
    echo "/dev/dri: $(ls /dev/dri 2>/dev/null | tr '\n' ' ')  /dev/vfio: $(ls /dev/vfio 2>/dev/null | tr '\n' ' ')"
    echo "modules: $(/sbin/lsmod | awk 'NR>1 {printf "%s(%s) ", $1, $3}')"
    echo "dmesg:"
    dmesg | sed 's/^/  /'
    echo "TB-END evidence rc=0"
}
