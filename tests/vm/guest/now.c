/* SPDX-License-Identifier: GPL-2.0-or-later */
/* now: print CLOCK_MONOTONIC in milliseconds (integer). Tiny static helper for timing inside the guest.
 *   now                  milliseconds
 *   now -u               microseconds
 *   now -w FILE VALUE    writes VALUE to FILE with one write() and prints how long the write took in
 *                        microseconds (the kernel's time, without the shell's fork and exec around
 *                        it); exit 1 with the error on stderr when the write fails */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static long long usec(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (long long)t.tv_sec * 1000000 + t.tv_nsec / 1000;
}

int main(int argc, char **argv) {
    if (argc == 4 && strcmp(argv[1], "-w") == 0) {
        int fd = open(argv[2], O_WRONLY | O_CLOEXEC);
        long long t0, t1;
        ssize_t n;
        if (fd < 0) {
            fprintf(stderr, "now: %s: %s\n", argv[2], strerror(errno));
            return 1;
        }
        t0 = usec();
        n = write(fd, argv[3], strlen(argv[3]));
        t1 = usec();
        if (n < 0) {
            fprintf(stderr, "now: write %s to %s: %s\n", argv[3], argv[2], strerror(errno));
            return 1;
        }
        printf("%lld\n", t1 - t0);
        return close(fd) < 0;
    }
    if (argc == 2 && strcmp(argv[1], "-u") == 0) {
        printf("%lld\n", usec());
        return 0;
    }
    printf("%lld\n", usec() / 1000);
    return 0;
}
