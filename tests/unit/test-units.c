/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The unit steps (src/handoff/step-unit.c) on a fake systemd and logind behind the units seam
 * (src/handoff/units.h): stop and start pairs, a unit that did not run is not started on the way
 * back, AllowedCPUs set and put back exactly (set or unset), freeze and thaw, failures say what
 * failed; then the engine's promises on a host with systemd, where the plan has the sleep
 * inhibitor and the display manager's stop-unit step, and the steps that make room for the guest
 * (AllowedCPUs of two slices, freezing a running and a stopped unit), checked for every
 * operation of either seam (kernel model and fake systemd):
 *   - an operation of attach fails (before or after its effect) -> the rollback leaves the host
 *     and systemd exactly as before;
 *   - an operation of release fails -> recover finishes, everything is as before the attach;
 *   - the process dies before any operation -> recover, as before.
 * The real seam (units.c, sd-bus) is proven in the testbed's systemd guest (tests/vm, 05-*). */

#include <errno.h>
#include <fnmatch.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "handoff/transition.h"
#include "handoff/units.h"
#include "kmodel.h"
#include "testbed-host.h"
#include "snapshot.h"
#include "testtree.h"

#ifdef __SANITIZE_ADDRESS__
#include <sanitizer/lsan_interface.h>
#else
static inline void __lsan_disable(void)
{
}
static inline void __lsan_enable(void)
{
}
#endif

#define INHIBIT_UNIT "gpu-handoff-inhibit.service"

/* ---- the fake systemd and logind ------------------------------------------------------------ */

/* Every operation of either seam passes here: a test fails or "kills the process" at the nth of
 * them, counted across both. */
static unsigned op_count, fail_at, kill_at;
static int fail_error = -EIO;
/* A unit operation fails after its effect (the unit did stop, then its job "failed"). */
static bool fail_after;
static jmp_buf killed;

/* 0: go on; < 0: fail before the effect; *after: fail after it. */
static int inject(bool unit_op, int *after)
{
        op_count++;
        if (kill_at && op_count == kill_at)
                longjmp(killed, 1);
        if (!fail_at || op_count != fail_at)
                return 0;
        if (unit_op && fail_after) {
                *after = fail_error;
                return 0;
        }
        return fail_error;
}

static int kernel_hook(const char *op, unsigned n, void *userdata)
{
        int after = 0;
        return inject(false, &after);
}

struct fake_unit {
        char name[64];
        bool active;
        char cpus[64]; /* AllowedCPUs, canonical; "" unset */
        bool frozen;
};

struct fake {
        struct units units;
        struct fake_unit unit[12];
        size_t n_units;
        const char *alias, *alias_of; /* display-manager.service -> sddm.service */
        const char *dm;               /* its sessions end when it stops */
        unsigned sessions;            /* graphical sessions on seat0 */
        bool sessions_linger;         /* ... and they do not */
        bool inhibitor;               /* logind lists ours */
        char log[4096];               /* "stop:sddm.service\n"... */
        /* One rule of its own, for tests of single steps: the nth op matching glob fails. */
        const char *fail_glob;
        int fail_glob_error;
        bool fail_glob_after;
};

static struct fake_unit *find(struct fake *f, const char *name)
{
        for (size_t i = 0; i < f->n_units; i++)
                if (strcmp(f->unit[i].name, name) == 0)
                        return &f->unit[i];
        return NULL;
}

/* Whether a unit the fake knows runs. */
static bool running(struct fake *f, const char *name)
{
        struct fake_unit *u = find(f, name);

        if (!u)
                fail_msg("the fake systemd has no unit %s", name);
        return u ? u->active : false;
}

static void set_running(struct fake *f, const char *name, bool active)
{
        struct fake_unit *u = find(f, name);

        if (!u)
                fail_msg("the fake systemd has no unit %s", name);
        else
                u->active = active;
}

static struct fake_unit *add_unit(struct fake *f, const char *name, bool active)
{
        struct fake_unit *u = &f->unit[f->n_units];

        assert_true(f->n_units < ELEMENTSOF(f->unit));
        *u = (struct fake_unit){.active = active};
        snprintf(u->name, sizeof(u->name), "%s", name);
        f->n_units++;
        return u;
}

/* The AllowedCPUs the fake holds for a unit it knows. */
static const char *allowed_cpus(struct fake *f, const char *name)
{
        struct fake_unit *u = find(f, name);

        if (!u)
                fail_msg("the fake systemd has no unit %s", name);
        return u ? u->cpus : "?";
}

static bool frozen(struct fake *f, const char *name)
{
        struct fake_unit *u = find(f, name);

        if (!u)
                fail_msg("the fake systemd has no unit %s", name);
        return u && u->frozen;
}

/* What an admin (systemctl set-property, systemctl thaw) may do meanwhile. */
static void set_allowed_cpus(struct fake *f, const char *name, const char *cpus)
{
        struct fake_unit *u = find(f, name);

        if (!u)
                fail_msg("the fake systemd has no unit %s", name);
        else
                snprintf(u->cpus, sizeof(u->cpus), "%s", cpus);
}

static void set_frozen(struct fake *f, const char *name, bool on)
{
        struct fake_unit *u = find(f, name);

        if (!u)
                fail_msg("the fake systemd has no unit %s", name);
        else
                u->frozen = on;
}

static int op(struct fake *f, const char *verb, const char *arg, int *after, char **ret_error)
{
        char text[128];
        int r;

        snprintf(text, sizeof(text), "%s:%s", verb, arg);
        snprintf(f->log + strlen(f->log), sizeof(f->log) - strlen(f->log), "%s\n", text);
        *after = 0;
        r = inject(true, after);
        if (r == 0 && f->fail_glob && fnmatch(f->fail_glob, text, 0) == 0) {
                if (f->fail_glob_after)
                        *after = f->fail_glob_error;
                else
                        r = f->fail_glob_error;
        }
        if ((r < 0 || *after < 0) && ret_error) {
                free(*ret_error);
                assert_true(asprintf(ret_error, "fake %s failed", text) > 0);
        }
        return r;
}

static int fake_resolve(void *userdata, const char *name, char **ret_unit, char **ret_error)
{
        struct fake *f = userdata;
        int after, r = op(f, "resolve", name, &after, ret_error);

        if (r < 0 || after < 0)
                return r < 0 ? r : after;
        *ret_unit = strdup(f->alias && strcmp(name, f->alias) == 0 ? f->alias_of : name);
        return *ret_unit ? 0 : -ENOMEM;
}

static int fake_is_active(void *userdata, const char *unit, bool *ret_active, char **ret_error)
{
        struct fake *f = userdata;
        struct fake_unit *u = find(f, unit);
        int after, r = op(f, "is-active", unit, &after, ret_error);

        if (r < 0 || after < 0)
                return r < 0 ? r : after;
        *ret_active = u && u->active;
        return 0;
}

static int fake_stop(void *userdata, const char *unit, uint64_t timeout_usec, char **ret_error)
{
        struct fake *f = userdata;
        struct fake_unit *u = find(f, unit);
        int after, r = op(f, "stop", unit, &after, ret_error);

        if (r < 0)
                return r;
        if (u)
                u->active = u->frozen = false; /* stopping a frozen unit thaws it first */
        if (f->dm && strcmp(unit, f->dm) == 0 && !f->sessions_linger)
                f->sessions = 0;
        if (strcmp(unit, INHIBIT_UNIT) == 0 && u) {
                f->inhibitor = false;
                *u = f->unit[--f->n_units]; /* transient: collected once stopped */
        }
        return after;
}

static int fake_start(void *userdata, const char *unit, uint64_t timeout_usec, char **ret_error)
{
        struct fake *f = userdata;
        struct fake_unit *u = find(f, unit);
        int after, r = op(f, "start", unit, &after, ret_error);

        if (r < 0)
                return r;
        if (!u) {
                free(*ret_error);
                assert_true(asprintf(ret_error, "Unit %s not found.", unit) > 0);
                return -ENOENT;
        }
        u->active = true;
        if (f->dm && strcmp(unit, f->dm) == 0)
                f->sessions = 1; /* its greeter */
        return after;
}

static int fake_wait_sessions_gone(void *userdata, const char *seat, uint64_t timeout_usec, char **ret_error)
{
        struct fake *f = userdata;
        int after, r = op(f, "wait-sessions", seat ? seat : "*", &after, ret_error);

        if (r < 0 || after < 0)
                return r < 0 ? r : after;
        if (f->sessions == 0)
                return 0;
        free(*ret_error);
        *ret_error = strdup("graphical sessions still open after 10 s: session 2 of alice (wayland, online)");
        assert_non_null(*ret_error);
        return -ETIMEDOUT;
}

static int fake_inhibit(void *userdata, const char *unit, const char *why, uint64_t timeout_usec,
                        char **ret_error)
{
        struct fake *f = userdata;
        int after, r = op(f, "inhibit", unit, &after, ret_error);

        if (r < 0)
                return r;
        assert_string_equal(unit, INHIBIT_UNIT);
        if (!find(f, unit))
                add_unit(f, unit, true);
        f->inhibitor = true;
        return after;
}

_printf_(2, 3) static void fake_error(char **ret_error, const char *fmt, ...)
{
        va_list ap;
        int r;

        free(*ret_error);
        va_start(ap, fmt);
        r = vasprintf(ret_error, fmt, ap);
        va_end(ap);
        assert_true(r > 0);
}

/* As systemd: a unit it does not know has nothing set. */
static int fake_get_allowed_cpus(void *userdata, const char *unit, char **ret_cpus, char **ret_error)
{
        struct fake *f = userdata;
        struct fake_unit *u = find(f, unit);
        int after, r = op(f, "get-cpus", unit, &after, ret_error);

        if (r < 0 || after < 0)
                return r < 0 ? r : after;
        *ret_cpus = strdup(u ? u->cpus : "");
        return *ret_cpus ? 0 : -ENOMEM;
}

static int fake_set_allowed_cpus(void *userdata, const char *unit, const char *cpus, char **ret_error)
{
        struct fake *f = userdata;
        struct fake_unit *u = find(f, unit);
        uint64_t bitmap[8192 / 64];
        char text[128], *canonical;
        int after, r;

        snprintf(text, sizeof(text), "%s=%s", unit, cpus);
        r = op(f, "set-cpus", text, &after, ret_error);
        if (r < 0)
                return r;
        if (!u) {
                fake_error(ret_error, "Unit %s not found.", unit);
                return -ENOENT;
        }
        if (cpulist_parse(cpus, bitmap, 8192) < 0) {
                fake_error(ret_error, "Invalid AllowedCPUs %s", cpus);
                return -EINVAL;
        }
        canonical = cpulist_format(bitmap, 8192);
        assert_non_null(canonical);
        snprintf(u->cpus, sizeof(u->cpus), "%s", canonical);
        free(canonical);
        return after;
}

static int fake_freeze(void *userdata, const char *unit, char **ret_error)
{
        struct fake *f = userdata;
        struct fake_unit *u = find(f, unit);
        int after, r = op(f, "freeze", unit, &after, ret_error);

        if (r < 0)
                return r;
        if (!u || !u->active) {
                if (after < 0)
                        return after;
                fake_error(ret_error, "Unit %s is not active.", unit);
                return -ENOENT;
        }
        u->frozen = true;
        return after;
}

/* Idempotent, as the real one: a unit that is not frozen, or not known, is thawed already. */
static int fake_thaw(void *userdata, const char *unit, char **ret_error)
{
        struct fake *f = userdata;
        struct fake_unit *u = find(f, unit);
        int after, r = op(f, "thaw", unit, &after, ret_error);

        if (r < 0)
                return r;
        if (u)
                u->frozen = false;
        return after;
}

static const struct unit_ops fake_ops = {
        .resolve = fake_resolve,
        .is_active = fake_is_active,
        .stop = fake_stop,
        .start = fake_start,
        .wait_sessions_gone = fake_wait_sessions_gone,
        .inhibit = fake_inhibit,
        .get_allowed_cpus = fake_get_allowed_cpus,
        .set_allowed_cpus = fake_set_allowed_cpus,
        .freeze = fake_freeze,
        .thaw = fake_thaw,
};

/* systemd with SDDM behind the display-manager alias, running (or not), with its greeter session;
 * the host's slices, system.slice on every CPU and user.slice confined by its admin already; a
 * heavy service that runs and one that does not. */
static void fake_init(struct fake *f, bool dm_active)
{
        *f = (struct fake){
                .units = {.ops = &fake_ops, .job_timeout_usec = 1000000, .session_timeout_usec = 1000000},
                .alias = "display-manager.service",
                .alias_of = "sddm.service",
                .dm = "sddm.service",
                .sessions = dm_active,
        };
        f->units.userdata = f;
        add_unit(f, "sddm.service", dm_active);
        add_unit(f, "nvidia-persistenced.service", false);
        add_unit(f, "system.slice", true);
        set_allowed_cpus(f, add_unit(f, "user.slice", true)->name, "0-15");
        add_unit(f, "packagekit.service", true);
        add_unit(f, "updatedb.service", false);
}

/* What the rest of the system sees: the units, whether they run or are frozen, their AllowedCPUs,
 * the inhibitor. */
static char *fake_state(const struct fake *f)
{
        char *s = NULL, *p;

        assert_true(asprintf(&s, "inhibitor=%d sessions=%u", f->inhibitor, f->sessions) > 0);
        for (size_t i = 0; i < f->n_units; i++) {
                assert_true(asprintf(&p, "%s %s=%s%s cpus=%s", s, f->unit[i].name,
                                     f->unit[i].active ? "active" : "inactive",
                                     f->unit[i].frozen ? ",frozen" : "", f->unit[i].cpus) > 0);
                free(s);
                s = p;
        }
        return s;
}

/* ---- single steps --------------------------------------------------------------------------- */

/* The steps run as the engine runs them: each applied under a journal (begin, then done or
 * failed), where it notes what its revert needs; a revert reads the notes and is journaled
 * around, and a step reverted already is not reverted again. An apply after a revert begins a new
 * hand-over, with a new journal. */
struct bench {
        struct test_tree *tree;
        struct fake fake;
        struct handoff_ctx ctx;
        struct process_id self;
        struct journal *journal;
        const struct step *applied[16]; /* by journal index */
        size_t n_applied;
};

static struct bench *bench_new(bool dm_active)
{
        struct bench *b = calloc(1, sizeof(*b));

        assert_non_null(b);
        b->tree = test_tree_new("test-units");
        assert_int_equal(mkdirat(b->tree->sr->fd, "run", 0755), 0);
        assert_int_equal(mkdirat(b->tree->sr->fd, "run/gpu-handoff", 0700), 0);
        fake_init(&b->fake, dm_active);
        b->ctx = (struct handoff_ctx){.sr = b->tree->sr, .units = &b->fake.units};
        b->self = (struct process_id){.pid = getpid(), .start_time = 1};
        op_count = fail_at = kill_at = 0;
        fail_after = false;
        return b;
}

static void bench_free(struct bench *b)
{
        journal_close(b->journal);
        test_tree_free(b->tree);
        free(b);
}

static struct step step_of(enum step_kind kind, const char *a0, const char *a1)
{
        struct step s = {.kind = kind};

        if (a0)
                s.args[s.n_args++] = (char *)a0;
        if (a1)
                s.args[s.n_args++] = (char *)a1;
        return s;
}

static int apply(struct bench *b, const struct step *s, char **message)
{
        const struct change_kind *kind = change_domain_kind(&handoff_domain, s->kind);
        struct change_ctx change = handoff_change_ctx(&b->ctx);
        int r;

        if (!b->journal || journal_get_state(b->journal)->any_revert) {
                b->journal = journal_close(b->journal);
                (void)journal_remove(&handoff_journal, b->tree->sr);
                assert_int_equal(journal_create(&handoff_journal, b->tree->sr, "attach", &b->self, "", "test-units",
                                                &b->journal, NULL),
                                 0);
                b->n_applied = 0;
        }
        assert_true(b->n_applied < ELEMENTSOF(b->applied));
        assert_int_equal(journal_step_begin(b->journal, b->n_applied, kind->name, (const char *const *)s->args,
                                            s->n_args),
                         0);
        change.journal = b->journal;
        change.index = b->n_applied;
        change.applying = true;
        change.note_room = kind->note_room;
        b->applied[b->n_applied++] = s;
        r = kind->ops->apply(&change, s, message);
        assert_int_equal(r < 0 ? journal_step_failed(b->journal, change.index, r)
                               : journal_step_done(b->journal, change.index, 0),
                         0);
        return r;
}

/* The journal index s was last applied at, or -1. */
static long applied_index(struct bench *b, const struct step *s)
{
        for (size_t i = b->n_applied; i-- > 0;)
                if (b->applied[i] == s)
                        return (long)i;
        return -1;
}

static int revert(struct bench *b, const struct step *s, char **message)
{
        const struct change_kind *kind = change_domain_kind(&handoff_domain, s->kind);
        struct change_ctx change = handoff_change_ctx(&b->ctx);
        long i = applied_index(b, s);
        int r;

        change.journal = b->journal;
        change.index = SIZE_MAX; /* never applied: no notes */
        if (i < 0)
                return kind->ops->revert(&change, s, message);
        if (journal_get_state(b->journal)->steps[i].state == JOURNAL_STEP_REVERTED)
                return 0; /* as the engine: put back already */
        assert_int_equal(journal_revert_begin(b->journal, (size_t)i), 0);
        change.index = (size_t)i;
        r = kind->ops->revert(&change, s, message);
        assert_int_equal(r < 0 ? journal_revert_failed(b->journal, (size_t)i, r) : journal_reverted(b->journal, (size_t)i),
                         0);
        return r;
}

/* Whether the hand-over's journal below sr holds text. */
static bool journal_says(const struct sysroot *sr, const char *text)
{
        _cleanup_free_ char *journal = NULL;
        size_t len = 0;

        assert_int_equal(read_file_at(sr->fd, "run/gpu-handoff/journal", JOURNAL_SIZE_MAX, &journal, &len), 0);
        return strstr(journal, text);
}

/* The unit the journal says a revert of s has to put back (what a record file in
 * run/gpu-handoff/units said before notes): its note while it is not reverted; NULL when none. */
static const char *to_put_back(struct bench *b, const struct step *s)
{
        const struct journal_state *st = journal_get_state(b->journal);
        long i = applied_index(b, s);
        const char *unit;

        if (i < 0 || st->steps[i].state == JOURNAL_STEP_REVERTED)
                return NULL;
        unit = journal_state_note(st, (size_t)i, "unit");
        return unit && *unit ? unit : NULL;
}

static void test_stop_start_pair(void **state)
{
        struct bench *b = bench_new(true);
        struct step s = step_of(STEP_STOP_UNIT, "display-manager.service", "sddm.service");
        char *message = NULL;

        assert_int_equal(apply(b, &s, &message), 0);
        assert_null(message);
        assert_string_equal(b->fake.log, "resolve:display-manager.service\n"
                                         "is-active:sddm.service\n"
                                         "stop:sddm.service\n"
                                         "wait-sessions:seat0\n");
        assert_false(running(&b->fake, "sddm.service"));
        /* What release needs, durable before the stop: the unit that was stopped, noted in the
         * journal, and no file beside it. */
        assert_string_equal(to_put_back(b, &s), "sddm.service");
        assert_true(journal_says(b->tree->sr, "begin 0 stop-unit display-manager.service sddm.service\n"
                                              "note 0 unit sddm.service\n"
                                              "done 0 0\n"));
        assert_false(sysroot_exists(b->tree->sr, "run/gpu-handoff/units"));

        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &s, &message), 0);
        assert_string_equal(b->fake.log, "start:sddm.service\n");
        assert_true(running(&b->fake, "sddm.service"));
        assert_null(to_put_back(b, &s));

        /* Idempotent: done already, nothing to do. */
        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &s, &message), 0);
        assert_string_equal(b->fake.log, "");
        bench_free(b);
}

static void test_not_running_not_started(void **state)
{
        struct bench *b = bench_new(true);
        struct step s = step_of(STEP_STOP_UNIT, "nvidia-persistenced.service", "if active");
        char *message = NULL;

        assert_int_equal(apply(b, &s, &message), 0);
        assert_string_equal(b->fake.log,
                            "resolve:nvidia-persistenced.service\nis-active:nvidia-persistenced.service\n");
        assert_null(to_put_back(b, &s));
        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &s, &message), 0);
        assert_string_equal(b->fake.log, "");
        assert_false(running(&b->fake, "nvidia-persistenced.service"));

        /* A display manager that does not run: no stop, no wait for sessions. */
        set_running(&b->fake, "sddm.service", false);
        s = step_of(STEP_STOP_UNIT, "display-manager.service", "sddm.service");
        b->fake.log[0] = '\0';
        assert_int_equal(apply(b, &s, &message), 0);
        assert_string_equal(b->fake.log, "resolve:display-manager.service\nis-active:sddm.service\n");
        assert_int_equal(revert(b, &s, &message), 0);
        assert_false(running(&b->fake, "sddm.service"));
        free(message);
        bench_free(b);
}

static void test_inhibit(void **state)
{
        struct bench *b = bench_new(true);
        struct step s = step_of(STEP_INHIBIT_SLEEP, NULL, NULL);
        char *message = NULL;

        assert_int_equal(apply(b, &s, &message), 0);
        assert_true(b->fake.inhibitor);
        assert_true(running(&b->fake, INHIBIT_UNIT));
        assert_int_equal(revert(b, &s, &message), 0);
        assert_false(b->fake.inhibitor);
        assert_null(find(&b->fake, INHIBIT_UNIT));
        assert_null(to_put_back(b, &s));
        assert_int_equal(revert(b, &s, &message), 0); /* done already: nothing to do */
        assert_string_equal(b->fake.log, "inhibit:" INHIBIT_UNIT "\nstop:" INHIBIT_UNIT "\n");
        assert_null(message);
        bench_free(b);
}

static void assert_message(int r, int want, char **message, const char *needle)
{
        assert_int_equal(r, want);
        assert_non_null(*message);
        if (!strstr(*message, needle))
                fail_msg("message \"%s\" does not say \"%s\"", *message, needle);
        free(*message);
        *message = NULL;
}

static void test_failure_messages(void **state)
{
        struct step dm = step_of(STEP_STOP_UNIT, "display-manager.service", "sddm.service");
        struct step inhibit = step_of(STEP_INHIBIT_SLEEP, NULL, NULL);
        char *message = NULL;
        struct bench *b;

        /* No system bus: the plan did not skip the step, so it fails and says why. */
        b = bench_new(true);
        b->ctx.units = NULL;
        assert_message(apply(b, &dm, &message), -ENOTCONN, &message, "system bus");
        assert_message(apply(b, &inhibit, &message), -ENOTCONN, &message, "system bus");
        assert_int_equal(revert(b, &dm, &message), 0);      /* nothing was stopped */
        assert_int_equal(revert(b, &inhibit, &message), 0); /* nor started */
        assert_null(message);
        bench_free(b);

        b = bench_new(true);
        b->fake.fail_glob = "resolve:*";
        b->fake.fail_glob_error = -EACCES;
        assert_message(apply(b, &dm, &message), -EACCES, &message,
                       "cannot find out which unit display-manager.service is: fake "
                       "resolve:display-manager.service failed");
        assert_int_equal(revert(b, &dm, &message), 0);
        assert_true(running(&b->fake, "sddm.service"));
        assert_null(strstr(b->fake.log, "start:"));
        bench_free(b);

        /* The stop job failed after the unit went down: the rollback starts it again. */
        b = bench_new(true);
        b->fake.fail_glob = "stop:*";
        b->fake.fail_glob_error = -EIO;
        b->fake.fail_glob_after = true;
        assert_message(apply(b, &dm, &message), -EIO, &message,
                       "cannot stop sddm.service: fake stop:sddm.service failed");
        assert_false(running(&b->fake, "sddm.service"));
        b->fake.fail_glob = NULL;
        assert_int_equal(revert(b, &dm, &message), 0);
        assert_true(running(&b->fake, "sddm.service"));
        bench_free(b);

        /* The desktop session outlives the display manager. */
        b = bench_new(true);
        b->fake.sessions_linger = true;
        assert_message(apply(b, &dm, &message), -ETIMEDOUT, &message,
                       "sddm.service stopped, but the desktop session did not end: graphical sessions still "
                       "open after 10 s: session 2 of alice (wayland, online)");
        assert_int_equal(revert(b, &dm, &message), 0);
        assert_true(running(&b->fake, "sddm.service"));

        /* Starting it again fails: the record stays for recover. */
        assert_int_equal(apply(b, &dm, &message), -ETIMEDOUT);
        free(message);
        message = NULL;
        b->fake.fail_glob = "start:*";
        b->fake.fail_glob_error = -EIO;
        assert_message(revert(b, &dm, &message), -EIO, &message,
                       "cannot start sddm.service again: fake start:sddm.service failed");
        assert_string_equal(to_put_back(b, &dm), "sddm.service");
        b->ctx.units = NULL;
        assert_message(revert(b, &dm, &message), -ENOTCONN, &message,
                       "cannot start sddm.service: systemd cannot be reached");
        b->ctx.units = &b->fake.units;
        b->fake.fail_glob = NULL;
        assert_int_equal(revert(b, &dm, &message), 0);
        assert_true(running(&b->fake, "sddm.service"));
        assert_null(to_put_back(b, &dm));
        bench_free(b);

        b = bench_new(true);
        b->fake.fail_glob = "inhibit:*";
        b->fake.fail_glob_error = -ETIMEDOUT;
        assert_message(apply(b, &inhibit, &message), -ETIMEDOUT, &message,
                       "cannot block sleep and shutdown: fake inhibit:" INHIBIT_UNIT " failed");
        b->fake.fail_glob = "stop:*";
        b->fake.fail_glob_error = -EIO;
        assert_message(revert(b, &inhibit, &message), -EIO, &message, "cannot let sleep and shutdown go");
        bench_free(b);

        /* A unit name that cannot be one is refused before anything happens. */
        b = bench_new(true);
        struct step bad = step_of(STEP_STOP_UNIT, "../../etc/passwd", NULL);
        assert_message(apply(b, &bad, &message), -EINVAL, &message, "is not a systemd unit name");
        assert_string_equal(b->fake.log, "");
        assert_int_equal(revert(b, &bad, &message), 0);
        bench_free(b);
}

/* ---- making room: AllowedCPUs and the freezer ---------------------------------------------- */

static struct step allowed_cpus_step(const char *unit, const char *cpus, const char *previous)
{
        struct step s = step_of(STEP_ALLOWED_CPUS, unit, cpus);

        s.args[s.n_args++] = (char *)previous;
        return s;
}

static void test_allowed_cpus(void **state)
{
        struct bench *b = bench_new(true);
        struct step unset = allowed_cpus_step("system.slice", "0-1", "");
        struct step set = allowed_cpus_step("user.slice", "0-1", "0-15");
        char *message = NULL, *cpus = NULL;

        /* The seam reads what the plan records as "previous". */
        assert_int_equal(b->fake.units.ops->get_allowed_cpus(b->fake.units.userdata, "user.slice", &cpus,
                                                            &message),
                         0);
        assert_string_equal(cpus, "0-15");
        free(cpus);

        /* Unset before: set, then unset again, exactly. */
        b->fake.log[0] = '\0';
        assert_int_equal(apply(b, &unset, &message), 0);
        assert_null(message);
        assert_string_equal(b->fake.log, "set-cpus:system.slice=0-1\n");
        assert_string_equal(allowed_cpus(&b->fake, "system.slice"), "0-1");
        assert_string_equal(to_put_back(b, &unset), "system.slice");
        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &unset, &message), 0);
        assert_string_equal(b->fake.log, "set-cpus:system.slice=\n");
        assert_string_equal(allowed_cpus(&b->fake, "system.slice"), "");
        assert_null(to_put_back(b, &unset));
        /* Idempotent: put back already, nothing to do. */
        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &unset, &message), 0);
        assert_int_equal(revert(b, &unset, &message), 0);
        assert_string_equal(b->fake.log, "");
        assert_string_equal(allowed_cpus(&b->fake, "system.slice"), "");

        /* Set before: the value of before comes back, whatever was set in between. */
        assert_int_equal(apply(b, &set, &message), 0);
        assert_string_equal(allowed_cpus(&b->fake, "user.slice"), "0-1");
        set_allowed_cpus(&b->fake, "user.slice", "2-3");
        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &set, &message), 0);
        assert_string_equal(b->fake.log, "set-cpus:user.slice=0-15\n");
        assert_string_equal(allowed_cpus(&b->fake, "user.slice"), "0-15");
        assert_int_equal(revert(b, &set, &message), 0);
        assert_string_equal(b->fake.log, "set-cpus:user.slice=0-15\n");
        assert_string_equal(allowed_cpus(&b->fake, "user.slice"), "0-15");

        /* Set after its effect, then failed: the rollback puts it back, twice is once. */
        b->fake.fail_glob = "set-cpus:user.slice=0-1";
        b->fake.fail_glob_error = -EIO;
        b->fake.fail_glob_after = true;
        assert_int_equal(apply(b, &set, &message), -EIO);
        free(message);
        message = NULL;
        assert_string_equal(allowed_cpus(&b->fake, "user.slice"), "0-1");
        assert_int_equal(revert(b, &set, &message), 0);
        assert_int_equal(revert(b, &set, &message), 0);
        assert_string_equal(allowed_cpus(&b->fake, "user.slice"), "0-15");
        assert_null(message);
        bench_free(b);
}

static void test_freeze(void **state)
{
        struct bench *b = bench_new(true);
        struct step heavy = step_of(STEP_FREEZE_UNIT, "packagekit.service", NULL);
        struct step stopped = step_of(STEP_FREEZE_UNIT, "updatedb.service", NULL);
        struct step unknown = step_of(STEP_FREEZE_UNIT, "nosuch.service", NULL);
        char *message = NULL;

        assert_int_equal(apply(b, &heavy, &message), 0);
        assert_null(message);
        assert_string_equal(b->fake.log, "freeze:packagekit.service\n");
        assert_true(frozen(&b->fake, "packagekit.service"));
        assert_true(running(&b->fake, "packagekit.service"));
        assert_string_equal(to_put_back(b, &heavy), "packagekit.service");
        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &heavy, &message), 0);
        assert_string_equal(b->fake.log, "thaw:packagekit.service\n");
        assert_false(frozen(&b->fake, "packagekit.service"));
        assert_null(to_put_back(b, &heavy));
        /* Idempotent. */
        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &heavy, &message), 0);
        assert_int_equal(revert(b, &heavy, &message), 0);
        assert_string_equal(b->fake.log, "");

        /* A unit that does not run (or that systemd does not know): nothing to freeze, no error,
         * nothing to thaw on the way back. */
        assert_int_equal(apply(b, &stopped, &message), 0);
        assert_int_equal(apply(b, &unknown, &message), 0);
        assert_null(message);
        assert_string_equal(b->fake.log, "freeze:updatedb.service\nfreeze:nosuch.service\n");
        assert_false(frozen(&b->fake, "updatedb.service"));
        assert_null(to_put_back(b, &stopped));
        assert_null(to_put_back(b, &unknown));
        b->fake.log[0] = '\0';
        assert_int_equal(revert(b, &stopped, &message), 0);
        assert_int_equal(revert(b, &unknown, &message), 0);
        assert_string_equal(b->fake.log, "");

        /* Thawed by someone else meanwhile (systemctl thaw), or stopped (which thaws): the thaw on
         * the way back is a no-op, not an error. */
        assert_int_equal(apply(b, &heavy, &message), 0);
        set_frozen(&b->fake, "packagekit.service", false);
        assert_int_equal(revert(b, &heavy, &message), 0);
        assert_false(frozen(&b->fake, "packagekit.service"));
        assert_int_equal(apply(b, &heavy, &message), 0);
        set_running(&b->fake, "packagekit.service", false);
        assert_int_equal(revert(b, &heavy, &message), 0);
        assert_null(to_put_back(b, &heavy));
        assert_null(message);
        bench_free(b);
}

static void test_room_failure_messages(void **state)
{
        struct step cpus = allowed_cpus_step("user.slice", "0-1", "0-15");
        struct step heavy = step_of(STEP_FREEZE_UNIT, "packagekit.service", NULL);
        char *message = NULL;
        struct bench *b;

        /* No system bus: the plan did not skip the steps, so they fail and say why; nothing was
         * changed, so the engine's revert of the failed step has nothing to do. */
        b = bench_new(true);
        b->ctx.units = NULL;
        assert_message(apply(b, &cpus, &message), -ENOTCONN, &message,
                       "cannot set AllowedCPUs of user.slice: systemd cannot be reached over the system "
                       "bus");
        assert_message(apply(b, &heavy, &message), -ENOTCONN, &message,
                       "cannot freeze packagekit.service: systemd cannot be reached");
        assert_int_equal(revert(b, &cpus, &message), 0);
        assert_int_equal(revert(b, &heavy, &message), 0);
        assert_null(message);
        /* Changed, then recover finds no bus: it says so, and the records stay for the next try. */
        b->ctx.units = &b->fake.units;
        assert_int_equal(apply(b, &cpus, &message), 0);
        assert_int_equal(apply(b, &heavy, &message), 0);
        b->ctx.units = NULL;
        assert_message(revert(b, &cpus, &message), -ENOTCONN, &message,
                       "cannot put back AllowedCPUs of user.slice: systemd cannot be reached");
        assert_message(revert(b, &heavy, &message), -ENOTCONN, &message,
                       "cannot thaw packagekit.service: systemd cannot be reached");
        b->ctx.units = &b->fake.units;
        assert_int_equal(revert(b, &cpus, &message), 0);
        assert_int_equal(revert(b, &heavy, &message), 0);
        assert_string_equal(allowed_cpus(&b->fake, "user.slice"), "0-15");
        assert_false(frozen(&b->fake, "packagekit.service"));
        bench_free(b);

        /* systemd refuses: the unit, the value and systemd's words. */
        b = bench_new(true);
        b->fake.fail_glob = "set-cpus:*";
        b->fake.fail_glob_error = -EACCES;
        assert_message(apply(b, &cpus, &message), -EACCES, &message,
                       "cannot set AllowedCPUs of user.slice to 0-1: fake set-cpus:user.slice=0-1 failed");
        assert_string_equal(allowed_cpus(&b->fake, "user.slice"), "0-15");
        assert_message(revert(b, &cpus, &message), -EACCES, &message,
                       "cannot put AllowedCPUs of user.slice back to 0-15: fake "
                       "set-cpus:user.slice=0-15 failed");
        assert_string_equal(to_put_back(b, &cpus), "user.slice"); /* for recover */
        b->fake.fail_glob = NULL;
        assert_int_equal(revert(b, &cpus, &message), 0);
        assert_null(to_put_back(b, &cpus));

        struct step unset = allowed_cpus_step("system.slice", "", "0-3");
        b->fake.fail_glob = "set-cpus:*";
        assert_message(apply(b, &unset, &message), -EACCES, &message,
                       "cannot set AllowedCPUs of system.slice to (unset): fake set-cpus:system.slice= "
                       "failed");
        b->fake.fail_glob = NULL;
        assert_int_equal(revert(b, &unset, &message), 0);
        assert_string_equal(allowed_cpus(&b->fake, "system.slice"), "0-3"); /* the journal's "before" */
        bench_free(b);

        /* A unit systemd does not know: apply says so; on the way back it is gone, and its runtime
         * setting with it. */
        b = bench_new(true);
        struct step gone = allowed_cpus_step("machine-qemu\\x2d1.scope", "0-1", "");
        assert_message(apply(b, &gone, &message), -ENOENT, &message,
                       "cannot set AllowedCPUs of machine-qemu\\x2d1.scope to 0-1: Unit "
                       "machine-qemu\\x2d1.scope not found.");
        assert_int_equal(revert(b, &gone, &message), 0);
        assert_null(to_put_back(b, &gone));
        assert_null(message);
        bench_free(b);

        /* The freezer: this host cannot freeze (cgroup v1), or the freeze failed after it froze; the
         * thaw fails. */
        b = bench_new(true);
        b->fake.fail_glob = "freeze:*";
        b->fake.fail_glob_error = -EOPNOTSUPP;
        assert_message(apply(b, &heavy, &message), -EOPNOTSUPP, &message,
                       "cannot freeze packagekit.service: fake freeze:packagekit.service failed");
        assert_false(frozen(&b->fake, "packagekit.service"));
        b->fake.fail_glob = NULL;
        assert_int_equal(revert(b, &heavy, &message), 0);
        b->fake.fail_glob = "freeze:*";
        b->fake.fail_glob_error = -ETIMEDOUT;
        b->fake.fail_glob_after = true;
        assert_message(apply(b, &heavy, &message), -ETIMEDOUT, &message, "cannot freeze packagekit.service");
        assert_true(frozen(&b->fake, "packagekit.service"));
        b->fake.fail_glob = "thaw:*";
        b->fake.fail_glob_error = -EBUSY;
        b->fake.fail_glob_after = false;
        assert_message(revert(b, &heavy, &message), -EBUSY, &message,
                       "cannot thaw packagekit.service: fake thaw:packagekit.service failed");
        assert_true(frozen(&b->fake, "packagekit.service"));
        assert_string_equal(to_put_back(b, &heavy), "packagekit.service"); /* for recover */
        b->fake.fail_glob = NULL;
        assert_int_equal(revert(b, &heavy, &message), 0);
        assert_false(frozen(&b->fake, "packagekit.service"));
        bench_free(b);

        /* Arguments that cannot be right are refused before anything happens. */
        b = bench_new(true);
        struct step bad_cpus = allowed_cpus_step("system.slice", "0-1,x", "");
        struct step bad_previous = allowed_cpus_step("system.slice", "0-1", "8192");
        struct step short_args = step_of(STEP_ALLOWED_CPUS, "system.slice", "0-1");
        struct step bad_unit = step_of(STEP_FREEZE_UNIT, "../../etc/passwd", NULL);
        assert_message(apply(b, &bad_cpus, &message), -EINVAL, &message, "\"0-1,x\"");
        assert_message(apply(b, &bad_previous, &message), -EINVAL, &message, "\"8192\"");
        assert_message(apply(b, &short_args, &message), -EINVAL, &message, "allowed-cpus needs");
        assert_message(apply(b, &bad_unit, &message), -EINVAL, &message, "is not a systemd unit name");
        assert_int_equal(revert(b, &bad_cpus, &message), 0);
        assert_int_equal(revert(b, &short_args, &message), 0);
        assert_int_equal(revert(b, &bad_unit, &message), 0);
        assert_string_equal(b->fake.log, "");
        bench_free(b);
}

/* ---- the engine on a host with systemd ------------------------------------------------------ */

/* The testbed's machine with systemd running SDDM behind the display-manager alias. */
static const char host[] = FAKEHOST_TESTBED
        "dir run/systemd/system\n"
        "file usr/lib/systemd/system/sddm.service [Unit]\n"
        "symlink etc/systemd/system/display-manager.service ../../../usr/lib/systemd/system/sddm.service\n";

/* Not host state: the journal, the lock and the unit records (checked on their own), and the
 * firmware framebuffer, which the kernel removes for good once vfio-pci has had the VGA device. */
static const char *const not_state[] = {
        "run/gpu-handoff*",
        "*simple-framebuffer.0*",
        NULL,
};

struct machine {
        struct test_tree *tree;
        struct kmodel *model;
        struct kernel kernel;
        struct fake fake;
        struct handoff_ctx ctx;
        struct process_id self;
        char *before, *units_before;
};

static struct machine *machine_new(bool dm_active)
{
        struct machine *m = calloc(1, sizeof(*m));

        assert_non_null(m);
        m->tree = test_tree_fakehost("test-units", host);
        assert_int_equal(kmodel_new(m->tree->sr, &m->model), 0);
        kmodel_on_op(m->model, kernel_hook, NULL);
        m->kernel = kmodel_kernel(m->model);
        fake_init(&m->fake, dm_active);
        m->ctx = (struct handoff_ctx){.sr = m->tree->sr,
                                      .kernel = &m->kernel,
                                      .clock = &test_clock,
                                      .settle_usec = 1000000,
                                      .units = &m->fake.units};
        assert_int_equal(process_id_self(m->tree->sr, &m->self, NULL, 0), 0);
        m->before = tree_snapshot(m->tree->dir, not_state);
        assert_non_null(m->before);
        m->units_before = fake_state(&m->fake);
        op_count = fail_at = kill_at = 0;
        fail_after = false;
        return m;
}

static void machine_free(struct machine *m)
{
        kmodel_free(m->model);
        test_tree_free(m->tree);
        free(m->before);
        free(m->units_before);
        free(m);
}

static bool no_records(struct machine *m)
{
        DIR *d = NULL;
        struct dirent *de;
        bool none = true;

        if (sysroot_opendir(m->tree->sr, "run/gpu-handoff/units", &d) < 0)
                return true;
        while ((de = readdir(d)))
                none &= de->d_name[0] == '.';
        closedir(d);
        return none;
}

static void assert_as_before(struct machine *m, const char *when)
{
        char *now = tree_snapshot(m->tree->dir, not_state), *units = fake_state(&m->fake);

        assert_non_null(now);
        if (strcmp(now, m->before) != 0)
                fail_msg("%s: the host differs from before:\n%s", when, snapshot_diff(m->before, now));
        if (strcmp(units, m->units_before) != 0)
                fail_msg("%s: systemd differs from before:\n  before: %s\n  now:    %s", when,
                         m->units_before, units);
        if (!no_records(m))
                fail_msg("%s: a unit record is left in run/gpu-handoff/units", when);
        free(now);
        free(units);
}

/* The steps that make room for the guest, in plan_room()'s order, after the GPU's (by hand, so that
 * these tests do not depend on the configuration): a heavy service frozen and one that does not
 * run, the host's slices kept on CPUs 0-1 with what they had before (system.slice unset,
 * user.slice 0-15). */
static const char *const room_steps[][4] = {
        {"freeze-unit", "packagekit.service", NULL, NULL},
        {"freeze-unit", "updatedb.service", NULL, NULL},
        {"allowed-cpus", "system.slice", "0-1", ""},
        {"allowed-cpus", "user.slice", "0-1", "0-15"},
};

static void add_room_steps(struct plan *p)
{
        struct step *steps = realloc(p->steps, (p->n_steps + ELEMENTSOF(room_steps)) * sizeof(*steps));

        assert_non_null(steps);
        p->steps = steps;
        for (size_t i = 0; i < ELEMENTSOF(room_steps); i++) {
                struct step *s = &p->steps[p->n_steps++];

                *s = (struct step){.kind = step_kind_from_string(room_steps[i][0])};
                assert_int_not_equal(s->kind, _STEP_KIND_MAX);
                for (size_t a = 1; a < ELEMENTSOF(room_steps[0]) && room_steps[i][a]; a++) {
                        s->args[s->n_args] = strdup(room_steps[i][a]);
                        assert_non_null(s->args[s->n_args++]);
                }
        }
}

/* The outcome of the one step of this kind (the run's steps are the plan's, freed by now: look
 * them up while the run is fresh). */
static const char *state_of(const struct engine_run *run, enum step_kind kind)
{
        const char *state = NULL;

        for (size_t i = 0; i < run->n_steps; i++)
                if (run->steps[i].kind == kind) {
                        assert_null(state);
                        state = outcome_to_string(run->outcomes[i].state);
                }
        return state ? state : "absent";
}

/* The attach plan of this host with the room steps, run. The outcomes of the inhibitor's and the
 * stop-unit step are checked when want_inhibit and want_stop are not NULL, and those of the room
 * steps are "done" when the attach succeeded. *ret_run (when not NULL) gets the run, whose steps
 * went with the plan: use its outcomes only. */
static int attach_full(struct machine *m, struct engine_run **ret_run, const char *want_inhibit,
                       const char *want_stop)
{
        struct engine_run *run = NULL;
        struct plan_options opts = {.yes = true};
        struct host *h = NULL;
        struct plan *p = NULL;
        char *error = NULL;
        size_t n_plan;
        int r;

        assert_int_equal(host_read(m->tree->sr, NULL, HOST_PLATFORM, &h), 0);
        if (plan_attach(h, NULL, 0, &opts, &p, &error) < 0)
                fail_msg("plan: %s", error);
        n_plan = p->n_steps;
        add_room_steps(p);
        r = transition_attach(&m->ctx, &m->self, "attach", p, &run, &error);
        if (run && want_inhibit)
                assert_string_equal(state_of(run, STEP_INHIBIT_SLEEP), want_inhibit);
        if (run && want_stop)
                assert_string_equal(state_of(run, STEP_STOP_UNIT), want_stop);
        for (size_t i = n_plan; run && r == 0 && i < run->n_steps; i++)
                assert_string_equal(outcome_to_string(run->outcomes[i].state), "done");
        if (ret_run)
                *ret_run = run;
        else
                engine_run_free(run);
        free(error);
        plan_free(p);
        host_free(h);
        return r;
}

static int attach(struct machine *m, struct engine_run **ret_run)
{
        return attach_full(m, ret_run, NULL, NULL);
}

static int undo(struct machine *m, const char *phase)
{
        return test_undo(&m->ctx, &m->self, phase);
}

static bool journal_exists(struct machine *m)
{
        return sysroot_exists(m->tree->sr, "run/gpu-handoff/journal");
}

static int attach_checked(struct machine *m, const char *want_inhibit, const char *want_stop)
{
        return attach_full(m, NULL, want_inhibit, want_stop);
}

/* The unit the journal noted for the step of this kind and first argument: what release will
 * put back; NULL when none. */
static char *noted(struct machine *m, enum step_kind kind, const char *arg0)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        char *error = NULL;

        assert_int_equal(journal_load(&handoff_journal, m->tree->sr, &st, &error), 0);
        for (size_t i = 0; i < st->n_steps; i++)
                if (strcmp(st->steps[i].kind, step_kind_to_string(kind)) == 0 && st->steps[i].n_args > 0 &&
                    strcmp(st->steps[i].args[0], arg0) == 0) {
                        const char *unit = journal_state_note(st, i, "unit");
                        return unit && *unit ? strdup(unit) : NULL;
                }
        return NULL;
}

static void assert_noted(struct machine *m, enum step_kind kind, const char *arg0, const char *want)
{
        _cleanup_free_ char *unit = noted(m, kind, arg0);

        if (want)
                assert_string_equal(unit, want);
        else
                assert_null(unit);
}

static void test_cycle(void **state)
{
        struct machine *m = machine_new(true);
        char drv[64];

        assert_int_equal(attach_checked(m, "done", "done"), 0);
        assert_int_equal(pci_current_driver(m->tree->sr, "0000:01:00.0", drv, sizeof(drv)), 1);
        assert_string_equal(drv, "vfio-pci");
        assert_false(running(&m->fake, "sddm.service"));
        assert_int_equal(m->fake.sessions, 0);
        assert_true(m->fake.inhibitor);
        assert_noted(m, STEP_STOP_UNIT, "display-manager.service", "sddm.service");
        /* The display manager goes before anything of the GPU's, and its session with it; the room
         * for the guest is made after. */
        assert_string_equal(m->fake.log, "inhibit:" INHIBIT_UNIT "\n"
                                         "resolve:display-manager.service\n"
                                         "is-active:sddm.service\n"
                                         "stop:sddm.service\n"
                                         "wait-sessions:seat0\n"
                                         "freeze:packagekit.service\n"
                                         "freeze:updatedb.service\n"
                                         "set-cpus:system.slice=0-1\n"
                                         "set-cpus:user.slice=0-1\n");
        assert_string_equal(allowed_cpus(&m->fake, "system.slice"), "0-1");
        assert_string_equal(allowed_cpus(&m->fake, "user.slice"), "0-1");
        assert_true(frozen(&m->fake, "packagekit.service"));
        assert_false(frozen(&m->fake, "updatedb.service"));
        assert_noted(m, STEP_FREEZE_UNIT, "packagekit.service", "packagekit.service");
        assert_noted(m, STEP_FREEZE_UNIT, "updatedb.service", NULL); /* nothing to thaw */
        assert_false(sysroot_exists(m->tree->sr, "run/gpu-handoff/units")); /* the journal holds it all */

        m->fake.log[0] = '\0';
        assert_int_equal(undo(m, "release"), 0);
        /* In reverse: the stopped unit was not frozen, so it is not thawed either. */
        assert_string_equal(m->fake.log, "set-cpus:user.slice=0-15\n"
                                         "set-cpus:system.slice=\n"
                                         "thaw:packagekit.service\n"
                                         "start:sddm.service\n"
                                         "stop:" INHIBIT_UNIT "\n");
        assert_string_equal(allowed_cpus(&m->fake, "system.slice"), "");
        assert_string_equal(allowed_cpus(&m->fake, "user.slice"), "0-15");
        assert_false(journal_exists(m));
        assert_as_before(m, "after release");
        machine_free(m);
}

static void test_cycle_dm_stopped(void **state)
{
        struct machine *m = machine_new(false);

        assert_int_equal(attach_checked(m, "done", "done"), 0);
        assert_null(strstr(m->fake.log, "stop:sddm"));
        assert_int_equal(undo(m, "release"), 0);
        assert_null(strstr(m->fake.log, "start:"));
        assert_false(running(&m->fake, "sddm.service"));
        assert_as_before(m, "after release of a host whose display manager was stopped");
        machine_free(m);
}

static void test_no_bus(void **state)
{
        struct machine *m = machine_new(true);
        struct engine_run *run = NULL;

        m->ctx.units = NULL;
        assert_int_equal(attach(m, &run), -ENOTCONN);
        assert_true(run->host_intact);
        assert_int_equal(run->failed, 0); /* the inhibitor comes first: nothing was changed */
        assert_non_null(strstr(run->outcomes[0].message, "system bus"));
        engine_run_free(run);
        assert_false(journal_exists(m));
        assert_as_before(m, "no system bus");
        machine_free(m);
}

/* How many operations (kernel and systemd together) a successful attach, then its release, take. */
static void count_operations(unsigned *attach_ops, unsigned *release_ops)
{
        struct machine *m = machine_new(true);

        assert_int_equal(attach(m, NULL), 0);
        *attach_ops = op_count;
        assert_int_equal(undo(m, "release"), 0);
        *release_ops = op_count - *attach_ops;
        machine_free(m);
        assert_true(*attach_ops >= 12);
        assert_true(*release_ops >= 10);
}

static void fail_every_attach_operation(bool after)
{
        unsigned n_attach, n_release;

        count_operations(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_attach; k++) {
                struct machine *m = machine_new(true);
                struct engine_run *run = NULL;
                char when[96];

                fail_at = k;
                fail_after = after;
                if (attach(m, &run) == 0)
                        fail_msg("attach with operation %u of %u failing succeeded", k, n_attach);
                assert_non_null(run);
                if (!run->host_intact)
                        fail_msg("operation %u failing: the rollback did not put everything back", k);
                engine_run_free(run);
                assert_false(journal_exists(m));
                snprintf(when, sizeof(when), "operation %u of attach failing%s", k,
                         after ? " after its effect" : "");
                assert_as_before(m, when);
                machine_free(m);
        }
}

static void test_fail_every_attach_operation(void **state)
{
        fail_every_attach_operation(false);
}

static void test_fail_every_attach_operation_after(void **state)
{
        fail_every_attach_operation(true);
}

static void test_fail_every_release_operation(void **state)
{
        unsigned n_attach, n_release;

        count_operations(&n_attach, &n_release);
        for (int after = 0; after <= 1; after++)
                for (unsigned k = 1; k <= n_release; k++) {
                        struct machine *m = machine_new(true);
                        char when[96];

                        assert_int_equal(attach(m, NULL), 0);
                        fail_at = op_count + k;
                        fail_after = after;
                        if (undo(m, "release") == 0)
                                fail_msg("release with operation %u of %u failing succeeded", k, n_release);
                        assert_true(journal_exists(m)); /* kept for recover */
                        fail_at = 0;
                        assert_int_equal(undo(m, "recover"), 0);
                        snprintf(when, sizeof(when), "operation %u of release failing%s, then recover", k,
                                 after ? " after its effect" : "");
                        assert_as_before(m, when);
                        machine_free(m);
                }
}

/* A kill: the process is gone before operation kill_at runs. The tree, the journal and systemd
 * (another process) stay as they were; nothing in this process's memory survives. */
static void test_kill_at_every_operation(void **state)
{
        unsigned n_attach, n_release;

        count_operations(&n_attach, &n_release);
        for (unsigned k = 1; k <= n_attach + n_release; k++) {
                struct machine *volatile m = machine_new(true);
                char when[64];

                kill_at = k;
                /* The abandoned frames' memory is what a killed process loses; not a leak here. */
                __lsan_disable();
                if (setjmp(killed) == 0) {
                        assert_int_equal(attach(m, NULL), 0);
                        undo(m, "release");
                        fail_msg("no operation %u", k);
                }
                __lsan_enable();
                kill_at = 0;
                assert_true(journal_exists(m));
                assert_int_equal(undo(m, "recover"), 0);
                snprintf(when, sizeof(when), "killed before operation %u, then recover", k);
                assert_as_before(m, when);
                machine_free(m);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_stop_start_pair),
                cmocka_unit_test(test_not_running_not_started),
                cmocka_unit_test(test_inhibit),
                cmocka_unit_test(test_failure_messages),
                cmocka_unit_test(test_allowed_cpus),
                cmocka_unit_test(test_freeze),
                cmocka_unit_test(test_room_failure_messages),
                cmocka_unit_test(test_cycle),
                cmocka_unit_test(test_cycle_dm_stopped),
                cmocka_unit_test(test_no_bus),
                cmocka_unit_test(test_fail_every_attach_operation),
                cmocka_unit_test(test_fail_every_attach_operation_after),
                cmocka_unit_test(test_fail_every_release_operation),
                cmocka_unit_test(test_kill_at_every_operation),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
