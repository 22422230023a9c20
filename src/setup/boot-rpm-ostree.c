/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The rpm-ostree backend (Fedora Silverblue/Kinoite, CoreOS, bootc; research-setup.md §1.2).
 * rpm-ostree owns the command line: `rpm-ostree kargs --append-if-missing=…` stages a new
 * deployment with the arguments, `--delete-if-present=…` of exactly those is the revert, and
 * the entries in /boot/loader/entries are never edited by hand (coreos/rpm-ostree#594). The
 * initramfs is rpm-ostree's too: `initramfs-etc --track` puts our modprobe.d file into an
 * overlay of it. Both apply to the next deployment; the booted one stays as the way back. */

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/error.h"
#include "setup/backend.h"
#include "setup/boot-args.h"
#include "setup/cmdline.h"

/* The default deployment's entry: ostree writes ostree-N-OSNAME.conf (ostree-N.conf with the
 * newer naming), N = the number of deployments less the deployment's index, so the default
 * (index 0) has the highest N (ostree-sysroot-deploy.c, install_deployment_kernel). */
static const char *default_entry(const struct boot_facts *f)
{
        const char *best = NULL;
        long best_n = -1;

        for (size_t i = 0; f->entries && f->entries[i]; i++) {
                const char *name = f->entries[i];
                char *end;
                long n;

                if (strncmp(name, "ostree-", 7) != 0)
                        continue;
                n = strtol(name + 7, &end, 10);
                if (end == name + 7 || (*end != '-' && *end != '.'))
                        continue;
                if (n > best_n) {
                        best_n = n;
                        best = name;
                }
        }
        return best;
}

/* Whether the deployment the entry boots already tracks path in its initramfs overlay: its
 * origin file's [rpmostree] initramfs-etc= list. The entry's ostree=/ostree/boot.B/OS/CSUM/S is
 * a link to ../../../deploy/OS/deploy/DEPLOYCSUM.S, whose origin is that path + ".origin". Any
 * doubt answers false: tracking again is harmless. */
static bool tracks(struct setup_plan *p, const struct sysroot *sr, const char *options, const char *path)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        _cleanup_free_ char *dir = NULL, *target = NULL, *origin = NULL, *text = NULL, *os = NULL;
        const char *ostree, *base, *line;
        int fd, r;

        if (cmdline_parse(options, strlen(options), &c, NULL) < 0)
                return false;
        ostree = cmdline_get(c, "ostree");
        if (!ostree || strncmp(ostree, "/ostree/boot.", 13) != 0 || !strrchr(ostree, '/'))
                return false;
        base = strrchr(ostree, '/') + 1;
        dir = strndup(ostree, (size_t)(base - 1 - ostree));
        if (!dir)
                return false;
        /* OS: the component after /ostree/boot.B/ */
        {
                const char *s = strchr(ostree + 13, '/');
                if (!s)
                        return false;
                os = strndup(s + 1, strcspn(s + 1, "/"));
                if (!os)
                        return false;
        }
        fd = sysroot_openat(sr, dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return false;
        r = read_link_at(fd, base, &target);
        close(fd);
        if (r < 0 || !strrchr(target, '/'))
                return false;
        if (asprintf(&origin, "/ostree/deploy/%s/deploy/%s.origin", os, strrchr(target, '/') + 1) < 0)
                return false;
        if (setup_plan_read(p, sr, origin, &text, NULL, NULL) < 0)
                return false;
        for (line = text; line; line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                size_t n = strcspn(line, "\n"), k = strlen(path);
                const char *v = line + strlen("initramfs-etc=");

                if (strncmp(line, "initramfs-etc=", 14) != 0)
                        continue;
                /* a GKeyFile string list: entries separated by ';' */
                for (const char *e = v; e < line + n; e += strcspn(e, ";\n") + 1)
                        if (strncmp(e, path, k) == 0 && (e[k] == ';' || e[k] == '\n' || e[k] == '\0'))
                                return true;
        }
        return false;
}

int boot_rpm_ostree_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        _cleanup_strv_free_null_ char **missing = NULL, **present = NULL;
        _cleanup_free_ char *path = NULL, *text = NULL, *options = NULL, *error = NULL, *escape = NULL;
        struct strv argv = {0}, revert = {0};
        const char *entry = default_entry(f);
        bool changed = false;
        size_t len = 0;
        int r;

        if (!entry || !f->entries_dir)
                return setup_plan_refuse(p,
                                         "no ostree boot entry (ostree-N-….conf) in %s: is rpm-ostree what "
                                         "boots this system?",
                                         f->entries_dir ?: "/boot/loader/entries");
        if (asprintf(&path, "%s/%s", f->entries_dir, entry) < 0)
                return -ENOMEM;
        r = setup_plan_read(p, in->sr, path, &text, &len, ret_error);
        if (r >= 0)
                r = bls_options_get(text, len, &options);
        if (r < 0)
                return r;
        r = boot_args_missing(options, strlen(options), (const char *const *)in->args_add,
                              (const char *const *)in->args_remove, &missing, &error);
        if (r >= 0)
                r = boot_args_present(options, strlen(options), (const char *const *)in->args_remove,
                                      &present, &error);
        if (r < 0)
                return boot_refuse_or(p, r, path, &error);

        if (missing[0] || present[0]) {
                /* one transaction, one new deployment: appends and deletes together */
                r = strv_addf(&argv, "rpm-ostree") < 0 || strv_addf(&argv, "kargs") < 0 ||
                            strv_addf(&revert, "rpm-ostree") < 0 || strv_addf(&revert, "kargs") < 0
                        ? -ENOMEM
                        : 0;
                for (size_t i = 0; r >= 0 && missing[i]; i++)
                        if (strv_addf(&argv, "--append-if-missing=%s", missing[i]) < 0 ||
                            strv_addf(&revert, "--delete-if-present=%s", missing[i]) < 0)
                                r = -ENOMEM;
                for (size_t i = 0; r >= 0 && present[i]; i++)
                        if (strv_addf(&argv, "--delete-if-present=%s", present[i]) < 0 ||
                            strv_addf(&revert, "--append-if-missing=%s", present[i]) < 0)
                                r = -ENOMEM;
                if (r >= 0)
                        r = setup_plan_command(p, SETUP_COMMAND_TOOL, (const char *const *)argv.v,
                                               (const char *const *)revert.v);
                changed = true;
                /* without arguments kargs shows the pending deployment's when there is one, which
                 * is what this stages (as we read rpm-ostree; not checked on a real host) */
                if (r >= 0 && in->args_add && in->args_add[0])
                        r = setup_plan_check_output(
                            p, "the next deployment's kernel arguments (rpm-ostree kargs)",
                            (const char *const[]){"rpm-ostree", "kargs", NULL},
                            (const char *const *)in->args_add);
                if (r >= 0 && (boot_args_record(&p->args_add, missing) < 0 ||
                               boot_args_record(&p->args_remove, present) < 0))
                        r = -ENOMEM;
                if (r < 0)
                        goto out;
        }
        if (in->modprobe_conf && !tracks(p, in->sr, options, SETUP_MODPROBE_PATH)) {
                r = setup_plan_command(p, SETUP_COMMAND_TOOL,
                                       (const char *const[]){"rpm-ostree", "initramfs-etc",
                                                             "--track=" SETUP_MODPROBE_PATH, NULL},
                                       (const char *const[]){"rpm-ostree", "initramfs-etc",
                                                             "--untrack=" SETUP_MODPROBE_PATH, NULL});
                changed = true;
                if (r < 0)
                        goto out;
        }
        if (changed) {
                escape = strv_join(missing, " ");
                if (!escape) {
                        r = -ENOMEM;
                        goto out;
                }
                r = setup_plan_note(p,
                                    "this applies to the next deployment, which the next boot starts; the "
                                    "deployment running now stays in the boot menu as the way back "
                                    "(or: rpm-ostree rollback)");
                if (r >= 0 && missing[0])
                        r = setup_plan_note(
                            p,
                            "to boot once without %s: at the boot menu press e and delete them "
                            "from the kernel's line",
                            escape);
        }
out:
        strv_done(&argv);
        strv_done(&revert);
        return r;
}
