/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the bootloader backends (setup/backend.h) share: which of the wanted kernel arguments a
 * command line already holds, the `options` lines of a Boot Loader Specification entry, and a
 * file's content as the plan so far leaves it, so that two edits of one file in one plan stack.
 * Pure over memory and the plan, like the backends: nothing here writes a file. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "basic/sysroot.h"
#include "setup/backend.h"
#include "setup/plan.h"


/* The arguments of want that the command line text[0..len) lacks (as cmdline_edit() sees it:
 * same key and value), in want's order; a NULL-terminated list, empty when none. -EEXIST when
 * one of want conflicts with what is there (same key, another value) and is not among going (the
 * arguments the same plan takes away: intel_iommu=off before intel_iommu=on), -EINVAL for a line
 * that cannot take more, each with one line in *ret_error. */
int boot_args_missing(const char *text, size_t len, const char *const *want, const char *const *going,
                      char ***ret, char **ret_error);
/* The arguments of these that the line holds (key and value), in their order. */
int boot_args_present(const char *text, size_t len, const char *const *these, char ***ret, char **ret_error);
/* Adds each argument of args to list, once. */
int boot_args_record(struct strv *list, char *const *args);

/* path becomes content: a change already planned for it takes the new content, else
 * setup_plan_write(). 1 when the plan changed, 0 when the file already holds it. */
int boot_file_write(struct setup_plan *p, const struct sysroot *sr, const char *path, const char *content,
                    size_t len, unsigned mode, char **ret_error);

/* A BLS entry's command line: the values of its `options` lines joined by one space (the
 * specification concatenates them), "" when it has none. */
int bls_options_get(const char *text, size_t len, char **ret);
/* The entry with the arguments of add that its options lack appended to its last `options`
 * line (an entry without one gets one) and every argument of remove taken off every `options`
 * line, all other bytes kept. Returns the number added plus removed; ret_added (optional) as in
 * cmdline_edit(); -EEXIST for a conflict, as there. */
int bls_options_edit(const char *text, size_t len, const char *const *add, const char *const *remove,
                     char **ret_text, size_t *ret_len, char ***ret_added, char **ret_error);

#define KERNEL_CMDLINE_PATH "/etc/kernel/cmdline"

/* r from a model (cmdline, grub-default): a refusal (-EOPNOTSUPP: cannot be edited safely,
 * -EEXIST: a conflict, -EINVAL: a line that cannot be read) is setup_plan_refuse()d with
 * *error ("WHERE: error", or the error alone for where NULL) and gives 0, *error freed; other
 * codes are returned as they are. */
int boot_refuse_or(struct setup_plan *p, int r, const char *where, char **error);

/* A command line kept in a file of its own (/etc/kernel/cmdline): in->args_add added and
 * in->args_remove taken off, token by token, in the whole file or (first_line) its first line
 * only, every other byte kept; what it adds recorded in added_all, what it takes off in
 * p->args_remove. 1 when the file changes, 0 when not or when there is no such file;
 * -ECANCELED when the plan was refused; -errno with one line. */
int boot_plan_cmdline_file(const struct setup_inputs *in, struct setup_plan *p, const char *path,
                           bool first_line, struct strv *added_all, char **ret_error);
