/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/quote.h"
#include "cli/session.h"
#include "handoff/unreset.h"
#include "cli/json.h"
#include "handoff/detach.h"
#include "change/interrupt.h"
#include "handoff/transition.h"
#include "host/holders.h"
#include "libvirt/give-back.h"

/* ROOT/rel for messages: "/run/gpu-handoff" on the real root. */
static const char *root_path(const struct cli *cli, const char *rel, char *buf, size_t size)
{
        bool real = strcmp(cli->root, "/") == 0;

        snprintf(buf, size, "%s/%s", real ? "" : cli->root, rel);
        return buf;
}

/* Why rel (run/gpu-handoff, its lock or its journal) is not what this tool makes, as the command
 * that fixes it; NULL when nothing is wrong with it (or it cannot be looked at). */
static char *unusable_fix(const struct cli *cli, const char *rel)
{
        bool dir = strcmp(rel, HANDOFF_RUN_DIR) == 0;
        char path[PATH_MAX], *fix = NULL;
        struct stat st;
        int r = 0;

        root_path(cli, rel, path, sizeof(path));
        if (fstatat(cli->sr->fd, rel, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return NULL;
        if (S_ISLNK(st.st_mode))
                r = asprintf(&fix, "%s is a symlink, which this tool never follows: remove the link (rm %s)", path,
                             path);
        else if (dir != !!S_ISDIR(st.st_mode) || (!dir && !S_ISREG(st.st_mode)))
                r = asprintf(&fix, "%s is not a %s: look at it and move it away (mv %s %s.bad)", path,
                             dir ? "directory" : "regular file", path, path);
        else if (st.st_uid != geteuid())
                r = asprintf(&fix, "%s is owned by uid %u, not %u: chown %u %s", path, (unsigned)st.st_uid,
                             (unsigned)geteuid(), (unsigned)geteuid(), path);
        else if (dir && (st.st_mode & 022))
                r = asprintf(&fix, "%s is writable by other users (mode %04o): chmod 0700 %s", path,
                             (unsigned)(st.st_mode & 07777), path);
        return r < 0 ? NULL : fix;
}

/* run/gpu-handoff or a file in it is in the way of every verb, recover --discard included: name
 * the fix. Returns EXIT_ERROR, or 0 when nothing is found wrong (the caller reports r itself). */
int report_unusable(const struct cli *cli, const char *rel)
{
        _cleanup_free_ char *fix = unusable_fix(cli, HANDOFF_RUN_DIR);

        if (!fix && strcmp(rel, HANDOFF_RUN_DIR) != 0)
                fix = unusable_fix(cli, rel);
        if (!fix)
                return 0;
        return cli_error("%s, then run the command again", fix);
}

/* Who holds a VFIO group node open (the VM that keeps a blocked unbind from returning), one
 * "pid N COMM holds /dev/vfio/G" per line on stderr; nothing when none is seen. */
static void report_vfio_holders(const struct cli *cli)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct strv nodes = {};
        struct holder *h = NULL;
        struct dirent *de;
        size_t n = 0;

        if (sysroot_opendir(cli->sr, "dev/vfio", &dir) < 0)
                return;
        while ((de = readdir(dir)))
                if (de->d_name[0] != '.' && strcmp(de->d_name, "vfio") != 0 &&
                    strv_addf(&nodes, "dev/vfio/%s", de->d_name) < 0)
                        break;
        if (nodes.n > 0 && holders_scan(cli->sr, nodes.v, nodes.n, &h, &n, NULL) >= 0)
                for (size_t i = 0; i < n; i++) {
                        _cleanup_free_ char *text = holder_describe(&h[i]);
                        if (text)
                                cli_error("%s", text);
                }
        holders_free(h, n);
        strv_done(&nodes);
}

static int lock_busy(const struct cli *cli, const struct change_lock_busy *busy)
{
        char path[PATH_MAX];

        root_path(cli, HANDOFF_LOCK_PATH, path, sizeof(path));
        if (busy->holder.pid)
                return cli_error("another gpu-handoff (pid %d, %s) is still running; try again when it is done",
                                 (int)busy->holder.pid, busy->what[0] ? busy->what : "unknown verb");
        if (busy->opener_is_gpu_handoff) {
                /* Only a write child of an earlier run holds it: blocked in the kernel. */
                cli_error("an earlier gpu-handoff's write to the kernel (pid %d) has not returned: a VM or another "
                          "process still holds the GPU. Stop it, then run gpu-handoff recover",
                          (int)busy->opener);
                report_vfio_holders(cli);
                return EXIT_NEEDS_RECOVER;
        }
        if (busy->opener)
                return cli_error("%s is held by pid %d (%s), which is not gpu-handoff; stop it, then try again", path,
                                 (int)busy->opener, busy->opener_comm);
        return cli_error("%s is held by a process that does not say who it is (another tool's flock, or a process "
                         "in another PID namespace); find it with: fuser -v %s (or lsof %s)",
                         path, path, path);
}

int session_detach(void)
{
        int status = 0, r = transition_detach(&status);

        if (r <= 0) {
                if (r < 0)
                        cli_warning("cannot run apart from this terminal's session (%s): closing it stops the "
                                    "hand-over",
                                    strerror(-r));
                (void)interrupt_install();
                return -1;
        }
        if (status > 128) {
                cli_error("the hand-over was killed by signal %d (%s); run gpu-handoff recover", status - 128,
                          strsignal(status - 128));
                return EXIT_NEEDS_RECOVER;
        }
        return status;
}

int session_lock(struct cli *cli, const char *what, uint64_t timeout_usec, struct change_lock **ret)
{
        struct change_lock_busy busy;
        int r;

        r = change_lock_take_or_explain(cli->sr, HANDOFF_RUN_DIR, NULL, timeout_usec, what, ret, &busy);
        if (r == -EBUSY)
                return lock_busy(cli, &busy);
        if ((r == -ELOOP || r == -ENOTDIR || r == -EPERM) && report_unusable(cli, HANDOFF_LOCK_PATH))
                return EXIT_ERROR;
        if (r < 0)
                return cli_error("cannot take the lock %s/run/gpu-handoff/lock: %s", cli->root, strerror(-r));
        return EXIT_OK;
}

int session_begin(struct cli *cli, const char *what, const struct config *c, struct handoff_session *s)
{
        int r;

        *s = (struct handoff_session){0};
        r = process_id_self(cli->sr, &s->self, NULL, 0);
        if (r < 0)
                return cli_error("cannot read this process's identity below %s/proc: %s", cli->root, strerror(-r));
        (void)interrupt_install();
        r = session_lock(cli, what, c->lock_usec, &s->lock);
        if (r != EXIT_OK)
                return r;
        s->kernel = (struct kernel){.ops = &kernel_ops_real, .sr = cli->sr, .write_timeout_usec = c->write_usec};
        s->kernel.userdata = &s->kernel;
        s->ctx = (struct handoff_ctx){.sr = cli->sr, .kernel = &s->kernel, .settle_usec = c->settle_usec,
                                      .hugepages_usec = c->hugepages_usec};
        s->command = strdup(what);
        if (!s->command)
                return cli_error("out of memory");
        /* units seam: the system bus is this machine's, so only for the real root; without it
         * (no D-Bus) ctx.units stays NULL and a unit step the plan did not skip says so. */
        if (strcmp(cli->sr->path, "/") == 0 && units_open_system(&s->ctx.units) < 0)
                s->ctx.units = NULL;
        if (s->ctx.units) {
                s->ctx.units->job_timeout_usec = c->unit_job_usec;
                s->ctx.units->session_timeout_usec = c->sessions_usec;
        }
        return EXIT_OK;
}

void session_end(struct handoff_session *s)
{
        change_lock_release(s->lock);
        units_free(s->ctx.units); /* units seam */
        free(s->command);
        *s = (struct handoff_session){0};
}

/* One numbering for every verb and status: the journal's. Release and recover run the journal's
 * steps (index + 1); attach numbers the steps it journals, so a skipped step has none (0). */
static long step_number(const char *verb, const struct engine_run *run, long i)
{
        long n = 0;

        if (i < 0)
                return 0;
        if (strcmp(verb, "attach") != 0)
                return i + 1;
        if (run->steps[i].skip)
                return 0;
        for (long k = 0; k <= i; k++)
                n += !run->steps[k].skip;
        return n;
}

static const char *signal_name(int sig)
{
        return sig == SIGINT ? "SIGINT" : sig == SIGTERM ? "SIGTERM" : "a signal";
}

void print_timeline(FILE *f, const char *verb, const struct engine_run *run)
{
        uint64_t total = 0;

        /* In the order the steps ran: release and recover go from the last step back. */
        bool backwards = strcmp(verb, "attach") != 0;
        long journaled = 0; /* attach: the steps journaled so far */

        for (size_t k = 0; k < run->n_steps; k++) {
                size_t i = backwards ? run->n_steps - 1 - k : k;
                const struct step *s = &run->steps[i];
                const struct step_outcome *o = &run->outcomes[i];
                _cleanup_free_ char *raw = step_describe(s), *text = raw ? quote_dup(raw, SIZE_MAX) : NULL;
                long number = backwards ? (long)i + 1 : s->skip ? 0 : ++journaled;
                char num[24] = " -";

                if (o->state == OUTCOME_PENDING)
                        continue;
                if (number > 0)
                        snprintf(num, sizeof(num), "%2ld", number);
                total += o->usec;
                if (o->state == OUTCOME_SKIPPED)
                        fprintf(f, "  %s  %-13s %8s  %s (%s)\n", num, "skipped", "", text ? text : "?", s->skip);
                else
                        fprintf(f, "  %s  %-13s %5llu ms  %s\n", num, outcome_to_string(o->state),
                                (unsigned long long)(o->usec / 1000), text ? text : "?");
                if (o->message && o->state != OUTCOME_DONE && o->state != OUTCOME_REVERTED)
                        fprintf(f, "  %2s  %-13s %8s  %s\n", "", "", "", o->message);
        }
        fprintf(f, "  total %llu ms\n", (unsigned long long)(total / 1000));
}

static void print_human(const struct cli *cli, const char *verb, const struct engine_run *run, int error)
{
        char run_dir[PATH_MAX];
        size_t reverted = 0;

        print_timeline(stdout, verb, run);
        if (!error)
                return;
        root_path(cli, "run", run_dir, sizeof(run_dir));
        for (size_t i = 0; i < run->n_steps; i++)
                reverted += run->outcomes[i].state == OUTCOME_REVERTED;
        if (run->interrupted)
                fprintf(stderr, "gpu-handoff: %s was interrupted by %s after the step under way.\n", verb,
                        signal_name(run->interrupted));
        else if (run->failed >= 0)
                fprintf(stderr, "gpu-handoff: %s failed at step %ld: %s\n", verb, step_number(verb, run, run->failed),
                        run->outcomes[run->failed].message ? run->outcomes[run->failed].message : strerror(-error));
        if (run->journal_error)
                fprintf(stderr, "gpu-handoff: the journal could not record everything (%s); what was undone was "
                                "undone all the same.\n",
                        strerror(-run->journal_error));
        if (!run->host_intact)
                fprintf(stderr, "gpu-handoff: the host could not be fully restored; %s%s%s, then run "
                                "\"gpu-handoff recover\".\n",
                        run->journal_error ? "free space in " : "", run->journal_error ? run_dir : "",
                        run->journal_error ? " and fix the cause above" : "fix the cause above");
        else if (strcmp(verb, "attach") != 0)
                ; /* release, recover: revert_journal says how it ended */
        else if (sysroot_exists(cli->sr, HANDOFF_JOURNAL_PATH))
                fprintf(stderr, "gpu-handoff: restored what was done (%zu step%s); the host is as before, but the "
                                "journal still says otherwise: free space in %s, then run \"gpu-handoff recover\" (it "
                                "finds nothing left to undo).\n",
                        reverted, reverted == 1 ? "" : "s", run_dir);
        else
                fprintf(stderr, "gpu-handoff: restored what was done (%zu step%s); the host is as before.\n", reverted,
                        reverted == 1 ? "" : "s");
}

/* The fields every attach, release and recover document has. */
static json_object *run_document(const char *verb, bool ok)
{
        json_object *doc = json_new_document();

        if (!doc)
                return NULL;
        json_object_object_add(doc, "verb", json_object_new_string(verb));
        json_object_object_add(doc, "ok", json_object_new_boolean(ok));
        return doc;
}

static int print_json(const char *verb, const struct engine_run *run, int error)
{
        _cleanup_json_ json_object *doc = run_document(verb, !error);
        json_object *steps = json_object_new_array();
        long failed = step_number(verb, run, run->failed);

        if (!doc || !steps) {
                json_object_put(steps);
                return -ENOMEM;
        }
        json_object_object_add(doc, "failed_step", failed > 0 ? json_object_new_int((int)failed) : NULL);
        json_object_object_add(doc, "host_intact", json_object_new_boolean(run->host_intact));
        json_object_object_add(doc, "interrupted",
                               run->interrupted ? json_object_new_string(signal_name(run->interrupted)) : NULL);
        json_object_object_add(doc, "journal_error",
                               run->journal_error ? json_object_new_string(strerror(-run->journal_error)) : NULL);
        json_object_object_add(doc, "nothing_to_do", NULL);
        json_object_object_add(doc, "steps", steps);
        for (size_t i = 0, journaled = 0; i < run->n_steps; i++) {
                const struct step *s = &run->steps[i];
                const struct step_outcome *o = &run->outcomes[i];
                json_object *e = json_object_new_object(), *args = json_object_new_array();
                long number = strcmp(verb, "attach") != 0 ? (long)i + 1 : s->skip ? 0 : (long)++journaled;
                if (!e || !args) {
                        json_object_put(e);
                        json_object_put(args);
                        return -ENOMEM;
                }
                for (size_t a = 0; a < s->n_args; a++)
                        json_object_array_add(args, json_object_new_string(s->args[a]));
                json_object_object_add(e, "index", number > 0 ? json_object_new_int((int)number) : NULL);
                json_object_object_add(e, "kind", json_object_new_string(step_kind_to_string(s->kind)));
                json_object_object_add(e, "args", args);
                json_object_object_add(e, "state", json_object_new_string(outcome_to_string(o->state)));
                char ms[32];
                snprintf(ms, sizeof(ms), "%.3f", (double)o->usec / 1000.0);
                json_object_object_add(e, "ms", json_object_new_double_s((double)o->usec / 1000.0, ms));
                json_object_object_add(e, "message", json_string_or_null(o->message));
                json_object_array_add(steps, e);
        }
        return json_print(doc);
}

int print_run(const struct cli *cli, const char *verb, const struct engine_run *run, int error)
{
        if (cli->json)
                return print_json(verb, run, error);
        print_human(cli, verb, run, error);
        return 0;
}

int print_nothing_to_do(const struct cli *cli, const char *verb, const char *what)
{
        _cleanup_json_ json_object *doc = NULL;

        if (!cli->json) {
                printf("%s\n", what);
                return EXIT_OK;
        }
        doc = run_document(verb, true);
        if (!doc)
                return cli_error("out of memory");
        json_object_object_add(doc, "failed_step", NULL);
        json_object_object_add(doc, "host_intact", json_object_new_boolean(true));
        json_object_object_add(doc, "interrupted", NULL);
        json_object_object_add(doc, "journal_error", NULL);
        json_object_object_add(doc, "nothing_to_do", json_object_new_string(what));
        json_object_object_add(doc, "steps", json_object_new_array());
        return json_print(doc) < 0 ? EXIT_ERROR : EXIT_OK;
}

/* A journal write failed for want of space: freeing it is the fix, never dropping the record. */
bool journal_out_of_space(int r)
{
        return r == -ENOSPC || r == -EDQUOT;
}

char *journal_trouble(const struct cli *cli, const char *phase, int r, const struct engine_run *run)
{
        char run_dir[PATH_MAX];

        return transition_journal_trouble(root_path(cli, "run", run_dir, sizeof(run_dir)), phase, r, run);
}

int session_give_back(const struct handoff_session *s, const struct journal_state *st,
                      const struct give_back_voice *voice)
{
        _cleanup_free_ char *error = NULL;
        struct strv taken = {0};
        int r;

        if (!libvirt_started(st))
                return EXIT_OK; /* every device gpu-handoff freed, it bound itself */
        r = libvirt_give_back(&s->ctx, st, &taken, &error);
        for (size_t i = 0; i < taken.n; i++)
                voice->taken(voice->who, taken.v[i]);
        strv_done(&taken);
        return r < 0 ? voice->failed(voice->who, r, error) : EXIT_OK;
}

static void taken_on_stderr(const char *phase, const char *address)
{
        fprintf(stderr,
                "gpu-handoff: %s: libvirt left %s on vfio-pci (it keeps a device once used as managed='no' "
                "unmanaged until libvirtd restarts): taken from vfio-pci\n",
                phase, address);
}

static int failed_on_stderr(const char *phase, int r, const char *error)
{
        if (r == -ENOMEM)
                return cli_error("out of memory");
        cli_error("%s: cannot give the GPU back: %s; then run gpu-handoff %s again", phase,
                  error ? error : strerror(-r), phase);
        return EXIT_NEEDS_RECOVER;
}

int give_back_after_hook(const struct handoff_session *s, const struct journal_state *st, const char *phase)
{
        return session_give_back(s, st, &(const struct give_back_voice){phase, taken_on_stderr, failed_on_stderr});
}

void print_undone_quietly(const char *phase)
{
        fprintf(stderr, "gpu-handoff: %s: undid what an interrupted hand-over left behind.\n", phase);
}

int revert_journal(struct cli *cli, struct handoff_session *s, const char *phase, bool report)
{
        _cleanup_free_ char *error = NULL, *trouble = NULL;
        struct engine_run *run = NULL;
        struct step *steps = NULL;
        size_t n_steps = 0;
        int r, status;

        r = transition_undo(&s->ctx, &s->self, s->command, phase, &run, &steps, &n_steps, &error);
        if (run && report)
                print_run(cli, phase, run, r);
        else if (run && r < 0 && run->failed >= 0 && run->outcomes[run->failed].message)
                cli_error("%s: %s", phase, run->outcomes[run->failed].message);
        if (r == -ENOMEM)
                status = cli_error("out of memory");
        else if (r < 0 && (!run || run->host_intact) && (trouble = journal_trouble(cli, phase, r, run))) {
                cli_error("%s: %s", phase, trouble);
                status = EXIT_NEEDS_RECOVER;
        } else if (r < 0 && !run) {
                cli_error("%s: %s", phase, error ? error : strerror(-r));
                cli_error("check the host (gpu-handoff list), then run \"gpu-handoff recover --discard\" to drop "
                          "the journal");
                status = EXIT_NEEDS_RECOVER;
        } else if (r < 0)
                status = EXIT_NEEDS_RECOVER;
        else {
                _cleanup_free_ char *unreset = unreset_report(cli->sr, steps, n_steps);

                if (!report)
                        print_undone_quietly(phase);
                else if (!cli->json)
                        printf("%s: %s\n", phase, unreset ? "everything else is back with the host."
                                                          : "the GPU is back with the host.");
                if (unreset)
                        cli_error("%s: %s", phase, unreset);
                status = EXIT_OK;
        }
        engine_run_free(run); /* before the steps it borrows */
        steps_free(steps, n_steps);
        return status;
}

bool journal_is_directory(const struct cli *cli)
{
        struct stat st;

        return fstatat(cli->sr->fd, HANDOFF_JOURNAL_PATH, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISDIR(st.st_mode);
}

/* The journal as it stands, for deciding what to do; reports a damaged one. */
int journal_check(struct cli *cli, struct journal_state **ret)
{
        _cleanup_free_ char *error = NULL;
        int r = journal_load(&handoff_journal, cli->sr, ret, &error);

        if (r == -ENOENT)
                return 0;
        /* What recover --discard cannot remove (a directory; run/gpu-handoff itself) gets its fix. */
        if ((r == -ELOOP || r == -ENOTDIR || r == -EPERM || r == -EBADFD) && journal_is_directory(cli) &&
            report_unusable(cli, HANDOFF_JOURNAL_PATH))
                return EXIT_NEEDS_RECOVER;
        if ((r == -ELOOP || r == -ENOTDIR || r == -EPERM) && report_unusable(cli, HANDOFF_RUN_DIR))
                return EXIT_NEEDS_RECOVER;
        if (r < 0) {
                cli_error("%s", error ? error : strerror(-r));
                cli_error("the journal cannot be trusted: check the host (gpu-handoff list), then run \"gpu-handoff "
                          "recover --discard\" to drop it");
                return EXIT_NEEDS_RECOVER;
        }
        return 1;
}

