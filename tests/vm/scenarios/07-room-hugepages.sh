#!/bin/sh
# 07-room-hugepages: "room for the guest", memory part, on the real kernel's hugepage pool
# (/sys/kernel/mm/hugepages/hugepages-2048kB). The configuration asks for hugepages per VM:
# /etc/gpu-handoff/gpu-handoff.conf says Hugepages=64M, /etc/gpu-handoff/vm.d/hp.conf says 256M
# (128 pages of 2 MiB) and vm.d/huge.conf 2G, more than this 1 GiB guest has.
#   1. An empty pool: "config --vm hp" shows 256M from vm.d/hp.conf; "attach --dry-run --vm hp"
#      plans compact-memory and hugepages 0 -> 128; "attach --yes --vm hp" lends the GPU and the
#      pool holds 128 pages (all free, for the guest); "release" gives the GPU back and the pool
#      is back to exactly 0.
#   2. A pool of 16 pages, 8 of them in use (a file on hugetlbfs holds them): the 8 free ones
#      count for the guest, so attach grows the pool to 16 + 128 - 8 = 136 and release shrinks
#      it back to exactly 16, the 8 pages in use untouched.
#   3. The shortfall: "attach --yes --vm huge" (--json, then the human form) asks for 1016 more
#      pages than the guest can give: the step retries while the kernel finds more and after a
#      compaction, then fails; attach exits 3 with "the kernel gave X of the 1016 2 MiB
#      hugepages ...", the whole attach is rolled back (the GPU back on bochs-drm, the host as
#      before) and the pool is back to exactly 16.
# Judged by 07-room-hugepages.py (the pool's counters before, attached and released).
# tb.firmware: bios
# tb.iommu: pt
# tb.mem: 1024
# tb.timeout: 240

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
need_tool
find_gpu
HP=/sys/kernel/mm/hugepages/hugepages-2048kB

# pool NAME: the pool's counters as block pool-NAME ("key=value" lines)
pool() {
    capture "pool-$1" sh -c "echo nr=\$(cat $HP/nr_hugepages); echo free=\$(cat $HP/free_hugepages);
        echo resv=\$(cat $HP/resv_hugepages); echo surplus=\$(cat $HP/surplus_hugepages);
        awk '/^(MemTotal|MemFree|MemAvailable|HugePages_Total|HugePages_Free):/ { sub(\":\", \"\", \$1); print \$1 \"=\" \$2 }' /proc/meminfo"
}
on_vfio="[ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$GPU/driver)\")\" = vfio-pci ] &&
    [ \"\$(basename \"\$(readlink /sys/bus/pci/devices/$AUD/driver)\")\" = vfio-pci ]"

mkdir -p /etc/gpu-handoff/vm.d
printf '[Memory]\nHugepages=64M\n' > /etc/gpu-handoff/gpu-handoff.conf
printf '# the guest of scenario 07\n[Memory]\nHugepages=256M\n' > /etc/gpu-handoff/vm.d/hp.conf
printf '[Memory]\nHugepages=2G\n' > /etc/gpu-handoff/vm.d/huge.conf
chmod 0644 /etc/gpu-handoff/gpu-handoff.conf /etc/gpu-handoff/vm.d/*.conf
step "config-files" "ls -ln /etc/gpu-handoff /etc/gpu-handoff/vm.d; head -n 20 /etc/gpu-handoff/gpu-handoff.conf /etc/gpu-handoff/vm.d/*.conf"
host_state > /tmp/state.before

# 1. an empty pool
pool before-1
capture config-hp gpu-handoff --json config --vm hp
capture plan-hp gpu-handoff --json attach --dry-run --yes --vm hp
capture attach-1 gpu-handoff --json attach --yes --vm hp
pool attached-1
step "check:vfio-drivers-1" "$on_vfio"
step "check:vfio-group-usable-1" "vfio-check $GPU"
capture release-1 gpu-handoff --json release
no_journal check:no-journal-1
pool released-1
wait_state /tmp/state.before "check:state-restored-1"

# 2. a pool that has pages already, some of them in use
mkdir -p /mnt/huge
step "pool-preset" "mount -t hugetlbfs -o pagesize=2M none /mnt/huge && echo 16 > $HP/nr_hugepages &&
    fallocate -l 16M /mnt/huge/busy && ls -l /mnt/huge && cat $HP/nr_hugepages $HP/free_hugepages"
pool before-2
capture plan-2 gpu-handoff --json attach --dry-run --yes --vm hp
capture attach-2 gpu-handoff --json attach --yes --vm hp
pool attached-2
step "check:vfio-drivers-2" "$on_vfio"
capture release-2 gpu-handoff --json release
no_journal check:no-journal-2
pool released-2
wait_state /tmp/state.before "check:state-restored-2"

# 3. more than the guest can give: rolled back, exit 3
pool before-3
capture attach-short gpu-handoff --json attach --yes --vm huge
pool after-short
wait_state /tmp/state.before "check:state-restored-after-shortfall"
step "check:gpu-back-on-bochs" "echo $GPU $(drv "$GPU"), $AUD $(drv "$AUD"); [ $(drv "$GPU") = bochs-drm ] && [ $(drv "$AUD") = snd_hda_intel ]"
no_journal check:no-journal-after-shortfall
capture attach-short-human gpu-handoff attach --yes --vm huge
pool after-short-human
wait_state /tmp/state.before "check:state-restored-after-shortfall-human"
step "check:busy-file-intact" "[ \"\$(stat -c %s /mnt/huge/busy)\" = 16777216 ]"

# the pool as the boot left it
step "pool-cleanup" "rm /mnt/huge/busy && umount /mnt/huge && echo 0 > $HP/nr_hugepages && cat $HP/nr_hugepages"
dmesg_clean
result
