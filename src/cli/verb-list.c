/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff list: IOMMU groups as a tree, like the well-known iommu.sh loop prints them,
 * but in one process and with the driver. */
#include <errno.h>
#include <libsmartcols.h>
#include <string.h>

#include "basic/parse.h"
#include "basic/quote.h"
#include "cli/cli.h"
#include "cli/verbs.h"
#include "cli/json.h"
#include "host/host.h"

DEFINE_TRIVIAL_CLEANUP_FUNC(struct libscols_table *, scols_unref_table)

static bool arg_gpus;  /* --gpus */
static int arg_group = -1; /* --group N; -1: all */

enum { COL_DEVICE, COL_CLASS, COL_NAME, COL_DRIVER };

static bool group_has_gpu(const struct iommu_group *g)
{
        for (size_t i = 0; i < g->n_members; i++)
                if (pci_device_is_gpu(g->members[i]))
                        return true;
        return false;
}

static bool group_selected(const struct cli *cli, const struct iommu_group *g)
{
        if (arg_group >= 0 && g->number != arg_group)
                return false;
        return !arg_gpus || group_has_gpu(g);
}

/* Without an IOMMU there are no groups; --gpus then still shows each GPU's own slot. */
static bool ungrouped_selected(const struct cli *cli, const struct host *h, const struct pci_device *d)
{
        if (arg_group >= 0)
                return false;
        if (!arg_gpus)
                return true;
        for (size_t i = 0; i < h->n_gpus; i++)
                if (h->gpus[i].dev == d || gpu_has_companion(&h->gpus[i], d))
                        return true;
        return false;
}

static int add_device_line(struct libscols_table *tb, struct libscols_line *parent, const struct pci_device *d,
                           struct pci_names *names)
{
        struct libscols_line *ln = scols_table_new_line(tb, parent);
        char buf[320];

        if (!ln)
                return -ENOMEM;
        if (scols_line_set_data(ln, COL_DEVICE, d->address) < 0 ||
            scols_line_set_data(ln, COL_CLASS,
                                d->problems & PCI_PROBLEM_CLASS
                                        ? "unknown class"
                                        : pci_names_class(names, buf, sizeof(buf), d->class, true)) < 0 ||
            scols_line_set_data(ln, COL_NAME,
                                d->problems & PCI_PROBLEM_IDS
                                        ? "unknown device"
                                        : pci_names_device(names, buf, sizeof(buf), d->vendor, d->device, true)) < 0)
                return -ENOMEM;
        if (scols_line_set_data(ln, COL_DRIVER,
                                d->driver                            ? d->driver
                                : d->problems & PCI_PROBLEM_DRIVER ? "(unreadable)"
                                                                     : "-") < 0)
                return -ENOMEM;
        return 0;
}

static int print_table(const struct cli *cli, const struct host *h, struct pci_names *names)
{
        _cleanup_(scols_unref_tablep) struct libscols_table *tb = scols_new_table();
        struct libscols_line *parent;
        char title[64];
        size_t n_ungrouped = 0;
        int r;

        if (!tb)
                return -ENOMEM;
        /* libsmartcols' default encoding stays on, terminal or not: it prints what the locale can
         * show and \xNN for the rest (a driver name with an escape sequence included). Its
         * no-encoding mode loops forever on a byte the locale cannot decode (util-linux 2.38). */
        if (!scols_table_new_column(tb, "GROUP / DEVICE", 0, SCOLS_FL_TREE) ||
            !scols_table_new_column(tb, "CLASS", 0, 0) || !scols_table_new_column(tb, "NAME [VENDOR:DEVICE]", 0, 0) ||
            !scols_table_new_column(tb, "DRIVER", 0, 0))
                return -ENOMEM;
        for (size_t i = 0; i < h->groups->n_groups; i++) {
                const struct iommu_group *g = &h->groups->groups[i];
                if (!group_selected(cli, g))
                        continue;
                parent = scols_table_new_line(tb, NULL);
                snprintf(title, sizeof(title), "group %d", g->number);
                if (!parent || scols_line_set_data(parent, COL_DEVICE, title) < 0)
                        return -ENOMEM;
                for (size_t j = 0; j < g->n_members; j++) {
                        r = add_device_line(tb, parent, g->members[j], names);
                        if (r < 0)
                                return r;
                }
        }
        for (size_t i = 0; i < h->groups->n_ungrouped; i++)
                n_ungrouped += ungrouped_selected(cli, h, h->groups->ungrouped[i]);
        if (n_ungrouped > 0) {
                parent = scols_table_new_line(tb, NULL);
                if (!parent || scols_line_set_data(parent, COL_DEVICE, "no IOMMU group") < 0)
                        return -ENOMEM;
                for (size_t i = 0; i < h->groups->n_ungrouped; i++) {
                        if (!ungrouped_selected(cli, h, h->groups->ungrouped[i]))
                                continue;
                        r = add_device_line(tb, parent, h->groups->ungrouped[i], names);
                        if (r < 0)
                                return r;
                }
        }
        if (scols_table_is_empty(tb)) {
                puts(arg_gpus ? "No GPU found." : "No PCI devices found.");
                return 0;
        }
        return scols_print_table(tb) < 0 ? -EIO : 0;
}

static json_object *json_group(const struct iommu_group *g, struct pci_names *names)
{
        json_object *o = json_object_new_object(), *devices = json_object_new_array();

        if (!o || !devices) {
                json_object_put(o);
                json_object_put(devices);
                return NULL;
        }
        json_object_object_add(o, "group", json_object_new_int(g->number));
        json_object_object_add(o, "devices", devices);
        for (size_t i = 0; i < g->n_members; i++)
                json_object_array_add(devices, json_pci_device(g->members[i], names));
        return o;
}

static int print_json(const struct cli *cli, const struct host *h, struct pci_names *names)
{
        int r;

        json_stream_begin();
        json_stream_array_begin("groups");
        for (size_t i = 0; i < h->groups->n_groups; i++) {
                if (!group_selected(cli, &h->groups->groups[i]))
                        continue;
                r = json_stream_array_add(json_group(&h->groups->groups[i], names));
                if (r < 0)
                        return r;
        }
        json_stream_array_end();
        json_stream_array_begin("ungrouped");
        for (size_t i = 0; i < h->groups->n_ungrouped; i++) {
                if (!ungrouped_selected(cli, h, h->groups->ungrouped[i]))
                        continue;
                r = json_stream_array_add(json_pci_device(h->groups->ungrouped[i], names));
                if (r < 0)
                        return r;
        }
        json_stream_array_end();
        return json_stream_end();
}

static int verb_list(struct cli *cli, int argc, char **argv)
{
        _cleanup_(host_freep) struct host *h = NULL;
        _cleanup_(pci_names_freep) struct pci_names *names = NULL;
        int r;

        r = host_read(cli->sr, NULL, HOST_PCI, &h);
        if (r < 0)
                return cli_error("cannot read the PCI devices below %s: %s", cli->root, strerror(-r));
        if (arg_group >= 0 && !iommu_group_find(h->groups, arg_group)) {
                if (h->groups->n_groups == 0)
                        return cli_error("--group %d: this host has no IOMMU groups (is the IOMMU enabled? see "
                                         "gpu-handoff doctor)",
                                         arg_group);
                return cli_error("--group %d: no such IOMMU group (this host has groups %d to %d)", arg_group,
                                 h->groups->groups[0].number, h->groups->groups[h->groups->n_groups - 1].number);
        }
        r = pci_names_new(cli->pci_ids, &names);
        if (r < 0)
                return cli_error("cannot set up device names: %s", strerror(-r));
        r = cli->json ? print_json(cli, h, names) : print_table(cli, h, names);
        if (r < 0)
                return cli_error("cannot print the device list: %s", strerror(-r));
        return EXIT_OK;
}

static int parse_group(struct cli *cli, const char *value)
{
        char q[QUOTE_BUF];
        uint32_t g;

        if (sysfs_parse_uint(value, INT32_MAX, &g) < 0)
                return cli_error("--group: \"%s\" is not an IOMMU group number (expected 0, 1, 2, ...)",
                                 quote(value, q));
        arg_group = (int)g;
        return 0;
}

const struct verb list_verb = {
        .name = "list",
        .args = "",
        .run = verb_list,
        .summary = "Show the IOMMU groups with their devices and drivers",
        .description =
                "Prints every IOMMU group as a tree: address, class, name [vendor:device] and the bound\n"
                "driver of each device. Devices without a group (no IOMMU) are listed at the end.\n",
        .options = (const struct verb_option[]){
                {"gpus", .help = "only the groups that hold a GPU", .flag = &arg_gpus},
                {"group", "N", "only IOMMU group N", .parse = parse_group},
                {},
        },
        .column = 15,
};
