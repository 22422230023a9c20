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
#include <sys/types.h>

/* What a message quotes of a command's output is its last line; this much of the output's end
 * is kept. Enough for the whole listing of an initramfs (lsinitramfs of a Debian image with
 * every module is about 1 MiB), which setup's checks read whole. */
#define COMMAND_OUTPUT_MAX (16u * 1024u * 1024u)
/* The environment every command gets, nothing inherited. */
#define COMMAND_PATH "/usr/sbin:/usr/bin:/sbin:/bin"
/* After the deadline: SIGTERM, then this long for the command to end before SIGKILL. */
#define COMMAND_KILL_GRACE_USEC (5 * UINT64_C(1000000))

/* How long stopping what is left of a process group (command_stop_group()) waits for it to end. */
#define COMMAND_GROUP_STOP_USEC (5 * UINT64_C(1000000))

/* The process group a command ran in, for a later process to stop what is left of it (the
 * command's children, orphaned when the process that ran it was killed): the group's number is
 * the pid of its leader, the process that execs argv; the leader's start time (field 22 of
 * /proc/PID/stat) and the boot's id (/proc/sys/kernel/random/boot_id) tell that number apart
 * from a later process's, in this boot or another. */
struct command_group {
        pid_t pgid;
        uint64_t start_time;
        char boot_id[40]; /* "" when unknown */
};
/* "PGID START BOOT_ID" as a journal note keeps it, and back: -EINVAL for anything else, or a
 * group that is no command's (0, 1, negative). */
#define COMMAND_GROUP_STRING_MAX 96
void command_group_format(const struct command_group *g, char buf[static COMMAND_GROUP_STRING_MAX]);
int command_group_parse(const char *s, struct command_group *ret);

/* Who is told which process group a command runs in before it may change anything. */
struct command_watch {
        /* Called in the parent after fork, before the child execs argv: the child waits until it
         * returns (a journal note, written and synced, comes before the change it is about). A
         * negative errno, with *ret_error, stops the child before it execs, and the run fails
         * with it. */
        int (*started)(void *userdata, const struct command_group *g, char **ret_error);
        void *userdata;
};

struct commands_ops {
        /* Runs argv (argv[0] a path, or a name looked up in COMMAND_PATH; NULL-terminated) with
         * stdin /dev/null and stdout and stderr captured together, until deadline_usec on
         * CLOCK_MONOTONIC (USEC_INFINITY: none). 0 when it exits with status 0; -ENOENT, -EACCES,
         * -ENOEXEC when it cannot be run; -EPROTO when it exits with another status or is killed
         * by a signal; -ETIMEDOUT when it was still running at the deadline (it is stopped then:
         * SIGTERM to its process group, SIGKILL after COMMAND_KILL_GRACE_USEC). When it ran (0,
         * -EPROTO) and ret_output is not NULL, the last COMMAND_OUTPUT_MAX bytes of its output
         * are in *ret_output (malloc'd, NUL-terminated). */
        int (*run)(void *userdata, const char *const *argv, const struct command_watch *watch, uint64_t deadline_usec,
                   char **ret_output, char **ret_error);
        /* Stops what is left of a group that a run of this seam started, maybe in another process
         * that was killed since: SIGKILL to the group, when it is still the command's: its leader
         * runs with the recorded start time, or no process has its number (then whatever is in
         * the group is the command's: the kernel gives no new process the number of a group that
         * has members); a process of that number that started at another time, or another boot,
         * means that the group ended and its number went to someone else, and nothing is
         * signalled. Then waits, up to COMMAND_GROUP_STOP_USEC, until no process of the group
         * runs: 0, or -EBUSY when some still run then (-EPERM ... when it cannot signal them). */
        int (*stop_group)(void *userdata, const struct command_group *g, char **ret_error);
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
/* The same, telling watch (may be NULL) the command's process group before it starts. */
int command_run_watched(const struct commands *c, const char *const *argv, const struct command_watch *watch,
                        uint64_t deadline_usec, char **ret_output, char **ret_error);
/* Through c (NULL: commands_real); see commands_ops.stop_group. The real seam, in a root or
 * not, looks for the group in this system's own /proc: a command run inside a root is still a
 * process of the running system (commands_in_root() binds the host's /proc into the root), and
 * the pid fork() returned is numbered as that /proc numbers it. */
int command_stop_group(const struct commands *c, const struct command_group *g, char **ret_error);
