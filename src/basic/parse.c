/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/bitmap.h"
#include "basic/parse.h"

/* Parses exactly n hex digits starting at *p, advancing *p. */
static int parse_hex_digits(const char **p, unsigned n, unsigned *ret)
{
        unsigned v = 0;

        for (unsigned i = 0; i < n; i++) {
                char c = (*p)[i];
                if (!isxdigit((unsigned char)c))
                        return -EINVAL;
                v = v * 16 + (unsigned)(isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10);
        }
        *p += n;
        *ret = v;
        return 0;
}

/* "BB:DD.F" with exactly two hex digits for bus and slot, one for the function. */
static int parse_bus_slot_func(const char *p, struct pci_addr *a)
{
        unsigned bus, slot, func;

        if (parse_hex_digits(&p, 2, &bus) < 0 || *p++ != ':')
                return -EINVAL;
        if (parse_hex_digits(&p, 2, &slot) < 0 || *p++ != '.')
                return -EINVAL;
        if (parse_hex_digits(&p, 1, &func) < 0 || *p != '\0')
                return -EINVAL;
        if (slot > 31 || func > 7)
                return -ERANGE;
        a->bus = (uint8_t)bus;
        a->slot = (uint8_t)slot;
        a->func = (uint8_t)func;
        return 0;
}

int pci_addr_parse(const char *s, struct pci_addr *ret)
{
        struct pci_addr a = {0};
        unsigned domain;
        int r;

        if (!s)
                return -EINVAL;
        if (parse_hex_digits(&s, 4, &domain) < 0 || *s++ != ':')
                return -EINVAL;
        r = parse_bus_slot_func(s, &a);
        if (r < 0)
                return r;
        a.domain = (uint16_t)domain;
        *ret = a;
        return 0;
}

int pci_addr_parse_user(const char *s, struct pci_addr *ret)
{
        struct pci_addr a = {0};
        int r;

        if (!s)
                return -EINVAL;
        if (strlen(s) == strlen("00:00.0")) {
                r = parse_bus_slot_func(s, &a);
                if (r < 0)
                        return r;
                *ret = a;
                return 0;
        }
        return pci_addr_parse(s, ret);
}

char *pci_addr_format(const struct pci_addr *a, char buf[static PCI_ADDR_STRLEN])
{
        snprintf(buf, PCI_ADDR_STRLEN, "%04x:%02x:%02x.%x", a->domain, a->bus, a->slot, a->func & 7);
        return buf;
}

int pci_addr_compare(const struct pci_addr *a, const struct pci_addr *b)
{
        uint32_t x = (uint32_t)a->domain << 16 | (uint32_t)a->bus << 8 | (uint32_t)a->slot << 3 | a->func;
        uint32_t y = (uint32_t)b->domain << 16 | (uint32_t)b->bus << 8 | (uint32_t)b->slot << 3 | b->func;
        return (x > y) - (x < y);
}

bool pci_addr_same_slot(const struct pci_addr *a, const struct pci_addr *b)
{
        return a->domain == b->domain && a->bus == b->bus && a->slot == b->slot;
}

/* A decimal number without sign, leading '+', or overflow. */
static int parse_cpu_number(const char **p, unsigned long *ret)
{
        char *end;
        unsigned long v;

        if (!isdigit((unsigned char)**p))
                return -EINVAL;
        errno = 0;
        v = strtoul(*p, &end, 10);
        if (errno == ERANGE || v > 1UL << 20)
                return -ERANGE;
        *p = end;
        *ret = v;
        return 0;
}

/* Walks a cpulist; sets bits in bitmap only when it is not NULL, so a first pass can validate
 * the whole string and leave the caller's bitmap untouched on failure (no scratch copy on the
 * stack: nbits comes from the caller and may be large). */
static int cpulist_walk(const char *s, uint64_t *bitmap, size_t nbits)
{
        const char *p = s;

        /* The kernel prints an empty set as "\n"; accept trailing whitespace everywhere. */
        while (*p && !isspace((unsigned char)*p)) {
                unsigned long lo, hi;
                int r = parse_cpu_number(&p, &lo);
                if (r < 0)
                        return r;
                hi = lo;
                if (*p == '-') {
                        p++;
                        r = parse_cpu_number(&p, &hi);
                        if (r < 0)
                                return r;
                        if (hi < lo)
                                return -EINVAL;
                }
                if (hi >= nbits)
                        return -ERANGE;
                if (bitmap)
                        for (unsigned long c = lo; c <= hi; c++)
                                bitmap_set(bitmap, c);
                if (*p == ',') {
                        p++;
                        if (!isdigit((unsigned char)*p))
                                return -EINVAL;
                } else if (*p && !isspace((unsigned char)*p))
                        return -EINVAL;
        }
        for (; *p; p++)
                if (!isspace((unsigned char)*p))
                        return -EINVAL;
        return 0;
}

int cpulist_parse(const char *s, uint64_t *bitmap, size_t nbits)
{
        int r;

        if (!s)
                return -EINVAL;
        r = cpulist_walk(s, NULL, nbits);
        if (r < 0)
                return r;
        /* nbits / 64 rounded up, without the overflow of (nbits + 63) / 64 */
        memset(bitmap, 0, (nbits / 64 + (nbits % 64 != 0)) * sizeof(uint64_t));
        return cpulist_walk(s, bitmap, nbits);
}

char *cpulist_format(const uint64_t *bitmap, size_t nbits)
{
        char *buf = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&buf, &len);
        bool first = true;

        if (!f)
                return NULL;
        for (size_t c = 0; c < nbits; c++) {
                size_t end = c;
                if (!bitmap_test(bitmap, c))
                        continue;
                while (end + 1 < nbits && bitmap_test(bitmap, end + 1))
                        end++;
                fprintf(f, first ? "%zu" : ",%zu", c);
                if (end > c)
                        fprintf(f, "-%zu", end);
                first = false;
                c = end;
        }
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

/* True when everything after p is trailing whitespace. */
static bool only_trailing_space(const char *p)
{
        for (; *p; p++)
                if (!isspace((unsigned char)*p))
                        return false;
        return true;
}

int sysfs_parse_hex(const char *s, uint32_t max, uint32_t *ret)
{
        unsigned long v;
        char *end;

        if (!s || s[0] != '0' || (s[1] != 'x' && s[1] != 'X') || !isxdigit((unsigned char)s[2]))
                return -EINVAL;
        /* strtoul() would skip a second "0x" prefix and accept "0x0x10" as 0x10. */
        if (s[2] == '0' && (s[3] == 'x' || s[3] == 'X'))
                return -EINVAL;
        errno = 0;
        v = strtoul(s + 2, &end, 16);
        if (errno == ERANGE || v > max)
                return -ERANGE;
        if (!only_trailing_space(end))
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

int sysfs_parse_uint(const char *s, uint32_t max, uint32_t *ret)
{
        unsigned long v;
        char *end;

        if (!s || !isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 10);
        if (errno == ERANGE || v > max)
                return -ERANGE;
        if (!only_trailing_space(end))
                return -EINVAL;
        *ret = (uint32_t)v;
        return 0;
}

int sysfs_parse_bool(const char *s, bool *ret)
{
        uint32_t v;
        int r = sysfs_parse_uint(s, 1, &v);
        if (r < 0)
                return r == -ERANGE ? -EINVAL : r;
        *ret = v == 1;
        return 0;
}

char *strip_trailing(char *s)
{
        size_t n = strlen(s);
        while (n > 0 && isspace((unsigned char)s[n - 1]))
                s[--n] = '\0';
        return s;
}

bool word_in_list(const char *list, const char *word)
{
        size_t n = strlen(word);

        if (n == 0)
                return false;
        for (const char *p = list; (p = strstr(p, word)); p += n) {
                bool starts = p == list || isspace((unsigned char)p[-1]);
                bool ends = p[n] == '\0' || isspace((unsigned char)p[n]);
                if (starts && ends)
                        return true;
        }
        return false;
}
