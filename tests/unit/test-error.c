/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for src/basic/error.h: error_setf() returns its code and keeps the first message (the
 * innermost cause), takes a NULL ret_error; error_setf_at() says where as parsers do
 * ("FILE:LINE: ", "FILE: " for line 0, nothing without a file); the va_list forms behind a
 * wrapper of one's own say the same. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/error.h"

static void test_first_message_wins(void **state)
{
        char *error = NULL;

        assert_int_equal(error_setf(&error, -ENOENT, "no %s", "journal"), -ENOENT);
        assert_string_equal(error, "no journal");
        assert_int_equal(error_setf(&error, -EIO, "cannot read it"), -EIO);
        assert_string_equal(error, "no journal");
        free(error);
        assert_int_equal(error_setf(NULL, -EPERM, "ignored"), -EPERM);
}

static void test_where(void **state)
{
        char *error = NULL;

        assert_int_equal(error_setf_at(&error, -EINVAL, "t.conf", 3, "bad %s", "key"), -EINVAL);
        assert_string_equal(error, "t.conf:3: bad key");
        free(error);
        error = NULL;
        assert_int_equal(error_setf_at(&error, -EBADMSG, "journal", 0, "empty"), -EBADMSG);
        assert_string_equal(error, "journal: empty");
        free(error);
        error = NULL;
        assert_int_equal(error_setf_at(&error, -EPERM, NULL, 7, "writable by others"), -EPERM);
        assert_string_equal(error, "writable by others");
        assert_int_equal(error_setf_at(&error, -EIO, "t.conf", 1, "later"), -EIO);
        assert_string_equal(error, "writable by others");
        free(error);
        assert_int_equal(error_setf_at(NULL, -EINVAL, "t.conf", 1, "ignored"), -EINVAL);
}

_printf_(3, 4) static int wrapped(char **ret_error, size_t line, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = line ? verror_setf_at(ret_error, -EBADMSG, "x.journal", line, fmt, ap)
                 : verror_setf(ret_error, -EBADMSG, fmt, ap);
        va_end(ap);
        return r;
}

static void test_wrappers(void **state)
{
        char *error = NULL;

        assert_int_equal(wrapped(&error, 9, "unknown record '%s'", "zap"), -EBADMSG);
        assert_string_equal(error, "x.journal:9: unknown record 'zap'");
        free(error);
        error = NULL;
        assert_int_equal(wrapped(&error, 0, "%d records", 2), -EBADMSG);
        assert_string_equal(error, "2 records");
        free(error);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_first_message_wins),
                cmocka_unit_test(test_where),
                cmocka_unit_test(test_wrappers),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
