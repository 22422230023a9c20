/* SPDX-License-Identifier: GPL-2.0-or-later */
/* doctor's view of the libvirt hook: whether libvirt runs gpu-handoff when a VM starts, read from
 * the installed state libvirt/hook-install.h offers as data (doctor/hook.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "doctor/hook.h"
#include "libvirt/hook-install.h"

static int stale_finding(struct doctor_report *rep, const struct sysroot *sr, const char *path, const char *target,
                         const char *binary)
{
        _cleanup_free_ char *fix = NULL, *t = hook_target(sr, binary);

        if (!t)
                return -ENOMEM;
        if (hook_binary_runs(sr, binary)) {
                if (asprintf(&fix, "Run \"gpu-handoff hook install\": it points the link at %s.", t) < 0)
                        return -ENOMEM;
        } else {
                fix = strdup("Install gpu-handoff again, or remove the link with \"gpu-handoff hook uninstall\".");
                if (!fix)
                        return -ENOMEM;
        }
        return doctor_report_add(rep, "hook-stale", SEVERITY_WARNING, NULL, fix,
                           "%s points at %s, which does not exist or cannot be run: libvirt skips it, and VMs do not "
                           "get the GPU when they start.",
                           path, target ? target : "?");
}

int hook_doctor(const struct sysroot *sr, const char *binary, struct doctor_report *rep)
{
        _cleanup_(hook_status_freep) struct hook_status *st = NULL;
        _cleanup_free_ char *error = NULL, *fix = NULL, *line = NULL;
        bool foreign_qemu, broken = false;
        char v[32];
        int r;

        r = hook_status_read(sr, &st, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0) {
                struct libvirt_version ver;
                if (libvirt_version_find(sr, &ver) < 0)
                        return 0;
                return doctor_report_add(rep, "hook-unreadable", SEVERITY_WARNING, NULL,
                                   "Make /etc/libvirt/hooks and /etc/libvirt/hooks/qemu.d plain directories owned "
                                   "by root.",
                                   "Cannot tell whether libvirt runs gpu-handoff: %s.", error ? error : strerror(-r));
        }
        if (!st->libvirt)
                return 0;
        snprintf(v, sizeof(v), "%u.%u.%u", st->version.major, st->version.minor, st->version.micro);
        line = hook_chain_line(sr, binary);
        if (!line)
                return -ENOMEM;
        foreign_qemu = st->qemu == HOOK_FILE_SCRIPT || st->qemu == HOOK_FILE_DISPATCHER || st->qemu == HOOK_FILE_OTHER;

        if (st->link == HOOK_FILE_OURS_STALE && st->hook_dir) {
                r = stale_finding(rep, sr, HOOK_LINK_PATH, st->link_target, binary);
                broken = true;
        }
        if (r >= 0 && st->qemu == HOOK_FILE_OURS_STALE) {
                r = stale_finding(rep, sr, HOOK_QEMU_PATH, st->qemu_target, binary);
                broken = true;
        }
        if (r < 0)
                return r;
        if (!st->fires && !st->hook_dir && foreign_qemu) {
                if (asprintf(&fix, "Add this line to %s, before anything in it reads stdin: %s", HOOK_QEMU_PATH,
                             line) < 0)
                        return -ENOMEM;
                r = doctor_report_add(rep, "hook-not-run", SEVERITY_WARNING, NULL, fix,
                                "libvirt %s runs only %s (qemu.d/ needs libvirt 6.5), and that %s does not run "
                                "gpu-handoff: VMs do not get the GPU when they start.",
                                v, HOOK_QEMU_PATH,
                                st->qemu == HOOK_FILE_DISPATCHER ? "VFIO-Tools style dispatcher" : "script of yours");
                broken = true;
        } else if (!st->fires && st->qemu == HOOK_FILE_CHAINS && !st->qemu_executable) {
                if (asprintf(&fix, "chmod 755 %s", HOOK_QEMU_PATH) < 0)
                        return -ENOMEM;
                r = doctor_report_add(rep, "hook-not-run", SEVERITY_WARNING, NULL, fix,
                                "%s runs gpu-handoff (line %u) but is not executable, so libvirt %s does not run it.",
                                HOOK_QEMU_PATH, st->chain_line, v);
                broken = true;
        }
        if (r < 0)
                return r;

        if (!st->fires) {
                if (broken)
                        return 0;
                if (st->hook_dir && st->link != HOOK_FILE_NONE && st->link != HOOK_FILE_OURS_STALE) {
                        if (asprintf(&fix, "Move %s away, then run \"gpu-handoff hook install\".", HOOK_LINK_PATH) < 0)
                                return -ENOMEM;
                        return doctor_report_add(rep, "hook-not-installed", SEVERITY_WARNING, NULL, fix,
                                           "libvirt %s does not run gpu-handoff when a VM starts: %s is a file "
                                           "gpu-handoff did not make, which does not run it.",
                                           v, HOOK_LINK_PATH);
                }
                if (!st->hook_dir && st->link == HOOK_FILE_OURS)
                        return doctor_report_add(rep, "hook-not-installed", SEVERITY_WARNING, NULL, "gpu-handoff hook install",
                                           "%s is there, but libvirt %s runs only %s (qemu.d/ needs libvirt 6.5): VMs "
                                           "do not get the GPU when they start.",
                                           HOOK_LINK_PATH, v, HOOK_QEMU_PATH);
                return doctor_report_add(rep, "hook-not-installed", SEVERITY_WARNING, NULL, "gpu-handoff hook install",
                                   "libvirt %s does not run gpu-handoff when a VM starts (its hook is not installed): "
                                   "VMs get the GPU only after \"gpu-handoff attach\".",
                                   v);
        }

        if (st->hook_dir && st->link == HOOK_FILE_OURS)
                r = doctor_report_add(rep, "hook-installed", SEVERITY_INFO, NULL, NULL,
                                "The libvirt hook is installed: %s -> %s; libvirt %s runs it when a VM starts "
                                "and stops.",
                                HOOK_LINK_PATH, st->link_target, v);
        else if (st->qemu == HOOK_FILE_OURS)
                r = doctor_report_add(rep, "hook-installed", SEVERITY_INFO, NULL, NULL,
                                "The libvirt hook is installed: %s -> %s; libvirt %s runs it when a VM starts "
                                "and stops.",
                                HOOK_QEMU_PATH, st->qemu_target, v);
        else if (st->qemu == HOOK_FILE_CHAINS && st->qemu_executable)
                r = doctor_report_add(rep, "hook-installed", SEVERITY_INFO, NULL, NULL,
                                "The libvirt hook is installed: %s runs gpu-handoff (line %u); libvirt %s runs it when "
                                "a VM starts and stops.",
                                HOOK_QEMU_PATH, st->chain_line, v);
        else
                r = doctor_report_add(rep, "hook-installed", SEVERITY_INFO, NULL, NULL,
                                "The libvirt hook is installed: %s, a script of yours, runs gpu-handoff; libvirt %s "
                                "runs it when a VM starts and stops.",
                                HOOK_LINK_PATH, v);
        if (r < 0)
                return r;
        if (st->hook_dir && st->link == HOOK_FILE_OURS && st->qemu == HOOK_FILE_CHAINS && st->qemu_executable) {
                free(fix);
                if (asprintf(&fix, "Remove line %u from %s: libvirt %s runs %s by itself.", st->chain_line,
                             HOOK_QEMU_PATH, v, HOOK_LINK_PATH) < 0)
                        return -ENOMEM;
                r = doctor_report_add(rep, "hook-runs-twice", SEVERITY_WARNING, NULL, fix,
                                "gpu-handoff runs twice at every VM event: from %s (line %u) and as %s.",
                                HOOK_QEMU_PATH, st->chain_line, HOOK_LINK_PATH);
                if (r < 0)
                        return r;
        }
        if (st->daemon[0] && !st->daemon_saw_hook) {
                free(fix);
                if (asprintf(&fix, "systemctl restart %s (running VMs keep running)", st->daemon) < 0)
                        return -ENOMEM;
                r = doctor_report_add(rep, "hook-restart-needed", SEVERITY_WARNING, NULL, fix,
                                "%s (pid %d) started before the hook was installed, and libvirt looks for hooks only "
                                "when it starts: it does not run gpu-handoff yet.",
                                st->daemon, (int)st->daemon_pid);
                if (r < 0)
                        return r;
        }
        if (st->qemu == HOOK_FILE_DISPATCHER && st->vm_scripts) {
                _cleanup_free_ char *names = NULL;
                size_t len = 0;
                FILE *f = open_memstream(&names, &len);
                if (!f)
                        return -ENOMEM;
                for (size_t i = 0; i < st->n_vm_dirs; i++)
                        fprintf(f, "%s%s/", i ? ", " : "", st->vm_dirs[i]);
                if (fclose(f) != 0)
                        return -ENOMEM;
                r = doctor_report_add(rep, "hook-vm-scripts", SEVERITY_WARNING, NULL,
                                "Remove the per-VM scripts that unbind the GPU, stop the display manager or load "
                                "modules: gpu-handoff does that now.",
                                "%s, a VFIO-Tools style dispatcher, still runs the per-VM scripts in %s/ (%s) before "
                                "gpu-handoff: those that move the GPU fight it.",
                                HOOK_QEMU_PATH, HOOK_QEMU_D_PATH, names);
        }
        return r;
}
