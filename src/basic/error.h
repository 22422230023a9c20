/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The error contract of every library function here: return 0 (or a count) on success, -errno on
 * failure, and where there is more to say than the code, one malloc'd line in *ret_error. The
 * first message wins: a caller that already has one keeps it, so the innermost cause is what
 * the user reads. ret_error may be NULL (the caller only wants the code). */

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>

#include "basic/macro.h"

/* Formats the message into *ret_error when it is still NULL; returns r, so that a failure is
 * "return error_setf(ret_error, -EINVAL, "...", ...);". Out of memory leaves *ret_error NULL. */
_printf_(3, 4) static inline int error_setf(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}
