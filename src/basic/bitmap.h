/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Fixed-size bit sets in arrays of uint64_t (CPU sets, NUMA node sets): bit i is word i / 64,
 * bit i % 64. nbits is a multiple of 64 (the arrays are declared with BITMAP_WORDS(nbits)). */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define BITMAP_WORDS(nbits) (((nbits) + 63) / 64)

static inline bool bitmap_test(const uint64_t *b, size_t i)
{
        return (b[i / 64] >> (i % 64)) & 1;
}

static inline void bitmap_set(uint64_t *b, size_t i)
{
        b[i / 64] |= UINT64_C(1) << (i % 64);
}

static inline void bitmap_clear(uint64_t *b, size_t i)
{
        b[i / 64] &= ~(UINT64_C(1) << (i % 64));
}

/* How many bits are set. */
static inline size_t bitmap_count(const uint64_t *b, size_t nbits)
{
        size_t n = 0;

        for (size_t w = 0; w < BITMAP_WORDS(nbits); w++)
                n += (size_t)__builtin_popcountll(b[w]);
        return n;
}

/* The lowest bit set, or nbits when none is. */
static inline size_t bitmap_first(const uint64_t *b, size_t nbits)
{
        for (size_t w = 0; w < BITMAP_WORDS(nbits); w++)
                if (b[w])
                        return w * 64 + (size_t)__builtin_ctzll(b[w]);
        return nbits;
}
