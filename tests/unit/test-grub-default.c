/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for src/setup/grub-default.h over real files (Debian 12's stock /etc/default/grub from
 * grub2-common 2.06-13+deb12u2, Ubuntu 22.04's, Fedora's as anaconda writes it, an Ubuntu cloud
 * image's 50-cloudimg-settings.cfg) and hand-made ones:
 * - the LAST plain assignment is found, with its line, quoting and value; other variables'
 *   values of any form (backquotes, $(…), continuations) are skipped; comments are not code;
 *   GRUB_CMDLINE_LINUX never matches GRUB_CMDLINE_LINUX_DEFAULT;
 * - an edit changes only the bytes of that value and keeps its quoting; an unquoted value that
 *   needs quotes gets double quotes; an absent variable gets a line appended;
 * - add then remove gives the original bytes back; duplicates are skipped, conflicts refused;
 * - refusals (-EOPNOTSUPP, one line naming the line and why): expansions, backslashes,
 *   multi-line values, mixed quoting, blocks, export and other statements naming it; an open
 *   quote is -EINVAL. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "grub-files.h"

#include "basic/macro.h"
#include "basic/strv.h"
#include "setup/grub-default.h"

#define DEFAULT "GRUB_CMDLINE_LINUX_DEFAULT"
#define LINUX "GRUB_CMDLINE_LINUX"

static const char ubuntu2204[] =
    "GRUB_DEFAULT=0\n"
    "GRUB_TIMEOUT_STYLE=hidden\n"
    "GRUB_TIMEOUT=0\n"
    "GRUB_DISTRIBUTOR=`( . /etc/os-release; echo ${NAME:-Ubuntu} ) 2>/dev/null || echo Ubuntu`\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet splash\"\n"
    "GRUB_CMDLINE_LINUX=\"\"\n";

static const char fedora[] = "GRUB_TIMEOUT=5\n"
                             "GRUB_DISTRIBUTOR=\"$(sed 's, release .*$,,g' /etc/system-release)\"\n"
                             "GRUB_DEFAULT=saved\n"
                             "GRUB_DISABLE_SUBMENU=true\n"
                             "GRUB_TERMINAL_OUTPUT=\"console\"\n"
                             "GRUB_CMDLINE_LINUX=\"rhgb quiet\"\n"
                             "GRUB_DISABLE_RECOVERY=\"true\"\n"
                             "GRUB_ENABLE_BLSCFG=true";

static const char cloudimg[] =
    "# Cloud Image specific Grub settings for Generic Cloud Images\n"
    "# CLOUD_IMG: This file was created/modified by the Cloud Image build process\n"
    "\n"
    "# Set the recordfail timeout\n"
    "GRUB_RECORDFAIL_TIMEOUT=0\n"
    "\n"
    "# Do not wait on grub prompt\n"
    "GRUB_TIMEOUT=0\n"
    "\n"
    "# Set the default commandline\n"
    "GRUB_CMDLINE_LINUX_DEFAULT=\"console=tty1 console=ttyS0\"\n"
    "\n"
    "# Set the grub console type\n"
    "GRUB_TERMINAL=console\n";

static const char *iommu[] = {"intel_iommu=on", "iommu=pt", NULL};

static void find(const char *text, const char *name, int expect, size_t line, char quote, const char *value)
{
        _cleanup_free_ char *error = NULL;
        struct grub_value v = {0};
        int r;

        r = grub_default_find(text, strlen(text), name, &v, &error);
        if (r != expect)
                fail_msg("find %s: %d (%s), expected %d", name, r, error ?: "", expect);
        if (r > 0) {
                assert_int_equal(v.line, line);
                assert_int_equal(v.quote, quote);
                assert_string_equal(v.value, value);
                assert_int_equal(v.len, strlen(value) + (quote ? 2 : 0));
                assert_memory_equal(text + v.start + (quote ? 1 : 0), value, strlen(value));
        }
        grub_value_done(&v);
}

/* The text with the first `from` after `at` replaced by `to`. */
static char *replaced(const char *text, const char *at, const char *from, const char *to)
{
        const char *p = strstr(strstr(text, at), from);
        char *s = NULL;

        assert_non_null(p);
        assert_true(asprintf(&s, "%.*s%s%s", (int)(p - text), text, to, p + strlen(from)) > 0);
        return s;
}

/* edit with add, check the result, then remove what was added and get the original back */
static void edit_round_trip(const char *text, const char *name, const char *const *add, int count,
                            const char *expect)
{
        _cleanup_free_ char *error = NULL, *once = NULL, *twice = NULL, *back = NULL;
        char **added = NULL;
        size_t n = 0;
        int r;

        r = grub_default_edit(text, strlen(text), name, add, NULL, &once, &n, &added, &error);
        if (r != count)
                fail_msg("edit %s: %d (%s), expected %d", name, r, error ?: "", count);
        assert_int_equal(strlen(once), n);
        assert_string_equal(once, expect);
        assert_int_equal(grub_default_edit(once, n, name, add, NULL, &twice, NULL, NULL, &error), 0);
        assert_string_equal(twice, once);
        assert_int_equal(
            grub_default_edit(once, n, name, NULL, (const char *const *)added, &back, NULL, NULL, &error),
            count);
        assert_string_equal(back, text);
        strv_free_null(added);
}

static void test_real_files(void **state)
{
        _cleanup_free_ char *d1 = NULL, *d2 = NULL, *u = NULL, *c = NULL;

        find(debian12, DEFAULT, 1, 9, '"', "quiet");
        find(debian12, LINUX, 1, 10, '"', "");
        find(debian12, "GRUB_DISTRIBUTOR", -EOPNOTSUPP, 0, 0, NULL); /* a backquote value */
        find(debian12, "GRUB_TERMINAL", 0, 0, 0, NULL);              /* only commented out */
        find(ubuntu2204, DEFAULT, 1, 5, '"', "quiet splash");
        find(fedora, LINUX, 1, 6, '"', "rhgb quiet");
        find(fedora, DEFAULT, 0, 0, 0, NULL);
        find(fedora, "GRUB_ENABLE_BLSCFG", 1, 8, 0, "true");
        find(cloudimg, DEFAULT, 1, 11, '"', "console=tty1 console=ttyS0");

        d1 = replaced(debian12, DEFAULT "=", "\"quiet\"", "\"quiet intel_iommu=on iommu=pt\"");
        edit_round_trip(debian12, DEFAULT, iommu, 2, d1);
        d2 = replaced(debian12, LINUX "=\"", "\"\"", "\"intel_iommu=on iommu=pt\"");
        edit_round_trip(debian12, LINUX, iommu, 2, d2);
        u = replaced(ubuntu2204, DEFAULT, "splash\"", "splash intel_iommu=on iommu=pt\"");
        edit_round_trip(ubuntu2204, DEFAULT, iommu, 2, u);
        c = replaced(cloudimg, DEFAULT, "ttyS0\"", "ttyS0 intel_iommu=on iommu=pt\"");
        edit_round_trip(cloudimg, DEFAULT, iommu, 2, c);
}

static void test_append(void **state)
{
        _cleanup_free_ char *error = NULL, *out = NULL, *back = NULL, *none = NULL;
        size_t n;

        /* Fedora's file has no _DEFAULT and no final newline */
        assert_int_equal(
            grub_default_edit(fedora, strlen(fedora), DEFAULT, iommu, NULL, &out, &n, NULL, &error), 2);
        assert_int_equal(strncmp(out, fedora, strlen(fedora)), 0);
        assert_string_equal(out + strlen(fedora), "\n" DEFAULT "=\"intel_iommu=on iommu=pt\"\n");
        /* removing leaves the appended line, empty: undoing a creation is the before-image's job */
        assert_int_equal(grub_default_edit(out, n, DEFAULT, NULL, iommu, &back, NULL, NULL, &error), 2);
        assert_int_equal(strlen(back), strlen(out) - strlen("intel_iommu=on iommu=pt"));
        /* nothing to add to an absent variable: the text unchanged */
        assert_int_equal(
            grub_default_edit(fedora, strlen(fedora), DEFAULT, NULL, iommu, &none, NULL, NULL, &error), 0);
        assert_string_equal(none, fedora);
}

static void test_quoting(void **state)
{
        char ws[2 * 100 + 1];

        for (size_t i = 0; i < 100; i++)
                memcpy(ws + 2 * i, " w", 2);
        ws[200] = '\0';
        edit_round_trip("GRUB_CMDLINE_LINUX_DEFAULT='quiet'\n", DEFAULT, iommu, 2,
                        "GRUB_CMDLINE_LINUX_DEFAULT='quiet intel_iommu=on iommu=pt'\n");
        edit_round_trip("GRUB_CMDLINE_LINUX_DEFAULT=\n", DEFAULT, (const char *[]){"iommu=pt", NULL}, 1,
                        "GRUB_CMDLINE_LINUX_DEFAULT=iommu=pt\n");
        edit_round_trip("A=1 GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"; B=2 # GRUB_CMDLINE_LINUX_DEFAULT=x\n",
                        DEFAULT, iommu, 2,
                        "A=1 GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"; B=2 # "
                        "GRUB_CMDLINE_LINUX_DEFAULT=x\n");
        /* the user's spacing inside the quotes is kept */
        edit_round_trip("GRUB_CMDLINE_LINUX_DEFAULT=\"  quiet   splash \"\n", DEFAULT, iommu, 2,
                        "GRUB_CMDLINE_LINUX_DEFAULT=\"  quiet   splash intel_iommu=on iommu=pt \"\n");
        {
                /* nothing to add: the same bytes, even where quotes would be needed */
                const char *t = "X=${Y:-a b} GRUB_CMDLINE_LINUX_DEFAULT=a*b\n";
                _cleanup_free_ char *error = NULL, *out = NULL;

                assert_int_equal(grub_default_edit(t, strlen(t), DEFAULT, (const char *[]){"a*b", NULL},
                                                   NULL, &out, NULL, NULL, &error),
                                 0);
                assert_string_equal(out, t);
        }
        {
                /* a command longer than any assignment is skipped, unless it names the variable */
                _cleanup_free_ char *error = NULL, *out = NULL, *t = NULL, *u = NULL;
                struct grub_value v = {0};

                assert_true(asprintf(&t, "echo%s\nGRUB_CMDLINE_LINUX_DEFAULT=x\n", ws) > 0);
                assert_int_equal(grub_default_find(t, strlen(t), DEFAULT, &v, &error), 1);
                assert_int_equal(v.line, 2);
                grub_value_done(&v);
                assert_true(asprintf(&u, "echo%s GRUB_CMDLINE_LINUX_DEFAULT\n", ws) > 0);
                assert_int_equal(grub_default_find(u, strlen(u), DEFAULT, &v, &error), -EOPNOTSUPP);
        }
        {
                /* unquoted that now needs quotes: double quotes (removing keeps them) */
                _cleanup_free_ char *error = NULL, *out = NULL;

                assert_int_equal(grub_default_edit("GRUB_CMDLINE_LINUX_DEFAULT=quiet\n", 33, DEFAULT, iommu,
                                                   NULL, &out, NULL, NULL, &error),
                                 2);
                assert_string_equal(out, "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet intel_iommu=on iommu=pt\"\n");
        }
}

static void test_duplicates_conflicts(void **state)
{
        const char *two =
            "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"splash iommu=pt\"\n";
        _cleanup_free_ char *error = NULL, *out = NULL;

        find(two, DEFAULT, 1, 2, '"', "splash iommu=pt");
        edit_round_trip(two, DEFAULT, iommu, 1,
                        "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nGRUB_CMDLINE_LINUX_DEFAULT=\"splash iommu=pt "
                        "intel_iommu=on\"\n");
        assert_int_equal(grub_default_edit("GRUB_CMDLINE_LINUX_DEFAULT=\"iommu=off\"", 38, DEFAULT, iommu,
                                           NULL, &out, NULL, NULL, &error),
                         -EEXIST);
        assert_null(out);
        assert_string_equal(error, "iommu=pt conflicts with iommu=off already on the command line");
}

static void refused(const char *text, int expect, const char *message)
{
        _cleanup_free_ char *error = NULL, *out = NULL;

        assert_int_equal(
            grub_default_edit(text, strlen(text), DEFAULT, iommu, NULL, &out, NULL, NULL, &error), expect);
        assert_null(out);
        assert_string_equal(error, message);
}

static void test_refusals(void **state)
{
        refused(
            "GRUB_CMDLINE_LINUX_DEFAULT=\"$GRUB_CMDLINE_LINUX_DEFAULT quiet\"\n", -EOPNOTSUPP,
            "line 1: GRUB_CMDLINE_LINUX_DEFAULT uses $ (a variable or command substitution) in its value; "
            "refusing to edit it");
        refused(
            "X=1\nGRUB_CMDLINE_LINUX_DEFAULT=\"${X} quiet\"\n", -EOPNOTSUPP,
            "line 2: GRUB_CMDLINE_LINUX_DEFAULT uses $ (a variable or command substitution) in its value; "
            "refusing to edit it");
        refused("GRUB_CMDLINE_LINUX_DEFAULT=`cat /etc/x`\n", -EOPNOTSUPP,
                "line 1: GRUB_CMDLINE_LINUX_DEFAULT uses a backquote command substitution in its value; "
                "refusing "
                "to edit it");
        refused(
            "GRUB_CMDLINE_LINUX_DEFAULT=\"quiet \\\nsplash\"\n", -EOPNOTSUPP,
            "line 1: GRUB_CMDLINE_LINUX_DEFAULT uses a backslash (an escape or continuation line) in its "
            "value; refusing to edit it");
        refused("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\nsplash\"\n", -EOPNOTSUPP,
                "line 1: GRUB_CMDLINE_LINUX_DEFAULT has a value that spans more than one line; refusing to "
                "edit it");
        refused("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"' splash'\n", -EOPNOTSUPP,
                "line 1: GRUB_CMDLINE_LINUX_DEFAULT mixes quoting forms in its value; refusing to edit it");
        refused("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nexport GRUB_CMDLINE_LINUX_DEFAULT\n", -EOPNOTSUPP,
                "line 2: GRUB_CMDLINE_LINUX_DEFAULT is named in a statement other than a plain assignment; "
                "refusing to edit it");
        refused("export GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\n", -EOPNOTSUPP,
                "line 1: GRUB_CMDLINE_LINUX_DEFAULT is named in a statement other than a plain assignment; "
                "refusing to edit it");
        refused("if [ -e /x ]; then\n  GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"\nfi\n", -EOPNOTSUPP,
                "line 2: GRUB_CMDLINE_LINUX_DEFAULT is assigned inside an if/while/for/{ } block; refusing "
                "to edit "
                "it");
        refused("case x in x) ;; esac\nGRUB_CMDLINE_LINUX_DEFAULT=quiet\n", -EOPNOTSUPP,
                "line 2: GRUB_CMDLINE_LINUX_DEFAULT is assigned after a case, subshell or function (line 1) "
                "this "
                "editor cannot follow; refusing to edit it");
        refused("GRUB_CMDLINE_LINUX_DEFAULT=quiet true\n", -EOPNOTSUPP,
                "line 1: GRUB_CMDLINE_LINUX_DEFAULT is named in a statement other than a plain assignment; "
                "refusing to edit it");
        refused("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\n", -EINVAL, "line 1: unterminated \" quote");
        refused("GRUB_CMDLINE_LINUX_DEFAULT+=\" iommu=pt\"\n", -EOPNOTSUPP,
                "line 1: GRUB_CMDLINE_LINUX_DEFAULT is named in a statement other than a plain assignment; "
                "refusing to edit it");
        /* absent, and a line appended at the end would not stand alone */
        refused(
            "if true; then\n  X=1\n", -EOPNOTSUPP,
            "GRUB_CMDLINE_LINUX_DEFAULT is not set, and a line appended at the end would not be a statement "
            "of its own (open block, case, function or continuation at the end); refusing to add it");
        refused(
            "f() { :; }\n", -EOPNOTSUPP,
            "GRUB_CMDLINE_LINUX_DEFAULT is not set, and a line appended at the end would not be a statement "
            "of its own (open block, case, function or continuation before it); refusing to add it");
        refused(
            "echo \\\n", -EOPNOTSUPP,
            "GRUB_CMDLINE_LINUX_DEFAULT is not set, and a line appended at the end would not be a statement "
            "of its own (open block, case, function or continuation at the end); refusing to add it");
        {
                /* an argument the value's double quotes cannot hold without an escape */
                _cleanup_free_ char *error = NULL, *out = NULL;

                assert_int_equal(grub_default_edit("GRUB_CMDLINE_LINUX_DEFAULT=\"quiet\"", 34, DEFAULT,
                                                   (const char *[]){"foo=\"a b\"", NULL}, NULL, &out, NULL,
                                                   NULL, &error),
                                 -EOPNOTSUPP);
                assert_null(out);
        }
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_real_files), cmocka_unit_test(test_append),
            cmocka_unit_test(test_quoting),    cmocka_unit_test(test_duplicates_conflicts),
            cmocka_unit_test(test_refusals),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
