/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff setup [status | undo]: brings the host to "passthrough ready" at boot (the IOMMU's
 * kernel arguments, the boot-time vfio-pci binding, the initramfs), shows every change as a diff
 * first, and takes it back byte for byte. The work is in src/setup/; this prints, asks, reports. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/diff.h"
#include "basic/parse.h"
#include "basic/quote.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "change/commands.h"
#include "change/engine.h"
#include "change/lock.h"
#include "cli/cli.h"
#include "cli/json.h"
#include "cli/session.h"
#include "cli/verbs.h"
#include "host/host.h"
#include "setup/looking-glass.h"
#include "setup/setup.h"
#include "setup/steps.h"

#define SETUP_LOCK_USEC (15 * USEC_PER_SEC)

static bool arg_dry_run, arg_yes, arg_disable_idle_d3, arg_vendor_reset;
static const char *arg_bootloader, *arg_initramfs;
static struct strv arg_vfio;
static struct lg_request arg_lg;
static const char *arg_looking_glass, *arg_lg_version;

/* --looking-glass and --lg-version, read as strings (xml's --looking-glass takes other values)
 * and checked here. */
static int check_looking_glass(void)
{
        _cleanup_free_ char *error = NULL;
        int v;

        if (arg_looking_glass && lg_mode_parse(arg_looking_glass, &arg_lg.mode, &error) < 0)
                return cli_error("setup: --looking-glass %s", error ?: "out of memory");
        if (!arg_lg_version)
                return EXIT_OK;
        if (!arg_looking_glass)
                return cli_error("setup: --lg-version needs --looking-glass WIDTHxHEIGHT");
        v = lg_version_from_string(arg_lg_version);
        if (v < 0)
                return cli_error("setup: --lg-version %s: expected B7 (B7 and earlier) or current (after B7)",
                                 arg_lg_version);
        arg_lg.version = v;
        return EXIT_OK;
}

static int parse_vfio(struct cli *cli, const char *value)
{
        struct pci_addr a;
        char buf[PCI_ADDR_STRLEN];

        if (pci_addr_parse_user(value, &a) < 0)
                return cli_error(
                    "--vfio %s: not a PCI address; expected DDDD:BB:DD.F or BB:DD.F (see gpu-handoff list)",
                    value);
        pci_addr_format(&a, buf);
        for (size_t i = 0; i < arg_vfio.n; i++)
                if (strcmp(arg_vfio.v[i], buf) == 0)
                        return EXIT_OK;
        return strv_addf(&arg_vfio, "%s", buf) < 0 ? cli_error("out of memory") : EXIT_OK;
}

/* ---- the plan, for people ---- */

static const char *action_word(enum setup_file_action a)
{
        return a == SETUP_FILE_CREATE ? "create" : a == SETUP_FILE_MODIFY ? "modify" : "remove";
}

static void print_argv(const char *prefix, char *const *argv)
{
        fputs(prefix, stdout);
        for (size_t i = 0; argv[i]; i++) {
                char q[QUOTE_BUF];
                bool plain = argv[i][0] && !strpbrk(argv[i], " \t\"'\\$`");
                printf(plain ? " %s" : " '%s'", quote(argv[i], q));
        }
        putchar('\n');
}

static void print_plan(const struct setup_plan *p, bool undo)
{
        _cleanup_free_ char *add = strv_join(p->args_add.v, " "), *rm = strv_join(p->args_remove.v, " ");

        printf("bootloader: %s\n", bootloader_to_string(p->bootloader) ?: "(none)");
        printf("initramfs: %s\n", initramfs_to_string(p->initramfs) ?: "(none)");
        if (add && *add)
                printf("kernel arguments added: %s\n", add);
        if (rm && *rm)
                printf("kernel arguments removed: %s\n", rm);
        if (p->vfio.n) {
                _cleanup_free_ char *v = strv_join(p->vfio.v, " ");
                printf(undo ? "no longer bound to vfio-pci at boot: %s\n"
                            : "bound to vfio-pci at boot: %s\n",
                       v ?: "");
        }
        for (size_t i = 0; i < p->n_files; i++) {
                const struct setup_file *f = &p->files[i];
                _cleanup_free_ char *d =
                    diff_unified(f->before ?: "", f->before_len, f->after ?: "", f->after_len);

                printf("\n%s %s", action_word(f->action), f->path);
                if (f->action == SETUP_FILE_CREATE && f->mode)
                        printf(" (mode %04o)", f->mode);
                printf("\n--- %s%s\n+++ %s%s\n%s", f->action == SETUP_FILE_CREATE ? "/dev/null" : "a",
                       f->action == SETUP_FILE_CREATE ? "" : f->path,
                       f->action == SETUP_FILE_REMOVE ? "/dev/null" : "b",
                       f->action == SETUP_FILE_REMOVE ? "" : f->path, d ?: "(out of memory)\n");
        }
        if (p->n_commands)
                putchar('\n');
        for (size_t i = 0; i < p->n_commands; i++)
                print_argv("run:", p->commands[i].argv);
        for (size_t i = 0; i < p->n_checks; i++) {
                _cleanup_free_ char *tokens = strv_join(p->checks[i].tokens, " ");
                printf("check: %s holds %s\n", p->checks[i].what, tokens ?: "");
        }
}

/* What the next boot does and the way back. */
static void print_notes(const struct setup_plan *p)
{
        if (p->notes.n)
                putchar('\n');
        for (size_t i = 0; i < p->notes.n; i++)
                printf("note: %s\n", p->notes.v[i]);
}

static json_object *json_strv(char *const *v)
{
        json_object *a = json_object_new_array();

        for (size_t i = 0; a && v && v[i]; i++)
                json_object_array_add(a, json_object_new_string(v[i]));
        return a;
}

/* The plan as docs/json.md has it; NULL when out of memory. */
static json_object *plan_json(const struct setup_plan *p)
{
        _cleanup_json_ json_object *doc = json_new_document();
        json_object *args = json_object_new_object(), *files = json_object_new_array(),
                    *commands = json_object_new_array();

        if (!doc || !args || !files || !commands) {
                json_object_put(args);
                json_object_put(files);
                json_object_put(commands);
                return NULL;
        }
        json_object_object_add(doc, "bootloader", json_string_or_null(bootloader_to_string(p->bootloader)));
        json_object_object_add(doc, "initramfs", json_string_or_null(initramfs_to_string(p->initramfs)));
        json_object_object_add(args, "add", json_strv(p->args_add.v));
        json_object_object_add(args, "remove", json_strv(p->args_remove.v));
        json_object_object_add(doc, "kernel_args", args);
        json_object_object_add(doc, "vfio", json_strv(p->vfio.v));
        for (size_t i = 0; i < p->n_files; i++) {
                const struct setup_file *f = &p->files[i];
                json_object *o = json_object_new_object();
                if (!o) {
                        json_object_put(files);
                        json_object_put(commands);
                        return NULL;
                }
                json_object_object_add(o, "path", json_object_new_string(f->path));
                json_object_object_add(o, "action", json_object_new_string(action_word(f->action)));
                json_object_object_add(
                    o, "content", f->after ? json_object_new_string_len(f->after, (int)f->after_len) : NULL);
                json_object_array_add(files, o);
        }
        json_object_object_add(doc, "files", files);
        for (size_t i = 0; i < p->n_commands; i++)
                json_object_array_add(commands, json_strv(p->commands[i].argv));
        json_object_object_add(doc, "commands", commands);
        json_object_object_add(doc, "notes", json_strv(p->notes.v));
        json_object_object_add(doc, "refused", json_string_or_null(p->refused));
        return TAKE_PTR(doc);
}

/* The plan, and after applying or undoing it the outcome and each step reached. */
static int print_plan_json(const struct setup_plan *p, const char *outcome, const struct engine_run *run)
{
        _cleanup_json_ json_object *doc = plan_json(p);
        json_object *steps = json_object_new_array();

        if (!doc || !steps) {
                json_object_put(steps);
                return -ENOMEM;
        }
        for (size_t i = 0; run && i < run->n_steps; i++) {
                const struct step_outcome *o = &run->outcomes[i];
                json_object *js = json_object_new_object();
                _cleanup_free_ char *text = change_domain_describe(&setup_domain, &run->steps[i]);

                if (!js) {
                        json_object_put(steps);
                        return -ENOMEM;
                }
                json_object_object_add(js, "step", json_string_or_null(text));
                json_object_object_add(js, "state", json_object_new_string(outcome_to_string(o->state)));
                json_object_object_add(js, "usec", json_object_new_int64((int64_t)o->usec));
                json_object_object_add(js, "message", json_string_or_null(o->message));
                json_object_array_add(steps, js);
        }
        if (outcome) {
                json_object_object_add(doc, "outcome", json_object_new_string(outcome));
                json_object_object_add(doc, "steps", steps);
        } else
                json_object_put(steps);
        return json_print(doc);
}

/* Asks on the terminal; false without one (the plan was shown: that is the answer then). */
static bool confirm(const char *question)
{
        char answer[16];

        if (!isatty(STDIN_FILENO)) {
                printf("\nnot applied: no terminal to confirm on; run it again with --yes to apply this "
                       "plan\n");
                return false;
        }
        printf("\n%s [y/N] ", question);
        fflush(stdout);
        if (!fgets(answer, sizeof(answer), stdin) || (answer[0] != 'y' && answer[0] != 'Y')) {
                printf("not applied\n");
                return false;
        }
        return true;
}

/* Commands run inside the root: this machine's own for "/", the mounted system's for --root
 * (chrooted there in a mount namespace of their own, as arch-chroot runs them). */
static const struct commands *commands_for(const struct cli *cli)
{
        static struct commands in_root;

        in_root = commands_in_root(cli->sr->path);
        return &in_root;
}

static void print_steps(FILE *f, const struct engine_run *run, bool backwards)
{
        for (size_t k = 0; run && k < run->n_steps; k++) {
                size_t i = backwards ? run->n_steps - 1 - k : k;
                const struct step_outcome *o = &run->outcomes[i];
                _cleanup_free_ char *raw = change_domain_describe(&setup_domain, &run->steps[i]),
                                    *text = raw ? quote_dup(raw, SIZE_MAX) : NULL;

                if (o->state == OUTCOME_PENDING)
                        continue;
                fprintf(f, "  %-13s %6llu ms  %s\n", outcome_to_string(o->state),
                        (unsigned long long)(o->usec / 1000), text ?: "?");
                if (o->message && o->state != OUTCOME_DONE && o->state != OUTCOME_REVERTED)
                        fprintf(f, "  %-13s %9s  %s\n", "", "", o->message);
        }
}

static void print_conflict(const struct cli *cli)
{
        struct setup_conflict c = {0};

        if (setup_conflict_read(cli->sr, &c, NULL) < 0)
                return;
        _cleanup_free_ char *mine = diff_unified(c.ours, c.ours_len, c.now ?: "", c.now_len);
        _cleanup_free_ char *back = diff_unified(c.before ?: "", c.before_len, c.ours, c.ours_len);
        fprintf(stderr,
                "gpu-handoff: setup undo: %s was changed since setup wrote it; it was not overwritten, and "
                "undo stopped "
                "there (the rest is still applied).\n",
                c.path);
        fprintf(stderr, "what setup changed (before -> setup):\n%s", back ?: "");
        fprintf(stderr, "what changed since (setup -> now):\n%s",
                c.now ? mine ?: "" : "(the file is gone)\n");
        fprintf(stderr,
                "Merge by hand: make %s what setup wrote, then run setup undo again; or make it what it was "
                "before and "
                "remove /var/lib/gpu-handoff/setup/ to forget the setup.\n",
                c.path);
        setup_conflict_done(&c);
}

/* ---- verbs ---- */

static int setup_lock(struct cli *cli, const char *what, struct change_lock **lock)
{
        /* A root where nothing runs (a system mounted at --root from a live USB, a fake tree) has no
         * transition to wait for and could not name us in the lock. */
        if (!sysroot_exists(cli->sr, "proc/self"))
                return EXIT_OK;
        return session_lock(cli, what, SETUP_LOCK_USEC, lock);
}

/* An interrupted setup or undo is settled before anything else (and by recover). */
int setup_settle(struct cli *cli)
{
        struct setup_status st = {0};
        _cleanup_free_ char *error = NULL;
        int r = setup_status_read(cli->sr, &st, &error);
        bool interrupted = r >= 0 && st.state == SETUP_STATE_INTERRUPTED;

        setup_status_done(&st);
        if (r < 0)
                return cli_error("setup: %s", error ?: strerror(-r));
        if (!interrupted)
                return EXIT_OK;
        if (arg_dry_run)
                return cli_error(
                    "setup: an earlier setup or undo was interrupted; run gpu-handoff setup undo (or "
                    "recover) first");
        FILE *out = cli->json ? stderr : stdout;
        fprintf(out, "an earlier setup or undo was interrupted: undoing what it left first\n");
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        r = setup_undo(cli->sr, commands_for(cli), "recover", &run, &steps, &n, &error);
        print_steps(out, run, true);
        engine_run_free(run);
        steps_free(steps, n);
        if (r < 0 && r != -ENOENT)
                return cli_error("setup: cannot undo the interrupted setup: %s", error ?: strerror(-r)),
                       EXIT_NEEDS_RECOVER;
        return EXIT_OK;
}

static int setup_undo_verb(struct cli *cli)
{
        _cleanup_change_lock_ struct change_lock *lock = NULL;
        _cleanup_free_ char *error = NULL;
        _cleanup_(setup_plan_done) struct setup_plan p = {0};
        int r;

        if (!arg_dry_run) {
                r = setup_lock(cli, "setup undo", &lock);
                if (r != EXIT_OK)
                        return r;
        }
        r = setup_undo_plan(cli->sr, &p, &error);
        if (r == -ENOENT) {
                if (cli->json)
                        return print_plan_json(&p, arg_dry_run ? NULL : "nothing", NULL) < 0 ? EXIT_ERROR
                                                                                             : EXIT_OK;
                printf("setup changed nothing on this host (no /%s); nothing to undo\n", SETUP_JOURNAL_PATH);
                return EXIT_OK;
        }
        if (r < 0)
                return cli_error("setup undo: %s", error ?: strerror(-r));
        if (cli->json && arg_dry_run)
                return print_plan_json(&p, NULL, NULL) < 0 ? EXIT_ERROR : EXIT_OK;
        if (!cli->json)
                print_plan(&p, true);
        if (arg_dry_run || (!arg_yes && !confirm("Undo the setup?")))
                return EXIT_OK;

        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        if (!cli->json)
                printf("\n");
        r = setup_undo(cli->sr, commands_for(cli), "undo", &run, &steps, &n, &error);
        if (cli->json)
                (void)print_plan_json(&p, r == 0 || r == -ENOENT ? "undone" : "stopped", run);
        else
                print_steps(stdout, run, true);
        engine_run_free(run);
        steps_free(steps, n);
        if (r == -ESTALE) {
                print_conflict(cli);
                return EXIT_NEEDS_RECOVER;
        }
        if (r < 0 && r != -ENOENT) {
                cli_error("setup undo: %s", error ?: strerror(-r));
                return EXIT_NEEDS_RECOVER;
        }
        if (!cli->json)
                printf("undone: every file is back as it was; reboot once to boot without the setup\n");
        return EXIT_OK;
}

/* What setup --looking-glass asked for (our modprobe.d file) and what /dev/kvmfr0 is now. */
static void print_looking_glass(struct cli *cli)
{
        struct lg_setup_state lg;

        looking_glass_state_read(cli->sr, &lg);
        if (!lg.size_mib)
                return;
        enum lg_device_state dev = looking_glass_device_state(cli->sr, LG_DEVICE);
        printf("looking glass: kvmfr of %" PRIu32 " MiB", lg.size_mib);
        if (lg.mode.width)
                printf(" for %" PRIu32 "x%" PRIu32 "%s (Looking Glass %s)", lg.mode.width, lg.mode.height,
                       lg.mode.hdr ? "@hdr" : "", lg.version == LG_VERSION_B7 ? "B7" : "after B7");
        printf("; " LG_DEVICE " %s\n", dev == LG_DEVICE_CHAR    ? "is kvmfr's device"
                                      : dev == LG_DEVICE_FILE ? "is a plain file: stop the VMs, remove it, modprobe kvmfr"
                                                              : "is not there: kvmfr is not loaded (modprobe kvmfr)");
}

static json_object *looking_glass_json(struct cli *cli)
{
        struct lg_setup_state lg;
        json_object *o;
        char mode[64];

        looking_glass_state_read(cli->sr, &lg);
        if (!lg.size_mib || !(o = json_object_new_object()))
                return NULL;
        snprintf(mode, sizeof(mode), "%" PRIu32 "x%" PRIu32 "%s", lg.mode.width, lg.mode.height,
                 lg.mode.hdr ? "@hdr" : "");
        json_object_object_add(o, "size_mib", json_object_new_int64(lg.size_mib));
        json_object_object_add(o, "mode", lg.mode.width ? json_object_new_string(mode) : NULL);
        json_object_object_add(o, "lg_version", json_object_new_string(lg_version_to_string(lg.version)));
        json_object_object_add(
            o, "device", json_object_new_string(lg_device_state_to_string(looking_glass_device_state(cli->sr, LG_DEVICE))));
        return o;
}

static int setup_status_verb(struct cli *cli)
{
        struct setup_status st = {0};
        _cleanup_free_ char *error = NULL;
        int r = setup_status_read(cli->sr, &st, &error);

        if (r < 0)
                return cli_error("setup status: %s", error ?: strerror(-r));
        if (cli->json) {
                _cleanup_json_ json_object *doc = json_new_document();
                static const char *const states[] = {"none", "applied", "interrupted"};
                if (!doc)
                        return cli_error("out of memory");
                json_object_object_add(doc, "state", json_object_new_string(states[st.state]));
                json_object_object_add(doc, "since", json_string_or_null(st.since));
                json_object_object_add(doc, "kernel_args", json_strv(st.args_added.v));
                json_object_object_add(doc, "vfio", json_strv(st.vfio.v));
                json_object_object_add(doc, "files", json_strv(st.files.v));
                json_object_object_add(doc, "drifted", json_strv(st.drifted.v));
                json_object_object_add(doc, "reboot_pending", json_object_new_boolean(st.reboot_pending));
                json_object_object_add(doc, "running", json_object_new_boolean(!st.not_running));
                json_object_object_add(doc, "missing_args", json_strv(st.missing_args.v));
                json_object_object_add(doc, "not_on_vfio", json_strv(st.not_on_vfio.v));
                json_object_object_add(doc, "iommu_off", json_object_new_boolean(st.iommu_off));
                json_object_object_add(doc, "looking_glass", looking_glass_json(cli));
                r = json_print(doc);
                setup_status_done(&st);
                return r < 0 ? EXIT_ERROR : EXIT_OK;
        }
        switch (st.state) {
        case SETUP_STATE_NONE:
                printf("setup: not applied (gpu-handoff setup --dry-run shows what it would change)\n");
                break;
        case SETUP_STATE_INTERRUPTED:
                printf(
                    "setup: interrupted; gpu-handoff setup undo (or recover) puts back what it changed\n");
                break;
        case SETUP_STATE_APPLIED: {
                _cleanup_free_ char *args = strv_join(st.args_added.v, " "),
                                    *vfio = strv_join(st.vfio.v, " ");
                printf("setup: applied%s%s\n", st.since ? " on " : "", st.since ?: "");
                printf("kernel arguments added: %s\n", args && *args ? args : "(none)");
                if (st.vfio.n)
                        printf("bound to vfio-pci at boot: %s\n", vfio ?: "");
                for (size_t i = 0; i < st.files.n; i++)
                        printf("file: %s\n", st.files.v[i]);
                for (size_t i = 0; i < st.drifted.n; i++)
                        printf("changed since setup: %s (setup undo will not overwrite it)\n",
                               st.drifted.v[i]);
                print_looking_glass(cli);
                if (st.not_running)
                        printf("not running: the root has no /proc (a system mounted from a live USB): boot it to see the result\n");
                else if (st.reboot_pending)
                        printf("reboot pending: the running kernel booted before the setup; reboot once\n");
                else {
                        bool ok = !st.missing_args.n && !st.not_on_vfio.n && !st.iommu_off;
                        for (size_t i = 0; i < st.missing_args.n; i++)
                                printf("problem: the running kernel's command line lacks %s\n",
                                       st.missing_args.v[i]);
                        for (size_t i = 0; i < st.not_on_vfio.n; i++)
                                printf("problem: %s is not on vfio-pci\n", st.not_on_vfio.v[i]);
                        if (st.iommu_off)
                                printf("problem: the IOMMU is off (no IOMMU groups)\n");
                        printf(ok ? "confirmed: the running kernel shows the result\n"
                                  : "the setup did not take effect; gpu-handoff setup undo takes it back\n");
                }
                break;
        }
        }
        setup_status_done(&st);
        return EXIT_OK;
}

static int setup_apply_verb(struct cli *cli)
{
        _cleanup_change_lock_ struct change_lock *lock = NULL;
        _cleanup_free_ char *error = NULL;
        _cleanup_(setup_plan_done) struct setup_plan p = {0};
        _cleanup_(host_freep) struct host *h = NULL;
        int r;

        if (!arg_dry_run) {
                r = setup_lock(cli, "setup", &lock);
                if (r != EXIT_OK)
                        return r;
        }
        r = check_looking_glass();
        if (r != EXIT_OK)
                return r;
        r = setup_settle(cli);
        if (r != EXIT_OK)
                return r;

        /* The devices named with --vfio, their companions and groups: from the host model. */
        _cleanup_quirk_db_ struct quirk_db *quirks = NULL;
        if (arg_vendor_reset && (cli_load_quirks(cli, &quirks) < 0 || !quirks))
                return cli_error("setup: --vendor-reset needs the quirks database (its vendor-reset entries)");
        if (arg_vfio.n) {
                if (!quirks && cli_load_quirks(cli, &quirks) < 0)
                        return EXIT_ERROR;
                r = host_read(cli->sr, quirks, HOST_PLATFORM, &h);
                if (r < 0)
                        return cli_error("setup: cannot read the host below %s: %s", cli->root,
                                         strerror(-r));
        }
        /* A system mounted at --root from a live USB has no /proc of its own: the CPU it will
         * boot on is this one. */
        struct sysroot *running = NULL;
        if (strcmp(cli->sr->path, "/") != 0 && !sysroot_exists(cli->sr, "proc/cpuinfo") &&
            (r = sysroot_open("/", &running)) < 0)
                return cli_error("setup: cannot open /: %s", strerror(-r));
        struct setup_request req = {
                .running = running,
            .vfio = arg_vfio.v,
            .bootloader = arg_bootloader,
            .initramfs = arg_initramfs,
            .boot_gpu_ok = arg_yes,
            .disable_idle_d3 = arg_disable_idle_d3,
            .vendor_reset = arg_vendor_reset ? quirks : NULL,
            .looking_glass = arg_looking_glass ? &arg_lg : NULL,
        };
        r = setup_plan_make(cli->sr, h, &req, &p, &error);
        sysroot_free(running);
        if (r < 0) {
                cli_error("setup: %s", error ?: strerror(-r));
                /* evidence that does not decide (or none): refused, --bootloader / --initramfs decide */
                return r == -ENOTUNIQ || r == -EADDRNOTAVAIL ? EXIT_NOT_READY : EXIT_ERROR;
        }
        if (p.refused) {
                if (cli->json)
                        (void)print_plan_json(&p, NULL, NULL);
                cli_error("setup: %s", p.refused);
                return EXIT_NOT_READY;
        }
        if (!setup_plan_changes(&p)) {
                if (cli->json)
                        return print_plan_json(&p, arg_dry_run ? NULL : "nothing", NULL) < 0 ? EXIT_ERROR
                                                                                             : EXIT_OK;
                printf("nothing to change: the host is set up already (gpu-handoff setup status)\n");
                return EXIT_OK;
        }
        struct setup_status st = {0};
        bool applied = setup_status_read(cli->sr, &st, NULL) >= 0 && st.state == SETUP_STATE_APPLIED;
        setup_status_done(&st);
        if (applied)
                return cli_error("setup: setup is applied already, with other settings; gpu-handoff setup "
                                 "undo first, "
                                 "then setup with the new ones"),
                       EXIT_NOT_READY;
        if (cli->json && arg_dry_run)
                return print_plan_json(&p, NULL, NULL) < 0 ? EXIT_ERROR : EXIT_OK;
        if (!cli->json)
                print_plan(&p, false);
        if (arg_dry_run || (!arg_yes && !confirm("Apply this setup?"))) {
                print_notes(&p);
                return EXIT_OK;
        }

        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        if (!cli->json)
                printf("\n");
        r = setup_apply(cli->sr, commands_for(cli), &p, &run, &steps, &n, &error);
        bool intact = !run || run->host_intact;
        if (cli->json)
                (void)print_plan_json(&p, r == 0 ? "applied" : intact ? "rolled-back" : "needs-undo", run);
        else
                print_steps(stdout, run, false);
        engine_run_free(run);
        steps_free(steps, n);
        if (r < 0) {
                cli_error("setup: %s", error ?: strerror(-r));
                if (!intact)
                        return cli_error(
                                   "setup: not everything could be put back; run gpu-handoff setup undo"),
                               EXIT_NEEDS_RECOVER;
                fprintf(
                    stderr,
                    "gpu-handoff: setup: rolled back: every file is as it was and the generators ran again, "
                    "so the next boot is the old one\n");
                return EXIT_ROLLED_BACK;
        }
        if (cli->json)
                return EXIT_OK;
        printf("\napplied. Reboot once: the next boot starts with it; gpu-handoff setup status confirms it "
               "then.\n");
        print_notes(&p);
        printf("If that boot fails, boot once without it (see the notes above), then run gpu-handoff setup "
               "undo. "
               "From a live USB: mount the system at /mnt, then gpu-handoff --root /mnt setup undo.\n");
        return EXIT_OK;
}

static int verb_setup(struct cli *cli, int argc, char **argv)
{
        int r;

        if (argc == 0)
                r = setup_apply_verb(cli);
        else if (strcmp(argv[0], "undo") == 0)
                r = setup_undo_verb(cli);
        else if (strcmp(argv[0], "status") == 0)
                r = setup_status_verb(cli);
        else
                r = cli_error("setup: \"%s\" is neither status nor undo (see gpu-handoff setup --help)",
                              argv[0]);
        strv_done(&arg_vfio);
        arg_lg = (struct lg_request){0};
        return r;
}

static const struct verb setup_subverbs[] = {
    {.name = "status",
     .summary = "what setup changed, whether a reboot is pending, and whether the running\n"
                "kernel shows the result (IOMMU groups, /proc/cmdline, drivers)"},
    {.name = "undo",
     .summary = "put back every file setup changed, byte for byte, remove what it created,\n"
                "and run the generators again; a file changed since is not overwritten"},
    {},
};

static const struct verb_option setup_options[] = {
    {.name = "vfio",
     .value = "DEVICE",
     .parse = parse_vfio,
     .help = "bind DEVICE (and its companions and IOMMU group) to vfio-pci from early boot,\n"
             "by address; may be given more than once"},
    {.name = "looking-glass",
     .value = "WxH[@hdr]",
     .string = &arg_looking_glass,
     .help = "set the host up for Looking Glass at that guest resolution: kvmfr's size\n"
             "(modprobe.d), loaded at boot, its udev rule, /dev/kvmfr0 in qemu.conf's\n"
             "cgroup_device_acl and AppArmor's libvirt-qemu; alone, nothing else"},
    {.name = "lg-version",
     .value = "B7|current",
     .string = &arg_lg_version,
     .help = "the Looking Glass host in the guest: B7 and earlier, or current (after\n"
             "B7, the IDD host; the default), whose size formulas differ"},
    {.name = "dry-run",
     .flag = &arg_dry_run,
     .help = "show the plan (every file as a diff, every command) and stop"},
    {.name = "yes",
     .flag = &arg_yes,
     .help = "apply without asking; also allows binding the boot display's GPU at boot"},
    {.name = "bootloader",
     .value = "NAME",
     .string = &arg_bootloader,
     .help = "grub, grub-bls, grubby, systemd-boot, uki, kernelstub, rpm-ostree, proxmox,\n"
             "refind or limine, when detection cannot decide"},
    {.name = "initramfs",
     .value = "NAME",
     .string = &arg_initramfs,
     .help = "initramfs-tools, dracut, mkinitcpio, booster or none"},
    {.name = "disable-idle-d3",
     .flag = &arg_disable_idle_d3,
     .help = "also add vfio_pci.disable_idle_d3=1: the known workaround for cards that stay\n"
             "stuck in D3 on vfio-pci (reported for the RX 9000 series)"},
    {.name = "vendor-reset",
     .flag = &arg_vendor_reset,
     .help = "also install a udev rule that loads vendor-reset and selects it (reset_method\n"
             "device_specific) at boot for the cards it supports: Polaris, Vega, Navi 10/12/14,\n"
             "Arcturus; not the RX 6000, 7000 or 9000 series"},
    {.name = "json", .help = "the plan (--dry-run), or status, as JSON (docs/json.md)"},
    {},
};

const struct verb setup_verb = {
    .name = "setup",
    .args = "[status | undo]",
    .min_args = 0,
    .max_args = 1,
    .run = verb_setup,
    .summary = "set the host up for passthrough at boot: IOMMU arguments, vfio-pci binding, initramfs",
    .description =
        "Brings the host to \"passthrough ready\" at the next boot: the IOMMU kernel arguments the\n"
        "firmware's IOMMU needs (VT-d, ACPI DMAR: intel_iommu=on iommu=pt; AMD-Vi, IVRS: iommu=pt; a\n"
        "conflicting intel_iommu=off is taken out), on every entry of the bootloader in use,\n"
        "and with --vfio the devices bound to vfio-pci from early boot, in the initramfs. It detects the\n"
        "bootloader and the initramfs generator from the running boot, shows every change as a diff and\n"
        "every command as it will run, and asks (without a terminal it stops after the plan). Files it\n"
        "owns are drop-ins; shared files are edited token by token, every other byte kept. Everything\n"
        "is journaled in /var/lib/gpu-handoff/setup/: a failure rolls back and runs the generators again,\n"
        "so the next boot is the old one.\n"
        "\n"
        "Rescue: a machine that no longer boots is fixed from a live USB: mount its root at /mnt (and\n"
        "its /boot, ESP), then gpu-handoff --root /mnt setup undo. The commands run inside /mnt.\n"
        "\n"
        "Exit status: 0, 1 refused (nothing changed), 2 error, 3 rolled back, 4 needs setup undo.\n",
    .subverbs = setup_subverbs,
    .options = setup_options,
    .column = 24,
};
