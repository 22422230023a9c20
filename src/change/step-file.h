/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* File steps: the changes to files that any domain can put in its table of step kinds (host
 * setup's modprobe.d and udev rules, hook install's link and directories). Each keeps what was
 * there before, so that its revert puts back the bytes, the mode, the owner and the SELinux label
 * (the security.selinux attribute, where the file has one) exactly; each checks for drift, so
 * that a file edited by someone else since is never overwritten:
 *   - apply refuses (-ESTALE) when the file is no longer what the plan was made from;
 *   - revert refuses (-ESTALE) when it is no longer what the step wrote, and says what differs.
 *
 * A file's before-image is written next to the journal (the journal's directory, DIR/before-I
 * for step I), durably, and announced with the note "before-image" before the file is changed;
 * revert restores it and removes it. Paths are absolute host paths ("/etc/modprobe.d/x.conf"),
 * opened below the sysroot: the directories above the first one the transaction makes are the
 * host's and resolve through the root, symlinks inside it included (/etc/libvirt, or /etc itself,
 * may be one); from there on, each component is opened with O_NOFOLLOW and a symlink is refused
 * (-ELOOP), never followed, as the file itself never is. All writes go through basic/fileio.
 *
 * Kinds and their arguments (CONTENT is the file's bytes; EXPECT is file_digest() of the file
 * the plan read):
 *   create-file PATH MODE CONTENT          a file where there is none; revert removes it again
 *   replace-file PATH MODE EXPECT CONTENT  new content for a file (MODE "-": its mode stays)
 *   remove-file PATH EXPECT                the file goes; revert writes it back
 *   symlink PATH TARGET OLD                a symlink to TARGET where there is nothing (OLD "") or a
 *                                          symlink to OLD (replaced in one rename); revert puts
 *                                          back what was there
 *   make-dir PATH MODE                     a directory where there is none; revert removes it
 *                                          while it is empty, and keeps it (and says so) when
 *                                          someone has put something in it: nobody's file is
 *                                          lost either way, and a file of theirs must not hold up
 *                                          the rest of the undo
 * MODE is octal ("0644"). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "change/step.h"

/* The biggest file a step reads or writes whole. */
#define STEP_FILE_MAX (1024u * 1024u)
/* The journal room a kind's notes take: one note ("before-image", or "changing" for the kinds
 * that keep nothing), written before the change, so that a revert knows whether its apply got
 * that far. */
#define STEP_FILE_NOTE_ROOM 96

extern const struct step_ops step_file_create_ops, step_file_replace_ops, step_file_remove_ops,
        step_symlink_ops, step_make_dir_ops;

char *step_file_create_describe(const struct step *s);
char *step_file_replace_describe(const struct step *s);
char *step_file_remove_describe(const struct step *s);
char *step_symlink_describe(const struct step *s);
char *step_make_dir_describe(const struct step *s);

/* The entries of a domain's table of kinds: [MY_KIND_MAKE_DIR] = STEP_KIND_MAKE_DIR, ... */
#define STEP_KIND_CREATE_FILE {"create-file", step_file_create_describe, &step_file_create_ops, STEP_FILE_NOTE_ROOM}
#define STEP_KIND_REPLACE_FILE                                                                                 \
        {"replace-file", step_file_replace_describe, &step_file_replace_ops, STEP_FILE_NOTE_ROOM}
#define STEP_KIND_REMOVE_FILE {"remove-file", step_file_remove_describe, &step_file_remove_ops, STEP_FILE_NOTE_ROOM}
#define STEP_KIND_SYMLINK {"symlink", step_symlink_describe, &step_symlink_ops, STEP_FILE_NOTE_ROOM}
#define STEP_FILE_MAKE_DIR "make-dir" /* the kind's name: the journal says which directories a transaction makes */
#define STEP_KIND_MAKE_DIR {STEP_FILE_MAKE_DIR, step_make_dir_describe, &step_make_dir_ops, STEP_FILE_NOTE_ROOM}

/* The directory holding path (absolute, as on the host); *ret_name points into path at the last
 * component. The directories the transaction makes (its journal's make-dir steps) are opened one
 * component at a time with O_NOFOLLOW (-ELOOP for a symlink there); those above them resolve
 * through the root, following symlinks inside it. -EINVAL for "." or ".." in path, or no last
 * component. For a domain's own steps on files. */
int step_file_open_parent(const struct change_ctx *ctx, const char *path, int *ret_dirfd, const char **ret_name);

/* For a domain's own revert of a symlink, create-file or make-dir step: whether its apply got as
 * far as the change (its "changing" note); false when it refused or was killed before. */
bool step_file_changing(const struct change_ctx *ctx);

/* What EXPECT holds for content: "SIZE:HASH", HASH the 64-bit FNV-1a of the bytes in hex. It
 * tells an edited file from the one the plan read; it is no defence against someone crafting a
 * collision, who could as well have edited the journal (both are root's). malloc'd. */
char *file_digest(const void *data, size_t len);
