/* SPDX-License-Identifier: GPL-2.0-or-later */
/* grub_default_find() and grub_default_edit(). Input: byte 0 picks the variable (even:
 * GRUB_CMDLINE_LINUX_DEFAULT, odd: GRUB_CMDLINE_LINUX), the rest is /etc/default/grub.
 * Invariants: only 1, 0, -EINVAL, -EOPNOTSUPP with a message exactly on failure, the value
 * inside the text; an edit adding the IOMMU arguments fails exactly when the find does or with
 * -EEXIST / -EOPNOTSUPP / -EINVAL (a value ending in an open kernel quote), changes only the
 * value's bytes (or appends a line), re-parses with the arguments in the value, is a fixed
 * point, and removing what it added gives the original bytes back unless it had to add quotes to an unquoted
 * value or append the variable. */

#include <errno.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "fuzz.h"
#include "setup/cmdline.h"
#include "setup/grub-default.h"

static const char *const iommu[] = {"intel_iommu=on", "iommu=pt", NULL};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *text = NULL, *error = NULL, *once = NULL, *twice = NULL, *back = NULL;
        _cleanup_(grub_value_done) struct grub_value v = {0}, w = {0};
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        const char *name;
        char **added = NULL;
        size_t len, n = 0;
        int found, r;

        if (size < 1 || size > 8192)
                return 0;
        name = data[0] % 2 ? "GRUB_CMDLINE_LINUX" : "GRUB_CMDLINE_LINUX_DEFAULT";
        text = fuzz_strndup(data + 1, size - 1);
        len = size - 1;

        found = grub_default_find(text, len, name, &v, &error);
        fuzz_check(found == 1 || found == 0 || found == -EINVAL || found == -EOPNOTSUPP);
        fuzz_check((found < 0) == !!error);
        if (found == 1) {
                fuzz_check(v.start + v.len <= len && v.value && v.line >= 1);
                fuzz_check(strlen(v.value) + (v.quote ? 2 : 0) == v.len);
        }
        free(error);
        error = NULL;

        r = grub_default_edit(text, len, name, iommu, NULL, &once, &n, &added, &error);
        if (found < 0) {
                fuzz_check(r == found && !once && error);
                return 0;
        }
        fuzz_check(r >= 0 || r == -EEXIST || r == -EOPNOTSUPP || r == -EINVAL);
        if (r < 0) {
                fuzz_check(!once && error);
                return 0;
        }
        fuzz_check(once && !error && strlen(once) == n);
        if (found == 1) {
                /* only the value's bytes changed */
                fuzz_check(memcmp(once, text, v.start) == 0);
                fuzz_check(memcmp(once + n - (len - v.start - v.len), text + v.start + v.len,
                                  len - v.start - v.len) == 0);
        } else
                fuzz_check(n >= len && memcmp(once, text, len) == 0);

        fuzz_check(grub_default_find(once, n, name, &w, NULL) == 1);
        fuzz_check(cmdline_parse(w.value, strlen(w.value), &c, NULL) == 0);
        fuzz_check(cmdline_has(c, "intel_iommu", "on") && cmdline_has(c, "iommu", "pt"));
        fuzz_check(grub_default_edit(once, n, name, iommu, NULL, &twice, NULL, NULL, NULL) == 0);
        fuzz_check(strcmp(once, twice) == 0);
        fuzz_check(grub_default_edit(once, n, name, NULL, (const char *const *)added, &back, NULL, NULL,
                                     NULL) == r);
        if (found == 1 && (v.quote || !w.quote))
                fuzz_check(strlen(back) == len && memcmp(back, text, len) == 0);
        strv_free_null(added);
        return 0;
}
