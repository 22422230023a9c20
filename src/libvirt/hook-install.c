/* SPDX-License-Identifier: GPL-2.0-or-later */
/* gpu-handoff hook install / uninstall, and the hook's installed state (see hook-install.h).
 *
 * How libvirt finds QEMU hooks (src/util/virhook.c): when its daemon starts, and on SIGHUP, it
 * checks whether hooks/qemu is executable or, since 6.5.0, whether hooks/qemu.d/ holds an
 * executable; only then does it call QEMU hooks at all. Each call runs hooks/qemu, then every
 * executable of qemu.d/ in name order (directories are skipped, so a VFIO-Tools dispatcher's
 * per-VM directories there do not get in the way). A hook added while the daemon runs is
 * therefore run at once when the daemon had found another one at its start, and not before the
 * daemon restarts when it had found none. */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/proc.h"
#include "basic/strv.h"
#include "basic/sysroot.h"
#include "basic/time-util.h"
#include "change/engine.h"
#include "change/journal.h"
#include "change/step-file.h"
#include "change/transaction.h"
#include "libvirt/hook-install.h"

/* A hook script worth reading is a few KiB; a bigger one is read up to here. */
#define SCRIPT_MAX (1024 * 1024) /* larger: a script of the user's, not read further */
/* Names listed from qemu.d/ (others are counted, not named). */
#define NAMES_MAX 16
/* libvirt 6.5.0 as MAJOR * 1000000 + MINOR * 1000 + MICRO. */
#define HOOK_DIR_VERSION 6005000UL

const char *hook_file_kind_to_string(enum hook_file_kind k)
{
        static const char *const names[] = {
                [HOOK_FILE_NONE] = "none",           [HOOK_FILE_OURS] = "gpu-handoff",
                [HOOK_FILE_OURS_STALE] = "stale",    [HOOK_FILE_CHAINS] = "chains",
                [HOOK_FILE_DISPATCHER] = "dispatcher", [HOOK_FILE_SCRIPT] = "script",
                [HOOK_FILE_OTHER] = "other",
        };
        return k < ELEMENTSOF(names) ? names[k] : "?";
}

const char *hook_outcome_to_string(enum hook_outcome o)
{
        static const char *const names[] = {
                [HOOK_INSTALLED] = "installed",     [HOOK_REPAIRED] = "repaired",
                [HOOK_ALREADY_INSTALLED] = "already-installed", [HOOK_UNINSTALLED] = "uninstalled",
                [HOOK_NOT_INSTALLED] = "not-installed",
        };
        return o < ELEMENTSOF(names) ? names[o] : "?";
}

const char *hook_change_kind_to_string(enum hook_change_kind k)
{
        static const char *const names[] = {
                [HOOK_CHANGE_CREATED] = "created",   [HOOK_CHANGE_LINKED] = "linked",
                [HOOK_CHANGE_RELINKED] = "relinked", [HOOK_CHANGE_RECORDED] = "recorded",
                [HOOK_CHANGE_REMOVED] = "removed",   [HOOK_CHANGE_KEPT] = "kept",
        };
        return k < ELEMENTSOF(names) ? names[k] : "?";
}

bool hook_refused(int r)
{
        return r == -ENOPKG || r == -ENOEXEC || r == -EEXIST || r == -ELOOP || r == -ENOTDIR || r == -EBADMSG;
}

static const char *startswith(const char *s, const char *prefix)
{
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

/* ---- libvirt's version ---- */

static unsigned long version_number(const struct libvirt_version *v)
{
        return v->major * 1000000UL + v->minor * 1000UL + v->micro;
}

bool libvirt_runs_hook_dir(const struct libvirt_version *v)
{
        return version_number(v) >= HOOK_DIR_VERSION;
}

/* "libvirt.so.0.9000.0" -> 9.0.0; anything else (libvirt-qemu.so.0..., "libvirt.so.0") is not. */
static bool parse_soname(const char *name, struct libvirt_version *ret)
{
        const char *p = startswith(name, "libvirt.so.0.");
        unsigned long n = 0, m = 0;
        size_t digits;

        if (!p)
                return false;
        for (digits = 0; isdigit((unsigned char)*p) && digits < 7; p++, digits++)
                n = n * 10 + (unsigned long)(*p - '0');
        if (digits == 0 || *p++ != '.')
                return false;
        for (digits = 0; isdigit((unsigned char)*p) && digits < 4; p++, digits++)
                m = m * 10 + (unsigned long)(*p - '0');
        if (digits == 0 || *p || m > 999)
                return false;
        *ret = (struct libvirt_version){(unsigned)(n / 1000), (unsigned)(n % 1000), (unsigned)m};
        return true;
}

static void scan_lib_dir(const struct sysroot *sr, const char *dir, struct libvirt_version *best, bool *found)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (sysroot_opendir(sr, dir, &d) < 0)
                return;
        while ((de = readdir(d))) {
                struct libvirt_version v;
                if (parse_soname(de->d_name, &v) && (!*found || version_number(&v) > version_number(best))) {
                        *best = v;
                        *found = true;
                }
        }
}

/* A package upgrade replaces the library file, so there is one per architecture, and Debian's
 * multiarch keeps those at one version; the newest is taken should an old one linger. */
int libvirt_version_find(const struct sysroot *sr, struct libvirt_version *ret)
{
        _cleanup_closedir_ DIR *lib = NULL;
        struct libvirt_version best = {0};
        bool found = false;
        struct dirent *de;

        scan_lib_dir(sr, "usr/lib64", &best, &found);
        scan_lib_dir(sr, "usr/lib", &best, &found);
        if (sysroot_opendir(sr, "usr/lib", &lib) >= 0)
                while ((de = readdir(lib))) {
                        char path[sizeof("usr/lib/") + sizeof(de->d_name)];
                        if (!strstr(de->d_name, "-linux-")) /* x86_64-linux-gnu, aarch64-linux-gnu */
                                continue;
                        snprintf(path, sizeof(path), "usr/lib/%s", de->d_name);
                        scan_lib_dir(sr, path, &best, &found);
                }
        if (!found)
                return -ENOPKG;
        *ret = best;
        return 0;
}

/* ---- what is in the hooks directories ---- */

/* gpu-handoff itself, or gpu-handoff-hook, the small front that answers the events gpu-handoff
 * ignores without loading its libraries (src/cli/hook-front.c). */
static bool ours_target(const char *target)
{
        const char *base = strrchr(target, '/');

        base = base ? base + 1 : target;
        return strcmp(base, "gpu-handoff") == 0 || strcmp(base, "gpu-handoff-hook") == 0;
}

/* Opens what a symlink at dirfd/name points to, inside the root: an absolute target through the
 * sysroot (a fake tree's "/usr/sbin/x" is below the tree), a relative one from where dirfd is,
 * never climbing out of the tree with "..". */
static int open_target(const struct sysroot *sr, int dirfd, const char *target, int flags)
{
        if (dirfd < 0 && target[0] != '/')
                return -EBADF;
        return sysroot_openat_from(sr, dirfd, target, flags);
}

/* path below dirfd exists, links on the way followed inside the root. */
static bool exists_from(const struct sysroot *sr, int dirfd, const char *path)
{
        _cleanup_close_ int fd = sysroot_openat_from(sr, dirfd, path, O_PATH);
        return fd >= 0;
}

static bool target_executable(const struct sysroot *sr, int dirfd, const char *target)
{
        _cleanup_close_ int fd = open_target(sr, dirfd, target, O_PATH);
        struct stat st;

        return fd >= 0 && fstat(fd, &st) >= 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111);
}

static bool word_char(char c)
{
        return isalnum((unsigned char)c) || c == '-' || c == '_' || c == '.';
}

/* Whether a line that is not a comment runs gpu-handoff or gpu-handoff-hook: the word, not
 * gpu-handoff.conf or /etc/gpu-handoff/. */
static bool runs_gpu_handoff(const char *line, size_t len)
{
        static const char word[] = "gpu-handoff";
        const size_t n = sizeof(word) - 1;

        for (const char *p = line; (p = memmem(p, len - (size_t)(p - line), word, n)); p += n) {
                size_t rest = len - (size_t)(p - line) - n;
                const char *after = p + n;

                if (p > line && word_char(p[-1]))
                        continue;
                if (rest >= 5 && strncmp(after, "-hook", 5) == 0) {
                        after += 5;
                        rest -= 5;
                }
                if (rest == 0 || (!word_char(*after) && *after != '/'))
                        return true;
        }
        return false;
}

/* A path below qemu.d/ built from the guest's name: VFIO-Tools' "qemu.d/$GUEST_NAME/..." and its
 * copies, which use $1 or $OBJECT for the name. */
static bool dispatches(const char *line, size_t len)
{
        static const char *const names[] = {"$GUEST_NAME", "${GUEST_NAME}", "$1", "${1}", "$OBJECT", "${OBJECT}"};

        if (!memmem(line, len, "qemu.d/", 7))
                return false;
        for (size_t i = 0; i < ELEMENTSOF(names); i++)
                if (memmem(line, len, names[i], strlen(names[i])))
                        return true;
        return false;
}

/* What a hook script does: CHAINS when a line runs gpu-handoff (its number in *ret_line),
 * DISPATCHER when one dispatches to per-VM scripts, else SCRIPT. */
static enum hook_file_kind classify_text(const char *text, size_t len, unsigned *ret_line)
{
        bool dispatcher = false;
        unsigned n = 0;

        for (const char *p = text, *end = text + len; p < end;) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                const char *q = p;

                if (!eol)
                        eol = end;
                n++;
                while (q < eol && (*q == ' ' || *q == '\t'))
                        q++;
                if (q < eol && *q != '#') {
                        if (runs_gpu_handoff(q, (size_t)(eol - q))) {
                                *ret_line = n;
                                return HOOK_FILE_CHAINS;
                        }
                        dispatcher = dispatcher || dispatches(q, (size_t)(eol - q));
                }
                p = eol + 1;
        }
        return dispatcher ? HOOK_FILE_DISPATCHER : HOOK_FILE_SCRIPT;
}

struct entry {
        enum hook_file_kind kind;
        char *target;    /* a symlink's target */
        bool executable; /* libvirt would run it (stat(2) follows the link) */
        unsigned line;   /* HOOK_FILE_CHAINS */
        struct timespec born;
        bool born_known;
};

/* When the entry itself appeared: its birth time where the file system keeps one, else its
 * ctime (a symlink cannot be changed in place, so for ours the two agree). */
static void entry_born(int dirfd, const char *name, struct entry *e)
{
        struct statx sx;

        if (statx(dirfd, name, AT_SYMLINK_NOFOLLOW, STATX_BTIME | STATX_CTIME, &sx) < 0)
                return;
        if (sx.stx_mask & STATX_BTIME)
                e->born = (struct timespec){sx.stx_btime.tv_sec, sx.stx_btime.tv_nsec};
        else
                e->born = (struct timespec){sx.stx_ctime.tv_sec, sx.stx_ctime.tv_nsec};
        e->born_known = true;
}

/* Looks at dirfd/name without following a symlink out of the root, and without blocking on a
 * fifo. A missing entry (or a missing directory, dirfd -1) is HOOK_FILE_NONE. */
static int entry_read(const struct sysroot *sr, int dirfd, const char *name, struct entry *ret)
{
        _cleanup_free_ char *target = NULL, *text = NULL;
        _cleanup_close_ int fd = -1;
        struct stat st;
        size_t len = 0;
        int r;

        *ret = (struct entry){.kind = HOOK_FILE_NONE};
        if (dirfd < 0)
                return 0;
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        entry_born(dirfd, name, ret);
        if (S_ISLNK(st.st_mode)) {
                r = read_link_at(dirfd, name, &target);
                if (r < 0)
                        return r;
                if (ours_target(target)) {
                        ret->executable = target_executable(sr, dirfd, target);
                        ret->kind = ret->executable ? HOOK_FILE_OURS : HOOK_FILE_OURS_STALE;
                        ret->target = TAKE_PTR(target);
                        return 0;
                }
                fd = open_target(sr, dirfd, target, O_RDONLY | O_NONBLOCK | O_NOCTTY);
                ret->target = TAKE_PTR(target);
                if (fd < 0 || fstat(fd, &st) < 0) {
                        ret->kind = HOOK_FILE_OTHER; /* dangling, or a loop */
                        return 0;
                }
        } else if (S_ISREG(st.st_mode)) {
                fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
                if (fd < 0)
                        return negative_errno();
        }
        if (fd < 0 || !S_ISREG(st.st_mode)) {
                ret->kind = HOOK_FILE_OTHER;
                return 0;
        }
        ret->executable = (st.st_mode & 0111) != 0;
        r = read_fd_full(fd, SCRIPT_MAX, &text, &len);
        if (r == -EFBIG) { /* not a hook anyone wrote for this: someone's own, kept */
                ret->kind = HOOK_FILE_SCRIPT;
                return 0;
        }
        if (r < 0)
                return r;
        ret->kind = classify_text(text, len, &ret->line);
        return 0;
}

static void entry_done(struct entry *e)
{
        free(e->target);
        e->target = NULL;
}

/* The directories install works in, each opened without following a symlink; -1 when missing. */
struct dirs {
        int libvirt; /* etc/libvirt */
        int hooks;   /* etc/libvirt/hooks */
        int qemu_d;  /* etc/libvirt/hooks/qemu.d */
        int varlib;  /* var/lib */
        int state;   /* var/lib/gpu-handoff */
};

#define DIRS_NONE {-1, -1, -1, -1, -1}

static void dirs_close(struct dirs *d)
{
        int *fds[] = {&d->libvirt, &d->hooks, &d->qemu_d, &d->varlib, &d->state};

        for (size_t i = 0; i < ELEMENTSOF(fds); i++)
                closep(fds[i]);
}

/* parent/name as a directory, never through a symlink; 0 with *ret -1 when it is missing. */
static int open_subdir(int parent, const char *name, const char *path, int *ret, char **ret_error)
{
        struct stat st;
        int fd;

        *ret = -1;
        if (parent < 0)
                return 0;
        if (fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                int r = negative_errno();
                return r == -ENOENT ? 0 : error_setf(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        }
        if (S_ISLNK(st.st_mode)) {
                _cleanup_free_ char *target = NULL;
                (void)read_link_at(parent, name, &target);
                return error_setf(ret_error, -ELOOP,
                            "%s is a symlink (to %s): refusing to work through it; it should be a directory", path,
                            target ? target : "?");
        }
        if (!S_ISDIR(st.st_mode))
                return error_setf(ret_error, -ENOTDIR, "%s is not a directory", path);
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int r = negative_errno();
                return error_setf(ret_error, r == -ELOOP ? -ELOOP : r, "cannot open %s: %s", path, strerror(-r));
        }
        *ret = fd;
        return 0;
}

/* etc/libvirt may be a symlink inside the root (the root resolves it); below it, nothing is. */
static int dirs_open(const struct sysroot *sr, struct dirs *d, char **ret_error)
{
        int r;

        d->libvirt = sysroot_openat(sr, "etc/libvirt", O_RDONLY | O_DIRECTORY);
        if (d->libvirt < 0 && d->libvirt != -ENOENT)
                return error_setf(ret_error, d->libvirt, "cannot open /etc/libvirt: %s", strerror(-d->libvirt));
        r = open_subdir(d->libvirt, "hooks", HOOK_DIR_PATH, &d->hooks, ret_error);
        if (r >= 0)
                r = open_subdir(d->hooks, "qemu.d", HOOK_QEMU_D_PATH, &d->qemu_d, ret_error);
        if (r < 0)
                return r;
        d->varlib = sysroot_openat(sr, "var/lib", O_RDONLY | O_DIRECTORY);
        if (d->varlib < 0 && d->varlib != -ENOENT)
                return error_setf(ret_error, d->varlib, "cannot open /var/lib: %s", strerror(-d->varlib));
        return open_subdir(d->varlib, "gpu-handoff", HOOK_STATE_DIR_PATH, &d->state, ret_error);
}

/* Sorted names of qemu.d/: executables but ours in *others, directories in *vm_dirs, each with
 * the time it appeared for the daemon check. */
struct scan {
        struct strv others, vm_dirs;
        bool vm_scripts;
        bool others_before; /* an executable other than ours appeared by *before */
};

static int scan_qemu_d(const struct sysroot *sr, int qemu_d, const struct timespec *before, struct scan *ret)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int r;

        r = opendir_at(qemu_d, ".", &d);
        if (r < 0)
                return r;
        while ((de = readdir(d))) {
                struct entry e;
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0 ||
                    strcmp(de->d_name, "gpu-handoff") == 0)
                        continue;
                if (fstatat(qemu_d, de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        continue;
                if (S_ISDIR(st.st_mode)) {
                        char path[sizeof(de->d_name) + sizeof("/prepare/begin")];
                        if (ret->vm_dirs.n < NAMES_MAX && strv_addf(&ret->vm_dirs, "%s", de->d_name) < 0)
                                return -ENOMEM;
                        snprintf(path, sizeof(path), "%s/prepare/begin", de->d_name);
                        ret->vm_scripts = ret->vm_scripts || exists_from(sr, qemu_d, path);
                        snprintf(path, sizeof(path), "%s/release/end", de->d_name);
                        ret->vm_scripts = ret->vm_scripts || exists_from(sr, qemu_d, path);
                        continue;
                }
                r = entry_read(sr, qemu_d, de->d_name, &e);
                if (r == -ENOMEM)
                        return r;
                if (r < 0 || !e.executable) {
                        entry_done(&e);
                        continue;
                }
                if (ret->others.n < NAMES_MAX && strv_addf(&ret->others, "%s", de->d_name) < 0) {
                        entry_done(&e);
                        return -ENOMEM;
                }
                if (before && e.born_known &&
                    (e.born.tv_sec < before->tv_sec ||
                     (e.born.tv_sec == before->tv_sec && e.born.tv_nsec <= before->tv_nsec)))
                        ret->others_before = true;
                entry_done(&e);
        }
        if (ret->others.n)
                qsort(ret->others.v, ret->others.n, sizeof(char *), strv_compare);
        if (ret->vm_dirs.n)
                qsort(ret->vm_dirs.v, ret->vm_dirs.n, sizeof(char *), strv_compare);
        return 0;
}

/* ---- the daemon ---- */

/* The boot time from proc/stat's "btime" line, in seconds. */
static int boot_time(const struct sysroot *sr, int64_t *ret)
{
        _cleanup_free_ char *text = NULL;
        const char *p;
        char *end;
        long long v;

        if (sysroot_read_file(sr, "proc/stat", 1 << 20, &text, NULL) < 0)
                return -ENODATA;
        p = strncmp(text, "btime ", 6) == 0 ? text : strstr(text, "\nbtime ");
        if (!p)
                return -ENODATA;
        p += p == text ? 6 : 7;
        errno = 0;
        v = strtoll(p, &end, 10);
        if (errno || end == p || v <= 0 || (*end && *end != '\n'))
                return -ENODATA;
        *ret = v;
        return 0;
}

/* The running daemon that has the QEMU driver: the pid in the QEMU driver's pid file or in the
 * daemon's (privileged daemons write /run/NAME.pid), alive and named like one. Its start time
 * in *ret_start, when proc/stat tells the boot time; libvirt looked for hooks then. */
static void find_daemon(const struct sysroot *sr, struct hook_status *s, struct timespec *ret_start, bool *ret_known)
{
        static const char *const pidfiles[] = {"run/libvirt/qemu/driver.pid", "run/virtqemud.pid", "run/libvirtd.pid"};

        *ret_known = false;
        for (size_t i = 0; i < ELEMENTSOF(pidfiles); i++) {
                char buf[32], comm[PROC_COMM_MAX];
                struct process_id id;
                uint32_t pid;
                int64_t btime, ticks = sysconf(_SC_CLK_TCK);

                if (sysroot_read_attr(sr, pidfiles[i], buf, sizeof(buf)) < 0 ||
                    sysfs_parse_uint(buf, INT32_MAX, &pid) < 0 || pid == 0)
                        continue;
                if (process_id_read(sr, (pid_t)pid, &id, comm, sizeof(comm)) < 0 || !process_id_alive(sr, &id))
                        continue;
                if (strcmp(comm, "libvirtd") != 0 && strcmp(comm, "virtqemud") != 0)
                        continue; /* a stale pid file whose pid went to another process */
                snprintf(s->daemon, sizeof(s->daemon), "%s", comm[0] == 'l' ? "libvirtd" : "virtqemud");
                s->daemon_pid = (pid_t)pid;
                if (ticks > 0 && boot_time(sr, &btime) >= 0) {
                        int64_t ns = (int64_t)(id.start_time % (uint64_t)ticks) * (int64_t)NSEC_PER_SEC / ticks;
                        *ret_start = (struct timespec){(time_t)(btime + (int64_t)(id.start_time / (uint64_t)ticks)),
                                                       (long)ns};
                        *ret_known = true;
                }
                return;
        }
}

static bool born_by(const struct entry *e, const struct timespec *t)
{
        return e->born_known &&
               (e->born.tv_sec < t->tv_sec || (e->born.tv_sec == t->tv_sec && e->born.tv_nsec <= t->tv_nsec));
}

void hook_status_free(struct hook_status *s)
{
        if (!s)
                return;
        free(s->qemu_target);
        free(s->link_target);
        strv_free(s->others, s->n_others);
        strv_free(s->vm_dirs, s->n_vm_dirs);
        free(s);
}

static int status_read(const struct sysroot *sr, const struct dirs *d, struct hook_status **ret, char **ret_error)
{
        _cleanup_(hook_status_freep) struct hook_status *s = calloc(1, sizeof(*s));
        struct entry qemu = {0}, link = {0};
        struct scan scan = {0};
        struct timespec start = {0};
        bool start_known = false, qemu_runs, link_runs;
        int r;

        if (!s)
                return -ENOMEM;
        s->libvirt = libvirt_version_find(sr, &s->version) >= 0;
        s->hook_dir = s->libvirt && libvirt_runs_hook_dir(&s->version);
        s->hooks_exists = d->hooks >= 0;
        s->qemu_d_exists = d->qemu_d >= 0;
        s->record = d->state >= 0 && faccessat(d->state, "hook/journal", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        find_daemon(sr, s, &start, &start_known);
        /* btime is truncated to the second: an entry may have come up to 1 s after what the
         * daemon start computes to and still have been there when the daemon looked. */
        start.tv_sec += 1;

        r = entry_read(sr, d->hooks, "qemu", &qemu);
        if (r < 0) {
                r = error_setf(ret_error, r, "cannot read %s: %s", HOOK_QEMU_PATH, strerror(-r));
                goto out;
        }
        r = entry_read(sr, d->qemu_d, "gpu-handoff", &link);
        if (r < 0) {
                r = error_setf(ret_error, r, "cannot read %s: %s", HOOK_LINK_PATH, strerror(-r));
                goto out;
        }
        if (d->qemu_d >= 0) {
                r = scan_qemu_d(sr, d->qemu_d, start_known ? &start : NULL, &scan);
                if (r < 0) {
                        r = error_setf(ret_error, r, "cannot read %s: %s", HOOK_QEMU_D_PATH, strerror(-r));
                        goto out;
                }
        }
        s->qemu = qemu.kind;
        s->qemu_executable = qemu.executable;
        s->chain_line = qemu.line;
        s->qemu_target = TAKE_PTR(qemu.target);
        s->link = link.kind;
        s->link_executable = link.executable;
        s->link_target = TAKE_PTR(link.target);
        s->n_others = scan.others.n;
        s->others = TAKE_PTR(scan.others.v);
        s->n_vm_dirs = scan.vm_dirs.n;
        s->vm_dirs = TAKE_PTR(scan.vm_dirs.v);
        s->vm_scripts = scan.vm_scripts;

        qemu_runs = qemu.executable && (qemu.kind == HOOK_FILE_OURS || qemu.kind == HOOK_FILE_CHAINS);
        link_runs = s->hook_dir && link.executable && (link.kind == HOOK_FILE_OURS || link.kind == HOOK_FILE_CHAINS);
        s->fires = qemu_runs || link_runs;
        /* What the daemon found when it started: any QEMU hook makes it call them all since. */
        s->daemon_saw_hook = !start_known || (qemu.executable && born_by(&qemu, &start)) ||
                             (s->hook_dir && ((link.executable && born_by(&link, &start)) || scan.others_before));
        *ret = TAKE_PTR(s);
        r = 0;
out:
        entry_done(&qemu);
        entry_done(&link);
        strv_done(&scan.others);
        strv_done(&scan.vm_dirs);
        return r;
}

int hook_status_read(const struct sysroot *sr, struct hook_status **ret, char **ret_error)
{
        _cleanup_(dirs_close) struct dirs d = DIRS_NONE;
        int r = dirs_open(sr, &d, ret_error);

        return r < 0 ? r : status_read(sr, &d, ret, ret_error);
}

/* ---- the install's journal ---- */

/* An absolute path to a gpu-handoff (or its front), in printable characters. */
static bool target_ok(const char *t)
{
        if (t[0] != '/' || strlen(t) >= 4096 || !ours_target(t))
                return false;
        for (const char *p = t; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

enum {
        HOOK_STEP_MAKE_DIR, /* make-dir PATH MODE: a hooks directory install made */
        HOOK_STEP_LINK,     /* hook-link PATH TARGET OLD: the hook, where there was none (OLD "") or a stale
                             * link of ours to OLD */
        _HOOK_STEP_MAX,
};

/* The hook link's revert. Rolling back a failed install puts back exactly what was there (a stale
 * link of ours to OLD, or nothing); a link of ours that points elsewhere is still ours and goes
 * too. Anything else is the user's, put there after install: kept, and the undo goes on. */
static int hook_link_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const char *path = s->n_args > 0 ? s->args[0] : "", *old = s->n_args > 2 ? s->args[2] : "", *name;
        _cleanup_close_ int dfd = -1;
        _cleanup_free_ char *target = NULL;
        struct stat st;
        int r;

        if (!step_file_changing(ctx)) /* apply refused, or was killed, before changing anything */
                return 0;
        r = step_file_open_parent(ctx, path, &dfd, &name);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return step_fail(message, r, "cannot open the directory of %s: %s", path, strerror(-r));
        atomic_write_leftover_remove(dfd, name); /* a relink killed halfway: libvirt would run it too */
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0) {
                r = negative_errno();
                return r == -ENOENT ? 0 : step_fail(message, r, "cannot read %s: %s", path, strerror(-r));
        }
        if (!S_ISLNK(st.st_mode) || read_link_at(dfd, name, &target) < 0 || !ours_target(target))
                return step_fail(message, 0, "no longer gpu-handoff's link: it was replaced");
        if (*old && strcmp(target, old) == 0)
                return 0;
        r = *old ? symlink_durable_at(dfd, name, old, true) : unlink_durable_at(dfd, name, false);
        if (r < 0 && r != -ENOENT)
                return step_fail(message, r, "cannot remove %s: %s%s", path, strerror(-r),
                                 r == -EACCES || r == -EPERM ? " (run it as root)" : "");
        return 0;
}

/* Applies as any symlink step does (refusing when the place changed since the plan). */
static int hook_link_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        return step_symlink_ops.apply(ctx, s, message);
}

static const struct step_ops hook_link_step_ops = {.apply = hook_link_apply, .revert = hook_link_revert};

static const struct change_kind hook_kinds[_HOOK_STEP_MAX] = {
        [HOOK_STEP_MAKE_DIR] = STEP_KIND_MAKE_DIR,
        [HOOK_STEP_LINK] = {"hook-link", step_symlink_describe, &hook_link_step_ops, STEP_FILE_NOTE_ROOM},
};

static const struct change_domain hook_domain = {.name = "hook", .kinds = hook_kinds, .n_kinds = _HOOK_STEP_MAX};

const struct journal_spec hook_journal = {
        .dir = HOOK_JOURNAL_DIR,
        .magic = "gpu-handoff hook-journal 1",
        .outcomes = {[JOURNAL_OUTCOME_APPLIED] = "installed", [JOURNAL_OUTCOME_ROLLED_BACK] = "rolled-back",
                     [JOURNAL_OUTCOME_UNDONE] = "uninstalled"},
};

static const struct transaction hook_transaction = {.domain = &hook_domain, .spec = &hook_journal};

/* Whom the journal names as its owner: this process as the root's procfs shows it, or its pid
 * alone where the root has none (a fake tree). */
static struct process_id self_id(const struct sysroot *sr)
{
        struct process_id id = {.pid = getpid(), .start_time = 1};

        (void)process_id_self(sr, &id, NULL, 0);
        return id;
}

/* The message of a transaction that failed: its failed step's, else the core's. */
static int transaction_failed(int r, const struct engine_run *run, char **error, char **ret_error)
{
        for (size_t i = 0; run && i < run->n_steps; i++)
                if ((run->outcomes[i].state == OUTCOME_FAILED || run->outcomes[i].state == OUTCOME_REVERT_FAILED) &&
                    run->outcomes[i].message)
                        return error_setf(ret_error, r, "%s", run->outcomes[i].message);
        if (*error)
                return error_setf(ret_error, r, "%s", *error);
        return error_setf(ret_error, r, "%s: %s", HOOK_JOURNAL_PATH, strerror(-r));
}

/* Only the changes install makes: a journal naming other paths (which only root could have
 * written) is refused as a whole, so that uninstall never removes anything else. */
static int journal_trusted(const struct journal_state *st, char **ret_error)
{
        for (size_t i = 0; i < st->n_steps; i++) {
                const struct journal_step *s = &st->steps[i];
                const char *path = s->n_args > 0 ? s->args[0] : "";
                bool ok;

                if (strcmp(s->kind, hook_kinds[HOOK_STEP_MAKE_DIR].name) == 0)
                        ok = s->n_args == 2 && (strcmp(path, HOOK_DIR_PATH) == 0 || strcmp(path, HOOK_QEMU_D_PATH) == 0);
                else if (strcmp(s->kind, hook_kinds[HOOK_STEP_LINK].name) == 0)
                        ok = s->n_args == 3 && (strcmp(path, HOOK_LINK_PATH) == 0 || strcmp(path, HOOK_QEMU_PATH) == 0) &&
                             target_ok(s->args[1]) && (!*s->args[2] || target_ok(s->args[2]));
                else
                        ok = false;
                if (!ok)
                        return error_setf(ret_error, -EBADMSG,
                                          "%s: step %zu (%.32s %.64s) is not a change gpu-handoff hook install makes; "
                                          "refusing to act on this journal",
                                          HOOK_JOURNAL_PATH, i, s->kind, path);
        }
        return 0;
}

/* The journal, when there is one (-ENOENT otherwise) and it can be trusted. */
static int journal_read(const struct sysroot *sr, struct journal_state **ret, char **ret_error)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        int r = journal_load(&hook_journal, sr, &st, ret_error);

        if (r < 0)
                return r;
        r = journal_trusted(st, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(st);
        return 0;
}

/* Undoes what the journal says is installed (or what a killed install or uninstall left): the
 * link, then the directories install made while they are empty. 0 with *ret_steps (what the
 * journal held, for the report) or none when there is no journal; a journal that only waits to be
 * removed is removed. */
static int journal_undo(const struct sysroot *sr, const char *phase, struct step **ret_steps, size_t *ret_n,
                        char **ret_error)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        _cleanup_free_ char *error = NULL;
        struct change_ctx ctx = {.sr = sr};
        struct process_id self = self_id(sr);
        struct engine_run *run = NULL;
        int r;

        *ret_steps = NULL;
        *ret_n = 0;
        r = journal_read(sr, &st, ret_error);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (journal_state_outcome(st) == JOURNAL_OUTCOME_ROLLED_BACK ||
            journal_state_outcome(st) == JOURNAL_OUTCOME_UNDONE) {
                r = journal_remove(&hook_journal, sr);
                return r < 0 && r != -ENOENT ? error_setf(ret_error, r, "cannot remove %s: %s", HOOK_JOURNAL_PATH,
                                                          strerror(-r))
                                             : 0;
        }
        r = transaction_undo(&ctx, &hook_transaction, &self, phase, phase, &run, ret_steps, ret_n, &error);
        if (r < 0 && r != -ENOENT)
                r = transaction_failed(r, run, &error, ret_error);
        engine_run_free(run);
        if (r < 0) {
                steps_free(*ret_steps, *ret_n);
                *ret_steps = NULL;
                *ret_n = 0;
        }
        return r == -ENOENT ? 0 : r;
}

/* Removes the journal's directory and the state directory once nothing else is in them. Best
 * effort: an empty directory left behind is harmless and the next uninstall tries again. */
static bool tidy_state(int varlib)
{
        _cleanup_close_ int state = -1;
        bool removed = false;

        if (varlib < 0)
                return false;
        state = openat(varlib, "gpu-handoff", O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (state < 0)
                return false;
        if (unlinkat(state, "hook", AT_REMOVEDIR) >= 0)
                (void)fsync(state);
        if (unlinkat(varlib, "gpu-handoff", AT_REMOVEDIR) >= 0) {
                (void)fsync(varlib);
                removed = true;
        }
        return removed;
}

/* ---- reports ---- */

void hook_report_free(struct hook_report *r)
{
        if (!r)
                return;
        hook_status_free(r->before);
        free(r->target);
        for (size_t i = 0; i < r->n_changes; i++) {
                free(r->changes[i].target);
                free(r->changes[i].why);
        }
        free(r->changes);
        free(r);
}

_printf_(5, 6) static int add_change(struct hook_report *rep, enum hook_change_kind kind, const char *path,
                                     const char *target, const char *why_fmt, ...)
{
        struct hook_change *c = reallocarray(rep->changes, rep->n_changes + 1, sizeof(*c));
        char *why = NULL;
        va_list ap;

        if (!c)
                return -ENOMEM;
        rep->changes = c;
        if (why_fmt) {
                va_start(ap, why_fmt);
                if (vasprintf(&why, why_fmt, ap) < 0)
                        why = NULL;
                va_end(ap);
                if (!why)
                        return -ENOMEM;
        }
        c[rep->n_changes] = (struct hook_change){.kind = kind, .path = path, .target = target ? strdup(target) : NULL,
                                                 .why = why};
        if (target && !c[rep->n_changes].target) {
                free(why);
                return -ENOMEM;
        }
        rep->n_changes++;
        return 0;
}

bool hook_binary_runs(const struct sysroot *sr, const char *binary)
{
        return target_executable(sr, -1, binary);
}

char *hook_target(const struct sysroot *sr, const char *binary)
{
        const char *slash = strrchr(binary, '/');
        char *front = NULL;

        if (!slash || asprintf(&front, "%.*s/gpu-handoff-hook", (int)(slash - binary), binary) < 0)
                return NULL;
        if (target_executable(sr, -1, front))
                return front;
        free(front);
        return strdup(binary);
}

char *hook_chain_line(const struct sysroot *sr, const char *binary)
{
        _cleanup_free_ char *target = hook_target(sr, binary);
        char *s = NULL;

        if (!target)
                return NULL;
        /* The front takes libvirt's arguments as they are; gpu-handoff wants its verb first, after
         * "--" since a VM's name may start with '-'. */
        if (strcmp(target, binary) != 0)
                return asprintf(&s, "%s \"$@\" || exit $?", target) < 0 ? NULL : s;
        return asprintf(&s, "%s -- hook \"$@\" || exit $?", binary) < 0 ? NULL : s;
}

/* ---- install ---- */

/* What install does, in this order. */
struct plan {
        bool mk_hooks, mk_qemu_d;
        const char *link;       /* HOOK_LINK_PATH or HOOK_QEMU_PATH */
        bool relink;            /* replace a stale link of ours */
        const char *old_target;
};

/* What stands in the way of installing, as a refusal; 0 with the plan when nothing does, 1 when
 * gpu-handoff is installed already (rep->hook says where). */
static int decide(const struct sysroot *sr, const struct hook_status *st, const char *binary, struct plan *p,
                  struct hook_report *rep,
                  char **ret_error)
{
        char v[32];

        snprintf(v, sizeof(v), "%u.%u.%u", st->version.major, st->version.minor, st->version.micro);
        if (st->hook_dir) {
                switch (st->link) {
                case HOOK_FILE_OURS:
                        rep->hook = HOOK_LINK_PATH;
                        return 1;
                case HOOK_FILE_OURS_STALE:
                        *p = (struct plan){.link = HOOK_LINK_PATH, .relink = true, .old_target = st->link_target};
                        return 0;
                case HOOK_FILE_NONE:
                        break;
                case HOOK_FILE_CHAINS:
                        if (st->link_executable) { /* a wrapper of the user's that runs gpu-handoff */
                                rep->hook = HOOK_LINK_PATH;
                                return 1;
                        }
                        __attribute__((fallthrough));
                default:
                        return error_setf(ret_error, -EEXIST,
                                    "%s is there already and is not gpu-handoff's (%s): move it away, then run "
                                    "gpu-handoff hook install again",
                                    HOOK_LINK_PATH,
                                    st->link == HOOK_FILE_OTHER ? "not a file" : "a file gpu-handoff did not make");
                }
        }
        switch (st->qemu) {
        case HOOK_FILE_OURS:
                rep->hook = HOOK_QEMU_PATH;
                return 1;
        case HOOK_FILE_OURS_STALE:
                *p = (struct plan){.link = HOOK_QEMU_PATH, .relink = true, .old_target = st->qemu_target};
                return 0;
        case HOOK_FILE_CHAINS:
                if (st->qemu_executable) {
                        rep->hook = HOOK_QEMU_PATH;
                        return 1;
                }
                if (!st->hook_dir)
                        return error_setf(ret_error, -EEXIST,
                                    "%s runs gpu-handoff (line %u) but is not executable, so libvirt %s does not "
                                    "run it: chmod 755 %s",
                                    HOOK_QEMU_PATH, st->chain_line, v, HOOK_QEMU_PATH);
                break;
        case HOOK_FILE_NONE:
                break;
        default:
                if (!st->hook_dir) {
                        _cleanup_free_ char *line = hook_chain_line(sr, binary);
                        if (!line)
                                return -ENOMEM;
                        return error_setf(ret_error, -EEXIST,
                                    "libvirt %s runs only %s, and that is %s: it is left as it is. To run "
                                    "gpu-handoff too, add this line to it, before anything in it reads stdin "
                                    "(gpu-handoff reads the domain XML there):\n    %s%s",
                                    v, HOOK_QEMU_PATH,
                                    st->qemu == HOOK_FILE_DISPATCHER ? "a VFIO-Tools style dispatcher"
                                    : st->qemu == HOOK_FILE_OTHER    ? "not a file of gpu-handoff's"
                                                                     : "a hook script of yours",
                                    line,
                                    st->qemu == HOOK_FILE_DISPATCHER
                                            ? "\n(the dispatcher only runs scripts in qemu.d/VM/OPERATION/PHASE/, "
                                              "which gpu-handoff is not; libvirt 6.5 and later run it beside the "
                                              "dispatcher by themselves)"
                                            : "");
                }
                break;
        }
        *p = (struct plan){.mk_hooks = !st->hooks_exists, .mk_qemu_d = st->hook_dir && !st->qemu_d_exists,
                           .link = st->hook_dir ? HOOK_LINK_PATH : HOOK_QEMU_PATH};
        return 0;
}

static int add_step(struct step *steps, size_t *n, unsigned kind, const char *a0, const char *a1, const char *a2)
{
        const char *args[] = {a0, a1, a2};
        struct step *s = &steps[(*n)++];

        *s = (struct step){.kind = kind};
        for (size_t i = 0; i < ELEMENTSOF(args) && args[i]; i++) {
                if (!(s->args[i] = strdup(args[i])))
                        return -ENOMEM;
                s->n_args++;
        }
        return 0;
}

/* The report of what the install did, told against what was there when it started (a journal
 * undone first to repair a stale link puts back nothing the user would call a change). */
static int report_install(struct hook_report *rep, const struct hook_status *orig, const struct plan *p,
                          const char *target, bool made_state)
{
        const char *old = orig->link == HOOK_FILE_OURS_STALE && strcmp(p->link, HOOK_LINK_PATH) == 0 ? orig->link_target
                          : orig->qemu == HOOK_FILE_OURS_STALE && strcmp(p->link, HOOK_QEMU_PATH) == 0
                                  ? orig->qemu_target
                                  : NULL;

        rep->outcome = old ? HOOK_REPAIRED : HOOK_INSTALLED;
        rep->hook = p->link;
        if (!(rep->target = strdup(target)))
                return -ENOMEM;
        if ((p->mk_hooks && !orig->hooks_exists && add_change(rep, HOOK_CHANGE_CREATED, HOOK_DIR_PATH, NULL, NULL) < 0) ||
            (p->mk_qemu_d && !orig->qemu_d_exists &&
             add_change(rep, HOOK_CHANGE_CREATED, HOOK_QEMU_D_PATH, NULL, NULL) < 0) ||
            (old ? add_change(rep, HOOK_CHANGE_RELINKED, p->link, target, "%s", old)
                 : add_change(rep, HOOK_CHANGE_LINKED, p->link, target, NULL)) < 0 ||
            (made_state && add_change(rep, HOOK_CHANGE_CREATED, HOOK_STATE_DIR_PATH, NULL, NULL) < 0) ||
            add_change(rep, HOOK_CHANGE_RECORDED, HOOK_JOURNAL_PATH, NULL, NULL) < 0)
                return -ENOMEM;
        return 0;
}

/* Settles a journal before install: one a killed install or uninstall left is undone (2: look
 * again); a complete install's stays (1); 0 when there is none. */
static int journal_settle(const struct sysroot *sr, char **ret_error)
{
        _cleanup_journal_state_ struct journal_state *st = NULL;
        struct step *steps = NULL;
        size_t n = 0;
        int r = journal_read(sr, &st, ret_error);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        if (journal_state_outcome(st) == JOURNAL_OUTCOME_APPLIED)
                return 1;
        r = journal_undo(sr, "recover", &steps, &n, ret_error);
        steps_free(steps, n);
        return r < 0 ? r : 2;
}

/* What is there now, again, after a journal was undone. */
static int look_again(const struct sysroot *sr, struct dirs *d, struct hook_status **st, char **ret_error)
{
        int r;

        dirs_close(d);
        *d = (struct dirs)DIRS_NONE;
        hook_status_free(*st);
        *st = NULL;
        r = dirs_open(sr, d, ret_error);
        return r < 0 ? r : status_read(sr, d, st, ret_error);
}

int hook_install(const struct sysroot *sr, const char *binary, struct hook_report **ret, char **ret_error)
{
        _cleanup_(hook_report_freep) struct hook_report *rep = calloc(1, sizeof(*rep));
        _cleanup_(hook_status_freep) struct hook_status *orig = NULL;
        _cleanup_(dirs_close) struct dirs d = DIRS_NONE;
        _cleanup_free_ char *target = NULL, *error = NULL;
        struct change_ctx ctx = {.sr = sr};
        struct process_id self = self_id(sr);
        struct engine_run *run = NULL;
        struct step steps[3] = {0};
        struct hook_status *st;
        struct plan p = {0};
        size_t n = 0;
        bool made_state;
        int settled, r;

        if (!rep)
                return -ENOMEM;
        if (!binary || !target_ok(binary) || strcmp(strrchr(binary, '/'), "/gpu-handoff") != 0)
                return error_setf(ret_error, -EINVAL, "\"%s\" is not an absolute path ending in /gpu-handoff",
                                  binary ? binary : "");
        r = dirs_open(sr, &d, ret_error);
        if (r < 0)
                return r;
        r = status_read(sr, &d, &rep->before, ret_error);
        if (r < 0)
                return r;
        if (!rep->before->libvirt)
                return error_setf(ret_error, -ENOPKG,
                                  "libvirt is not installed (no libvirt.so.0.* below /usr/lib); install "
                                  "libvirt-daemon-system first");
        if (d.libvirt < 0)
                return error_setf(ret_error, -ENOPKG,
                                  "/etc/libvirt does not exist: libvirt's daemon is not installed; install "
                                  "libvirt-daemon-system first");
        settled = journal_settle(sr, ret_error);
        if (settled < 0)
                return settled;
        if (settled == 2 && (r = look_again(sr, &d, &rep->before, ret_error)) < 0)
                return r;
        r = decide(sr, rep->before, binary, &p, rep, ret_error);
        if (r == 0 && settled == 1) {
                /* Something to do beside a complete install's journal (a stale link of ours): that
                 * install is undone first, then made afresh, and reported against what was there at
                 * the start. */
                struct step *old = NULL;
                size_t n_old = 0;

                r = journal_undo(sr, "reinstall", &old, &n_old, ret_error);
                steps_free(old, n_old);
                if (r < 0)
                        return r;
                orig = TAKE_PTR(rep->before);
                r = look_again(sr, &d, &rep->before, ret_error);
                if (r < 0)
                        return r;
                r = decide(sr, rep->before, binary, &p, rep, ret_error);
        }
        st = rep->before;
        if (r == 0 && !target_executable(sr, -1, binary))
                r = error_setf(ret_error, -ENOEXEC,
                               "gpu-handoff is not installed as %s (libvirt would run the hook from there at every VM "
                               "start): install it first (sudo ninja -C build install)",
                               binary);
        if (r == 0 && d.varlib < 0)
                r = error_setf(ret_error, -ENOENT, "cannot write %s: /var/lib does not exist", HOOK_JOURNAL_PATH);
        if (r == 0 && !(target = hook_target(sr, binary)))
                r = -ENOMEM;
        if (r > 0) {
                const char *t = strcmp(rep->hook, HOOK_LINK_PATH) == 0 ? st->link_target : st->qemu_target;

                rep->outcome = HOOK_ALREADY_INSTALLED;
                rep->restart = st->daemon[0] && !st->daemon_saw_hook;
                if (t && !(rep->target = strdup(t)))
                        return -ENOMEM;
                *ret = TAKE_PTR(rep);
                return 0;
        }
        if (r < 0)
                return r;

        made_state = d.state < 0;
        if ((p.mk_hooks && add_step(steps, &n, HOOK_STEP_MAKE_DIR, HOOK_DIR_PATH, "0755", NULL) < 0) ||
            (p.mk_qemu_d && add_step(steps, &n, HOOK_STEP_MAKE_DIR, HOOK_QEMU_D_PATH, "0755", NULL) < 0) ||
            add_step(steps, &n, HOOK_STEP_LINK, p.link, target, p.relink ? p.old_target : "") < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = transaction_apply(&ctx, &hook_transaction, &self, "install", "", "gpu-handoff hook install", steps, n,
                              &run, &error);
        if (r < 0) {
                r = transaction_failed(r, run, &error, ret_error);
                if (made_state && !(run && !run->host_intact))
                        (void)tidy_state(d.varlib);
                goto out;
        }
        rep->restart = st->daemon[0] && !st->daemon_saw_hook;
        r = report_install(rep, orig ? orig : st, &p, target, made_state);
        if (r < 0)
                goto out;
        if (orig) { /* what was found at the start is what the user is told about */
                hook_status_free(rep->before);
                rep->before = TAKE_PTR(orig);
        }
        *ret = TAKE_PTR(rep);
out:
        engine_run_free(run);
        for (size_t i = 0; i < n; i++)
                step_done(&steps[i]);
        return r;
}

/* ---- uninstall ---- */

/* "a, b, c" of the first entries of a directory, for saying why it stays. */
static char *dir_names(int parent, const char *name)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct strv names = {0};
        struct dirent *de;
        char *s = NULL;
        size_t total = 0;

        if (opendir_at(parent, name, &dir) < 0)
                return NULL;
        while ((de = readdir(dir)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        total++;
                        if (names.n < 3 && strv_addf(&names, "%s", de->d_name) < 0)
                                break;
                }
        if (names.n) {
                FILE *f;
                size_t len;
                qsort(names.v, names.n, sizeof(char *), strv_compare);
                f = open_memstream(&s, &len);
                if (f) {
                        for (size_t i = 0; i < names.n; i++)
                                fprintf(f, "%s%s", i ? ", " : "", names.v[i]);
                        if (total > names.n)
                                fprintf(f, " and %zu more", total - names.n);
                        if (fclose(f) != 0) {
                                free(s);
                                s = NULL;
                        }
                }
        }
        strv_done(&names);
        return s;
}

/* What happened to a directory install made: removed by the undo, or kept and why. */
static int report_dir(struct hook_report *rep, int parent, const char *name, const char *path)
{
        _cleanup_free_ char *names = NULL;
        struct stat st;

        if (parent < 0 || fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return add_change(rep, HOOK_CHANGE_REMOVED, path, NULL, NULL);
        if (!S_ISDIR(st.st_mode))
                return add_change(rep, HOOK_CHANGE_KEPT, path, NULL, "no longer a directory");
        names = dir_names(parent, name);
        return add_change(rep, HOOK_CHANGE_KEPT, path, NULL, "not empty: %s", names ? names : "?");
}

static bool journal_has(const struct step *steps, size_t n, unsigned kind, const char *path)
{
        for (size_t i = 0; i < n; i++)
                if (steps[i].kind == kind && steps[i].n_args > 0 && strcmp(steps[i].args[0], path) == 0)
                        return true;
        return false;
}

int hook_uninstall(const struct sysroot *sr, struct hook_report **ret, char **ret_error)
{
        _cleanup_(hook_report_freep) struct hook_report *rep = calloc(1, sizeof(*rep));
        _cleanup_(dirs_close) struct dirs d = DIRS_NONE;
        struct step *steps = NULL;
        size_t n = 0;
        bool removed = false;
        struct hook_status *st;
        int r;

        if (!rep)
                return -ENOMEM;
        r = dirs_open(sr, &d, ret_error);
        if (r < 0)
                return r;
        r = status_read(sr, &d, &rep->before, ret_error);
        if (r < 0)
                return r;
        st = rep->before;

        /* The journal first: its link, then the directories install made while they are empty. */
        r = journal_undo(sr, "uninstall", &steps, &n, ret_error);
        if (r < 0)
                return r;
        dirs_close(&d);
        d = (struct dirs)DIRS_NONE;
        r = dirs_open(sr, &d, ret_error);
        if (r < 0)
                goto out;

        /* A link to a gpu-handoff in either place is ours, journaled or not (an install by an older
         * version): what the undo left of it goes too. */
        for (int i = 0; i < 2; i++) {
                int dirfd = i == 0 ? d.qemu_d : d.hooks;
                const char *name = i == 0 ? "gpu-handoff" : "qemu", *path = i == 0 ? HOOK_LINK_PATH : HOOK_QEMU_PATH;
                enum hook_file_kind kind = i == 0 ? st->link : st->qemu;
                const char *target = i == 0 ? st->link_target : st->qemu_target;
                struct entry now = {0};

                if (dirfd >= 0 && (r = entry_read(sr, dirfd, name, &now)) < 0) {
                        r = error_setf(ret_error, r, "cannot read %s: %s", path, strerror(-r));
                        goto out;
                }
                if (now.kind == HOOK_FILE_OURS || now.kind == HOOK_FILE_OURS_STALE) {
                        r = unlink_durable_at(dirfd, name, false);
                        if (r < 0 && r != -ENOENT) {
                                entry_done(&now);
                                r = error_setf(ret_error, r, "cannot remove %s: %s%s", path, strerror(-r),
                                               r == -EACCES || r == -EPERM ? " (run it as root)" : "");
                                goto out;
                        }
                        now.kind = HOOK_FILE_NONE;
                }
                if ((kind == HOOK_FILE_OURS || kind == HOOK_FILE_OURS_STALE) && now.kind == HOOK_FILE_NONE) {
                        r = add_change(rep, HOOK_CHANGE_REMOVED, path, target, NULL);
                        removed = true;
                } else if (kind == HOOK_FILE_CHAINS && i == 1)
                        r = add_change(rep, HOOK_CHANGE_KEPT, path, NULL,
                                       "a script of yours; it runs gpu-handoff on line %u: remove that line yourself",
                                       st->chain_line);
                else if (kind == HOOK_FILE_CHAINS)
                        r = add_change(rep, HOOK_CHANGE_KEPT, path, NULL,
                                       "a script of yours that runs gpu-handoff: remove it yourself");
                else if (journal_has(steps, n, HOOK_STEP_LINK, path) && now.kind != HOOK_FILE_NONE)
                        r = add_change(rep, HOOK_CHANGE_KEPT, path, NULL, "no longer gpu-handoff's link: it was replaced");
                else
                        r = 0;
                entry_done(&now);
                if (r < 0)
                        goto out;
        }
        /* An older version's record of its install: its link went above, its directories stay
         * (the note says so); the record itself goes. */
        if (d.state >= 0 && unlinkat(d.state, "hook-install", 0) >= 0) {
                (void)fsync(d.state);
                r = add_change(rep, HOOK_CHANGE_REMOVED, HOOK_STATE_DIR_PATH "/hook-install", NULL, NULL);
                if (r < 0)
                        goto out;
                removed = true;
        }
        /* The directories the journal says install made, as the undo left them. */
        if (journal_has(steps, n, HOOK_STEP_MAKE_DIR, HOOK_QEMU_D_PATH) &&
            (r = report_dir(rep, d.hooks, "qemu.d", HOOK_QEMU_D_PATH)) < 0)
                goto out;
        if (journal_has(steps, n, HOOK_STEP_MAKE_DIR, HOOK_DIR_PATH) &&
            (r = report_dir(rep, d.libvirt, "hooks", HOOK_DIR_PATH)) < 0)
                goto out;
        if (st->record) {
                r = add_change(rep, HOOK_CHANGE_REMOVED, HOOK_JOURNAL_PATH, NULL, NULL);
                if (r < 0)
                        goto out;
                removed = true;
        }
        if (tidy_state(d.varlib) && (r = add_change(rep, HOOK_CHANGE_REMOVED, HOOK_STATE_DIR_PATH, NULL, NULL)) < 0)
                goto out;
        rep->outcome = removed ? HOOK_UNINSTALLED : HOOK_NOT_INSTALLED;
        *ret = TAKE_PTR(rep);
        r = 0;
out:
        steps_free(steps, n);
        return r;
}
