/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

#include "basic/macro.h"

/* Human names for PCI IDs and classes from the pci.ids database, through libpci, the way
 * lspci shows them. An ID the database does not know still gets a name ("Device 2b85"). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_names;

/* path NULL: $GPU_HANDOFF_PCI_IDS, else the configured default, which libpci completes from udev's
 * hwdb as lspci does; a named file is used alone. Never fails for a missing or unreadable
 * database: every lookup then falls back to the numeric form. */
int pci_names_new(const char *path, struct pci_names **ret);
void pci_names_free(struct pci_names *n);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct pci_names *, pci_names_free)

/* "NVIDIA Corporation GA102 [GeForce RTX 3090]", with_ids: "... [10de:2204]" (as lspci -nn) */
const char *pci_names_device(struct pci_names *n, char *buf, size_t size, uint16_t vendor, uint16_t device,
                             bool with_ids);
/* "VGA compatible controller", with_ids: "VGA compatible controller [0300]" */
const char *pci_names_class(struct pci_names *n, char *buf, size_t size, uint32_t class, bool with_ids);
