/* SPDX-License-Identifier: GPL-2.0-or-later */
/* bench-engine: what the hand-over engine itself costs. Runs attach + release cycles on the
 * testbed-like fake host with the kernel model behind the kernel seam, and splits each cycle's
 * time into the kernel operations (the model's work, standing in for the real kernel's writes
 * and module loads) and the tool's own overhead (planning, journal with fdatasync, checks, waits).
 *
 *   bench-engine [CYCLES]     default 200; prints the figures and a PASS/FAIL line per target */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "fakehost.h"
#include "handoff/transition.h"
#include "kmodel.h"
#include "testbed-host.h"
#include "tree-remove.h"

#define TARGET_OVERHEAD_USEC 5000

static const char host[] = FAKEHOST_TESTBED;

static uint64_t now_usec(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}

/* The kernel seam, timed: every operation's time goes to kernel_usec. */
static struct kernel model;
static uint64_t kernel_usec;

static int timed_write(void *u, const struct sysroot *sr, const char *path, const char *value)
{
        uint64_t t0 = now_usec();
        int r = model.ops->write_attr(model.userdata, sr, path, value);
        kernel_usec += now_usec() - t0;
        return r;
}

static int timed_load(void *u, const struct sysroot *sr, const char *name)
{
        uint64_t t0 = now_usec();
        int r = model.ops->load_module(model.userdata, sr, name);
        kernel_usec += now_usec() - t0;
        return r;
}

static int timed_unload(void *u, const struct sysroot *sr, const char *name)
{
        uint64_t t0 = now_usec();
        int r = model.ops->unload_module(model.userdata, sr, name);
        kernel_usec += now_usec() - t0;
        return r;
}

static const struct kernel_ops timed_ops = {timed_write, timed_load, timed_unload};

static int compare_u64(const void *a, const void *b)
{
        uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
        return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
        unsigned cycles = argc > 1 ? (unsigned)strtoul(argv[1], NULL, 10) : 200;
        const char *tmp = getenv("TMPDIR");
        char dir[256], *error = NULL;
        struct sysroot *sr = NULL;
        struct kmodel *km = NULL;
        struct kernel timed;
        struct handoff_ctx ctx;
        struct process_id self;
        uint64_t *total, *kernel, plan_sum = 0;
        int r;

        if (cycles == 0 || !(total = calloc(cycles, sizeof(*total))) || !(kernel = calloc(cycles, sizeof(*kernel))))
                return 2;
        snprintf(dir, sizeof(dir), "%s/bench-engine.XXXXXX", tmp && *tmp ? tmp : "/dev/shm");
        if (!mkdtemp(dir) || fakehost_build(host, "bench-engine", dir, &error) < 0 || sysroot_open(dir, &sr) < 0 ||
            kmodel_new(sr, &km) < 0 || process_id_self(sr, &self, NULL, 0) < 0) {
                fprintf(stderr, "bench-engine: cannot set up the fake host in %s: %s\n", dir, error ? error : "");
                return 2;
        }
        model = kmodel_kernel(km);
        timed = (struct kernel){.ops = &timed_ops, .sr = sr};
        ctx = (struct handoff_ctx){.sr = sr, .kernel = &timed, .settle_usec = 1000000};

        for (unsigned c = 0; c < cycles; c++) {
                struct plan_options opts = {.yes = true};
                struct engine_run *run = NULL;
                struct step *steps = NULL;
                struct host *h = NULL;
                struct plan *p = NULL;
                size_t n = 0;
                uint64_t t0 = now_usec();

                kernel_usec = 0;
                r = host_read(sr, NULL, HOST_PLATFORM, &h);
                if (r >= 0)
                        r = plan_attach(h, NULL, 0, &opts, &p, &error);
                plan_sum += now_usec() - t0;
                if (r >= 0)
                        r = transition_attach(&ctx, &self, "attach", p, &run, &error);
                engine_run_free(run);
                run = NULL;
                if (r >= 0)
                        r = transition_undo(&ctx, &self, "release", "release", &run, &steps, &n, &error);
                engine_run_free(run);
                steps_free(steps, n);
                plan_free(p);
                host_free(h);
                if (r < 0) {
                        fprintf(stderr, "bench-engine: cycle %u failed: %s (%s)\n", c, strerror(-r), error ? error : "");
                        return 2;
                }
                total[c] = now_usec() - t0;
                kernel[c] = kernel_usec;
        }
        {
                uint64_t *overhead = calloc(cycles, sizeof(*overhead));
                double mean_total = 0, mean_kernel = 0;
                if (!overhead)
                        return 2;
                for (unsigned c = 0; c < cycles; c++) {
                        overhead[c] = total[c] - kernel[c];
                        mean_total += (double)total[c] / cycles;
                        mean_kernel += (double)kernel[c] / cycles;
                }
                qsort(overhead, cycles, sizeof(*overhead), compare_u64);
                printf("attach + release on the fake host, %u cycles (the kernel model stands in for the kernel)\n",
                       cycles);
                printf("  whole cycle          mean %8.3f ms\n", mean_total / 1000);
                printf("  kernel operations    mean %8.3f ms\n", mean_kernel / 1000);
                printf("  reading the host and planning  mean %8.3f ms\n", (double)plan_sum / cycles / 1000);
                printf("  tool's own overhead  median %6.3f ms, p95 %6.3f ms, max %6.3f ms\n",
                       (double)overhead[cycles / 2] / 1000, (double)overhead[cycles * 95 / 100] / 1000,
                       (double)overhead[cycles - 1] / 1000);
                printf("%s: tool overhead under %d ms per attach + release (median %.3f ms)\n",
                       overhead[cycles / 2] < TARGET_OVERHEAD_USEC ? "PASS" : "FAIL", TARGET_OVERHEAD_USEC / 1000,
                       (double)overhead[cycles / 2] / 1000);
                r = overhead[cycles / 2] < TARGET_OVERHEAD_USEC ? 0 : 1;
                free(overhead);
        }
        kmodel_free(km);
        sysroot_free(sr);
        tree_remove(dir);
        free(total);
        free(kernel);
        return r;
}
