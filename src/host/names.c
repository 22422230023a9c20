/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <pci/pci.h>
#include <setjmp.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "basic/macro.h"
#include "host/names.h"

struct pci_names {
        struct pci_access *pacc;
        sigjmp_buf on_error;
        bool failed; /* after a libpci error the database is unusable: numbers only */
};

/* libpci's default error handler ends the whole process. Ours must not return either (libpci marks it
 * noreturn), so it jumps back into the lookup that called libpci. Only one lookup runs at a
 * time (single-threaded), hence the static pointer. */
static struct pci_names *current;

_printf_(1, 2) __attribute__((noreturn)) static void on_pci_error(char *msg, ...)
{
        current->failed = true;
        siglongjmp(current->on_error, 1);
}

_printf_(1, 2) static void on_pci_warning(char *msg, ...)
{
}

int pci_names_new(const char *path, struct pci_names **ret)
{
        struct pci_names *n = calloc(1, sizeof(*n));
        const char *env = getenv("GPU_HANDOFF_PCI_IDS");

        if (!n)
                return -ENOMEM;
        n->pacc = pci_alloc();
        if (!n->pacc) {
                free(n);
                return -ENOMEM;
        }
        n->pacc->error = on_pci_error;
        n->pacc->warning = on_pci_warning;
        n->pacc->debug = on_pci_warning;
        if (!path && env && *env)
                path = env;
        if (path) {
                /* A database named by the user is the only source: without this, libpci asks
                 * udev's hwdb for IDs the file lacks, and names depend on the machine. */
                pci_set_param(n->pacc, (char *)"hwdb.disable", (char *)"1"); /* libpci takes char * */
                pci_set_name_list_path(n->pacc, (char *)path, 0);
        } else
                pci_set_name_list_path(n->pacc, (char *)PCI_IDS_PATH, 0);
        *ret = n;
        return 0;
}

void pci_names_free(struct pci_names *n)
{
        if (!n)
                return;
        /* pci_cleanup() runs the error handler on a double free only; it cannot fail here. */
        pci_cleanup(n->pacc);
        free(n);
}

/* Runs one libpci lookup; NULL when the database does not know the ID or libpci failed. */
static const char *lookup(struct pci_names *n, char *buf, size_t size, int flags, unsigned a, unsigned b)
{
        const char *volatile s = NULL; /* survives the longjmp */

        if (!n || n->failed)
                return NULL;
        current = n;
        if (sigsetjmp(n->on_error, 0) == 0)
                s = pci_lookup_name(n->pacc, buf, (int)size, flags, a, b);
        current = NULL;
        return s;
}

const char *pci_names_device(struct pci_names *n, char *buf, size_t size, uint16_t vendor, uint16_t device,
                             bool with_ids)
{
        const char *s = lookup(n, buf, size, PCI_LOOKUP_VENDOR | PCI_LOOKUP_DEVICE | (with_ids ? PCI_LOOKUP_MIXED : 0),
                               vendor, device);

        if (s)
                return s;
        if (with_ids)
                snprintf(buf, size, "Device [%04x:%04x]", vendor, device);
        else
                snprintf(buf, size, "Device %04x:%04x", vendor, device);
        return buf;
}

const char *pci_names_class(struct pci_names *n, char *buf, size_t size, uint32_t class, bool with_ids)
{
        const char *s = lookup(n, buf, size, PCI_LOOKUP_CLASS | (with_ids ? PCI_LOOKUP_MIXED : PCI_LOOKUP_NO_NUMBERS),
                               class >> 8, 0);

        if (s)
                return s;
        if (with_ids)
                snprintf(buf, size, "Class [%04x]", class >> 8);
        else
                snprintf(buf, size, "Class %04x", class >> 8);
        return buf;
}
