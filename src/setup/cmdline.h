/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A kernel command line as the kernel splits it (lib/cmdline.c next_arg() and
 * kernel/params.c parse_args()), and a token-level edit of one that keeps every other byte.
 *
 * Splitting: arguments are separated by runs of kernel whitespace (isspace() of the kernel's
 * Latin-1 ctype: space, \t, \n, \v, \f, \r and 0xa0); a double quote toggles "inside quotes"
 * anywhere in an argument, so `foo="a b"` and `"foo=a b"` are one argument each. The key is
 * what precedes the first '=' (a leading quote dropped), the value what follows it with one
 * pair of enclosing quotes dropped, as next_arg() does; no '=' makes a flag. A bare `--` ends
 * the kernel's arguments: what follows goes to init.
 *
 * Keys compare as the kernel's parameq() does ('-' and '_' are the same); values compare byte
 * for byte. For a key given more than once the LAST value wins, as it does for every
 * module_param and most __setup() handlers (each occurrence is parsed in order and overwrites);
 * a few handlers accumulate instead (console=, and anything the handler appends), which
 * cmdline_get() does not model.
 *
 * Pure functions over memory: nothing here reads or writes a file. Every function returns 0
 * (or a count) or -errno, with one line in *ret_error where there is more to say; outputs are
 * untouched on failure. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"

struct cmdline_arg {
        size_t start, len; /* the argument's exact bytes in the line, quotes included */
        char *key;         /* the parameter name as the kernel sees it */
        char *value;       /* NULL for a flag, "" for "key=" */
        bool init;         /* after "--": an argument for init, not for the kernel */
};

struct cmdline {
        struct cmdline_arg *args;
        size_t n_args;
        size_t separator; /* index in args of the "--", or n_args when there is none */
};

/* Splits text[0..len). -EINVAL for a NUL byte (the kernel would stop there). */
int cmdline_parse(const char *text, size_t len, struct cmdline **ret, char **ret_error);
void cmdline_free(struct cmdline *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct cmdline *, cmdline_free);

/* Kernel arguments only (before "--"). has_flag: KEY present without '='. get: the last
 * value of KEY (the one the kernel keeps), NULL when absent or when its last form is a flag. */
bool cmdline_has_flag(const struct cmdline *c, const char *key);
const char *cmdline_get(const struct cmdline *c, const char *key);
/* Whether an argument with this key and this value (NULL: a flag) is among the kernel's. */
bool cmdline_has(const struct cmdline *c, const char *key, const char *value);

/* The edit: first every kernel argument equal (key and value) to one of `remove` is removed,
 * all of its occurrences, with the whitespace that joined it to its neighbour (so that removing
 * "intel_iommu=off" and adding "intel_iommu=on" is one edit). Then every argument of `add` (each
 * must be exactly one kernel argument, not "--") that is not already present with the same key
 * and value is added after the last kernel argument (before "--"); one already present with the
 * same value is skipped. An argument whose key is still present with another value (or as a flag
 * where a value is asked, or the reverse) is a conflict: -EEXIST, the first conflict named in
 * *ret_error, nothing changed (never replaced). Every other byte of the
 * line (spacing, order, quoting, init arguments) is kept, so removing what was added gives the
 * original bytes back. ret_added (optional): the NULL-terminated list of the arguments that
 * were really added, in order — the ones an undo may remove. Returns the number of arguments
 * added plus removed. add and remove may be NULL. */
int cmdline_edit(const char *text, size_t len, const char *const *add, const char *const *remove,
                 char **ret_text, size_t *ret_len, char ***ret_added, char **ret_error);

/* *text (*len bytes) with [at, at + cut) replaced by ins[0..insn), reallocated and NUL-terminated:
 * the one primitive of the byte-keeping edits. 0 or -ENOMEM (*text as it was). */
int text_splice(char **text, size_t *len, size_t at, size_t cut, const char *ins, size_t insn);
