/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Making room for the guest: the steps beyond the GPU that the configuration asks for. Each one
 * is planned with the value it will put back, read now. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/bitmap.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/proc.h"
#include "handoff/plan.h"

#define CPU_WORDS BITMAP_WORDS(CPULIST_BITS)
#define ANCESTORS_MAX 64

struct room {
        const struct handoff_ctx *ctx;
        const struct config *c;
        struct plan *p;
        char **error;
        bool systemd;
        uint64_t host[CPU_WORDS];  /* housekeeping CPUs */
        uint64_t guest[CPU_WORDS]; /* online CPUs the host leaves */
};

_printf_(3, 4) static int refuse(struct room *rm, int error, const char *fmt, ...)
{
        va_list ap;

        if (rm->error) {
                free(*rm->error);
                va_start(ap, fmt);
                if (vasprintf(rm->error, fmt, ap) < 0)
                        *rm->error = NULL;
                va_end(ap);
        }
        return error;
}

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
        r = plan_add_notev(rm->p, fmt, ap);
        va_end(ap);
        return r;
}

/* ---- freezing ---- */

/* State letter and parent of a process from proc/PID/stat. */
static int stat_of(const struct sysroot *sr, pid_t pid, char *comm, size_t comm_size, struct process_id *id,
                   char *state, pid_t *ppid)
{
        char path[64], buf[1024];
        const char *paren;
        ssize_t n;
        int r;

        snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
        n = sysroot_read_attr(sr, path, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        r = proc_stat_parse(buf, comm, comm_size, id);
        if (r < 0)
                return r;
        paren = strrchr(buf, ')');
        if (!paren || sscanf(paren + 1, " %c %d", state, ppid) != 2)
                return -EINVAL;
        return 0;
}

/* This process and the ones it runs under (the shell, sudo, libvirtd running the hook): stopping
 * any of them would stop the hand-over itself. */
static size_t ancestors(const struct room *rm, const struct process_id *self, pid_t *out)
{
        char comm[PROC_COMM_MAX], state;
        struct process_id id;
        size_t n = 0;
        pid_t pid = self->pid, ppid;

        while (pid > 0 && n < ANCESTORS_MAX) {
                out[n++] = pid;
                if (stat_of(rm->ctx->sr, pid, comm, sizeof(comm), &id, &state, &ppid) < 0)
                        break;
                pid = ppid;
        }
        return n;
}

static bool kernel_thread(const struct sysroot *sr, pid_t pid, pid_t ppid)
{
        char path[64], buf[8];

        if (pid == 2 || ppid == 2)
                return true;
        snprintf(path, sizeof(path), "proc/%d/cmdline", (int)pid);
        return sysroot_read_attr(sr, path, buf, sizeof(buf)) == 0; /* no command line: a kernel thread */
}

static int compare_pids(const void *a, const void *b)
{
        const pid_t *x = a, *y = b;
        return (*x > *y) - (*x < *y);
}

/* The numeric entries of a directory below the root (proc, proc/irq), in numeric order: plans and
 * their journals must not depend on the order a file system lists them in. */
static int numbered_entries(const struct sysroot *sr, const char *path, pid_t **ret, size_t *ret_n)
{
        _cleanup_closedir_ DIR *dir = NULL;
        _cleanup_free_ pid_t *v = NULL;
        struct dirent *de;
        size_t n = 0, alloc = 0;
        int r = sysroot_opendir(sr, path, &dir);

        if (r < 0)
                return r;
        while ((de = readdir(dir))) {
                char *end;
                long k = strtol(de->d_name, &end, 10);

                if (*end || end == de->d_name || k < 0 || k > INT32_MAX)
                        continue;
                if (n == alloc) {
                        pid_t *nv = realloc(v, (alloc = alloc ? 2 * alloc : 256) * sizeof(*v));
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                }
                v[n++] = (pid_t)k;
        }
        if (n)
                qsort(v, n, sizeof(*v), compare_pids);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

static int plan_stop_processes(struct room *rm, const struct process_id *self)
{
        pid_t keep[ANCESTORS_MAX];
        size_t n_keep = ancestors(rm, self, keep), n_pids = 0;
        char **names = rm->c->freeze_processes;
        _cleanup_free_ pid_t *pids = NULL;
        size_t found[64] = {0};
        int r;

        if (!names || !names[0])
                return 0;
        r = numbered_entries(rm->ctx->sr, "proc", &pids, &n_pids);
        if (r < 0)
                return refuse(rm, r, "cannot list the processes in /proc: %s", strerror(-r));
        for (size_t k = 0; k < n_pids; k++) {
                char comm[PROC_COMM_MAX], state, pid_s[16], start_s[24];
                struct process_id id;
                pid_t pid = pids[k], ppid;
                bool mine = false;

                if (pid <= 1 || stat_of(rm->ctx->sr, pid, comm, sizeof(comm), &id, &state, &ppid) < 0)
                        continue;
                for (size_t i = 0; i < n_keep; i++)
                        mine |= keep[i] == pid;
                if (mine || state == 'T' || state == 'Z' || kernel_thread(rm->ctx->sr, pid, ppid))
                        continue; /* ours, stopped by someone else already (left so), a zombie, the kernel's */
                for (size_t i = 0; names[i]; i++) {
                        if (strcmp(comm, names[i]) != 0)
                                continue;
                        if (i < ELEMENTSOF(found))
                                found[i]++;
                        snprintf(pid_s, sizeof(pid_s), "%d", (int)pid);
                        snprintf(start_s, sizeof(start_s), "%llu", (unsigned long long)id.start_time);
                        r = add(rm, STEP_STOP_PROCESS, NULL, pid_s, start_s, comm, NULL);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; names[i] && i < ELEMENTSOF(found); i++)
                if (!found[i] && note(rm, "no process named %s runs: nothing to stop", names[i]) < 0)
                        return -ENOMEM;
        return 0;
}

/* Whether a process's cgroups (proc/PID/cgroup: "0::/system.slice/libvirtd.service") lie inside
 * unit: freezing it would freeze that process. */
static bool process_in_unit(const struct sysroot *sr, pid_t pid, const char *unit)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        size_t len;

        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        if (sysroot_read_file(sr, path, 64 * 1024, &text, &len) < 0)
                return false;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n")) {
                char *cg = strchr(line, ':');
                cg = cg ? strchr(cg + 1, ':') : NULL;
                if (!cg)
                        continue;
                for (char *save = NULL, *c = strtok_r(cg + 1, "/", &save); c; c = strtok_r(NULL, "/", &save))
                        if (strcmp(c, unit) == 0)
                                return true;
        }
        return false;
}

static int plan_freeze_units(struct room *rm, const struct process_id *self)
{
        pid_t keep[ANCESTORS_MAX];
        size_t n_keep = ancestors(rm, self, keep);

        for (char **u = rm->c->freeze_units; u && *u; u++) {
                int r;
                /* A frozen process cannot thaw anything: not the tool, nor the daemon running the hook. */
                for (size_t i = 0; i < n_keep; i++)
                        if (process_in_unit(rm->ctx->sr, keep[i], *u))
                                return refuse(rm, -EINVAL,
                                              "[Freeze] Units=%s holds pid %d, which this hand-over runs in: freezing it "
                                              "would freeze the hand-over itself; name a unit that does not contain "
                                              "gpu-handoff or the libvirt daemon",
                                              *u, (int)keep[i]);
                r = add(rm, STEP_FREEZE_UNIT, rm->systemd ? NULL : "no systemd on this host", *u, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* ---- CPUs ---- */

/* "0-3" from a cpuset file below the root; "" when it is empty or missing (not set). */
static int read_cpulist(const struct room *rm, const char *path, char **ret)
{
        uint64_t set[CPU_WORDS] = {0};
        char buf[4096];
        ssize_t n = sysroot_read_attr(rm->ctx->sr, path, buf, sizeof(buf));

        if (n == -ENOENT)
                buf[0] = 0;
        else if (n < 0)
                return (int)n;
        if (buf[0] && cpulist_parse(buf, set, CPULIST_BITS) < 0)
                return -EINVAL;
        *ret = cpulist_format(set, CPULIST_BITS);
        return *ret ? 0 : -ENOMEM;
}

/* Where a slice's cgroup is: "a-b.slice" lives in "a.slice/a-b.slice"; anything else is taken
 * to sit at the top (system.slice, user.slice, init.scope). */
static char *unit_cgroup(const char *unit)
{
        size_t len = strlen(unit);
        char *path = NULL, *prefix;
        FILE *f;

        if (len < 6 || strcmp(unit + len - 6, ".slice") != 0 || !strchr(unit, '-'))
                return strdup(unit);
        f = open_memstream(&path, &len);
        if (!f)
                return NULL;
        for (const char *dash = strchr(unit, '-'); dash; dash = strchr(dash + 1, '-')) {
                prefix = strndup(unit, (size_t)(dash - unit));
                if (prefix)
                        fprintf(f, "%s.slice/", prefix);
                free(prefix);
        }
        fputs(unit, f);
        return fclose(f) == 0 ? path : NULL;
}

static int previous_allowed_cpus(struct room *rm, const char *unit, char **ret)
{
        _cleanup_free_ char *error = NULL, *cg = NULL, *path = NULL;
        struct units *u = rm->ctx->units;
        int r;

        if (u && u->ops->get_allowed_cpus) {
                r = u->ops->get_allowed_cpus(u->userdata, unit, ret, &error);
                return r < 0 ? refuse(rm, r, "cannot read AllowedCPUs of %s: %s", unit, error ? error : strerror(-r)) : 0;
        }
        /* No bus (--dry-run, a fake root): systemd writes AllowedCPUs to the cgroup's cpuset.cpus. */
        cg = unit_cgroup(unit);
        if (!cg || asprintf(&path, "sys/fs/cgroup/%s/cpuset.cpus", cg) < 0)
                return -ENOMEM;
        r = read_cpulist(rm, path, ret);
        return r < 0 ? refuse(rm, r, "cannot read /%s: %s", path, strerror(-r)) : 0;
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
        _cleanup_free_ char *path = NULL, *previous = NULL;
        int r;

        if (asprintf(&path, "sys/fs/cgroup/%s", cg) < 0)
                return -ENOMEM;
        if (!sysroot_exists(rm->ctx->sr, path))
                return add(rm, STEP_CGROUP_CPUS, "there is no such cgroup", cg, cpus, "", NULL);
        /* Each level of "a.slice/b.slice": its parent ("" for the root, then "a.slice"). */
        for (size_t start = 0;;) {
                const char *next = strchr(cg + start, '/');
                _cleanup_free_ char *parent = strndup(cg, start ? start - 1 : 0), *control = NULL;
                char buf[256];

                if (!parent || asprintf(&control, "sys/fs/cgroup/%s%scgroup.subtree_control", parent,
                                        *parent ? "/" : "") < 0)
                        return -ENOMEM;
                if ((sysroot_read_attr(rm->ctx->sr, control, buf, sizeof(buf)) < 0 || !word_in_list(buf, "cpuset")) &&
                    !planned(rm->p, STEP_CGROUP_CPUSET, parent) && (r = add(rm, STEP_CGROUP_CPUSET, NULL, parent, NULL)) < 0)
                        return r;
                if (!next)
                        break;
                start = (size_t)(next - cg) + 1;
        }
        free(path);
        if (asprintf(&path, "sys/fs/cgroup/%s/cpuset.cpus", cg) < 0)
                return -ENOMEM;
        r = read_cpulist(rm, path, &previous);
        if (r < 0)
                return refuse(rm, r, "cannot read /%s: %s", path, strerror(-r));
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
        _cleanup_free_ pid_t *irqs = NULL;
        size_t n = 0;
        int r = numbered_entries(rm->ctx->sr, "proc/irq", &irqs, &n);

        if (r == -ENOENT)
                return note(rm, "/proc/irq is missing: IRQs stay where they are");
        if (r < 0)
                return refuse(rm, r, "cannot list /proc/irq: %s", strerror(-r));
        for (size_t k = 0; k < n; k++) {
                uint64_t set[CPU_WORDS] = {0};
                char path[96], irq[16], buf[4096];
                _cleanup_free_ char *now = NULL;

                snprintf(irq, sizeof(irq), "%d", (int)irqs[k]);
                snprintf(path, sizeof(path), "proc/irq/%s/smp_affinity_list", irq);
                if (sysroot_read_attr(rm->ctx->sr, path, buf, sizeof(buf)) < 0 || cpulist_parse(buf, set, CPULIST_BITS) < 0 ||
                    !touches_guest(rm, set))
                        continue;
                now = cpulist_format(set, CPULIST_BITS);
                if (!now)
                        return -ENOMEM;
                r = add(rm, STEP_IRQ_AFFINITY, NULL, irq, cpus, now, NULL);
                if (r < 0)
                        return r;
        }
        return 0;
}

static int plan_cpus(struct room *rm)
{
        const struct config *c = rm->c;
        uint64_t online[CPU_WORDS] = {0};
        _cleanup_free_ char *cpus = NULL;
        char buf[4096];
        int r;

        if (!c->housekeeping || !*c->housekeeping)
                return 0;
        if (sysroot_read_attr(rm->ctx->sr, "sys/devices/system/cpu/online", buf, sizeof(buf)) < 0 ||
            cpulist_parse(buf, online, CPULIST_BITS) < 0)
                return refuse(rm, -ENOENT, "cannot read the online CPUs (/sys/devices/system/cpu/online)");
        if (cpulist_parse(c->housekeeping, rm->host, CPULIST_BITS) < 0)
                return refuse(rm, -EINVAL, "Housekeeping=%s is not a CPU list", c->housekeeping);
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
        } else if (!sysroot_exists(rm->ctx->sr, "sys/fs/cgroup/cgroup.controllers"))
                return refuse(rm, -EOPNOTSUPP,
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
                char now[4096];
                if (!mask)
                        return -ENOMEM;
                if (sysroot_read_attr(rm->ctx->sr, "sys/bus/workqueue/devices/writeback/cpumask", now, sizeof(now)) < 0)
                        r = add(rm, STEP_WRITEBACK_CPUMASK, "this kernel has no writeback workqueue cpumask", mask, "",
                                NULL);
                else
                        r = add(rm, STEP_WRITEBACK_CPUMASK, NULL, mask, now, NULL);
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
        char release[128];
        unsigned major = 0, minor = 0, patch = 0;

        if (!sysroot_exists(rm->ctx->sr, "sys/module/zfs") ||
            sysroot_read_attr(rm->ctx->sr, "proc/sys/kernel/osrelease", release, sizeof(release)) < 0)
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
        char dir[160], path[192], buf[32], kb[24], before_s[16], target_s[16];
        uint32_t nr, free_pages, resv;
        int r;

        if (c->drop_caches && (r = add(rm, STEP_DROP_CACHES, NULL, NULL)) < 0)
                return r;
        if ((c->drop_caches || c->hugepages) && c->compact != COMPACT_NO &&
            (r = add(rm, STEP_COMPACT_MEMORY, trouble, NULL)) < 0)
                return r;
        if (!c->hugepages)
                return 0;
        if (!size_kb || c->hugepages % c->hugepage_size)
                return refuse(rm, -EINVAL, "Hugepages= must be a multiple of HugepageSize=");
        need = c->hugepages / c->hugepage_size;
        if (c->hugepage_node < 0)
                snprintf(dir, sizeof(dir), "sys/kernel/mm/hugepages/hugepages-%llukB", (unsigned long long)size_kb);
        else
                snprintf(dir, sizeof(dir), "sys/devices/system/node/node%d/hugepages/hugepages-%llukB", c->hugepage_node,
                         (unsigned long long)size_kb);
        if (!sysroot_exists(rm->ctx->sr, dir))
                return refuse(rm, -EOPNOTSUPP, "this host has no %s hugepages%s (/%s is missing)",
                              size_kb == 1048576 ? "1 GiB" : "2 MiB",
                              c->hugepage_node >= 0 ? " on that NUMA node" : "", dir);
        snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
        if (sysroot_read_attr(rm->ctx->sr, path, buf, sizeof(buf)) < 0 || sysfs_parse_uint(buf, UINT32_MAX, &nr) < 0)
                return refuse(rm, -EIO, "cannot read /%s", path);
        snprintf(path, sizeof(path), "%s/free_hugepages", dir);
        if (sysroot_read_attr(rm->ctx->sr, path, buf, sizeof(buf)) < 0 ||
            sysfs_parse_uint(buf, UINT32_MAX, &free_pages) < 0)
                return refuse(rm, -EIO, "cannot read /%s", path);
        /* Free pages promised to a hugetlbfs mount or mapping are not the guest's (only the
         * global pool counts reservations). */
        snprintf(path, sizeof(path), "%s/resv_hugepages", dir);
        if (sysroot_read_attr(rm->ctx->sr, path, buf, sizeof(buf)) > 0 && sysfs_parse_uint(buf, UINT32_MAX, &resv) >= 0)
                free_pages = free_pages > resv ? free_pages - resv : 0;
        if (need > UINT32_MAX - nr)
                return refuse(rm, -EINVAL, "Hugepages= asks for more pages than the kernel counts");
        snprintf(kb, sizeof(kb), "%llu", (unsigned long long)size_kb);
        snprintf(before_s, sizeof(before_s), "%u", nr);
        /* Free pages already in the pool are the guest's to use; only the rest is added. */
        snprintf(target_s, sizeof(target_s), "%llu", (unsigned long long)(nr + (need > free_pages ? need - free_pages : 0)));
        return add(rm, STEP_HUGEPAGES, need <= free_pages ? "the pool has enough free pages already" : NULL, kb,
                   c->hugepage_node < 0 ? "all" : (snprintf(buf, sizeof(buf), "%d", c->hugepage_node), buf), before_s,
                   target_s, compact ? "compact" : "no-compact", NULL);
}

int plan_room(const struct handoff_ctx *ctx, const struct config *c, const struct process_id *self, struct plan *p,
              char **ret_error)
{
        struct room rm = {
                .ctx = ctx,
                .c = c,
                .p = p,
                .error = ret_error,
                /* systemd is running when run/systemd/system exists (sd_booted()'s test) */
                .systemd = sysroot_exists(ctx->sr, "run/systemd/system"),
        };
        int r;

        r = plan_freeze_units(&rm, self);
        if (r >= 0)
                r = plan_stop_processes(&rm, self);
        if (r >= 0)
                r = plan_cpus(&rm);
        if (r >= 0)
                r = plan_memory(&rm);
        if (r == -ENOMEM && ret_error && !*ret_error)
                *ret_error = strdup("out of memory");
        return r < 0 ? r : 0;
}
