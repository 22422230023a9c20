/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The systemd seam: what the unit steps (step-unit.c) ask of systemd and logind. On a real host
 * it is sd-bus on the system bus (units_open_system()); unit tests put a fake behind it that
 * records the calls and can fail any of them. Every operation that waits has a deadline; none
 * pauses blindly.
 *
 * Operations return 0 or -errno. Where there is more to say than the errno (a job result, the
 * D-Bus error's text, the sessions still open) *ret_error receives a malloc'd message; it is
 * left alone otherwise, so callers initialize it to NULL. */

#include <stdbool.h>
#include <stdint.h>

struct unit_ops {
        /* The unit a name stands for: an alias ("display-manager.service") gives the unit it
         * points at ("sddm.service", systemd's Id); any other name, also one that no unit has,
         * comes back as it is. */
        int (*resolve)(void *userdata, const char *name, char **ret_unit, char **ret_error);
        /* Whether the unit runs: ActiveState "active", "reloading" or "activating". A unit that
         * does not exist does not run. */
        int (*is_active)(void *userdata, const char *unit, bool *ret_active, char **ret_error);
        /* StopUnit(unit, "replace"), then waits for its job: 0 when the job ends "done", -ETIMEDOUT
         * when it has not ended after timeout_usec, another -errno with the result ("failed",
         * "canceled", ...) in *ret_error. A unit that is not loaded is stopped already: 0. */
        int (*stop)(void *userdata, const char *unit, uint64_t timeout_usec, char **ret_error);
        /* StartUnit(unit, "replace"), then the same. */
        int (*start)(void *userdata, const char *unit, uint64_t timeout_usec, char **ret_error);
        /* Waits until logind lists no graphical session (Type x11, wayland or mir) on seat (any seat
         * when NULL): the compositor lives in the session, not in the display manager's unit, and
         * may still hold the GPU after the display manager's stop job ended. At the deadline,
         * sessions that are only "closing" are let go (with KillUserProcesses=no a stray process
         * keeps one for ever; the holder check that follows names any process still on the GPU);
         * any other graphical session still there is -ETIMEDOUT, named in *ret_error. */
        int (*wait_sessions_gone)(void *userdata, const char *seat, uint64_t timeout_usec, char **ret_error);
        /* Starts the transient service unit that holds logind's sleep, shutdown and idle inhibitor
         * (systemd-inhibit ... sleep infinity: an inhibitor lives as long as the process that took
         * it, and this command does not stay), and waits until logind lists the inhibitor. An
         * active unit of that name is taken as ours from before. Stopping the unit (stop) lets the
         * inhibitor go. */
        int (*inhibit)(void *userdata, const char *unit, const char *why, uint64_t timeout_usec,
                       char **ret_error);
        /* The unit's AllowedCPUs as a canonical cpulist ("0-1,8"), "" when it is not set (every CPU).
         * A unit systemd does not know has nothing set: "". -EINVAL for a unit type without a cgroup
         * (only slices, scopes, services, sockets, mounts and swaps have one). */
        int (*get_allowed_cpus)(void *userdata, const char *unit, char **ret_cpus, char **ret_error);
        /* SetUnitProperties(unit, runtime=true, AllowedCPUs=cpus); "" unsets it. systemd is the one
         * writer of the cgroup v2 tree, so this, not cpuset.cpus, is how a slice is confined. -EINVAL
         * for a malformed list or a CPU from 8192 on, -ENOENT for a unit systemd does not know
         * (NoSuchUnit). */
        int (*set_allowed_cpus)(void *userdata, const char *unit, const char *cpus, char **ret_error);
        /* FreezeUnit: 0 once every process of the unit is frozen (systemd answers when the cgroup's
         * freezer is done; the call has the job deadline), also when it was frozen already. A unit
         * that does not run is -ENOENT (NoSuchUnit: not loaded; UnitInactive: not active, which
         * includes "activating"): nothing to freeze, and the freeze-unit step succeeds without a
         * change. -EOPNOTSUPP when this host cannot freeze it (NotSupported: cgroup v1, Linux before
         * 5.2, a unit type without a cgroup; UnknownMethod: systemd before 246); -EBUSY when a job or
         * another freezer operation is pending on it, or its slice is frozen (UnitBusy,
         * FrozenByParent); -ETIMEDOUT. */
        int (*freeze)(void *userdata, const char *unit, char **ret_error);
        /* ThawUnit. Idempotent: FreezerState "running" (not frozen, or a unit systemd does not know) is
         * 0 without asking; NoSuchUnit or UnitInactive (stopped meanwhile: stopping thaws) is 0, and so
         * is a systemd without FreezerState (before 246: it froze nothing). */
        int (*thaw)(void *userdata, const char *unit, char **ret_error);
};

struct units {
        const struct unit_ops *ops;
        void *userdata;
        uint64_t job_timeout_usec;     /* a start or stop job still running after this is an error */
        uint64_t session_timeout_usec; /* how long graphical sessions may take to end */
};

/* systemd's own stop timeout is 90 s by default, after which it kills the unit and the job ends:
 * give it that, and a little more. */
#define UNITS_JOB_TIMEOUT_USEC (100 * UINT64_C(1000000))
#define UNITS_SESSION_TIMEOUT_USEC (10 * UINT64_C(1000000))

/* The real seam on the system bus. -errno (-ENOENT: no bus socket) when the bus cannot be
 * reached; the caller then runs without one (ctx->units NULL). */
int units_open_system(struct units **ret);
/* Closes the connection; returns NULL. Only for what units_open_system() returned. */
struct units *units_free(struct units *u);
