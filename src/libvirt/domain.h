/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A libvirt domain as the hook and doctor --vm need it, read from the domain XML libvirt passes
 * on the hook's stdin (or a file). The XML comes from whoever can define domains: it is parsed
 * with libxml2 without network access, entity expansion, DTD loading or "huge" mode, and refused
 * above DOMAIN_XML_MAX bytes, with a DOCTYPE, or when it is not UTF-8. Only what is read below
 * is looked at; metadata and elements of other namespaces are ignored.
 *
 * Library code: never prints, never exits. 0 or -errno; *ret_error gets one malloc'd line
 * ("domain XML: ...") where there is more to say. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "basic/parse.h"

#define DOMAIN_XML_MAX (1024u * 1024u)

struct domain_hostdev {
        struct pci_addr host;   /* <source><address domain bus slot function/> */
        bool managed;           /* managed='yes'; absent is 'no', as in libvirt */
        bool has_guest_address; /* an <address type='pci'> for the guest side */
        struct pci_addr guest;
        bool multifunction;     /* multifunction='on' on the guest address */
        char *rom_file;         /* <rom file=.../>, or NULL */
        bool rom_bar_off;       /* <rom bar='off'/> */
};

struct domain {
        char *name;             /* <name> (required) */
        char *uuid;             /* <uuid>, or NULL */
        uint64_t memory_bytes;  /* <memory unit=...> (libvirt's default unit: KiB); 0 when absent */
        bool hugepages;         /* <memoryBacking><hugepages> present */
        uint64_t hugepage_size; /* its <page size unit> in bytes, 0 for the host's default size */
        int hugepage_node;      /* its <page nodeset>, when one single node; -1 otherwise */
        char *machine;          /* <os><type machine=...> ("pc-q35-8.2"), or NULL */
        char *arch;             /* <os><type arch=...>, or NULL */
        bool uefi;              /* <os firmware='efi'>, or a <loader> of type pflash */
        char *vcpu_cpus;        /* union of <cputune><vcpupin cpuset> as a canonical cpulist, or NULL */
        char *emulator_cpus;    /* <emulatorpin cpuset>, canonical, or NULL */
        char *iothread_cpus;    /* union of <iothreadpin cpuset>, canonical, or NULL */
        struct domain_hostdev *hostdevs; /* PCI hostdevs only (mode='subsystem' type='pci') */
        size_t n_hostdevs;
        uint64_t shmem_bytes;   /* <shmem name='looking-glass'> <size>, 0 when absent */
        /* Looking Glass over kvmfr: a memory-backend-file on /dev/kvmfrN in <qemu:commandline>
         * (JSON or legacy syntax), the one namespaced element read */
        bool kvmfr;
        char kvmfr_path[32];    /* "/dev/kvmfr0" */
        uint64_t kvmfr_bytes;   /* its size=, 0 when none could be read */
        bool memballoon_none;   /* <memballoon model='none'/>; libvirt adds a balloon otherwise */
        bool kvm_hidden;        /* <features><kvm><hidden state='on'/> */
        bool hyperv_vendor_id;  /* <features><hyperv><vendor_id state='on'/> */
};

/* Parses len bytes of domain XML. -EINVAL (malformed, hostile, missing <name>, a bad value),
 * -EFBIG (larger than DOMAIN_XML_MAX). */
int domain_parse(const char *xml, size_t len, struct domain **ret, char **ret_error);
void domain_free(struct domain *d);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct domain *, domain_free)
