/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-hook: what the libvirt hook costs for the events it does nothing for. Runs a command N
 * times as libvirt does (fork, exec, the domain XML on stdin), and prints the wall time of each
 * run from fork to exit (min, median, mean, 95th percentile, max) and the largest peak RSS
 * (wait4's ru_maxrss), so the figures include the dynamic loader and everything the process
 * maps. Targets (issue #6): under 3 ms wall and 4 MiB RSS per run.
 *
 *   bench-hook N XML-FILE COMMAND [ARGS...] */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b)
{
        double x = *(const double *)a, y = *(const double *)b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        long n = argc > 3 ? strtol(argv[1], NULL, 10) : 0, rss = 0;
        double *ms, sum = 0;

        if (n <= 0) {
                fprintf(stderr, "usage: bench-hook N XML-FILE COMMAND [ARGS...]\n");
                return 2;
        }
        ms = calloc((size_t)n, sizeof(*ms));
        if (!ms)
                return 2;
        for (long i = 0; i < n; i++) {
                struct rusage ru;
                int status;
                double t0 = now_ms();
                pid_t pid = fork();

                if (pid == 0) {
                        int fd = open(argv[2], O_RDONLY);
                        if (fd < 0 || dup2(fd, STDIN_FILENO) < 0)
                                _exit(127);
                        execv(argv[3], argv + 3);
                        _exit(127);
                }
                if (pid < 0 || wait4(pid, &status, 0, &ru) < 0)
                        return 2;
                ms[i] = now_ms() - t0;
                if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
                        fprintf(stderr, "bench-hook: run %ld exited with %d\n", i, WEXITSTATUS(status));
                        return 1;
                }
                sum += ms[i];
                rss = ru.ru_maxrss > rss ? ru.ru_maxrss : rss;
        }
        qsort(ms, (size_t)n, sizeof(*ms), compare);
        printf("%ld runs: min %.2f ms, median %.2f ms, mean %.2f ms, p95 %.2f ms, max %.2f ms; peak RSS %ld KiB\n", n,
               ms[0], ms[n / 2], sum / (double)n, ms[n * 95 / 100], ms[n - 1], rss);
        free(ms);
        return 0;
}
