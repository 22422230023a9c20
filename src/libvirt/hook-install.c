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

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/proc.h"
#include "basic/strv.h"
#include "basic/sysroot.h"
#include "libvirt/hook-install.h"

/* A hook script worth reading is a few KiB; a bigger one is read up to here. */
#define SCRIPT_MAX (1024 * 1024) /* larger: a script of the user's, not read further */
/* Names listed from qemu.d/ (others are counted, not named). */
#define NAMES_MAX 16
/* libvirt 6.5.0 as MAJOR * 1000000 + MINOR * 1000 + MICRO. */
#define HOOK_DIR_VERSION 6005000UL
#define NSEC_PER_SEC INT64_C(1000000000)

static const char *const item_paths[_HOOK_ITEM_MAX] = {
        [HOOK_ITEM_STATE_DIR] = "/var/lib/gpu-handoff",
        [HOOK_ITEM_HOOKS_DIR] = HOOK_DIR_PATH,
        [HOOK_ITEM_QEMU_D] = HOOK_QEMU_D_PATH,
        [HOOK_ITEM_LINK] = HOOK_LINK_PATH,
        [HOOK_ITEM_QEMU_LINK] = HOOK_QEMU_PATH,
};

static bool item_is_link(enum hook_item i)
{
        return i == HOOK_ITEM_LINK || i == HOOK_ITEM_QEMU_LINK;
}

const char *hook_item_path(enum hook_item i)
{
        return i < _HOOK_ITEM_MAX ? item_paths[i] : NULL;
}

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

/* Sets *ret_error (the first message wins) and returns r. */
_printf_(3, 4) static int fail(int r, char **ret_error, const char *fmt, ...)
{
        va_list ap;

        if (ret_error && !*ret_error) {
                va_start(ap, fmt);
                if (vasprintf(ret_error, fmt, ap) < 0)
                        *ret_error = NULL;
                va_end(ap);
        }
        return r;
}

static const char *startswith(const char *s, const char *prefix)
{
        size_t n = strlen(prefix);
        return strncmp(s, prefix, n) == 0 ? s + n : NULL;
}

static int compare_strings(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
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
                return r == -ENOENT ? 0 : fail(r, ret_error, "cannot read %s: %s", path, strerror(-r));
        }
        if (S_ISLNK(st.st_mode)) {
                _cleanup_free_ char *target = NULL;
                (void)read_link_at(parent, name, &target);
                return fail(-ELOOP, ret_error,
                            "%s is a symlink (to %s): refusing to work through it; it should be a directory", path,
                            target ? target : "?");
        }
        if (!S_ISDIR(st.st_mode))
                return fail(-ENOTDIR, ret_error, "%s is not a directory", path);
        fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
                int r = negative_errno();
                return fail(r == -ELOOP ? -ELOOP : r, ret_error, "cannot open %s: %s", path, strerror(-r));
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
                return fail(d->libvirt, ret_error, "cannot open /etc/libvirt: %s", strerror(-d->libvirt));
        r = open_subdir(d->libvirt, "hooks", HOOK_DIR_PATH, &d->hooks, ret_error);
        if (r >= 0)
                r = open_subdir(d->hooks, "qemu.d", HOOK_QEMU_D_PATH, &d->qemu_d, ret_error);
        if (r < 0)
                return r;
        d->varlib = sysroot_openat(sr, "var/lib", O_RDONLY | O_DIRECTORY);
        if (d->varlib < 0 && d->varlib != -ENOENT)
                return fail(d->varlib, ret_error, "cannot open /var/lib: %s", strerror(-d->varlib));
        return open_subdir(d->varlib, "gpu-handoff", item_paths[HOOK_ITEM_STATE_DIR], &d->state, ret_error);
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
        int fd;

        fd = openat(qemu_d, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        d = fdopendir(fd);
        if (!d) {
                int r = negative_errno();
                close(fd);
                return r;
        }
        while ((de = readdir(d))) {
                struct entry e;
                struct stat st;
                int r;

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
                qsort(ret->others.v, ret->others.n, sizeof(char *), compare_strings);
        if (ret->vm_dirs.n)
                qsort(ret->vm_dirs.v, ret->vm_dirs.n, sizeof(char *), compare_strings);
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
                        int64_t ns = (int64_t)(id.start_time % (uint64_t)ticks) * NSEC_PER_SEC / ticks;
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
        s->record = d->state >= 0 && faccessat(d->state, "hook-install", F_OK, AT_SYMLINK_NOFOLLOW) == 0;
        find_daemon(sr, s, &start, &start_known);
        /* btime is truncated to the second: an entry may have come up to 1 s after what the
         * daemon start computes to and still have been there when the daemon looked. */
        start.tv_sec += 1;

        r = entry_read(sr, d->hooks, "qemu", &qemu);
        if (r < 0) {
                r = fail(r, ret_error, "cannot read %s: %s", HOOK_QEMU_PATH, strerror(-r));
                goto out;
        }
        r = entry_read(sr, d->qemu_d, "gpu-handoff", &link);
        if (r < 0) {
                r = fail(r, ret_error, "cannot read %s: %s", HOOK_LINK_PATH, strerror(-r));
                goto out;
        }
        if (d->qemu_d >= 0) {
                r = scan_qemu_d(sr, d->qemu_d, start_known ? &start : NULL, &scan);
                if (r < 0) {
                        r = fail(r, ret_error, "cannot read %s: %s", HOOK_QEMU_D_PATH, strerror(-r));
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

/* ---- the record ---- */

void hook_record_done(struct hook_record *r)
{
        for (size_t i = 0; i < _HOOK_ITEM_MAX; i++) {
                free(r->target[i]);
                r->target[i] = NULL;
                r->has[i] = false;
        }
}

static bool target_ok(const char *t)
{
        if (t[0] != '/' || strlen(t) >= 4096 || !ours_target(t))
                return false;
        for (const char *p = t; *p; p++)
                if ((unsigned char)*p < 0x20 || *p == 0x7f)
                        return false;
        return true;
}

int hook_record_parse(const char *text, size_t len, struct hook_record *ret, char **ret_error)
{
        struct hook_record r = {0};
        unsigned line = 0;

        if (memchr(text, '\0', len)) {
                fail(-EBADMSG, ret_error, "%s: not a text file", HOOK_RECORD_PATH);
                return -EBADMSG;
        }
        for (const char *p = text, *end = text + len; p < end;) {
                const char *eol = memchr(p, '\n', (size_t)(end - p));
                char buf[4200], *words[4] = {0}, *save = NULL;
                size_t n = 0, l;
                int item = -1;

                if (!eol)
                        eol = end;
                l = (size_t)(eol - p);
                line++;
                if (l >= sizeof(buf)) {
                        fail(-EBADMSG, ret_error, "%s:%u: line too long", HOOK_RECORD_PATH, line);
                        goto bad;
                }
                memcpy(buf, p, l);
                buf[l] = '\0';
                p = eol + 1;
                for (char *w = strtok_r(buf, " \t", &save); w; w = strtok_r(NULL, " \t", &save))
                        if (n < ELEMENTSOF(words))
                                words[n++] = w;
                        else
                                n++;
                if (n == 0 || words[0][0] == '#')
                        continue;
                for (int i = 0; i < _HOOK_ITEM_MAX; i++)
                        if (n >= 2 && strcmp(words[1], item_paths[i]) == 0)
                                item = i;
                if (strcmp(words[0], "dir") != 0 && strcmp(words[0], "link") != 0) {
                        fail(-EBADMSG, ret_error, "%s:%u: expected \"dir PATH\" or \"link PATH TARGET\", not \"%.64s\"",
                             HOOK_RECORD_PATH, line, words[0]);
                        goto bad;
                }
                if (n < 2 || item < 0) {
                        fail(-EBADMSG, ret_error,
                             "%s:%u: \"%.64s\" is not a path gpu-handoff hook install makes; refusing to act on "
                             "this record",
                             HOOK_RECORD_PATH, line, n < 2 ? "" : words[1]);
                        goto bad;
                }
                if (item_is_link(item) != (strcmp(words[0], "link") == 0) || n != (item_is_link(item) ? 3u : 2u)) {
                        fail(-EBADMSG, ret_error, "%s:%u: expected \"%s %s%s\"", HOOK_RECORD_PATH, line,
                             item_is_link(item) ? "link" : "dir", item_paths[item],
                             item_is_link(item) ? " TARGET" : "");
                        goto bad;
                }
                if (r.has[item]) {
                        fail(-EBADMSG, ret_error, "%s:%u: %s is named twice", HOOK_RECORD_PATH, line, item_paths[item]);
                        goto bad;
                }
                if (item_is_link(item)) {
                        if (!target_ok(words[2])) {
                                fail(-EBADMSG, ret_error,
                                     "%s:%u: the link's target \"%.64s\" is not an absolute path to a gpu-handoff",
                                     HOOK_RECORD_PATH, line, words[2]);
                                goto bad;
                        }
                        r.target[item] = strdup(words[2]);
                        if (!r.target[item]) {
                                hook_record_done(&r);
                                return -ENOMEM;
                        }
                }
                r.has[item] = true;
        }
        *ret = r;
        return 0;
bad:
        hook_record_done(&r);
        return -EBADMSG;
}

char *hook_record_format(const struct hook_record *r)
{
        char *s = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&s, &len);

        if (!f)
                return NULL;
        fputs("# Made by \"gpu-handoff hook install\": what \"gpu-handoff hook uninstall\" removes again.\n", f);
        for (int i = 0; i < _HOOK_ITEM_MAX; i++)
                if (r->has[i]) {
                        if (item_is_link(i))
                                fprintf(f, "link %s %s\n", item_paths[i], r->target[i]);
                        else
                                fprintf(f, "dir %s\n", item_paths[i]);
                }
        if (fclose(f) != 0) {
                free(s);
                return NULL;
        }
        return s;
}

/* *ret_exists false and nothing in *ret when there is no record. */
static int record_read(int state, struct hook_record *ret, bool *ret_exists, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        *ret_exists = false;
        if (state < 0)
                return 0;
        fd = openat(state, "hook-install", O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                r = negative_errno();
                if (r == -ENOENT)
                        return 0;
                if (r == -ELOOP)
                        return fail(-EBADMSG, ret_error, "%s is a symlink; refusing to follow it", HOOK_RECORD_PATH);
                return fail(r, ret_error, "cannot read %s: %s", HOOK_RECORD_PATH, strerror(-r));
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return fail(-EBADMSG, ret_error, "%s is not a regular file", HOOK_RECORD_PATH);
        r = read_fd_full(fd, HOOK_RECORD_MAX, &text, &len);
        if (r == -EFBIG)
                return fail(-EBADMSG, ret_error, "%s is larger than %d bytes: not a record of hook install",
                            HOOK_RECORD_PATH, HOOK_RECORD_MAX);
        if (r < 0)
                return fail(r, ret_error, "cannot read %s: %s", HOOK_RECORD_PATH, strerror(-r));
        r = hook_record_parse(text, len, ret, ret_error);
        if (r < 0)
                return r;
        *ret_exists = true;
        return 0;
}

/* The record is the old one or the new one (basic/fileio). */
static int record_write(int state, const struct hook_record *rec, char **ret_error)
{
        _cleanup_free_ char *text = hook_record_format(rec);
        int r;

        if (!text)
                return -ENOMEM;
        r = atomic_write_at(state, "hook-install", text, strlen(text), 0644, NULL);
        if (r < 0)
                return fail(r, ret_error, "cannot write %s: %s", HOOK_RECORD_PATH, strerror(-r));
        return 0;
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
        bool mk_state, mk_hooks, mk_qemu_d;
        enum hook_item link; /* HOOK_ITEM_LINK or HOOK_ITEM_QEMU_LINK */
        bool relink;         /* replace a stale link of ours */
        char *old_target;
};

/* mkdir with exactly 0755 whatever the umask, then opened without following a symlink. */
static int make_dir(int parent, const char *name, const char *path, int *ret, char **ret_error)
{
        int r;

        if (mkdirat(parent, name, 0755) < 0) {
                r = negative_errno();
                return fail(r, ret_error, "cannot create %s: %s%s", path, strerror(-r),
                            r == -EACCES || r == -EPERM ? " (run it as root)" : "");
        }
        r = open_subdir(parent, name, path, ret, ret_error);
        if (r >= 0 && *ret < 0)
                r = fail(-ENOENT, ret_error, "%s vanished as it was created", path);
        if (r >= 0 && fchmod(*ret, 0755) < 0)
                r = fail(negative_errno(), ret_error, "cannot set the mode of %s: %s", path, strerror(errno));
        if (r >= 0 && fsync(parent) < 0)
                r = fail(negative_errno(), ret_error, "cannot sync %s: %s", path, strerror(errno));
        if (r < 0) {
                closep(ret);
                *ret = -1;
                (void)unlinkat(parent, name, AT_REMOVEDIR);
        }
        return r;
}

static int make_link(int dirfd, const char *name, const char *path, const char *target, bool replace,
                     char **ret_error)
{
        static const char tmp[] = ".gpu-handoff.new";
        int r = 0;

        /* Replacing: a new link renamed over the old one, so libvirt always finds one. */
        if (symlinkat(target, dirfd, replace ? tmp : name) < 0)
                r = negative_errno();
        if (r >= 0 && replace && renameat(dirfd, tmp, dirfd, name) < 0) {
                r = negative_errno();
                (void)unlinkat(dirfd, tmp, 0);
        }
        if (r >= 0 && fsync(dirfd) < 0)
                r = negative_errno();
        if (r < 0)
                return fail(r, ret_error, "cannot create %s: %s%s", path, strerror(-r),
                            r == -EACCES || r == -EPERM ? " (run it as root)" : "");
        return 0;
}

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
                        *p = (struct plan){.link = HOOK_ITEM_LINK, .relink = true, .old_target = st->link_target};
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
                        return fail(-EEXIST, ret_error,
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
                *p = (struct plan){.link = HOOK_ITEM_QEMU_LINK, .relink = true, .old_target = st->qemu_target};
                return 0;
        case HOOK_FILE_CHAINS:
                if (st->qemu_executable) {
                        rep->hook = HOOK_QEMU_PATH;
                        return 1;
                }
                if (!st->hook_dir)
                        return fail(-EEXIST, ret_error,
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
                        return fail(-EEXIST, ret_error,
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
                           .link = st->hook_dir ? HOOK_ITEM_LINK : HOOK_ITEM_QEMU_LINK};
        return 0;
}

/* Undoes a failed install, last change first; best effort (the error is already set). */
static void roll_back(struct dirs *d, const struct plan *p, bool linked, bool made_qemu_d, bool made_hooks,
                      bool recorded, bool made_state, bool had_record, const struct hook_record *old)
{
        if (linked && !p->relink)
                (void)unlinkat(p->link == HOOK_ITEM_LINK ? d->qemu_d : d->hooks,
                               p->link == HOOK_ITEM_LINK ? "gpu-handoff" : "qemu", 0);
        if (made_qemu_d)
                (void)unlinkat(d->hooks, "qemu.d", AT_REMOVEDIR);
        if (made_hooks)
                (void)unlinkat(d->libvirt, "hooks", AT_REMOVEDIR);
        if (recorded) {
                if (had_record)
                        (void)record_write(d->state, old, NULL);
                else
                        (void)unlinkat(d->state, "hook-install", 0);
        }
        if (made_state)
                (void)unlinkat(d->varlib, "gpu-handoff", AT_REMOVEDIR);
}

int hook_install(const struct sysroot *sr, const char *binary, struct hook_report **ret, char **ret_error)
{
        _cleanup_(hook_report_freep) struct hook_report *rep = calloc(1, sizeof(*rep));
        _cleanup_(dirs_close) struct dirs d = DIRS_NONE;
        _cleanup_free_ char *target = NULL;
        struct hook_record old = {0}, rec = {0};
        bool had_record = false, linked = false, made_qemu_d = false, made_hooks = false, recorded = false,
             made_state = false;
        struct hook_status *st;
        struct plan p = {0};
        int r;

        if (!rep)
                return -ENOMEM;
        if (!binary || !target_ok(binary) || strcmp(strrchr(binary, '/'), "/gpu-handoff") != 0)
                return fail(-EINVAL, ret_error, "\"%s\" is not an absolute path ending in /gpu-handoff",
                            binary ? binary : "");
        r = dirs_open(sr, &d, ret_error);
        if (r < 0)
                return r;
        r = status_read(sr, &d, &rep->before, ret_error);
        if (r < 0)
                return r;
        st = rep->before;
        if (!st->libvirt)
                return fail(-ENOPKG, ret_error,
                            "libvirt is not installed (no libvirt.so.0.* below /usr/lib); install "
                            "libvirt-daemon-system first");
        if (d.libvirt < 0)
                return fail(-ENOPKG, ret_error,
                            "/etc/libvirt does not exist: libvirt's daemon is not installed; install "
                            "libvirt-daemon-system first");
        r = record_read(d.state, &old, &had_record, ret_error);
        if (r < 0)
                return r;

        r = decide(sr, st, binary, &p, rep, ret_error);
        if (r == 0 && !target_executable(sr, -1, binary))
                r = fail(-ENOEXEC, ret_error,
                         "gpu-handoff is not installed as %s (libvirt would run the hook from there at every VM "
                         "start): install it first (sudo ninja -C build install)",
                         binary);
        if (r == 0 && d.varlib < 0)
                r = fail(-ENOENT, ret_error, "cannot write %s: /var/lib does not exist", HOOK_RECORD_PATH);
        if (r == 0 && !(target = hook_target(sr, binary)))
                r = -ENOMEM;
        if (r != 0) {
                if (r > 0) {
                        rep->outcome = HOOK_ALREADY_INSTALLED;
                        rep->restart = st->daemon[0] && !st->daemon_saw_hook;
                        r = 0;
                        const char *t = strcmp(rep->hook, HOOK_LINK_PATH) == 0 ? st->link_target : st->qemu_target;
                        if (t && !(rep->target = strdup(t)))
                                r = -ENOMEM;
                        if (r >= 0)
                                *ret = TAKE_PTR(rep);
                }
                hook_record_done(&old);
                return r;
        }

        /* The record first: a crash halfway leaves a record of more than was done, which
         * uninstall copes with, never a change it does not know of. */
        for (int i = 0; i < _HOOK_ITEM_MAX; i++)
                if (old.has[i] && !(item_is_link(i) && (int)p.link == i)) {
                        rec.has[i] = true;
                        if (old.target[i] && !(rec.target[i] = strdup(old.target[i]))) {
                                r = -ENOMEM;
                                goto fail;
                        }
                }
        p.mk_state = d.state < 0;
        rec.has[HOOK_ITEM_STATE_DIR] |= p.mk_state;
        rec.has[HOOK_ITEM_HOOKS_DIR] |= p.mk_hooks;
        rec.has[HOOK_ITEM_QEMU_D] |= p.mk_qemu_d;
        rec.has[p.link] = true;
        rec.target[p.link] = strdup(target);
        if (!rec.target[p.link]) {
                r = -ENOMEM;
                goto fail;
        }
        if (p.mk_state) {
                r = make_dir(d.varlib, "gpu-handoff", item_paths[HOOK_ITEM_STATE_DIR], &d.state, ret_error);
                if (r < 0)
                        goto fail;
                made_state = true;
        }
        r = record_write(d.state, &rec, ret_error);
        if (r < 0)
                goto fail;
        recorded = true;
        if (p.mk_hooks) {
                r = make_dir(d.libvirt, "hooks", HOOK_DIR_PATH, &d.hooks, ret_error);
                if (r < 0)
                        goto fail;
                made_hooks = true;
        }
        if (p.mk_qemu_d) {
                r = make_dir(d.hooks, "qemu.d", HOOK_QEMU_D_PATH, &d.qemu_d, ret_error);
                if (r < 0)
                        goto fail;
                made_qemu_d = true;
        }
        r = make_link(p.link == HOOK_ITEM_LINK ? d.qemu_d : d.hooks, p.link == HOOK_ITEM_LINK ? "gpu-handoff" : "qemu",
                      item_paths[p.link], target, p.relink, ret_error);
        if (r < 0)
                goto fail;
        linked = true;

        rep->outcome = p.relink ? HOOK_REPAIRED : HOOK_INSTALLED;
        rep->hook = item_paths[p.link];
        rep->target = TAKE_PTR(target);
        rep->restart = st->daemon[0] && !st->daemon_saw_hook;
        if (!rep->target || (made_hooks && add_change(rep, HOOK_CHANGE_CREATED, HOOK_DIR_PATH, NULL, NULL) < 0) ||
            (made_qemu_d && add_change(rep, HOOK_CHANGE_CREATED, HOOK_QEMU_D_PATH, NULL, NULL) < 0) ||
            (p.relink ? add_change(rep, HOOK_CHANGE_RELINKED, item_paths[p.link], rep->target, "%s", p.old_target)
                      : add_change(rep, HOOK_CHANGE_LINKED, item_paths[p.link], rep->target, NULL)) < 0 ||
            (made_state && add_change(rep, HOOK_CHANGE_CREATED, item_paths[HOOK_ITEM_STATE_DIR], NULL, NULL) < 0) ||
            add_change(rep, HOOK_CHANGE_RECORDED, HOOK_RECORD_PATH, NULL, NULL) < 0) {
                r = -ENOMEM; /* done, but it cannot be told: better undone */
                goto fail;
        }
        hook_record_done(&old);
        hook_record_done(&rec);
        *ret = TAKE_PTR(rep);
        return 0;
fail:
        roll_back(&d, &p, linked, made_qemu_d, made_hooks, recorded, made_state, had_record, &old);
        hook_record_done(&old);
        hook_record_done(&rec);
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
        int fd = openat(parent, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

        if (fd < 0)
                return NULL;
        dir = fdopendir(fd);
        if (!dir) {
                close(fd);
                return NULL;
        }
        while ((de = readdir(dir)))
                if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0) {
                        total++;
                        if (names.n < 3 && strv_addf(&names, "%s", de->d_name) < 0)
                                break;
                }
        if (names.n) {
                FILE *f;
                size_t len;
                qsort(names.v, names.n, sizeof(char *), compare_strings);
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

/* Removes a directory install made, when it is empty. */
static int remove_dir(struct hook_report *rep, int parent, const char *name, const char *path, char **ret_error)
{
        _cleanup_free_ char *names = NULL;
        int r;

        if (parent < 0)
                return 0;
        if (unlinkat(parent, name, AT_REMOVEDIR) >= 0) {
                if (fsync(parent) < 0)
                        return fail(negative_errno(), ret_error, "cannot sync %s: %s", path, strerror(errno));
                return add_change(rep, HOOK_CHANGE_REMOVED, path, NULL, NULL);
        }
        r = negative_errno();
        if (r == -ENOENT)
                return 0;
        if (r == -ENOTEMPTY || r == -EEXIST) {
                names = dir_names(parent, name);
                return add_change(rep, HOOK_CHANGE_KEPT, path, NULL, "not empty: %s", names ? names : "?");
        }
        if (r == -ENOTDIR)
                return add_change(rep, HOOK_CHANGE_KEPT, path, NULL, "no longer a directory");
        return fail(r, ret_error, "cannot remove %s: %s%s", path, strerror(-r),
                    r == -EACCES || r == -EPERM ? " (run it as root)" : "");
}

int hook_uninstall(const struct sysroot *sr, struct hook_report **ret, char **ret_error)
{
        _cleanup_(hook_report_freep) struct hook_report *rep = calloc(1, sizeof(*rep));
        _cleanup_(dirs_close) struct dirs d = DIRS_NONE;
        struct hook_record rec = {0};
        bool had_record = false, removed = false;
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
        r = record_read(d.state, &rec, &had_record, ret_error);
        if (r < 0)
                return r;

        /* A link to a gpu-handoff in either place is ours, recorded or not. */
        for (int i = HOOK_ITEM_LINK; i <= HOOK_ITEM_QEMU_LINK; i++) {
                int dirfd = i == HOOK_ITEM_LINK ? d.qemu_d : d.hooks;
                const char *name = i == HOOK_ITEM_LINK ? "gpu-handoff" : "qemu";
                enum hook_file_kind kind = i == HOOK_ITEM_LINK ? st->link : st->qemu;
                const char *target = i == HOOK_ITEM_LINK ? st->link_target : st->qemu_target;

                if (kind == HOOK_FILE_OURS || kind == HOOK_FILE_OURS_STALE) {
                        if (unlinkat(dirfd, name, 0) < 0 || fsync(dirfd) < 0) {
                                r = negative_errno();
                                r = fail(r, ret_error, "cannot remove %s: %s%s", item_paths[i], strerror(-r),
                                         r == -EACCES || r == -EPERM ? " (run it as root)" : "");
                                goto out;
                        }
                        r = add_change(rep, HOOK_CHANGE_REMOVED, item_paths[i], target, NULL);
                        removed = true;
                } else if (kind == HOOK_FILE_CHAINS && i == HOOK_ITEM_QEMU_LINK)
                        r = add_change(rep, HOOK_CHANGE_KEPT, item_paths[i], NULL,
                                       "a script of yours; it runs gpu-handoff on line %u: remove that line yourself",
                                       st->chain_line);
                else if (kind == HOOK_FILE_CHAINS)
                        r = add_change(rep, HOOK_CHANGE_KEPT, item_paths[i], NULL,
                                       "a script of yours that runs gpu-handoff: remove it yourself");
                else if (rec.has[i] && kind != HOOK_FILE_NONE)
                        r = add_change(rep, HOOK_CHANGE_KEPT, item_paths[i], NULL,
                                       "no longer gpu-handoff's link: it was replaced");
                else
                        r = 0;
                if (r < 0)
                        goto out;
        }
        /* Directories only as the record says, and only when empty. */
        if (rec.has[HOOK_ITEM_QEMU_D]) {
                r = remove_dir(rep, d.hooks, "qemu.d", HOOK_QEMU_D_PATH, ret_error);
                if (r < 0)
                        goto out;
        }
        if (rec.has[HOOK_ITEM_HOOKS_DIR]) {
                r = remove_dir(rep, d.libvirt, "hooks", HOOK_DIR_PATH, ret_error);
                if (r < 0)
                        goto out;
        }
        if (had_record) {
                if (unlinkat(d.state, "hook-install", 0) < 0 || fsync(d.state) < 0) {
                        r = negative_errno();
                        r = fail(r, ret_error, "cannot remove %s: %s", HOOK_RECORD_PATH, strerror(-r));
                        goto out;
                }
                r = add_change(rep, HOOK_CHANGE_REMOVED, HOOK_RECORD_PATH, NULL, NULL);
                if (r < 0)
                        goto out;
                removed = true;
        }
        if (rec.has[HOOK_ITEM_STATE_DIR]) {
                r = remove_dir(rep, d.varlib, "gpu-handoff", item_paths[HOOK_ITEM_STATE_DIR], ret_error);
                if (r < 0)
                        goto out;
        }
        rep->outcome = removed ? HOOK_UNINSTALLED : HOOK_NOT_INSTALLED;
        *ret = TAKE_PTR(rep);
        r = 0;
out:
        hook_record_done(&rec);
        return r;
}
