/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A text picture of a whole fake tree, so that a test can say "the host is as it was" with one
 * strcmp and, when it is not, print just the lines that differ.
 *
 * One line per entry below root_dir (the root itself is not listed), sorted by path:
 *
 *     d PATH MODE
 *     l PATH -> TARGET
 *     f PATH MODE CONTENT
 *
 * PATH is relative to root_dir; MODE is the permission bits in octal ("0644"). In PATH, TARGET and
 * CONTENT a backslash, a blank, a control character or a byte >= 0x7f is written \xHH, so a line
 * is one line and its second word is always the whole path (a file "0x10de\n" reads
 * "f sys/.../vendor 0444 0x10de\x0a"). A file that cannot be read shows "<error: EACCES>" as
 * its content; other kinds of entries (fifos, sockets, devices) are "? PATH". Entries are not
 * followed (symlinks are listed, never entered); hard links are listed once per name. */

/* exclude_globs: NULL-terminated fnmatch(3) patterns (flags 0: '*' also matches '/') matched
 * against PATH; a matching directory is left out with everything below it. May be NULL.
 * Returns a malloc'd string ("" for an empty tree), or NULL with errno set. */
char *tree_snapshot(const char *root_dir, const char *const *exclude_globs);

/* The lines that differ between two snapshots, in path order: "-LINE" for a line only in a,
 * "+LINE" for a line only in b (a changed entry shows both). "" when they are equal; NULL when
 * out of memory. */
char *snapshot_diff(const char *a, const char *b);
