/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The hand-over's step kinds: for each its name, its line for people and its apply/revert pair
 * (in the step-*.c file of its family), in one table the engine runs (step.h). */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "handoff/context.h"
#include "handoff/step.h"

const char *hugepage_size_name(const char *kb)
{
        return strcmp(kb, "1048576") == 0 ? "1 GiB" : strcmp(kb, "2048") == 0 ? "2 MiB" : kb;
}

static const char *arg(const struct step *s, size_t i)
{
        return i < s->n_args ? s->args[i] : "?";
}

_printf_(1, 2) static char *describe(const char *fmt, ...)
{
        char *out = NULL;
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = vasprintf(&out, fmt, ap);
        va_end(ap);
        return r < 0 ? NULL : out;
}

static char *describe_inhibit_sleep(const struct step *s)
{
        return describe("block sleep and shutdown while the GPU is lent (logind inhibitor)");
}

static char *describe_stop_unit(const struct step *s)
{
        return describe("stop %s%s%s%s, start it again on release", arg(s, 0), s->n_args > 1 ? " (" : "",
                        s->n_args > 1 ? arg(s, 1) : "", s->n_args > 1 ? ")" : "");
}

static char *describe_check_holders(const struct step *s)
{
        _cleanup_free_ char *list = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&list, &len);

        if (!f)
                return NULL;
        for (size_t i = 1; i < s->n_args; i++)
                fprintf(f, "%s%s", i > 1 ? ", " : "", s->args[i]);
        if (fclose(f) != 0)
                return NULL;
        return strcmp(arg(s, 0), "terminate") == 0
                   ? describe("stop the processes that hold the device nodes of %s (TERM, then KILL)", list)
                   : describe("make sure no process holds the device nodes of %s", list);
}

static char *describe_unbind_vtcon(const struct step *s)
{
        return describe("unbind the framebuffer console %s from the GPU", arg(s, 0));
}

static char *describe_unbind_framebuffer(const struct step *s)
{
        return describe("release the firmware framebuffer %s from %s", arg(s, 0), arg(s, 1));
}

static char *describe_unbind_driver(const struct step *s)
{
        return describe("unbind %s from %s", arg(s, 0), arg(s, 1));
}

static char *describe_unload_module(const struct step *s)
{
        return describe("unload module %s (reloaded on release)", arg(s, 0));
}

static char *describe_load_module(const struct step *s)
{
        return s->n_args > 1 ? describe("load module %s (with %zu module%s it needs)", arg(s, 0),
                                        s->n_args - 1, s->n_args == 2 ? "" : "s")
                             : describe("load module %s", arg(s, 0));
}

static char *describe_bind_vfio(const struct step *s)
{
        return describe("bind %s to vfio-pci (driver_override, drivers_probe)", arg(s, 0));
}

static char *describe_wait_vfio_group(const struct step *s)
{
        return describe("wait for /dev/vfio/%s (IOMMU group %s viable)", arg(s, 0), arg(s, 0));
}

static char *describe_freeze_unit(const struct step *s)
{
        return describe("freeze %s, thaw it on release", arg(s, 0));
}

static char *describe_stop_process(const struct step *s)
{
        return describe("stop pid %s (%s) with SIGSTOP, continue it on release", arg(s, 0), arg(s, 2));
}

static char *describe_allowed_cpus(const struct step *s)
{
        return describe("keep %s on CPUs %s (AllowedCPUs, now %s)", arg(s, 0), arg(s, 1),
                        *arg(s, 2) ? arg(s, 2) : "unset");
}

static char *describe_cgroup_cpuset(const struct step *s)
{
        return describe("enable the cpuset controller below %s%s",
                        *arg(s, 0) ? "cgroup " : "the cgroup root", arg(s, 0));
}

static char *describe_cgroup_cpus(const struct step *s)
{
        return describe("keep cgroup %s on CPUs %s (cpuset.cpus, now %s)", arg(s, 0), arg(s, 1),
                        *arg(s, 2) ? arg(s, 2) : "unset");
}

static char *describe_writeback_cpumask(const struct step *s)
{
        return describe("run writeback on CPU mask %s (now %s)", arg(s, 0), arg(s, 1));
}

static char *describe_irq_affinity(const struct step *s)
{
        return describe("move IRQ %s to CPUs %s (now %s)", arg(s, 0), arg(s, 1), arg(s, 2));
}

static char *describe_drop_caches(const struct step *s)
{
        return describe("sync and drop the page cache");
}

static char *describe_compact_memory(const struct step *s)
{
        return describe("compact memory");
}

static char *describe_hugepages(const struct step *s)
{
        bool all = strcmp(arg(s, 1), "all") == 0;

        return describe("grow the %s hugepage pool%s%s from %s to %s pages, back to %s on release",
                        hugepage_size_name(arg(s, 0)), all ? "" : " of NUMA node ", all ? "" : arg(s, 1),
                        arg(s, 2), arg(s, 3), arg(s, 2));
}

static char *describe_reset_method(const struct step *s)
{
        return describe("set the reset method of %s to %s, back to \"%s\" afterwards", arg(s, 0), arg(s, 1),
                        arg(s, 2));
}

static char *describe_reset_device(const struct step *s)
{
        if (strcmp(arg(s, 1), "bus") == 0 && s->n_args > 2)
                return describe("reset %s by a secondary bus reset of bridge %s (every device behind it)",
                                arg(s, 0), arg(s, 2));
        return describe("reset %s", arg(s, 0));
}

static char *describe_remove_rescan(const struct step *s)
{
        return describe("remove %s from the PCI bus, then rescan %s", arg(s, 0),
                        arg(s, 1)[0] ? arg(s, 1) : "the whole bus");
}

static char *describe_return_reset(const struct step *s)
{
        if (strcmp(arg(s, 1), "none") == 0)
                return describe("on release, check that %s answers before its host driver gets it back (kept on "
                                "vfio-pci otherwise)", arg(s, 0));
        return describe("on release, reset %s by %s and check that it answers before its host driver gets it back "
                        "(kept on vfio-pci otherwise)", arg(s, 0), arg(s, 1));
}

static const struct change_kind kinds[_STEP_KIND_MAX] = {
    [STEP_INHIBIT_SLEEP] = {"inhibit-sleep", describe_inhibit_sleep, &step_inhibit_sleep_ops,
                            STEP_UNIT_NOTE_ROOM},
    [STEP_STOP_UNIT] = {"stop-unit", describe_stop_unit, &step_stop_unit_ops, STEP_UNIT_NOTE_ROOM},
    [STEP_CHECK_HOLDERS] = {"check-holders", describe_check_holders, &step_check_holders_ops},
    [STEP_UNBIND_VTCON] = {"unbind-vtcon", describe_unbind_vtcon, &step_unbind_vtcon_ops},
    [STEP_UNBIND_FRAMEBUFFER] = {"unbind-framebuffer", describe_unbind_framebuffer,
                                 &step_unbind_framebuffer_ops},
    [STEP_UNBIND_DRIVER] = {"unbind-driver", describe_unbind_driver, &step_unbind_driver_ops},
    [STEP_UNLOAD_MODULE] = {"unload-module", describe_unload_module, &step_unload_module_ops},
    [STEP_LOAD_MODULE] = {"load-module", describe_load_module, &step_load_module_ops},
    [STEP_BIND_VFIO] = {"bind-vfio", describe_bind_vfio, &step_bind_vfio_ops},
    [STEP_WAIT_VFIO_GROUP] = {"wait-vfio-group", describe_wait_vfio_group, &step_wait_vfio_group_ops},
    [STEP_FREEZE_UNIT] = {"freeze-unit", describe_freeze_unit, &step_freeze_unit_ops, STEP_UNIT_NOTE_ROOM},
    [STEP_STOP_PROCESS] = {"stop-process", describe_stop_process, &step_stop_process_ops},
    [STEP_ALLOWED_CPUS] = {"allowed-cpus", describe_allowed_cpus, &step_allowed_cpus_ops,
                           STEP_UNIT_NOTE_ROOM},
    [STEP_CGROUP_CPUSET] = {"cgroup-cpuset", describe_cgroup_cpuset, &step_cgroup_cpuset_ops},
    [STEP_CGROUP_CPUS] = {"cgroup-cpus", describe_cgroup_cpus, &step_cgroup_cpus_ops},
    [STEP_WRITEBACK_CPUMASK] = {"writeback-cpumask", describe_writeback_cpumask,
                                &step_writeback_cpumask_ops},
    [STEP_IRQ_AFFINITY] = {"irq-affinity", describe_irq_affinity, &step_irq_affinity_ops},
    [STEP_DROP_CACHES] = {"drop-caches", describe_drop_caches, &step_drop_caches_ops},
    [STEP_COMPACT_MEMORY] = {"compact-memory", describe_compact_memory, &step_compact_memory_ops},
    [STEP_HUGEPAGES] = {"hugepages", describe_hugepages, &step_hugepages_ops},
    [STEP_RESET_METHOD] = {"reset-method", describe_reset_method, &step_reset_method_ops, STEP_RESET_NOTE_ROOM},
    [STEP_RESET_DEVICE] = {"reset-device", describe_reset_device, &step_reset_device_ops},
    [STEP_REMOVE_RESCAN] = {"remove-rescan", describe_remove_rescan, &step_remove_rescan_ops},
    [STEP_RETURN_RESET] = {"return-reset", describe_return_reset, &step_return_reset_ops},
};

const struct change_domain handoff_domain = {
    .name = "handoff",
    .kinds = kinds,
    .n_kinds = _STEP_KIND_MAX,
};

const char *step_kind_to_string(enum step_kind k)
{
        const struct change_kind *kind = change_domain_kind(&handoff_domain, k);

        return kind ? kind->name : NULL;
}

enum step_kind step_kind_from_string(const char *s)
{
        int k = change_domain_find_kind(&handoff_domain, s);

        return k < 0 ? _STEP_KIND_MAX : (enum step_kind)k;
}

char *step_describe(const struct step *s)
{
        return change_domain_describe(&handoff_domain, s);
}
