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
 * "return error_setf(ret_error, -EINVAL, "...", ...);". Out of memory leaves *ret_error NULL.
 * The va_list form is for a wrapper of one's own (a step's message, a plan's refusal). */
_printf_(3, 0) static inline int verror_setf(char **ret_error, int r, const char *fmt, va_list ap)
{
        if (ret_error && !*ret_error && vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        return r;
}

_printf_(3, 4) static inline int error_setf(char **ret_error, int r, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        r = verror_setf(ret_error, r, fmt, ap);
        va_end(ap);
        return r;
}

/* The same, saying where, as a parser does: "FILE:LINE: message", "FILE: message" for line 0,
 * the message alone for file NULL. */
_printf_(5, 0) static inline int verror_setf_at(char **ret_error, int r, const char *file, size_t line,
                                                const char *fmt, va_list ap)
{
        _cleanup_free_ char *msg = NULL;

        if (!ret_error || *ret_error || vasprintf(&msg, fmt, ap) < 0)
                return r;
        if (!file)
                return error_setf(ret_error, r, "%s", msg);
        if (line > 0)
                return error_setf(ret_error, r, "%s:%zu: %s", file, line, msg);
        return error_setf(ret_error, r, "%s: %s", file, msg);
}

_printf_(5, 6) static inline int error_setf_at(char **ret_error, int r, const char *file, size_t line,
                                               const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        r = verror_setf_at(ret_error, r, file, line, fmt, ap);
        va_end(ap);
        return r;
}
