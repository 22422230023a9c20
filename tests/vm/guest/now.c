/* SPDX-License-Identifier: GPL-2.0-or-later */
/* now: print CLOCK_MONOTONIC in milliseconds (integer). Tiny static helper for timing inside the guest. */
#include <stdio.h>
#include <time.h>
int main(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    printf("%lld\n", (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000);
    return 0;
}
