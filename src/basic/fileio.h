/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Reading and writing whole files, durably: what every change gpu-handoff makes to a file is
 * built from. A file is replaced by writing a temporary file next to it, syncing it, renaming
 * it over the old one and syncing the directory, so that after a crash at any moment the file
 * is either the old one or the new one, never a mix or a truncated copy; a directory entry made
 * or removed here is synced before the call returns.
 *
 * Every function that changes the file system calls the fault hook first (a test seam, like
 * the journal's write hook), so that tests can fail or abandon the process at each operation.
 * Library code: 0 or -errno, never prints. */

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Writes all len bytes, over short writes and EINTR; a non-blocking fd that is full is waited
 * for. -EIO when write() makes no progress. */
int write_all(int fd, const void *buf, size_t len);

/* Reads a whole file (up to max bytes, -EFBIG beyond) into a malloc'd NUL-terminated buffer;
 * ret_len may be NULL. */
int read_fd_full(int fd, size_t max, char **ret, size_t *ret_len);

/* What a file written by atomic_write_at() gets besides its bytes and mode: its owner, and the
 * SELinux label (the security.selinux extended attribute) it had, so that putting a file back
 * restores those too. */
struct file_keep {
        uid_t uid;         /* (uid_t)-1: the writer's */
        gid_t gid;         /* (gid_t)-1: the writer's */
        const char *label; /* NULL: whatever the policy gives a new file */
        size_t label_len;
};

/* Replaces (or creates) dirfd/name with data: a temporary file in the same directory (never
 * through a symlink), all bytes written, mode set exactly (the umask does not apply), owner and
 * label as keep says (NULL: the writer's, the policy's), fsync, rename over name, fsync of the
 * directory. On failure name is as it was and the temporary file is gone. */
int atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                    const struct file_keep *keep);

/* Removes the temporary entry a writer killed inside atomic_write_at() or a replacing
 * symlink_durable_at() left next to name (one fixed name per entry); nothing there is fine. */
void atomic_write_leftover_remove(int dirfd, const char *name);

/* The other durable changes to a directory entry; each one syncs the directory. */
/* mkdirat() with exactly mode, whatever the umask; -EEXIST when something is there. */
int mkdir_durable_at(int dirfd, const char *name, mode_t mode);
/* A symlink to target at name; replace: renamed over whatever is there (one rename, so that a
 * reader always finds one), else -EEXIST when something is. */
int symlink_durable_at(int dirfd, const char *name, const char *target, bool replace);
/* Removes a file or symlink (dir false) or an empty directory (dir true). */
int unlink_durable_at(int dirfd, const char *name, bool dir);
/* Sets mode and owner of an existing entry, not following a symlink ((uid_t)-1: unchanged). */
int chmod_chown_at(int dirfd, const char *name, mode_t mode, uid_t uid, gid_t gid);

/* A directory stream on fd, which it takes over: closed when that fails too. 0 or -errno. */
int dir_from_fd(int fd, DIR **ret);
/* A directory stream on dirfd/name, a directory and not a symlink to one: -ENOTDIR for either a
 * symlink or a file (O_DIRECTORY with O_NOFOLLOW). */
int opendir_at(int dirfd, const char *name, DIR **ret);

/* The SELinux label of an open file: 1 with a malloc'd value in *ret (not NUL-terminated, its
 * length in *ret_len), 0 when it has none (or the file system keeps no labels), or -errno. */
int label_read_fd(int fd, char **ret, size_t *ret_len);

/* Test seam: fn runs before each operation that changes the file system; op names it:
 * "create", "write", "fsync", "rename", "mkdir", "symlink", "unlink", "chown", "chmod", "label"; with its
 * number since the hook was set; a negative errno fails that operation as the kernel would,
 * before it happens. NULL removes it. */
typedef int (*fileio_fault_hook_fn)(const char *op, unsigned n, void *userdata);
void fileio_set_fault_hook(fileio_fault_hook_fn fn, void *userdata);
