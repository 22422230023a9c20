/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit steps, through the systemd seam (units.h): a sleep inhibitor held while the GPU is lent,
 * stopping a unit that uses the GPU (the display manager, nvidia-persistenced), started again on
 * the way back; and making room for the guest: a unit's runtime AllowedCPUs (the host kept on its
 * housekeeping CPUs) and freezing a unit, thawed on the way back.
 *
 * Whether a unit ran before it was stopped must reach the release, maybe a later process, and the
 * step's arguments were written before apply looked at the unit. So apply journals it as a note
 * (change/step.h), "unit" = the unit it stops (an alias resolved then), durable BEFORE the stop;
 * revert starts the noted unit, and does nothing without a note. A unit that did not run gets no
 * note, so it is not started on the way back. Crashes are harmless: a note whose unit was not
 * stopped yet makes revert start a running unit, a no-op; a revert after a crash that came after
 * the start starts it again, a no-op too. The inhibitor's unit is noted the same way, before it is
 * started.
 *
 * allowed-cpus and freeze-unit note "unit" too, before systemd is asked anything: it says that
 * systemd may have been changed. Without it revert does nothing, so a step that failed for want
 * of a system bus (whose failed apply the engine reverts too) rolls back cleanly, while a recover
 * that finds the note and no bus says so instead of leaving a CPU mask or a frozen unit behind in
 * silence. A unit with nothing to freeze gets the note again, empty: nothing to thaw. The value
 * to put back is the journal's (allowed-cpus' third argument), so revert sets it whatever
 * systemd says now, and is idempotent by nature. */
#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "basic/bitmap.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "handoff/context.h"
#include "handoff/units.h"
#include "host/cpu.h"

#define NOTE_UNIT "unit" /* the unit to put back, noted before it is changed */
#define DISPLAY_MANAGER "display-manager.service"
#define INHIBIT_UNIT "gpu-handoff-inhibit.service"
#define INHIBIT_WHY "GPU lent to a VM"
#define UNIT_NAME_MAX 200 /* systemd allows 255; what STEP_UNIT_NOTE_ROOM has room for */

static bool unit_name_ok(const char *name)
{
        size_t n = strlen(name);

        if (n == 0 || n > UNIT_NAME_MAX || name[0] == '.')
                return false;
        for (const char *p = name; *p; p++)
                if (!isalnum((unsigned char)*p) && !strchr(":-_.\\@", *p))
                        return false;
        return true;
}

static int need_units(const struct handoff_ctx *ctx, char **message, const char *what, const char *unit)
{
        if (ctx->units)
                return 0;
        return step_fail(message, -ENOTCONN, "cannot %s %s: systemd cannot be reached over the system bus",
                         what, unit);
}

/* The unit apply noted (the resolved unit it stops, the unit systemd was asked to change), or
 * NULL when there is none (or it is empty): revert has nothing to put back. */
static const char *noted_unit(const struct change_ctx *change)
{
        const char *unit = step_note_get(change, NOTE_UNIT);

        return unit && *unit ? unit : NULL;
}

/* Durable before the change: after a crash, recover must know to put it back. */
static int note_unit(const struct change_ctx *change, const char *unit, const char *what, char **message)
{
        int r = step_note(change, NOTE_UNIT, unit);

        return r < 0 ? step_fail(message, r, "cannot journal that %s %s: %s", unit, what, strerror(-r)) : 0;
}

static int stop_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *name = s->n_args > 0 ? s->args[0] : "";
        _cleanup_free_ char *unit = NULL, *error = NULL;
        const struct units *u = ctx->units;
        bool active = false;
        int r;

        if (!unit_name_ok(name))
                return step_fail(message, -EINVAL, "\"%s\" is not a systemd unit name", name);
        r = need_units(ctx, message, "stop", name);
        if (r < 0)
                return r;
        r = u->ops->resolve(u->userdata, name, &unit, &error);
        if (r >= 0 && !unit_name_ok(unit))
                r = -EBADMSG;
        if (r < 0)
                return step_fail(message, r, "cannot find out which unit %s is: %s", name,
                                 error ? error : strerror(-r));
        r = u->ops->is_active(u->userdata, unit, &active, &error);
        if (r < 0)
                return step_fail(message, r, "cannot find out whether %s runs: %s", unit,
                                 error ? error : strerror(-r));
        if (!active)
                return 0; /* nothing to stop, nothing to start again on release */
        r = note_unit(change, unit, "runs", message);
        if (r < 0)
                return r;
        r = u->ops->stop(u->userdata, unit, u->job_timeout_usec, &error);
        if (r < 0)
                return step_fail(message, r, "cannot stop %s: %s", unit, error ? error : strerror(-r));
        if (strcmp(name, DISPLAY_MANAGER) != 0)
                return 0;
        /* The desktop runs in the user's session, not in the display manager's unit. */
        r = u->ops->wait_sessions_gone(u->userdata, "seat0", u->session_timeout_usec, &error);
        if (r < 0)
                return step_fail(message, r, "%s stopped, but the desktop session did not end: %s", unit,
                                 error ? error : strerror(-r));
        return 0;
}

static int stop_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *unit = noted_unit(change);
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        int r;

        if (!unit || !unit_name_ok(unit))
                return 0; /* it did not run before, or apply refused it before changing anything */
        r = need_units(ctx, message, "start", unit);
        if (r < 0)
                return r;
        r = u->ops->start(u->userdata, unit, u->job_timeout_usec, &error);
        if (r < 0)
                return step_fail(message, r, "cannot start %s again: %s", unit,
                                 error ? error : strerror(-r));
        return 0;
}

/* The inhibitor's unit is noted too, so that a rollback or a release that finds no system bus
 * knows whether there is anything to stop. */
static int inhibit_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        int r;

        r = need_units(ctx, message, "start", INHIBIT_UNIT);
        if (r < 0)
                return r;
        r = note_unit(change, INHIBIT_UNIT, "is started", message);
        if (r < 0)
                return r;
        r = u->ops->inhibit(u->userdata, INHIBIT_UNIT, INHIBIT_WHY, u->job_timeout_usec, &error);
        return r < 0 ? step_fail(message, r, "cannot block sleep and shutdown: %s",
                                 error ? error : strerror(-r))
                     : 0;
}

/* Stopping the unit ends the inhibitor's process and with it the inhibitor; stopping a unit that is
 * gone already succeeds. */
static int inhibit_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        int r;

        if (!noted_unit(change))
                return 0; /* never started */
        r = need_units(ctx, message, "stop", INHIBIT_UNIT);
        if (r < 0)
                return r;
        r = u->ops->stop(u->userdata, INHIBIT_UNIT, u->job_timeout_usec, &error);
        if (r < 0)
                return step_fail(message, r, "cannot let sleep and shutdown go: %s",
                                 error ? error : strerror(-r));
        return 0;
}

const struct step_ops step_inhibit_sleep_ops = {inhibit_apply, inhibit_revert};
const struct step_ops step_stop_unit_ops = {stop_apply, stop_revert};

/* Before systemd is asked: a bus, then the note that says it was asked. */
static int room_note(const struct change_ctx *change, const char *unit, const char *what, char **message)
{
        int r = need_units(handoff_ctx_of(change), message, what, unit);

        return r < 0 ? r : note_unit(change, unit, "may be changed", message);
}

static bool cpulist_ok(const char *cpus)
{
        _cleanup_free_ uint64_t *bitmap = calloc(CPULIST_BITS / 64, sizeof(uint64_t));

        return bitmap && cpulist_parse(cpus, bitmap, CPULIST_BITS) >= 0;
}

/* A list of CPUs, or "(unset)" for "", for messages. */
static const char *cpus_or_unset(const char *cpus)
{
        return *cpus ? cpus : "(unset)";
}

static bool allowed_cpus_args_ok(const struct step *s)
{
        return s->n_args >= 3 && unit_name_ok(s->args[0]) && cpulist_ok(s->args[1]) &&
               cpulist_ok(s->args[2]);
}

static int allowed_cpus_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct units *u = handoff_ctx_of(change)->units;
        _cleanup_free_ char *error = NULL;
        const char *unit, *cpus;
        int r;

        if (!allowed_cpus_args_ok(s))
                return step_fail(message, -EINVAL,
                                 "allowed-cpus needs a systemd unit, a list of CPUs and the list before "
                                 "(\"\" for unset): \"%s\" \"%s\" \"%s\"",
                                 s->n_args > 0 ? s->args[0] : "", s->n_args > 1 ? s->args[1] : "",
                                 s->n_args > 2 ? s->args[2] : "");
        unit = s->args[0];
        cpus = s->args[1];
        r = room_note(change, unit, "set AllowedCPUs of", message);
        if (r < 0)
                return r;
        r = u->ops->set_allowed_cpus(u->userdata, unit, cpus, &error);
        if (r < 0)
                return step_fail(message, r, "cannot set AllowedCPUs of %s to %s: %s", unit,
                                 cpus_or_unset(cpus), error ? error : strerror(-r));
        return 0;
}

static int allowed_cpus_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        uint64_t online_set[BITMAP_WORDS(CPULIST_BITS)];
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        const char *unit, *previous;
        int r;

        if (!allowed_cpus_args_ok(s))
                return 0; /* apply refused it before changing anything */
        unit = s->args[0];
        previous = s->args[2];
        if (!noted_unit(change))
                return 0; /* systemd was not asked */
        r = need_units(ctx, message, "put back AllowedCPUs of", unit);
        if (r < 0)
                return r;
        /* systemd (252) unsetting AllowedCPUs leaves the cgroup's cpuset.cpus as it was when another
         * unit keeps the cpuset controller on (seen on init.scope in the testbed): widen it to every
         * online CPU first, then unset. */
        if (!*previous && cpu_online_read(ctx->sr, online_set) >= 0) {
                _cleanup_free_ char *online = cpulist_format(online_set, CPULIST_BITS);

                if (!online)
                        return step_fail(message, -ENOMEM, "out of memory");
                if (*online) {
                        r = u->ops->set_allowed_cpus(u->userdata, unit, online, &error);
                        if (r < 0 && r != -ENOENT)
                                return step_fail(message, r, "cannot put AllowedCPUs of %s back to every CPU: %s", unit,
                                                 error ? error : strerror(-r));
                        free(error);
                        error = NULL;
                }
        }
        r = u->ops->set_allowed_cpus(u->userdata, unit, previous, &error);
        /* -ENOENT: systemd no longer knows the unit, and its runtime setting went with it. */
        if (r < 0 && r != -ENOENT)
                return step_fail(message, r, "cannot put AllowedCPUs of %s back to %s: %s", unit,
                                 cpus_or_unset(previous), error ? error : strerror(-r));
        return 0;
}

/* A unit that does not run has nothing to freeze: the step succeeds, having changed nothing (and
 * notes so, so that release does not thaw it). */
static int freeze_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct units *u = handoff_ctx_of(change)->units;
        const char *unit = s->n_args > 0 ? s->args[0] : "";
        _cleanup_free_ char *error = NULL;
        int r;

        if (!unit_name_ok(unit))
                return step_fail(message, -EINVAL, "\"%s\" is not a systemd unit name", unit);
        r = room_note(change, unit, "freeze", message);
        if (r < 0)
                return r;
        r = u->ops->freeze(u->userdata, unit, &error);
        if (r == -ENOENT) {
                r = step_note(change, NOTE_UNIT, "");
                return r < 0 ? step_fail(message, r, "nothing to freeze: no process runs in %s, but the journal "
                                                     "cannot say so: %s", unit, strerror(-r))
                             : 0;
        }
        if (r < 0)
                return step_fail(message, r, "cannot freeze %s: %s", unit, error ? error : strerror(-r));
        return 0;
}

static int freeze_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct units *u = handoff_ctx_of(change)->units;
        const char *unit = s->n_args > 0 ? s->args[0] : "";
        _cleanup_free_ char *error = NULL;
        int r;

        if (!unit_name_ok(unit))
                return 0; /* apply refused it before changing anything */
        if (!noted_unit(change))
                return 0; /* not frozen by us */
        r = need_units(handoff_ctx_of(change), message, "thaw", unit);
        if (r < 0)
                return r;
        r = u->ops->thaw(u->userdata, unit, &error);
        if (r < 0)
                return step_fail(message, r, "cannot thaw %s: %s", unit, error ? error : strerror(-r));
        return 0;
}

const struct step_ops step_allowed_cpus_ops = {allowed_cpus_apply, allowed_cpus_revert};
const struct step_ops step_freeze_unit_ops = {freeze_apply, freeze_revert};
