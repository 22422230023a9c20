/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <linux/openat2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/sysroot.h"

/* Whether openat2() with RESOLVE_IN_ROOT works here: Linux 5.6 or later, and no seccomp filter
 * (container runtimes, systemd's SystemCallFilter=) that answers it with ENOSYS or EPERM. Asked
 * once per root, so that one failing open later (an immutable file answers EPERM too) can never
 * turn confinement off. */
static bool openat2_works(int root_fd)
{
        struct open_how how = {
                .flags = O_PATH | O_CLOEXEC,
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd = (int)syscall(SYS_openat2, root_fd, ".", &how, sizeof(how));

        if (fd < 0)
                return false;
        close(fd);
        return true;
}

int sysroot_open(const char *path, struct sysroot **ret)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *abs = NULL;
        struct stat st;
        struct sysroot *sr;
        bool confined;

        if (!path)
                path = "/";
        if (!*path)
                return -EINVAL; /* "--root $UNSET" must not mean this machine */
        fd = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
                if (errno == ENOTDIR || (stat(path, &st) == 0 && !S_ISDIR(st.st_mode)))
                        return -ENOTDIR;
                return negative_errno();
        }
        abs = realpath(path, NULL);
        if (!abs)
                return negative_errno();
        confined = openat2_works(fd);
        /* Without openat2 absolute links and ".." in a fake tree would resolve on this machine,
         * writes included: only the real root may do without. */
        if (!confined && strcmp(abs, "/") != 0)
                return -EOPNOTSUPP;
        sr = calloc(1, sizeof(*sr));
        if (!sr)
                return -ENOMEM;
        sr->fd = TAKE_FD(fd);
        sr->path = TAKE_PTR(abs);
        sr->confined = confined;
        *ret = sr;
        return 0;
}

void sysroot_free(struct sysroot *sr)
{
        if (!sr)
                return;
        if (sr->fd >= 0)
                close(sr->fd);
        free(sr->path);
        free(sr);
}

static const char *relative(const char *path)
{
        while (*path == '/')
                path++;
        return *path ? path : ".";
}

/* Attribute and file readers open with O_NONBLOCK, so that a FIFO planted in a tree cannot hang
 * a read-only verb, and then take only a regular file (sysfs and procfs attributes are). */
#define READ_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

static int check_regular(int fd)
{
        struct stat st;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        return S_ISREG(st.st_mode) ? 0 : -EINVAL;
}

/* name is one entry of dirfd: a symlink there is not followed (-ELOOP), so a link in a fake tree
 * cannot lead out of it. Attributes are never links. */
static int open_entry(int dirfd, const char *name)
{
        int fd = openat(dirfd, name, READ_FLAGS | O_NOFOLLOW);
        int r;

        if (fd < 0)
                return negative_errno();
        r = check_regular(fd);
        if (r < 0) {
                close(fd);
                return r;
        }
        return fd;
}

int sysroot_open_regular(const struct sysroot *sr, const char *path)
{
        int fd = sysroot_openat(sr, path, READ_FLAGS);
        int r = check_regular(fd);

        if (r < 0) {
                if (fd >= 0)
                        close(fd);
                return r;
        }
        return fd;
}

int sysroot_openat(const struct sysroot *sr, const char *path, int flags)
{
        struct open_how how = {
                .flags = (uint64_t)(flags | O_CLOEXEC),
                .resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
        };
        int fd;

        if (!sr->confined) { /* the real root on a kernel without openat2: nothing to confine */
                fd = openat(sr->fd, relative(path), flags | O_CLOEXEC);
                return fd >= 0 ? fd : negative_errno();
        }
        /* EAGAIN: a rename or mount somewhere raced with resolving "..", and the kernel asks us
         * to try again (openat2(2)); sysfs links are full of "..". Any other error is the
         * answer: never retried without the confinement. */
        for (unsigned tries = 0; tries < 64; tries++) {
                fd = (int)syscall(SYS_openat2, sr->fd, relative(path), &how, sizeof(how));
                if (fd >= 0)
                        return fd;
                if (errno != EAGAIN)
                        break;
        }
        return negative_errno();
}

int sysroot_openat_entry(const struct sysroot *sr, const char *dir, const char *name, int flags)
{
        _cleanup_free_ char *path = NULL;

        if (asprintf(&path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        return sysroot_openat(sr, path, flags);
}

int sysroot_openat_from(const struct sysroot *sr, int dirfd, const char *path, int flags)
{
        _cleanup_free_ char *full = NULL;
        char proc[64], dir[PATH_MAX];
        size_t root_len = strcmp(sr->path, "/") == 0 ? 0 : strlen(sr->path);
        ssize_t n;
        int fd;

        if (path[0] == '/')
                return sysroot_openat(sr, path, flags);
        if (!sr->confined) {
                fd = openat(dirfd, path, flags | O_CLOEXEC);
                return fd >= 0 ? fd : negative_errno();
        }
        /* Where dirfd is below the root, so that ".." and links in path resolve through the
         * root: from dirfd they could climb out of it. */
        snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
        n = readlink(proc, dir, sizeof(dir) - 1);
        if (n < 0)
                return negative_errno();
        dir[n] = '\0';
        if (strncmp(dir, sr->path, root_len) != 0 || (dir[root_len] != '/' && dir[root_len] != '\0'))
                return -EXDEV; /* not below the root (or renamed away since) */
        if (asprintf(&full, "%s/%s", dir + root_len, path) < 0)
                return -ENOMEM;
        return sysroot_openat(sr, full, flags);
}

int sysroot_opendir(const struct sysroot *sr, const char *path, DIR **ret)
{
        int fd = sysroot_openat(sr, path, O_RDONLY | O_DIRECTORY);

        return fd < 0 ? fd : dir_from_fd(fd, ret);
}

bool sysroot_exists(const struct sysroot *sr, const char *path)
{
        _cleanup_close_ int fd = sysroot_openat(sr, path, O_PATH);
        return fd >= 0;
}

char *sysroot_path(const struct sysroot *sr, const char *path)
{
        char *s;
        const char *rel = relative(path);

        if (asprintf(&s, "%s%s%s", sr->path, strcmp(sr->path, "/") == 0 ? "" : "/", rel) < 0)
                return NULL;
        return s;
}

/* Reads up to size-1 bytes; -EFBIG when the file holds more. sysfs and procfs hand out a small
 * attribute in one read, and a regular file reads short only at its end, so a short read ends
 * the loop: that saves the second read(2) per attribute, which a 4,096-device scan notices. */
static ssize_t read_text_fd(int fd, char *buf, size_t size)
{
        size_t n = 0;

        while (n < size) {
                ssize_t k = read(fd, buf + n, size - n);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                n += (size_t)k;
                if (k == 0 || n < size)
                        break;
        }
        if (n >= size)
                return -EFBIG;
        buf[n] = '\0';
        if (memchr(buf, '\0', n))
                return -EINVAL; /* binary where text was expected */
        return (ssize_t)strlen(strip_trailing(buf));
}

ssize_t read_attr_at(int dirfd, const char *name, char *buf, size_t size)
{
        _cleanup_close_ int fd = open_entry(dirfd, name);

        if (fd < 0)
                return fd;
        return read_text_fd(fd, buf, size);
}

ssize_t sysroot_read_attr(const struct sysroot *sr, const char *path, char *buf, size_t size)
{
        _cleanup_close_ int fd = sysroot_open_regular(sr, path);

        if (fd < 0)
                return fd;
        return read_text_fd(fd, buf, size);
}

int read_file_at(int dirfd, const char *name, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = open_entry(dirfd, name);

        if (fd < 0)
                return fd;
        return read_fd_full(fd, max, ret, ret_len);
}

int sysroot_read_file(const struct sysroot *sr, const char *path, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_close_ int fd = sysroot_open_regular(sr, path);

        if (fd < 0)
                return fd;
        return read_fd_full(fd, max, ret, ret_len);
}

ssize_t read_binary_at(int dirfd, const char *name, void *buf, size_t size)
{
        _cleanup_close_ int fd = open_entry(dirfd, name);
        ssize_t k;

        if (fd < 0)
                return fd;
        do
                k = pread(fd, buf, size, 0);
        while (k < 0 && errno == EINTR);
        return k < 0 ? negative_errno() : k;
}

int read_link_at(int dirfd, const char *name, char **ret)
{
        char buf[4096];
        ssize_t n = readlinkat(dirfd, name, buf, sizeof(buf));
        char *s;

        if (n < 0)
                return negative_errno();
        if ((size_t)n >= sizeof(buf))
                return -ENAMETOOLONG;
        s = strndup(buf, (size_t)n);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int read_link_basename_at(int dirfd, const char *name, char *buf, size_t size)
{
        char target[4096];
        ssize_t n = readlinkat(dirfd, name, target, sizeof(target) - 1);
        const char *base;

        if (n < 0)
                return negative_errno();
        target[n] = '\0';
        while (n > 0 && target[n - 1] == '/')
                target[--n] = '\0';
        base = strrchr(target, '/');
        base = base ? base + 1 : target;
        if (!*base || strlen(base) >= size)
                return -EINVAL;
        strcpy(buf, base);
        return 0;
}
