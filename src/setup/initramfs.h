/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the initramfs backends (initramfs-NAME.c, declared in setup/backend.h) share: when the
 * generator must run, the proof that an image carries vfio-pci and our binding, where a kernel's
 * image is. Internal to setup/. */

#include <stdbool.h>

#include "setup/backend.h"

/* How a list of the image names what it must hold: the module's file (vfio-pci.ko, .ko.xz,
 * .ko.zst: the kernel builds it as drivers/vfio/pci/vfio-pci.ko) and our modprobe.d file. */
#define INITRAMFS_VFIO_TOKEN "vfio-pci.ko"
#define INITRAMFS_CONF_TOKEN "etc/modprobe.d/gpu-handoff.conf"

/* The generator runs when one of its inputs changes: its own file (changed > 0) or our
 * modprobe.d file, which the plan then holds among its files. */
bool initramfs_inputs_changed(struct setup_plan *p, int changed);

/* Adds the check that the output of ls (an argv, NULL-terminated) followed by image lists every
 * token. */
int initramfs_check_image(struct setup_plan *p, const char *generator, const char *const *ls, const char *image,
                          const char *const *tokens, char **ret_error);

/* Whether path (absolute, inside the root) is a regular file there. */
bool initramfs_image_exists(const struct sysroot *sr, const char *path);
