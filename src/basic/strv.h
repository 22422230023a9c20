/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Lists of malloc'd strings: struct strv grows one, kept NULL-terminated; what it hands out is
 * either the NULL-terminated array (strv_take(), freed by strv_free_null()) or the array with
 * its count (freed by strv_free()). */

#include <stdarg.h>
#include <stddef.h>

#include "basic/macro.h"

struct strv {
        char **v; /* NULL-terminated once anything was added */
        size_t n, cap;
};

/* Appends a formatted copy; -ENOMEM leaves the list as it was. */
_printf_(2, 3) int strv_addf(struct strv *s, const char *fmt, ...);
_printf_(2, 0) int strv_addv(struct strv *s, const char *fmt, va_list ap);
void strv_done(struct strv *s);
/* The NULL-terminated array, never NULL on success: an empty list when nothing was added. s is
 * left empty. NULL: out of memory (s as it was). */
char **strv_take(struct strv *s);

/* NULL-terminated lists; NULL counts as empty. */
char **strv_new_empty(void); /* NULL: out of memory */
size_t strv_length(char *const *v);
/* The entries joined by sep, malloc'd ("" for an empty list); NULL: out of memory. */
char *strv_join(char *const *v, const char *sep);
void strv_free_null(char **v);
DEFINE_TRIVIAL_CLEANUP_FUNC(char **, strv_free_null)
#define _cleanup_strv_free_null_ _cleanup_(strv_free_nullp)

/* For qsort() over an array of char *: strcmp() order. */
int strv_compare(const void *a, const void *b);

/* Frees n strings and the array (for lists built as char ** plus a count). */
void strv_free(char **v, size_t n);
