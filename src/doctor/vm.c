/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor --vm: what in a libvirt domain will keep its GPU from working, checked against this
 * host. Pure, like the rest of doctor: the host snapshot, the domain and a few memory facts in,
 * findings out. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "doctor/vm.h"

#define MIB (UINT64_C(1) << 20)

static const struct pci_device *host_device(const struct host *h, const struct pci_addr *a)
{
        for (size_t i = 0; i < h->pci->n_devices; i++)
                if (pci_addr_compare(&h->pci->devices[i].addr, a) == 0)
                        return &h->pci->devices[i];
        return NULL;
}

static const struct domain_hostdev *passed(const struct domain *d, const struct pci_device *dev)
{
        for (size_t i = 0; i < d->n_hostdevs; i++)
                if (pci_addr_compare(&d->hostdevs[i].host, &dev->addr) == 0)
                        return &d->hostdevs[i];
        return NULL;
}

/* Every function of the card goes, all with the same managed mode: the hook binds them all
 * (managed='no') or none (managed='yes'), and the guest driver expects the audio function. */
static int check_gpu(const struct domain *d, const struct gpu *g, struct doctor_report *rep)
{
        const struct domain_hostdev *gpu = passed(d, g->dev);
        int r = 0;

        for (size_t i = 0; i < g->n_companions && r >= 0; i++) {
                const struct pci_device *c = g->companions[i];
                const struct domain_hostdev *hd = passed(d, c);

                if (!hd)
                        r = doctor_report_add(rep, "vm-gpu-function-missing", SEVERITY_ERROR, c->address,
                                              "add it: gpu-handoff xml prints every function's <hostdev>",
                                              "%s passes the GPU %s but not its function %s: vfio-pci needs the whole "
                                              "card, and the guest's driver expects it next to the GPU",
                                              d->name, g->dev->address, c->address);
                else if (hd->managed != gpu->managed)
                        r = doctor_report_add(rep, "vm-managed-mixed", SEVERITY_ERROR, c->address,
                                              "give every <hostdev> of the card the same managed attribute",
                                              "%s passes %s with managed='%s' but the GPU %s with managed='%s': the "
                                              "hook binds all of a card's functions itself (no) or none (yes)",
                                              d->name, c->address, hd->managed ? "yes" : "no", g->dev->address,
                                              gpu->managed ? "yes" : "no");
        }
        return r;
}

static int check_hugepages(const struct domain *d, const struct vm_memory *m, struct doctor_report *rep)
{
        uint64_t size = d->hugepage_size ? d->hugepage_size : m->default_hugepage_size;
        uint64_t need, missing;

        if (!d->hugepages || !d->memory_bytes || !size)
                return 0;
        need = (d->memory_bytes + size - 1) / size;
        if (!m->pool_exists)
                return doctor_report_add(rep, "vm-hugepages-unavailable", SEVERITY_ERROR, NULL,
                                         "reserve them at boot: default_hugepagesz=1G hugepagesz=1G hugepages=N",
                                         "%s wants %" PRIu64 " KiB hugepages, and this host has none of that size",
                                         d->name, size >> 10);
        missing = need > m->free_pages ? need - m->free_pages : 0;
        if (missing && missing * size > m->available_bytes)
                return doctor_report_add(rep, "vm-hugepages-short", SEVERITY_WARNING, NULL,
                                         "reserve them at boot (hugepages=N on the kernel command line) or give the "
                                         "VM less memory",
                                         "%s needs %" PRIu64 " hugepages of %" PRIu64 " KiB; %" PRIu64
                                         " are free, and the %" PRIu64 " MiB of memory available cannot make the rest",
                                         d->name, need, size >> 10, m->free_pages, m->available_bytes / MIB);
        return doctor_report_add(rep, "vm-hugepages", SEVERITY_INFO, NULL, NULL,
                                 "%s needs %" PRIu64 " hugepages of %" PRIu64 " KiB: %" PRIu64 " free, %" PRIu64
                                 " to allocate when it starts",
                                 d->name, need, size >> 10, m->free_pages, missing);
}

int doctor_check_vm(const struct host *h, const struct domain *d, const struct vm_memory *m,
                    struct doctor_report *rep)
{
        size_t gpus = 0, first = rep->n_findings;
        bool trouble = false;
        int r = 0;

        if (!d->machine || !strstr(d->machine, "q35"))
                r = doctor_report_add(rep, "vm-machine-not-q35", SEVERITY_WARNING, NULL,
                                      "create the VM with the Q35 chipset (virt-manager: Overview, Chipset Q35)",
                                      "%s uses the machine \"%s\": a GPU is a PCI Express device, and its drivers "
                                      "expect the PCIe topology of q35",
                                      d->name, d->machine ? d->machine : "(default)");
        if (r >= 0 && !d->uefi)
                r = doctor_report_add(rep, "vm-not-uefi", SEVERITY_WARNING, NULL,
                                      "<os firmware='efi'> (virt-manager: Overview, Firmware UEFI) when creating it",
                                      "%s boots with legacy BIOS: current GPUs' option ROMs and Windows 11 want UEFI "
                                      "(OVMF)",
                                      d->name);
        for (size_t i = 0; i < d->n_hostdevs && r >= 0; i++) {
                char a[PCI_ADDR_STRLEN];
                const struct pci_device *dev = host_device(h, &d->hostdevs[i].host);

                if (!dev)
                        r = doctor_report_add(rep, "vm-hostdev-missing", SEVERITY_ERROR,
                                              pci_addr_format(&d->hostdevs[i].host, a),
                                              "fix the address (gpu-handoff list shows this host's devices)",
                                              "%s passes %s, which this host does not have", d->name,
                                              pci_addr_format(&d->hostdevs[i].host, a));
        }
        for (size_t i = 0; i < h->n_gpus && r >= 0; i++)
                if (passed(d, h->gpus[i].dev)) {
                        gpus++;
                        r = check_gpu(d, &h->gpus[i], rep);
                }
        if (r >= 0 && gpus == 0)
                r = doctor_report_add(rep, "vm-no-gpu", SEVERITY_INFO, NULL, "gpu-handoff xml prints the <hostdev> elements",
                                      "%s passes no GPU of this host", d->name);
        if (r >= 0)
                r = check_hugepages(d, m, rep);
        for (size_t i = first; i < rep->n_findings; i++)
                trouble |= rep->findings[i].severity != SEVERITY_INFO;
        if (r >= 0 && !trouble && gpus > 0)
                r = doctor_report_add(rep, "vm-ready", SEVERITY_INFO, NULL, NULL,
                                      "%s is ready for its GPU: %s, UEFI, every function passed", d->name,
                                      d->machine);
        return r;
}
