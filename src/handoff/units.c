/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The systemd seam (units.h) over sd-bus on the system bus: systemd's Manager for units and jobs,
 * logind's Manager for sessions and inhibitors. Only gpu-handoff on a real root uses it; tests
 * use a fake, and nothing here runs on a machine without the bus. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-bus.h>

#include "basic/bitmap.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/wait.h"
#include "handoff/units.h"

#define SYSTEMD_DEST "org.freedesktop.systemd1"
#define SYSTEMD_PATH "/org/freedesktop/systemd1"
#define SYSTEMD_MANAGER "org.freedesktop.systemd1.Manager"
#define SYSTEMD_UNIT "org.freedesktop.systemd1.Unit"
#define SYSTEMD_IFACE_PREFIX "org.freedesktop.systemd1."
#define LOGIND_DEST "org.freedesktop.login1"
#define LOGIND_PATH "/org/freedesktop/login1"
#define LOGIND_MANAGER "org.freedesktop.login1.Manager"
#define LOGIND_SESSION "org.freedesktop.login1.Session"

/* systemd's error names (src/libsystemd/sd-bus/bus-common-errors.h) that libsystemd does not map to
 * an errno; the standard org.freedesktop.DBus.Error.* names it maps itself. */
#define ERROR_NO_SUCH_UNIT "org.freedesktop.systemd1.NoSuchUnit"
#define ERROR_UNIT_EXISTS "org.freedesktop.systemd1.UnitExists"
#define ERROR_UNIT_INACTIVE "org.freedesktop.systemd1.UnitInactive"
#define ERROR_UNIT_BUSY "org.freedesktop.systemd1.UnitBusy"
#define ERROR_FROZEN_BY_PARENT "org.freedesktop.systemd1.FrozenByParent" /* systemd >= 256 */

/* AllowedCPUs is a little-endian bitmask of any length (systemd's cpu_set_to_dbus()); CPUs from
 * CPULIST_BITS on are refused. */

#define INHIBIT_WHO "gpu-handoff"
#define SYSTEMD_INHIBIT "/usr/bin/systemd-inhibit"

struct bus_units {
        struct units units; /* first: units_free() gets this back from it */
        sd_bus *bus;
};

_printf_(4, 5) static int fail(char **ret_error, int error, const sd_bus_error *e, const char *fmt, ...)
{
        _cleanup_free_ char *what = NULL;
        va_list ap;
        int r;

        if (!ret_error)
                return error;
        va_start(ap, fmt);
        r = vasprintf(&what, fmt, ap);
        va_end(ap);
        if (r < 0)
                return error;
        return error_setf(ret_error, error, "%s: %s", what, e && e->message ? e->message : strerror(-error));
}

/* libsystemd maps only the standard D-Bus error names to errnos; these two matter here. */
static int bus_errno(const sd_bus_error *e, int r)
{
        if (sd_bus_error_has_name(e, ERROR_NO_SUCH_UNIT))
                return -ENOENT;
        if (sd_bus_error_has_name(e, ERROR_UNIT_EXISTS))
                return -EEXIST;
        return r;
}

static uint64_t deadline_of(uint64_t timeout_usec)
{
        uint64_t now = clock_now(NULL);
        return timeout_usec >= USEC_INFINITY - now ? USEC_INFINITY : now + timeout_usec;
}

static uint64_t left_until(uint64_t deadline)
{
        uint64_t now = clock_now(NULL);
        return deadline == USEC_INFINITY ? USEC_INFINITY : deadline > now ? deadline - now : 0;
}

/* The unit's object; LoadUnit, unlike GetUnit, also answers for a unit that is not loaded yet. */
static int unit_object(struct bus_units *b, const char *name, char **ret_path, char **ret_error)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *path;
        char *p;
        int r;

        r = sd_bus_call_method(b->bus, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "LoadUnit", &e, &reply,
                               "s", name);
        if (r < 0)
                return fail(ret_error, bus_errno(&e, r), &e, "systemd cannot load %s", name);
        r = sd_bus_message_read(reply, "o", &path);
        if (r < 0)
                return fail(ret_error, r, NULL, "unexpected answer from systemd to LoadUnit(%s)", name);
        p = strdup(path);
        if (!p)
                return -ENOMEM;
        *ret_path = p;
        return 0;
}

static int unit_property(struct bus_units *b, const char *unit, const char *property, char **ret,
                         char **ret_error)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL;
        int r;

        r = unit_object(b, unit, &path, ret_error);
        if (r < 0)
                return r;
        r = sd_bus_get_property_string(b->bus, SYSTEMD_DEST, path, SYSTEMD_UNIT, property, &e, ret);
        return r < 0 ? fail(ret_error, r, &e, "cannot read %s of %s", property, unit) : 0;
}

static int bus_resolve(void *userdata, const char *name, char **ret_unit, char **ret_error)
{
        return unit_property(userdata, name, "Id", ret_unit, ret_error);
}

static bool running(const char *state)
{
        return strcmp(state, "active") == 0 || strcmp(state, "reloading") == 0 ||
               strcmp(state, "activating") == 0;
}

static int bus_is_active(void *userdata, const char *unit, bool *ret_active, char **ret_error)
{
        _cleanup_free_ char *state = NULL;
        int r;

        r = unit_property(userdata, unit, "ActiveState", &state, ret_error);
        if (r < 0)
                return r;
        *ret_active = running(state);
        return 0;
}

/* A job we wait for: its path once the call returned, its result once systemd removed it. */
struct job_wait {
        char *job;
        char *result;
        int error;
};

static int on_job_removed(sd_bus_message *m, void *userdata, sd_bus_error *ret_error)
{
        struct job_wait *w = userdata;
        const char *path, *unit, *result;
        uint32_t id;

        if (sd_bus_message_read(m, "uoss", &id, &path, &unit, &result) < 0)
                return 0; /* not a JobRemoved we understand: not ours */
        if (!w->job || w->result || strcmp(path, w->job) != 0)
                return 0;
        w->result = strdup(result);
        if (!w->result)
                w->error = -ENOMEM;
        return 0;
}

/* Dispatches bus messages until the job is removed or the deadline. */
static int wait_job(struct bus_units *b, struct job_wait *w, uint64_t deadline)
{
        int r;

        for (;;) {
                r = sd_bus_process(b->bus, NULL);
                if (r < 0)
                        return r;
                if (w->error || w->result)
                        return w->error;
                if (r > 0)
                        continue; /* more may be queued */
                if (left_until(deadline) == 0)
                        return -ETIMEDOUT;
                r = sd_bus_wait(b->bus, left_until(deadline));
                if (r < 0 && r != -EINTR)
                        return r;
        }
}

static int job_result_errno(const char *result)
{
        if (strcmp(result, "done") == 0 || strcmp(result, "skipped") == 0)
                return 0;
        if (strcmp(result, "timeout") == 0)
                return -ETIMEDOUT;
        if (strcmp(result, "canceled") == 0)
                return -ECANCELED;
        return -EIO; /* failed, dependency, invalid, assert, unsupported, collected, once, frozen */
}

/* Sends m, a call that returns a job (StopUnit, StartUnit, StartTransientUnit), and waits for the
 * job. -ENOENT/-EEXIST for systemd's NoSuchUnit/UnitExists, with the message. */
static int call_job(struct bus_units *b, sd_bus_message *m, const char *verb, const char *unit,
                    uint64_t timeout_usec, char **ret_error)
{
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_(sd_bus_slot_unrefp) sd_bus_slot *slot = NULL;
        uint64_t deadline = deadline_of(timeout_usec);
        struct job_wait w = {0};
        const char *job;
        int r;

        /* The match goes in before the call: a short job can be removed before its caller has read
         * the reply, and a JobRemoved that came before the match would be lost. */
        r = sd_bus_match_signal(b->bus, &slot, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, "JobRemoved",
                                on_job_removed, &w);
        if (r < 0)
                return fail(ret_error, r, NULL, "cannot subscribe to systemd's job signals");
        r = sd_bus_call(b->bus, m, 0, &e, &reply);
        if (r < 0)
                return fail(ret_error, bus_errno(&e, r), &e, "systemd refused to %s %s", verb, unit);
        r = sd_bus_message_read(reply, "o", &job);
        if (r < 0)
                return fail(ret_error, r, NULL, "unexpected answer from systemd when asked to %s %s", verb,
                            unit);
        w.job = strdup(job);
        if (!w.job)
                return -ENOMEM;
        r = wait_job(b, &w, deadline);
        if (r == -ETIMEDOUT)
                error_setf(ret_error, r, "systemd had not finished to %s %s after %llu s (job %s still runs)", verb,
                           unit, (unsigned long long)(timeout_usec / USEC_PER_SEC), w.job);
        else if (r < 0)
                fail(ret_error, r, NULL, "lost track of the job to %s %s", verb, unit);
        else {
                r = job_result_errno(w.result);
                if (r < 0)
                        error_setf(ret_error, r, "the job to %s %s ended \"%s\" (journalctl -u %s tells why)", verb,
                                   unit, w.result, unit);
        }
        free(w.job);
        free(w.result);
        return r;
}

static int unit_job(struct bus_units *b, const char *method, const char *verb, const char *unit,
                    uint64_t timeout_usec, char **ret_error)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(b->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, method);
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "replace");
        if (r < 0)
                return r;
        return call_job(b, m, verb, unit, timeout_usec, ret_error);
}

static int bus_stop(void *userdata, const char *unit, uint64_t timeout_usec, char **ret_error)
{
        _cleanup_free_ char *error = NULL;
        int r = unit_job(userdata, "StopUnit", "stop", unit, timeout_usec, &error);

        if (r == -ENOENT)
                return 0; /* not loaded: nothing runs */
        if (r < 0 && ret_error) {
                free(*ret_error);
                *ret_error = TAKE_PTR(error);
        }
        return r;
}

static int bus_start(void *userdata, const char *unit, uint64_t timeout_usec, char **ret_error)
{
        return unit_job(userdata, "StartUnit", "start", unit, timeout_usec, ret_error);
}

static bool graphical(const char *type)
{
        return strcmp(type, "x11") == 0 || strcmp(type, "wayland") == 0 || strcmp(type, "mir") == 0;
}

struct sessions_check {
        struct bus_units *b;
        const char *seat;
        size_t n_open; /* graphical sessions not closing */
        char *open;    /* them, for the message */
        char *error_message;
};

/* A session that went away between ListSessions and reading it is gone: not an error. */
static bool session_vanished(const sd_bus_error *e)
{
        return sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownObject") ||
               sd_bus_error_has_name(e, "org.freedesktop.login1.NoSuchSession") ||
               sd_bus_error_has_name(e, "org.freedesktop.DBus.Error.UnknownMethod");
}

static int no_graphical_session(void *userdata)
{
        struct sessions_check *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *id, *user, *seat, *path;
        size_t n_graphical = 0, len = 0;
        FILE *f;
        uint32_t uid;
        int r;

        free(c->open);
        c->open = NULL;
        c->n_open = 0;
        r = sd_bus_call_method(c->b->bus, LOGIND_DEST, LOGIND_PATH, LOGIND_MANAGER, "ListSessions", &e,
                               &reply, NULL);
        if (r < 0)
                return fail(&c->error_message, r, &e, "cannot list logind's sessions");
        r = sd_bus_message_enter_container(reply, 'a', "(susso)");
        if (r < 0)
                return r;
        f = open_memstream(&c->open, &len);
        if (!f)
                return -ENOMEM;
        while ((r = sd_bus_message_read(reply, "(susso)", &id, &uid, &user, &seat, &path)) > 0) {
                _cleanup_(sd_bus_error_free) sd_bus_error pe = SD_BUS_ERROR_NULL;
                _cleanup_free_ char *type = NULL, *state = NULL;

                if (c->seat && strcmp(seat, c->seat) != 0)
                        continue;
                r = sd_bus_get_property_string(c->b->bus, LOGIND_DEST, path, LOGIND_SESSION, "Type", &pe,
                                               &type);
                if (r >= 0)
                        r = sd_bus_get_property_string(c->b->bus, LOGIND_DEST, path, LOGIND_SESSION, "State",
                                                       &pe, &state);
                if (r < 0 && session_vanished(&pe))
                        continue;
                if (r < 0) {
                        fclose(f);
                        return fail(&c->error_message, r, &pe, "cannot read logind's session %s", id);
                }
                if (!graphical(type))
                        continue;
                n_graphical++;
                if (strcmp(state, "closing") == 0)
                        continue;
                fprintf(f, "%ssession %s of %s (%s, %s)", c->n_open ? ", " : "", id, user, type, state);
                c->n_open++;
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        return r < 0 ? r : n_graphical == 0;
}

static int bus_wait_sessions_gone(void *userdata, const char *seat, uint64_t timeout_usec, char **ret_error)
{
        struct sessions_check c = {.b = userdata, .seat = seat};
        int r;

        r = wait_until(NULL, timeout_usec, no_graphical_session, &c);
        if (r == -ETIMEDOUT && c.n_open == 0)
                r = 0; /* only closing sessions are left: the holder check judges their processes */
        else if (r == -ETIMEDOUT)
                error_setf(ret_error, r, "graphical sessions still open after %llu s: %s",
                           (unsigned long long)(timeout_usec / USEC_PER_SEC), c.open ? c.open : "?"); else if (r < 0 && c.error_message && ret_error) {
                free(*ret_error);
                *ret_error = TAKE_PTR(c.error_message);
        }
        free(c.open);
        free(c.error_message);
        return r;
}

struct inhibitor_check {
        struct bus_units *b;
        const char *unit, *why;
        char *error_message;
};

static int inhibitor_listed(void *userdata)
{
        struct inhibitor_check *c = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        const char *what, *who, *why, *mode;
        uint32_t uid, pid;
        bool active;
        int r;

        r = sd_bus_call_method(c->b->bus, LOGIND_DEST, LOGIND_PATH, LOGIND_MANAGER, "ListInhibitors", &e,
                               &reply, NULL);
        if (r < 0)
                return fail(&c->error_message, r, &e, "cannot list logind's inhibitors");
        r = sd_bus_message_enter_container(reply, 'a', "(ssssuu)");
        while (r >= 0 &&
               (r = sd_bus_message_read(reply, "(ssssuu)", &what, &who, &why, &mode, &uid, &pid)) > 0)
                if (strcmp(who, INHIBIT_WHO) == 0 && strcmp(why, c->why) == 0)
                        return 1;
        if (r < 0)
                return r;
        /* Not yet: unless its process is gone already. */
        r = bus_is_active(c->b, c->unit, &active, &c->error_message);
        if (r < 0)
                return r;
        if (!active) {
                free(c->error_message);
                if (asprintf(&c->error_message,
                             "%s ended before logind listed its inhibitor (journalctl -u %s tells why)",
                             c->unit, c->unit) < 0)
                        c->error_message = NULL;
                return -ESRCH;
        }
        return 0;
}

static int bus_inhibit(void *userdata, const char *unit, const char *why, uint64_t timeout_usec,
                       char **ret_error)
{
        struct bus_units *b = userdata;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        _cleanup_free_ char *why_arg = NULL, *description = NULL, *error = NULL;
        struct inhibitor_check c = {.b = b, .unit = unit, .why = why};
        uint64_t deadline = deadline_of(timeout_usec);
        /* argv, no shell: "sleep infinity" is the process whose lifetime is the inhibitor's. */
        const char *argv[] = {SYSTEMD_INHIBIT,      "--what=sleep:shutdown:idle",
                              "--who=" INHIBIT_WHO, "--why=",
                              "--mode=block",       "sleep",
                              "infinity",           NULL};
        bool active = false;
        int r;

        if (asprintf(&why_arg, "--why=%s", why) < 0 || asprintf(&description, "gpu-handoff: %s", why) < 0)
                return -ENOMEM;
        argv[3] = why_arg;

        r = sd_bus_message_new_method_call(b->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "StartTransientUnit");
        if (r >= 0)
                r = sd_bus_message_append(m, "ss", unit, "fail");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_append(m, "(sv)(sv)", "Description", "s", description, "CollectMode", "s",
                                          "inactive-or-failed"); /* a failed one must not block the next */
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "ExecStart");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "a(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sasb)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sasb");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", argv[0]);
        if (r >= 0)
                r = sd_bus_message_append_strv(m, (char **)argv);
        if (r >= 0)
                r = sd_bus_message_append(m, "b", 0);
        for (int i = 0; i < 4 && r >= 0; i++) /* (sasb), a(sasb), v, (sv) */
                r = sd_bus_message_close_container(m);
        if (r >= 0)
                r = sd_bus_message_close_container(m); /* a(sv) */
        if (r >= 0)
                r = sd_bus_message_append(m, "a(sa(sv))", 0);
        if (r < 0)
                return r;

        r = call_job(b, m, "start", unit, timeout_usec, &error);
        if (r == -EEXIST) {
                /* Left by an earlier hand-over that was not undone: it is ours, and it holds. */
                r = bus_is_active(b, unit, &active, ret_error);
                if (r >= 0 && !active)
                        r = fail(ret_error, -EEXIST, NULL,
                                 "%s exists but does not run; systemctl reset-failed %s", unit, unit);
                if (r < 0)
                        return r;
        } else if (r < 0) {
                if (ret_error) {
                        free(*ret_error);
                        *ret_error = TAKE_PTR(error);
                }
                return r;
        }
        r = wait_until(NULL, left_until(deadline), inhibitor_listed, &c);
        if (r < 0 && ret_error) {
                free(*ret_error);
                *ret_error = TAKE_PTR(c.error_message);
                (void)error_setf(ret_error, r, "logind did not list the inhibitor of %s: %s", unit,
                                 strerror(-r));
        }
        free(c.error_message);
        return r;
}

/* The D-Bus interface that carries a unit's cgroup settings: its type's ("system.slice": Slice).
 * Only these types have a cgroup, and with it AllowedCPUs. */
static int cgroup_interface(const char *unit, char *buf, size_t size)
{
        static const char *const types[][2] = {
                {"slice", "Slice"}, {"scope", "Scope"}, {"service", "Service"},
                {"socket", "Socket"}, {"mount", "Mount"}, {"swap", "Swap"},
        };
        const char *dot = strrchr(unit, '.');

        for (size_t i = 0; dot && i < ELEMENTSOF(types); i++)
                if (strcmp(dot + 1, types[i][0]) == 0) {
                        snprintf(buf, size, SYSTEMD_IFACE_PREFIX "%s", types[i][1]);
                        return 0;
                }
        return -EINVAL;
}

static int bus_get_allowed_cpus(void *userdata, const char *unit, char **ret_cpus, char **ret_error)
{
        struct bus_units *b = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *reply = NULL;
        _cleanup_free_ char *path = NULL;
        uint64_t bitmap[BITMAP_WORDS(CPULIST_BITS)] = {0};
        const uint8_t *bytes;
        const void *array = NULL;
        char iface[64], *cpus;
        size_t n = 0;
        int r;

        if (cgroup_interface(unit, iface, sizeof(iface)) < 0)
                return fail(ret_error, -EINVAL, NULL,
                            "%s has no AllowedCPUs (only slices, scopes, services, sockets, mounts and "
                            "swaps do)",
                            unit);
        /* LoadUnit: a unit systemd does not know comes back "not-found", with nothing set. */
        r = unit_object(b, unit, &path, ret_error);
        if (r < 0)
                return r;
        r = sd_bus_get_property(b->bus, SYSTEMD_DEST, path, iface, "AllowedCPUs", &e, &reply, "ay");
        if (r < 0)
                return fail(ret_error, r, &e, "cannot read AllowedCPUs of %s", unit);
        r = sd_bus_message_read_array(reply, 'y', &array, &n);
        if (r < 0)
                return fail(ret_error, r, NULL, "unexpected AllowedCPUs of %s from systemd", unit);
        bytes = array;
        for (size_t i = 0; i < n; i++) {
                if (!bytes[i])
                        continue;
                if (i >= CPULIST_BITS / 8)
                        return fail(ret_error, -ERANGE, NULL, "AllowedCPUs of %s names a CPU beyond %d",
                                    unit, CPULIST_BITS - 1);
                bitmap[i / 8] |= (uint64_t)bytes[i] << (i % 8 * 8);
        }
        cpus = cpulist_format(bitmap, CPULIST_BITS);
        if (!cpus)
                return -ENOMEM;
        *ret_cpus = cpus;
        return 0;
}

static int bus_set_allowed_cpus(void *userdata, const char *unit, const char *cpus, char **ret_error)
{
        struct bus_units *b = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        uint64_t bitmap[BITMAP_WORDS(CPULIST_BITS)];
        uint8_t bytes[CPULIST_BITS / 8] = {0};
        size_t n = 0;
        int r;

        r = cpulist_parse(cpus, bitmap, CPULIST_BITS);
        if (r < 0)
                return fail(ret_error, -EINVAL, NULL, "\"%s\" is not a list of CPUs (0-%d)", cpus,
                            CPULIST_BITS - 1);
        for (size_t cpu = 0; cpu < CPULIST_BITS; cpu++)
                if (bitmap_test(bitmap, cpu)) {
                        bytes[cpu / 8] |= (uint8_t)(1u << (cpu % 8));
                        n = cpu / 8 + 1; /* up to the byte of the highest CPU */
                }

        r = sd_bus_message_new_method_call(b->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER,
                                           "SetUnitProperties");
        if (r >= 0)
                r = sd_bus_message_append(m, "sb", unit, 1); /* runtime: gone at reboot, like our journal */
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'a', "(sv)");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'r', "sv");
        if (r >= 0)
                r = sd_bus_message_append(m, "s", "AllowedCPUs");
        if (r >= 0)
                r = sd_bus_message_open_container(m, 'v', "ay");
        if (r >= 0)
                r = sd_bus_message_append_array(m, 'y', bytes, n); /* empty: AllowedCPUs= (unset) */
        for (int i = 0; i < 3 && r >= 0; i++) /* v, (sv), a(sv) */
                r = sd_bus_message_close_container(m);
        if (r < 0)
                return r;
        r = sd_bus_call(b->bus, m, b->units.job_timeout_usec, &e, NULL);
        if (r < 0)
                return fail(ret_error, bus_errno(&e, r), &e, "systemd refused AllowedCPUs=%s for %s", cpus,
                            unit);
        return 0;
}

/* FreezeUnit and ThawUnit: systemd answers once the cgroup's freezer has done it (cgroup.events says
 * "frozen 1" or "frozen 0"), so the call itself is the wait; a deadline bounds it. */
static int freezer_call(struct bus_units *b, const char *method, const char *unit, sd_bus_error *e)
{
        _cleanup_(sd_bus_message_unrefp) sd_bus_message *m = NULL;
        int r;

        r = sd_bus_message_new_method_call(b->bus, &m, SYSTEMD_DEST, SYSTEMD_PATH, SYSTEMD_MANAGER, method);
        if (r >= 0)
                r = sd_bus_message_append(m, "s", unit);
        if (r < 0)
                return r;
        return sd_bus_call(b->bus, m, b->units.job_timeout_usec, e, NULL);
}

/* What a freezer call's error means here. -ENOENT: the unit does not run (NoSuchUnit: not loaded;
 * UnitInactive: loaded, not active). -EOPNOTSUPP: no freezer (NotSupported: cgroup v1, a kernel
 * before 5.2, a unit type without a cgroup; UnknownMethod: systemd before 246). -EBUSY: a job or
 * another freezer operation is pending on the unit, or its slice is frozen. */
static int freezer_errno(const sd_bus_error *e, int r)
{
        if (sd_bus_error_has_name(e, ERROR_NO_SUCH_UNIT) || sd_bus_error_has_name(e, ERROR_UNIT_INACTIVE))
                return -ENOENT;
        if (sd_bus_error_has_name(e, SD_BUS_ERROR_NOT_SUPPORTED) ||
            sd_bus_error_has_name(e, SD_BUS_ERROR_UNKNOWN_METHOD))
                return -EOPNOTSUPP;
        if (sd_bus_error_has_name(e, ERROR_UNIT_BUSY) || sd_bus_error_has_name(e, ERROR_FROZEN_BY_PARENT))
                return -EBUSY;
        return r;
}

static int bus_freeze(void *userdata, const char *unit, char **ret_error)
{
        struct bus_units *b = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        int r = freezer_call(b, "FreezeUnit", unit, &e);

        if (r >= 0)
                return 0;
        r = freezer_errno(&e, r);
        if (r == -ENOENT)
                return fail(ret_error, r, &e, "%s does not run", unit);
        if (r == -EOPNOTSUPP)
                return fail(ret_error, r, &e,
                            "systemd cannot freeze %s here (it needs cgroup v2 with cgroup.freeze, "
                            "Linux 5.2, systemd 246)",
                            unit);
        if (r == -ETIMEDOUT)
                return fail(ret_error, r, NULL, "%s was not frozen after %llu s", unit,
                            (unsigned long long)(b->units.job_timeout_usec / USEC_PER_SEC));
        return fail(ret_error, r, &e, "systemd did not freeze %s", unit);
}

static int bus_thaw(void *userdata, const char *unit, char **ret_error)
{
        struct bus_units *b = userdata;
        _cleanup_(sd_bus_error_free) sd_bus_error e = SD_BUS_ERROR_NULL;
        _cleanup_free_ char *path = NULL, *state = NULL, *error = NULL;
        int r;

        r = unit_object(b, unit, &path, &error);
        if (r == -ENOENT)
                return 0;
        if (r < 0) {
                if (ret_error) {
                        free(*ret_error);
                        *ret_error = TAKE_PTR(error);
                }
                return r;
        }
        r = sd_bus_get_property_string(b->bus, SYSTEMD_DEST, path, SYSTEMD_UNIT, "FreezerState", &e, &state);
        if (r < 0 && sd_bus_error_has_name(&e, SD_BUS_ERROR_UNKNOWN_PROPERTY))
                return 0; /* systemd before 246: it freezes nothing */
        if (r < 0)
                return fail(ret_error, r, &e, "cannot read FreezerState of %s", unit);
        if (strcmp(state, "running") == 0)
                return 0; /* not frozen (a unit that does not run, or one systemd does not know, neither) */
        sd_bus_error_free(&e);
        r = freezer_call(b, "ThawUnit", unit, &e);
        if (r >= 0)
                return 0;
        r = freezer_errno(&e, r);
        if (r == -ENOENT)
                return 0; /* stopped meanwhile: stopping thaws it */
        if (r == -ETIMEDOUT)
                return fail(ret_error, r, NULL, "%s was not thawed after %llu s", unit,
                            (unsigned long long)(b->units.job_timeout_usec / USEC_PER_SEC));
        return fail(ret_error, r, &e, "systemd did not thaw %s (FreezerState %s)", unit, state);
}

static const struct unit_ops bus_unit_ops = {
        .resolve = bus_resolve,
        .is_active = bus_is_active,
        .stop = bus_stop,
        .start = bus_start,
        .wait_sessions_gone = bus_wait_sessions_gone,
        .inhibit = bus_inhibit,
        .get_allowed_cpus = bus_get_allowed_cpus,
        .set_allowed_cpus = bus_set_allowed_cpus,
        .freeze = bus_freeze,
        .thaw = bus_thaw,
};

int units_open_system(struct units **ret)
{
        _cleanup_(sd_bus_flush_close_unrefp) sd_bus *bus = NULL;
        struct bus_units *b;
        int r;

        r = sd_bus_open_system(&bus);
        if (r < 0)
                return r;
        b = calloc(1, sizeof(*b));
        if (!b)
                return -ENOMEM;
        b->bus = TAKE_PTR(bus);
        b->units = (struct units){
                .ops = &bus_unit_ops,
                .userdata = b,
                .job_timeout_usec = UNITS_JOB_TIMEOUT_USEC,
                .session_timeout_usec = UNITS_SESSION_TIMEOUT_USEC,
        };
        *ret = &b->units;
        return 0;
}

struct units *units_free(struct units *u)
{
        struct bus_units *b = (struct bus_units *)u;

        if (!b)
                return NULL;
        sd_bus_flush_close_unref(b->bus);
        free(b);
        return NULL;
}
