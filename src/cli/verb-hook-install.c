/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff hook install | uninstall: puts the libvirt hook where the installed libvirt runs it,
 * beside whatever hook is there already, and takes exactly that away again. The work is in
 * src/libvirt/hook-install.c; this says what was found and what was done, line by line. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/time-util.h"
#include "change/lock.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/session.h"
#include "cli/verbs.h"
#include "libvirt/hook-install.h"

/* Lock='s default (gpu-handoff.conf(5)). */
#define HOOK_INSTALL_LOCK_USEC (15 * USEC_PER_SEC)

static bool same(const char *a, const char *b)
{
        return a && b && strcmp(a, b) == 0;
}

static const char *version_string(const struct hook_status *st, char buf[static 32])
{
        if (!st->libvirt)
                return NULL;
        snprintf(buf, 32, "%u.%u.%u", st->version.major, st->version.minor, st->version.micro);
        return buf;
}

static void print_names(char **names, size_t n, const char *suffix)
{
        for (size_t i = 0; i < n; i++)
                printf("%s%s%s", i ? ", " : "", names[i], suffix);
}

/* What install found beside the place it uses, and leaves as it is. */
static void print_found(const struct hook_report *rep, const char *v)
{
        const struct hook_status *st = rep->before;

        if (!same(rep->hook, HOOK_QEMU_PATH) &&
            (st->qemu == HOOK_FILE_SCRIPT || st->qemu == HOOK_FILE_DISPATCHER || st->qemu == HOOK_FILE_OTHER))
                printf("found: %s, %s: kept as it is; libvirt %s runs it first, then gpu-handoff\n", HOOK_QEMU_PATH,
                       st->qemu == HOOK_FILE_DISPATCHER
                               ? "a VFIO-Tools style dispatcher (it runs qemu.d/VM/OPERATION/PHASE/ scripts)"
                       : st->qemu == HOOK_FILE_OTHER ? "not a file gpu-handoff knows"
                                                     : "a hook script of yours",
                       v);
        if (st->qemu == HOOK_FILE_DISPATCHER && st->vm_scripts) {
                printf("note: the dispatcher still runs its per-VM scripts in %s/ (", HOOK_QEMU_D_PATH);
                print_names(st->vm_dirs, st->n_vm_dirs, "/");
                printf("): remove those that unbind the GPU or stop the display manager, gpu-handoff does that now\n");
        }
        if (same(rep->hook, HOOK_LINK_PATH) && st->n_others) {
                printf("found: other hooks in %s/ (", HOOK_QEMU_D_PATH);
                print_names(st->others, st->n_others, "");
                printf("): kept; libvirt runs them all, in name order\n");
        }
}

static void print_restart(const struct hook_report *rep)
{
        const struct hook_status *st = rep->before;

        if (rep->restart)
                printf("restart %s so that it runs the hook: it looked for hooks when it started (pid %d) and found "
                       "none; systemctl restart %s (running VMs keep running)\n",
                       st->daemon, (int)st->daemon_pid, st->daemon);
}

static void print_install(const struct hook_report *rep)
{
        const struct hook_status *st = rep->before;
        char buf[32];
        const char *v = version_string(st, buf);

        if (rep->outcome == HOOK_ALREADY_INSTALLED) {
                if (rep->target)
                        printf("already installed: %s -> %s; nothing changed\n", rep->hook, rep->target);
                else if (same(rep->hook, HOOK_QEMU_PATH))
                        printf("already installed: %s runs gpu-handoff (line %u); nothing changed\n", rep->hook,
                               st->chain_line);
                else
                        printf("already installed: %s, a script of yours, runs gpu-handoff; nothing changed\n",
                               rep->hook);
                print_restart(rep);
                return;
        }
        print_found(rep, v);
        for (size_t i = 0; i < rep->n_changes; i++) {
                const struct hook_change *c = &rep->changes[i];
                switch (c->kind) {
                case HOOK_CHANGE_CREATED:
                        printf("created: %s\n", c->path);
                        break;
                case HOOK_CHANGE_LINKED:
                        if (same(c->path, HOOK_LINK_PATH))
                                printf("installed: %s -> %s (libvirt %s runs every executable in qemu.d/ when a VM "
                                       "starts and stops)\n",
                                       c->path, c->target, v);
                        else
                                printf("installed: %s -> %s (libvirt %s runs only this one file: a hook script of "
                                       "your own would have to replace the link and run gpu-handoff itself, see "
                                       "gpu-handoff(1))\n",
                                       c->path, c->target, v);
                        break;
                case HOOK_CHANGE_RELINKED:
                        printf("relinked: %s -> %s (it pointed at %s, which is gone)\n", c->path, c->target, c->why);
                        break;
                case HOOK_CHANGE_RECORDED:
                        printf("recorded: %s (what \"gpu-handoff hook uninstall\" removes again)\n", c->path);
                        break;
                default:
                        break;
                }
        }
        print_restart(rep);
}

static void print_uninstall(const struct hook_report *rep)
{
        bool link_removed = false;

        for (size_t i = 0; i < rep->n_changes; i++) {
                const struct hook_change *c = &rep->changes[i];
                if (c->kind == HOOK_CHANGE_REMOVED && c->target) {
                        printf("removed: %s (-> %s)\n", c->path, c->target);
                        link_removed = true;
                } else if (c->kind == HOOK_CHANGE_REMOVED)
                        printf("removed: %s\n", c->path);
                else if (c->kind == HOOK_CHANGE_KEPT)
                        printf("kept: %s (%s)\n", c->path, c->why);
        }
        if (rep->outcome == HOOK_NOT_INSTALLED)
                printf("not installed: no gpu-handoff hook in %s; nothing changed\n", HOOK_DIR_PATH);
        else if (!rep->before->record && link_removed)
                printf("note: there was no journal of the install (%s): only the link, which is gpu-handoff's, was "
                       "removed; directories stay\n",
                       HOOK_JOURNAL_PATH);
}

static json_object *json_strings(char **v, size_t n)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && i < n; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

static int print_json(const char *action, const struct hook_report *rep)
{
        _cleanup_json_ json_object *doc = json_new_document();
        const struct hook_status *st = rep->before;
        json_object *found = json_object_new_object(), *changes = json_object_new_array();
        char buf[32];

        if (!doc || !found || !changes) {
                json_object_put(found);
                json_object_put(changes);
                return -ENOMEM;
        }
        json_object_object_add(doc, "action", json_object_new_string(action));
        json_object_object_add(doc, "outcome", json_object_new_string(hook_outcome_to_string(rep->outcome)));
        json_object_object_add(doc, "libvirt", json_string_or_null(version_string(st, buf)));
        json_object_object_add(doc, "hook_dir", json_object_new_boolean(st->hook_dir));
        json_object_object_add(doc, "hook", json_string_or_null(rep->hook));
        json_object_object_add(doc, "target", json_string_or_null(rep->target));
        json_object_object_add(found, "qemu", json_object_new_string(hook_file_kind_to_string(st->qemu)));
        json_object_object_add(found, "others", json_strings(st->others, st->n_others));
        json_object_object_add(found, "vm_dirs", json_strings(st->vm_dirs, st->n_vm_dirs));
        json_object_object_add(found, "record", json_object_new_boolean(st->record));
        json_object_object_add(doc, "found", found);
        for (size_t i = 0; i < rep->n_changes; i++) {
                const struct hook_change *c = &rep->changes[i];
                json_object *o = json_object_new_object();
                if (!o)
                        return -ENOMEM;
                json_object_object_add(o, "change", json_object_new_string(hook_change_kind_to_string(c->kind)));
                json_object_object_add(o, "path", json_object_new_string(c->path));
                json_object_object_add(o, "target", json_string_or_null(c->target));
                json_object_object_add(o, "why", json_string_or_null(c->why));
                json_object_array_add(changes, o);
        }
        json_object_object_add(doc, "changes", changes);
        json_object_object_add(doc, "restart", rep->restart ? json_object_new_string(st->daemon) : NULL);
        return json_print(doc);
}

static int hook_install_verb(struct cli *cli, int argc, char **argv)
{
        _cleanup_(hook_report_freep) struct hook_report *rep = NULL;
        _cleanup_free_ char *error = NULL;
        _cleanup_change_lock_ struct change_lock *lock = NULL;
        bool install = strcmp(argv[0], "install") == 0; /* else uninstall: verb-hook.c dispatches only these */
        int r;

        /* One transition at a time, whatever it changes: a hook installed or removed while a VM's
         * start runs the hook would leave that VM's hand-over half seen. Lock='s default wait: the
         * configuration is not read here, so a broken one cannot keep the hook from being removed.
         * A root where nothing runs, such as a chroot target mounted at --root or a fake tree
         * (no proc/self), has no transition to wait for and could not name us in the lock. */
        if (sysroot_exists(cli->sr, "proc/self")) {
                r = session_lock(cli, install ? "hook install" : "hook uninstall", HOOK_INSTALL_LOCK_USEC, &lock);
                if (r != EXIT_OK)
                        return r;
        }
        r = install ? hook_install(cli->sr, hook_binary(), &rep, &error)
                    : hook_uninstall(cli->sr, &rep, &error);
        if (r < 0) {
                cli_error("hook %s: %s", argv[0], error ? error : strerror(-r));
                return hook_refused(r) ? EXIT_NOT_READY : EXIT_ERROR;
        }
        if (cli->json)
                r = print_json(argv[0], rep);
        else if (install)
                print_install(rep);
        else
                print_uninstall(rep);
        if (r < 0)
                return cli_error("cannot print the report: %s", strerror(-r));
        return EXIT_OK;
}

const struct verb hook_install_verbs[] = {
        {.name = "install",
         .run = hook_install_verb,
         .summary = "put the hook where the installed libvirt runs it: the link\n"
                    "/etc/libvirt/hooks/qemu.d/gpu-handoff (libvirt 6.5 and later), else\n"
                    "/etc/libvirt/hooks/qemu. A hook of yours there is kept, never replaced.\n"
                    "What it makes is journaled in /var/lib/gpu-handoff/hook/journal."},
        {.name = "uninstall", .run = hook_install_verb, .summary = "remove exactly what install made"},
        {},
};
