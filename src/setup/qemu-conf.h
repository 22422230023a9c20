/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* libvirt's /etc/libvirt/qemu.conf, as far as Looking Glass needs it: the devices QEMU's cgroup
 * lets it open (cgroup_device_acl). libvirt uses its built-in list only while the setting is
 * absent; a list written there replaces it, so an entry is always added to the list as it
 * stands - the user's own, or the commented sample as shipped, uncommented - never to an empty
 * one (research-setup.md §5: the edit that drops /dev/null, /dev/kvm...). Pure text edits that
 * touch only the lines they must: undo restores the file byte for byte from its before-image. */

#include <stddef.h>

#define QEMU_CONF_PATH "/etc/libvirt/qemu.conf"

/* libvirt's default list as Debian 12's commented sample has it (libvirt 9.0), used only where
 * qemu.conf has neither a list nor the sample. */
#define QEMU_CONF_DEFAULT_ACL                                                                               \
        "    \"/dev/null\", \"/dev/full\", \"/dev/zero\",\n"                                                 \
        "    \"/dev/random\", \"/dev/urandom\",\n"                                                           \
        "    \"/dev/ptmx\", \"/dev/kvm\""

/* Whether the active cgroup_device_acl lists device: 1 it does, 0 a list without it, -ENOENT no
 * list (libvirt's built-in one, which never has it). text NUL-terminated. */
int qemu_conf_acl_has(const char *text, const char *device);

/* text (NUL-terminated) with device added to cgroup_device_acl: to the active list; else to
 * the commented sample, uncommented as it stands (only its '#' taken away); else to a new list
 * of libvirt's defaults appended at the end. 1 with *ret (malloc'd) when it changed, 0 when the
 * list has it already (*ret NULL), -ENOMEM, or -EINVAL with one line in *ret_error for a list
 * that does not end. */
int qemu_conf_acl_add(const char *text, const char *device, char **ret, char **ret_error);
