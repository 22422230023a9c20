/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one recursive remover of the tests (see tree-remove.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "tree-remove.h"

int tree_remove_at(int dirfd, const char *path)
{
        struct stat st;

        if (fstatat(dirfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (S_ISDIR(st.st_mode)) {
                _cleanup_closedir_ DIR *d = NULL;
                struct dirent *de;
                int fd = openat(dirfd, path, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC), r;

                if (fd < 0)
                        return negative_errno();
                d = fdopendir(fd);
                if (!d) {
                        r = negative_errno();
                        close(fd);
                        return r;
                }
                while ((de = readdir(d))) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        /* Relative to the directory just opened: depth costs no path length. */
                        r = tree_remove_at(fd, de->d_name);
                        if (r < 0)
                                return r;
                }
        }
        if (unlinkat(dirfd, path, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
                return negative_errno();
        return 0;
}

int tree_remove(const char *path)
{
        return tree_remove_at(AT_FDCWD, path);
}
