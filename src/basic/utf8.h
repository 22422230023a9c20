/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The one UTF-8 decoder of the tool (RFC 3629), header-only so that the libc-only hook front
 * (src/cli/hook-front.c) applies exactly the rule gpu-handoff applies to a domain XML. */

#include <stddef.h>
#include <stdint.h>

/* The length (1-4) of the well-formed UTF-8 character at s, of at most n bytes; 0 when the bytes
 * there are not one (a stray continuation byte, an overlong form, a surrogate, beyond U+10FFFF,
 * cut short) or n is 0. NUL and other control characters are characters here: the caller's rules
 * say which it allows. */
static inline size_t utf8_char_length(const char *s, size_t n)
{
        const unsigned char *p = (const unsigned char *)s;
        uint32_t c, min;
        size_t len;

        if (n == 0)
                return 0;
        if (p[0] < 0x80)
                return 1;
        if (p[0] >= 0xc2 && p[0] <= 0xdf)
                len = 2, c = p[0] & 0x1f, min = 0x80;
        else if (p[0] >= 0xe0 && p[0] <= 0xef)
                len = 3, c = p[0] & 0x0f, min = 0x800;
        else if (p[0] >= 0xf0 && p[0] <= 0xf4)
                len = 4, c = p[0] & 0x07, min = 0x10000;
        else
                return 0; /* a continuation byte, 0xc0/0xc1 (always overlong), or 0xf5.. */
        if (len > n)
                return 0;
        for (size_t i = 1; i < len; i++) {
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
                c = c << 6 | (p[i] & 0x3f);
        }
        if (c < min || c > 0x10ffff || (c >= 0xd800 && c <= 0xdfff))
                return 0;
        return len;
}
