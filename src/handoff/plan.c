/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "handoff/plan.h"
#include "host/console.h"
#include "host/in-use.h"

/* Collects the plan and the first error while it is built. */
struct builder {
        const struct host *h;
        const struct plan_options *opts;
        struct plan *p;
        int error;
        char *message;
};

_printf_(3, 4) static int refuse(struct builder *b, int error, const char *fmt, ...)
{
        va_list ap;

        if (b->error) /* the first refusal is the plan's */
                return b->error;
        b->error = error;
        va_start(ap, fmt);
        error = verror_setf(&b->message, error, fmt, ap);
        va_end(ap);
        return error;
}

static int oom(struct builder *b)
{
        return refuse(b, -ENOMEM, "out of memory");
}

_printf_(2, 3) static void note(struct builder *b, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = strv_addv(&b->p->notes, fmt, ap);
        va_end(ap);
        if (r < 0)
                oom(b);
}

/* Appends a step with its arguments (a NULL-terminated list); skip may be NULL. */
static struct step *add_step(struct builder *b, enum step_kind kind, const char *skip, ...)
{
        va_list ap;
        int r;

        if (b->error)
                return NULL;
        va_start(ap, skip);
        r = plan_add_stepv(b->p, kind, skip, ap);
        va_end(ap);
        if (r == -E2BIG) {
                refuse(b, r, "a %s step takes at most %d arguments", step_kind_to_string(kind), STEP_MAX_ARGS);
                return NULL;
        }
        if (r < 0) {
                oom(b);
                return NULL;
        }
        return &b->p->steps[b->p->n_steps - 1];
}

int plan_add_stepv(struct plan *p, enum step_kind kind, const char *skip, va_list ap)
{
        struct step *steps, *s;
        const char *a;

        steps = realloc(p->steps, (p->n_steps + 1) * sizeof(*steps));
        if (!steps)
                return -ENOMEM;
        p->steps = steps;
        s = &steps[p->n_steps++];
        *s = (struct step){.kind = kind};
        if (skip && !(s->skip = strdup(skip)))
                return -ENOMEM; /* the step stays, half-made: plan_free() frees it */
        while ((a = va_arg(ap, const char *))) {
                if (s->n_args == STEP_MAX_ARGS)
                        return -E2BIG; /* never cut: the step would undo less than it did */
                if (!(s->args[s->n_args++] = strdup(a)))
                        return -ENOMEM;
        }
        return 0;
}

static bool in_plan(const struct plan *p, const struct pci_device *d)
{
        for (size_t i = 0; i < p->n_devices; i++)
                if (p->devices[i] == d)
                        return true;
        return false;
}

static int add_device(struct builder *b, struct pci_device *d)
{
        struct pci_device **v;

        if (in_plan(b->p, d))
                return 0;
        v = realloc(b->p->devices, (b->p->n_devices + 1) * sizeof(*v));
        if (!v)
                return oom(b);
        b->p->devices = v;
        v[b->p->n_devices++] = d;
        return 0;
}

static const struct gpu *gpu_of(const struct host *h, const struct pci_device *d)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                if (h->gpus[i].dev == d)
                        return &h->gpus[i];
        return NULL;
}

static const char *class_word(const struct pci_device *d)
{
        switch (pci_sub_class(d)) {
        case PCI_CLASS_MULTIMEDIA_HD_AUDIO:
                return "an audio device";
        case PCI_CLASS_SERIAL_USB:
                return "a USB controller";
        default:
                return pci_device_is_bridge(d) ? "a PCI bridge" : "not a GPU";
        }
}

/* The device the user named, checked. */
static struct pci_device *resolve_name(struct builder *b, const char *name)
{
        struct pci_addr a;
        struct pci_device *d;
        char buf[PCI_ADDR_STRLEN];

        if (pci_addr_parse_user(name, &a) < 0) {
                refuse(b, -EINVAL, "\"%s\" is not a PCI address (expected DDDD:BB:DD.F or BB:DD.F, as gpu-handoff list shows)",
                       name);
                return NULL;
        }
        d = pci_list_find(b->h->pci, &a);
        if (!d) {
                refuse(b, -ENODEV, "there is no PCI device %s on this host (gpu-handoff list shows them)",
                       pci_addr_format(&a, buf));
                return NULL;
        }
        if (pci_device_is_bridge(d)) {
                refuse(b, -EPERM, "%s is a PCI bridge; bridges stay with the host", d->address);
                return NULL;
        }
        if (!pci_device_is_gpu(d) && !b->opts->force) {
                refuse(b, -EPERM, "%s is %s; use --force to lend it anyway", d->address, class_word(d));
                return NULL;
        }
        return d;
}

/* No names: the only GPU that drives no display of the host (one already on vfio-pci, reserved for
 * VMs, before the others); on a single-GPU host the display GPU itself, and next to an iGPU the
 * only discrete card even when it drives a display too (attach then needs --yes, checked with the
 * rest). A device whose class cannot be read may be a GPU: no guessing then. */
static struct pci_device *default_device(struct builder *b)
{
        const struct host *h = b->h;
        struct pci_device *pick = NULL;
        size_t n = 0, n_vfio = 0;

        for (size_t i = 0; i < h->pci->n_devices; i++)
                if (h->pci->devices[i].problems & PCI_PROBLEM_CLASS) {
                        refuse(b, -EPERM,
                               "the class of PCI device %s cannot be read, so it may be a GPU gpu-handoff cannot "
                               "see; name the device to lend (gpu-handoff doctor shows what is wrong)",
                               h->pci->devices[i].address);
                        return NULL;
                }
        for (size_t i = 0; i < h->n_gpus; i++)
                n_vfio += !gpu_drives_display(&h->gpus[i]) && gpu_on_vfio(&h->gpus[i]);
        for (size_t i = 0; i < h->n_gpus; i++) {
                const struct gpu *g = &h->gpus[i];
                if (gpu_drives_display(g) || (n_vfio > 0 ? !gpu_on_vfio(g) : g->kind != GPU_DISCRETE))
                        continue;
                if (n++ == 0)
                        pick = g->dev;
        }
        if (n > 1) {
                refuse(b, -EPERM, "%zu GPUs could be lent%s; name the one to lend (gpu-handoff list --gpus shows them)",
                       n, n_vfio > 0 ? " (on vfio-pci, reserved for VMs)" : "");
                return NULL;
        }
        if (pick)
                return pick;
        if (gpu_layout(h->gpus, h->n_gpus) == LAYOUT_SINGLE_GPU)
                return h->gpus[0].dev;
        /* The only discrete card drives a display too (a monitor on it and one on the iGPU):
         * it is the one to lend, with consent. */
        for (size_t i = 0; i < h->n_gpus; i++)
                if (h->gpus[i].kind == GPU_DISCRETE && n++ == 0)
                        pick = h->gpus[i].dev;
        if (n == 1)
                return pick;
        refuse(b, -ENOENT, "there is no GPU to lend on this host (gpu-handoff doctor explains why)");
        return NULL;
}

/* The group of one device of the card, which VFIO takes as a whole: the rest goes into the plan
 * with --with-group, else into *foreign for the refusal. */
static void add_group_of(struct builder *b, const struct pci_device *d, FILE *foreign)
{
        const struct iommu_group *group = iommu_group_find(b->h->groups, d->iommu_group);

        for (size_t i = 0; group && i < group->n_members; i++) {
                struct pci_device *m = group->members[i];
                if (pci_device_is_bridge(m) || in_plan(b->p, m))
                        continue;
                if (b->opts->with_group)
                        add_device(b, m);
                else
                        fprintf(foreign, "%s%s", ftell(foreign) ? ", " : "", m->address);
        }
}

/* The device with its companions. */
static int add_card(struct builder *b, struct pci_device *d)
{
        const struct gpu *g = gpu_of(b->h, d);

        if (d->iommu_group < 0)
                return refuse(b, -EPERM,
                              "%s has no IOMMU group: passthrough needs the IOMMU enabled (gpu-handoff doctor says how)",
                              d->address);
        if (g && g->isolation == GROUP_UNKNOWN)
                return refuse(b, -EPERM,
                              "%s links to IOMMU group %d, but the kernel's list of that group does not hold it: "
                              "which devices VFIO would take is unknown (gpu-handoff doctor)",
                              d->address, d->iommu_group);
        if (add_device(b, d) < 0)
                return b->error;
        for (size_t i = 0; g && i < g->n_companions; i++) {
                if (g->companions[i]->iommu_group < 0)
                        return refuse(b, -EPERM, "%s, a function of %s, has no IOMMU group", g->companions[i]->address,
                                      d->address);
                if (add_device(b, g->companions[i]) < 0)
                        return b->error;
        }
        return 0;
}

/* The rest of the IOMMU groups of the card (after every named card is in the plan). */
static int add_groups(struct builder *b, struct pci_device *d)
{
        const struct gpu *g = gpu_of(b->h, d);
        _cleanup_free_ char *foreign = NULL;
        size_t len = 0;
        FILE *f;

        f = open_memstream(&foreign, &len);
        if (!f)
                return oom(b);
        add_group_of(b, d, f);
        for (size_t i = 0; g && i < g->n_companions; i++)
                if (g->companions[i]->iommu_group != d->iommu_group)
                        add_group_of(b, g->companions[i], f);
        if (fclose(f) != 0)
                return oom(b);
        if (foreign && *foreign)
                return refuse(b, -EPERM,
                              "IOMMU group %d of %s also holds %s, which would go to the VM too; lend them all with "
                              "--with-group, or see gpu-handoff doctor for what would split the group",
                              d->iommu_group, d->address, foreign);
        return b->error;
}

static bool was_named(struct pci_device *const *chosen, size_t n, const struct pci_device *d)
{
        for (size_t i = 0; i < n; i++)
                if (chosen[i] == d)
                        return true;
        return false;
}

/* None of the devices in the plan so far may hold what the host runs on. */
static int check_host_uses(struct builder *b, struct pci_device *const *chosen, size_t n_chosen)
{
        _cleanup_free_ char *held = NULL;
        bool all_named = true;
        size_t len = 0;
        FILE *f = open_memstream(&held, &len);

        if (!f)
                return oom(b);
        for (size_t i = 0; i < b->p->n_devices; i++) {
                struct pci_device *d = b->p->devices[i];
                struct strv uses = {0};

                if (gpu_of(b->h, d))
                        continue;
                if (pci_device_host_uses(b->h->sr, d, &uses) < 0) {
                        strv_done(&uses);
                        fclose(f);
                        return oom(b);
                }
                if (uses.n > 0)
                        fprintf(f, "%s%s (", ftell(f) ? "; " : "", d->address);
                for (size_t j = 0; j < uses.n; j++)
                        fprintf(f, "%s%s%s", j ? ", " : "", uses.v[j], j + 1 == uses.n ? ")" : "");
                all_named &= uses.n == 0 || was_named(chosen, n_chosen, d);
                strv_done(&uses);
        }
        if (fclose(f) != 0)
                return oom(b);
        if (held && *held && all_named)
                return refuse(b, -EPERM, "the host runs on %s: lending %s would pull that from under it; leave %s out",
                              held, strchr(held, ';') ? "them" : "it", strchr(held, ';') ? "them" : "it");
        if (held && *held)
                return refuse(b, -EPERM,
                              "the IOMMU group to lend holds what the host runs on, %s: the group cannot go to a VM "
                              "as a whole (gpu-handoff doctor says what would split it)",
                              held);
        return 0;
}

/* Every device of the lend set, however it got there (named, a companion, the rest of a group,
 * the hook's unmanaged hostdevs): none may hold what the host runs on, and a GPU that drives the
 * host's display needs consent. */
static int check_lend_set(struct builder *b, struct pci_device *const *chosen, size_t n_chosen)
{
        const char *consent = b->opts->consent ? b->opts->consent : "run again with --yes";
        char why[128], reason[160];

        if (check_host_uses(b, chosen, n_chosen) < 0)
                return b->error;
        for (size_t i = 0; i < b->p->n_devices && !b->error && !b->opts->yes; i++) {
                struct pci_device *d = b->p->devices[i];
                const struct gpu *g = gpu_of(b->h, d);

                if (!g || !gpu_drives_display(g))
                        continue;
                reason[0] = '\0';
                if (!(g->display & DISPLAY_BOOT_VGA))
                        snprintf(reason, sizeof(reason), " (%s)", gpu_display_reason(g, why, sizeof(why)));
                if (was_named(chosen, n_chosen, d))
                        return refuse(b, -EPERM,
                                      "%s drives the host's display%s: lending it stops the display manager and ends "
                                      "the desktop session until release; %s",
                                      d->address, reason, consent);
                for (size_t j = 1; j < n_chosen && chosen[0]->iommu_group != d->iommu_group; j++)
                        if (chosen[j]->iommu_group == d->iommu_group)
                                chosen = &chosen[j]; /* name the one whose group brought it */
                return refuse(b, -EPERM,
                              "the IOMMU group of %s also holds %s, which drives the host's display%s: lending the "
                              "group stops the display manager and ends the desktop session until release; %s",
                              chosen[0]->address, d->address, reason, consent);
        }
        return b->error;
}

static int compare_devices(const void *a, const void *b)
{
        return pci_addr_compare(&(*(struct pci_device *const *)a)->addr, &(*(struct pci_device *const *)b)->addr);
}

static bool lending_boot_gpu(const struct plan *p)
{
        for (size_t i = 0; i < p->n_devices; i++)
                if (p->devices[i]->boot_vga == YES)
                        return true;
        return false;
}

static bool on_vfio(const struct pci_device *d)
{
        return d->driver && strcmp(d->driver, "vfio-pci") == 0;
}

static bool lending_boot_gpu_from_host(const struct plan *p)
{
        for (size_t i = 0; i < p->n_devices; i++)
                if (p->devices[i]->boot_vga == YES && !on_vfio(p->devices[i]))
                        return true;
        return false;
}

static bool lending_display(const struct builder *b)
{
        for (size_t i = 0; i < b->p->n_devices; i++) {
                const struct gpu *g = gpu_of(b->h, b->p->devices[i]);
                if (g && gpu_drives_display(g))
                        return true;
        }
        return false;
}

static bool plan_has_driver(const struct plan *p, const char *driver)
{
        for (size_t i = 0; i < p->n_devices; i++)
                if (p->devices[i]->driver && strcmp(p->devices[i]->driver, driver) == 0)
                        return true;
        return false;
}

static void plan_units(struct builder *b)
{
        const struct host *h = b->h;
        bool systemd = h->systemd;
        const char *no_systemd = "no systemd on this host";

        add_step(b, STEP_INHIBIT_SLEEP, systemd ? NULL : no_systemd, NULL);
        if (lending_display(b)) {
                const char *dm = h->display_manager;
                bool have_dm = dm != NULL;
                add_step(b, STEP_STOP_UNIT, !systemd ? no_systemd : have_dm ? NULL : "no display manager is installed",
                         "display-manager.service", have_dm ? dm : NULL, NULL);
        }
        if (plan_has_driver(b->p, "nvidia")) {
                static const char *const services[] = {"nvidia-persistenced.service", "nvidia-powerd.service"};
                for (size_t i = 0; i < ELEMENTSOF(services); i++)
                        add_step(b, STEP_STOP_UNIT, systemd ? NULL : no_systemd, services[i], "if active", NULL);
        }
}

static void plan_consoles(struct builder *b)
{
        _cleanup_free_ struct vtconsole *vt = NULL;
        _cleanup_free_ struct boot_framebuffer *fb = NULL;
        size_t n_vt = 0, n_fb = 0;
        bool keep_efifb = false;
        char name[32];

        /* fbcon draws on the display GPU, or on the firmware's framebuffer of a boot GPU still
         * on the host; a boot GPU on vfio-pci since boot has neither. */
        if (!lending_display(b) && !lending_boot_gpu_from_host(b->p))
                return; /* the host console is on another GPU: leave it alone */
        if (vtconsoles_read(b->h->sr, &vt, &n_vt) < 0 || boot_framebuffers_read(b->h->sr, &fb, &n_fb) < 0) {
                oom(b);
                return;
        }
        for (size_t i = 0; i < n_vt; i++) {
                if (!vt[i].framebuffer || !vt[i].bound)
                        continue;
                snprintf(name, sizeof(name), "vtcon%u", vt[i].index);
                add_step(b, STEP_UNBIND_VTCON, NULL, name, NULL);
        }
        for (size_t i = 0; i < b->p->n_devices; i++) {
                const struct gpu *g = gpu_of(b->h, b->p->devices[i]);
                keep_efifb |= g && (gpu_quirk_flags(g) & QUIRK_KEEP_EFIFB);
        }
        for (size_t i = 0; i < n_fb && lending_boot_gpu(b->p); i++) { /* the firmware's, on the boot GPU */
                if (!fb[i].driver[0])
                        continue;
                add_step(b, STEP_UNBIND_FRAMEBUFFER,
                         keep_efifb ? "unbinding the firmware framebuffer harms this GPU family (quirk keep-efifb); "
                                      "vfio-pci takes the GPU over from it"
                                    : NULL,
                         fb[i].device, fb[i].driver, NULL);
        }
}

/* Modules to unload for driver module m, holders first (nvidia_drm before nvidia_modeset
 * before nvidia), or none when any of them drives a device that stays with the host. */
static int collect_module_stack(struct builder *b, const char *m, char ***stack, size_t *n, int depth)
{
        char **holders = NULL;
        size_t n_holders = 0;
        _cleanup_free_ struct pci_addr *bound = NULL;
        size_t n_bound = 0;
        char **p;
        int r;

        if (depth > 16)
                return -ELOOP;
        for (size_t i = 0; i < *n; i++)
                if (strcmp((*stack)[i], m) == 0)
                        return 0;
        r = module_bound_devices(b->h->sr, m, &bound, &n_bound);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_bound; i++) {
                struct pci_device *d = pci_list_find(b->h->pci, &bound[i]);
                if (!d || !in_plan(b->p, d)) {
                        char buf[PCI_ADDR_STRLEN];
                        note(b, "module %s also drives %s, which stays with the host: unbinding only, not unloading",
                             m, pci_addr_format(&bound[i], buf));
                        return -EBUSY;
                }
        }
        r = module_holders(b->h->sr, m, &holders, &n_holders);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_holders && r >= 0; i++)
                r = collect_module_stack(b, holders[i], stack, n, depth + 1);
        strv_free(holders, n_holders);
        if (r < 0)
                return r;
        p = realloc(*stack, (*n + 1) * sizeof(*p));
        if (!p)
                return -ENOMEM;
        *stack = p;
        p[*n] = strdup(m);
        if (!p[*n])
                return -ENOMEM;
        (*n)++;
        return 0;
}

static bool caller_binds(const struct builder *b, const struct pci_device *d)
{
        for (size_t i = 0; i < b->opts->n_caller_binds; i++)
                if (strcmp(b->opts->caller_binds[i], d->address) == 0)
                        return true;
        return false;
}

static void plan_drivers(struct builder *b)
{
        struct plan *p = b->p;

        /* Other functions first, the GPU (function 0) last: the recipe the testbed proved. */
        for (size_t i = p->n_devices; i-- > 0;)
                if (p->devices[i]->driver && !on_vfio(p->devices[i]))
                        add_step(b, STEP_UNBIND_DRIVER, NULL, p->devices[i]->address, p->devices[i]->driver, NULL);
        for (size_t i = 0; i < p->n_devices && !b->error; i++) {
                const char *driver = p->devices[i]->driver;
                _cleanup_free_ char *module = NULL;
                char **stack = NULL;
                size_t n = 0;
                bool seen = false;
                int r;

                if (!driver || on_vfio(p->devices[i]))
                        continue;
                for (size_t j = 0; j < i; j++)
                        seen |= p->devices[j]->driver && strcmp(p->devices[j]->driver, driver) == 0;
                if (seen)
                        continue;
                r = module_of_driver(b->h->sr, driver, &module);
                if (r == -ENOENT) {
                        note(b, "driver %s is built into the kernel: unbinding only", driver);
                        continue;
                }
                if (r < 0) {
                        oom(b);
                        break;
                }
                r = collect_module_stack(b, module, &stack, &n, 0);
                if (r == -ENOMEM)
                        oom(b);
                for (size_t j = 0; r >= 0 && j < n; j++)
                        add_step(b, STEP_UNLOAD_MODULE, NULL, stack[j], NULL);
                strv_free(stack, n);
        }
}

static void plan_vfio(struct builder *b)
{
        const struct host *h = b->h;
        struct plan *p = b->p;
        _cleanup_free_ int *groups = NULL; /* each group once, in the order its first device comes */
        size_t n_groups = 0;
        bool waitable = true;
        char buf[16];

        if (h->modules[HOST_MODULE_VFIO_PCI] == MODULE_MISSING) {
                refuse(b, -ENOENT, "vfio-pci is not available for this kernel (gpu-handoff doctor says what to install)");
                return;
        }
        if (h->modules[HOST_MODULE_VFIO_PCI] == MODULE_AVAILABLE) {
                /* Release unloads what this load brings in, and only that. */
                struct module_index *mi = NULL;
                char **set = NULL;
                size_t n = 0;
                struct step *s;

                if (module_index_open(h->sr, h->kernel_release, &mi) < 0 ||
                    module_load_set(h->sr, mi, "vfio_pci", &set, &n) < 0) {
                        module_index_free(mi);
                        oom(b);
                        return;
                }
                module_index_free(mi);
                if (n > STEP_MAX_ARGS) { /* release unloads only what the step names: never drop one */
                        strv_free(set, n);
                        refuse(b, -E2BIG, "loading vfio_pci brings in %zu modules; gpu-handoff can record at most %d",
                               n, STEP_MAX_ARGS);
                        return;
                }
                s = add_step(b, STEP_LOAD_MODULE, NULL, NULL);
                for (size_t i = 0; s && i < n; i++)
                        s->args[s->n_args++] = TAKE_PTR(set[i]);
                strv_free(set, n);
        }
        for (size_t i = 0; i < p->n_devices; i++) {
                const struct pci_device *d = p->devices[i];
                bool seen = false;
                if (caller_binds(b, d)) {
                        waitable = false; /* libvirt binds it after us: its group cannot be waited for */
                        continue;
                }
                if (!on_vfio(d))
                        add_step(b, STEP_BIND_VFIO, NULL, d->address, NULL);
                for (size_t j = 0; j < n_groups; j++)
                        seen |= groups[j] == d->iommu_group;
                if (!seen) {
                        int *v = realloc(groups, (n_groups + 1) * sizeof(*v));
                        if (!v) {
                                oom(b);
                                return;
                        }
                        groups = v;
                        groups[n_groups++] = d->iommu_group;
                }
        }
        for (size_t j = 0; waitable && j < n_groups; j++) {
                snprintf(buf, sizeof(buf), "%d", groups[j]);
                add_step(b, STEP_WAIT_VFIO_GROUP, NULL, buf, NULL);
        }
}

/* A GPU whose family resets badly (quirks) is reset on the way back where vendor-reset can (its
 * module loaded), and checked before its host driver gets it back: one that does not answer
 * stays on vfio-pci (step-reset.c), since a driver probing it can hang the host. Last, so that
 * release reverts it first, while the card is still on vfio-pci. */
static void plan_return_reset(struct builder *b)
{
        for (size_t i = 0; i < b->p->n_devices && !b->error; i++) {
                const struct pci_device *d = b->p->devices[i];
                const struct gpu *g = gpu_of(b->h, d);
                unsigned flags = g ? gpu_quirk_flags(g) : 0;
                bool vendor_reset;

                if (on_vfio(d) || caller_binds(b, d) ||
                    !(flags & (QUIRK_VENDOR_RESET | QUIRK_RESET_ONCE_PER_BOOT | QUIRK_RESET_BROKEN)))
                        continue;
                /* device_specific needs the module loaded and a kernel (5.15+) that lets us choose */
                vendor_reset = (flags & QUIRK_VENDOR_RESET) && d->reset_method &&
                               sysroot_exists(b->h->sr, "sys/module/vendor_reset");
                add_step(b, STEP_RETURN_RESET, NULL, d->address, vendor_reset ? "device_specific" : "none",
                         vendor_reset ? d->reset_method : NULL, NULL);
                if ((flags & QUIRK_VENDOR_RESET) && !vendor_reset)
                        note(b, "%s is in the vendor-reset family, but the vendor-reset module is not loaded: release "
                                "cannot reset it (gpu-handoff setup --vendor-reset)", d->address);
        }
}

/* Every device still on a host driver gets its holders checked: a step holds the mode and up to
 * STEP_MAX_ARGS - 1 addresses, so a longer lend set takes several steps (the journal's record
 * of one step stays the size it always was). */
static void plan_holders(struct builder *b)
{
        struct plan *p = b->p;
        const char *mode = b->opts->terminate ? "terminate" : "refuse";
        struct step *s = NULL;

        for (size_t i = 0; i < p->n_devices && !b->error; i++) {
                if (!p->devices[i]->driver || on_vfio(p->devices[i]))
                        continue; /* nothing is bound to a host driver: nothing can hold it */
                if ((!s || s->n_args == STEP_MAX_ARGS) && !(s = add_step(b, STEP_CHECK_HOLDERS, NULL, mode, NULL)))
                        return;
                if (!(s->args[s->n_args++] = strdup(p->devices[i]->address)))
                        oom(b);
        }
}

int plan_attach(const struct host *h, char *const *names, size_t n_names, const struct plan_options *opts,
                struct plan **ret, char **ret_error)
{
        static const struct plan_options defaults = {0};
        struct builder b = {.h = h, .opts = opts ? opts : &defaults};
        /* as many as named (a domain may pass any number of hostdevs, one twice): each device
         * enters the plan once */
        _cleanup_free_ struct pci_device **chosen = calloc(n_names ? n_names : 1, sizeof(*chosen));
        size_t n_chosen = 0;

        if (!chosen)
                return -ENOMEM;
        b.p = calloc(1, sizeof(*b.p));
        if (!b.p)
                return -ENOMEM;
        for (size_t i = 0; i < n_names && !b.error; i++)
                if ((chosen[n_chosen] = resolve_name(&b, names[i])))
                        n_chosen++;
        if (n_names == 0 && (chosen[0] = default_device(&b)))
                n_chosen = 1;
        for (size_t i = 0; i < n_chosen && !b.p->gpu; i++)
                b.p->gpu = gpu_of(h, chosen[i]);
        for (size_t i = 0; i < n_chosen && !b.error; i++)
                add_card(&b, chosen[i]);
        /* What the host runs on is refused before a group is: named, it is in the plan by now. */
        if (!b.error)
                check_host_uses(&b, chosen, n_chosen);
        for (size_t i = 0; i < n_chosen && !b.error; i++)
                add_groups(&b, chosen[i]);
        if (!b.error)
                check_lend_set(&b, chosen, n_chosen);
        if (!b.error && b.p->n_devices > 1)
                qsort(b.p->devices, b.p->n_devices, sizeof(*b.p->devices), compare_devices);
        if (!b.error) {
                plan_units(&b);
                plan_holders(&b);
                plan_consoles(&b);
                plan_drivers(&b);
                plan_vfio(&b);
                plan_return_reset(&b);
        }
        if (b.error) {
                if (ret_error)
                        *ret_error = TAKE_PTR(b.message);
                free(b.message);
                plan_free(b.p);
                return b.error;
        }
        *ret = b.p;
        return 0;
}

bool plan_already_lent(const struct plan *p)
{
        for (size_t i = 0; i < p->n_devices; i++)
                if (!on_vfio(p->devices[i]))
                        return false;
        return p->n_devices > 0;
}

void plan_free(struct plan *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_steps; i++)
                step_done(&p->steps[i]);
        free(p->steps);
        strv_done(&p->notes);
        free(p->devices);
        free(p);
}
