/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Runs a fuzz target over its corpus without libFuzzer, so that gcc builds and plain
 * `meson test` exercise every seed and every input that once crashed.
 *
 *     fuzz-quirks-corpus DIR|FILE...
 *
 * Each directory contributes its regular files (sorted by name, so the output is stable),
 * each file argument itself. Output is TAP: the plan, then "ok N - NAME" per input. A broken
 * invariant aborts the process inside the target, which the harness sees as a failure; a
 * missing or empty corpus is reported with "Bail out!". */

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "fuzz.h"

struct input {
        char *path;
        const char *name; /* as printed: the file name for directory members */
};

static struct input *inputs;
static size_t n_inputs, n_alloc;

static void add_input(char *path, const char *name)
{
        if (n_inputs == n_alloc) {
                n_alloc = n_alloc ? n_alloc * 2 : 64;
                inputs = realloc(inputs, n_alloc * sizeof(*inputs));
                if (!inputs) {
                        printf("Bail out! out of memory\n");
                        exit(EXIT_FAILURE);
                }
        }
        inputs[n_inputs++] = (struct input){ path, name };
}

static int compare_inputs(const void *a, const void *b)
{
        return strcmp(((const struct input *)a)->path, ((const struct input *)b)->path);
}

static void add_argument(const char *arg)
{
        struct stat st;
        DIR *d;
        struct dirent *de;

        if (stat(arg, &st) < 0) {
                printf("Bail out! %s: %s\n", arg, strerror(errno));
                exit(EXIT_FAILURE);
        }
        if (!S_ISDIR(st.st_mode)) {
                char *path = strdup(arg);
                if (!path) {
                        printf("Bail out! out of memory\n");
                        exit(EXIT_FAILURE);
                }
                add_input(path, path);
                return;
        }
        d = opendir(arg);
        if (!d) {
                printf("Bail out! %s: %s\n", arg, strerror(errno));
                exit(EXIT_FAILURE);
        }
        while ((de = readdir(d))) {
                char *path;
                if (de->d_name[0] == '.')
                        continue;
                if (asprintf(&path, "%s/%s", arg, de->d_name) < 0) {
                        printf("Bail out! out of memory\n");
                        exit(EXIT_FAILURE);
                }
                if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
                        free(path);
                        continue;
                }
                add_input(path, strrchr(path, '/') + 1);
        }
        closedir(d);
}

/* The whole file in a buffer of exactly its size, so that AddressSanitizer catches a target
 * that reads one byte too far. */
static uint8_t *read_input(const char *path, size_t *ret_size)
{
        _cleanup_close_ int fd = open(path, O_RDONLY | O_CLOEXEC);
        struct stat st;
        uint8_t *buf;
        size_t size, done = 0;

        if (fd < 0 || fstat(fd, &st) < 0)
                return NULL;
        size = (size_t)st.st_size;
        buf = malloc(size ? size : 1);
        if (!buf)
                return NULL;
        while (done < size) {
                ssize_t n = read(fd, buf + done, size - done);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        free(buf);
                        return NULL;
                }
                done += (size_t)n;
        }
        *ret_size = size;
        return buf;
}

int main(int argc, char *argv[])
{
        int failed = 0;

        if (argc < 2) {
                printf("Bail out! usage: %s DIR|FILE...\n", argv[0]);
                return EXIT_FAILURE;
        }
        for (int i = 1; i < argc; i++)
                add_argument(argv[i]);
        if (n_inputs == 0) {
                printf("Bail out! no corpus files in the arguments\n");
                return EXIT_FAILURE;
        }
        qsort(inputs, n_inputs, sizeof(*inputs), compare_inputs);

        printf("1..%zu\n", n_inputs);
        for (size_t i = 0; i < n_inputs; i++) {
                size_t size = 0;
                uint8_t *data = read_input(inputs[i].path, &size);

                if (!data) {
                        printf("not ok %zu - %s # cannot read: %s\n", i + 1, inputs[i].name, strerror(errno));
                        failed = 1;
                        continue;
                }
                /* Flushed first: if the target aborts, the log shows which input did it. */
                fprintf(stderr, "# running %s (%zu bytes)\n", inputs[i].path, size);
                fflush(stdout);
                LLVMFuzzerTestOneInput(data, size);
                free(data);
                printf("ok %zu - %s\n", i + 1, inputs[i].name);
        }
        for (size_t i = 0; i < n_inputs; i++)
                free(inputs[i].path);
        free(inputs);
        return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
