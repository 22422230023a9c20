/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for src/basic/strv.h: a list grown with strv_addf() and handed out NULL-terminated
 * (never NULL, an empty list when nothing was added), its length, joining, and the qsort()
 * comparator. */

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/strv.h"

static void test_take(void **state)
{
        struct strv s = {0};
        char **v;

        v = strv_take(&s);
        assert_non_null(v);
        assert_null(v[0]);
        assert_int_equal(strv_length(v), 0);
        strv_free_null(v);

        assert_int_equal(strv_addf(&s, "%s-%d", "a", 1), 0);
        assert_int_equal(strv_addf(&s, "b"), 0);
        v = strv_take(&s);
        assert_null(s.v); /* the list left empty: its strings are v's now */
        assert_int_equal(s.n, 0);
        assert_int_equal(strv_length(v), 2);
        assert_string_equal(v[0], "a-1");
        assert_string_equal(v[1], "b");
        assert_null(v[2]);
        strv_free_null(v);
        assert_int_equal(strv_length(NULL), 0);
}

static void test_join(void **state)
{
        char *one[] = {(char *)"x", NULL}, *three[] = {(char *)"a", (char *)"", (char *)"c", NULL}, *none[] = {NULL};
        char *s;

        s = strv_join(three, ", ");
        assert_string_equal(s, "a, , c");
        free(s);
        s = strv_join(one, " ");
        assert_string_equal(s, "x");
        free(s);
        s = strv_join(none, " ");
        assert_string_equal(s, "");
        free(s);
        s = strv_join(NULL, " ");
        assert_string_equal(s, "");
        free(s);
}

static void test_compare(void **state)
{
        char *v[] = {(char *)"vfio_pci", (char *)"amdgpu", (char *)"vfio", (char *)"Z"};

        qsort(v, 4, sizeof(char *), strv_compare);
        assert_string_equal(v[0], "Z"); /* byte order, as strcmp() */
        assert_string_equal(v[1], "amdgpu");
        assert_string_equal(v[2], "vfio");
        assert_string_equal(v[3], "vfio_pci");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_take),
                cmocka_unit_test(test_join),
                cmocka_unit_test(test_compare),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
