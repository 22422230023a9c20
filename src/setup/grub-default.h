/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* /etc/default/grub as grub-mkconfig reads it: a shell script it sources. This reads the text
 * (never the file: the file steps of src/change do the I/O) well enough to find the LAST
 * assignment of one variable (GRUB_CMDLINE_LINUX_DEFAULT, GRUB_CMDLINE_LINUX) and to edit its
 * value through the kernel-command-line model (setup/cmdline.h), changing only the bytes of that
 * value and keeping its quoting.
 *
 * Understood: comments, blank lines, `NAME=value` statements (several on a line, separated by
 * blanks or ';'), values unquoted, in single quotes or in double quotes, other statements and
 * other variables' values of any form (backquotes, $(…), line continuations) which are skipped.
 * Refused with -EOPNOTSUPP and one line saying why, because the value's meaning or the
 * assignment's effect cannot be known without running the shell: a value of the variable that
 * uses $VAR / ${VAR} / $(…) / backquotes / a backslash / a continuation line / a newline /
 * mixed quoting; the variable assigned inside if/while/for/{…} or after a case, subshell or
 * function; the variable named in any other statement (export, read, unset, a command's
 * environment prefix…). An unterminated quote is -EINVAL. What a sourced file (`. FILE`, or
 * Debian's /etc/default/grub.d/ drop-ins, read after this file) does is beyond this text: the
 * caller checks those. */

#include <stdbool.h>
#include <stddef.h>

struct grub_value {
        size_t line;       /* 1-based line of the assignment */
        size_t start, len; /* the value's bytes in the text, quotes included */
        char quote;        /* '"', '\'' or 0 (unquoted) */
        char *value;       /* the value as the shell assigns it */
};

void grub_value_done(struct grub_value *v);

/* The last assignment of name: 1 and *ret filled when there is one, 0 when the variable is
 * never assigned (*ret untouched), or -errno (a refusal, above). */
int grub_default_find(const char *text, size_t len, const char *name, struct grub_value *ret,
                      char **ret_error);

/* The text with the last assignment's value of name edited by cmdline_edit(add, remove) (see
 * there: duplicates skipped, a conflict is -EEXIST), quoting kept; an unquoted value that now
 * needs quotes gets double quotes. A variable never assigned gets `name="…"` appended as a new
 * last line (when there is something to add); refused when that line would not stand alone (a
 * block left open, a case or function seen, a continuation at the end). A result that would need a character
 * its quotes cannot hold without an escape is refused (-EOPNOTSUPP). Returns the number of arguments added
 * plus removed, with *ret_text (NUL-terminated, *ret_len bytes) a new copy even when that is 0;
 * ret_added as in cmdline_edit(). */
int grub_default_edit(const char *text, size_t len, const char *name, const char *const *add,
                      const char *const *remove, char **ret_text, size_t *ret_len, char ***ret_added,
                      char **ret_error);
