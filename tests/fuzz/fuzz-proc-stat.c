/* SPDX-License-Identifier: GPL-2.0-or-later */
/* proc_stat_parse() and cgroup_file_unit(): the two procfs texts whose content a process
 * controls (its comm, the cgroup names of a delegated subtree). Every input goes to both.
 * Invariants: a failure leaves the results alone; the pid is positive and is the leading
 * number; comm is exactly the text between "PID (" and the LAST ')', truncated to the buffer;
 * the start time is field 22 (checked against a small reference tokenizer); a smaller comm
 * buffer or none changes nothing but the comm. A unit is a valid name ending in .service or
 * .scope that appears as a whole path component of the input. */

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/proc.h"
#include "fuzz.h"

/* Field 22 by splitting what follows the last ')' on single spaces (field 3 comes first). */
static bool reference_start_time(const char *s, uint64_t *ret)
{
        const char *p = strrchr(s, ')');
        char *end;

        if (!p)
                return false;
        p++;
        for (int field = 3; field <= 22; field++) {
                if (*p != ' ')
                        return false;
                p++;
                if (field == 22)
                        break;
                p = strchrnul(p, ' ');
        }
        if (*p < '0' || *p > '9')
                return false;
        errno = 0;
        *ret = strtoull(p, &end, 10);
        return errno == 0;
}

static void check_stat(const char *s)
{
        char comm[PROC_COMM_MAX], small[4];
        struct process_id id = { .pid = -7, .start_time = 7 }, id2 = id, id3 = id;
        const char *open_paren, *close_paren;
        uint64_t start;
        size_t n;
        int r;

        memset(comm, 'x', sizeof(comm));
        r = proc_stat_parse(s, comm, sizeof(comm), &id);
        fuzz_check(r == 0 || r == -EINVAL);
        if (r < 0) {
                fuzz_check(id.pid == -7 && id.start_time == 7);
                for (size_t i = 0; i < sizeof(comm); i++)
                        fuzz_check(comm[i] == 'x');
                return;
        }

        fuzz_check(id.pid > 0);
        fuzz_check(strtoll(s, NULL, 10) == id.pid);
        open_paren = strchr(s, '(');
        close_paren = strrchr(s, ')');
        fuzz_check(open_paren && close_paren && close_paren > open_paren);
        n = (size_t)(close_paren - open_paren - 1);
        if (n > sizeof(comm) - 1)
                n = sizeof(comm) - 1;
        fuzz_check(strlen(comm) == n);
        fuzz_check(memcmp(comm, open_paren + 1, n) == 0);
        fuzz_check(reference_start_time(s, &start));
        fuzz_check(start == id.start_time);

        fuzz_check(proc_stat_parse(s, small, sizeof(small), &id2) == 0);
        fuzz_check(id2.pid == id.pid && id2.start_time == id.start_time);
        fuzz_check(strlen(small) == (n < sizeof(small) ? n : sizeof(small) - 1));
        fuzz_check(strncmp(small, comm, strlen(small)) == 0);
        fuzz_check(proc_stat_parse(s, NULL, 0, &id3) == 0);
        fuzz_check(id3.pid == id.pid && id3.start_time == id.start_time);
}

static void check_cgroup(const char *s)
{
        char *sentinel = (char *)"untouched", *unit = sentinel;
        _cleanup_free_ char *component = NULL;
        size_t n;
        int r;

        r = cgroup_file_unit(s, &unit);
        fuzz_check(r == 0 || r == -ENOENT || r == -ENODATA);
        if (r < 0) {
                fuzz_check(unit == sentinel);
                return;
        }
        n = strlen(unit);
        fuzz_check(n > 0);
        fuzz_check(!strpbrk(unit, "/\n "));
        fuzz_check((n > 8 && strcmp(unit + n - 8, ".service") == 0) ||
                   (n > 6 && strcmp(unit + n - 6, ".scope") == 0));
        fuzz_check(asprintf(&component, "/%s", unit) > 0);
        /* a whole component: followed by '/', a line end, " (deleted)" or the end */
        for (const char *p = s;; p++) {
                p = strstr(p, component);
                fuzz_check(p);
                if (strchr("/\n ", p[n + 1]))
                        break;
        }
        free(unit);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_free_ char *s = NULL;

        if (size > 8192)
                return 0;
        s = fuzz_strndup(data, size);
        check_stat(s);
        check_cgroup(s);
        return 0;
}
