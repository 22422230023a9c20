/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* PCI devices as sysfs shows them (/sys/bus/pci/devices). A read-only snapshot: values the
 * kernel did not give us, or gave malformed, are marked unknown rather than guessed. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/parse.h"
#include "basic/strv.h"
#include "basic/sysroot.h"

/* PCI class codes (class >> 8), as in the kernel's pci_ids.h. */
#define PCI_CLASS_BRIDGE_HOST 0x0600
#define PCI_CLASS_BRIDGE_PCI 0x0604
#define PCI_CLASS_BRIDGE_PCI_SEMI 0x0609
#define PCI_CLASS_MULTIMEDIA_HD_AUDIO 0x0403
#define PCI_CLASS_SERIAL_USB 0x0c03
#define PCI_CLASS_SERIAL_UNKNOWN 0x0c80 /* NVIDIA's USB-C UCSI controller */
#define PCI_BASE_CLASS_DISPLAY 0x03
#define PCI_CLASS_DISPLAY_3D 0x0302 /* a GPU without display outputs (MUXless laptops, compute) */

enum tristate { UNKNOWN = -1, NO = 0, YES = 1 };

/* Which attributes could not be read or parsed: shown to the user as "unknown". */
enum pci_problem {
        PCI_PROBLEM_IDS = 1u << 0,      /* vendor/device unreadable or malformed */
        PCI_PROBLEM_CLASS = 1u << 1,
        PCI_PROBLEM_DRIVER = 1u << 2,   /* driver link dangling or unreadable */
        PCI_PROBLEM_GROUP = 1u << 3,    /* iommu_group link unreadable */
        PCI_PROBLEM_CONFIG = 1u << 4,   /* config space missing or truncated */
        PCI_PROBLEM_LINK = 1u << 5,     /* the device link itself is broken */
};

/* Identity, class, driver, group and parent are read for every device; the rest (marked "detail")
 * only for GPUs and the other functions of their slots, or on demand with
 * pci_device_read_details(). No read may take the device lock: an unbind holds it for as long as
 * it is blocked (vfio-pci's waits until the VM lets the device go), and a read-only verb must
 * not hang in D state. driver_override is therefore never read (its show takes the lock), and no
 * driver check could tell when to skip it: the kernel removes the driver link before it calls
 * the driver's remove, so a device stuck there looks driverless. */
struct pci_device {
        struct pci_addr addr;
        char address[PCI_ADDR_STRLEN]; /* canonical "0000:01:00.0" */
        uint16_t vendor, device;        /* valid unless PCI_PROBLEM_IDS */
        uint16_t subsys_vendor, subsys_device; /* detail */
        uint32_t class;                 /* 24-bit class code, valid unless PCI_PROBLEM_CLASS */
        int revision;                   /* detail; -1 unknown */
        char *driver;                   /* bound driver's name, NULL when none */
        enum tristate boot_vga;         /* detail; UNKNOWN when the kernel offers no boot_vga */
        char *reset_method;             /* detail; "flr bus", NULL when absent (old kernel or none) */
        char *power_state;              /* detail; "D0", NULL when absent */
        int iommu_group;                /* -1 when none */
        enum tristate flr;              /* detail; PCIe Function Level Reset capability (config space) */
        enum tristate multifunction;    /* detail; header type bit 7 */
        struct pci_device *parent;      /* upstream bridge; NULL on a root bus */
        bool details;                   /* the detail fields have been read */
        bool is_virtfn;                 /* detail; an SR-IOV virtual function */
        struct pci_addr physfn_addr;
        struct pci_device *physfn;      /* its physical function, when present */
        char *syspath;                  /* "sys/devices/pci0000:00/0000:00:01.0/0000:01:00.0" */
        unsigned problems;              /* enum pci_problem */
};

struct pci_list {
        struct pci_device *devices; /* sorted by address */
        size_t n_devices;
        struct strv strays; /* entries of sys/bus/pci/devices that are not a name the kernel gives a device */
};

/* Scans sys/bus/pci/devices. A missing directory is an empty list (no PCI bus); devices
 * whose attributes are malformed are kept and marked (problems), never dropped silently. */
int pci_scan(const struct sysroot *sr, struct pci_list **ret);
void pci_list_free(struct pci_list *l);

struct pci_device *pci_list_find(const struct pci_list *l, const struct pci_addr *a);
/* Reads the detail fields of one device (once); -ENODEV when it has gone. */
int pci_device_read_details(const struct sysroot *sr, struct pci_device *d);

static inline unsigned pci_base_class(const struct pci_device *d)
{
        return d->class >> 16;
}
static inline unsigned pci_sub_class(const struct pci_device *d)
{
        return d->class >> 8;
}
bool pci_device_is_bridge(const struct pci_device *d);
bool pci_device_is_gpu(const struct pci_device *d);
