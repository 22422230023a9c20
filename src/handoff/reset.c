/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The reset plan (reset.h): which method, which steps, and who stands in the way. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "change/transaction.h"
#include "handoff/plan.h"
#include "handoff/reset.h"
#include "host/holders.h"
#include "host/in-use.h"

const struct journal_spec reset_journal = {
        .dir = HANDOFF_RESET_DIR,
        .magic = "gpu-handoff reset journal 1",
        .subject = "the reset",
        .outcomes = {
                [JOURNAL_OUTCOME_APPLIED] = "reset",
                [JOURNAL_OUTCOME_ROLLED_BACK] = "rolled-back",
                [JOURNAL_OUTCOME_UNDONE] = "restored",
        },
};

static const char *const user_methods[] = {"flr", "pm", "bus", "device_specific"};

void reset_plan_free(struct reset_plan *p)
{
        if (!p)
                return;
        for (size_t i = 0; i < p->n_steps; i++)
                step_done(&p->steps[i]);
        free(p->steps);
        strv_done(&p->notes);
        free(p);
}

static int add_step(struct reset_plan *p, enum step_kind kind, ...)
{
        struct step *steps = realloc(p->steps, (p->n_steps + 1) * sizeof(*steps));
        struct step *s;
        const char *a;
        va_list ap;

        if (!steps)
                return -ENOMEM;
        p->steps = steps;
        s = &p->steps[p->n_steps++];
        *s = (struct step){.kind = kind};
        va_start(ap, kind);
        while ((a = va_arg(ap, const char *))) {
                if (s->n_args == STEP_MAX_ARGS || !(s->args[s->n_args] = strdup(a))) {
                        va_end(ap);
                        return -ENOMEM;
                }
                s->n_args++;
        }
        va_end(ap);
        return 0;
}

static bool has_word(const char *list, const char *word)
{
        size_t n = strlen(word);

        for (const char *p = list; p && *p;) {
                size_t len = strcspn(p, " ");

                if (len == n && strncmp(p, word, n) == 0)
                        return true;
                p += len;
                p += strspn(p, " ");
        }
        return false;
}

int reset_device_users(const struct sysroot *sr, const struct pci_device *d, struct strv *ret)
{
        char **nodes = NULL;
        size_t n_nodes = 0;
        struct holder *holders = NULL;
        size_t n_holders = 0;
        char vfio[32];
        int r = 0;

        if (d->driver && strcmp(d->driver, "vfio-pci") != 0)
                r = strv_addf(ret, "bound to %s", d->driver);
        if (r < 0)
                return r;
        if (d->driver && strcmp(d->driver, "vfio-pci") == 0 && d->iommu_group >= 0) {
                char *node[] = {vfio, NULL};

                snprintf(vfio, sizeof(vfio), "dev/vfio/%d", d->iommu_group);
                if (holders_scan(sr, node, 1, &holders, &n_holders, NULL) >= 0)
                        for (size_t i = 0; r >= 0 && i < n_holders; i++) {
                                _cleanup_free_ char *who = holder_describe(&holders[i]);

                                r = who ? strv_addf(ret, "%s (a VM?)", who) : -ENOMEM;
                        }
                holders_free(holders, n_holders);
        } else if (d->driver && device_nodes_of(sr, d, &nodes, &n_nodes) >= 0) {
                if (holders_scan(sr, nodes, n_nodes, &holders, &n_holders, NULL) >= 0)
                        for (size_t i = 0; r >= 0 && i < n_holders; i++) {
                                _cleanup_free_ char *who = holder_describe(&holders[i]);

                                r = who ? strv_addf(ret, "%s", who) : -ENOMEM;
                        }
                holders_free(holders, n_holders);
                device_nodes_free(nodes);
        }
        return r < 0 ? r : pci_device_host_uses(sr, d, ret);
}

/* "0000:01:00.1 (bound to snd_hda_intel; pid 812 pipewire holds /dev/snd/controlC1)" */
static int describe_users(FILE *f, const struct pci_device *d, const struct strv *users)
{
        fprintf(f, "%s (", d->address);
        for (size_t i = 0; i < users->n; i++)
                fprintf(f, "%s%s", i ? "; " : "", users->v[i]);
        fprintf(f, ")");
        return 0;
}

/* The devices a secondary bus reset of bridge hits, d excepted, that are in use: one message. */
static int bus_blockers(const struct host *h, const struct pci_device *bridge, const struct pci_device *d,
                        char **ret)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0, n = 0;
        FILE *f = open_memstream(&text, &len);
        int r = 0;

        if (!f)
                return -ENOMEM;
        for (size_t i = 0; r >= 0 && i < h->pci->n_devices; i++) {
                struct pci_device *o = &h->pci->devices[i];
                struct strv users = {};
                bool below = false;

                if (o == d || o == bridge)
                        continue;
                for (const struct pci_device *up = o->parent; up; up = up->parent)
                        below = below || up == bridge;
                if (!below)
                        continue;
                r = reset_device_users(h->sr, o, &users);
                if (r >= 0 && users.n > 0) {
                        fprintf(f, "%s", n++ ? ", " : "");
                        describe_users(f, o, &users);
                }
                strv_done(&users);
        }
        if (fclose(f) != 0 || r < 0)
                return r < 0 ? r : -ENOMEM;
        *ret = n > 0 ? TAKE_PTR(text) : NULL;
        return 0;
}

static int refuse(char **ret_error, int error, const char *fmt, ...) _printf_(3, 4);
static int refuse(char **ret_error, int error, const char *fmt, ...)
{
        va_list ap;

        if (ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return error;
}

static const struct quirk *quirk_with(const struct host *h, const struct pci_device *d, unsigned flags)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                if (h->gpus[i].dev == d)
                        for (size_t j = 0; j < h->gpus[i].n_quirks; j++)
                                if (h->gpus[i].quirks[j]->flags & flags)
                                        return h->gpus[i].quirks[j];
        return NULL;
}

/* Whether another function shares d's bus: the kernel's own "bus" method (a reset of the bus
 * below d's bridge) then answers ENOTTY, whatever reset_method lists (testbed.md §5). */
static bool has_siblings(const struct host *h, const struct pci_device *d)
{
        for (size_t i = 0; i < h->pci->n_devices; i++) {
                const struct pci_device *o = &h->pci->devices[i];

                if (o != d && o->parent == d->parent && o->addr.domain == d->addr.domain && o->addr.bus == d->addr.bus)
                        return true;
        }
        return false;
}

/* A secondary bus reset through the bridge: only when the kernel has reset_subordinate there. */
static int plan_bus(const struct host *h, struct reset_plan *p, const struct pci_device *d, bool remove_rescan,
                    char **ret_error)
{
        _cleanup_free_ char *blockers = NULL;
        char path[96];
        int r;

        if (!d->parent)
                return refuse(ret_error, -EOPNOTSUPP, "%s sits on a root bus: there is no bridge to reset it through",
                              d->address);
        r = bus_blockers(h, d->parent, d, &blockers);
        if (r < 0)
                return r;
        if (blockers)
                return refuse(ret_error, -EBUSY,
                              "a bus reset of %s resets every device behind bridge %s, and these are in use: %s; "
                              "free them first (stop what uses them, unbind their drivers, or lend them together "
                              "with gpu-handoff attach)",
                              d->address, d->parent->address, blockers);
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset_subordinate", d->parent->address);
        if (!sysroot_exists(h->sr, path))
                return refuse(ret_error, -EOPNOTSUPP,
                              "the kernel offers no bus reset for %s: it is not alone on its bus, and bridge %s has no "
                              "reset_subordinate (Linux 6.13 or later)%s",
                              d->address, d->parent->address,
                              remove_rescan ? "" : "; --remove-rescan alone is the way left");
        snprintf(p->method, sizeof(p->method), "bus");
        snprintf(p->bridge, sizeof(p->bridge), "%s", d->parent->address);
        return add_step(p, STEP_RESET_DEVICE, d->address, "bus", d->parent->address, NULL);
}

/* A reset by the device's own reset attribute with method first in reset_method. */
static int plan_method(struct reset_plan *p, const struct pci_device *d, const char *method)
{
        int r = 0;

        if (strcmp(d->reset_method, method) != 0)
                r = add_step(p, STEP_RESET_METHOD, d->address, method, d->reset_method, NULL);
        snprintf(p->method, sizeof(p->method), "%s", method);
        return r < 0 ? r : add_step(p, STEP_RESET_DEVICE, d->address, "function", NULL);
}

static int plan_steps(const struct host *h, struct reset_plan *p, struct pci_device *d,
                      const struct reset_options *opts, char **ret_error)
{
        const struct quirk *vr = quirk_with(h, d, QUIRK_VENDOR_RESET);
        const char *method = opts->method;
        int r;

        if (!method && vr) {
                if (sysroot_exists(h->sr, "sys/module/vendor_reset")) {
                        method = "device_specific";
                        r = strv_addf(&p->notes, "%s is in the vendor-reset family (%s): device_specific, with the "
                                      "vendor-reset module loaded", d->address, vr->id);
                } else
                        r = strv_addf(&p->notes, "%s is in the vendor-reset family (%s), but the vendor-reset module "
                                      "is not loaded: the kernel's own methods may leave it unusable (gpu-handoff "
                                      "setup --vendor-reset)", d->address, vr->id);
                if (r < 0)
                        return r;
        }
        if (method && strcmp(method, "bus") == 0 &&
            (!(d->reset_method && has_word(d->reset_method, "bus")) || has_siblings(h, d)))
                return plan_bus(h, p, d, opts->remove_rescan, ret_error);
        if (method) {
                if (!d->reset_method)
                        return refuse(ret_error, -EOPNOTSUPP,
                                      "%s has no reset_method: this kernel (before 5.15) or this device offers no "
                                      "choice of reset method",
                                      d->address);
                /* device_specific needs no listing: vendor-reset hooks it in after the list was made */
                if (strcmp(method, "device_specific") != 0 && !has_word(d->reset_method, method))
                        return refuse(ret_error, -EOPNOTSUPP, "the kernel does not offer %s for %s (it offers: %s)",
                                      method, d->address, d->reset_method[0] ? d->reset_method : "none");
                return plan_method(p, d, method);
        }
        if (d->reset_method && d->reset_method[0] &&
            !(strncmp(d->reset_method, "bus", 3) == 0 && (d->reset_method[3] == ' ' || d->reset_method[3] == 0) &&
              has_siblings(h, d))) {
                const char *first = d->reset_method;
                size_t n = strcspn(first, " ");

                snprintf(p->method, sizeof(p->method), "%.*s", (int)n, first);
                r = strv_addf(&p->notes, "the kernel's own choice for %s: %s (reset_method: %s)", d->address,
                              p->method, d->reset_method);
                return r < 0 ? r : add_step(p, STEP_RESET_DEVICE, d->address, "function", NULL);
        }
        r = strv_addf(&p->notes, "the kernel offers no reset of %s by itself; a secondary bus reset of its bridge "
                      "is the way left", d->address);
        return r < 0 ? r : plan_bus(h, p, d, opts->remove_rescan, ret_error);
}

int reset_plan_make(const struct host *h, const char *name, const struct reset_options *opts,
                    struct reset_plan **ret, char **ret_error)
{
        _cleanup_(reset_plan_freep) struct reset_plan *p = NULL;
        struct strv users = {};
        struct pci_device *d;
        const struct quirk *broken;
        struct pci_addr a;
        char buf[PCI_ADDR_STRLEN];
        int r;

        if (opts->method) {
                bool known = false;

                for (size_t i = 0; i < ELEMENTSOF(user_methods); i++)
                        known = known || strcmp(opts->method, user_methods[i]) == 0;
                if (!known)
                        return refuse(ret_error, -EINVAL, "unknown reset method \"%s\" (flr, pm, bus, device_specific)",
                                      opts->method);
        }
        if (pci_addr_parse_user(name, &a) < 0)
                return refuse(ret_error, -EINVAL,
                              "\"%s\" is not a PCI address (expected DDDD:BB:DD.F or BB:DD.F, as gpu-handoff list shows)",
                              name);
        d = pci_list_find(h->pci, &a);
        if (!d)
                return refuse(ret_error, -ENODEV, "there is no PCI device %s on this host (gpu-handoff list shows them)",
                              pci_addr_format(&a, buf));
        if (pci_device_is_bridge(d))
                return refuse(ret_error, -EPERM, "%s is a PCI bridge; gpu-handoff resets the devices behind one, not "
                              "the bridge itself", d->address);
        r = pci_device_read_details(h->sr, d);
        if (r < 0)
                return refuse(ret_error, r, "cannot read %s: %s", d->address, strerror(-r));
        r = reset_device_users(h->sr, d, &users);
        if (r >= 0 && users.n > 0) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&text, &len);

                if (f) {
                        fprintf(f, "(");
                        for (size_t i = 0; i < users.n; i++)
                                fprintf(f, "%s%s", i ? "; " : "", users.v[i]);
                        fprintf(f, ")");
                        r = fclose(f) == 0 ? 0 : -ENOMEM;
                } else
                        r = -ENOMEM;
                strv_done(&users);
                if (r < 0)
                        return r;
                return refuse(ret_error, -EBUSY,
                              "%s is in use %s; reset only resets a device no driver uses (no driver, or vfio-pci "
                              "with no VM): stop what uses it and unbind it first, or lend it with gpu-handoff attach",
                              d->address, text);
        }
        strv_done(&users);
        if (r < 0)
                return r;
        broken = quirk_with(h, d, QUIRK_RESET_BROKEN);
        if (broken && !opts->force)
                return refuse(ret_error, -EPERM, "%s is in a family whose resets are known to hang the card (%s: %s); "
                              "use --force to try anyway",
                              d->address, broken->id, broken->name);
        p = calloc(1, sizeof(*p));
        if (!p)
                return -ENOMEM;
        p->device = d;
        r = plan_steps(h, p, d, opts, ret_error);
        /* no reset the kernel offers: the last resort alone, when asked for */
        if (r == -EOPNOTSUPP && opts->remove_rescan && !opts->method) {
                r = strv_addf(&p->notes, "no reset the kernel offers for %s: %s; removing and rescanning it is all "
                              "that is left", d->address, ret_error && *ret_error ? *ret_error : "?");
                if (ret_error) {
                        free(*ret_error);
                        *ret_error = NULL;
                }
                snprintf(p->method, sizeof(p->method), "remove-rescan");
                for (size_t i = 0; i < p->n_steps; i++)
                        step_done(&p->steps[i]);
                p->n_steps = 0;
        }
        if (r < 0)
                return r;
        if (opts->remove_rescan) {
                r = add_step(p, STEP_REMOVE_RESCAN, d->address, d->parent ? d->parent->address : "", NULL);
                if (r < 0)
                        return r;
        }
        *ret = TAKE_PTR(p);
        return 0;
}

void reset_health_read(const struct sysroot *sr, const char *address, struct reset_health *ret)
{
        char path[128];
        uint8_t config[4];
        _cleanup_close_ int fd = -1;

        *ret = (struct reset_health){};
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", address);
        ret->present = sysroot_exists(sr, path);
        if (!ret->present)
                return;
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/config", address);
        fd = sysroot_open_regular(sr, path);
        if (fd >= 0 && read(fd, config, sizeof(config)) == (ssize_t)sizeof(config)) {
                ret->config_readable = true;
                ret->vendor_ok = !(config[0] == 0xff && config[1] == 0xff);
        }
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/power_state", address);
        if (sysroot_read_attr(sr, path, ret->power_state, sizeof(ret->power_state)) < 0)
                ret->power_state[0] = 0;
}

bool reset_health_ok(const struct reset_health *h)
{
        return !reset_health_problem(h);
}

const char *reset_health_problem(const struct reset_health *h)
{
        if (!h->present)
                return "it is gone from the PCI bus";
        if (!h->config_readable)
                return "its config space cannot be read";
        if (!h->vendor_ok)
                return "its config space reads ffff (the device does not answer)";
        if (h->power_state[0] && strcmp(h->power_state, "D0") != 0)
                return "it is not in power state D0";
        return NULL;
}

static const struct transaction reset_transaction = {
        .domain = &handoff_domain,
        .spec = &reset_journal,
};

static int undo(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                const char *phase, char **ret_error)
{
        struct change_ctx change = handoff_change_ctx(ctx);
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        int r;

        r = transaction_undo(&change, &reset_transaction, self, command, phase, &run, &steps, &n, ret_error);
        if (r < 0 && run && run->failed >= 0 && ret_error && !*ret_error) {
                const char *m = run->outcomes[run->failed].message;
                *ret_error = strdup(m ? m : strerror(-r));
        }
        engine_run_free(run);
        steps_free(steps, n);
        return r;
}

int reset_run(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
              const struct reset_plan *p, struct engine_run **ret_run, char **ret_error)
{
        struct change_ctx change = handoff_change_ctx(ctx);
        int r;

        *ret_run = NULL;
        r = transaction_apply(&change, &reset_transaction, self, "reset", p->device->address, command, p->steps,
                              p->n_steps, ret_run, ret_error);
        if (r < 0)
                return r;
        r = undo(ctx, self, command, "restore", ret_error);
        return r < 0 ? -EUCLEAN : 0;
}

int reset_settle(const struct handoff_ctx *ctx, const struct process_id *self, const char *command,
                 bool *ret_found, char **ret_error)
{
        int r;

        *ret_found = false;
        r = undo(ctx, self, command, "recover", ret_error);
        if (r == -ENOENT) {
                if (ret_error) {
                        free(*ret_error);
                        *ret_error = NULL;
                }
                return 0;
        }
        *ret_found = true;
        return r;
}
