/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Kernel modules: whether one is loaded, built in, or can be loaded. The loaded state comes
 * from /sys/module (below the sysroot); what can be loaded comes from the module index of the
 * running kernel through libkmod. */

#include "basic/parse.h"
#include "basic/strv.h" /* strv_free() for the lists below */
#include "basic/sysroot.h"

enum module_state {
        MODULE_MISSING,   /* neither loaded, built in, nor in the module index */
        MODULE_AVAILABLE, /* can be loaded */
        MODULE_LOADED,
        MODULE_BUILTIN,
};

struct module_index;

/* Opens lib/modules/<release> below the root; a missing index is not an error (every lookup
 * then answers from /sys/module alone). */
int module_index_open(const struct sysroot *sr, const char *kernel_release, struct module_index **ret);
void module_index_free(struct module_index *mi);

/* name in either spelling ("vfio-pci" or "vfio_pci"). */
enum module_state module_state_get(const struct sysroot *sr, const struct module_index *mi, const char *name);
const char *module_state_to_string(enum module_state s);

/* How modules relate to drivers and to each other, from /sys/module. Names use underscores. */

/* The module that registers PCI driver "driver"; -ENOENT when the driver is built in. */
int module_of_driver(const struct sysroot *sr, const char *driver, char **ret);
/* The modules that use this one (sys/module/M/holders), e.g. nvidia_modeset for nvidia. */
int module_holders(const struct sysroot *sr, const char *module, char ***ret, size_t *ret_n);
/* PCI devices bound to any PCI driver of the module (sys/module/M/drivers/pci:NAME/ADDR). */
int module_bound_devices(const struct sysroot *sr, const char *module, struct pci_addr **ret, size_t *ret_n);

/* The modules loading name brings in (its dependencies, recursively, and its soft dependencies),
 * from the module index, name itself first; those already loaded or built in are left out. */
int module_load_set(const struct sysroot *sr, const struct module_index *mi, const char *name, char ***ret,
                    size_t *ret_n);

/* The parameters module name declares, from its modinfo through the index ("parmtype" and
 * "parm" entries; built-in modules' from modules.builtin.modinfo): every module_param, also
 * those sysfs does not show (vfio_pci's ids has permission 0, so /sys/module/vfio_pci/parameters
 * never lists it, and that directory cannot tell a parameter missing). Names with underscores,
 * sorted, NULL-terminated. 1 with *ret when known; 0 when not (no index, no such module, no
 * modinfo): then nothing can be said. -ENOMEM. */
int module_parameters(const struct module_index *mi, const char *name, char ***ret);
