/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The machine as seen from one root directory: "/" on a real host, a fake tree in tests
 * (--root DIR, GPU_HANDOFF_ROOT). Every path under /sys, /proc, /dev, /etc, /run and /boot is
 * opened relative to it; nothing in this program uses an absolute system path directly.
 * Paths given to these functions are relative ("sys/bus/pci"); a leading '/' is ignored.
 * Absolute symlinks and ".." inside a fake tree resolve inside the tree (openat2
 * RESOLVE_IN_ROOT); a fake tree is refused where the kernel cannot do that. Code that holds a
 * directory fd opens what lies below it through the root too (a full path), or with the *_at
 * readers below, which never follow a link. */

#include <dirent.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#include "basic/fileio.h"

struct sysroot {
        int fd;        /* O_PATH directory fd of the root */
        char *path;    /* absolute path of the root, "/" by default */
        bool confined; /* openat2 works; false only for "/" on a kernel or seccomp filter without it */
};

/* path NULL is "/". -EINVAL for "", -ENOENT if path does not exist, -ENOTDIR if it is not a
 * directory, -EOPNOTSUPP for a root other than "/" when openat2 (Linux 5.6) is unavailable:
 * paths could not be kept inside it. */
int sysroot_open(const char *path, struct sysroot **ret);
void sysroot_free(struct sysroot *sr);

/* Opens path below the root; returns an fd or -errno (an error is never retried unconfined). */
int sysroot_openat(const struct sysroot *sr, const char *path, int flags);
/* Opens the entry name of the directory dir below the root, such as a device link read from
 * sys/bus/pci/devices: the link resolves through the root, not from the directory's fd. */
int sysroot_openat_entry(const struct sysroot *sr, const char *dir, const char *name, int flags);
/* Opens path as the kernel would from the directory dirfd (opened below the root), but inside
 * the root: an absolute path from the root, a relative one from where dirfd is below the root,
 * so that neither ".." nor a link on the way leads out of it. For a symlink's target too. */
int sysroot_openat_from(const struct sysroot *sr, int dirfd, const char *path, int flags);
int sysroot_opendir(const struct sysroot *sr, const char *path, DIR **ret);
bool sysroot_exists(const struct sysroot *sr, const char *path);
/* Builds "<root>/<path>" for libraries that only take path strings (libkmod, libpci). */
char *sysroot_path(const struct sysroot *sr, const char *path);

/* The readers take regular files only (-EISDIR, or -EINVAL for a FIFO, device or socket, which
 * they open with O_NONBLOCK so that nothing blocks before they see it). The *_at ones read the
 * entry name of dirfd (one path component) and never follow a symlink there (-ELOOP).
 *
 * Reads a small text attribute (sysfs, procfs) below dirfd into buf, NUL-terminated, trailing
 * whitespace stripped. Returns its length, -EFBIG if it does not fit, or -errno. */
ssize_t read_attr_at(int dirfd, const char *name, char *buf, size_t size);
/* The same relative to the root. */
ssize_t sysroot_read_attr(const struct sysroot *sr, const char *path, char *buf, size_t size);
/* Opens a regular file below the root for reading, as the readers do, to read it in pieces. */
int sysroot_open_regular(const struct sysroot *sr, const char *path);
/* Whole files are read as read_fd_full() (basic/fileio.h) reads them: up to max bytes, -EFBIG
 * beyond, into a malloc'd NUL-terminated buffer. */
int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len);
int sysroot_read_file(const struct sysroot *sr, const char *path, size_t max, char **ret, size_t *ret_len);
/* Reads at most size bytes of a binary file (e.g. PCI config space); returns bytes read. */
ssize_t read_binary_at(int dirfd, const char *name, void *buf, size_t size);

/* The last path component of a symlink's target ("../../bus/pci/drivers/nvidia" -> "nvidia"),
 * into buf. -ENOENT when there is no link, -EINVAL when it is not a symlink. */
int read_link_basename_at(int dirfd, const char *name, char *buf, size_t size);
/* The raw target of a symlink, malloc'd. */
int read_link_at(int dirfd, const char *name, char **ret);
