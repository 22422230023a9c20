/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The libFuzzer entry point every target defines. A target reports a broken invariant by
 * crashing (abort()), which both libFuzzer and the corpus runner treat as a failure. */

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* abort() with a reason: the message is what a human reads first in a crash report. */
#define fuzz_check(cond)                                                                                             \
        do {                                                                                                         \
                if (!(cond)) {                                                                                       \
                        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__, __LINE__, #cond);                 \
                        abort();                                                                                     \
                }                                                                                                    \
        } while (0)

/* The input as a NUL-terminated string (it ends at the first NUL byte, as a C caller's would). */
static inline char *fuzz_strndup(const uint8_t *data, size_t size)
{
        char *s = malloc(size + 1);

        if (!s)
                abort();
        for (size_t i = 0; i < size; i++)
                s[i] = (char)data[i];
        s[size] = '\0';
        return s;
}
