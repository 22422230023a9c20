/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/quote.h"

/* U+0080..U+009F: C1 controls; a terminal may take U+009B for the start of an escape sequence. */
static bool is_c1(const unsigned char *p, size_t k)
{
        return k == 2 && p[0] == 0xc2 && p[1] < 0xa0;
}

const char *quote_n(const char *s, size_t len, size_t max, char *buf)
{
        size_t n = strnlen(s, len), o = 0, i = 0;

        while (i < n) {
                const unsigned char *p = (const unsigned char *)s + i;
                size_t k = utf8_char_length(s + i, n - i);

                if (i + (k ? k : 1) > max)
                        break;
                if (k == 0 || *p < 0x20 || *p == 0x7f || is_c1(p, k)) {
                        k = k ? k : 1;
                        for (size_t j = 0; j < k; j++)
                                o += (size_t)sprintf(buf + o, "\\x%02x", p[j]);
                } else {
                        memcpy(buf + o, p, k);
                        o += k;
                }
                i += k;
        }
        strcpy(buf + o, i < n ? "..." : "");
        return buf;
}

const char *quote(const void *s, char buf[static QUOTE_BUF])
{
        return quote_n(s, SIZE_MAX, QUOTE_MAX, buf);
}

char *quote_dup(const char *s, size_t max)
{
        size_t n = strnlen(s, max), size = n * 4 + sizeof("...");
        char *buf = malloc(size);

        if (!buf)
                return NULL;
        return (char *)quote_n(s, SIZE_MAX, max, buf);
}
