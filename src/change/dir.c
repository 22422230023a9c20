/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal's and the lock's directory, checked before anything in it is trusted (dir.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "change/dir.h"

/* Makes every parent of dir that is missing, in order: 0755 whatever the umask (what is below
 * them is for everyone to find, the directory itself is not), each synced into its parent. */
static int make_parents(const struct sysroot *sr, const char *dir)
{
        char path[PATH_MAX];
        size_t n = strlen(dir);

        if (n >= sizeof(path))
                return -ENAMETOOLONG;
        memcpy(path, dir, n + 1);
        for (char *p = strchr(path, '/'); p; p = strchr(p + 1, '/')) {
                _cleanup_close_ int fd = -1, parent_fd = -1;
                char *name;
                int r;

                *p = '\0';
                fd = sysroot_openat(sr, path, O_PATH | O_DIRECTORY);
                if (fd == -ENOENT) {
                        name = strrchr(path, '/');
                        if (name)
                                *name = '\0';
                        parent_fd = sysroot_openat(sr, name ? path : ".", O_RDONLY | O_DIRECTORY);
                        if (name)
                                *name++ = '/';
                        else
                                name = path;
                        if (parent_fd < 0)
                                return parent_fd;
                        r = mkdir_durable_at(parent_fd, name, 0755);
                        if (r < 0 && r != -EEXIST)
                                return r;
                } else if (fd < 0)
                        return fd;
                *p = '/';
        }
        return 0;
}

int change_dir_open(const struct sysroot *sr, const char *dir, bool create, char **ret_error)
{
        _cleanup_close_ int parent_fd = -1, fd = -1;
        const char *slash = strrchr(dir, '/');
        const char *base = slash ? slash + 1 : dir;
        _cleanup_free_ char *parent = slash ? strndup(dir, (size_t)(slash - dir)) : strdup(".");
        bool created = false;
        struct stat st;
        int dfd, r;

        if (!parent)
                return -ENOMEM;
        if (create && (r = make_parents(sr, dir)) < 0)
                return r;
        parent_fd = sysroot_openat(sr, parent, O_RDONLY | O_DIRECTORY);
        if (parent_fd < 0)
                return parent_fd;
        if (create) {
                if (mkdirat(parent_fd, base, 0700) >= 0)
                        created = true;
                else if (errno != EEXIST)
                        return negative_errno();
        }
        /* O_PATH|O_NOFOLLOW opens a symlink itself, so fstat() sees what is really there. */
        fd = openat(parent_fd, base, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISLNK(st.st_mode))
                return error_setf(ret_error, -ELOOP, "%s is a symlink; refusing to follow it", dir);
        if (!S_ISDIR(st.st_mode))
                return error_setf(ret_error, -ENOTDIR, "%s is not a directory", dir);
        if (st.st_uid != geteuid())
                return error_setf(ret_error, -EPERM, "%s is owned by uid %u, not by uid %u", dir,
                                  (unsigned)st.st_uid, (unsigned)geteuid());
        if (st.st_mode & 022)
                return error_setf(ret_error, -EPERM, "%s is writable by other users (mode %04o)", dir,
                                  (unsigned)(st.st_mode & 07777));
        dfd = openat(fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd < 0)
                return negative_errno();
        if (created && fsync(parent_fd) < 0) {
                r = negative_errno();
                close(dfd);
                return r;
        }
        return dfd;
}
