#!/bin/sh
# 90-bench-hugepages: a benchmark, not a test (bench/bench-hugepages runs it and prints the
# table; docs/benchmarks.md has the figures). How long gpu-handoff's hugepages step takes to
# obtain N pages of 2 MiB on a real kernel, for each N in SIZES, RUNS times each, from an empty
# pool on a freshly booted guest:
#   tool  "attach --json --yes --vm hpN" with vm.d/hpN.conf saying Hugepages=2N M (Compact=auto:
#         a compact-memory step comes first); the hugepages step's and the compact-memory
#         step's microseconds from the JSON (block attach-N-I), then release (block
#         release-N-I: the step that shrinks the pool back)
#   raw   the same pool grown by one write of N to nr_hugepages, timed around the write alone
#         ("now -w"), then emptied again: the kernel's own time, the floor of the tool's step
# Lines "BENCH raw n=N run=I us=T got=G" and "BENCH tool n=N run=I got=G released=R"; the pool
# must be N after each and 0 after release (checked by 90-bench-hugepages.py).
# tb.default: no
# tb.mem: 2048
# tb.timeout: 600

# shellcheck source=../guest/lib.sh
. /tb/lib/lib.sh
# shellcheck source=handoff-lib.sh
. /tb/scenarios/handoff-lib.sh
SIZES="64 256 512"
RUNS=5
need_tool
find_gpu
HP=/sys/kernel/mm/hugepages/hugepages-2048kB

mkdir -p /etc/gpu-handoff/vm.d
for n in $SIZES; do
    printf '[Memory]\nHugepages=%sM\n' $((n * 2)) > "/etc/gpu-handoff/vm.d/hp$n.conf"
    chmod 0644 "/etc/gpu-handoff/vm.d/hp$n.conf"
done
info "memory: $(grep -E '^(MemTotal|MemFree|MemAvailable)' /proc/meminfo | tr -s ' \n' ' ')"
note "bench: sizes $SIZES, $RUNS runs each, $(nproc) CPU(s), $(awk '/^MemTotal/ { print int($2 / 1024) }' /proc/meminfo) MiB"
step "pool-empty" "[ \"\$(cat $HP/nr_hugepages)\" = 0 ]"
for n in $SIZES; do
    i=0
    while [ $i -lt "$RUNS" ]; do
        i=$((i + 1))
        us=$(now -w "$HP/nr_hugepages" "$n"); got=$(cat "$HP/nr_hugepages")
        echo 0 > "$HP/nr_hugepages"
        echo "BENCH raw n=$n run=$i us=$us got=$got"
        capture "attach-$n-$i" gpu-handoff --json attach --yes --vm "hp$n"
        got=$(cat "$HP/nr_hugepages")
        capture "release-$n-$i" gpu-handoff --json release
        echo "BENCH tool n=$n run=$i got=$got released=$(cat "$HP/nr_hugepages")"
    done
done
info "memory: $(grep -E '^(MemTotal|MemFree|MemAvailable)' /proc/meminfo | tr -s ' \n' ' ')"
result
