/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Who holds a GPU's device nodes open: the culprit behind "module nvidia_drm is in use" and
 * EBUSY ("error -16"), named by pid, command and systemd unit. */

#include <stddef.h>

#include "basic/proc.h"
#include "basic/sysroot.h"
#include "host/pci.h"

/* The /dev nodes of one PCI function, as paths relative to the root ("dev/dri/card0"), sorted
 * and without duplicates; *ret_paths is also NULL-terminated. From sysfs:
 *   sys/bus/pci/devices/ADDR/drm/{cardN,renderDN}                 -> dev/dri/NAME
 *   sys/bus/pci/devices/ADDR/sound/cardN/{controlC*,pcmC*,hwC*}   -> dev/snd/NAME
 * and, when the driver is "nvidia", dev/nvidiaN with N the "Device Minor" of
 * proc/driver/nvidia/gpus/ADDR/information (left out when that is missing or malformed), plus
 * dev/nvidiactl, dev/nvidia-modeset, dev/nvidia-uvm and dev/nvidia-uvm-tools. Those four are
 * shared by ALL NVIDIA GPUs of the host: a process holding them may be using another card,
 * but the nvidia modules cannot be unloaded while it does. A function without nodes gives an
 * empty list (0). */
int device_nodes_of(const struct sysroot *sr, const struct pci_device *d, char ***ret_paths, size_t *ret_n);
/* Frees a NULL-terminated list of strings. */
void device_nodes_free(char **paths);

struct holder {
        struct process_id id;
        char comm[64];
        char *unit; /* its systemd unit (process_unit()), NULL when unknown */
        char *node; /* the node it holds, as given to holders_scan() ("dev/dri/card0") */
};

/* Scans proc/PID/fd below the root for links to any of nodes (relative paths, as from
 * device_nodes_of(); procfs shows them as "/dev/dri/card0"). One entry per (process, node),
 * sorted by pid, then in the order of nodes. Processes that exit during the scan are skipped:
 * a process counts only if its identity (pid and start time) is the same before and after its
 * fds were read, so a recycled pid is never reported. Processes whose fds may not be read
 * (EACCES, EPERM: another user's, without privileges) or whose stat does not parse are counted
 * in *ret_n_unreadable (may be NULL) so the caller can say the list is incomplete. Threads share their process's fd
 * table and are not scanned separately. A root without proc/ gives -ENOENT. */
int holders_scan(const struct sysroot *sr, char *const *nodes, size_t n_nodes, struct holder **ret,
                 size_t *ret_n, size_t *ret_n_unreadable);
void holders_free(struct holder *h, size_t n);

/* "pid 2211 kwin_wayland (plasma-kwin_wayland.service) holds /dev/dri/card0"; without the
 * parenthesis when the unit is unknown. Control characters in the command (any process can
 * name itself) are shown as '?'. malloc'd; NULL when out of memory. */
char *holder_describe(const struct holder *h);
