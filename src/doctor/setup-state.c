/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "doctor/setup-state.h"

#include <errno.h>
#include <stdlib.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "setup/setup.h"

#define UNDO_FIX "gpu-handoff setup undo (from a live USB: gpu-handoff --root /mnt setup undo)"

int setup_doctor(const struct sysroot *sr, struct doctor_report *rep)
{
        struct setup_status st = {0};
        _cleanup_free_ char *error = NULL, *args = NULL, *missing = NULL, *vfio = NULL;
        int r = setup_status_read(sr, &st, &error);

        if (r < 0) {
                r = doctor_report_add(
                    rep, "setup-unreadable", SEVERITY_WARNING, NULL,
                    "look at /var/lib/gpu-handoff/setup/journal; gpu-handoff setup status says more",
                    "cannot read what gpu-handoff setup changed: %s", error ?: "unknown error");
                return r;
        }
        args = strv_join(st.args_added.v, " ");
        missing = strv_join(st.missing_args.v, " ");
        vfio = strv_join(st.not_on_vfio.v, " ");
        if (!args || !missing || !vfio) {
                setup_status_done(&st);
                return -ENOMEM;
        }
        switch (st.state) {
        case SETUP_STATE_NONE:
                break;
        case SETUP_STATE_INTERRUPTED:
                r = doctor_report_add(
                    rep, "setup-interrupted", SEVERITY_ERROR, NULL,
                    "gpu-handoff setup undo (or gpu-handoff recover) puts back what it changed",
                    "a gpu-handoff setup (or setup undo) was interrupted: boot files may be half "
                    "changed");
                break;
        case SETUP_STATE_APPLIED:
                if (st.not_running)
                        break;
                if (st.reboot_pending)
                        r = doctor_report_add(
                            rep, "setup-reboot-pending", SEVERITY_INFO, NULL, "reboot once",
                            "gpu-handoff setup was applied%s%s (kernel arguments: %s): the running "
                            "kernel booted before it",
                            st.since ? " on " : "", st.since ?: "", *args ? args : "none");
                else if (st.missing_args.n || st.not_on_vfio.n || st.iommu_off)
                        r = doctor_report_add(
                            rep, "setup-not-effective", SEVERITY_WARNING, NULL,
                            "check that the boot entry you booted is the default one (the setup's arguments "
                            "are "
                            "in its default entries only); if this boot cannot work, " UNDO_FIX,
                            "gpu-handoff setup was applied%s%s, but the running kernel does not show "
                            "it:%s%s%s%s%s",
                            st.since ? " on " : "", st.since ?: "",
                            *missing ? " its command line lacks " : "", missing,
                            *vfio ? "; not on vfio-pci: " : "", vfio,
                            st.iommu_off ? "; the IOMMU is off" : "");
                else
                        r = doctor_report_add(
                            rep, "setup-applied", SEVERITY_INFO, NULL, NULL,
                            "gpu-handoff setup is applied%s%s and the running kernel shows it "
                            "(kernel arguments: %s)",
                            st.since ? " since " : "", st.since ?: "", *args ? args : "none");
                break;
        }
        for (size_t i = 0; r >= 0 && i < st.drifted.n; i++)
                r = doctor_report_add(rep, "setup-file-changed", SEVERITY_WARNING, NULL,
                                      "setup undo will stop at it and show the versions: merge by hand then",
                                      "%s was changed since gpu-handoff setup wrote it", st.drifted.v[i]);
        setup_status_done(&st);
        return r < 0 ? -ENOMEM : 0;
}
