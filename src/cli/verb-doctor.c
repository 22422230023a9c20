/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff doctor: the host facts, every GPU, and the findings with their fixes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "basic/quote.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/verbs.h"
#include "doctor/doctor.h"
#include "doctor/hook.h"
#include "doctor/resets.h"
#include "doctor/setup-state.h"
#include "doctor/looking-glass.h"
#include "doctor/vm.h"
#include "host/host.h"
#include "libvirt/domain.h"
#include "libvirt/hook-install.h"


static const char *tristate_word(enum tristate t)
{
        return t == YES ? "yes" : t == NO ? "no" : "unknown";
}

/* The kernel's longest command line (COMMAND_LINE_SIZE on arm64, riscv; x86 has 2048). */
#define CMDLINE_SHOWN 4096

/* Text from the machine (sysfs names, /proc) or a document, escaped and cut for the terminal. */
static void print_quoted(const char *s, size_t max)
{
        _cleanup_free_ char *q = quote_dup(s, max);
        fputs(q ? q : "?", stdout);
}

static void print_host(const struct host *h, const struct doctor_report *rep)
{
        printf("Host\n");
        if (h->have_cpu)
                printf("  %-12s %s (%s), %s: %s, /dev/kvm: %s\n", "CPU", h->cpu.model[0] ? h->cpu.model : "unknown model",
                       cpu_vendor_to_string(h->cpu.vendor), cpu_virtualization_name(h->cpu.vendor),
                       tristate_word(h->cpu.virtualization), h->kvm_device ? "yes" : "no");
        else
                printf("  %-12s unknown (/proc/cpuinfo unreadable)\n", "CPU");
        printf("  %-12s %s; firmware: %s; %zu unit%s, %zu group%s; interrupt remapping: %s\n", "IOMMU",
               h->iommu.enabled ? "enabled" : "not enabled", iommu_firmware_to_string(h->iommu.firmware),
               h->iommu.n_units, h->iommu.n_units == 1 ? "" : "s", h->groups->n_groups,
               h->groups->n_groups == 1 ? "" : "s", tristate_word(h->iommu.irq_remapping));
        printf("  %-12s ", "Kernel");
        print_quoted(h->kernel_release ? h->kernel_release : "unknown", QUOTE_MAX);
        printf("\n  %-12s ", "Command line");
        print_quoted(h->cmdline ? h->cmdline : "unknown", CMDLINE_SHOWN);
        printf("\n");
        printf("  %-12s", "Modules");
        for (int m = 0; m < _HOST_MODULE_MAX; m++)
                printf("%s %s %s", m ? "," : "", host_module_name(m), module_state_to_string(h->modules[m]));
        printf("\n  %-12s %s\n", "Layout", gpu_layout_to_string(rep->layout));
}

static void print_gpu(const struct gpu *g, struct pci_names *names)
{
        const struct pci_device *d = g->dev;
        char name[256], q[QUOTE_BUF_SIZE(sizeof(name))], why[128];

        printf("  %s  %s", d->address,
               d->problems & PCI_PROBLEM_IDS
                       ? "unknown device"
                       : quote_n(pci_names_device(names, name, sizeof(name), d->vendor, d->device, true), SIZE_MAX,
                                 sizeof(name), q));
        printf("\n      %s%s", gpu_kind_to_string(g->kind), d->boot_vga == YES ? ", boot VGA" : "");
        /* What makes it the host's display, when more than the firmware's choice says so. */
        if (gpu_drives_display(g) && !(g->display & DISPLAY_BOOT_VGA))
                printf(", the host's display (%s)", gpu_display_reason(g, why, sizeof(why)));
        printf("; driver %s; ", d->driver ? quote_n(d->driver, SIZE_MAX, sizeof(name), q) : "none");
        if (g->group)
                printf("IOMMU group %d (%s)", g->group->number, group_isolation_to_string(g->isolation));
        else
                printf("no IOMMU group");
        printf("; reset: %s\n",
               d->reset_method && *d->reset_method ? quote_n(d->reset_method, SIZE_MAX, sizeof(name), q)
               : d->flr == YES                      ? "flr"
                                                    : "none known");
        for (size_t i = 0; i < g->n_companions; i++) {
                const struct pci_device *c = g->companions[i];
                printf("      %s %s %s (%s)\n", i ? "          " : "companions", c->address,
                       pci_names_class(names, name, sizeof(name), c->class, false),
                       c->driver ? quote_n(c->driver, SIZE_MAX, sizeof(name), q) : "no driver");
        }
        for (size_t i = 0; i < g->n_quirks; i++)
                printf("      %s %s: %s\n", i ? "      " : "quirks", g->quirks[i]->id, g->quirks[i]->name);
}

static void print_human(const struct host *h, const struct doctor_report *rep, struct pci_names *names)
{
        size_t errors = 0, warnings = 0;

        print_host(h, rep);
        printf("\nGPUs\n");
        if (h->n_gpus == 0)
                printf("  none\n");
        for (size_t i = 0; i < h->n_gpus; i++)
                print_gpu(&h->gpus[i], names);
        printf("\nFindings\n");
        if (rep->n_findings == 0)
                printf("  none\n");
        for (size_t i = 0; i < rep->n_findings; i++) {
                const struct finding *f = &rep->findings[i];
                errors += f->severity == SEVERITY_ERROR;
                warnings += f->severity == SEVERITY_WARNING;
                /* Messages hold names from the machine (drivers) and the domain XML. */
                printf("  %-7s %s: ", severity_to_string(f->severity), f->id);
                print_quoted(f->message, SIZE_MAX);
                if (f->fix) {
                        printf("\n  %-7s fix: ", "");
                        print_quoted(f->fix, SIZE_MAX);
                }
                printf("\n");
        }
        printf("\n");
        if (rep->ready)
                printf("Ready: a GPU can be passed through (%zu warning%s).\n", warnings, warnings == 1 ? "" : "s");
        else
                printf("Not ready: %zu error%s, %zu warning%s; fix the errors above.\n", errors, errors == 1 ? "" : "s",
                       warnings, warnings == 1 ? "" : "s");
}

static json_object *json_gpu(const struct gpu *g, struct pci_names *names)
{
        const struct pci_device *d = g->dev;
        json_object *o = json_pci_device(d, names), *quirks = json_object_new_array();
        char why[128];

        if (!o || !quirks) {
                json_object_put(o);
                json_object_put(quirks);
                return NULL;
        }
        json_object_object_add(o, "kind", json_object_new_string(gpu_kind_to_string(g->kind)));
        json_object_object_add(o, "boot_vga", json_object_new_boolean(d->boot_vga == YES));
        /* Which card a script must not lend without consent, and why (host/display.h). */
        json_object_object_add(o, "display", json_object_new_boolean(gpu_drives_display(g)));
        json_object_object_add(o, "display_reason",
                               gpu_drives_display(g) ? json_object_new_string(gpu_display_reason(g, why, sizeof(why)))
                                                     : NULL);
        json_object_object_add(o, "group", g->group ? json_object_new_int(g->group->number) : NULL);
        json_object_object_add(o, "group_isolation", json_object_new_string(group_isolation_to_string(g->isolation)));
        json_object_object_add(o, "companions", json_address_array(g->companions, g->n_companions));
        json_object_object_add(o, "foreign", json_address_array(g->foreign, g->n_foreign));
        json_object_object_add(o, "reset_method", json_string_or_null(d->reset_method));
        json_object_object_add(o, "flr", d->flr == UNKNOWN ? NULL : json_object_new_boolean(d->flr == YES));
        for (size_t i = 0; i < g->n_quirks; i++) {
                json_object *q = json_object_new_object();
                if (!q)
                        continue;
                json_object_object_add(q, "id", json_object_new_string(g->quirks[i]->id));
                json_object_object_add(q, "summary", json_object_new_string(g->quirks[i]->summary));
                json_object_object_add(q, "severity", json_object_new_string(quirk_severity_to_string(g->quirks[i]->severity)));
                json_object_array_add(quirks, q);
        }
        json_object_object_add(o, "quirks", quirks);
        return o;
}

static int print_json(const struct host *h, const struct doctor_report *rep, struct pci_names *names)
{
        _cleanup_json_ json_object *doc = json_new_document();
        json_object *gpus = json_object_new_array(), *findings = json_object_new_array();
        json_object *modules = json_object_new_object();

        if (!doc || !gpus || !findings || !modules) {
                json_object_put(gpus);
                json_object_put(findings);
                json_object_put(modules);
                return -ENOMEM;
        }
        json_object_object_add(doc, "ready", json_object_new_boolean(rep->ready));
        json_object_object_add(doc, "virtualization", json_object_new_boolean(rep->virtualization));
        json_object_object_add(doc, "iommu_enabled", json_object_new_boolean(rep->iommu_enabled));
        json_object_object_add(doc, "layout", json_object_new_string(gpu_layout_to_string(rep->layout)));
        json_object_object_add(doc, "cpu_vendor", json_object_new_string(cpu_vendor_to_string(h->cpu.vendor)));
        json_object_object_add(doc, "kvm", json_object_new_boolean(h->kvm_device));
        json_object_object_add(doc, "iommu_firmware",
                               h->iommu.firmware == IOMMU_FIRMWARE_DMAR   ? json_object_new_string("dmar")
                               : h->iommu.firmware == IOMMU_FIRMWARE_IVRS ? json_object_new_string("ivrs")
                                                                           : NULL);
        json_object_object_add(doc, "interrupt_remapping",
                               h->iommu.irq_remapping == UNKNOWN ? NULL
                                                                  : json_object_new_boolean(h->iommu.irq_remapping == YES));
        json_object_object_add(doc, "kernel", json_string_or_null(h->kernel_release));
        for (int m = 0; m < _HOST_MODULE_MAX; m++)
                json_object_object_add(modules, host_module_name(m),
                                       json_object_new_string(module_state_to_string(h->modules[m])));
        json_object_object_add(doc, "modules", modules);
        json_object_object_add(doc, "gpus", gpus);
        for (size_t i = 0; i < h->n_gpus; i++)
                json_object_array_add(gpus, json_gpu(&h->gpus[i], names));
        json_object_object_add(doc, "findings", findings);
        for (size_t i = 0; i < rep->n_findings; i++) {
                const struct finding *f = &rep->findings[i];
                json_object *o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "id", json_object_new_string(f->id));
                json_object_object_add(o, "severity", json_object_new_string(severity_to_string(f->severity)));
                json_object_object_add(o, "subject", json_string_or_null(f->subject));
                json_object_object_add(o, "message", json_object_new_string(f->message));
                json_object_object_add(o, "fix", json_string_or_null(f->fix));
                json_object_array_add(findings, o);
        }
        return json_print(doc);
}

/* --vm: a file (a path, or a name ending in .xml), else the name of a domain libvirt keeps in
 * /etc/libvirt/qemu/NAME.xml (read directly: doctor never asks libvirt). */
static int read_domain(const struct cli *cli, struct domain **ret)
{
        _cleanup_free_ char *xml = NULL, *path = NULL, *error = NULL;
        size_t len = 0, n = strlen(cli->vm);
        bool file = strchr(cli->vm, '/') || (n > 4 && strcmp(cli->vm + n - 4, ".xml") == 0);
        int r;

        if (file) {
                _cleanup_close_ int fd = open(cli->vm, O_RDONLY | O_CLOEXEC | O_NOCTTY);
                r = fd < 0 ? negative_errno() : read_fd_full(fd, DOMAIN_XML_MAX, &xml, &len);
        } else {
                if (!*cli->vm || asprintf(&path, "etc/libvirt/qemu/%s.xml", cli->vm) < 0)
                        return cli_error("--vm \"%s\": expected a domain name or a domain XML file", cli->vm);
                r = sysroot_read_file(cli->sr, path, DOMAIN_XML_MAX, &xml, &len);
        }
        if (r < 0)
                return cli_error("--vm %s: cannot read %s%s: %s", cli->vm, file ? "" : "/", file ? cli->vm : path,
                                 r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        r = domain_parse(xml, len, ret, &error);
        if (r < 0)
                return cli_error("--vm %s: %s", cli->vm, error ? error : strerror(-r));
        return EXIT_OK;
}

/* The memory facts of the hugepage check, for the page size the domain wants. */
static void read_memory(const struct host *h, const struct domain *d, struct vm_memory *m)
{
        uint64_t size = d->hugepage_size ? d->hugepage_size : h->memory.default_hugepage_size;
        const struct hugepage_pool *pool = hugepage_pool_find(&h->memory, size, -1);

        *m = (struct vm_memory){
                .default_hugepage_size = h->memory.default_hugepage_size,
                .available_bytes = h->memory.available_bytes,
                .pool_exists = pool && pool->have_free,
                .free_pages = pool && pool->have_free ? hugepage_pool_available(pool) : 0,
        };
}

static bool any_error(const struct doctor_report *rep, const char *prefix)
{
        for (size_t i = 0; i < rep->n_findings; i++)
                if (rep->findings[i].severity == SEVERITY_ERROR && strncmp(rep->findings[i].id, prefix, strlen(prefix)) == 0)
                        return true;
        return false;
}

static int verb_doctor(struct cli *cli, int argc, char **argv)
{
        _cleanup_(host_freep) struct host *h = NULL;
        _cleanup_(pci_names_freep) struct pci_names *names = NULL;
        _cleanup_(quirk_db_freep) struct quirk_db *quirks = NULL;
        _cleanup_(doctor_report_freep) struct doctor_report *rep = NULL;
        int r;

        if (cli_load_quirks(cli, &quirks) < 0)
                return EXIT_ERROR;
        r = host_read(cli->sr, quirks, HOST_PLATFORM, &h);
        if (r < 0)
                return cli_error("cannot read the host below %s: %s", cli->root, strerror(-r));
        r = pci_names_new(cli->pci_ids, &names);
        if (r < 0)
                return cli_error("cannot set up device names: %s", strerror(-r));
        r = doctor_run(h, names, &rep);
        if (r < 0)
                return cli_error("cannot check the host: %s", strerror(-r));
        if (!quirks && doctor_quirks_missing(rep, cli_quirks_path(cli)) < 0)
                return cli_error("out of memory");
        if (cli->vm) {
                _cleanup_(domain_freep) struct domain *d = NULL;
                struct vm_memory m;

                if (read_domain(cli, &d) != EXIT_OK)
                        return EXIT_ERROR;
                read_memory(h, d, &m);
                if (doctor_check_vm(h, d, &m, rep) < 0 || doctor_check_looking_glass(cli->sr, d, rep) < 0)
                        return cli_error("out of memory");
        }
        /* Whether libvirt runs gpu-handoff: no finding when there is no libvirt. */
        if (hook_doctor(cli->sr, hook_binary(), rep) < 0)
                return cli_error("out of memory");
        /* Cards that did not come back, lent once already, vendor-reset's state. */
        if (resets_doctor(h, rep) < 0)
                return cli_error("out of memory");
        /* What gpu-handoff setup changed, and whether the running kernel shows it. */
        if (setup_doctor(cli->sr, rep) < 0)
                return cli_error("out of memory");
        if (cli->json)
                r = print_json(h, rep, names);
        else {
                print_human(h, rep, names);
                r = 0;
        }
        if (r < 0)
                return cli_error("cannot print the report: %s", strerror(-r));
        if (cli->vm && !cli->json && any_error(rep, "vm-"))
                printf("The domain is not ready: fix the vm- errors above.\n");
        return rep->ready && !any_error(rep, "vm-") ? EXIT_OK : EXIT_NOT_READY;
}

const struct verb doctor_verb = {
        .name = "doctor",
        .args = "",
        .run = verb_doctor,
        .summary = "Check what stands between this host and GPU passthrough",
        .description =
                "Checks CPU virtualization and /dev/kvm, the IOMMU (firmware and kernel), vfio-pci, and\n"
                "for every GPU its IOMMU group, driver, reset method and known quirks, then names the\n"
                "host's layout (single-gpu, igpu-dgpu, dual-dgpu). Lints modprobe.d and the kernel\n"
                "command line for what the kernel ignores or what binds the wrong device at boot.\n"
                "Every finding comes with a fix.\n",
        .options = (const struct verb_option[]){
                {"vm", "DOMAIN",
                 "also check a libvirt domain: a domain XML file, or the name of one\n"
                 "libvirt keeps in /etc/libvirt/qemu/ (read directly, libvirt is not asked):\n"
                 "the q35 machine, UEFI, every function of each passed GPU with one\n"
                 "managed mode, hostdevs this host has, hugepages it can get; Looking\n"
                 "Glass: its size, /dev/kvmfr0, qemu.conf's ACL, AppArmor, no balloon",
                 .parse = cli_parse_vm},
                {},
        },
        .column = 17,
        .epilog = "Exit status: 0 when a GPU can be passed through now (and the domain has no error),\n"
                  "1 when not, 2 on error.\n",
};
