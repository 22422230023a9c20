/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The sysfs attribute parsers, strip_trailing() and word_in_list(). The first input byte
 * picks the limit passed as max (from a small table with the edges that matter), the rest
 * is the attribute text. For word_in_list() the text is split at its first '\n' into list
 * and word, and the answer is compared with a simple tokenizing reference. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "fuzz.h"

static const uint32_t limits[] = { 0, 1, 7, 0xff, 0xffff, 0x10000, 0xffffff, INT32_MAX, UINT32_MAX - 1, UINT32_MAX };

#define POISON UINT32_C(0xdeadbeef)

static bool only_space(const char *p)
{
        for (; *p; p++)
                if (!isspace((unsigned char)*p))
                        return false;
        return true;
}

/* Reference grammar for both number parsers: optional "0x" prefix (hex), one or more digits,
 * then only whitespace; the value must be <= max. Success or not, and the value, must agree
 * with the real parser (the error codes may differ in which check comes first). */
static bool reference_number(const char *s, bool hex, uint32_t max, uint32_t *ret)
{
        uint64_t v = 0;
        size_t i = 0, digits = 0;

        if (hex) {
                if (s[0] != '0' || (s[1] != 'x' && s[1] != 'X'))
                        return false;
                i = 2;
        }
        for (;; i++, digits++) {
                char c = s[i];
                unsigned d;
                if (c >= '0' && c <= '9')
                        d = (unsigned)(c - '0');
                else if (hex && c >= 'a' && c <= 'f')
                        d = (unsigned)(c - 'a' + 10);
                else if (hex && c >= 'A' && c <= 'F')
                        d = (unsigned)(c - 'A' + 10);
                else
                        break;
                v = v * (hex ? 16 : 10) + d;
                if (v > UINT32_MAX)
                        v = (uint64_t)UINT32_MAX + 1; /* saturate: stays "too large" */
        }
        if (digits == 0 || !only_space(s + i) || v > max)
                return false;
        *ret = (uint32_t)v;
        return true;
}

static void check_hex(const char *s, uint32_t max)
{
        uint32_t v = POISON, again = POISON, ref = POISON;
        char buf[32];
        int r = sysfs_parse_hex(s, max, &v);
        bool ok = reference_number(s, true, max, &ref);

        fuzz_check(r == 0 || r == -EINVAL || r == -ERANGE);
        fuzz_check((r == 0) == ok);
        if (r < 0) {
                fuzz_check(v == POISON);
                return;
        }
        fuzz_check(v == ref && v <= max);
        snprintf(buf, sizeof(buf), "0x%" PRIx32 "\n", v);
        fuzz_check(sysfs_parse_hex(buf, max, &again) == 0 && again == v);
}

static void check_uint(const char *s, uint32_t max)
{
        uint32_t v = POISON, again = POISON, ref = POISON;
        char buf[32];
        int r = sysfs_parse_uint(s, max, &v);
        bool ok = reference_number(s, false, max, &ref);

        fuzz_check(r == 0 || r == -EINVAL || r == -ERANGE);
        fuzz_check((r == 0) == ok);
        if (r < 0) {
                fuzz_check(v == POISON);
                return;
        }
        fuzz_check(v == ref && v <= max);
        snprintf(buf, sizeof(buf), "%" PRIu32 "\n", v);
        fuzz_check(sysfs_parse_uint(buf, max, &again) == 0 && again == v);
}

static void check_bool(const char *s)
{
        bool t = true, f = false;
        int r1 = sysfs_parse_bool(s, &t), r2 = sysfs_parse_bool(s, &f);

        fuzz_check(r1 == r2);
        fuzz_check(r1 == 0 || r1 == -EINVAL);
        if (r1 < 0) {
                fuzz_check(t && !f);
                return;
        }
        fuzz_check(t == f);
        /* only a decimal 0 or 1, maybe with leading zeros and trailing space */
        fuzz_check(s[strspn(s, "0")] == '\0' || s[strspn(s, "0")] == '1' || isspace((unsigned char)s[strspn(s, "0")]));
}

static void check_strip(const char *s)
{
        _cleanup_free_ char *copy = strdup(s);
        size_t n;

        fuzz_check(copy);
        fuzz_check(strip_trailing(copy) == copy);
        n = strlen(copy);
        fuzz_check(strncmp(copy, s, n) == 0);
        fuzz_check(n == 0 || !isspace((unsigned char)copy[n - 1]));
        fuzz_check(only_space(s + n));
}

/* Reference: split list at isspace() and compare whole tokens. */
static bool reference_word_in_list(const char *list, const char *word)
{
        const char *p = list;
        size_t n = strlen(word);

        while (*p) {
                size_t len;
                while (*p && isspace((unsigned char)*p))
                        p++;
                len = 0;
                while (p[len] && !isspace((unsigned char)p[len]))
                        len++;
                if (len > 0 && len == n && memcmp(p, word, n) == 0)
                        return true;
                p += len;
        }
        return false;
}

static void check_word_in_list(const char *s)
{
        _cleanup_free_ char *list = strdup(s);
        const char *word;
        char *nl;

        fuzz_check(list);
        nl = strchr(list, '\n');
        if (!nl)
                return;
        *nl = '\0';
        word = nl + 1;
        /* a "word" with blanks in it has no defined answer */
        for (const char *p = word; *p; p++)
                if (isspace((unsigned char)*p))
                        return;
        fuzz_check(word_in_list(list, word) == reference_word_in_list(list, word));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = NULL;
        uint32_t max;

        if (size < 1 || size > 4096)
                return 0;
        max = limits[data[0] % ELEMENTSOF(limits)];
        s = fuzz_strndup(data + 1, size - 1);

        check_hex(s, max);
        check_uint(s, max);
        check_bool(s);
        check_strip(s);
        check_word_in_list(s);
        return 0;
}
