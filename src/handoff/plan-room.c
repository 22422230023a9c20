/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making room for the guest: the steps beyond the GPU that the configuration asks for. Each one
 * is planned with the value it will put back, taken from the host snapshot's room facts
 * (host_read_room()): nothing here reads the machine. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/bitmap.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "handoff/plan.h"
#include "host/systemd.h"

#define CPU_WORDS BITMAP_WORDS(CPULIST_BITS)

struct room {
        const struct host *h; /* with its room facts: the only source of what the host is like */
        const struct handoff_ctx *ctx;
        const struct config *c;
        struct plan *p;
        char **error;
        bool systemd;
        uint64_t host[CPU_WORDS];  /* housekeeping CPUs */
        uint64_t guest[CPU_WORDS]; /* online CPUs the host leaves */
};

static int add(struct room *rm, enum step_kind kind, const char *skip, ...)
{
        va_list ap;
        int r;

        va_start(ap, skip);
        r = plan_add_stepv(rm->p, kind, skip, ap);
        va_end(ap);
        return r;
}

_printf_(2, 3) static int note(struct room *rm, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = strv_addv(&rm->p->notes, fmt, ap);
        va_end(ap);
        return r;
}

/* ---- freezing ---- */

static int plan_stop_processes(struct room *rm)
{
        const struct host_room *facts = rm->h->room;
        char **names = rm->c->freeze_processes;
        size_t found[64] = {0};
        int r;

        if (!names || !names[0])
                return 0;
        if (facts->processes_error < 0)
                return error_setf(rm->error, facts->processes_error, "cannot list the processes in /proc: %s",
                              strerror(-facts->processes_error));
        for (size_t k = 0; k < facts->processes.n; k++) {
                const struct process *pr = &facts->processes.v[k];
                char pid_s[16], start_s[24];
                bool mine = false;

                if (pr->id.pid <= 1)
                        continue;
                for (size_t i = 0; i < facts->n_ancestors; i++)
                        mine |= facts->ancestors[i].pid == pr->id.pid;
                if (mine || pr->state == 'T' || pr->state == 'Z' || pr->kernel_thread)
                        continue; /* ours, stopped by someone else already (left so), a zombie, the kernel's */
                for (size_t i = 0; names[i]; i++) {
                        if (strcmp(pr->comm, names[i]) != 0)
                                continue;
                        if (i < ELEMENTSOF(found))
                                found[i]++;
                        snprintf(pid_s, sizeof(pid_s), "%d", (int)pr->id.pid);
                        snprintf(start_s, sizeof(start_s), "%llu", (unsigned long long)pr->id.start_time);
                        r = add(rm, STEP_STOP_PROCESS, NULL, pid_s, start_s, pr->comm, NULL);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; names[i] && i < ELEMENTSOF(found); i++)
                if (!found[i] && note(rm, "no process named %s runs: nothing to stop", names[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* Whether a process's cgroups ("/system.slice/libvirtd.service") lie inside unit: freezing it
 * would freeze that process. */
static bool process_in_unit(const struct process_ancestor *a, const char *unit)
{
        for (char **cg = a->cgroups; cg && *cg; cg++) {
                _cleanup_free_ char *copy = strdup(*cg);

                for (char *save = NULL, *c = copy ? strtok_r(copy, "/", &save) : NULL; c; c = strtok_r(NULL, "/", &save))
                        if (strcmp(c, unit) == 0)
                                return true;
        }
        return false;
}

static int plan_freeze_units(struct room *rm)
{
        const struct host_room *facts = rm->h->room;

        for (char **u = rm->c->freeze_units; u && *u; u++) {
                int r;
                /* A frozen process cannot thaw anything: not the tool, nor the daemon running the hook. */
                for (size_t i = 0; i < facts->n_ancestors; i++)
                        if (process_in_unit(&facts->ancestors[i], *u))
                                return error_setf(rm->error, -EINVAL,
                                              "[Freeze] Units=%s holds pid %d, which this hand-over runs in: freezing it "
                                              "would freeze the hand-over itself; name a unit that does not contain "
                                              "gpu-handoff or the libvirt daemon",
                                              *u, (int)facts->ancestors[i].pid);
                r = add(rm, STEP_FREEZE_UNIT, rm->systemd ? NULL : "no systemd on this host", *u, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- CPUs ---- */

/* The cgroup a unit's CPUs are read from, as host_read_room() read it. */
static const struct cgroup_info *unit_cgroup(struct room *rm, const char *cg)
{
        return cgroup_facts_find(&rm->h->room->cgroups, cg);
}

/* A cgroup's cpuset.cpus, or the refusal that it could not be read. */
static int cgroup_cpus(struct room *rm, const char *cg, const char **ret)
{
        const struct cgroup_info *info = unit_cgroup(rm, cg);
        int r = info ? info->cpus_error : -ENODATA;

        if (r < 0)
                return error_setf(rm->error, r, "cannot read /sys/fs/cgroup/%s/cpuset.cpus: %s", cg, strerror(-r));
        *ret = info->cpus;
        return 0;
}

static int previous_allowed_cpus(struct room *rm, const char *unit, char **ret)
{
        _cleanup_free_ char *error = NULL, *cg = NULL;
        struct units *u = rm->ctx->units;
        const char *cpus;
        int r;

        if (u && u->ops->get_allowed_cpus) {
                r = u->ops->get_allowed_cpus(u->userdata, unit, ret, &error);
                return r < 0 ? error_setf(rm->error, r, "cannot read AllowedCPUs of %s: %s", unit, error ? error : strerror(-r)) : 0;
        }
        /* No bus (--dry-run, a fake root): systemd writes AllowedCPUs to the cgroup's cpuset.cpus. */
        cg = systemd_unit_cgroup(unit);
        if (!cg)
                return -ENOMEM;
        r = cgroup_cpus(rm, cg, &cpus);
        if (r < 0)
                return r;
        *ret = strdup(cpus);
        return *ret ? 0 : -ENOMEM;
}

static bool planned(const struct plan *p, enum step_kind kind, const char *arg0)
{
        for (size_t i = 0; i < p->n_steps; i++)
                if (p->steps[i].kind == kind && p->steps[i].n_args > 0 && strcmp(p->steps[i].args[0], arg0) == 0)
                        return true;
        return false;
}

/* Without systemd: cgroupfs, enabling the cpuset controller along the way where it is off, once
 * per parent, outer levels first. */
static int plan_cgroup(struct room *rm, const char *cg, const char *cpus)
{
        const struct cgroup_info *info = unit_cgroup(rm, cg);
        const char *previous;
        int r;

        if (!info || !info->exists)
                return add(rm, STEP_CGROUP_CPUS, "there is no such cgroup", cg, cpus, "", NULL);
        /* Each level of "a.slice/b.slice": its parent ("" for the root, then "a.slice"). */
        for (size_t start = 0;;) {
                const char *next = strchr(cg + start, '/');
                _cleanup_free_ char *parent = strndup(cg, start ? start - 1 : 0);
                const struct cgroup_info *up;

                if (!parent)
                        return -ENOMEM;
                up = unit_cgroup(rm, parent);
                if ((!up || !up->cpuset_enabled) && !planned(rm->p, STEP_CGROUP_CPUSET, parent) &&
                    (r = add(rm, STEP_CGROUP_CPUSET, NULL, parent, NULL)) < 0)
                        return r;
                if (!next)
                        break;
                start = (size_t)(next - cg) + 1;
        }
        r = cgroup_cpus(rm, cg, &previous);
        if (r < 0)
                return r;
        return add(rm, STEP_CGROUP_CPUS, NULL, cg, cpus, previous, NULL);
}

/* The kernel's cpumask format: 32-bit hex words, most significant first, comma-separated. */
static char *cpumask_format(const uint64_t *set)
{
        char *out = NULL;
        size_t len = 0;
        bool started = false;
        FILE *f = open_memstream(&out, &len);

        if (!f)
                return NULL;
        for (int w = CPULIST_BITS / 32 - 1; w >= 0; w--) {
                uint32_t word = (uint32_t)(set[w / 2] >> (32 * (w % 2)));
                if (!started && !word && w > 0)
                        continue;
                fprintf(f, started ? ",%08x" : "%x", word);
                started = true;
        }
        return fclose(f) == 0 ? out : NULL;
}

static bool touches_guest(const struct room *rm, const uint64_t *set)
{
        for (size_t i = 0; i < CPU_WORDS; i++)
                if (set[i] & rm->guest[i])
                        return true;
        return false;
}

static int plan_irqs(struct room *rm, const char *cpus)
{
        const struct host_room *facts = rm->h->room;

        if (facts->irqs_error == -ENOENT)
                return note(rm, "/proc/irq is missing: IRQs stay where they are");
        if (facts->irqs_error < 0)
                return error_setf(rm->error, facts->irqs_error, "cannot list /proc/irq: %s", strerror(-facts->irqs_error));
        for (size_t k = 0; k < facts->irqs.n; k++) {
                uint64_t set[CPU_WORDS] = {0};
                char irq[16];
                int r;

                if (cpulist_parse(facts->irqs.v[k].affinity, set, CPULIST_BITS) < 0 || !touches_guest(rm, set))
                        continue;
                snprintf(irq, sizeof(irq), "%u", facts->irqs.v[k].number);
                r = add(rm, STEP_IRQ_AFFINITY, NULL, irq, cpus, facts->irqs.v[k].affinity, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_cpus(struct room *rm)
{
        const struct config *c = rm->c;
        const struct host_room *facts = rm->h->room;
        const uint64_t *online = rm->h->online_cpus;
        _cleanup_free_ char *cpus = NULL;
        int r;

        if (!c->housekeeping || !*c->housekeeping)
                return 0;
        if (!rm->h->have_online_cpus)
                return error_setf(rm->error, -ENOENT, "cannot read the online CPUs (/sys/devices/system/cpu/online)");
        if (cpulist_parse(c->housekeeping, rm->host, CPULIST_BITS) < 0)
                return error_setf(rm->error, -EINVAL, "Housekeeping=%s is not a CPU list", c->housekeeping);
        for (size_t i = 0; i < CPU_WORDS; i++)
                rm->guest[i] = online[i] & ~rm->host[i];
        cpus = cpulist_format(rm->host, CPULIST_BITS);
        if (!cpus)
                return -ENOMEM;

        if (rm->systemd) {
                for (char **u = c->cpu_units; u && *u; u++) {
                        _cleanup_free_ char *previous = NULL;
                        r = previous_allowed_cpus(rm, *u, &previous);
                        if (r >= 0)
                                r = add(rm, STEP_ALLOWED_CPUS, NULL, *u, cpus, previous, NULL);
                        if (r < 0)
                                return r;
                }
        } else if (!facts->cgroups.v2)
                return error_setf(rm->error, -EOPNOTSUPP,
                              "CPU isolation needs the cgroup v2 hierarchy at /sys/fs/cgroup, and this host has not "
                              "mounted it (boot with systemd.unified_cgroup_hierarchy=1, or unset Housekeeping=)");
        else
                for (char **u = c->cpu_units; u && *u; u++) {
                        r = plan_cgroup(rm, *u, cpus);
                        if (r < 0)
                                return r;
                }

        if (c->writeback) {
                _cleanup_free_ char *mask = cpumask_format(rm->host);
                if (!mask)
                        return -ENOMEM;
                if (!facts->writeback_cpumask)
                        r = add(rm, STEP_WRITEBACK_CPUMASK, "this kernel has no writeback workqueue cpumask", mask, "",
                                NULL);
                else
                        r = add(rm, STEP_WRITEBACK_CPUMASK, NULL, mask, facts->writeback_cpumask, NULL);
                if (r < 0)
                        return r;
        }
        return c->irq_affinity ? plan_irqs(rm, cpus) : 0;
}

/* ---- memory ---- */

/* Compaction hangs or crawls with ZFS's ARC on Linux 6.3.1 and later (openzfs/zfs#14975 and
 * related reports): known to misbehave, so "auto" leaves it out there. */
static const char *compaction_trouble(const struct room *rm)
{
        const char *release = rm->h->kernel_release;
        unsigned major = 0, minor = 0, patch = 0;

        if (!rm->h->memory.zfs_loaded || !release)
                return NULL;
        if (sscanf(release, "%u.%u.%u", &major, &minor, &patch) < 2)
                return NULL;
        if (major > 6 || (major == 6 && (minor > 3 || (minor == 3 && patch >= 1))))
                return "ZFS is loaded and compaction misbehaves with it on Linux 6.3.1 and later (Compact=yes forces it)";
        return NULL;
}

static int plan_memory(struct room *rm)
{
        const struct config *c = rm->c;
        const char *trouble = c->compact == COMPACT_AUTO ? compaction_trouble(rm) : NULL;
        bool compact = c->compact != COMPACT_NO && !trouble;
        uint64_t need, size_kb = c->hugepage_size / 1024;
        char dir[160], buf[32], kb[24], before_s[16], target_s[16];
        const struct hugepage_pool *pool;
        uint32_t nr, free_pages;
        int r;

        if (c->drop_caches && (r = add(rm, STEP_DROP_CACHES, NULL, NULL)) < 0)
                return r;
        if ((c->drop_caches || c->hugepages) && c->compact != COMPACT_NO &&
            (r = add(rm, STEP_COMPACT_MEMORY, trouble, NULL)) < 0)
                return r;
        if (!c->hugepages)
                return 0;
        if (!size_kb || c->hugepages % c->hugepage_size)
                return error_setf(rm->error, -EINVAL, "Hugepages= must be a multiple of HugepageSize=");
        need = c->hugepages / c->hugepage_size;
        if (c->hugepage_node < 0)
                snprintf(dir, sizeof(dir), "sys/kernel/mm/hugepages/hugepages-%llukB", (unsigned long long)size_kb);
        else
                snprintf(dir, sizeof(dir), "sys/devices/system/node/node%d/hugepages/hugepages-%llukB", c->hugepage_node,
                         (unsigned long long)size_kb);
        pool = hugepage_pool_find(&rm->h->memory, c->hugepage_size, c->hugepage_node);
        if (!pool)
                return error_setf(rm->error, -EOPNOTSUPP, "this host has no %s hugepages%s (/%s is missing)",
                              size_kb == 1048576 ? "1 GiB" : "2 MiB",
                              c->hugepage_node >= 0 ? " on that NUMA node" : "", dir);
        if (!pool->have_nr)
                return error_setf(rm->error, -EIO, "cannot read /%s/nr_hugepages", dir);
        if (!pool->have_free)
                return error_setf(rm->error, -EIO, "cannot read /%s/free_hugepages", dir);
        nr = pool->nr;
        free_pages = hugepage_pool_available(pool);
        if (need > UINT32_MAX - nr)
                return error_setf(rm->error, -EINVAL, "Hugepages= asks for more pages than the kernel counts");
        snprintf(kb, sizeof(kb), "%llu", (unsigned long long)size_kb);
        snprintf(before_s, sizeof(before_s), "%u", nr);
        /* Free pages already in the pool are the guest's to use; only the rest is added. */
        snprintf(target_s, sizeof(target_s), "%llu", (unsigned long long)(nr + (need > free_pages ? need - free_pages : 0)));
        return add(rm, STEP_HUGEPAGES, need <= free_pages ? "the pool has enough free pages already" : NULL, kb,
                   c->hugepage_node < 0 ? "all" : (snprintf(buf, sizeof(buf), "%d", c->hugepage_node), buf), before_s,
                   target_s, compact ? "compact" : "no-compact", NULL);
}

int plan_room_read(struct host *h, const struct config *c, const struct process_id *self)
{
        struct host_room_request req = {
                .self = self->pid,
                .processes = c->freeze_processes && c->freeze_processes[0],
                .cpu_units = c->housekeeping && *c->housekeeping ? c->cpu_units : NULL,
                .irqs = c->housekeeping && *c->housekeeping && c->irq_affinity,
        };

        return host_read_room(h, &req);
}

int plan_room(const struct host *h, const struct handoff_ctx *ctx, const struct config *c, struct plan *p,
              char **ret_error)
{
        struct room rm = {
                .h = h,
                .ctx = ctx,
                .c = c,
                .p = p,
                .error = ret_error,
        };
        int r;

        if (!h->room)
                return error_setf(rm.error, -EINVAL, "the host snapshot has no room facts (plan_room_read())");
        rm.systemd = h->systemd;
        r = plan_freeze_units(&rm);
        if (r >= 0)
                r = plan_stop_processes(&rm);
        if (r >= 0)
                r = plan_cpus(&rm);
        if (r >= 0)
                r = plan_memory(&rm);
        if (r == -ENOMEM && ret_error && !*ret_error)
                *ret_error = strdup("out of memory");
        return r < 0 ? r : 0;
}
