/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Growable lists of malloc'd strings, kept NULL-terminated. */

#include <stddef.h>

#include "basic/macro.h"

struct strv {
        char **v; /* NULL-terminated once anything was added */
        size_t n, cap;
};

/* Appends a formatted copy; -ENOMEM leaves the list as it was. */
_printf_(2, 3) int strv_addf(struct strv *s, const char *fmt, ...);
void strv_done(struct strv *s);

/* For qsort() over an array of char *: strcmp() order. */
int strv_compare(const void *a, const void *b);

/* Frees n strings and the array (for lists built as char ** plus a count). */
void strv_free(char **v, size_t n);
