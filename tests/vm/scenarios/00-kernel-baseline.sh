#!/bin/sh
# 00-kernel-baseline: the GPU hand-over cycle done by hand, with plain shell and vfio-check,
# the way the tool does it on a real host. It proves that the testbed itself works on this
# kernel (IOMMU groups, bochs-drm + fbcon, snd_hda_intel, vfio-pci, the VFIO API through the
# emulated VT-d), independently of gpu-handoff. ~8 s with SeaBIOS under TCG.
#   detach:   vtcon unbind -> firmware fb unbind -> driver unbind -> modprobe -r the DRM
#             module -> vfio-pci (driver_override + bind) -> /dev/vfio/N -> vfio-check
#   reattach: the reverse of exactly what was done; then drivers, fbcon, DRM node, ALSA and a
#             clean dmesg are checked
# Kernel command line knobs: tb.bind=override|new_id (default override);
#   tb.drm=MODULE: DRM driver to load on reattach when the GPU had none before (firmware
#   framebuffer only, e.g. with modprobe.blacklist=bochs)
# tb.firmware: bios
# tb.tool: no

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
BIND=$(tb_arg bind override)
TB_DRM=$(tb_arg drm "")
T0_UPTIME=$(cut -d' ' -f1 /proc/uptime)

# --- the machine ------------------------------------------------------------------------------
find_gpu
if [ -z "$GPU" ] || [ -z "$AUD" ]; then info "no GPU with a sibling function found"; echo "RESULT FAIL (no GPU)"; exit 1; fi
info "GPU=$GPU ($(cat "/sys/bus/pci/devices/$GPU/vendor"):$(cat "/sys/bus/pci/devices/$GPU/device"))" \
     "AUDIO=$AUD ($(cat "/sys/bus/pci/devices/$AUD/vendor"):$(cat "/sys/bus/pci/devices/$AUD/device"))"
info "cmdline: $(cat /proc/cmdline)"
info "firmware: $([ -d /sys/firmware/efi ] && echo UEFI || echo BIOS)" \
     "boot_vga(GPU)=$(cat "/sys/bus/pci/devices/$GPU/boot_vga" 2>/dev/null) bind-method=$BIND"
info "dmesg iommu: $(dmesg | grep -iE 'DMAR: (IOMMU enabled|Intel\(R\) Virtualization)|iommu: Default domain|DMAR-IR: Enabled' | sed 's/^\[[^]]*\] //' | tr '\n' ';')"
info "dmesg fb: $(dmesg | grep -iE 'efifb|vesafb|simple-?framebuffer|simpledrm|fbcon|Console: switching' | sed 's/^\[[^]]*\] //' | tr '\n' ';')"
NG=$(ls /sys/kernel/iommu_groups | wc -l)
info "iommu_groups: $NG"
for g in /sys/kernel/iommu_groups/*; do [ -d "$g" ] && info "  group ${g##*/}: $(ls "$g/devices" | tr '\n' ' ')"; done
GROUP=$(group_of "$GPU")
GROUP_AUD=$(group_of "$AUD")
info "GPU group=$GROUP audio group=$GROUP_AUD"
[ "$NG" -gt 0 ] || { echo "RESULT FAIL (no IOMMU groups)"; exit 1; }
show_state "after boot"

# ================= detach (host -> VM) =================
# 1. unbind the framebuffer consoles (remember which)
VTCONS=""
for v in /sys/class/vtconsole/vtcon*; do
    if grep -q "frame buffer" "$v/name" && [ "$(cat "$v/bind")" = 1 ]; then
        step "vtcon-unbind:${v##*/}" "echo 0 > $v/bind" && VTCONS="$VTCONS ${v##*/}"
    fi
done
# 2. the firmware framebuffer (efifb / vesafb / simplefb / simpledrm), if still bound
FWFBS=""
for p in /sys/bus/platform/devices/*; do
    case ${p##*/} in *framebuffer*|simple*) ;; *) continue ;; esac
    [ -e "$p/driver" ] || continue
    fbdrv=$(basename "$(readlink "$p/driver")")
    step "fwfb-unbind:${p##*/}[$fbdrv]" "echo ${p##*/} > $p/driver/unbind" && FWFBS="$FWFBS ${p##*/}:$fbdrv"
done
# 3. unbind the functions from their drivers (remember drivers and the GPU driver's module)
GPU_DRV=$(drv "$GPU"); GPU_MOD=$(drvmod "$GPU"); AUD_DRV=$(drv "$AUD")
for d in $AUD $GPU; do
    [ -e "/sys/bus/pci/devices/$d/driver" ] && step "unbind:${d}[$(drv "$d")]" "echo $d > /sys/bus/pci/devices/$d/driver/unbind"
done
# 4. unload the GPU's DRM driver module
[ -n "$GPU_MOD" ] && step "modprobe-r:$GPU_MOD" "/sbin/modprobe -r $GPU_MOD"
# 5. vfio-pci (its softdep loads vfio_iommu_type1)
step "modprobe:vfio-pci" "/sbin/modprobe vfio-pci"
for d in $GPU $AUD; do
    if [ "$BIND" = new_id ]; then
        step "new_id:$d" "echo \$(cat /sys/bus/pci/devices/$d/vendor /sys/bus/pci/devices/$d/device) > /sys/bus/pci/drivers/vfio-pci/new_id; test \"\$(basename \$(readlink /sys/bus/pci/devices/$d/driver))\" = vfio-pci"
    else
        step "override+bind:$d" "echo vfio-pci > /sys/bus/pci/devices/$d/driver_override && echo $d > /sys/bus/pci/drivers/vfio-pci/bind"
    fi
done
# 6. the group's device node, and the VFIO API as QEMU uses it (viable group, DMA map)
step "devnode:/dev/vfio/$GROUP" "i=0; while [ ! -c /dev/vfio/$GROUP ] && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done; ls -l /dev/vfio/$GROUP"
step "vfio-check:$GPU" "vfio-check $GPU"
[ "$GROUP_AUD" != "$GROUP" ] && step "vfio-check:$AUD" "vfio-check $AUD"
show_state "detached (bound to vfio-pci)"

# ================= reattach (VM -> host) =================
for d in $GPU $AUD; do
    [ "$BIND" = new_id ] && step "remove_id:$d" "echo \$(cat /sys/bus/pci/devices/$d/vendor /sys/bus/pci/devices/$d/device) > /sys/bus/pci/drivers/vfio-pci/remove_id"
    step "vfio-unbind:$d" "echo $d > /sys/bus/pci/drivers/vfio-pci/unbind"
    [ "$BIND" = new_id ] || step "clear-override:$d" "echo > /sys/bus/pci/devices/$d/driver_override"
done
step "modprobe-r:vfio-pci" "/sbin/modprobe -r vfio-pci"
[ -n "$GPU_MOD" ] && step "modprobe:$GPU_MOD" "/sbin/modprobe $GPU_MOD"
EXPECT_GPU_DRV=$GPU_DRV
if [ -z "$GPU_MOD" ] && [ -n "$TB_DRM" ]; then
    step "modprobe:$TB_DRM(tb.drm)" "/sbin/modprobe $TB_DRM"
    EXPECT_GPU_DRV=any
fi
for d in $GPU $AUD; do
    [ -e "/sys/bus/pci/devices/$d/driver" ] || step "reprobe:$d" "echo $d > /sys/bus/pci/drivers_probe"
done
NOW_GPU_DRV=$(drv "$GPU"); NOW_AUD_DRV=$(drv "$AUD")
step "check:drivers-restored" "echo 'GPU: $GPU_DRV -> $NOW_GPU_DRV, audio: $AUD_DRV -> $NOW_AUD_DRV';
    { [ '$EXPECT_GPU_DRV' = '$NOW_GPU_DRV' ] || { [ '$EXPECT_GPU_DRV' = any ] && [ '$NOW_GPU_DRV' != none ]; }; } &&
    [ '$AUD_DRV' = '$NOW_AUD_DRV' ]"
for f in $FWFBS; do
    dev=${f%%:*}; fbdrv=${f#*:}
    if [ -e "/sys/bus/platform/devices/$dev" ]; then
        step "fwfb-rebind:${dev}[$fbdrv]" "echo $dev > /sys/bus/platform/drivers/$fbdrv/bind"
    else
        # vfio-pci's bind (or a DRM driver) took over the aperture and unregistered it
        info "firmware fb $dev is gone (platform device unregistered by an aperture takeover); cannot be rebound"
    fi
done
for v in $VTCONS; do
    # fbcon normally takes the console back by itself when a new framebuffer registers
    if [ -e "/sys/class/vtconsole/$v" ] && grep -q "frame buffer" "/sys/class/vtconsole/$v/name" &&
       [ "$(cat "/sys/class/vtconsole/$v/bind")" = 1 ]; then
        info "$v already re-bound to fbcon"
    else
        step "vtcon-rebind" "for v in /sys/class/vtconsole/vtcon*; do grep -q 'frame buffer' \$v/name && echo 1 > \$v/bind; done; true"
    fi
done
[ -n "$VTCONS" ] && [ "$(drv "$GPU")" != none ] &&
    step "check:fbcon-bound" "for v in /sys/class/vtconsole/vtcon*; do [ \$(cat \$v/bind) = 1 ] && cat \$v/name; done | grep 'frame buffer'"
[ "$(drv "$GPU")" != none ] && step "check:drm" "ls /dev/dri/card0"
[ "$AUD_DRV" = snd_hda_intel ] &&
    step "check:alsa" "i=0; while ! grep -q '^ *[0-9]' /proc/asound/cards && [ \$i -lt 50 ]; do sleep 0.1; i=\$((i+1)); done; grep -E '^ *[0-9]' /proc/asound/cards"
show_state "reattached"
info "kernel log during the cycle:"
dmesg | awk -v t0="$T0_UPTIME" '{ ts = $0; sub(/^\[ */, "", ts); sub(/\].*/, "", ts); if (ts + 0 >= t0) print "    | " $0 }' |
    grep -iE 'vfio|fb|console|drm|snd|hda|aperture|vga|iommu|DMAR' | head -60
step "dmesg-clean" "! dmesg | grep -E 'WARNING|BUG|Call Trace|Oops|vfio.*(fail|error)'"
note "cycle $(($(now) - TB_T0)) ms (GPU $GPU_DRV, audio $AUD_DRV, bind $BIND)"
result
