/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One transition at a time: an exclusive flock(2) on run/gpu-handoff/lock below the sysroot.
 * The kernel drops the lock when its holder exits, however it exits, so a crash never leaves a
 * stale lock behind. The holder writes "PID START_TIME WHAT\n" into the file so that a caller
 * that has to give up can say who is in the way. flock() is per open file description: two
 * handoff_lock_take() calls in one process conflict just like two processes do. */

#include <stddef.h>
#include <stdint.h>

#include "basic/proc.h"
#include "basic/sysroot.h"
#include "basic/wait.h"

#define HANDOFF_RUN_DIR "run/gpu-handoff"
#define HANDOFF_LOCK_PATH HANDOFF_RUN_DIR "/lock"
/* The longest WHAT a holder may record, with the NUL. */
#define HANDOFF_LOCK_WHAT_MAX 64

struct handoff_lock;

/* Opens run/gpu-handoff below the root (a directory fd), creating run/ (0755) and
 * run/gpu-handoff/ (0700) when missing. Shared with the journal, which lives there too.
 * -ELOOP when run/gpu-handoff is a symlink, -ENOTDIR when it is something else that is not a
 * directory, -EPERM when it is owned by another user or writable by group or others (whoever
 * can write there could swap the files we trust). */
int handoff_run_dir_open(const struct sysroot *sr);

/* Takes the lock, retrying for up to timeout_usec (wait_until() on clk; NULL is the real
 * clock; 0 tries once). what says what the caller is doing ("attach"); it is recorded with
 * control characters as '?' and cut to HANDOFF_LOCK_WHAT_MAX - 1 bytes, ending in "...", when
 * longer; NULL records the process's comm. The
 * caller's identity comes from process_id_self(), so the root needs proc/self.
 *
 * Returns 0 with *ret set, or:
 *   -EBUSY   another holder kept it past the deadline; *ret_holder and holder_what (each may be
 *            NULL) receive the holder's identity and WHAT, or pid 0 and "" when the file does
 *            not name a live process (a holder that has not written it yet);
 *   -ELOOP   run/gpu-handoff or the lock file is a symlink (refused, never followed);
 *   -EPERM   see handoff_run_dir_open(), or the lock file is not a regular file;
 *   -EINVAL  what is empty;
 *   -errno   anything else (-ENOENT: no proc/self below the root). */
int handoff_lock_take(const struct sysroot *sr, const struct clock_ops *clk, uint64_t timeout_usec,
                      const char *what, struct handoff_lock **ret, struct process_id *ret_holder,
                      char *holder_what, size_t holder_what_size);

/* Who is in the way when the lock cannot be had. */
struct handoff_lock_busy {
        /* The transition the file names, alive; pid 0 when it names none. */
        struct process_id holder;
        char what[HANDOFF_LOCK_WHAT_MAX];
        /* Otherwise a process found with the file open (proc/PID/fd); pid 0 when none was seen
         * (another PID namespace, fds we may not read, a flock of another tool's making). */
        pid_t opener;
        char opener_comm[64];
        /* The opener is a gpu-handoff: the write child of an earlier run (which keeps the lock
         * while its write is blocked in the kernel, see kernel.h); waiting cannot help then. */
        bool opener_is_gpu_handoff;
};

/* handoff_lock_take() for the verbs: waits (up to timeout_usec) only for a transition that the
 * file names; when it names none and a process is seen holding the file open, gives up at once
 * (waiting for an earlier run's blocked write or a foreign process is 15 s for nothing). -EBUSY
 * with *ret_busy saying who; other errors as handoff_lock_take(). */
int handoff_lock_take_or_explain(const struct sysroot *sr, const struct clock_ops *clk, uint64_t timeout_usec,
                                 const char *what, struct handoff_lock **ret, struct handoff_lock_busy *ret_busy);

/* Empties the file (no stale identity is left behind) and drops the lock. NULL is a no-op. */
void handoff_lock_release(struct handoff_lock *l);

static inline void handoff_lock_releasep(struct handoff_lock **l)
{
        handoff_lock_release(*l);
}
#define _cleanup_handoff_lock_ __attribute__((cleanup(handoff_lock_releasep)))
