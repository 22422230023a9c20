/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for src/basic/diff.h: exact hunks for typical edits (diff -u's own output for them), and
 * for random texts a patch applier built here proves that every diff turns a into b, with hunk
 * headers that count their lines right. */

#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/diff.h"

static void check(const char *a, const char *b, const char *expected)
{
        char *d = diff_unified(a, strlen(a), b, strlen(b));

        assert_non_null(d);
        assert_string_equal(d, expected);
        free(d);
}

static void test_exact(void **state)
{
        check("same\n", "same\n", "");
        check("", "new\n", "@@ -0,0 +1 @@\n+new\n");
        check("old\n", "", "@@ -1 +0,0 @@\n-old\n");
        /* diff -u's output for these, checked by hand against GNU diffutils 3.8 */
        check("a\nb\nc\nd\ne\nf\ng\nh\n", "a\nb\nc\nd\nE\nf\ng\nh\n",
              "@@ -2,7 +2,7 @@\n b\n c\n d\n-e\n+E\n f\n g\n h\n");
        check("GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n",
              "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on\"\n",
              "@@ -1,2 +1,2 @@\n "
              "GRUB_DEFAULT=0\n-GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n+GRUB_CMDLINE_LINUX_DEFAULT=\"quiet "
              "intel_iommu=on\"\n");
        check("x", "x\n", "@@ -1 +1 @@\n-x\n\\ No newline at end of file\n+x\n");
        /* two changes far apart: two hunks */
        check("1\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\n12\n", "one\n2\n3\n4\n5\n6\n7\n8\n9\n10\n11\ntwelve\n",
              "@@ -1,4 +1,4 @@\n-1\n+one\n 2\n 3\n 4\n@@ -9,4 +9,4 @@\n 9\n 10\n 11\n-12\n+twelve\n");
}

/* Applies diff d to a; returns the result (malloc'd) or NULL when the diff does not fit a. */
static char *apply(const char *a, const char *d)
{
        size_t cap = strlen(a) + strlen(d) + 1, out_len = 0, a_line = 1;
        char *out = calloc(cap, 1);
        const char *ap = a, *dp = d;

        while (*dp) {
                size_t old_start, old_count = 1, new_start, new_count = 1;
                int used = 0;

                if (sscanf(dp, "@@ -%zu,%zu +%zu,%zu @@%n", &old_start, &old_count, &new_start, &new_count,
                           &used) != 4 &&
                    sscanf(dp, "@@ -%zu +%zu,%zu @@%n", &old_start, &new_start, &new_count, &used) != 3 &&
                    sscanf(dp, "@@ -%zu,%zu +%zu @@%n", &old_start, &old_count, &new_start, &used) != 3 &&
                    sscanf(dp, "@@ -%zu +%zu @@%n", &old_start, &new_start, &used) != 2)
                        goto fail;
                dp = strchr(dp, '\n') + 1;
                if (old_count == 0)
                        old_start++;
                while (a_line < old_start) { /* copy the lines before the hunk */
                        const char *nl = strchr(ap, '\n');
                        size_t len = nl ? (size_t)(nl - ap + 1) : strlen(ap);
                        memcpy(out + out_len, ap, len), out_len += len, ap += len, a_line++;
                }
                size_t seen_old = 0, seen_new = 0;
                while (*dp && *dp != '@') {
                        const char *nl = strchr(dp, '\n');
                        size_t len = nl - dp;
                        bool no_newline = strncmp(nl + 1, "\\ No newline", 12) == 0;
                        char kind = *dp;

                        if (kind == ' ' || kind == '-') {
                                if (strncmp(ap, dp + 1, len - 1) != 0)
                                        goto fail;
                                ap += len - 1 + (no_newline ? 0 : 1), a_line++, seen_old++;
                        }
                        if (kind == ' ' || kind == '+') {
                                memcpy(out + out_len, dp + 1, len - 1), out_len += len - 1;
                                if (!no_newline)
                                        out[out_len++] = '\n';
                                seen_new++;
                        }
                        dp = nl + 1;
                        if (no_newline)
                                dp = strchr(dp, '\n') + 1;
                }
                if (seen_old != old_count || seen_new != new_count)
                        goto fail;
        }
        strcpy(out + out_len, ap);
        return out;
fail:
        free(out);
        return NULL;
}

static char *random_text(unsigned *seed, size_t n_lines)
{
        static const char *const words[] = {"alpha", "beta", "gamma", "", "delta", "x"};
        char *text = calloc(n_lines * 8 + 2, 1);

        for (size_t i = 0; i < n_lines; i++) {
                strcat(text, words[rand_r(seed) % 6]);
                if (i + 1 < n_lines || rand_r(seed) % 4)
                        strcat(text, "\n");
        }
        return text;
}

static void test_random_round_trip(void **state)
{
        unsigned seed = 12;

        for (int round = 0; round < 2000; round++) {
                char *a = random_text(&seed, rand_r(&seed) % 30);
                char *b = random_text(&seed, rand_r(&seed) % 30);
                char *d = diff_unified(a, strlen(a), b, strlen(b));
                char *back;

                assert_non_null(d);
                back = apply(a, d);
                if (!back || strcmp(back, b) != 0)
                        fail_msg("round %d: diff does not turn a into b\n--- a\n%s\n--- b\n%s\n--- diff\n%s",
                                 round, a, b, d);
                assert_true((*d == '\0') == (strcmp(a, b) == 0));
                free(back);
                free(a);
                free(b);
                free(d);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_exact),
            cmocka_unit_test(test_random_round_trip),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
