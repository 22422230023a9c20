/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "handoff/context.h"
#include "handoff/step.h"

const char *step_kind_to_string(enum step_kind k)
{
        static const char *const names[_STEP_KIND_MAX] = {
                [STEP_INHIBIT_SLEEP] = "inhibit-sleep",
                [STEP_STOP_UNIT] = "stop-unit",
                [STEP_CHECK_HOLDERS] = "check-holders",
                [STEP_UNBIND_VTCON] = "unbind-vtcon",
                [STEP_UNBIND_FRAMEBUFFER] = "unbind-framebuffer",
                [STEP_UNBIND_DRIVER] = "unbind-driver",
                [STEP_UNLOAD_MODULE] = "unload-module",
                [STEP_LOAD_MODULE] = "load-module",
                [STEP_BIND_VFIO] = "bind-vfio",
                [STEP_WAIT_VFIO_GROUP] = "wait-vfio-group",
                [STEP_FREEZE_UNIT] = "freeze-unit",
                [STEP_STOP_PROCESS] = "stop-process",
                [STEP_ALLOWED_CPUS] = "allowed-cpus",
                [STEP_CGROUP_CPUSET] = "cgroup-cpuset",
                [STEP_CGROUP_CPUS] = "cgroup-cpus",
                [STEP_WRITEBACK_CPUMASK] = "writeback-cpumask",
                [STEP_IRQ_AFFINITY] = "irq-affinity",
                [STEP_DROP_CACHES] = "drop-caches",
                [STEP_COMPACT_MEMORY] = "compact-memory",
                [STEP_HUGEPAGES] = "hugepages",
        };
        return names[k];
}

const char *hugepage_size_name(const char *kb)
{
        return strcmp(kb, "1048576") == 0 ? "1 GiB" : strcmp(kb, "2048") == 0 ? "2 MiB" : kb;
}

static const char *arg(const struct step *s, size_t i)
{
        return i < s->n_args ? s->args[i] : "?";
}

char *step_describe(const struct step *s)
{
        char *out = NULL, *list = NULL;
        size_t len = 0;
        FILE *f;
        int r = -1;

        switch (s->kind) {
        case STEP_INHIBIT_SLEEP:
                r = asprintf(&out, "block sleep and shutdown while the GPU is lent (logind inhibitor)");
                break;
        case STEP_STOP_UNIT:
                r = asprintf(&out, "stop %s%s%s%s, start it again on release", arg(s, 0), s->n_args > 1 ? " (" : "",
                             s->n_args > 1 ? arg(s, 1) : "", s->n_args > 1 ? ")" : "");
                break;
        case STEP_CHECK_HOLDERS:
                f = open_memstream(&list, &len);
                if (!f)
                        return NULL;
                for (size_t i = 1; i < s->n_args; i++)
                        fprintf(f, "%s%s", i > 1 ? ", " : "", s->args[i]);
                if (fclose(f) != 0) {
                        free(list);
                        return NULL;
                }
                r = strcmp(arg(s, 0), "terminate") == 0
                            ? asprintf(&out, "stop the processes that hold the device nodes of %s (TERM, then KILL)", list)
                            : asprintf(&out, "make sure no process holds the device nodes of %s", list);
                free(list);
                break;
        case STEP_UNBIND_VTCON:
                r = asprintf(&out, "unbind the framebuffer console %s from the GPU", arg(s, 0));
                break;
        case STEP_UNBIND_FRAMEBUFFER:
                r = asprintf(&out, "release the firmware framebuffer %s from %s", arg(s, 0), arg(s, 1));
                break;
        case STEP_UNBIND_DRIVER:
                r = asprintf(&out, "unbind %s from %s", arg(s, 0), arg(s, 1));
                break;
        case STEP_UNLOAD_MODULE:
                r = asprintf(&out, "unload module %s (reloaded on release)", arg(s, 0));
                break;
        case STEP_LOAD_MODULE:
                r = s->n_args > 1 ? asprintf(&out, "load module %s (with %zu module%s it needs)", arg(s, 0), s->n_args - 1,
                                             s->n_args == 2 ? "" : "s")
                                  : asprintf(&out, "load module %s", arg(s, 0));
                break;
        case STEP_BIND_VFIO:
                r = asprintf(&out, "bind %s to vfio-pci (driver_override, drivers_probe)", arg(s, 0));
                break;
        case STEP_WAIT_VFIO_GROUP:
                r = asprintf(&out, "wait for /dev/vfio/%s (IOMMU group %s viable)", arg(s, 0), arg(s, 0));
                break;
        case STEP_FREEZE_UNIT:
                r = asprintf(&out, "freeze %s, thaw it on release", arg(s, 0));
                break;
        case STEP_STOP_PROCESS:
                r = asprintf(&out, "stop pid %s (%s) with SIGSTOP, continue it on release", arg(s, 0), arg(s, 2));
                break;
        case STEP_ALLOWED_CPUS:
                r = asprintf(&out, "keep %s on CPUs %s (AllowedCPUs, now %s)", arg(s, 0), arg(s, 1),
                             *arg(s, 2) ? arg(s, 2) : "unset");
                break;
        case STEP_CGROUP_CPUSET:
                r = asprintf(&out, "enable the cpuset controller below %s%s", *arg(s, 0) ? "cgroup " : "the cgroup root",
                             arg(s, 0));
                break;
        case STEP_CGROUP_CPUS:
                r = asprintf(&out, "keep cgroup %s on CPUs %s (cpuset.cpus, now %s)", arg(s, 0), arg(s, 1),
                             *arg(s, 2) ? arg(s, 2) : "unset");
                break;
        case STEP_WRITEBACK_CPUMASK:
                r = asprintf(&out, "run writeback on CPU mask %s (now %s)", arg(s, 0), arg(s, 1));
                break;
        case STEP_IRQ_AFFINITY:
                r = asprintf(&out, "move IRQ %s to CPUs %s (now %s)", arg(s, 0), arg(s, 1), arg(s, 2));
                break;
        case STEP_DROP_CACHES:
                r = asprintf(&out, "sync and drop the page cache");
                break;
        case STEP_COMPACT_MEMORY:
                r = asprintf(&out, "compact memory");
                break;
        case STEP_HUGEPAGES:
                r = asprintf(&out, "grow the %s hugepage pool%s%s from %s to %s pages, back to %s on release",
                             hugepage_size_name(arg(s, 0)),
                             strcmp(arg(s, 1), "all") == 0 ? "" : " of NUMA node ",
                             strcmp(arg(s, 1), "all") == 0 ? "" : arg(s, 1), arg(s, 2), arg(s, 3), arg(s, 2));
                break;
        case _STEP_KIND_MAX:
                break;
        }
        return r < 0 ? NULL : out;
}

void step_done(struct step *s)
{
        for (size_t i = 0; i < s->n_args; i++)
                free(s->args[i]);
        free(s->skip);
        *s = (struct step){0};
}

enum step_kind step_kind_from_string(const char *s)
{
        for (int k = 0; k < _STEP_KIND_MAX; k++)
                if (strcmp(step_kind_to_string(k), s) == 0)
                        return k;
        return _STEP_KIND_MAX;
}

const struct step_ops *step_ops_get(enum step_kind kind)
{
        static const struct step_ops *const table[_STEP_KIND_MAX] = {
                [STEP_INHIBIT_SLEEP] = &step_inhibit_sleep_ops, /* step-unit.c */
                [STEP_STOP_UNIT] = &step_stop_unit_ops,         /* step-unit.c */
                [STEP_CHECK_HOLDERS] = &step_check_holders_ops,
                [STEP_UNBIND_VTCON] = &step_unbind_vtcon_ops,
                [STEP_UNBIND_FRAMEBUFFER] = &step_unbind_framebuffer_ops,
                [STEP_UNBIND_DRIVER] = &step_unbind_driver_ops,
                [STEP_UNLOAD_MODULE] = &step_unload_module_ops,
                [STEP_LOAD_MODULE] = &step_load_module_ops,
                [STEP_BIND_VFIO] = &step_bind_vfio_ops,
                [STEP_WAIT_VFIO_GROUP] = &step_wait_vfio_group_ops,
                [STEP_FREEZE_UNIT] = &step_freeze_unit_ops,   /* step-unit.c */
                [STEP_ALLOWED_CPUS] = &step_allowed_cpus_ops, /* step-unit.c */
                [STEP_STOP_PROCESS] = &step_stop_process_ops,
                [STEP_CGROUP_CPUSET] = &step_cgroup_cpuset_ops,
                [STEP_CGROUP_CPUS] = &step_cgroup_cpus_ops,
                [STEP_WRITEBACK_CPUMASK] = &step_writeback_cpumask_ops,
                [STEP_IRQ_AFFINITY] = &step_irq_affinity_ops,
                [STEP_DROP_CACHES] = &step_drop_caches_ops,
                [STEP_COMPACT_MEMORY] = &step_compact_memory_ops,
                [STEP_HUGEPAGES] = &step_hugepages_ops,
        };
        return kind < _STEP_KIND_MAX ? table[kind] : NULL;
}

int step_fail(char **message, int error, const char *fmt, ...)
{
        va_list ap;

        if (message) {
                free(*message);
                va_start(ap, fmt);
                if (vasprintf(message, fmt, ap) < 0)
                        *message = NULL;
                va_end(ap);
        }
        return error;
}
