/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The process table and a process's ancestry, read from proc/PID/{stat,cmdline,cgroup} below the
 * root. */
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"
#include "host/processes.h"

static int compare_ints(const void *a, const void *b)
{
        const int *x = a, *y = b;
        return (*x > *y) - (*x < *y);
}

int proc_numbered_entries(const struct sysroot *sr, const char *path, int **ret, size_t *ret_n)
{
        _cleanup_closedir_ DIR *dir = NULL;
        _cleanup_free_ int *v = NULL;
        struct dirent *de;
        size_t n = 0, alloc = 0;
        int r = sysroot_opendir(sr, path, &dir);

        if (r < 0)
                return r;
        while ((de = readdir(dir))) {
                char *end;
                long k = strtol(de->d_name, &end, 10);

                if (*end || end == de->d_name || k < 0 || k > INT32_MAX)
                        continue;
                if (n == alloc) {
                        int *nv = realloc(v, (alloc = alloc ? 2 * alloc : 256) * sizeof(*v));
                        if (!nv)
                                return -ENOMEM;
                        v = nv;
                }
                v[n++] = (int)k;
        }
        if (n)
                qsort(v, n, sizeof(*v), compare_ints);
        *ret = TAKE_PTR(v);
        *ret_n = n;
        return 0;
}

/* Name, identity, state letter and parent from proc/PID/stat. */
static int stat_read(const struct sysroot *sr, pid_t pid, struct process *ret)
{
        char path[64], buf[1024];
        const char *paren;
        ssize_t n;
        int r;

        snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
        n = sysroot_read_attr(sr, path, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        r = proc_stat_parse(buf, ret->comm, sizeof(ret->comm), &ret->id);
        if (r < 0)
                return r;
        paren = strrchr(buf, ')');
        if (!paren || sscanf(paren + 1, " %c %d", &ret->state, &ret->ppid) != 2)
                return -EINVAL;
        return 0;
}

static bool kernel_thread(const struct sysroot *sr, pid_t pid, pid_t ppid)
{
        char path[64], buf[8];

        if (pid == 2 || ppid == 2)
                return true;
        snprintf(path, sizeof(path), "proc/%d/cmdline", (int)pid);
        return sysroot_read_attr(sr, path, buf, sizeof(buf)) == 0; /* no command line: a kernel thread */
}

int process_table_read(const struct sysroot *sr, struct process_table *ret)
{
        _cleanup_free_ int *pids = NULL;
        struct process_table t = {0};
        size_t n = 0;
        int r = proc_numbered_entries(sr, "proc", &pids, &n);

        if (r < 0)
                return r;
        t.v = calloc(n ? n : 1, sizeof(*t.v));
        if (!t.v)
                return -ENOMEM;
        for (size_t k = 0; k < n; k++) {
                struct process *p = &t.v[t.n];

                if (stat_read(sr, pids[k], p) < 0)
                        continue; /* gone meanwhile */
                p->kernel_thread = kernel_thread(sr, pids[k], p->ppid);
                t.n++;
        }
        *ret = t;
        return 0;
}

void process_table_done(struct process_table *t)
{
        free(t->v);
        *t = (struct process_table){0};
}

/* The cgroup paths of proc/PID/cgroup ("0::/system.slice/libvirtd.service": the third field). */
static int cgroups_of(const struct sysroot *sr, pid_t pid, char ***ret)
{
        _cleanup_free_ char *text = NULL;
        struct strv v = {0};
        char path[64];

        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        *ret = NULL;
        if (sysroot_read_file(sr, path, 64 * 1024, &text, NULL) < 0)
                return 0;
        for (char *save = NULL, *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char *cg = strchr(line, ':');
                cg = cg ? strchr(cg + 1, ':') : NULL;
                if (cg && strv_addf(&v, "%s", cg + 1) < 0) {
                        strv_done(&v);
                        return -ENOMEM;
                }
        }
        *ret = strv_take(&v);
        if (!*ret) {
                strv_done(&v);
                return -ENOMEM;
        }
        return 0;
}

int process_ancestors_read(const struct sysroot *sr, pid_t pid, struct process_ancestor **ret, size_t *ret_n)
{
        struct process_ancestor *v = calloc(PROCESS_ANCESTORS_MAX, sizeof(*v));
        size_t n = 0;
        int r = 0;

        if (!v)
                return -ENOMEM;
        while (pid > 0 && n < PROCESS_ANCESTORS_MAX) {
                struct process p;

                v[n].pid = pid;
                r = cgroups_of(sr, pid, &v[n++].cgroups);
                if (r < 0 || stat_read(sr, pid, &p) < 0)
                        break;
                pid = p.ppid;
        }
        if (r < 0) {
                process_ancestors_free(v, n);
                return r;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

void process_ancestors_free(struct process_ancestor *v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                strv_free_null(v[i].cgroups);
        free(v);
}
