/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A unified diff of two texts (diff -u's format, 3 lines of context), for showing a planned file
 * change before it is made. Lines are compared whole; a missing newline at the end is marked as
 * diff marks it ("\ No newline at end of file"). Files set up by a person are small: beyond
 * DIFF_LINES_MAX changed lines in the middle, the changed region is shown as all removed, then
 * all added, which is still a correct diff. */

#include <stddef.h>

#define DIFF_LINES_MAX 4000

/* The hunks only (no ---/+++ header), malloc'd; "" when the texts are equal. NULL: out of memory. */
char *diff_unified(const char *a, size_t a_len, const char *b, size_t b_len);
