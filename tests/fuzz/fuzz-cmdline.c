/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cmdline_parse() and cmdline_edit(). Input: the command line, then after the first '\n' the
 * arguments to add, one a line. Invariants: parsing succeeds on any text without NUL, and the
 * arguments are in order, inside the text, never overlap and never start or end on kernel
 * whitespace outside quotes; an edit returns only a count, -EINVAL or -EEXIST, with a message
 * exactly when it fails; its output parses, holds every argument it says it added, is a fixed
 * point of the same edit, and removing what was added gives the original bytes back. */

#include <errno.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "fuzz.h"
#include "setup/cmdline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *in = NULL, *error = NULL, *once = NULL, *twice = NULL, *back = NULL;
        _cleanup_(cmdline_freep) struct cmdline *c = NULL, *after = NULL;
        _cleanup_(strv_done) struct strv add = {0};
        char **added = NULL;
        size_t len, n = 0, end = 0;
        char *nl;
        int r;

        if (size > 4096 || memchr(data, '\0', size))
                return 0;
        in = fuzz_strndup(data, size);
        nl = strchr(in, '\n');
        len = nl ? (size_t)(nl - in) : size;
        for (char *p = nl; p;) {
                char *q = strchr(p + 1, '\n');

                fuzz_check(strv_addf(&add, "%.*s", (int)(q ? q - p - 1 : (ptrdiff_t)strlen(p + 1)), p + 1) ==
                           0);
                p = q;
        }

        r = cmdline_parse(in, len, &c, &error);
        fuzz_check(r == 0 && !error);
        fuzz_check(c->separator <= c->n_args);
        for (size_t i = 0; i < c->n_args; i++) {
                fuzz_check(c->args[i].start >= end && c->args[i].len > 0);
                end = c->args[i].start + c->args[i].len;
                fuzz_check(end <= len);
                fuzz_check(c->args[i].key);
                fuzz_check(c->args[i].init == (i > c->separator));
        }

        r = cmdline_edit(in, len, (const char *const *)add.v, NULL, &once, &n, &added, &error);
        fuzz_check(r >= 0 || r == -EINVAL || r == -EEXIST);
        if (r < 0) {
                fuzz_check(error && !once);
                return 0;
        }
        fuzz_check(!error && once && strlen(once) == n && (size_t)r == strv_length(added));
        fuzz_check(cmdline_parse(once, n, &after, NULL) == 0);
        for (size_t i = 0; added[i]; i++) {
                _cleanup_(cmdline_freep) struct cmdline *a = NULL;

                fuzz_check(cmdline_parse(added[i], strlen(added[i]), &a, NULL) == 0 && a->n_args == 1);
                fuzz_check(cmdline_has(after, a->args[0].key, a->args[0].value));
        }
        fuzz_check(after->n_args == c->n_args + (size_t)r);
        fuzz_check(cmdline_edit(once, n, (const char *const *)add.v, NULL, &twice, NULL, NULL, NULL) == 0);
        fuzz_check(strcmp(once, twice) == 0);
        fuzz_check(cmdline_edit(once, n, NULL, (const char *const *)added, &back, NULL, NULL, NULL) == r);
        fuzz_check(strlen(back) == len && memcmp(back, in, len) == 0);
        strv_free_null(added);
        return 0;
}
