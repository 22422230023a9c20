/* SPDX-License-Identifier: GPL-2.0-or-later */
/* One transition at a time, with who is in the way when the lock cannot be had (lock.h). */
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
#include "change/dir.h"
#include "change/lock.h"
#include "host/holders.h"

struct change_lock {
        int fd;
};

/* WHAT as the file records it, in CHANGE_LOCK_WHAT_MAX bytes with the NUL: a control
 * character (which would end the line or mislead a terminal) becomes '?', and a longer one (the
 * hook's "hook prepare VM" for a VM name of up to 250 bytes) is cut at a character boundary and
 * ends in "...". It only names the holder for a message. */
static void what_record(const char *what, char buf[static CHANGE_LOCK_WHAT_MAX])
{
        size_t n = strlen(what);

        if (n >= CHANGE_LOCK_WHAT_MAX) {
                n = CHANGE_LOCK_WHAT_MAX - 4;
                while (n > 0 && ((unsigned char)what[n] & 0xc0) == 0x80) /* not inside a UTF-8 sequence */
                        n--;
                snprintf(buf, CHANGE_LOCK_WHAT_MAX, "%.*s...", (int)n, what);
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
        char buf[64 + CHANGE_LOCK_WHAT_MAX];
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
        char buf[128 + CHANGE_LOCK_WHAT_MAX], what[CHANGE_LOCK_WHAT_MAX];
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

int change_lock_take(const struct sysroot *sr, const char *dir, const struct clock_ops *clk, uint64_t timeout_usec,
                     const char *what, struct change_lock **ret, struct process_id *ret_holder, char *holder_what,
                     size_t holder_what_size)
{
        _cleanup_close_ int dir_fd = -1, fd = -1;
        char comm[PROC_COMM_MAX], recorded[CHANGE_LOCK_WHAT_MAX];
        struct process_id self;
        struct change_lock *l;
        struct stat st;
        int r;

        if (what && !what[0])
                return -EINVAL;
        /* who we are first: failing after taking the lock would leave the file empty */
        r = process_id_self(sr, &self, comm, sizeof(comm));
        if (r < 0)
                return r;
        what_record(what ? what : comm[0] ? comm : "?", recorded);

        dir_fd = change_dir_open(sr, dir, true, NULL);
        if (dir_fd < 0)
                return dir_fd;
        /* O_NONBLOCK: a FIFO planted there must not block the open */
        fd = openat(dir_fd, CHANGE_LOCK_FILE, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC | O_NOCTTY, 0600);
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
static pid_t find_opener(const struct sysroot *sr, const char *dir, char *comm, size_t comm_size)
{
        _cleanup_free_ char *path = NULL;
        char *nodes[1];
        struct holder *h = NULL;
        size_t n = 0;
        pid_t pid = 0;
        struct process_id self;

        if (asprintf(&path, "%s/" CHANGE_LOCK_FILE, dir) < 0)
                return 0;
        nodes[0] = path;
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

int change_lock_take_or_explain(const struct sysroot *sr, const char *dir, const struct clock_ops *clk,
                                uint64_t timeout_usec, const char *what, struct change_lock **ret,
                                struct change_lock_busy *ret_busy)
{
        struct change_lock_busy busy = {};
        int r;

        r = change_lock_take(sr, dir, clk, 0, what, ret, &busy.holder, busy.what, sizeof(busy.what));
        if (r == -EBUSY && busy.holder.pid == 0) {
                busy.opener = find_opener(sr, dir, busy.opener_comm, sizeof(busy.opener_comm));
                /* A transition writes its identity right after it took the lock: look again, so
                 * that one caught in between is waited for like any other. */
                r = change_lock_take(sr, dir, clk, 0, what, ret, &busy.holder, busy.what, sizeof(busy.what));
                if (busy.holder.pid != 0)
                        busy.opener = 0;
        }
        if (r == -EBUSY && busy.opener == 0)
                r = change_lock_take(sr, dir, clk, timeout_usec, what, ret, &busy.holder, busy.what, sizeof(busy.what));
        busy.opener_is_gpu_handoff = busy.opener && strncmp(busy.opener_comm, "gpu-handoff", 11) == 0;
        if (r == -EBUSY && ret_busy)
                *ret_busy = busy;
        return r;
}

void change_lock_release(struct change_lock *l)
{
        if (!l)
                return;
        /* best effort: a stale identity would only be ignored (process_id_alive) anyway */
        (void)!ftruncate(l->fd, 0);
        close(l->fd);
        free(l);
}
