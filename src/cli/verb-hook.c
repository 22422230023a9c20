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
#include "cli/handoff.h"
#include "handoff/transition.h"
#include "host/host.h"
#include "libvirt/domain.h"
#include "libvirt/give-back.h"
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

static const struct domain_hostdev *hostdev_of(const struct domain *d, const char *address)
{
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                char a[PCI_ADDR_STRLEN];
                if (strcmp(pci_addr_format(&d->hostdevs[i].host, a), address) == 0)
                        return &d->hostdevs[i];
        }
        return NULL;
}

/* managed='yes': libvirt binds vfio-pci itself after "prepare" and unbinds it before "release";
 * the hook only frees those devices from the host. */
static int managed_hostdevs(const struct domain *d, struct strv *ret)
{
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                char a[PCI_ADDR_STRLEN];
                if (d->hostdevs[i].managed && strv_addf(ret, "%s", pci_addr_format(&d->hostdevs[i].host, a)) < 0)
                        return -ENOMEM;
        }
        return 0;
}

static bool listed(const struct strv *v, const char *s)
{
        for (size_t i = 0; i < v->n; i++)
                if (strcmp(v->v[i], s) == 0)
                        return true;
        return false;
}

static bool is_bridge(const struct cli *cli, const char *address)
{
        char path[96], buf[32];
        uint32_t class;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/class", address);
        return sysroot_read_attr(cli->sr, path, buf, sizeof(buf)) >= 0 && sysfs_parse_hex(buf, 0xffffff, &class) >= 0 &&
               (class >> 16) == 0x06;
}

/* The hostdevs the host still has (not on vfio-pci), each once, by address; none: nothing to
 * do. A hostdev this host does not have, or a bridge, is none of the hook's business: libvirt
 * decides about it (and refuses it where it must); the hook says so in the log and goes on,
 * never failing the start over it. */
static int devices_to_lend(const struct cli *cli, const struct domain *d, struct strv *ret)
{
        for (size_t i = 0; i < d->n_hostdevs; i++) {
                char a[PCI_ADDR_STRLEN], driver[64];
                int r;

                pci_addr_format(&d->hostdevs[i].host, a);
                if (listed(ret, a))
                        continue; /* named twice */
                r = pci_current_driver(cli->sr, a, driver, sizeof(driver));
                if (r == -ENOENT || r == -ENODEV) {
                        hook_log(LOG_NOTICE, "%s: hostdev %s is not on this host's PCI bus: left to libvirt", d->name, a);
                        continue;
                }
                if (r < 0)
                        return hook_fail(EXIT_ERROR, "%s: cannot read the driver of %s: %s", d->name, a, strerror(-r));
                if (is_bridge(cli, a)) {
                        hook_log(LOG_NOTICE, "%s: hostdev %s is a PCI bridge, which stays with the host: left to libvirt",
                                 d->name, a);
                        continue;
                }
                if ((r == 0 || strcmp(driver, "vfio-pci") != 0) && strv_addf(ret, "%s", a) < 0)
                        return hook_fail(EXIT_ERROR, "out of memory");
        }
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
 * recovering a transition a crashed hook left (nothing while a VM still holds it). */
static int give_back_what_libvirt_kept(const struct handoff_session *s, const struct journal_state *st,
                                       const char *vm)
{
        _cleanup_free_ char *error = NULL;
        struct strv taken = {0};
        int r = libvirt_give_back(&s->ctx, st, &taken, &error);

        for (size_t i = 0; i < taken.n; i++)
                hook_log(LOG_NOTICE,
                         "%s: libvirt left %s on vfio-pci (it keeps a device once used as managed='no' unmanaged "
                         "until libvirtd restarts): the hook took it from vfio-pci",
                         vm, taken.v[i]);
        strv_done(&taken);
        if (r == -ENOMEM)
                return hook_fail(EXIT_ERROR, "out of memory");
        if (r < 0)
                return hook_fail(EXIT_NEEDS_RECOVER, "%s: cannot give the GPU back: %s; fix that, then run gpu-handoff recover",
                                 vm, error ? error : strerror(-r));
        return EXIT_OK;
}

/* A journal from before: finish what a crash left; refuse while another VM has the GPU.
 * *lent: this VM has it already (libvirt retried a start). */
static int settle(struct cli *cli, struct handoff_session *s, const char *vm, bool *lent)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        int r = journal_check(cli, &st);

        *lent = false;
        if (r != 1)
                return r;
        switch (journal_state_outcome(st)) {
        case JOURNAL_OUTCOME_ATTACHED:
                *lent = st->n_phases && st->phases[0].command && strcmp(st->phases[0].command, s->command) == 0;
                if (*lent)
                        return EXIT_OK;
                return hook_fail(EXIT_NOT_READY, "%s: the GPU is lent already (%s, by \"%s\"); stop that VM first", vm,
                                 st->n_phases && st->phases[0].devices ? st->phases[0].devices : "?",
                                 st->n_phases && st->phases[0].command ? st->phases[0].command : "?");
        case JOURNAL_OUTCOME_ROLLED_BACK:
        case JOURNAL_OUTCOME_RELEASED:
                return journal_remove(cli->sr) < 0 ? hook_fail(EXIT_ERROR, "cannot remove the old journal") : EXIT_OK;
        default: /* as recover does: what libvirt kept of a transition the hook started goes back first */
                r = libvirt_started(st) ? give_back_what_libvirt_kept(s, st, vm) : EXIT_OK;
                return r == EXIT_OK ? revert_journal(cli, s, "recover", false) : r;
        }
}

/* Plans the hand-over of the devices and the room for the guest, and runs it. */
static const struct gpu *gpu_of(const struct host *h, const char *address)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                if (strcmp(h->gpus[i].dev->address, address) == 0)
                        return &h->gpus[i];
        return NULL;
}

/* A companion (HDMI audio, USB-C) of a GPU the domain also passes: it goes along with that GPU. */
static bool goes_with_its_gpu(const struct host *h, const struct domain *d, const char *address)
{
        for (size_t i = 0; i < h->n_gpus; i++)
                for (size_t k = 0; k < h->gpus[i].n_companions; k++)
                        if (strcmp(h->gpus[i].companions[k]->address, address) == 0 &&
                            hostdev_of(d, h->gpus[i].dev->address))
                                return true;
        return false;
}

/* What the hook names to plan_attach(): the GPUs, whose companions come along; a device that is
 * neither only when managed='no' says the hook binds it (libvirt binds a managed one itself). */
static int devices_to_name(const struct host *h, const struct domain *d, const struct strv *lend, struct strv *ret,
                           bool *ret_force)
{
        *ret_force = false;
        for (size_t i = 0; i < lend->n; i++) {
                const struct domain_hostdev *hd = hostdev_of(d, lend->v[i]);

                if (!gpu_of(h, lend->v[i])) {
                        if (goes_with_its_gpu(h, d, lend->v[i]) || (hd && hd->managed))
                                continue;
                        *ret_force = true;
                }
                if (strv_addf(ret, "%s", lend->v[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

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
        r = devices_to_name(h, d, lend, &names, &opts.force);
        if (r >= 0 && names.n == 0) { /* only managed devices libvirt binds itself */
                strv_done(&names);
                return EXIT_OK;
        }
        if (r >= 0)
                r = managed_hostdevs(d, &managed);
        opts.caller_binds = managed.v;
        opts.n_caller_binds = managed.n;
        if (r >= 0)
                r = plan_attach(h, names.v, names.n, &opts, &p, &error);
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
        struct strv lend = {0};
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
        if (r == EXIT_OK && lend.n > 0) {
                use_vm_settings(cli, vm);
                r = cli_load_config(cli, &c);
                if (r == EXIT_OK)
                        r = settings_from_domain(cli, d, c);
                if (r == EXIT_OK)
                        r = session_begin(cli, what, c, &s);
                if (r == EXIT_OK && (r = settle(cli, &s, vm, &lent)) == EXIT_OK && !lent)
                        r = attach(cli, &s, d, c, &lend);
                session_end(&s);
        }
        strv_done(&lend);
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
        else
                hook_log(LOG_INFO, "%s: the GPU is back with the host", vm);
        engine_run_free(TAKE_PTR(run)); /* before the steps it borrows */
        steps_free(steps, n_steps);
        session_end(&s);
        return r;
}

int verb_hook(struct cli *cli, int argc, char **argv)
{
        const char *vm = argv[0], *op = argc > 1 ? argv[1] : "", *subop = argc > 2 ? argv[2] : "";
        int r;

        /* libvirt always passes 3-4 arguments; one word is the admin's "install" / "uninstall". */
        if (argc == 1)
                return hook_install_verb(cli, argc, argv);
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
