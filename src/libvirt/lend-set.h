/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Which of a domain's PCI hostdevs the libvirt hook lends at "prepare begin", and what it names
 * to plan_attach() for them. The rules:
 *  - a hostdev named twice counts once;
 *  - one this host does not have, or a PCI bridge (which stays with the host), is left to
 *    libvirt (it decides, and refuses where it must): skipped, with the reason, never an error;
 *  - one on vfio-pci already is not lent again; every other one is (no driver, or any other);
 *  - of those, the GPUs are named, and their companions (HDMI audio, USB-C) come along with
 *    them; a device that is neither is named only when it is unmanaged (managed='yes': libvirt
 *    binds it itself), and then as a device that is not a GPU (--force);
 *  - every managed='yes' hostdev is one the caller binds (plan_options.caller_binds).
 *
 * Library code: never prints, never exits. */

#include <stdbool.h>

#include "basic/parse.h"
#include "basic/strv.h"
#include "host/host.h"
#include "libvirt/domain.h"

enum lend_skip_reason {
        LEND_SKIP_NOT_ON_HOST, /* not on this host's PCI bus */
        LEND_SKIP_BRIDGE,      /* a PCI bridge */
};

struct lend_skip {
        char address[PCI_ADDR_STRLEN];
        enum lend_skip_reason reason;
};

struct lend_set {
        struct strv devices; /* to lend, by address, in the domain's order; none: nothing to do */
        struct lend_skip *skipped; /* left to libvirt, in the domain's order */
        size_t n_skipped;
};

/* Reads each hostdev's driver and class below sr (no host snapshot: a VM whose hostdevs are all on
 * vfio-pci costs only these reads). 0, or -errno with *ret_error one line naming the device
 * (-ENOMEM without); *ret holds what was decided before it either way (lend_set_done() it). */
int lend_set_read(const struct sysroot *sr, const struct domain *d, struct lend_set *ret, char **ret_error);
void lend_set_done(struct lend_set *s);
/* "is not on this host's PCI bus", "is a PCI bridge, which stays with the host" */
const char *lend_skip_reason_to_string(enum lend_skip_reason reason);

/* The devices of the lend set to name to plan_attach() (appended to *ret), and *ret_force when
 * one of them is not a GPU. -ENOMEM, or 0; none named: libvirt binds all of them itself. */
int lend_set_names(const struct host *h, const struct domain *d, const struct strv *lend, struct strv *ret,
                   bool *ret_force);
/* The managed='yes' hostdevs, by address (appended to *ret): libvirt binds them to vfio-pci after
 * "prepare" and unbinds them before "release", the hook only frees them from the host. */
int lend_set_caller_binds(const struct domain *d, struct strv *ret);
