/* SPDX-License-Identifier: GPL-2.0-or-later */
/* setup --vendor-reset (vendor-reset.h). */
#include "setup/vendor-reset.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

char *vendor_reset_udev_rule(const struct quirk_db *db)
{
        char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return NULL;
        fputs("# Written by gpu-handoff setup --vendor-reset; `gpu-handoff setup undo` removes it.\n"
              "# Makes the kernel reset these cards through vendor-reset (reset_method device_specific,\n"
              "# Linux 5.15 and later), loading the module first. Generated from the quirks database;\n"
              "# the IDs are in lower case, as sysfs prints them and udev compares them.\n",
              f);
        for (size_t i = 0; db && i < db->n_quirks; i++) {
                const struct quirk *q = &db->quirks[i];

                if (!(q->flags & QUIRK_VENDOR_RESET))
                        continue;
                fprintf(f, "\n# %s (quirk %s)\n", q->name, q->id);
                for (size_t j = 0; j < q->n_ranges; j++)
                        for (unsigned id = q->ranges[j].first; id <= q->ranges[j].last; id++)
                                fprintf(f,
                                        "ACTION==\"add\", SUBSYSTEM==\"pci\", ATTR{vendor}==\"0x%04x\", "
                                        "ATTR{device}==\"0x%04x\", RUN+=\"/bin/sh -c '/sbin/modprobe vendor-reset; "
                                        "echo device_specific > /sys$env{DEVPATH}/reset_method'\"\n",
                                        q->ranges[j].vendor, id);
        }
        if (fclose(f) != 0) {
                free(text);
                return NULL;
        }
        return text;
}

int vendor_reset_plan(const struct sysroot *sr, const struct quirk_db *db, struct setup_plan *p, char **ret_error)
{
        _cleanup_free_ char *rule = vendor_reset_udev_rule(db);
        int r;

        if (!rule)
                return -ENOMEM;
        r = setup_plan_write(p, sr, VENDOR_RESET_RULE_PATH, rule, strlen(rule), 0644, ret_error);
        if (r < 0)
                return r;
        r = strv_addf(&p->notes,
                      "vendor-reset itself comes from its DKMS package (or github.com/gnif/vendor-reset); the udev "
                      "rule loads it and selects it for the Polaris, Vega, Navi 10/12/14 and Arcturus cards at boot. "
                      "It does not cover the RX 6000, 7000 or 9000 series");
        return r < 0 ? -ENOMEM : 0;
}
