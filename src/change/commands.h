/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The commands seam: every program a change runs (update-initramfs, a daemon's reload...) goes
 * through command_run(). The real seam forks and execs the argv array as it is, never a shell
 * string, in a clean environment, under a deadline; unit tests put a recorder behind it
 * (tests/support/fake-commands.h) that keeps every argv and can fail any one call.
 *
 * Library code: 0 or -errno, with one line in *ret_error in the user's terms ("update-initramfs
 * failed (exit status 1): E: /boot is full"); never prints. */

#include <stdint.h>

/* What a message quotes of a command's output is its last line; this much of the output's end
 * is kept. Enough for the whole listing of an initramfs (lsinitramfs of a Debian image with
 * every module is about 1 MiB), which setup's checks read whole. */
#define COMMAND_OUTPUT_MAX (16u * 1024u * 1024u)
/* The environment every command gets, nothing inherited. */
#define COMMAND_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
/* After the deadline: SIGTERM, then this long for the command to end before SIGKILL. */
#define COMMAND_KILL_GRACE_USEC (5 * UINT64_C(1000000))

struct commands_ops {
        /* Runs argv (argv[0] a path, or a name looked up in COMMAND_PATH; NULL-terminated) with
         * stdin /dev/null and stdout and stderr captured together, until deadline_usec on
         * CLOCK_MONOTONIC (USEC_INFINITY: none). 0 when it exits with status 0; -ENOENT, -EACCES,
         * -ENOEXEC when it cannot be run; -EPROTO when it exits with another status or is killed
         * by a signal; -ETIMEDOUT when it was still running at the deadline (it is stopped then:
         * SIGTERM to its process group, SIGKILL after COMMAND_KILL_GRACE_USEC). When it ran (0,
         * -EPROTO) and ret_output is not NULL, the last COMMAND_OUTPUT_MAX bytes of its output
         * are in *ret_output (malloc'd, NUL-terminated). */
        int (*run)(void *userdata, const char *const *argv, uint64_t deadline_usec, char **ret_output,
                   char **ret_error);
};

struct commands {
        const struct commands_ops *ops;
        void *userdata;
};

/* fork + execve. */
extern const struct commands commands_real;

/* The real seam inside the root directory root (absolute; borrowed: it must outlive the
 * result), as arch-chroot does it, for `--root DIR` on a live system: the child enters a mount
 * namespace of its own, binds root onto itself (so that it is a mount point: grub-probe looks
 * the device of / up in mountinfo) with what is mounted below it (a separate /boot), binds
 * the host's /proc, /sys and /dev in, a fresh /run (with the host's udev database, read-only),
 * then chroots there and execs argv as commands_real does. The mounts die with the child's
 * namespace: nothing is mounted on the host, before, during or after. Needs CAP_SYS_ADMIN and
 * CAP_SYS_CHROOT; without, each run fails with -EPERM and a line saying so. root NULL or "/"
 * is commands_real itself. A root that is not an absolute path to a directory fails each run
 * with -EINVAL, -ENOENT or -ENOTDIR before anything is started. */
struct commands commands_in_root(const char *root);

/* Through c (NULL: commands_real); see commands_ops.run. */
int command_run(const struct commands *c, const char *const *argv, uint64_t deadline_usec, char **ret_output,
                char **ret_error);
