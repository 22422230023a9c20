/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Keeping the host off the guest's CPUs where systemd cannot do it (step-unit.c's allowed-cpus
 * is the way with systemd): cgroup v2 cpusets written directly, the writeback workqueue, and
 * IRQ affinity. Each step carries the value it replaces and writes it back on the way back. */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include "handoff/context.h"

#define CGROUP_ROOT "sys/fs/cgroup"
#define WRITEBACK_CPUMASK "sys/bus/workqueue/devices/writeback/cpumask"

/* A cgroup below the root of the hierarchy: "system.slice", "openrc.sshd"; nothing that climbs. */
static bool cgroup_name_ok(const char *cg)
{
        return *cg && *cg != '/' && !strstr(cg, "..");
}

static int write_or_fail(const struct handoff_ctx *ctx, const char *path, const char *value, char **message)
{
        /* An empty value must still reach the kernel: a newline resets a cpuset. */
        int r = kernel_write(ctx->kernel, path, *value ? value : "\n");

        return r < 0 ? step_fail(message, r, "cannot write \"%s\" to /%s: %s", value, path, strerror(-r)) : 0;
}

/* The cpuset controller is enabled for the children of a cgroup ("" is the root) in its
 * cgroup.subtree_control. */
static int subtree_path(const struct step *s, char *buf, size_t size)
{
        if (s->n_args < 1 || (*s->args[0] && !cgroup_name_ok(s->args[0])))
                return -EINVAL;
        snprintf(buf, size, CGROUP_ROOT "%s%s/cgroup.subtree_control", *s->args[0] ? "/" : "", s->args[0]);
        return 0;
}

static int cpuset_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        char path[PATH_MAX];

        if (subtree_path(s, path, sizeof(path)) < 0)
                return step_fail(message, -EINVAL, "malformed cgroup-cpuset step");
        return write_or_fail(ctx, path, "+cpuset", message);
}

static int cpuset_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        char path[PATH_MAX];

        if (subtree_path(s, path, sizeof(path)) < 0)
                return step_fail(message, -EINVAL, "malformed cgroup-cpuset step");
        return write_or_fail(ctx, path, "-cpuset", message);
}

static int cgroup_cpus(const struct handoff_ctx *ctx, const struct step *s, size_t value, char **message)
{
        char path[PATH_MAX];

        if (s->n_args < 3 || !cgroup_name_ok(s->args[0]))
                return step_fail(message, -EINVAL, "malformed cgroup-cpus step");
        snprintf(path, sizeof(path), CGROUP_ROOT "/%s/cpuset.cpus", s->args[0]);
        return write_or_fail(ctx, path, s->args[value], message);
}

static int cgroup_cpus_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return cgroup_cpus(ctx, s, 1, message);
}

static int cgroup_cpus_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        char path[PATH_MAX];

        /* Idempotent after its cgroup-cpuset step was undone: without the controller the file is
         * gone, and an empty cpuset (all the parent's CPUs) is what a new one starts with. */
        if (s->n_args >= 3 && cgroup_name_ok(s->args[0]) && !*s->args[2]) {
                snprintf(path, sizeof(path), CGROUP_ROOT "/%s/cpuset.cpus", s->args[0]);
                if (!sysroot_exists(ctx->sr, path))
                        return 0;
        }
        return cgroup_cpus(ctx, s, 2, message);
}

static int writeback(const struct handoff_ctx *ctx, const struct step *s, size_t value, char **message)
{
        if (s->n_args < 2 || !*s->args[value])
                return step_fail(message, -EINVAL, "malformed writeback-cpumask step");
        return write_or_fail(ctx, WRITEBACK_CPUMASK, s->args[value], message);
}

static int writeback_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return writeback(ctx, s, 0, message);
}

static int writeback_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return writeback(ctx, s, 1, message);
}

/* The kernel refuses (-EIO) to move a managed interrupt (per-queue NVMe and network IRQs): it
 * stays where the driver put it, which is not an error for us. */
static int irq(const struct handoff_ctx *ctx, const struct step *s, size_t value, char **message)
{
        char path[64];
        unsigned n;
        int r, end = 0;

        if (s->n_args < 3 || sscanf(s->args[0], "%u%n", &n, &end) != 1 || s->args[0][end] || !*s->args[value])
                return step_fail(message, -EINVAL, "malformed irq-affinity step");
        snprintf(path, sizeof(path), "proc/irq/%u/smp_affinity_list", n);
        r = kernel_write(ctx->kernel, path, s->args[value]);
        if (r == -EIO || r == -ENOENT) /* managed, or the interrupt went with its driver */
                return 0;
        return r < 0 ? step_fail(message, r, "cannot move IRQ %u to CPUs %s: %s", n, s->args[value], strerror(-r)) : 0;
}

static int irq_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return irq(ctx, s, 1, message);
}

static int irq_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return irq(ctx, s, 2, message);
}

const struct step_ops step_cgroup_cpuset_ops = {cpuset_apply, cpuset_revert};
const struct step_ops step_cgroup_cpus_ops = {cgroup_cpus_apply, cgroup_cpus_revert};
const struct step_ops step_writeback_cpumask_ops = {writeback_apply, writeback_revert};
const struct step_ops step_irq_affinity_ops = {irq_apply, irq_revert};
