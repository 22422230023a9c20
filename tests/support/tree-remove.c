/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The one recursive remover of the tests (see tree-remove.h). */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "tree-remove.h"

int tree_remove_at(int parent, const char *path)
{
        struct stat st;

        if (fstatat(parent, path, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        if (S_ISDIR(st.st_mode)) {
                _cleanup_closedir_ DIR *d = NULL;
                struct dirent *de;
                int r = opendir_at(parent, path, &d);

                if (r < 0)
                        return r;
                while ((de = readdir(d))) {
                        if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                                continue;
                        /* Relative to the directory just opened: depth costs no path length. */
                        r = tree_remove_at(dirfd(d), de->d_name);
                        if (r < 0)
                                return r;
                }
        }
        if (unlinkat(parent, path, S_ISDIR(st.st_mode) ? AT_REMOVEDIR : 0) < 0)
                return negative_errno();
        return 0;
}

int tree_remove(const char *path)
{
        return tree_remove_at(AT_FDCWD, path);
}
