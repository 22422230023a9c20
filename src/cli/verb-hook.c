/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff hook: the libvirt QEMU hook. libvirt runs it for every event of every VM, as
 * /etc/libvirt/hooks/qemu or /etc/libvirt/hooks/qemu.d/NAME, with "VM OP SUBOP EXTRA" and the
 * domain XML on stdin. "prepare begin" lends the VM's PCI hostdevs that the host still uses, and
 * makes room for the guest; "release end" gives them back. Every other event returns at once.
 *
 * It never calls back into libvirt (the daemon waits for the hook: virsh here deadlocks). A
 * failure is rolled back and reported in one line on stderr, which virt-manager shows; the
 * step timeline goes to syslog. */
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "basic/bitmap.h"
#include "basic/parse.h"
#include "cli/cli.h"
#include "cli/session.h"
#include "cli/verbs.h"
#include "handoff/lend-once.h"
#include "handoff/transition.h"
#include "handoff/unreset.h"
#include "host/host.h"
#include "libvirt/domain.h"
#include "libvirt/lend-set.h"
#include "libvirt/settings.h"

/* Where the hook's log goes: syslog on the real machine (journald keeps it under the tag
 * gpu-handoff). Under a fake root (--root, GPU_HANDOFF_ROOT: tests) the host's syslog is not the
 * fake machine's: the lines go to stderr instead, each marked "log:". */
static bool log_to_stderr;

_printf_(2, 3) static void hook_log(int priority, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        if (log_to_stderr) {
                fputs("gpu-handoff: log: ", stderr);
                vfprintf(stderr, fmt, ap);
                fputc('\n', stderr);
        } else
                vsyslog(priority, fmt, ap);
        va_end(ap);
}

/* The timeline, line by line, to the log. */
static void log_run(const char *vm, const char *verb, const struct engine_run *run)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return;
        print_timeline(f, verb, run);
        if (fclose(f) != 0)
                return;
        for (char *line = strtok(text, "\n"); line; line = strtok(NULL, "\n"))
                hook_log(LOG_INFO, "%s %s:%s", vm, verb, line);
}

/* One line for virt-manager's error dialog, and the same to syslog (not twice on stderr). */
_printf_(2, 3) static int hook_fail(int status, const char *fmt, ...)
{
        _cleanup_free_ char *line = NULL;
        va_list ap;

        va_start(ap, fmt);
        if (vasprintf(&line, fmt, ap) < 0)
                line = NULL;
        va_end(ap);
        fprintf(stderr, "gpu-handoff: %s\n", line ? line : "out of memory");
        if (!log_to_stderr)
                syslog(LOG_ERR, "%s", line ? line : "out of memory");
        return status;
}

/* The domain's hugepages and vCPU pinning, where the configuration leaves the defaults. */
static int settings_from_domain(const struct cli *cli, const struct domain *d, struct config *c)
{
        _cleanup_free_ char *error = NULL;
        uint64_t online[BITMAP_WORDS(CPULIST_BITS)];
        int r;

        r = domain_settings_apply(d, cpu_online_read(cli->sr, online) >= 0 ? online : NULL, c, &error);
        return r < 0 ? hook_fail(r == -ENOMEM ? EXIT_ERROR : EXIT_NOT_READY, "%s: %s", d->name,
                                 error ? error : strerror(-r))
                     : EXIT_OK;
}

/* The lend set (libvirt/lend-set.h), each hostdev left to libvirt named in the log: the hook goes
 * on, never failing the start over one. */
static int devices_to_lend(const struct cli *cli, const struct domain *d, struct lend_set *ret)
{
        _cleanup_free_ char *error = NULL;
        int r = lend_set_read(cli->sr, d, ret, &error);

        for (size_t i = 0; i < ret->n_skipped; i++)
                hook_log(LOG_NOTICE, "%s: hostdev %s %s: left to libvirt", d->name, ret->skipped[i].address,
                         lend_skip_reason_to_string(ret->skipped[i].reason));
        if (r < 0)
                return error ? hook_fail(EXIT_ERROR, "%s: %s", d->name, error) : hook_fail(EXIT_ERROR, "out of memory");
        return EXIT_OK;
}

/* "hook NAME": what the journal's attach phase says when this hook lent the GPU to NAME. */
static char *owner_command(const char *vm)
{
        char *s = NULL;
        return asprintf(&s, "hook %s", vm) < 0 ? NULL : s;
}

/* The VM's own settings are vm.d/NAME.conf. libvirt accepts names that cannot name that file
 * (251 to 255 bytes, NAME_MAX less ".conf"): such a VM has no file of its own, the settings of
 * gpu-handoff.conf apply, and its start goes on. */
static void use_vm_settings(struct cli *cli, const char *vm)
{
        const char *problem = config_vm_name_problem(vm);

        if (problem)
                hook_log(LOG_NOTICE, "%s: no file in /" CONFIG_VM_DIR " can name this VM (%s): the settings of /"
                         CONFIG_PATH " apply", vm, problem);
        else
                cli->vm = vm;
}

/* What libvirt should have taken from vfio-pci and did not (libvirt/give-back.h), the hook takes,
 * so that the host's drivers can have it back: at "release end", when QEMU is gone, and before
 * recovering a transition a crashed hook left (nothing while a VM still holds it). Said in the
 * hook's log, a failure in its one line. */
static void taken_in_log(const char *vm, const char *address)
{
        hook_log(LOG_NOTICE,
                 "%s: libvirt left %s on vfio-pci (it keeps a device once used as managed='no' unmanaged until "
                 "libvirtd restarts): the hook took it from vfio-pci",
                 vm, address);
}

static int failed_in_log(const char *vm, int r, const char *error)
{
        if (r == -ENOMEM)
                return hook_fail(EXIT_ERROR, "out of memory");
        return hook_fail(EXIT_NEEDS_RECOVER, "%s: cannot give the GPU back: %s; fix that, then run gpu-handoff recover",
                         vm, error ? error : strerror(-r));
}

static int give_back_what_libvirt_kept(const struct handoff_session *s, const struct journal_state *st,
                                       const char *vm)
{
        return session_give_back(s, st, &(const struct give_back_voice){vm, taken_in_log, failed_in_log});
}

/* A journal from before: finish what a crash left; refuse while another VM has the GPU.
 * *lent: this VM has it already (libvirt retried a start). */
static int settle(struct cli *cli, struct handoff_session *s, const char *vm, bool *lent)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ char *error = NULL;
        struct transition_settlement old;
        int r = journal_check(cli, &st);

        *lent = false;
        if (r != 1)
                return r;
        r = transition_settle(&s->ctx, st, s->command, &old, &error);
        if (r < 0)
                return hook_fail(EXIT_ERROR, "%s", error ? error : strerror(-r));
        switch (old.outcome) {
        case TRANSITION_SETTLE_OWN:
                *lent = true;
                return EXIT_OK;
        case TRANSITION_SETTLE_LENT:
                return hook_fail(EXIT_NOT_READY, "%s: the GPU is lent already (%s, by \"%s\"); stop that VM first", vm,
                                 old.devices ? old.devices : "?", old.command ? old.command : "?");
        case TRANSITION_SETTLE_EMPTY: /* what the hook has always said of it (it went through recover) */
                print_undone_quietly("recover");
                return EXIT_OK;
        case TRANSITION_SETTLE_INTERRUPTED: /* as recover does: what libvirt kept goes back first */
                r = give_back_what_libvirt_kept(s, st, vm);
                return r == EXIT_OK ? revert_journal(cli, s, "recover", false) : r;
        default:
                return EXIT_OK;
        }
}

/* Plans the hand-over of the devices and the room for the guest, and runs it. */
static int attach(struct cli *cli, struct handoff_session *s, const struct domain *d, const struct config *c,
                  const struct strv *lend)
{
        _cleanup_(quirk_db_freep) struct quirk_db *quirks = NULL;
        _cleanup_(host_freep) struct host *h = NULL;
        _cleanup_(plan_freep) struct plan *p = NULL;
        _cleanup_(engine_run_freep) struct engine_run *run = NULL;
        _cleanup_free_ char *error = NULL;
        _cleanup_free_ char *consent = NULL;
        struct plan_options opts = {.with_group = c->with_group, .yes = c->single_gpu,
                                    .terminate = c->holders == HOLDER_POLICY_TERMINATE};
        int r;

        if ((cli->vm ? asprintf(&consent, "set SingleGPU=yes in /" CONFIG_VM_DIR "/%s.conf to allow it", d->name)
                     : asprintf(&consent, "set SingleGPU=yes in /" CONFIG_PATH " to allow it")) < 0)
                return hook_fail(EXIT_ERROR, "out of memory");
        opts.consent = consent;
        struct strv names = {0}, managed = {0};

        if (cli_load_quirks(cli, &quirks) < 0) /* keep-efifb and friends shape the plan */
                return EXIT_ERROR;
        r = host_read(cli->sr, quirks, HOST_PLATFORM, &h);
        if (r < 0)
                return hook_fail(EXIT_ERROR, "cannot read the host: %s", strerror(-r));
        r = lend_set_names(h, d, lend, &names, &opts.force);
        if (r >= 0 && names.n == 0) { /* only managed devices libvirt binds itself */
                strv_done(&names);
                return EXIT_OK;
        }
        if (r >= 0)
                r = lend_set_caller_binds(d, &managed);
        opts.caller_binds = managed.v;
        opts.n_caller_binds = managed.n;
        if (r >= 0)
                r = plan_attach(h, names.v, names.n, &opts, &p, &error);
        if (r >= 0)
                r = lend_once_check(h->sr, p->gpu, NULL, &error);
        strv_done(&names);
        strv_done(&managed);
        if (r >= 0)
                r = plan_room_read(h, c, &s->self);
        if (r >= 0)
                r = plan_room(h, &s->ctx, c, p, &error);
        if (r < 0)
                return hook_fail(r == -ENOMEM ? EXIT_ERROR : EXIT_NOT_READY, "%s: %s", d->name,
                                 error ? error : strerror(-r));
        r = transition_attach(&s->ctx, &s->self, s->command, p, &run, &error);
        if (!run)
                return hook_fail(EXIT_ERROR, "%s: cannot start the journal, nothing was changed: %s", d->name,
                                 error ? error : strerror(-r));
        log_run(d->name, "attach", run);
        if (r < 0)
                return hook_fail(run->host_intact ? EXIT_ROLLED_BACK : EXIT_NEEDS_RECOVER,
                                 "%s: cannot lend the GPU: %s; %s (journalctl -t gpu-handoff has every step)", d->name,
                                 run->failed >= 0 && run->outcomes[run->failed].message ? run->outcomes[run->failed].message
                                                                                         : strerror(-r),
                                 run->host_intact ? "the host is as before" : "run gpu-handoff recover");
        hook_log(LOG_INFO, "%s: lent %s", d->name, lend->v[0]);
        return EXIT_OK;
}

static int prepare(struct cli *cli, const char *vm)
{
        _cleanup_(domain_freep) struct domain *d = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_free_ char *xml = NULL, *error = NULL, *what = owner_command(vm);
        struct handoff_session s = {0};
        struct lend_set lend = {0};
        size_t len = 0;
        bool lent;
        int r;

        if (!what)
                return hook_fail(EXIT_ERROR, "out of memory");
        r = read_fd_full(STDIN_FILENO, DOMAIN_XML_MAX, &xml, &len);
        if (r < 0)
                return hook_fail(EXIT_NOT_READY, "%s: cannot read the domain XML on stdin: %s", vm,
                                 r == -EFBIG ? "larger than 1 MiB" : strerror(-r));
        r = domain_parse(xml, len, &d, &error);
        if (r < 0)
                return hook_fail(EXIT_NOT_READY, "%s: %s", vm, error ? error : strerror(-r));
        if (strcmp(d->name, vm) != 0)
                return hook_fail(EXIT_NOT_READY, "libvirt named the VM \"%s\" but its XML says \"%s\"", vm, d->name);
        r = devices_to_lend(cli, d, &lend);
        /* No PCI hostdev, or all on vfio-pci already: nothing to do, nothing read beyond this. */
        if (r == EXIT_OK && lend.devices.n > 0) {
                use_vm_settings(cli, vm);
                r = cli_load_config(cli, &c);
                if (r == EXIT_OK)
                        r = settings_from_domain(cli, d, c);
                if (r == EXIT_OK)
                        r = session_begin(cli, what, c, &s);
                if (r == EXIT_OK && (r = settle(cli, &s, vm, &lent)) == EXIT_OK && !lent)
                        r = attach(cli, &s, d, c, &lend.devices);
                session_end(&s);
        }
        lend_set_done(&lend);
        return r;
}

/* "release end" also follows a start that failed after "prepare": whatever this hook lent to the
 * VM goes back; a journal of another VM, or none, is left alone. */
static int release(struct cli *cli, const char *vm)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(engine_run_freep) struct engine_run *run = NULL;
        _cleanup_free_ char *what = owner_command(vm), *error = NULL, *trouble = NULL;
        struct handoff_session s = {0};
        struct step *steps = NULL;
        size_t n_steps = 0;
        int r;

        if (!what)
                return hook_fail(EXIT_ERROR, "out of memory");
        r = journal_check(cli, &st);
        if (r != 1)
                return r;
        if (!st->n_phases || !st->phases[0].command || strcmp(st->phases[0].command, what) != 0)
                return EXIT_OK;
        use_vm_settings(cli, vm);
        if (cli_load_config(cli, &c) != EXIT_OK && config_new_default(&c) < 0)
                return hook_fail(EXIT_ERROR, "out of memory");
        r = session_begin(cli, what, c, &s);
        if (r != EXIT_OK)
                return r;
        r = give_back_what_libvirt_kept(&s, st, vm);
        if (r != EXIT_OK) {
                session_end(&s);
                return r;
        }
        r = transition_undo(&s.ctx, &s.self, s.command, "release", &run, &steps, &n_steps, &error);
        if (run)
                log_run(vm, "release", run);
        if (r == -ENOENT)
                r = EXIT_OK; /* released meanwhile */
        else if (r < 0 && (trouble = journal_trouble(cli, "release", r, run)))
                r = hook_fail(EXIT_NEEDS_RECOVER, "%s: %s", vm, trouble);
        else if (r < 0)
                r = hook_fail(EXIT_NEEDS_RECOVER, "%s: cannot give the GPU back: %s; fix that, then run gpu-handoff recover",
                              vm,
                              run && run->failed >= 0 && run->outcomes[run->failed].message
                                      ? run->outcomes[run->failed].message
                                      : error ? error : strerror(-r));
        else {
                _cleanup_free_ char *unreset = unreset_report(cli->sr, steps, n_steps);

                if (unreset)
                        hook_log(LOG_WARNING, "%s: %s", vm, unreset);
                else
                        hook_log(LOG_INFO, "%s: the GPU is back with the host", vm);
        }
        engine_run_free(TAKE_PTR(run)); /* before the steps it borrows */
        steps_free(steps, n_steps);
        session_end(&s);
        return r;
}

static int verb_hook(struct cli *cli, int argc, char **argv)
{
        const char *vm = argv[0], *op = argc > 1 ? argv[1] : "", *subop = argc > 2 ? argv[2] : "";
        const struct verb *sub;
        int r;

        /* libvirt always passes 3-4 arguments; one word is the admin's "install" / "uninstall". */
        if (argc == 1) {
                sub = verb_find(hook_install_verbs, argv[0]);
                if (!sub)
                        return cli_error("hook: \"%s\" is neither install nor uninstall (libvirt runs the hook itself, "
                                         "with VM OP SUBOP EXTRA; see gpu-handoff hook --help)",
                                         argv[0]);
                return sub->run(cli, argc, argv);
        }
        /* The hook runs for every event of every VM: everything else costs nothing. */
        bool lend = strcmp(op, "prepare") == 0 && strcmp(subop, "begin") == 0;
        bool give_back = strcmp(op, "release") == 0 && strcmp(subop, "end") == 0;
        if (!lend && !give_back)
                return EXIT_OK;
        log_to_stderr = strcmp(cli->sr->path, "/") != 0;
        if (!log_to_stderr)
                openlog("gpu-handoff", LOG_PID, LOG_DAEMON);
        r = lend ? prepare(cli, vm) : release(cli, vm);
        if (!log_to_stderr)
                closelog();
        return r;
}

/* libvirt runs hooks as /etc/libvirt/hooks/qemu or as a file in /etc/libvirt/hooks/qemu.d/. */
bool invoked_as_hook(const char *argv0)
{
        const char *slash = strrchr(argv0, '/');

        if (!slash)
                return false;
        return strcmp(slash, "/qemu") == 0 ? slash - argv0 >= 6 && strncmp(slash - 6, "/hooks", 6) == 0
                                           : slash - argv0 >= 7 && strncmp(slash - 7, "/qemu.d", 7) == 0;
}

const struct verb hook_verb = {
        .name = "hook",
        .args = "VM OP SUBOP [EXTRA] | install | uninstall",
        .min_args = 1,
        .max_args = 4,
        .run = verb_hook,
        .summary = "libvirt's QEMU hook (libvirt runs it), and putting it in place: install, uninstall",
        .description =
                "libvirt runs /etc/libvirt/hooks/qemu and every file in /etc/libvirt/hooks/qemu.d/ with the\n"
                "VM's name, the operation, the sub-operation and an extra argument, and the domain XML on\n"
                "stdin. Installed there by hook install (a link to gpu-handoff-hook, a small front that\n"
                "answers the other events itself), gpu-handoff acts on two events:\n"
                "\n"
                "  prepare begin  lends the VM's PCI hostdevs that the host still uses, as attach does,\n"
                "                 with the VM's settings: /etc/gpu-handoff/vm.d/VM.conf, else the domain's\n"
                "                 <memoryBacking><hugepages> and <cputune><vcpupin> (the host keeps the\n"
                "                 other CPUs). managed='yes' hostdevs are bound by libvirt, not the hook;\n"
                "                 without managed= a hostdev is unmanaged (as libvirt reads it). A hostdev\n"
                "                 this host does not have, or a bridge, is left to libvirt.\n"
                "                 Lending the GPU that drives the display needs SingleGPU=yes.\n"
                "  release end    gives back what the hook lent to that VM (and takes from vfio-pci a\n"
                "                 managed hostdev libvirt left there).\n"
                "\n"
                "Every other event, a VM without PCI hostdevs, or hostdevs already on vfio-pci: exit 0 at\n"
                "once, nothing read or changed. It never calls back into libvirt. A failure is rolled back\n"
                "and reported in one line on stderr (virt-manager shows it); every step goes to syslog\n"
                "(journalctl -t gpu-handoff).\n"
                "\n"
                "Exit status: 0, 1 refused (libvirt does not start the VM), 3 rolled back after a failure,\n"
                "4 the host needs gpu-handoff recover.\n",
        .subverbs = hook_install_verbs,
        .options = (const struct verb_option[]){
                {"json", .help = "what install or uninstall found and did, as a JSON document"},
                {},
        },
        .column = 17,
        .epilog = "Exit status of install and uninstall: 0 (also when there is nothing to do), 1 refused\n"
                  "(nothing changed; the message says why), 2 error.\n",
};
