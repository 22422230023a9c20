/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"
#include "handoff/lock.h"
#include "host/holders.h"

struct handoff_lock {
        int fd;
};

/* Opens name below dirfd as a directory without following a symlink; creates it first. */
static int open_dir_nofollow(int dirfd, const char *name, mode_t mode)
{
        struct stat st;
        int fd;

        if (mkdirat(dirfd, name, mode) < 0 && errno != EEXIST)
                return negative_errno();
        fd = openat(dirfd, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd >= 0)
                return fd;
        if (errno != ELOOP && errno != ENOTDIR)
                return negative_errno();
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return negative_errno();
        return S_ISLNK(st.st_mode) ? -ELOOP : -ENOTDIR;
}

int handoff_run_dir_open(const struct sysroot *sr)
{
        _cleanup_close_ int run_fd = -1, fd = -1;
        struct stat st;

        /* /run always exists on a real host; a fake tree may lack it */
        if (mkdirat(sr->fd, "run", 0755) < 0 && errno != EEXIST)
                return negative_errno();
        run_fd = sysroot_openat(sr, "run", O_PATH | O_DIRECTORY);
        if (run_fd < 0)
                return run_fd;
        fd = open_dir_nofollow(run_fd, "gpu-handoff", 0700);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (st.st_uid != geteuid() || (st.st_mode & (S_IWGRP | S_IWOTH)))
                return -EPERM;
        return TAKE_FD(fd);
}

/* WHAT as the file records it, in HANDOFF_LOCK_WHAT_MAX bytes with the NUL: a control
 * character (which would end the line or mislead a terminal) becomes '?', and a longer one (the
 * hook's "hook prepare VM" for a VM name of up to 250 bytes) is cut at a character boundary and
 * ends in "...". It only names the holder for a message. */
static void what_record(const char *what, char buf[static HANDOFF_LOCK_WHAT_MAX])
{
        size_t n = strlen(what);

        if (n >= HANDOFF_LOCK_WHAT_MAX) {
                n = HANDOFF_LOCK_WHAT_MAX - 4;
                while (n > 0 && ((unsigned char)what[n] & 0xc0) == 0x80) /* not inside a UTF-8 sequence */
                        n--;
                snprintf(buf, HANDOFF_LOCK_WHAT_MAX, "%.*s...", (int)n, what);
        } else
                memcpy(buf, what, n + 1);
        for (char *p = buf; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        *p = '?';
}

static int try_flock(void *userdata)
{
        int *fd = userdata;

        if (flock(*fd, LOCK_EX | LOCK_NB) == 0)
                return 1;
        if (errno == EWOULDBLOCK || errno == EINTR)
                return 0;
        return negative_errno();
}

static int write_identity(int fd, const struct process_id *id, const char *what)
{
        char buf[64 + HANDOFF_LOCK_WHAT_MAX];
        int n = snprintf(buf, sizeof(buf), "%d %" PRIu64 " %s\n", (int)id->pid, id->start_time, what);
        ssize_t k;

        if (n < 0 || (size_t)n >= sizeof(buf))
                return -EINVAL;
        if (ftruncate(fd, 0) < 0)
                return negative_errno();
        k = pwrite(fd, buf, (size_t)n, 0);
        if (k < 0)
                return negative_errno();
        return k == n ? 0 : -EIO;
}

/* Parses "PID START_TIME WHAT\n"; -EINVAL for anything else. */
static int parse_identity(const char *s, struct process_id *ret, char *what, size_t what_size)
{
        uint64_t pid = 0, start = 0;
        const char *p = s, *end;

        if (*p < '0' || *p > '9')
                return -EINVAL;
        for (; *p >= '0' && *p <= '9'; p++)
                if ((pid = pid * 10 + (uint64_t)(*p - '0')) > INT_MAX)
                        return -EINVAL;
        if (pid == 0 || *p != ' ' || p[1] < '0' || p[1] > '9')
                return -EINVAL;
        for (p++; *p >= '0' && *p <= '9'; p++) {
                uint64_t digit = (uint64_t)(*p - '0');
                if (start > (UINT64_MAX - digit) / 10)
                        return -EINVAL;
                start = start * 10 + digit;
        }
        if (*p != ' ')
                return -EINVAL;
        p++;
        end = strchrnul(p, '\n');
        if (end == p || *end != '\n' || end[1] != '\0')
                return -EINVAL;
        if (what && what_size > 0)
                snprintf(what, what_size, "%.*s", (int)(end - p), p);
        *ret = (struct process_id){ .pid = (pid_t)pid, .start_time = start };
        return 0;
}

/* Who holds the lock, from the file; unknown (pid 0, "") unless it names a live process. */
static void read_holder(const struct sysroot *sr, int fd, struct process_id *ret_holder, char *holder_what,
                        size_t holder_what_size)
{
        char buf[128 + HANDOFF_LOCK_WHAT_MAX], what[HANDOFF_LOCK_WHAT_MAX];
        struct process_id id = {};
        ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

        what[0] = '\0';
        if (n > 0) {
                buf[n] = '\0';
                if (parse_identity(buf, &id, what, sizeof(what)) < 0 || !process_id_alive(sr, &id)) {
                        id = (struct process_id){};
                        what[0] = '\0';
                }
        }
        if (ret_holder)
                *ret_holder = id;
        if (holder_what && holder_what_size > 0)
                snprintf(holder_what, holder_what_size, "%s", what);
}

int handoff_lock_take(const struct sysroot *sr, const struct clock_ops *clk, uint64_t timeout_usec,
                      const char *what, struct handoff_lock **ret, struct process_id *ret_holder,
                      char *holder_what, size_t holder_what_size)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        char comm[PROC_COMM_MAX], recorded[HANDOFF_LOCK_WHAT_MAX];
        struct process_id self;
        struct handoff_lock *l;
        struct stat st;
        int r;

        if (what && !what[0])
                return -EINVAL;
        /* who we are first: failing after taking the lock would leave the file empty */
        r = process_id_self(sr, &self, comm, sizeof(comm));
        if (r < 0)
                return r;
        what_record(what ? what : comm[0] ? comm : "?", recorded);

        dir_fd = handoff_run_dir_open(sr);
        if (dir_fd < 0)
                return dir_fd;
        /* O_NONBLOCK: a FIFO planted there must not block the open */
        fd = openat(dir_fd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
        if (fd < 0)
                return negative_errno();
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EPERM;

        r = wait_until(clk, timeout_usec, try_flock, &fd);
        if (r == -ETIMEDOUT) {
                read_holder(sr, fd, ret_holder, holder_what, holder_what_size);
                return -EBUSY;
        }
        if (r < 0)
                return r;

        r = write_identity(fd, &self, recorded);
        if (r < 0)
                return r; /* closing the fd drops the lock */
        l = malloc(sizeof(*l));
        if (!l)
                return -ENOMEM;
        l->fd = TAKE_FD(fd);
        *ret = l;
        return 0;
}

/* The first process other than this one with the lock file open; 0 when none is seen. */
static pid_t find_opener(const struct sysroot *sr, char *comm, size_t comm_size)
{
        char *nodes[] = {(char *)HANDOFF_LOCK_PATH};
        struct holder *h = NULL;
        size_t n = 0;
        pid_t pid = 0;
        struct process_id self;

        if (process_id_self(sr, &self, NULL, 0) < 0 || holders_scan(sr, nodes, 1, &h, &n, NULL) < 0)
                return 0;
        for (size_t i = 0; i < n && !pid; i++)
                if (h[i].id.pid != self.pid) {
                        pid = h[i].id.pid;
                        snprintf(comm, comm_size, "%s", h[i].comm);
                }
        holders_free(h, n);
        return pid;
}

int handoff_lock_take_or_explain(const struct sysroot *sr, const struct clock_ops *clk, uint64_t timeout_usec,
                                 const char *what, struct handoff_lock **ret, struct handoff_lock_busy *ret_busy)
{
        struct handoff_lock_busy busy = {};
        int r;

        r = handoff_lock_take(sr, clk, 0, what, ret, &busy.holder, busy.what, sizeof(busy.what));
        if (r == -EBUSY && busy.holder.pid == 0) {
                busy.opener = find_opener(sr, busy.opener_comm, sizeof(busy.opener_comm));
                /* A transition writes its identity right after it took the lock: look again, so
                 * that one caught in between is waited for like any other. */
                r = handoff_lock_take(sr, clk, 0, what, ret, &busy.holder, busy.what, sizeof(busy.what));
                if (busy.holder.pid != 0)
                        busy.opener = 0;
        }
        if (r == -EBUSY && busy.opener == 0)
                r = handoff_lock_take(sr, clk, timeout_usec, what, ret, &busy.holder, busy.what, sizeof(busy.what));
        busy.opener_is_gpu_handoff = busy.opener && strncmp(busy.opener_comm, "gpu-handoff", 11) == 0;
        if (r == -EBUSY && ret_busy)
                *ret_busy = busy;
        return r;
}

void handoff_lock_release(struct handoff_lock *l)
{
        if (!l)
                return;
        /* best effort: a stale identity would only be ignored (process_id_alive) anyway */
        (void)!ftruncate(l->fd, 0);
        close(l->fd);
        free(l);
}
