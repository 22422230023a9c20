/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for src/setup/cmdline.h, the kernel command line as lib/cmdline.c next_arg() splits it:
 * - each argument keeps its exact bytes; quotes group as the kernel's do (a quote anywhere
 *   toggles, one enclosing pair is dropped from the value, a leading one from the key); flags vs
 *   key=value (and '=' first is a flag); kernel whitespace includes 0xa0; "--" hands the rest to
 *   init and queries see only the kernel's part;
 * - get() returns the last value (last one wins), keys compare with '-' == '_';
 * - an edit adds after the last kernel argument (before "--"), skips an argument already there
 *   with the same value, refuses a conflict (-EEXIST, nothing changed), removes every equal
 *   occurrence, and keeps every other byte: add then remove gives the original bytes back;
 * - what is not exactly one argument, an open quote, a NUL byte is refused. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "setup/cmdline.h"

static struct cmdline *parse(const char *s)
{
        struct cmdline *c = NULL;

        assert_int_equal(cmdline_parse(s, strlen(s), &c, NULL), 0);
        return c;
}

static void assert_arg(const char *line, const struct cmdline *c, size_t i, const char *raw, const char *key,
                       const char *value, bool init)
{
        assert_true(i < c->n_args);
        assert_int_equal(c->args[i].len, strlen(raw));
        assert_memory_equal(line + c->args[i].start, raw, strlen(raw));
        assert_string_equal(c->args[i].key, key);
        if (value)
                assert_string_equal(c->args[i].value, value);
        else
                assert_null(c->args[i].value);
        assert_int_equal(c->args[i].init, init);
}

static void test_split(void **state)
{
        const char *l =
            "BOOT_IMAGE=/vmlinuz-6.1.0 root=UUID=ab-cd ro  quiet\t\"foo=a b\" bar=\"c d\" =x a\"b c\"d "
            "e= -- single x=1";
        _cleanup_(cmdline_freep) struct cmdline *c = parse(l);

        assert_int_equal(c->n_args, 12);
        assert_arg(l, c, 0, "BOOT_IMAGE=/vmlinuz-6.1.0", "BOOT_IMAGE", "/vmlinuz-6.1.0", false);
        assert_arg(l, c, 1, "root=UUID=ab-cd", "root", "UUID=ab-cd", false); /* the first '=' splits */
        assert_arg(l, c, 2, "ro", "ro", NULL, false);
        assert_arg(l, c, 3, "quiet", "quiet", NULL, false);
        assert_arg(l, c, 4, "\"foo=a b\"", "foo", "a b", false);
        assert_arg(l, c, 5, "bar=\"c d\"", "bar", "c d", false);
        assert_arg(l, c, 6, "=x", "=x", NULL, false); /* next_arg(): '=' at 0 is "no value" */
        assert_arg(l, c, 7, "a\"b c\"d", "a\"b c\"d", NULL, false);
        assert_arg(l, c, 8, "e=", "e", "", false);
        assert_arg(l, c, 9, "--", "--", NULL, false); /* the separator itself is the kernel's */
        assert_int_equal(c->separator, 9);
        assert_arg(l, c, 10, "single", "single", NULL, true);
        assert_arg(l, c, 11, "x=1", "x", "1", true);
}

static void test_whitespace(void **state)
{
        const char l[] = "  a\xa0"
                         "b\v\fc\r\n";
        _cleanup_(cmdline_freep) struct cmdline *c = parse(l);
        _cleanup_(cmdline_freep) struct cmdline *e = parse("");
        _cleanup_(cmdline_freep) struct cmdline *q = parse("x=\"open -- y");

        assert_int_equal(c->n_args, 3);
        assert_arg(l, c, 1, "b", "b", NULL, false);
        assert_int_equal(e->n_args, 0);
        assert_int_equal(e->separator, 0);
        /* an open quote swallows the rest, "--" included */
        assert_int_equal(q->n_args, 1);
        assert_string_equal(q->args[0].value, "open -- y");
}

static void test_query(void **state)
{
        _cleanup_(cmdline_freep) struct cmdline *c =
            parse("iommu=off quiet iommu=pt rd.driver-pre=vfio-pci splash=1 splash -- iommu=on init_flag");

        assert_string_equal(cmdline_get(c, "iommu"), "pt"); /* last one wins, init's ignored */
        assert_true(cmdline_has(c, "iommu", "off"));
        assert_true(cmdline_has(c, "iommu", "pt"));
        assert_false(cmdline_has(c, "iommu", "on"));
        assert_true(cmdline_has_flag(c, "quiet"));
        assert_false(cmdline_has_flag(c, "init_flag"));
        assert_false(cmdline_has_flag(c, "iommu"));
        assert_string_equal(cmdline_get(c, "rd.driver_pre"), "vfio-pci"); /* parameq(): - == _ */
        assert_null(cmdline_get(c, "splash"));                            /* its last form is a flag */
        assert_true(cmdline_has_flag(c, "splash"));
        assert_null(cmdline_get(c, "absent"));
}

static char *edit(const char *line, const char *const *add, const char *const *remove, int expect)
{
        _cleanup_free_ char *error = NULL;
        char *out = NULL;
        size_t n = 0;
        int r;

        r = cmdline_edit(line, strlen(line), add, remove, &out, &n, NULL, &error);
        if (r != expect)
                fail_msg("edit of \"%s\": %d (%s), expected %d", line, r, error ?: "", expect);
        if (r < 0) {
                assert_null(out);
                return NULL;
        }
        assert_int_equal(strlen(out), n);
        return out;
}

static void test_add(void **state)
{
        const char *iommu[] = {"intel_iommu=on", "iommu=pt", NULL};
        char *out;

        out = edit("quiet splash", iommu, NULL, 2);
        assert_string_equal(out, "quiet splash intel_iommu=on iommu=pt");
        free(out);
        out = edit("quiet  iommu=pt ", iommu, NULL, 1); /* the present one is skipped */
        assert_string_equal(out, "quiet  iommu=pt intel_iommu=on ");
        free(out);
        out = edit("", iommu, NULL, 2);
        assert_string_equal(out, "intel_iommu=on iommu=pt");
        free(out);
        out = edit("quiet -- single", iommu, NULL, 2);
        assert_string_equal(out, "quiet intel_iommu=on iommu=pt -- single");
        free(out);
        out = edit("  -- single", iommu, NULL, 2);
        assert_string_equal(out, "  intel_iommu=on iommu=pt -- single");
        free(out);
        out = edit("intel-iommu=on iommu=pt", iommu, NULL, 0);
        assert_string_equal(out, "intel-iommu=on iommu=pt");
        free(out);
}

static void test_conflict(void **state)
{
        const char *iommu[] = {"intel_iommu=on", "iommu=pt", NULL};
        const char *flag[] = {"quiet=1", NULL};
        _cleanup_free_ char *error = NULL, *out = NULL;
        char **added = NULL;

        assert_int_equal(cmdline_edit("iommu=off", 9, iommu, NULL, &out, NULL, &added, &error), -EEXIST);
        assert_string_equal(error, "iommu=pt conflicts with iommu=off already on the command line");
        assert_null(out);
        assert_null(added);
        edit("quiet", flag, NULL, -EEXIST);
        edit("quiet=0", (const char *[]){"quiet", NULL}, NULL, -EEXIST);
        /* removed first, so the conflicting value can be replaced in one edit */
        out = edit("root=/dev/sda1 intel_iommu=off quiet", iommu, (const char *[]){"intel_iommu=off", NULL}, 3);
        assert_string_equal(out, "root=/dev/sda1 quiet intel_iommu=on iommu=pt");
}

static void test_remove(void **state)
{
        const char *rm[] = {"iommu=pt", "intel_iommu=on", NULL};
        char *out;

        out = edit("iommu=pt quiet  iommu=pt\tsplash intel-iommu=on -- iommu=pt", rm, NULL, 0);
        free(out);
        out = edit("iommu=pt quiet  iommu=pt\tsplash intel-iommu=on -- iommu=pt", NULL, rm, 3);
        assert_string_equal(out, "quiet\tsplash -- iommu=pt");
        free(out);
        out = edit("foo=\"a b\" x", NULL, (const char *[]){"\"foo=a b\"", NULL}, 1);
        assert_string_equal(out, "x");
        free(out);
        out = edit("iommu=off", NULL, rm, 0);
        assert_string_equal(out, "iommu=off");
        free(out);
}

static void test_round_trip(void **state)
{
        static const char *const lines[] = {
            "",
            " ",
            "quiet",
            "quiet ",
            " quiet",
            "quiet splash",
            "a\t\tb  ",
            "-- x",
            " -- x ",
            "a -- b",
            "BOOT_IMAGE=/boot/vmlinuz root=/dev/sda1 ro quiet splash \"foo=a b\" vt.handoff=7",
            "console=tty1 console=ttyS0",
            "a \"b c\"",
        };
        const char *add[] = {"intel_iommu=on", "iommu=pt", "vfio-pci.ids=10de:1b80,10de:10f0", NULL};

        for (size_t i = 0; i < ELEMENTSOF(lines); i++) {
                _cleanup_free_ char *error = NULL, *once = NULL, *twice = NULL, *back = NULL;
                char **added = NULL;
                size_t n;

                assert_int_equal(
                    cmdline_edit(lines[i], strlen(lines[i]), add, NULL, &once, &n, &added, &error), 3);
                assert_int_equal(strv_length(added), 3);
                /* idempotent */
                assert_int_equal(cmdline_edit(once, n, add, NULL, &twice, NULL, NULL, &error), 0);
                assert_string_equal(once, twice);
                assert_int_equal(
                    cmdline_edit(once, n, NULL, (const char *const *)added, &back, NULL, NULL, &error), 3);
                assert_string_equal(back, lines[i]);
                strv_free_null(added);
        }
}

static void test_refused(void **state)
{
        static const char *const bad[] = {"a b",
                                          "--",
                                          "\"--\"",
                                          "",
                                          " x",
                                          "foo=\"x",
                                          "a\xa0"
                                          "b"};

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *error = NULL, *out = NULL;
                const char *add[] = {bad[i], NULL};

                assert_int_equal(cmdline_edit("quiet", 5, add, NULL, &out, NULL, NULL, &error), -EINVAL);
                assert_non_null(error);
                assert_null(out);
                free(error);
                error = NULL;
                assert_int_equal(cmdline_edit("quiet", 5, NULL, add, &out, NULL, NULL, &error), -EINVAL);
        }
        {
                _cleanup_free_ char *error = NULL, *out = NULL;
                struct cmdline *c = NULL;

                assert_int_equal(cmdline_edit("x=\"open", 7, (const char *[]){"iommu=pt", NULL}, NULL, &out,
                                              NULL, NULL, &error),
                                 -EINVAL);
                assert_string_equal(
                    error, "the command line ends inside a double quote; refusing to add iommu=pt to it");
                assert_int_equal(cmdline_parse("a\0b", 3, &c, NULL), -EINVAL);
                assert_null(c);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_split),      cmocka_unit_test(test_whitespace),
            cmocka_unit_test(test_query),      cmocka_unit_test(test_add),
            cmocka_unit_test(test_conflict),   cmocka_unit_test(test_remove),
            cmocka_unit_test(test_round_trip), cmocka_unit_test(test_refused),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
