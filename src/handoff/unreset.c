/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The record of cards that did not come back from a reset in this boot (unreset.h). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/proc.h"
#include "handoff/step.h"
#include "handoff/unreset.h"

#define RECORD_MAX (64u * 1024)

/* Calls fn for each record of this boot: address and problem (both NUL-terminated in text). */
static int for_each(const struct sysroot *sr, int (*fn)(const char *address, const char *problem, void *userdata),
                    void *userdata)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0, blen;
        char boot[40];
        int r;

        if (boot_id_read(sr, boot) < 0 || sysroot_read_file(sr, UNRESET_PATH, RECORD_MAX, &text, &len) < 0)
                return 0;
        blen = strlen(boot);
        for (char *line = text, *next; line && *line; line = next) {
                char *address, *problem;

                next = strchr(line, '\n');
                if (next)
                        *next++ = 0;
                if (strncmp(line, boot, blen) != 0 || line[blen] != ' ')
                        continue;
                address = line + blen + 1;
                problem = strchr(address, ' ');
                if (problem)
                        *problem++ = 0;
                r = fn(address, problem ? problem : "", userdata);
                if (r != 0)
                        return r;
        }
        return 0;
}

static int match(const char *address, const char *problem, void *userdata)
{
        return strcmp(address, userdata) == 0;
}

bool unreset_recorded(const struct sysroot *sr, const char *address)
{
        return for_each(sr, match, (void *)address) > 0;
}

static int collect(const char *address, const char *problem, void *userdata)
{
        return strv_addf(userdata, "%s: %s", address, problem);
}

int unreset_list(const struct sysroot *sr, struct strv *ret)
{
        return for_each(sr, collect, ret);
}

int unreset_record(const struct sysroot *sr, const char *address, const char *problem)
{
        _cleanup_free_ char *text = NULL, *all = NULL;
        _cleanup_close_ int dirfd = -1;
        size_t len = 0;
        char boot[40];
        int r;

        r = boot_id_read(sr, boot);
        if (r < 0)
                return r;
        r = sysroot_read_file(sr, UNRESET_PATH, RECORD_MAX, &text, &len);
        if (r < 0 && r != -ENOENT)
                return r;
        if (asprintf(&all, "%.*s%s%s %s %s\n", (int)len, text ? text : "", len > 0 && text[len - 1] != '\n' ? "\n" : "",
                     boot, address, problem) < 0)
                return -ENOMEM;
        dirfd = sysroot_openat(sr, "run/gpu-handoff", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dirfd < 0)
                return dirfd;
        return atomic_write_at(dirfd, "unreset", all, strlen(all), 0644, NULL);
}

struct find {
        const char *address;
        const char *problem;
        char buf[256];
};

static int find_problem(const char *address, const char *problem, void *userdata)
{
        struct find *f = userdata;

        if (strcmp(address, f->address) != 0)
                return 0;
        snprintf(f->buf, sizeof(f->buf), "%s", problem);
        f->problem = f->buf;
        return 1;
}

char *unreset_report(const struct sysroot *sr, const struct step *steps, size_t n)
{
        char *text = NULL;
        size_t len = 0, found = 0;
        FILE *f = open_memstream(&text, &len);

        if (!f)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                struct find fd = {.address = steps[i].n_args ? steps[i].args[0] : ""};

                if (steps[i].kind != STEP_RETURN_RESET || for_each(sr, find_problem, &fd) <= 0)
                        continue;
                fprintf(f, "%s%s did not come back after its reset (%s): it stays on vfio-pci; the host needs a "
                        "reboot before this card works again",
                        found++ ? "; " : "", fd.address, fd.problem);
        }
        if (fclose(f) != 0 || found == 0) {
                free(text);
                return NULL;
        }
        return text;
}
