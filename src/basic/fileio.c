/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Whole-file reads and durable writes (see fileio.h). */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"

#define LABEL_XATTR "security.selinux"
/* A label is a short string ("system_u:object_r:virt_etc_t:s0"). */
#define LABEL_MAX 4096

static fileio_fault_hook_fn fault_hook;
static void *fault_hook_userdata;
static unsigned fault_ops;

void fileio_set_fault_hook(fileio_fault_hook_fn fn, void *userdata)
{
        fault_hook = fn;
        fault_hook_userdata = userdata;
        fault_ops = 0;
}

/* Before each change: the test seam's verdict, 0 without one. */
static int fault(const char *op)
{
        return fault_hook ? fault_hook(op, ++fault_ops, fault_hook_userdata) : 0;
}

int write_all(int fd, const void *buf, size_t len)
{
        const char *p = buf;

        while (len > 0) {
                ssize_t k = write(fd, p, len);

                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        if (errno == EAGAIN) { /* a non-blocking pipe or socket that is full */
                                struct pollfd pfd = {.fd = fd, .events = POLLOUT};
                                if (poll(&pfd, 1, -1) < 0 && errno != EINTR)
                                        return negative_errno();
                                continue;
                        }
                        return negative_errno();
                }
                if (k == 0)
                        return -EIO;
                p += k;
                len -= (size_t)k;
        }
        return 0;
}

int read_fd_full(int fd, size_t max, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = NULL;
        size_t n = 0, cap = 0;

        for (;;) {
                ssize_t k;
                if (n + 1 >= cap) {
                        size_t ncap = cap ? cap * 2 : 4096;
                        char *p;
                        if (cap > max + 1)
                                return -EFBIG;
                        p = realloc(buf, ncap);
                        if (!p)
                                return -ENOMEM;
                        buf = p;
                        cap = ncap;
                }
                k = read(fd, buf + n, cap - n - 1);
                if (k < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (k == 0)
                        break;
                n += (size_t)k;
                if (n > max)
                        return -EFBIG;
        }
        buf[n] = '\0';
        if (ret_len)
                *ret_len = n;
        *ret = TAKE_PTR(buf);
        return 0;
}

/* The temporary name next to name: fixed, so that a writer killed halfway leaves one name that
 * the next write reuses (O_TRUNC) rather than a new one each time. */
static int temp_name(const char *name, char buf[static NAME_MAX + 1])
{
        int n = snprintf(buf, NAME_MAX + 1, ".%s.gpu-handoff-new", name);

        return n < 0 || n > NAME_MAX ? -ENAMETOOLONG : 0;
}

void atomic_write_leftover_remove(int dirfd, const char *name)
{
        char tmp[NAME_MAX + 1];

        if (temp_name(name, tmp) >= 0)
                (void)unlinkat(dirfd, tmp, 0);
}

static int sync_dir(int dirfd)
{
        int r = fault("fsync");

        if (r < 0)
                return r;
        return fsync(dirfd) < 0 ? negative_errno() : 0;
}

/* Writes the temporary file: everything but the rename. */
static int write_temp(int dirfd, const char *tmp, const void *data, size_t len, mode_t mode,
                      const struct file_keep *keep)
{
        _cleanup_close_ int fd = -1;
        int r;

        r = fault("create");
        if (r < 0)
                return r;
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_NOCTTY | O_CLOEXEC, 0600);
        if (fd < 0)
                return negative_errno();
        if (keep && (keep->uid != (uid_t)-1 || keep->gid != (gid_t)-1)) {
                /* Owner before mode: chown clears the set-id bits. */
                r = fault("chown");
                if (r < 0)
                        return r;
                if (fchown(fd, keep->uid, keep->gid) < 0)
                        return negative_errno();
        }
        r = fault("chmod");
        if (r < 0)
                return r;
        if (fchmod(fd, mode & 07777) < 0)
                return negative_errno();
        if (keep && keep->label) {
                r = fault("label");
                if (r < 0)
                        return r;
                if (fsetxattr(fd, LABEL_XATTR, keep->label, keep->label_len, 0) < 0)
                        return negative_errno();
        }
        r = fault("write");
        if (r < 0)
                return r;
        r = write_all(fd, data, len);
        if (r < 0)
                return r;
        r = fault("fsync");
        if (r < 0)
                return r;
        return fsync(fd) < 0 ? negative_errno() : 0;
}

/* The temporary entry renamed over name, and the directory synced; the temporary one removed
 * when the rename fails. */
static int rename_into(int dirfd, const char *tmp, const char *name)
{
        int r = fault("rename");

        if (r >= 0 && renameat(dirfd, tmp, dirfd, name) < 0)
                r = negative_errno();
        if (r < 0) {
                (void)unlinkat(dirfd, tmp, 0);
                return r;
        }
        return sync_dir(dirfd);
}

int atomic_write_at(int dirfd, const char *name, const void *data, size_t len, mode_t mode,
                    const struct file_keep *keep)
{
        char tmp[NAME_MAX + 1];
        int r;

        r = temp_name(name, tmp);
        if (r < 0)
                return r;
        r = write_temp(dirfd, tmp, data, len, mode, keep);
        if (r < 0) {
                (void)unlinkat(dirfd, tmp, 0);
                return r;
        }
        return rename_into(dirfd, tmp, name);
}

int mkdir_durable_at(int dirfd, const char *name, mode_t mode)
{
        _cleanup_close_ int fd = -1;
        int r = fault("mkdir");

        if (r < 0)
                return r;
        /* With mode at once, so that a writer killed before the chmod leaves it as the umask
         * makes it; then exactly mode, set on what was made, never through a symlink. */
        if (mkdirat(dirfd, name, mode & 07777) < 0)
                return negative_errno();
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                r = negative_errno();
        if (r >= 0)
                r = fault("chmod");
        if (r >= 0 && fchmod(fd, mode & 07777) < 0)
                r = negative_errno();
        if (r < 0) {
                (void)unlinkat(dirfd, name, AT_REMOVEDIR);
                return r;
        }
        return sync_dir(dirfd);
}

int symlink_durable_at(int dirfd, const char *name, const char *target, bool replace)
{
        char tmp[NAME_MAX + 1];
        int r;

        r = temp_name(name, tmp);
        if (r < 0)
                return r;
        r = fault("symlink");
        if (r < 0)
                return r;
        if (!replace) {
                if (symlinkat(target, dirfd, name) < 0)
                        return negative_errno();
                return sync_dir(dirfd);
        }
        (void)unlinkat(dirfd, tmp, 0); /* one a killed writer left */
        if (symlinkat(target, dirfd, tmp) < 0)
                return negative_errno();
        return rename_into(dirfd, tmp, name);
}

int unlink_durable_at(int dirfd, const char *name, bool dir)
{
        int r = fault("unlink");

        if (r < 0)
                return r;
        if (unlinkat(dirfd, name, dir ? AT_REMOVEDIR : 0) < 0)
                return negative_errno();
        return sync_dir(dirfd);
}

int chmod_chown_at(int dirfd, const char *name, mode_t mode, uid_t uid, gid_t gid)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r = fault("chmod");

        if (r < 0)
                return r;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if ((uid != (uid_t)-1 || gid != (gid_t)-1) && fchownat(dirfd, name, uid, gid, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        if (S_ISLNK(st.st_mode)) /* a symlink has no mode of its own */
                return 0;
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fchmod(fd, mode & 07777) < 0)
                return negative_errno();
        return fsync(fd) < 0 ? negative_errno() : 0;
}

int label_read_fd(int fd, char **ret, size_t *ret_len)
{
        _cleanup_free_ char *buf = malloc(LABEL_MAX);
        ssize_t n;

        if (!buf)
                return -ENOMEM;
        n = fgetxattr(fd, LABEL_XATTR, buf, LABEL_MAX);
        if (n < 0) {
                if (errno == ENODATA || errno == ENOTSUP)
                        return 0;
                return negative_errno();
        }
        *ret = TAKE_PTR(buf);
        *ret_len = (size_t)n;
        return 1;
}

int dir_from_fd(int fd, DIR **ret)
{
        DIR *d = fdopendir(fd);

        if (!d) {
                int r = negative_errno();
                close(fd);
                return r;
        }
        *ret = d;
        return 0;
}

int opendir_at(int dirfd, const char *name, DIR **ret)
{
        int fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        return fd < 0 ? negative_errno() : dir_from_fd(fd, ret);
}
