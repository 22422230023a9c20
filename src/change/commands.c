/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The real commands seam: fork, execve, a deadline, optionally inside a root (see commands.h). */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/proc.h"
#include "basic/sysroot.h"
#include "basic/quote.h"
#include "basic/time-util.h"
#include "basic/wait.h"
#include "change/commands.h"

/* The most of a last line a message quotes. */
#define LAST_LINE_MAX 200

/* The output's tail: the last COMMAND_OUTPUT_MAX bytes. */
struct tail {
        char *buf;
        size_t len;
};

/* Appends n bytes (n <= COMMAND_OUTPUT_MAX), dropping the oldest beyond the bound. */
static int tail_add(struct tail *t, const char *p, size_t n)
{
        size_t keep = t->len + n > COMMAND_OUTPUT_MAX ? COMMAND_OUTPUT_MAX - n : t->len;

        if (!t->buf && !(t->buf = malloc(COMMAND_OUTPUT_MAX + 1)))
                return -ENOMEM;
        memmove(t->buf, t->buf + t->len - keep, keep);
        memcpy(t->buf + keep, p, n);
        t->len = keep + n;
        t->buf[t->len] = '\0';
        return 0;
}

/* ": LAST LINE" of the output, quoted, or "" when it printed nothing. */
static void last_line(const struct tail *t, char buf[static QUOTE_BUF_SIZE(LAST_LINE_MAX) + 2])
{
        size_t end = t->len, start;

        buf[0] = '\0';
        while (end > 0 && (t->buf[end - 1] == '\n' || t->buf[end - 1] == '\r'))
                end--;
        if (end == 0)
                return;
        for (start = end; start > 0 && t->buf[start - 1] != '\n'; start--)
                ;
        buf[0] = ':';
        buf[1] = ' ';
        quote_n(t->buf + start, end - start, LAST_LINE_MAX, buf + 2);
}

/* Where argv[0] may be: itself when it holds a '/', else below each directory of COMMAND_PATH.
 * Made before fork: the child only calls execve. */
static int candidates(const char *name, char *ret[static 8], size_t *ret_n)
{
        static const char path[] = COMMAND_PATH;
        size_t n = 0;

        if (strchr(name, '/')) {
                if (!(ret[n++] = strdup(name)))
                        return -ENOMEM;
        } else
                for (const char *p = path; *p && n < 8;) {
                        size_t l = strcspn(p, ":");
                        if (asprintf(&ret[n], "%.*s/%s", (int)l, p, name) < 0)
                                return -ENOMEM;
                        n++;
                        p += l + (p[l] == ':');
                }
        *ret_n = n;
        return 0;
}

/* Entering a root, prepared before fork: the child only makes system calls (a parent with
 * threads may have left malloc's lock taken). The steps, in the order the child takes them, so
 * that the message names the one that failed. */
enum enter_step {
        ENTER_NONE, /* not entering a root; the error, if any, is the exec's */
        ENTER_UNSHARE,
        ENTER_PRIVATE,
        ENTER_ROOT,
        ENTER_PROC,
        ENTER_SYS,
        ENTER_DEV,
        ENTER_RUN,
        ENTER_UDEV,
        ENTER_UDEV_RO,
        ENTER_CHROOT,
        _ENTER_MAX,
};

/* What failed, for the message: "cannot run update-grub inside /mnt: binding /dev: ...". */
static const char *const enter_what[_ENTER_MAX] = {
        [ENTER_UNSHARE] = "entering a mount namespace of its own",
        [ENTER_PRIVATE] = "making the mounts private",
        [ENTER_ROOT] = "binding the root onto itself",
        [ENTER_PROC] = "binding /proc",
        [ENTER_SYS] = "binding /sys",
        [ENTER_DEV] = "binding /dev",
        [ENTER_RUN] = "mounting a tmpfs on /run",
        [ENTER_UDEV] = "binding /run/udev",
        [ENTER_UDEV_RO] = "making /run/udev read-only",
        [ENTER_CHROOT] = "changing the root",
};

struct enter {
        const char *root;                               /* borrowed */
        char *proc, *sys, *dev, *run, *udev;            /* "<root>/proc"... */
        bool with_udev;                                 /* the host has a udev database */
};

/* What the child sends back over errfd when it cannot exec: the step that failed and its errno. */
struct child_error {
        int step;
        int error;
};

_Noreturn static void child_fail(int errfd, int step, int e)
{
        struct child_error ce = {step, e};

        (void)!write(errfd, &ce, sizeof(ce));
        _exit(127);
}

/* In the child, when a root is given: see commands_in_root() in commands.h. The root is bound
 * recursively, so that a /boot or an ESP mounted below it (the live-USB rescue: /mnt/boot/efi)
 * is there too. /proc, /sys and /dev are the host's own, recursively (devpts, efivarfs, the
 * cgroup tree come along), as arch-chroot gives them. /run is a fresh tmpfs rather than the
 * host's, so that a generator's hook that calls systemctl finds no running manager and acts
 * offline instead of reloading the host's; the udev database in it is the host's, read-only,
 * since dracut's host-only mode asks udev which drivers the root file system needs. */
static void enter_root(const struct enter *in, int errfd)
{
        if (unshare(CLONE_NEWNS) < 0)
                child_fail(errfd, ENTER_UNSHARE, errno);
        /* Private first: with the host's shared propagation (systemd's default), every mount
         * below would appear on the host too. */
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0)
                child_fail(errfd, ENTER_PRIVATE, errno);
        if (mount(in->root, in->root, NULL, MS_BIND | MS_REC, NULL) < 0)
                child_fail(errfd, ENTER_ROOT, errno);
        if (mount("/proc", in->proc, NULL, MS_BIND | MS_REC, NULL) < 0)
                child_fail(errfd, ENTER_PROC, errno);
        if (mount("/sys", in->sys, NULL, MS_BIND | MS_REC, NULL) < 0)
                child_fail(errfd, ENTER_SYS, errno);
        if (mount("/dev", in->dev, NULL, MS_BIND | MS_REC, NULL) < 0)
                child_fail(errfd, ENTER_DEV, errno);
        if (mount("tmpfs", in->run, "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") < 0)
                child_fail(errfd, ENTER_RUN, errno);
        if (in->with_udev) {
                if (mkdir(in->udev, 0755) < 0 || mount("/run/udev", in->udev, NULL, MS_BIND | MS_REC, NULL) < 0)
                        child_fail(errfd, ENTER_UDEV, errno);
                if (mount(NULL, in->udev, NULL, MS_BIND | MS_REMOUNT | MS_RDONLY, NULL) < 0)
                        child_fail(errfd, ENTER_UDEV_RO, errno);
        }
        if (chroot(in->root) < 0 || chdir("/") < 0)
                child_fail(errfd, ENTER_CHROOT, errno);
}

/* In the child: never returns. The exec's errno goes back over errfd (close-on-exec, so a
 * successful exec closes it with nothing written). With a watch, it waits for the parent's byte
 * on go[0] first: EOF means that the parent could not journal the group, and nothing is run. */
_Noreturn static void child(const struct enter *in, char *const *paths, size_t n_paths, const char *const *argv,
                            int outfd, int errfd, const int go[2], pid_t parent)
{
        static char path[] = "PATH=" COMMAND_PATH, lc_all[] = "LC_ALL=C";
        char *const env[] = {path, lc_all, NULL};
        sigset_t all;
        int null, e = ENOENT;

        /* Its own process group, so that the deadline stops what it started too; it dies with us
         * so that nothing it does lands after a recovery. */
        (void)setpgid(0, 0);
        if (prctl(PR_SET_PDEATHSIG, SIGKILL) < 0 || getppid() != parent)
                _exit(127);
        for (int sig = 1; sig < _NSIG; sig++)
                (void)signal(sig, SIG_DFL);
        sigemptyset(&all);
        (void)sigprocmask(SIG_SETMASK, &all, NULL);
        if (go[0] >= 0) {
                char byte;
                ssize_t k;
                close(go[1]); /* else the parent's close would not be an EOF here */
                do
                        k = read(go[0], &byte, 1);
                while (k < 0 && errno == EINTR);
                if (k != 1)
                        _exit(127);
        }
        null = open("/dev/null", O_RDONLY | O_CLOEXEC);
        if (null < 0 || dup2(null, STDIN_FILENO) < 0 || dup2(outfd, STDOUT_FILENO) < 0 ||
            dup2(outfd, STDERR_FILENO) < 0)
                goto fail;
        if (in)
                enter_root(in, errfd);
        for (size_t i = 0; i < n_paths; i++) {
                execve(paths[i], (char *const *)argv, env);
                if (errno != ENOENT && errno != ENOTDIR)
                        e = errno; /* found, but not runnable: say so rather than "not found" */
        }
fail:
        if (errno != ENOENT && errno != ENOTDIR && e == ENOENT)
                e = errno;
        child_fail(errfd, ENTER_NONE, e);
}

/* ---- process groups ---- */

void command_group_format(const struct command_group *g, char buf[static COMMAND_GROUP_STRING_MAX])
{
        snprintf(buf, COMMAND_GROUP_STRING_MAX, "%d %" PRIu64 " %s", (int)g->pgid, g->start_time, g->boot_id);
}

int command_group_parse(const char *s, struct command_group *ret)
{
        struct command_group g = {0};
        char *end;
        long pgid;
        unsigned long long start;
        size_t n;

        if (!s || *s < '0' || *s > '9')
                return -EINVAL;
        errno = 0;
        pgid = strtol(s, &end, 10);
        if (errno || *end != ' ' || pgid <= 1 || pgid > INT32_MAX)
                return -EINVAL;
        s = end + 1;
        if (*s < '0' || *s > '9')
                return -EINVAL;
        start = strtoull(s, &end, 10);
        if (errno || *end != ' ')
                return -EINVAL;
        s = end + 1;
        n = strspn(s, "0123456789abcdef-");
        if (s[n] || n >= sizeof(g.boot_id))
                return -EINVAL;
        g.pgid = (pid_t)pgid;
        g.start_time = start;
        memcpy(g.boot_id, s, n);
        *ret = g;
        return 0;
}


/* The group of the child pid, whose own it is (setpgid), as the host's /proc shows it. */
static int group_identify(pid_t pid, struct command_group *ret)
{
        struct sysroot *host = NULL;
        struct process_id id;
        int r;

        /* This system's /proc, also for a command run inside a root: see command_stop_group(). */
        r = sysroot_open("/", &host);
        if (r < 0)
                return r;
        r = process_id_read(host, pid, &id, NULL, 0);
        if (r >= 0) {
                *ret = (struct command_group){.pgid = pid, .start_time = id.start_time};
                if (boot_id_read(host, ret->boot_id) < 0)
                        ret->boot_id[0] = '\0';
        }
        sysroot_free(host);
        return r;
}

struct group_gone {
        const struct sysroot *host;
        pid_t pgid;
};

/* wait_until()'s condition: no process of the group runs. They are not our children (orphans of
 * a killed run), so nothing tells when they end: the wait's backoff polls. SIGKILL again each
 * time: a member may have forked while the first one was on its way. */
static int group_gone(void *userdata)
{
        const struct group_gone *g = userdata;
        int r = process_group_running(g->host, g->pgid);

        if (r > 0)
                (void)kill(-g->pgid, SIGKILL);
        return r < 0 ? r : !r;
}

static int stop_group_real(void *userdata, const struct command_group *g, char **ret_error)
{
        struct sysroot *host = NULL;
        struct process_id leader;
        char now_boot[40];
        int r;

        if (g->pgid <= 1)
                return error_setf(ret_error, -EINVAL, "process group %d is no command's", (int)g->pgid);
        /* Never our own: a command's group is its leader's, a child of ours or of an earlier owner. */
        if (g->pgid == getpgrp())
                return 0;
        r = sysroot_open("/", &host); /* this system's own /proc: see command_stop_group() */
        if (r < 0)
                return error_setf(ret_error, r, "cannot open /: %s", strerror(-r));
        if (boot_id_read(host, now_boot) < 0)
                now_boot[0] = '\0';
        if (g->boot_id[0] && now_boot[0] && strcmp(g->boot_id, now_boot) != 0) {
                r = 0; /* another boot's: nothing of it runs */
                goto out;
        }
        r = process_id_read(host, g->pgid, &leader, NULL, 0);
        if (r >= 0 && leader.start_time != g->start_time) {
                r = 0; /* the number is someone else's now: the group ended */
                goto out;
        }
        if (r < 0 && r != -ESRCH) {
                r = error_setf(ret_error, r, "cannot read /proc/%d/stat: %s", (int)g->pgid, strerror(-r));
                goto out;
        }
        if (kill(-g->pgid, SIGKILL) < 0) {
                r = errno == ESRCH ? 0 : negative_errno();
                if (r < 0)
                        r = error_setf(ret_error, r, "cannot stop process group %d: %s", (int)g->pgid, strerror(-r));
                goto out;
        }
        r = wait_until(NULL, COMMAND_GROUP_STOP_USEC, group_gone,
                       &(struct group_gone){.host = host, .pgid = g->pgid});
        if (r == -ETIMEDOUT)
                r = error_setf(ret_error, -EBUSY, "process group %d still runs %" PRIu64 " s after SIGKILL", (int)g->pgid,
                               COMMAND_GROUP_STOP_USEC / USEC_PER_SEC);
        else if (r < 0)
                r = error_setf(ret_error, r, "cannot list /proc to wait for process group %d: %s", (int)g->pgid,
                               strerror(-r));
out:
        sysroot_free(host);
        return r;
}

static void kill_group(pid_t pid, int sig)
{
        if (kill(-pid, sig) < 0)
                (void)kill(pid, sig);
}

/* Reads the output until it ends and the child exits, or the deadline passes (-ETIMEDOUT). */
static int collect(int outfd, int pidfd, uint64_t deadline, struct tail *out)
{
        bool eof = false, exited = pidfd < 0;

        while (!eof || !exited) {
                struct pollfd p[2] = {{.fd = eof ? -1 : outfd, .events = POLLIN},
                                      {.fd = exited ? -1 : pidfd, .events = POLLIN}};
                uint64_t now = clock_now(NULL);
                int timeout, r;

                if (now >= deadline)
                        return -ETIMEDOUT;
                timeout = deadline == USEC_INFINITY ? -1
                          : (deadline - now) / USEC_PER_MSEC >= INT32_MAX
                                  ? INT32_MAX
                                  : (int)((deadline - now + USEC_PER_MSEC - 1) / USEC_PER_MSEC);
                r = poll(p, 2, timeout);
                if (r < 0) {
                        if (errno == EINTR)
                                continue;
                        return negative_errno();
                }
                if (p[0].revents) {
                        char buf[4096];
                        ssize_t k = read(outfd, buf, sizeof(buf));
                        if (k < 0 && errno != EINTR && errno != EAGAIN)
                                return negative_errno();
                        if (k == 0)
                                eof = true;
                        if (k > 0 && (r = tail_add(out, buf, (size_t)k)) < 0)
                                return r;
                }
                if (p[1].revents)
                        exited = true;
        }
        return 0;
}

/* After the deadline: SIGTERM, the grace period, SIGKILL; then reaped. */
static void stop(pid_t pid, int pidfd)
{
        kill_group(pid, SIGTERM);
        if (pidfd >= 0) {
                struct pollfd p = {.fd = pidfd, .events = POLLIN};
                int r;
                do
                        r = poll(&p, 1, (int)(COMMAND_KILL_GRACE_USEC / USEC_PER_MSEC));
                while (r < 0 && errno == EINTR);
        }
        kill_group(pid, SIGKILL);
        (void)waitid(P_PID, (id_t)pid, &(siginfo_t){0}, WEXITED);
}

static void enter_done(struct enter *in)
{
        free(in->proc);
        free(in->sys);
        free(in->dev);
        free(in->run);
        free(in->udev);
}

/* Checks root and builds the child's paths. The root must be a directory given by its absolute
 * path: chroot and the mounts resolve it from wherever this process stands, and a relative one
 * would silently mean another place for a caller that changed directory. */
static int enter_prepare(const char *root, struct enter *ret, char **ret_error)
{
        struct enter in = {.root = root};
        struct stat st;

        if (root[0] != '/')
                return error_setf(ret_error, -EINVAL, "the root to run commands in must be an absolute path, not %s",
                                  root);
        if (stat(root, &st) < 0)
                return error_setf(ret_error, negative_errno(), "cannot run commands inside %s: %s", root,
                                  strerror(errno));
        if (!S_ISDIR(st.st_mode))
                return error_setf(ret_error, -ENOTDIR, "cannot run commands inside %s: not a directory", root);
        if (asprintf(&in.proc, "%s/proc", root) < 0 || asprintf(&in.sys, "%s/sys", root) < 0 ||
            asprintf(&in.dev, "%s/dev", root) < 0 || asprintf(&in.run, "%s/run", root) < 0 ||
            asprintf(&in.udev, "%s/run/udev", root) < 0) {
                enter_done(&in);
                return -ENOMEM;
        }
        /* The live system's own database, by its absolute path on purpose: the host we stand
         * on, not the root we enter. */
        in.with_udev = access("/run/udev/data", F_OK) == 0;
        *ret = in;
        return 0;
}

/* Tells watch the child's group, then lets the child exec (one byte on go) or, when watch
 * fails, not (go closed with nothing written: the child exits without exec); go is closed. */
static int release_child(pid_t pid, int go, const struct command_watch *watch, char **ret_error)
{
        struct command_group g;
        int r = 0;

        if (watch && watch->started) {
                r = group_identify(pid, &g);
                if (r < 0)
                        r = error_setf(ret_error, r, "cannot read /proc/%d/stat of the command: %s", (int)pid,
                                       strerror(-r));
                else
                        r = watch->started(watch->userdata, &g, ret_error);
        }
        if (r >= 0 && write(go, "", 1) != 1)
                r = negative_errno();
        close(go);
        return r;
}

/* root NULL: the plain seam. */
static int run_argv(const char *root, const char *const *argv, const struct command_watch *watch,
                    uint64_t deadline, char **ret_output, char **ret_error)
{
        _cleanup_close_ int outfd = -1, errfd = -1, pidfd = -1;
        struct tail out = {0};
        char *paths[8] = {0}, line[QUOTE_BUF_SIZE(LAST_LINE_MAX) + 2];
        size_t n_paths = 0;
        struct enter in = {0};
        struct child_error ce = {0};
        int outp[2], errp[2], gop[2] = {-1, -1}, r;
        siginfo_t info = {0};
        pid_t pid, parent = getpid();
        uint64_t start = clock_now(NULL);

        if (!argv || !argv[0] || !argv[0][0])
                return error_setf(ret_error, -EINVAL, "no command to run");
        if (root) {
                r = enter_prepare(root, &in, ret_error);
                if (r < 0)
                        return r;
        }
        r = candidates(argv[0], paths, &n_paths);
        if (r < 0)
                goto out;
        if (pipe2(outp, O_CLOEXEC) < 0) {
                r = negative_errno();
                goto out;
        }
        if (pipe2(errp, O_CLOEXEC) < 0) {
                r = negative_errno();
                close(outp[0]);
                close(outp[1]);
                goto out;
        }
        if (watch && pipe2(gop, O_CLOEXEC) < 0) {
                r = negative_errno();
                close(outp[0]);
                close(outp[1]);
                close(errp[0]);
                close(errp[1]);
                goto out;
        }
        pid = fork();
        if (pid == 0)
                child(root ? &in : NULL, paths, n_paths, argv, outp[1], errp[1], gop, parent);
        r = pid < 0 ? negative_errno() : 0;
        close(outp[1]);
        close(errp[1]);
        if (gop[0] >= 0)
                close(gop[0]);
        outfd = outp[0];
        errfd = errp[0];
        if (r < 0) {
                if (gop[1] >= 0)
                        close(gop[1]);
                goto out;
        }
        /* The group exists before anyone is told of it (the child makes it too, whichever runs
         * first). */
        (void)setpgid(pid, pid);
        if (gop[1] >= 0) {
                r = release_child(pid, gop[1], watch, ret_error);
                if (r < 0) {
                        (void)waitid(P_PID, (id_t)pid, &info, WEXITED);
                        goto out;
                }
        }
        pidfd = (int)syscall(SYS_pidfd_open, pid, 0); /* Linux 5.3; without it the deadline ends at EOF */

        /* The exec's verdict first: nothing, or the step and the errno it failed with. */
        if (read(errfd, &ce, sizeof(ce)) == (ssize_t)sizeof(ce)) {
                int e = ce.error > 0 ? ce.error : EIO;
                (void)waitid(P_PID, (id_t)pid, &info, WEXITED);
                if (ce.step > ENTER_NONE && ce.step < _ENTER_MAX)
                        r = error_setf(ret_error, -e, "cannot run %s inside %s: %s: %s", argv[0], root,
                                       enter_what[ce.step], strerror(e));
                else
                        r = error_setf(ret_error, -e, "cannot run %s%s%s: %s%s", argv[0], root ? " inside " : "",
                                       root ?: "", strerror(e),
                                       e == ENOENT && !strchr(argv[0], '/') ? " (looked in " COMMAND_PATH ")" : "");
                goto out;
        }
        r = collect(outfd, pidfd, deadline, &out);
        if (r == -ETIMEDOUT) {
                stop(pid, pidfd);
                r = error_setf(ret_error, -ETIMEDOUT, "%s did not finish within %" PRIu64 " s and was stopped",
                               argv[0], (deadline - start + USEC_PER_SEC / 2) / USEC_PER_SEC);
                goto out;
        }
        if (r < 0) {
                stop(pid, pidfd);
                goto out;
        }
        if (waitid(P_PID, (id_t)pid, &info, WEXITED) < 0) {
                r = negative_errno();
                goto out;
        }
        last_line(&out, line);
        if (info.si_code == CLD_EXITED && info.si_status != 0)
                r = error_setf(ret_error, -EPROTO, "%s failed (exit status %d)%s", argv[0], info.si_status, line);
        else if (info.si_code != CLD_EXITED)
                r = error_setf(ret_error, -EPROTO, "%s was killed by signal %d (%s)%s", argv[0], info.si_status,
                               strsignal(info.si_status), line);
out:
        enter_done(&in);
        for (size_t i = 0; i < n_paths; i++)
                free(paths[i]);
        if ((r >= 0 || r == -EPROTO) && ret_output) { /* it ran: what it said */
                *ret_output = out.buf ? out.buf : strdup("");
                return *ret_output ? r : -ENOMEM;
        }
        free(out.buf);
        return r;
}

static int run_real(void *userdata, const char *const *argv, const struct command_watch *watch, uint64_t deadline,
                    char **ret_output, char **ret_error)
{
        return run_argv(NULL, argv, watch, deadline, ret_output, ret_error);
}

static int run_in_root(void *userdata, const char *const *argv, const struct command_watch *watch,
                       uint64_t deadline, char **ret_output, char **ret_error)
{
        return run_argv(userdata, argv, watch, deadline, ret_output, ret_error);
}

static const struct commands_ops real_ops = {.run = run_real, .stop_group = stop_group_real};
const struct commands commands_real = {.ops = &real_ops};

static const struct commands_ops in_root_ops = {.run = run_in_root, .stop_group = stop_group_real};

struct commands commands_in_root(const char *root)
{
        if (!root || root[strspn(root, "/")] == '\0') /* "/", "//": the root we stand in */
                return commands_real;
        return (struct commands){.ops = &in_root_ops, .userdata = (void *)root};
}

int command_run(const struct commands *c, const char *const *argv, uint64_t deadline_usec, char **ret_output,
                char **ret_error)
{
        return command_run_watched(c, argv, NULL, deadline_usec, ret_output, ret_error);
}

int command_run_watched(const struct commands *c, const char *const *argv, const struct command_watch *watch,
                        uint64_t deadline_usec, char **ret_output, char **ret_error)
{
        if (!c)
                c = &commands_real;
        return c->ops->run(c->userdata, argv, watch, deadline_usec, ret_output, ret_error);
}

int command_stop_group(const struct commands *c, const struct command_group *g, char **ret_error)
{
        if (!c)
                c = &commands_real;
        if (!c->ops->stop_group)
                return 0; /* a seam that starts no process leaves none */
        return c->ops->stop_group(c->userdata, g, ret_error);
}
