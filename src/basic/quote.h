/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Text from outside this program (sysfs and /proc, arguments, files, documents) made safe to
 * show: in a message, a listing or a JSON string it stays one line, cannot start a terminal
 * escape sequence, and cannot grow a message without bound. */

#include <stddef.h>

#include "basic/utf8.h"

/* Longest excerpt quoted in a message; a buffer for it. Every byte may become a 4-byte \xNN. */
#define QUOTE_MAX 64
#define QUOTE_BUF_SIZE(max) ((max) * 4 + sizeof("..."))
#define QUOTE_BUF QUOTE_BUF_SIZE(QUOTE_MAX)

/* Up to max bytes of the first len bytes of s (it ends at a NUL before that), cut at a character
 * boundary and then marked "...". Control characters (C0, DEL, C1) and bytes that are not UTF-8
 * become \xNN; printable UTF-8 stays as it is. buf has QUOTE_BUF_SIZE(max) bytes; returns buf. */
const char *quote_n(const char *s, size_t len, size_t max, char *buf);
/* The same for a NUL-terminated s (char, or libxml2's unsigned char) and QUOTE_MAX. */
const char *quote(const void *s, char buf[static QUOTE_BUF]);
/* The whole of s, or max bytes of it, malloc'd; NULL when out of memory. */
char *quote_dup(const char *s, size_t max);
