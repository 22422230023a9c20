/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Processes as procfs shows them, below a sysroot. A process is identified by its pid AND its
 * start time, so that a pid the kernel has recycled for another process is never mistaken for
 * the one we recorded (and never signalled). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/sysroot.h"

struct process_id {
        pid_t pid;
        uint64_t start_time; /* field 22 of /proc/PID/stat: clock ticks after boot */
};

/* The longest comm the kernel shows in /proc/PID/stat (kernel threads get up to 64 bytes), plus
 * the NUL. Shorter buffers receive a truncated comm. */
#define PROC_COMM_MAX 65

/* Parses the text of /proc/PID/stat: "PID (COMM) STATE PPID ... STARTTIME ...". COMM may hold
 * anything but NUL (spaces, ')', newlines), so it ends at the LAST ')'. Fields 4 to 22 must be
 * decimal integers. comm (comm_size bytes, may be NULL/0) receives COMM, truncated to fit.
 * Returns 0, or -EINVAL for malformed or truncated text (comm and ret then untouched). */
int proc_stat_parse(const char *stat, char *comm, size_t comm_size, struct process_id *ret);

/* Reads proc/PID/stat below the root. -ESRCH when the process is gone (or never was), -EINVAL
 * when the text is malformed or names another pid. ret and comm may each be NULL. */
int process_id_read(const struct sysroot *sr, pid_t pid, struct process_id *ret, char *comm,
                    size_t comm_size);

/* This boot's id (/proc/sys/kernel/random/boot_id, 36 characters) into buf: what tells a record
 * of this boot from one an earlier boot left in a directory that survived. 0 or -errno. */
int boot_id_read(const struct sysroot *sr, char buf[static 40]);

/* The running process as the root's procfs shows it: proc/self/stat below the sysroot, with the
 * pid taken from that file. On "/" that is this process (as the mounted /proc's pid namespace
 * numbers it); under a fake root it is whatever the tree's proc/self says. Deliberate: the
 * identity recorded here (journal owner, lock holder) is later checked with process_id_alive()
 * against the same root, so both must come from the same procfs. -ENOENT when the root has no
 * proc/self. */
int process_id_self(const struct sysroot *sr, struct process_id *ret, char *comm, size_t comm_size);

/* True when proc/PID exists below the root with the same start time and is not a zombie (a
 * zombie's owner has exited; only its parent has not reaped it yet). Any read error is false. */
bool process_id_alive(const struct sysroot *sr, const struct process_id *id);

/* Whether a process that is not a zombie is in the process group pgid, among those proc/ below
 * the root lists: 1 or 0 (a zombie has ended: only its parent has not reaped it yet, and it
 * holds no file open any more), -errno when proc/ cannot be listed. */
int process_group_running(const struct sysroot *sr, pid_t pgid);

/* The systemd unit an (absolute) cgroup path belongs to: the innermost path component that names a
 * service or scope ("x.service", "x.scope"). The innermost, because it is the most specific
 * culprit: "/user.slice/user-1000.slice/user@1000.service/app.slice/app-kwin.scope" gives
 * "app-kwin.scope", not the user manager "user@1000.service"; a sub-cgroup a service made for
 * itself ("/system.slice/libvirtd.service/payload") still gives the service. A trailing
 * " (deleted)" (a removed cgroup v2 directory) is ignored. -ENODATA when the path names no
 * unit ("/", "/user.slice"), -EINVAL when it does not start with '/'. */
int cgroup_path_unit(const char *path, char **ret);

/* The unit from the text of /proc/PID/cgroup: from the cgroup v2 line "0::PATH" (unified and
 * hybrid hierarchies), else from the cgroup v1 line "N:name=systemd:PATH". A legacy (v1) host
 * still shows "0::/", which names no unit, hence the fallback. Lines whose path is not
 * absolute are not the kernel's and are ignored. -ENOENT when neither line is
 * there (no systemd), -ENODATA when the path names no unit (kernel threads, the root cgroup). */
int cgroup_file_unit(const char *text, char **ret);

/* The same for proc/PID/cgroup below the root; -ESRCH when the process is gone. */
int process_unit(const struct sysroot *sr, pid_t pid, char **ret);
