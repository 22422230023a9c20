/* SPDX-License-Identifier: GPL-2.0-or-later */
/* cpulist_parse() and cpulist_format(). The first input byte picks the bitmap width (0-255
 * bits, so the "CPU >= nbits" edge is reached often), the rest is the list. Invariants: a
 * failure leaves the bitmap alone; no bit at or above nbits is ever set; and
 * parse(format(parse(s))) gives the same set while format() is a fixed point. */

#include <errno.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "fuzz.h"

#define PATTERN UINT64_C(0xa5a5a5a5a5a5a5a5)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = NULL, *f1 = NULL, *f2 = NULL;
        _cleanup_free_ uint64_t *map = NULL, *map2 = NULL;
        size_t nbits, words;
        int r;

        if (size < 1 || size > 4096)
                return 0;
        nbits = data[0];
        words = nbits / 64 + (nbits % 64 != 0);
        s = fuzz_strndup(data + 1, size - 1);

        /* exactly as large as nbits needs, so AddressSanitizer sees any write beyond it */
        map = malloc(words ? words * sizeof(uint64_t) : 1);
        map2 = malloc(words ? words * sizeof(uint64_t) : 1);
        fuzz_check(map && map2);
        for (size_t i = 0; i < words; i++)
                map[i] = PATTERN;

        r = cpulist_parse(s, map, nbits);
        fuzz_check(r == 0 || r == -EINVAL || r == -ERANGE);
        if (r < 0) {
                for (size_t i = 0; i < words; i++)
                        fuzz_check(map[i] == PATTERN);
                return 0;
        }
        if (nbits % 64 != 0)
                fuzz_check((map[words - 1] >> (nbits % 64)) == 0);

        f1 = cpulist_format(map, nbits);
        fuzz_check(f1);
        r = cpulist_parse(f1, map2, nbits);
        fuzz_check(r == 0);
        fuzz_check(words == 0 || memcmp(map, map2, words * sizeof(uint64_t)) == 0);
        f2 = cpulist_format(map2, nbits);
        fuzz_check(f2);
        fuzz_check(strcmp(f1, f2) == 0);
        return 0;
}
