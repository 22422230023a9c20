/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/proc.h"

/* /proc/PID/stat is about 300 bytes; this leaves room for a 64-byte comm and 52 20-digit fields. */
#define STAT_MAX 4096
/* /proc/PID/cgroup: one line per v1 hierarchy, each path at most PATH_MAX. */
#define CGROUP_MAX (64 * 1024)

static bool is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* One stat field that must be a (possibly negative) decimal integer; returns its end. */
static const char *skip_int(const char *p)
{
        if (*p == '-')
                p++;
        if (!is_digit(*p))
                return NULL;
        while (is_digit(*p))
                p++;
        return p;
}

/* proc_stat_parse() that also hands back the state letter (field 3) and the process group
 * (field 5). */
static int stat_parse(const char *stat, char *comm, size_t comm_size, struct process_id *ret,
                      char *ret_state, pid_t *ret_pgrp)
{
        const char *p = stat, *comm_start, *comm_end;
        uint64_t pid = 0, start_time = 0;
        long long pgrp = 0;
        char state;

        if (!stat || !is_digit(*p))
                return -EINVAL;
        for (; is_digit(*p); p++) {
                pid = pid * 10 + (uint64_t)(*p - '0');
                if (pid > INT_MAX)
                        return -EINVAL;
        }
        if (pid == 0 || p[0] != ' ' || p[1] != '(')
                return -EINVAL;
        comm_start = p + 2;
        /* comm is not escaped, but nothing after it contains ')': the last one ends it. */
        comm_end = strrchr(comm_start, ')');
        if (!comm_end)
                return -EINVAL;
        p = comm_end + 1;

        if (p[0] != ' ' || !p[1] || p[1] == ' ' || p[1] == '\n' || p[2] != ' ')
                return -EINVAL;
        state = p[1];
        p += 2;

        /* fields 4 (ppid) to 21 (itrealvalue), then 22: the start time */
        for (int field = 4; field <= 21; field++) {
                if (*p != ' ')
                        return -EINVAL;
                if (field == 5)
                        pgrp = strtoll(p + 1, NULL, 10);
                p = skip_int(p + 1);
                if (!p)
                        return -EINVAL;
        }
        if (*p != ' ' || !is_digit(p[1]))
                return -EINVAL;
        for (p++; is_digit(*p); p++) {
                uint64_t digit = (uint64_t)(*p - '0');
                if (start_time > (UINT64_MAX - digit) / 10)
                        return -EINVAL;
                start_time = start_time * 10 + digit;
        }
        if (*p != '\0' && *p != ' ' && *p != '\n')
                return -EINVAL;

        if (comm && comm_size > 0) {
                size_t n = (size_t)(comm_end - comm_start);
                if (n >= comm_size)
                        n = comm_size - 1;
                memcpy(comm, comm_start, n);
                comm[n] = '\0';
        }
        if (ret_state)
                *ret_state = state;
        if (ret_pgrp)
                *ret_pgrp = pgrp > 0 && pgrp <= INT_MAX ? (pid_t)pgrp : 0;
        if (ret)
                *ret = (struct process_id){ .pid = (pid_t)pid, .start_time = start_time };
        return 0;
}

int proc_stat_parse(const char *stat, char *comm, size_t comm_size, struct process_id *ret)
{
        return stat_parse(stat, comm, comm_size, ret, NULL, NULL);
}

/* Reads and parses one stat file; a missing file is the caller's to interpret. */
static int read_stat(const struct sysroot *sr, const char *path, struct process_id *ret, char *comm,
                     size_t comm_size, char *ret_state, pid_t *ret_pgrp)
{
        _cleanup_free_ char *text = NULL;
        int r;

        r = sysroot_read_file(sr, path, STAT_MAX, &text, NULL);
        if (r < 0)
                return r;
        return stat_parse(text, comm, comm_size, ret, ret_state, ret_pgrp);
}

static int read_pid_stat(const struct sysroot *sr, pid_t pid, struct process_id *ret, char *comm,
                         size_t comm_size, char *ret_state, pid_t *ret_pgrp)
{
        char path[sizeof("proc//stat") + 12];
        char name[PROC_COMM_MAX], state;
        struct process_id id;
        int r;

        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
        r = read_stat(sr, path, &id, name, sizeof(name), &state, ret_pgrp);
        if (r == -ENOENT)
                return -ESRCH;
        if (r < 0)
                return r;
        if (id.pid != pid)
                return -EINVAL;
        if (comm && comm_size > 0)
                snprintf(comm, comm_size, "%s", name);
        if (ret_state)
                *ret_state = state;
        if (ret)
                *ret = id;
        return 0;
}

int process_id_read(const struct sysroot *sr, pid_t pid, struct process_id *ret, char *comm,
                    size_t comm_size)
{
        return read_pid_stat(sr, pid, ret, comm, comm_size, NULL, NULL);
}

int process_id_self(const struct sysroot *sr, struct process_id *ret, char *comm, size_t comm_size)
{
        return read_stat(sr, "proc/self/stat", ret, comm, comm_size, NULL, NULL);
}

bool process_id_alive(const struct sysroot *sr, const struct process_id *id)
{
        struct process_id now;
        char state;

        if (!id || read_pid_stat(sr, id->pid, &now, NULL, 0, &state, NULL) < 0)
                return false;
        return now.start_time == id->start_time && state != 'Z' && state != 'X';
}

int process_group_running(const struct sysroot *sr, pid_t pgid)
{
        struct dirent *de;
        DIR *d = NULL;
        int r, found = 0;

        if (pgid <= 0)
                return -EINVAL;
        r = sysroot_opendir(sr, "proc", &d);
        if (r < 0)
                return r;
        while (!found && (errno = 0, de = readdir(d))) {
                char *end, state;
                long pid = strtol(de->d_name, &end, 10);
                pid_t pgrp = 0;

                if (pid <= 0 || pid > INT_MAX || *end)
                        continue;
                /* One that ended between the listing and the read is not running. */
                if (read_pid_stat(sr, (pid_t)pid, NULL, NULL, 0, &state, &pgrp) < 0)
                        continue;
                found = pgrp == pgid && state != 'Z' && state != 'X';
        }
        r = !found && errno ? -errno : found;
        closedir(d);
        return r;
}

/* Characters systemd allows in unit names; a delegated subtree may hold any directory name,
 * and such a directory is not a unit. */
static bool unit_name_valid(const char *s, size_t n)
{
        static const char suffixes[][9] = { ".service", ".scope" };
        bool suffix = false;

        for (size_t i = 0; i < n; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
                      (c && strchr(":-_.\\@", c))))
                        return false;
        }
        for (size_t i = 0; i < ELEMENTSOF(suffixes); i++) {
                size_t k = strlen(suffixes[i]);
                if (n > k && memcmp(s + n - k, suffixes[i], k) == 0)
                        suffix = true;
        }
        return suffix;
}

static int path_unit(const char *path, size_t len, char **ret)
{
        static const char deleted[] = " (deleted)";
        const char *unit = NULL;
        size_t unit_len = 0;
        char *s;

        if (len >= sizeof(deleted) - 1 && memcmp(path + len - (sizeof(deleted) - 1), deleted,
                                                 sizeof(deleted) - 1) == 0)
                len -= sizeof(deleted) - 1;
        for (size_t i = 0; i < len;) {
                size_t j = i;
                while (j < len && path[j] != '/')
                        j++;
                if (j > i && unit_name_valid(path + i, j - i)) {
                        unit = path + i;
                        unit_len = j - i;
                }
                i = j + 1;
        }
        if (!unit)
                return -ENODATA;
        s = strndup(unit, unit_len);
        if (!s)
                return -ENOMEM;
        *ret = s;
        return 0;
}

int cgroup_path_unit(const char *path, char **ret)
{
        if (path[0] != '/')
                return -EINVAL;
        return path_unit(path, strlen(path), ret);
}

static bool list_has(const char *list, size_t n, const char *word)
{
        size_t k = strlen(word);

        for (size_t i = 0; i <= n;) {
                size_t j = i;
                while (j < n && list[j] != ',')
                        j++;
                if (j - i == k && memcmp(list + i, word, k) == 0)
                        return true;
                i = j + 1;
        }
        return false;
}

int cgroup_file_unit(const char *text, char **ret)
{
        const char *v2 = NULL, *v1 = NULL;
        size_t v2_len = 0, v1_len = 0;
        int r;

        for (const char *line = text; *line;) {
                const char *end = strchrnul(line, '\n');
                const char *c1 = memchr(line, ':', (size_t)(end - line));
                const char *c2 = c1 ? memchr(c1 + 1, ':', (size_t)(end - c1 - 1)) : NULL;

                /* the kernel shows absolute paths; any other line is not one of its */
                if (c2 && c2[1] == '/') {
                        const char *path = c2 + 1;
                        size_t path_len = (size_t)(end - path);
                        if (c1 - line == 1 && line[0] == '0' && c2 == c1 + 1) {
                                v2 = path;
                                v2_len = path_len;
                        } else if (list_has(c1 + 1, (size_t)(c2 - c1 - 1), "name=systemd")) {
                                v1 = path;
                                v1_len = path_len;
                        }
                }
                line = *end ? end + 1 : end;
        }
        if (!v2 && !v1)
                return -ENOENT;
        if (v2) {
                r = path_unit(v2, v2_len, ret);
                if (r != -ENODATA || !v1)
                        return r;
        }
        return path_unit(v1, v1_len, ret);
}

int process_unit(const struct sysroot *sr, pid_t pid, char **ret)
{
        _cleanup_free_ char *text = NULL;
        char path[sizeof("proc//cgroup") + 12];
        int r;

        if (pid <= 0)
                return -EINVAL;
        snprintf(path, sizeof(path), "proc/%d/cgroup", (int)pid);
        r = sysroot_read_file(sr, path, CGROUP_MAX, &text, NULL);
        if (r == -ENOENT) {
                /* gone, or a procfs (fake tree) without cgroup files */
                snprintf(path, sizeof(path), "proc/%d", (int)pid);
                return sysroot_exists(sr, path) ? -ENOENT : -ESRCH;
        }
        if (r < 0)
                return r;
        return cgroup_file_unit(text, ret);
}

int boot_id_read(const struct sysroot *sr, char buf[static 40])
{
        ssize_t r = sysroot_read_attr(sr, "proc/sys/kernel/random/boot_id", buf, 40);

        return r < 0 ? (int)r : 0;
}
