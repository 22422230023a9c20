/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unit steps, through the systemd seam (units.h): a sleep inhibitor held while the GPU is lent,
 * stopping a unit that uses the GPU (the display manager, nvidia-persistenced), started again on
 * the way back; and making room for the guest: a unit's runtime AllowedCPUs (the host kept on its
 * housekeeping CPUs) and freezing a unit, thawed on the way back.
 *
 * Whether a unit ran before it was stopped must reach the release, a later process, and the
 * journal holds only the step's arguments, written before apply has looked at the unit. So apply
 * records it in a state file, run/gpu-handoff/units/NAME (NAME the step's first argument), which
 * holds the unit it stops (an alias resolved then) and is durable BEFORE the stop; revert starts
 * that unit and then removes the file, and does nothing without one. A unit that did not run gets
 * no file, so it is not started on the way back. Crashes are harmless: a file whose unit was not
 * stopped yet makes revert start a running unit, a no-op; a file not yet removed after the start
 * makes the next revert start it again, a no-op too. Apply first removes a file left by an earlier
 * hand-over (recover --discard leaves them), so a file always speaks for this one. The inhibitor's
 * unit is recorded the same way, before it is started.
 *
 * allowed-cpus and freeze-unit keep a record too, "allowed-cpus+UNIT" and "freeze+UNIT" ('+' is
 * in no unit name, so they meet no stop-unit record), written before systemd is asked anything:
 * it says that systemd may have been changed. Without it revert does nothing, so a step that
 * failed for want of a system bus (whose failed apply the engine reverts too) rolls back cleanly,
 * while a recover that finds a record and no bus says so instead of leaving a CPU mask or a frozen
 * unit behind in silence. The value to put back is the journal's (allowed-cpus' third argument),
 * so revert sets it whatever systemd says now, and is idempotent by nature. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "handoff/context.h"
#include "change/journal.h"
#include "handoff/units.h"
#include "handoff/transition.h"

#define UNITS_DIR "units"
#define DISPLAY_MANAGER "display-manager.service"
#define INHIBIT_UNIT "gpu-handoff-inhibit.service"
#define INHIBIT_WHY "GPU lent to a VM"
#define UNIT_NAME_MAX 200 /* systemd allows 255; room for the ".new" of the state file */
#define RECORD_FREEZE "freeze+"
#define RECORD_ALLOWED_CPUS "allowed-cpus+"
#define RECORD_NAME_MAX (UNIT_NAME_MAX + 16) /* a prefix above, and the unit */

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

/* run/gpu-handoff/units, in the journal's directory (which exists while steps run), created when
 * asked. */
static int units_dir(const struct handoff_ctx *ctx, bool create)
{
        _cleanup_close_ int dfd = sysroot_openat(ctx->sr, HANDOFF_RUN_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW);
        int fd;

        if (dfd < 0)
                return dfd;
        if (create && mkdirat(dfd, UNITS_DIR, 0700) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat(dfd, UNITS_DIR, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        return fd >= 0 ? fd : negative_errno();
}

static int record_write(const struct handoff_ctx *ctx, const char *name, const char *unit)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        char tmp[RECORD_NAME_MAX + 8], text[UNIT_NAME_MAX + 2];
        size_t len = (size_t)snprintf(text, sizeof(text), "%s\n", unit);

        dfd = units_dir(ctx, true);
        if (dfd < 0)
                return dfd;
        snprintf(tmp, sizeof(tmp), "%s.new", name);
        fd = openat(dfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        if (write(fd, text, len) != (ssize_t)len)
                return errno > 0 ? -errno : -EIO;
        /* Durable before the unit is stopped: after a crash, recover must know to start it. */
        if (fsync(fd) < 0 || renameat(dfd, tmp, dfd, name) < 0 || fsync(dfd) < 0)
                return negative_errno();
        return 0;
}

/* 1 with the unit that was stopped, 0 when there is no record. */
static int record_read(const struct handoff_ctx *ctx, const char *name, char **ret_unit)
{
        _cleanup_close_ int dfd = units_dir(ctx, false);
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        int r;

        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        r = read_file_at(dfd, name, UNIT_NAME_MAX + 2, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (len > 0 && text[len - 1] == '\n')
                text[--len] = '\0';
        if (!unit_name_ok(text))
                return -EBADMSG;
        *ret_unit = TAKE_PTR(text);
        return 1;
}

static int record_remove(const struct handoff_ctx *ctx, const char *name)
{
        _cleanup_close_ int dfd = units_dir(ctx, false);

        if (dfd == -ENOENT)
                return 0;
        if (dfd < 0)
                return dfd;
        if (unlinkat(dfd, name, 0) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        return fsync(dfd) < 0 ? negative_errno() : 0;
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
        r = record_remove(ctx, name);
        if (r < 0)
                return step_fail(message, r, "cannot remove the stale record %s/%s/%s: %s", HANDOFF_RUN_DIR,
                                 UNITS_DIR, name, strerror(-r));
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
        r = record_write(ctx, name, unit);
        if (r < 0)
                return step_fail(message, r, "cannot record that %s runs in %s/%s: %s", unit, HANDOFF_RUN_DIR,
                                 UNITS_DIR, strerror(-r));
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
        const char *name = s->n_args > 0 ? s->args[0] : "";
        _cleanup_free_ char *unit = NULL, *error = NULL;
        const struct units *u = ctx->units;
        int r;

        if (!unit_name_ok(name))
                return 0; /* apply refused it before changing anything */
        r = record_read(ctx, name, &unit);
        if (r < 0)
                return step_fail(message, r, "cannot read the record %s/%s/%s: %s", HANDOFF_RUN_DIR, UNITS_DIR,
                                 name, strerror(-r));
        if (r == 0)
                return 0; /* it did not run before, or it was started again already */
        r = need_units(ctx, message, "start", unit);
        if (r < 0)
                return r;
        r = u->ops->start(u->userdata, unit, u->job_timeout_usec, &error);
        if (r < 0)
                return step_fail(message, r, "cannot start %s again: %s", unit,
                                 error ? error : strerror(-r));
        r = record_remove(ctx, name);
        if (r < 0)
                return step_fail(message, r, "started %s again, but cannot remove its record %s/%s/%s: %s",
                                 unit, HANDOFF_RUN_DIR, UNITS_DIR, name, strerror(-r));
        return 0;
}

/* The inhibitor's unit gets a record too, so that a rollback or a release that finds no system bus
 * knows whether there is anything to stop. */
static int inhibit_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        int r;

        r = record_remove(ctx, INHIBIT_UNIT);
        if (r < 0)
                return step_fail(message, r, "cannot remove the stale record %s/%s/%s: %s", HANDOFF_RUN_DIR,
                                 UNITS_DIR, INHIBIT_UNIT, strerror(-r));
        r = need_units(ctx, message, "start", INHIBIT_UNIT);
        if (r < 0)
                return r;
        r = record_write(ctx, INHIBIT_UNIT, INHIBIT_UNIT);
        if (r < 0)
                return step_fail(message, r, "cannot record %s in %s/%s: %s", INHIBIT_UNIT, HANDOFF_RUN_DIR,
                                 UNITS_DIR, strerror(-r));
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
        _cleanup_free_ char *error = NULL, *unit = NULL;
        const struct units *u = ctx->units;
        int r;

        r = record_read(ctx, INHIBIT_UNIT, &unit);
        if (r < 0)
                return step_fail(message, r, "cannot read the record %s/%s/%s: %s", HANDOFF_RUN_DIR, UNITS_DIR,
                                 INHIBIT_UNIT, strerror(-r));
        if (r == 0)
                return 0; /* never started, or stopped already */
        r = need_units(ctx, message, "stop", INHIBIT_UNIT);
        if (r < 0)
                return r;
        r = u->ops->stop(u->userdata, INHIBIT_UNIT, u->job_timeout_usec, &error);
        if (r < 0)
                return step_fail(message, r, "cannot let sleep and shutdown go: %s",
                                 error ? error : strerror(-r));
        r = record_remove(ctx, INHIBIT_UNIT);
        return r < 0 ? step_fail(message, r, "stopped %s, but cannot remove its record %s/%s/%s: %s",
                                 INHIBIT_UNIT, HANDOFF_RUN_DIR, UNITS_DIR, INHIBIT_UNIT, strerror(-r))
                     : 0;
}

const struct step_ops step_inhibit_sleep_ops = {inhibit_apply, inhibit_revert};
const struct step_ops step_stop_unit_ops = {stop_apply, stop_revert};

/* "freeze+UNIT", "allowed-cpus+UNIT": for a unit name that unit_name_ok() accepted. */
static void record_name(char *buf, size_t size, const char *prefix, const char *unit)
{
        snprintf(buf, size, "%s%s", prefix, unit);
}

static int room_record_write(const struct handoff_ctx *ctx, const char *record, const char *unit,
                             char **message)
{
        int r = record_write(ctx, record, unit);

        return r < 0 ? step_fail(message, r, "cannot record the change to %s in %s/%s: %s", unit,
                                 HANDOFF_RUN_DIR, UNITS_DIR, strerror(-r))
                     : 0;
}

/* Before systemd is asked: no stale record, a bus, then the record that says it was asked.
 * record has RECORD_NAME_MAX + 1 bytes. */
static int room_record_begin(const struct handoff_ctx *ctx, const char *prefix, const char *unit, const char *what,
                             char *record, char **message)
{
        int r;

        record_name(record, RECORD_NAME_MAX + 1, prefix, unit);
        r = record_remove(ctx, record);
        if (r < 0)
                return step_fail(message, r, "cannot remove the stale record %s/%s/%s: %s", HANDOFF_RUN_DIR, UNITS_DIR,
                                 record, strerror(-r));
        r = need_units(ctx, message, what, unit);
        return r < 0 ? r : room_record_write(ctx, record, unit, message);
}

/* what: "thawed" for "thawed UNIT, but cannot remove the record ...". */
static int room_record_remove(const struct handoff_ctx *ctx, const char *record, const char *what,
                              const char *unit, char **message)
{
        int r = record_remove(ctx, record);

        return r < 0 ? step_fail(message, r, "%s %s, but cannot remove the record %s/%s/%s: %s", what, unit,
                                 HANDOFF_RUN_DIR, UNITS_DIR, record, strerror(-r))
                     : 0;
}

/* 1 when there is a record, 0 when not (nothing to put back), or the failure. */
static int room_record_exists(const struct handoff_ctx *ctx, const char *record, char **message)
{
        _cleanup_free_ char *unit = NULL;
        int r = record_read(ctx, record, &unit);

        return r < 0 ? step_fail(message, r, "cannot read the record %s/%s/%s: %s", HANDOFF_RUN_DIR, UNITS_DIR,
                                 record, strerror(-r))
                     : r;
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
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        char record[RECORD_NAME_MAX + 1];
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
        r = room_record_begin(ctx, RECORD_ALLOWED_CPUS, unit, "set AllowedCPUs of", record, message);
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
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        char record[RECORD_NAME_MAX + 1];
        const char *unit, *previous;
        int r;

        if (!allowed_cpus_args_ok(s))
                return 0; /* apply refused it before changing anything */
        unit = s->args[0];
        previous = s->args[2];
        record_name(record, sizeof(record), RECORD_ALLOWED_CPUS, unit);
        r = room_record_exists(ctx, record, message);
        if (r <= 0)
                return r; /* 0: systemd was not asked, or it has been put back already */
        r = need_units(ctx, message, "put back AllowedCPUs of", unit);
        if (r < 0)
                return r;
        /* systemd (252) unsetting AllowedCPUs leaves the cgroup's cpuset.cpus as it was when another
         * unit keeps the cpuset controller on (seen on init.scope in the testbed): widen it to every
         * online CPU first, then unset. */
        if (!*previous) {
                char online[4096];
                if (sysroot_read_attr(ctx->sr, "sys/devices/system/cpu/online", online, sizeof(online)) > 0) {
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
        return room_record_remove(ctx, record, "put back AllowedCPUs of", unit, message);
}

/* A unit that does not run has nothing to freeze: the step succeeds, having changed nothing (and
 * its record goes, so that release does not thaw it). */
static int freeze_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *unit = s->n_args > 0 ? s->args[0] : "";
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        char record[RECORD_NAME_MAX + 1];
        int r;

        if (!unit_name_ok(unit))
                return step_fail(message, -EINVAL, "\"%s\" is not a systemd unit name", unit);
        r = room_record_begin(ctx, RECORD_FREEZE, unit, "freeze", record, message);
        if (r < 0)
                return r;
        r = u->ops->freeze(u->userdata, unit, &error);
        if (r == -ENOENT)
                return room_record_remove(ctx, record, "nothing to freeze: no process runs in", unit,
                                          message);
        if (r < 0)
                return step_fail(message, r, "cannot freeze %s: %s", unit, error ? error : strerror(-r));
        return 0;
}

static int freeze_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *unit = s->n_args > 0 ? s->args[0] : "";
        _cleanup_free_ char *error = NULL;
        const struct units *u = ctx->units;
        char record[RECORD_NAME_MAX + 1];
        int r;

        if (!unit_name_ok(unit))
                return 0; /* apply refused it before changing anything */
        record_name(record, sizeof(record), RECORD_FREEZE, unit);
        r = room_record_exists(ctx, record, message);
        if (r <= 0)
                return r; /* 0: not frozen by us, or thawed already */
        r = need_units(ctx, message, "thaw", unit);
        if (r < 0)
                return r;
        r = u->ops->thaw(u->userdata, unit, &error);
        if (r < 0)
                return step_fail(message, r, "cannot thaw %s: %s", unit, error ? error : strerror(-r));
        return room_record_remove(ctx, record, "thawed", unit, message);
}

const struct step_ops step_allowed_cpus_ops = {allowed_cpus_apply, allowed_cpus_revert};
const struct step_ops step_freeze_unit_ops = {freeze_apply, freeze_revert};
