/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/sysroot.h"
#include "room.h"

#define HUGEPAGES_GLOBAL "sys/kernel/mm/hugepages/"
#define NODES "sys/devices/system/node/"
#define CGROUPS "sys/fs/cgroup/"
#define CPU_BITS 1024

static int put(int rootfd, const char *path, const char *text)
{
        _cleanup_close_ int fd = openat(rootfd, path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0644);
        size_t len = strlen(text);

        if (fd < 0)
                return negative_errno();
        return write(fd, text, len) == (ssize_t)len ? 0 : -EIO;
}

static long get_long(int rootfd, const char *path)
{
        char buf[32];

        return read_attr_at(rootfd, path, buf, sizeof(buf)) < 0 ? 0 : strtol(buf, NULL, 10);
}

static int put_long(int rootfd, const char *path, long v)
{
        char buf[32];

        snprintf(buf, sizeof(buf), "%ld\n", v);
        return put(rootfd, path, buf);
}

void room_model_done(struct room_model *rm)
{
        free(rm->pools);
        free(rm->stopped);
        *rm = (struct room_model){0};
}

int room_set_limit(struct room_model *rm, unsigned long size_kb, long limit, long after_compact)
{
        struct room_pool *v;

        for (size_t i = 0; i < rm->n_pools; i++)
                if (rm->pools[i].size_kb == size_kb) {
                        rm->pools[i].limit = limit;
                        rm->pools[i].after_compact = after_compact;
                        return 0;
                }
        v = realloc(rm->pools, (rm->n_pools + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        rm->pools = v;
        v[rm->n_pools++] = (struct room_pool){size_kb, limit, after_compact};
        return 0;
}

static long pool_limit(const struct room_model *rm, unsigned long size_kb)
{
        for (size_t i = 0; i < rm->n_pools; i++)
                if (rm->pools[i].size_kb == size_kb)
                        return rm->compacted ? rm->pools[i].after_compact : rm->pools[i].limit;
        return -1;
}

/* Sum of the nodes' pools of this size, or -1 when the tree has no nodes with it. */
static long nodes_total(int rootfd, const char *size_dir)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        long total = -1;
        int fd = openat(rootfd, NODES, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0 || dir_from_fd(fd, &d) < 0)
                return -1;
        while ((de = readdir(d))) {
                char path[PATH_MAX];

                if (strncmp(de->d_name, "node", 4) != 0)
                        continue;
                snprintf(path, sizeof(path), NODES "%s/hugepages/%s/nr_hugepages", de->d_name, size_dir);
                if (faccessat(rootfd, path, F_OK, 0) == 0)
                        total = (total < 0 ? 0 : total) + get_long(rootfd, path);
        }
        return total;
}

static int set_pool(int rootfd, const char *dir, long n)
{
        char path[PATH_MAX];
        int r;

        snprintf(path, sizeof(path), "%s/nr_hugepages", dir);
        r = put_long(rootfd, path, n);
        snprintf(path, sizeof(path), "%s/free_hugepages", dir);
        return r < 0 ? r : put_long(rootfd, path, n);
}

/* path: ".../hugepages/hugepages-SIZEkB/nr_hugepages", global or of a node. */
static int hugepages_write(struct room_model *rm, int rootfd, const char *path, const char *value)
{
        _cleanup_free_ char *dir = strndup(path, (size_t)(strrchr(path, '/') - path));
        bool global = strncmp(path, HUGEPAGES_GLOBAL, strlen(HUGEPAGES_GLOBAL)) == 0;
        char global_dir[PATH_MAX], node0[PATH_MAX];
        const char *size_dir;
        unsigned long size_kb;
        long want, now, total, limit, nodes;
        char *end;
        int r;

        if (!dir)
                return -ENOMEM;
        size_dir = strrchr(dir, '/') + 1;
        errno = 0;
        want = strtol(value, &end, 10);
        if (errno || end == value || (*end && strcmp(end, "\n") != 0) || want < 0 ||
            sscanf(size_dir, "hugepages-%lukB", &size_kb) != 1)
                return -EINVAL;
        snprintf(global_dir, sizeof(global_dir), HUGEPAGES_GLOBAL "%s", size_dir);
        snprintf(node0, sizeof(node0), NODES "node0/hugepages/%s", size_dir);
        nodes = nodes_total(rootfd, size_dir);
        now = get_long(rootfd, path);
        total = nodes >= 0 ? nodes : now;
        limit = pool_limit(rm, size_kb);
        if (want > now && limit >= 0 && total + (want - now) > limit)
                want = now + (limit > total ? limit - total : 0); /* short of memory: fewer, and no error */
        if (global && nodes >= 0) {
                /* the kernel spreads a global change over the nodes; one node is enough here */
                char nr[PATH_MAX + 16];
                snprintf(nr, sizeof(nr), "%s/nr_hugepages", node0);
                r = set_pool(rootfd, node0, get_long(rootfd, nr) + (want - now));
        } else
                r = set_pool(rootfd, dir, want);
        if (r < 0 || nodes < 0)
                return r;
        return set_pool(rootfd, global_dir, nodes_total(rootfd, size_dir));
}

static int cpus_online(int rootfd, uint64_t *mask)
{
        char buf[256];

        if (read_attr_at(rootfd, "sys/devices/system/cpu/online", buf, sizeof(buf)) < 0)
                return -ENOENT;
        return cpulist_parse(buf, mask, CPU_BITS);
}

static bool has_word(int rootfd, const char *path, const char *word)
{
        _cleanup_free_ char *text = NULL;
        size_t len;

        return read_file_at(rootfd, path, 4096, &text, &len) >= 0 && word_in_list(strip_trailing(text), word);
}

/* Each child cgroup of dir (relative to the root) gets, or loses, the cpuset files. */
static int children_cpuset(int rootfd, const char *dir, bool enable)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        char effective[256] = "";
        int fd = openat(rootfd, dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

        if (fd < 0)
                return negative_errno();
        if (dir_from_fd(fd, &d) < 0)
                return -ENOMEM;
        if (read_attr_at(rootfd, "sys/devices/system/cpu/online", effective, sizeof(effective) - 1) >= 0)
                strcat(effective, "\n");
        while ((de = readdir(d))) {
                char path[PATH_MAX], sub[PATH_MAX + 64];
                struct stat st;

                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                if (de->d_name[0] == '.' || fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                snprintf(sub, sizeof(sub), "%s/cgroup.subtree_control", path);
                if (!enable && has_word(rootfd, sub, "cpuset"))
                        return -EBUSY;
        }
        rewinddir(d);
        while ((de = readdir(d))) {
                char path[PATH_MAX], file[PATH_MAX + 64];
                struct stat st;
                int r;

                snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
                if (de->d_name[0] == '.' || fstatat(rootfd, path, &st, AT_SYMLINK_NOFOLLOW) < 0 || !S_ISDIR(st.st_mode))
                        continue;
                snprintf(file, sizeof(file), "%s/cpuset.cpus", path);
                r = enable ? put(rootfd, file, "\n") : (unlinkat(rootfd, file, 0) < 0 ? negative_errno() : 0);
                snprintf(file, sizeof(file), "%s/cpuset.cpus.effective", path);
                if (r >= 0)
                        r = enable ? put(rootfd, file, effective)
                                   : (unlinkat(rootfd, file, 0) < 0 ? negative_errno() : 0);
                if (r < 0)
                        return r;
        }
        return 0;
}

/* "+cpuset" / "-cpuset" (other controllers are stored as they come). */
static int subtree_control_write(int rootfd, const char *path, const char *value)
{
        _cleanup_free_ char *dir = strndup(path, (size_t)(strrchr(path, '/') - path)), *old = NULL;
        char controllers[PATH_MAX + 32], out[4096] = "";
        bool enable;
        size_t len;
        int r;

        if (!dir)
                return -ENOMEM;
        if (strcmp(value, "+cpuset") != 0 && strcmp(value, "-cpuset") != 0)
                return -EINVAL; /* the only change the steps make */
        enable = value[0] == '+';
        snprintf(controllers, sizeof(controllers), "%s/cgroup.controllers", dir);
        if (!has_word(rootfd, controllers, "cpuset"))
                return -ENOENT;
        if (read_file_at(rootfd, path, 4096, &old, &len) < 0)
                return -ENOENT;
        if (word_in_list(strip_trailing(old), "cpuset") == enable)
                return 0;
        r = children_cpuset(rootfd, dir, enable);
        if (r < 0)
                return r;
        /* cpuset first, as the kernel lists controllers in its own order */
        if (enable)
                snprintf(out, sizeof(out), "cpuset%s%s\n", *old ? " " : "", old);
        else {
                for (char *w = strtok(old, " "); w; w = strtok(NULL, " "))
                        if (strcmp(w, "cpuset") != 0)
                                snprintf(out + strlen(out), sizeof(out) - strlen(out), "%s%s", *out ? " " : "", w);
                strcat(out, "\n");
        }
        return put(rootfd, path, out);
}

static int cpuset_cpus_write(int rootfd, const char *path, const char *value)
{
        uint64_t online[CPU_BITS / 64] = {0}, want[CPU_BITS / 64] = {0};
        _cleanup_free_ char *text = NULL, *canon = NULL, *clean = strdup(value);

        if (!clean)
                return -ENOMEM;
        if (faccessat(rootfd, path, F_OK, AT_SYMLINK_NOFOLLOW) < 0)
                return -ENOENT; /* no cpuset controller for this cgroup */
        strip_trailing(clean);
        if (cpus_online(rootfd, online) < 0 || (*clean && cpulist_parse(clean, want, CPU_BITS) < 0))
                return -EINVAL;
        for (size_t i = 0; i < ELEMENTSOF(want); i++)
                if (want[i] & ~online[i])
                        return -EINVAL;
        canon = cpulist_format(want, CPU_BITS);
        if (!canon || asprintf(&text, "%s\n", canon) < 0)
                return -ENOMEM;
        return put(rootfd, path, text);
}

static bool ends_with(const char *s, const char *suffix)
{
        size_t n = strlen(s), m = strlen(suffix);
        return n >= m && strcmp(s + n - m, suffix) == 0;
}

int room_write(struct room_model *rm, int rootfd, const char *path, const char *value, int *ret)
{
        bool in_nodes = strncmp(path, NODES, strlen(NODES)) == 0;

        if ((strncmp(path, HUGEPAGES_GLOBAL, strlen(HUGEPAGES_GLOBAL)) == 0 || in_nodes) &&
            ends_with(path, "/nr_hugepages")) {
                *ret = hugepages_write(rm, rootfd, path, value);
                return 1;
        }
        if (strcmp(path, "proc/sys/vm/drop_caches") == 0) { /* write-only: nothing to see */
                *ret = faccessat(rootfd, path, F_OK, 0) < 0 ? -ENOENT : 0;
                return 1;
        }
        if (strcmp(path, "proc/sys/vm/compact_memory") == 0) {
                *ret = faccessat(rootfd, path, F_OK, 0) < 0 ? -ENOENT : 0;
                rm->compacted |= *ret == 0;
                return 1;
        }
        if (strncmp(path, CGROUPS, strlen(CGROUPS)) == 0 && ends_with(path, "/cgroup.subtree_control")) {
                *ret = subtree_control_write(rootfd, path, value);
                return 1;
        }
        if (strncmp(path, CGROUPS, strlen(CGROUPS)) == 0 && ends_with(path, "/cpuset.cpus")) {
                *ret = cpuset_cpus_write(rootfd, path, value);
                return 1;
        }
        return 0;
}

/* The state letter of proc/PID/stat, rewritten in place. */
static int set_state(int rootfd, pid_t pid, char state, char *old)
{
        _cleanup_free_ char *text = NULL;
        char path[64], *paren;
        size_t len;
        int r;

        snprintf(path, sizeof(path), "proc/%d/stat", (int)pid);
        r = read_file_at(rootfd, path, 4096, &text, &len);
        if (r < 0)
                return r;
        paren = strrchr(text, ')');
        if (!paren || paren[1] != ' ' || !paren[2])
                return -EINVAL;
        *old = paren[2];
        paren[2] = state;
        return put(rootfd, path, text);
}

int room_signal(struct room_model *rm, int rootfd, pid_t pid, int sig, int *ret)
{
        char old;

        if (sig == SIGSTOP) {
                void *v = realloc(rm->stopped, (rm->n_stopped + 1) * sizeof(*rm->stopped));
                if (!v) {
                        *ret = -ENOMEM;
                        return 1;
                }
                rm->stopped = v;
                *ret = set_state(rootfd, pid, 'T', &old);
                if (*ret >= 0 && old != 'T') {
                        rm->stopped[rm->n_stopped].pid = pid;
                        rm->stopped[rm->n_stopped++].state = old;
                }
                return 1;
        }
        if (sig == SIGCONT) {
                *ret = 0;
                for (size_t i = 0; i < rm->n_stopped; i++)
                        if (rm->stopped[i].pid == pid) {
                                *ret = set_state(rootfd, pid, rm->stopped[i].state, &old);
                                rm->stopped[i] = rm->stopped[--rm->n_stopped];
                                break;
                        }
                return 1;
        }
        return 0;
}
