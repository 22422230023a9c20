/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <fcntl.h>
#include <libkmod.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "basic/macro.h"
#include "handoff/kernel.h"

#define DEFAULT_WRITE_TIMEOUT_USEC (10 * 1000 * 1000ULL)

static int write_fd(int fd, const char *value)
{
        size_t len = strlen(value);
        ssize_t n;

        do
                n = write(fd, value, len);
        while (n < 0 && errno == EINTR);
        if (n < 0)
                return negative_errno();
        return (size_t)n == len ? 0 : -EIO;
}

/* Runs fn(arg) in a child so that a call the kernel never finishes cannot hang us: the child's
 * exit status carries the errno; after the deadline the child is left where it is (blocked in
 * the kernel, unkillable, still holding the lock) and the caller hears -ETIMEDOUT. */
static int run_under_deadline(const struct kernel *k, int (*fn)(const void *arg), const void *arg)
{
        uint64_t timeout = k && k->write_timeout_usec ? k->write_timeout_usec : DEFAULT_WRITE_TIMEOUT_USEC;
        _cleanup_close_ int pidfd = -1;
        struct pollfd p;
        siginfo_t info = {0};
        pid_t pid, parent;
        int r;

        parent = getpid();
        pid = fork();
        if (pid < 0)
                return negative_errno();
        if (pid == 0) {
                /* The child keeps the transition's lock: until its write returns, the transition is
                 * not over, and recover must not start. If we die before it writes, it dies too, so
                 * no write lands after a recovery; one already in the kernel completes first. */
                if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                        _exit(ECANCELED);
                r = fn(arg);
                _exit(r < 0 ? (-r & 0xff) : 0);
        }
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
        if (pidfd >= 0) {
                p = (struct pollfd){.fd = pidfd, .events = POLLIN};
                do
                        r = poll(&p, 1, (int)(timeout / 1000));
                while (r < 0 && errno == EINTR);
                if (r == 0)
                        return -ETIMEDOUT;
        }
        /* Without pidfd (Linux < 5.3) the call is waited for without a deadline. */
        if (waitid(P_PID, (id_t)pid, &info, WEXITED) < 0)
                return negative_errno();
        if (info.si_code != CLD_EXITED)
                return -EINTR;
        return info.si_status ? -info.si_status : 0;
}

struct attr_write {
        const struct sysroot *sr;
        const char *path;
        const char *value;
};

/* In the child, under the deadline: opening can block too (a FIFO planted in a fake tree, an
 * attribute whose open waits on the device). O_NONBLOCK keeps a FIFO from blocking the open;
 * only a regular file is written: that is what every sysfs and procfs attribute is. */
static int do_attr_write(const void *arg)
{
        const struct attr_write *w = arg;
        _cleanup_close_ int fd = sysroot_openat(w->sr, w->path, O_WRONLY | O_NOCTTY | O_NONBLOCK);
        struct stat st;

        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return -EINVAL;
        return write_fd(fd, w->value);
}

static int real_write_attr(void *userdata, const struct sysroot *sr, const char *path, const char *value)
{
        return run_under_deadline(userdata, do_attr_write, &(struct attr_write){sr, path, value});
}

static int do_sync(const void *arg)
{
        const int *fd = arg;

        if (*fd < 0) {
                sync();
                return 0;
        }
        return syncfs(*fd) < 0 ? negative_errno() : 0;
}

/* The whole system for the real root; under a fake root only the file system it lives on. A
 * stuck NFS mount must not hang the hand-over: the same deadline as a write. */
static int real_sync(void *userdata, const struct sysroot *sr)
{
        _cleanup_close_ int fd = -1;

        if (strcmp(sr->path, "/") != 0) {
                fd = sysroot_openat(sr, ".", O_RDONLY | O_DIRECTORY);
                if (fd < 0)
                        return fd;
        }
        return run_under_deadline(userdata, do_sync, &fd);
}

/* Library code never prints: libkmod's default logger writes to stderr. */
static void kmod_log_nothing(void *data, int priority, const char *file, int line, const char *fn,
                             const char *format, va_list args)
{
}

static struct kmod_ctx *kmod_for(const struct sysroot *sr)
{
        struct kmod_ctx *ctx;

        /* Modules are only ever loaded into the running kernel, whatever --root says. */
        if (strcmp(sr->path, "/") != 0)
                return NULL;
        ctx = kmod_new(NULL, NULL);
        if (ctx)
                kmod_set_log_fn(ctx, kmod_log_nothing, NULL);
        return ctx;
}

static int real_load_module(void *userdata, const struct sysroot *sr, const char *name)
{
        bool alias = strncmp(name, "pci:", 4) == 0;
        struct kmod_ctx *ctx = kmod_for(sr);
        struct kmod_list *list = NULL, *it;
        int r;

        if (!ctx)
                return -EOPNOTSUPP;
        r = kmod_module_new_from_lookup(ctx, name, &list);
        if (r >= 0 && !list)
                r = -ENOENT;
        kmod_list_foreach(it, list) {
                struct kmod_module *m = kmod_module_get_module(it);
                /* A device's modalias is loaded the way udev does it, honouring the blacklist; a
                 * module named outright is loaded as modprobe NAME does, regardless of it. */
                r = kmod_module_probe_insert_module(m, alias ? KMOD_PROBE_APPLY_BLACKLIST_ALIAS_ONLY : 0, NULL, NULL,
                                                    NULL, NULL);
                kmod_module_unref(m);
                if (r == -EEXIST)
                        r = 0;
                else if (r > 0) {
                        r = -EPERM; /* blacklisted */
                        break;
                }
                if (r < 0)
                        break;
        }
        kmod_module_unref_list(list);
        kmod_unref(ctx);
        return r;
}

static int real_unload_module(void *userdata, const struct sysroot *sr, const char *name)
{
        struct kmod_ctx *ctx = kmod_for(sr);
        struct kmod_module *m = NULL;
        int r;

        if (!ctx)
                return -EOPNOTSUPP;
        r = kmod_module_new_from_name(ctx, name, &m);
        if (r >= 0) {
                r = kmod_module_remove_module(m, 0); /* never KMOD_REMOVE_FORCE */
                kmod_module_unref(m);
        }
        kmod_unref(ctx);
        return r == -EAGAIN || r == -EWOULDBLOCK ? -EBUSY : r;
}

/* A pidfd pins the process: once its start time is checked through the pid, the signal cannot
 * reach a newer process that got the same pid. Only the running system's processes are ever
 * signalled: under a fake root the pids are fiction. */
static int real_signal_process(void *userdata, const struct sysroot *sr, const struct process_id *id, int sig)
{
        _cleanup_close_ int pidfd = -1;

        if (strcmp(sr->path, "/") != 0)
                return -EOPNOTSUPP;
        pidfd = (int)syscall(SYS_pidfd_open, id->pid, 0);
        if (pidfd < 0)
                return negative_errno();
        if (!process_id_alive(sr, id))
                return -ESRCH;
        if (syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
                return negative_errno();
        return 0;
}

const struct kernel_ops kernel_ops_real = {
        .write_attr = real_write_attr,
        .load_module = real_load_module,
        .unload_module = real_unload_module,
        .signal_process = real_signal_process,
        .sync = real_sync,
};

int kernel_write(const struct kernel *k, const char *path, const char *value)
{
        return k->ops->write_attr(k->userdata, k->sr, path, value);
}

int kernel_load_module(const struct kernel *k, const char *name)
{
        return k->ops->load_module(k->userdata, k->sr, name);
}

int kernel_unload_module(const struct kernel *k, const char *name)
{
        return k->ops->unload_module(k->userdata, k->sr, name);
}

int kernel_signal_process(const struct kernel *k, const struct process_id *id, int sig)
{
        return k->ops->signal_process ? k->ops->signal_process(k->userdata, k->sr, id, sig) : -EOPNOTSUPP;
}

int kernel_sync(const struct kernel *k)
{
        return k->ops->sync ? k->ops->sync(k->userdata, k->sr) : -EOPNOTSUPP;
}
