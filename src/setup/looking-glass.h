/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* `setup --looking-glass`: what Looking Glass needs on the host beside the VM's XML
 * (research-setup.md §5), as files of the setup plan, journaled and undone with the rest:
 *
 *   LG_MODPROBE_PATH      options kvmfr static_size_mb=N (our own file)
 *   LG_MODULES_LOAD_PATH  kvmfr, loaded at every boot (our own file)
 *   LG_UDEV_RULES_PATH    /dev/kvmfr0 to the kvm group and the seat's user; its number sorts
 *                         before 73-seat-late.rules, or uaccess never applies
 *   qemu.conf             /dev/kvmfr0 in cgroup_device_acl, libvirt's defaults kept
 *                         (setup/qemu-conf.h)
 *   LG_APPARMOR_PATH      /dev/kvmfr0 rw, on AppArmor hosts (the local include of the
 *                         libvirt-qemu abstraction every VM's profile has)
 *
 * kvmfr itself is out of tree (Looking Glass's DKMS package): setup says whether it is there
 * for the running kernel and never installs it. Pure like the backends: reads below the root,
 * plans, never writes. */

#include <stdbool.h>
#include <stdint.h>

#include "basic/sysroot.h"
#include "setup/looking-glass-size.h"
#include "setup/plan.h"

#define LG_MODPROBE_PATH "/etc/modprobe.d/gpu-handoff-kvmfr.conf"
#define LG_MODULES_LOAD_PATH "/etc/modules-load.d/gpu-handoff-kvmfr.conf"
#define LG_UDEV_RULES_PATH "/etc/udev/rules.d/70-kvmfr.rules"
#define LG_APPARMOR_PATH "/etc/apparmor.d/local/abstractions/libvirt-qemu"
#define LG_DEVICE "/dev/kvmfr0"
#define LG_APPARMOR_RULE LG_DEVICE " rw,"
#define LG_UDEV_RULE "SUBSYSTEM==\"kvmfr\", GROUP=\"kvm\", MODE=\"0660\", TAG+=\"uaccess\""
/* Without anything better: Looking Glass's own example size (1440p on either formula). */
#define LG_DEFAULT_MIB 64u

struct lg_request {
        struct lg_mode mode;
        enum lg_version version;
};

/* Adds the files above to p (those already as wanted: nothing), and notes: the size and, where
 * the formulas differ, the other one; libvirtd's restart; whether kvmfr.ko is installed for the
 * running kernel. 0, or -errno with one line (a file that cannot be read, a qemu.conf list that
 * does not end). */
int looking_glass_plan(const struct sysroot *sr, const struct lg_request *req, struct setup_plan *p,
                       char **ret_error);

/* What our modprobe.d file asks for: the size in MiB (0 when there is no file or no size) and the
 * mode and version setup was given (mode zero when unknown). */
struct lg_setup_state {
        uint32_t size_mib;
        struct lg_mode mode;
        enum lg_version version;
};
void looking_glass_state_read(const struct sysroot *sr, struct lg_setup_state *ret);

/* What /dev/kvmfrN (path, absolute) is below the root: kvmfr's character device, nothing (kvmfr
 * not loaded), or a plain file QEMU created when a VM started before kvmfr was loaded. */
enum lg_device_state {
        LG_DEVICE_MISSING,
        LG_DEVICE_CHAR,
        LG_DEVICE_FILE,
};
enum lg_device_state looking_glass_device_state(const struct sysroot *sr, const char *path);
const char *lg_device_state_to_string(enum lg_device_state s);

/* Whether the root is an AppArmor host: /etc/apparmor.d, or the module enabled. */
bool looking_glass_apparmor_host(const struct sysroot *sr);

/* Whether kvmfr.ko is installed for the kernel release (DKMS's updates/dkms, extra/, or any path
 * in modules.dep): 1, 0 not, -ENOENT when the release is unknown (NULL). */
int looking_glass_kvmfr_installed(const struct sysroot *sr, const char *release);
