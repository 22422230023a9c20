/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The libvirt hook's lend set: from a domain's PCI hostdevs to the devices it lends and names to
 * the plan. The rules are in lend-set.h. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "handoff/context.h"
#include "libvirt/lend-set.h"

static const struct domain_hostdev *hostdev_of(const struct domain *d, const char *address)
{
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                char a[PCI_ADDR_STRLEN];
                if (strcmp(pci_addr_format(&d->hostdevs[i].host, a), address) == 0)
                        return &d->hostdevs[i];
        }
        return NULL;
}

static bool listed(const struct strv *v, const char *s)
{
        for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->v[i], s) == 0)
                        return true;
        return false;
}

static bool is_bridge(const struct sysroot *sr, const char *address)
{
        char path[96], buf[32];
        uint32_t class;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/class", address);
        return sysroot_read_attr(sr, path, buf, sizeof(buf)) >= 0 && sysfs_parse_hex(buf, 0xffffff, &class) >= 0 &&
               (class >> 16) == 0x06;
}

static int skip(struct lend_set *s, const char *address, enum lend_skip_reason reason)
{
        struct lend_skip *n = realloc(s->skipped, (s->n_skipped + 1) * sizeof(*n));

        if (!n)
                return -ENOMEM;
        s->skipped = n;
        n = &s->skipped[s->n_skipped++];
        snprintf(n->address, sizeof(n->address), "%s", address);
        n->reason = reason;
        return 0;
}

int lend_set_read(const struct sysroot *sr, const struct domain *d, struct lend_set *ret, char **ret_error)
{
        *ret = (struct lend_set){0};
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                char a[PCI_ADDR_STRLEN], driver[64];
                int r;

                pci_addr_format(&d->hostdevs[i].host, a);
                if (listed(&ret->devices, a))
                        continue; /* named twice */
                r = pci_current_driver(sr, a, driver, sizeof(driver));
                if (r == -ENOENT || r == -ENODEV) {
                        if (skip(ret, a, LEND_SKIP_NOT_ON_HOST) < 0)
                                return -ENOMEM;
                        continue;
                }
                if (r < 0)
                        return error_setf(ret_error, r, "cannot read the driver of %s: %s", a, strerror(-r));
                if (is_bridge(sr, a)) {
                        if (skip(ret, a, LEND_SKIP_BRIDGE) < 0)
                                return -ENOMEM;
                        continue;
                }
                if ((r == 0 || strcmp(driver, "vfio-pci") != 0) && strv_addf(&ret->devices, "%s", a) < 0)
                        return -ENOMEM;
        }
        return 0;
}

void lend_set_done(struct lend_set *s)
{
        strv_done(&s->devices);
        free(s->skipped);
        *s = (struct lend_set){0};
}

const char *lend_skip_reason_to_string(enum lend_skip_reason reason)
{
        return reason == LEND_SKIP_BRIDGE ? "is a PCI bridge, which stays with the host"
                                          : "is not on this host's PCI bus";
}

static const struct gpu *gpu_of(const struct host *h, const char *address)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                if (strcmp(h->gpus[i].dev->address, address) == 0)
                        return &h->gpus[i];
        return NULL;
}

/* A companion (HDMI audio, USB-C) of a GPU the domain also passes: it goes along with that GPU. */
static bool goes_with_its_gpu(const struct host *h, const struct domain *d, const char *address)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                for (size_t k = 0; k < h->gpus[i].n_companions; k++)
                        if (strcmp(h->gpus[i].companions[k]->address, address) == 0 &&
                            hostdev_of(d, h->gpus[i].dev->address))
                                return true;
        return false;
}

int lend_set_names(const struct host *h, const struct domain *d, const struct strv *lend, struct strv *ret,
                   bool *ret_force)
{
        *ret_force = false;
        for (size_t i = 0; i < lend->n; i++) {
                const struct domain_hostdev *hd = hostdev_of(d, lend->v[i]);

                if (!gpu_of(h, lend->v[i])) {
                        if (goes_with_its_gpu(h, d, lend->v[i]) || (hd && hd->managed))
                                continue;
                        *ret_force = true;
                }
                if (strv_addf(ret, "%s", lend->v[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int lend_set_caller_binds(const struct domain *d, struct strv *ret)
{
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                char a[PCI_ADDR_STRLEN];
                if (d->hostdevs[i].managed && strv_addf(ret, "%s", pci_addr_format(&d->hostdevs[i].host, a)) < 0)
                        return -ENOMEM;
        }
        return 0;
}
