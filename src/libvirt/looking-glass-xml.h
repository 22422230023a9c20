/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What "gpu-handoff xml --looking-glass" prints (research-setup.md §5): the <qemu:commandline>
 * block that gives the guest kvmfr's /dev/kvmfr0 as an ivshmem-plain device, with the xmlns:qemu
 * namespace libvirt needs in the same edit, or the <shmem> element of the /dev/shm method for
 * hosts without kvmfr. Which syntax QEMU takes depends on its version and libvirt's: the JSON
 * -device/-object syntax from QEMU 6.2 with libvirt 7.9 (the legacy one can abort QEMU there:
 * "slot 1 function 0 not available for pcie-root-port, in use by ivshmem-plain"), the legacy one
 * before. Formatting is pure; the version lookup reads below the root. */

#include <stdint.h>

#include "basic/sysroot.h"

#define LG_QEMU_NAMESPACE "http://libvirt.org/schemas/domain/qemu/1.0"

enum lg_xml_syntax {
        LG_XML_JSON,   /* qemu:commandline, JSON -device/-object (QEMU >= 6.2, libvirt >= 7.9) */
        LG_XML_LEGACY, /* qemu:commandline, key=value -device/-object */
        LG_XML_SHM,    /* <shmem> on /dev/shm/looking-glass, no kvmfr */
};

/* "json", "legacy", "shm" and back; -EINVAL for anything else. */
int lg_xml_syntax_from_string(const char *s);
const char *lg_xml_syntax_to_string(enum lg_xml_syntax s);

/* A version as major * 1000000 + minor * 1000 + micro (libvirt's and QEMU's own encoding); 0 unknown. */
struct lg_versions {
        unsigned long qemu;
        unsigned long libvirt;
};

/* QEMU's version from libvirt's capability cache (var/cache/libvirt/qemu/capabilities/ *.xml,
 * <version>), else from dpkg's status (qemu-system-x86); libvirt's from its library's name. */
void lg_versions_find(const struct sysroot *sr, struct lg_versions *ret);
/* The syntax those versions take: JSON unless one of them is known to be older. */
enum lg_xml_syntax lg_xml_syntax_for(const struct lg_versions *v);

/* The text for size_mib MiB (a power of two): comments that say where it goes and why, the
 * <domain> opening tag with the namespace (kvmfr), then the block. -ENOMEM. */
int lg_xml_format(enum lg_xml_syntax s, uint32_t size_mib, const struct lg_versions *v, char **ret);
