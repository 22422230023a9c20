/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One transition at a time: an exclusive flock(2) on DIR/lock below the sysroot, DIR the
 * directory of the journal it guards (the hand-over's: run/gpu-handoff, HANDOFF_RUN_DIR).
 * The kernel drops the lock when its holder exits, however it exits, so a crash never leaves a
 * stale lock behind. The holder writes "PID START_TIME WHAT\n" into the file so that a caller
 * that has to give up can say who is in the way. flock() is per open file description: two
 * change_lock_take() calls in one process conflict just like two processes do. */

#include <stddef.h>
#include <stdint.h>

#include "basic/proc.h"
#include "basic/sysroot.h"
#include "basic/wait.h"

/* The lock's name in its directory. */
#define CHANGE_LOCK_FILE "lock"
/* The longest WHAT a holder may record, with the NUL. */
#define CHANGE_LOCK_WHAT_MAX 64

struct change_lock;

/* Takes the lock in dir (change_dir_open() makes it when missing), retrying for up to timeout_usec (wait_until() on clk; NULL is the real
 * clock; 0 tries once). what says what the caller is doing ("attach"); it is recorded with
 * control characters as '?' and cut to CHANGE_LOCK_WHAT_MAX - 1 bytes, ending in "...", when
 * longer; NULL records the process's comm. The
 * caller's identity comes from process_id_self(), so the root needs proc/self.
 *
 * Returns 0 with *ret set, or:
 *   -EBUSY   another holder kept it past the deadline; *ret_holder and holder_what (each may be
 *            NULL) receive the holder's identity and WHAT, or pid 0 and "" when the file does
 *            not name a live process (a holder that has not written it yet);
 *   -ELOOP   DIR or the lock file is a symlink (refused, never followed);
 *   -ENOTDIR DIR is not a directory;
 *   -EPERM   see change_dir_open() (dir.h), or the lock file is not a regular file;
 *   -EINVAL  what is empty;
 *   -errno   anything else (-ENOENT: no proc/self below the root). */
int change_lock_take(const struct sysroot *sr, const char *dir, const struct clock_ops *clk, uint64_t timeout_usec,
                     const char *what, struct change_lock **ret, struct process_id *ret_holder, char *holder_what,
                     size_t holder_what_size);

/* Who is in the way when the lock cannot be had. */
struct change_lock_busy {
        /* The transition the file names, alive; pid 0 when it names none. */
        struct process_id holder;
        char what[CHANGE_LOCK_WHAT_MAX];
        /* Otherwise a process found with the file open (proc/PID/fd); pid 0 when none was seen
         * (another PID namespace, fds we may not read, a flock of another tool's making). */
        pid_t opener;
        char opener_comm[64];
        /* The opener is a gpu-handoff: the write child of an earlier run (which keeps the lock
         * while its write is blocked in the kernel, see kernel.h); waiting cannot help then. */
        bool opener_is_gpu_handoff;
};

/* change_lock_take() for the verbs: waits (up to timeout_usec) only for a transition that the
 * file names; when it names none and a process is seen holding the file open, gives up at once
 * (waiting for an earlier run's blocked write or a foreign process is 15 s for nothing). -EBUSY
 * with *ret_busy saying who; other errors as change_lock_take(). */
int change_lock_take_or_explain(const struct sysroot *sr, const char *dir, const struct clock_ops *clk,
                                uint64_t timeout_usec, const char *what, struct change_lock **ret,
                                struct change_lock_busy *ret_busy);

/* Empties the file (no stale identity is left behind) and drops the lock. NULL is a no-op. */
void change_lock_release(struct change_lock *l);

static inline void change_lock_releasep(struct change_lock **l)
{
        change_lock_release(*l);
}
#define _cleanup_change_lock_ __attribute__((cleanup(change_lock_releasep)))
