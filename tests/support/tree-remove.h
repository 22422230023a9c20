/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The one recursive remover of the tests: fake trees, scratch directories and the kernel model's
 * vanishing sysfs nodes all go through it. Entries are never followed (a symlink is removed, not
 * what it points to), so a hostile tree cannot lead it outside the directory it was given. */

/* Removes path (relative to dirfd, or AT_FDCWD) and everything below it. A path that does not
 * exist is already removed: 0. Otherwise 0, or the -errno of the first entry that would not go
 * (what could be removed before it is gone). */
int tree_remove_at(int dirfd, const char *path);
int tree_remove(const char *path);
