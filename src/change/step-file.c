/* SPDX-License-Identifier: GPL-2.0-or-later */
/* File steps: create, replace, remove, symlink, make-dir, with before-images and drift checks
 * (see step-file.h). */

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/sysroot.h"
#include "change/dir.h"
#include "change/journal.h"
#include "change/step-file.h"

#define IMAGE_MAGIC "gpu-handoff before-image 1"
#define NOTE_IMAGE "before-image"
/* The note of a step that had nothing to keep, written before its change: a revert without it
 * knows that apply refused (or was killed) before changing anything, so that whatever is there
 * is not its to remove. */
#define NOTE_CHANGING "changing"

bool step_file_changing(const struct change_ctx *ctx)
{
        return step_note_get(ctx, NOTE_CHANGING) != NULL;
}

static int note_changing(const struct change_ctx *ctx, const char *path, char **message)
{
        int r = step_note(ctx, NOTE_CHANGING, "yes");

        return r < 0 ? step_fail(message, r, "cannot journal the change of %s: %s", path, strerror(-r)) : 0;
}

/* ---- what is at a path ---- */

/* Whether a and b name the same absolute path, repeated slashes and a trailing one aside. */
static bool same_path(const char *a, const char *b)
{
        for (;;) {
                while (*a == '/')
                        a++;
                while (*b == '/')
                        b++;
                if (!*a || !*b)
                        return !*a && !*b;
                for (; *a && *a != '/' && *a == *b; a++, b++)
                        ;
                if ((*a && *a != '/') || (*b && *b != '/'))
                        return false;
        }
}

/* Whether the transaction makes the directory path[0..len): a make-dir step of its journal. */
static bool made_by_transaction(const struct change_ctx *ctx, const char *path, size_t len)
{
        const struct journal_state *st = ctx->journal ? journal_get_state(ctx->journal) : NULL;
        _cleanup_free_ char *dir = strndup(path, len);

        if (!dir)
                return true; /* out of memory: the strict way */
        for (size_t i = 0; st && i < st->n_steps; i++) {
                const struct journal_step *js = &st->steps[i];
                if (strcmp(js->kind, STEP_FILE_MAKE_DIR) == 0 && js->n_args > 0 && same_path(js->args[0], dir))
                        return true;
        }
        return false;
}

int step_file_open_parent(const struct change_ctx *ctx, const char *path, int *ret, const char **ret_name)
{
        _cleanup_free_ char *above = NULL;
        _cleanup_close_ int fd = -1;
        const char *p = path, *slash, *walk = NULL, *name = NULL;

        if (path[0] != '/')
                return -EINVAL;
        /* Every component checked first; walk: the first directory the transaction makes. */
        for (p = path;;) {
                size_t n;

                while (*p == '/')
                        p++;
                slash = strchr(p, '/');
                n = slash ? (size_t)(slash - p) : strlen(p);
                if (n == 0 || n > NAME_MAX || (n == 1 && p[0] == '.') || (n == 2 && p[0] == '.' && p[1] == '.'))
                        return -EINVAL;
                if (!slash)
                        break;
                if (!slash[strspn(slash, "/")]) /* a trailing slash: no name */
                        return -EINVAL;
                if (!walk && made_by_transaction(ctx, path, (size_t)(slash - path)))
                        walk = p;
                p = slash + 1;
        }
        name = p;
        /* What lies above it is the host's, and may be a symlink inside the root (a distribution's
         * /etc/libvirt, or /etc itself): resolved through the root. */
        above = strndup(path, (size_t)((walk ? walk : name) - path));
        if (!above)
                return -ENOMEM;
        fd = sysroot_openat(ctx->sr, above, O_RDONLY | O_DIRECTORY);
        if (fd < 0)
                return fd;
        /* What the transaction made is opened one component at a time, never through a symlink:
         * one that is there now was put there by someone else. */
        for (p = walk; p;) {
                char comp[NAME_MAX + 1];
                size_t n;
                int next;

                while (*p == '/')
                        p++;
                if (p == name)
                        break;
                slash = strchr(p, '/');
                n = (size_t)(slash - p);
                memcpy(comp, p, n);
                comp[n] = '\0';
                next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
                if (next < 0) {
                        struct stat st;
                        int r = negative_errno();
                        /* O_NOFOLLOW | O_DIRECTORY answers a symlink with ENOTDIR: tell the two apart */
                        if (r == -ENOTDIR && fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode))
                                r = -ELOOP;
                        return r;
                }
                close(fd);
                fd = next;
                p = slash + 1;
        }
        *ret = TAKE_FD(fd);
        *ret_name = name;
        return 0;
}

struct entry {
        bool exists;
        mode_t type; /* S_IFREG, S_IFLNK, S_IFDIR, ... */
        mode_t mode; /* permission bits */
        uid_t uid;
        gid_t gid;
        char *content; /* a regular file's bytes */
        size_t len;
        char *label; /* its security.selinux, or NULL */
        size_t label_len;
        char *target; /* a symlink's */
};

static void entry_done(struct entry *e)
{
        free(e->content);
        free(e->label);
        free(e->target);
        *e = (struct entry){0};
}

static int entry_read(int dirfd, const char *name, struct entry *ret)
{
        _cleanup_close_ int fd = -1;
        struct stat st;
        int r;

        *ret = (struct entry){0};
        if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : negative_errno();
        *ret = (struct entry){.exists = true, .type = st.st_mode & S_IFMT, .mode = st.st_mode & 07777,
                              .uid = st.st_uid, .gid = st.st_gid};
        if (S_ISLNK(st.st_mode))
                return read_link_at(dirfd, name, &ret->target);
        if (!S_ISREG(st.st_mode))
                return 0;
        fd = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = read_fd_full(fd, STEP_FILE_MAX, &ret->content, &ret->len);
        if (r >= 0)
                r = label_read_fd(fd, &ret->label, &ret->label_len);
        if (r < 0)
                entry_done(ret);
        return r < 0 ? r : 0;
}

/* ---- digests ---- */

char *file_digest(const void *data, size_t len)
{
        const unsigned char *p = data;
        uint64_t h = UINT64_C(14695981039346656037);
        char *s = NULL;

        for (size_t i = 0; i < len; i++) {
                h ^= p[i];
                h *= UINT64_C(1099511628211);
        }
        return asprintf(&s, "%zu:%016" PRIx64, len, h) < 0 ? NULL : s;
}

static bool digest_matches(const struct entry *e, const char *expect)
{
        _cleanup_free_ char *d = NULL;

        if (!e->exists || e->type != S_IFREG)
                return false;
        d = file_digest(e->content, e->len);
        return d && strcmp(d, expect) == 0;
}

/* ---- arguments ---- */

static const char *arg(const struct step *s, size_t i)
{
        return i < s->n_args && s->args[i] ? s->args[i] : "";
}

/* "0644" -> 0644; -1 when it is not a mode. */
static int parse_mode(const char *s)
{
        char *end;
        long m;

        if (!*s || *s == '-')
                return -1;
        errno = 0;
        m = strtol(s, &end, 8);
        return errno || *end || m < 0 || m > 07777 ? -1 : (int)m;
}

/* What differs between the entry and what was meant, for a message: "its content", "it is gone". */
static const char *what_differs(const struct entry *e, mode_t type, const char *content, size_t len, int mode,
                                const char *target)
{
        if (!e->exists)
                return "it is gone";
        if (e->type != type)
                return e->type == S_IFDIR ? "it is a directory now" : e->type == S_IFLNK ? "it is a symlink now"
                                                                                        : "it is another kind of file now";
        if (target && strcmp(e->target, target) != 0)
                return "it points elsewhere";
        if (content && (e->len != len || memcmp(e->content, content, len) != 0))
                return "its content";
        if (mode >= 0 && e->mode != (mode_t)mode)
                return "its mode";
        return NULL;
}

static int refuse_drift(char **message, const char *path, const char *differs)
{
        return step_fail(message, -ESTALE,
                         "%s was changed since gpu-handoff wrote it (%s): left as it is, not put back", path, differs);
}

static int refuse_stale_plan(char **message, const char *path, const char *why)
{
        return step_fail(message, -ESTALE, "%s changed since the plan was made (%s): plan again from what is there now",
                         path, why);
}

static int io_fail(char **message, int r, const char *what, const char *path)
{
        return step_fail(message, r, "cannot %s %s: %s%s", what, path, strerror(-r),
                         r == -EACCES || r == -EPERM ? " (run it as root)" : "");
}

/* ---- before-images ---- */

static void image_name(const struct change_ctx *ctx, char buf[static 32])
{
        snprintf(buf, 32, "before-%zu", step_journal_index(ctx));
}

static int image_dir(const struct change_ctx *ctx)
{
        const char *dir = step_journal_dir(ctx);

        return dir ? change_dir_open(ctx->sr, dir, false, NULL) : -EPROTO;
}

/* The image: a header of "KEY VALUE" lines, an empty line, the bytes. */
static int image_write(const struct change_ctx *ctx, const struct entry *e)
{
        _cleanup_close_ int dfd = image_dir(ctx);
        _cleanup_free_ char *label = NULL, *text = NULL;
        char name[32];
        size_t hlen, len;
        int n;

        if (dfd < 0)
                return dfd;
        if (e->label) {
                _cleanup_free_ char *l = strndup(e->label, e->label_len);
                if (!l || !(label = journal_escape(l)))
                        return -ENOMEM;
        }
        n = asprintf(&text, IMAGE_MAGIC "\nmode %04o\nuid %u\ngid %u\nlabel %s\n\n", (unsigned)e->mode,
                     (unsigned)e->uid, (unsigned)e->gid, label ? label : "-");
        if (n < 0)
                return -ENOMEM;
        hlen = (size_t)n;
        len = hlen + e->len;
        {
                char *all = realloc(text, len + 1);
                if (!all)
                        return -ENOMEM;
                text = all;
        }
        memcpy(text + hlen, e->content, e->len);
        image_name(ctx, name);
        return atomic_write_at(dfd, name, text, len, 0600, NULL);
}

/* 0 with the image in *ret (exists false when there is none); -EBADMSG for one that is not. */
static int image_read(const struct change_ctx *ctx, struct entry *ret)
{
        _cleanup_close_ int dfd = image_dir(ctx);
        _cleanup_free_ char *text = NULL;
        char name[32], label[4200];
        unsigned mode, uid, gid;
        const char *body;
        size_t len = 0;
        int r;

        *ret = (struct entry){0};
        if (dfd < 0)
                return dfd;
        image_name(ctx, name);
        r = read_file_at(dfd, name, STEP_FILE_MAX + 4096, &text, &len);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        body = memmem(text, len, "\n\n", 2);
        if (!body || sscanf(text, IMAGE_MAGIC "\nmode %o\nuid %u\ngid %u\nlabel %4199s\n", &mode, &uid, &gid, label) != 4)
                return -EBADMSG;
        body += 2;
        *ret = (struct entry){.exists = true, .type = S_IFREG, .mode = mode & 07777, .uid = uid, .gid = gid,
                              .len = len - (size_t)(body - text)};
        ret->content = malloc(ret->len + 1);
        if (!ret->content)
                return -ENOMEM;
        memcpy(ret->content, body, ret->len);
        ret->content[ret->len] = '\0';
        if (strcmp(label, "-") != 0) {
                r = journal_unescape(label, strlen(label), &ret->label);
                if (r < 0) {
                        entry_done(ret);
                        return -EBADMSG;
                }
                ret->label_len = strlen(ret->label);
        }
        return 0;
}

static int image_remove(const struct change_ctx *ctx)
{
        _cleanup_close_ int dfd = image_dir(ctx);
        char name[32];
        int r;

        if (dfd < 0)
                return dfd;
        image_name(ctx, name);
        r = unlink_durable_at(dfd, name, false);
        return r == -ENOENT ? 0 : r;
}

/* Saves what is at path, durably, and notes it, before the change. */
static int image_save(const struct change_ctx *ctx, const struct entry *e, const char *path, char **message)
{
        char name[32];
        int r = image_write(ctx, e);

        if (r < 0)
                return io_fail(message, r, "save what is in", path);
        image_name(ctx, name);
        r = step_note(ctx, NOTE_IMAGE, name);
        if (r < 0)
                return step_fail(message, r, "cannot journal the copy of %s: %s", path, strerror(-r));
        return 0;
}

/* Writes the image back to dirfd/name with its mode, owner and label. */
static int image_restore(int dirfd, const char *name, const struct entry *img)
{
        struct file_keep keep = {.uid = img->uid, .gid = img->gid, .label = img->label, .label_len = img->label_len};

        return atomic_write_at(dirfd, name, img->content, img->len, img->mode, &keep);
}

/* What apply finds at path: the entry in *ret, its directory open in *ret_dfd. */
static int apply_find(const struct change_ctx *ctx, const char *path, int *ret_dfd, const char **ret_name,
                      struct entry *ret, char **message)
{
        _cleanup_close_ int dfd = -1;
        int r = step_file_open_parent(ctx, path, &dfd, ret_name);

        if (r < 0)
                return io_fail(message, r, "open the directory of", path);
        r = entry_read(dfd, *ret_name, ret);
        if (r < 0)
                return io_fail(message, r, "read", path);
        *ret_dfd = TAKE_FD(dfd);
        return 0;
}

/* ---- create-file ---- */

/* For the kinds that make an entry where there is none (create-file, make-dir): the mode, and
 * the place checked to be free and the change noted; then the caller makes it. */
static int prepare_new(const struct change_ctx *ctx, const struct step *s, int *ret_dfd, const char **ret_name,
                       mode_t *ret_mode, char **message)
{
        const char *path = arg(s, 0);
        int mode = parse_mode(arg(s, 1)), r;
        struct entry e;

        if (mode < 0)
                return step_fail(message, -EINVAL, "bad mode \"%s\" for %s", arg(s, 1), path);
        r = apply_find(ctx, path, ret_dfd, ret_name, &e, message);
        if (r < 0)
                return r;
        if (e.exists) {
                entry_done(&e);
                return refuse_stale_plan(message, path, "it is there now");
        }
        *ret_mode = (mode_t)mode;
        return note_changing(ctx, path, message);
}

static int create_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const char *path = arg(s, 0), *name, *content = arg(s, 2);
        _cleanup_close_ int dfd = -1;
        mode_t mode;
        int r = prepare_new(ctx, s, &dfd, &name, &mode, message);

        if (r < 0)
                return r;
        r = atomic_write_at(dfd, name, content, strlen(content), mode, NULL);
        return r < 0 ? io_fail(message, r, "write", path) : 0;
}

/* What the revert of a step that made an entry finds: 1 with the entry in *ret and its directory
 * open in *ret_dfd; 0 when there is nothing to put back (apply did not get as far as the change,
 * or the directory is gone and the entry with it). A temporary file a killed write left goes. */
static int revert_find(const struct change_ctx *ctx, const char *path, int *ret_dfd, const char **ret_name,
                       struct entry *ret, char **message)
{
        _cleanup_close_ int dfd = -1;
        int r = step_file_open_parent(ctx, path, &dfd, ret_name);

        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return io_fail(message, r, "open the directory of", path);
        atomic_write_leftover_remove(dfd, *ret_name);
        if (!step_file_changing(ctx))
                return 0;
        r = entry_read(dfd, *ret_name, ret);
        if (r < 0)
                return io_fail(message, r, "read", path);
        *ret_dfd = TAKE_FD(dfd);
        return 1;
}

static int create_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const char *path = arg(s, 0), *name, *content = arg(s, 2), *differs;
        _cleanup_close_ int dfd = -1;
        struct entry e;
        int r = revert_find(ctx, path, &dfd, &name, &e, message);

        if (r <= 0)
                return r;
        if (!e.exists)
                return 0;
        differs = what_differs(&e, S_IFREG, content, strlen(content), parse_mode(arg(s, 1)), NULL);
        entry_done(&e);
        if (differs)
                return refuse_drift(message, path, differs);
        r = unlink_durable_at(dfd, name, false);
        return r < 0 && r != -ENOENT ? io_fail(message, r, "remove", path) : 0;
}

const struct step_ops step_file_create_ops = {create_apply, create_revert};

/* ---- replace-file and remove-file: a file that is there, kept in a before-image ---- */

static int existing_apply(const struct change_ctx *ctx, const struct step *s, bool remove, char **message)
{
        const char *path = arg(s, 0), *name, *expect = arg(s, remove ? 1 : 2), *content = arg(s, 3);
        _cleanup_close_ int dfd = -1;
        struct entry e;
        int mode = remove ? 0 : parse_mode(arg(s, 1)), r;

        if (!remove && mode < 0 && strcmp(arg(s, 1), "-") != 0)
                return step_fail(message, -EINVAL, "bad mode \"%s\" for %s", arg(s, 1), path);
        r = apply_find(ctx, path, &dfd, &name, &e, message);
        if (r < 0)
                return r;
        if (!digest_matches(&e, expect)) {
                bool gone = !e.exists;
                entry_done(&e);
                return refuse_stale_plan(message, path, gone ? "it is gone" : "its content differs");
        }
        r = image_save(ctx, &e, path, message);
        if (r >= 0 && remove) {
                r = unlink_durable_at(dfd, name, false);
                if (r < 0)
                        r = io_fail(message, r, "remove", path);
        } else if (r >= 0) {
                struct file_keep keep = {.uid = e.uid, .gid = e.gid, .label = e.label, .label_len = e.label_len};
                r = atomic_write_at(dfd, name, content, strlen(content), mode < 0 ? e.mode : (mode_t)mode, &keep);
                if (r < 0)
                        r = io_fail(message, r, "write", path);
        }
        entry_done(&e);
        return r;
}

/* Puts the image back unless the file is neither the image nor what the step wrote. */
static int existing_revert(const struct change_ctx *ctx, const struct step *s, bool remove, char **message)
{
        const char *path = arg(s, 0), *name, *content = arg(s, 3), *differs = NULL;
        _cleanup_close_ int dfd = -1;
        struct entry img = {0}, e = {0};
        int r;

        r = step_file_open_parent(ctx, path, &dfd, &name);
        if (r < 0)
                return io_fail(message, r, "open the directory of", path);
        atomic_write_leftover_remove(dfd, name);
        if (!step_note_get(ctx, NOTE_IMAGE)) /* killed before the note: the file was not touched */
                return image_remove(ctx) < 0 ? io_fail(message, -EIO, "remove the copy of", path) : 0;
        r = image_read(ctx, &img);
        if (r < 0)
                return io_fail(message, r, "read the copy of", path);
        if (!img.exists) /* put back already, by an undo that was killed after it */
                return 0;
        r = entry_read(dfd, name, &e);
        if (r < 0) {
                r = io_fail(message, r, "read", path);
                goto out;
        }
        if (!what_differs(&e, S_IFREG, img.content, img.len, (int)img.mode, NULL) && e.uid == img.uid &&
            e.gid == img.gid)
                r = 0; /* the change was not made, or was put back */
        else {
                if (remove)
                        differs = e.exists ? "it is there again" : NULL;
                else {
                        int mode = parse_mode(arg(s, 1));
                        differs = what_differs(&e, S_IFREG, content, strlen(content), mode < 0 ? (int)img.mode : mode,
                                               NULL);
                }
                if (differs) {
                        r = refuse_drift(message, path, differs);
                        goto out;
                }
                r = image_restore(dfd, name, &img);
                if (r < 0) {
                        r = io_fail(message, r, "put back", path);
                        goto out;
                }
        }
        r = image_remove(ctx);
        if (r < 0)
                r = io_fail(message, r, "remove the copy of", path);
out:
        entry_done(&img);
        entry_done(&e);
        return r;
}

static int replace_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        return existing_apply(ctx, s, false, message);
}

static int replace_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        return existing_revert(ctx, s, false, message);
}

static int remove_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        return existing_apply(ctx, s, true, message);
}

static int remove_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        return existing_revert(ctx, s, true, message);
}

const struct step_ops step_file_replace_ops = {replace_apply, replace_revert};
const struct step_ops step_file_remove_ops = {remove_apply, remove_revert};

/* ---- symlink ---- */

static int symlink_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const char *path = arg(s, 0), *name, *target = arg(s, 1), *old = arg(s, 2);
        _cleanup_close_ int dfd = -1;
        struct entry e;
        bool as_planned;
        int r;

        if (!*target)
                return step_fail(message, -EINVAL, "no target for the link %s", path);
        r = apply_find(ctx, path, &dfd, &name, &e, message);
        if (r < 0)
                return r;
        as_planned = *old ? e.exists && e.type == S_IFLNK && strcmp(e.target, old) == 0 : !e.exists;
        entry_done(&e);
        if (!as_planned)
                return refuse_stale_plan(message, path, *old ? "it no longer points at the old target" : "it is there now");
        r = note_changing(ctx, path, message);
        if (r < 0)
                return r;
        r = symlink_durable_at(dfd, name, target, *old != '\0');
        return r < 0 ? io_fail(message, r, "create", path) : 0;
}

static int symlink_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const char *path = arg(s, 0), *name, *target = arg(s, 1), *old = arg(s, 2), *differs;
        _cleanup_close_ int dfd = -1;
        struct entry e;
        int r = revert_find(ctx, path, &dfd, &name, &e, message);

        if (r <= 0)
                return r;
        if (*old ? e.exists && e.type == S_IFLNK && strcmp(e.target, old) == 0 : !e.exists) {
                entry_done(&e); /* put back already */
                return 0;
        }
        differs = what_differs(&e, S_IFLNK, NULL, 0, -1, target);
        entry_done(&e);
        if (differs)
                return refuse_drift(message, path, differs);
        r = *old ? symlink_durable_at(dfd, name, old, true) : unlink_durable_at(dfd, name, false);
        return r < 0 && r != -ENOENT ? io_fail(message, r, "put back", path) : 0;
}

const struct step_ops step_symlink_ops = {symlink_apply, symlink_revert};

/* ---- make-dir ---- */

static int make_dir_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const char *path = arg(s, 0), *name;
        _cleanup_close_ int dfd = -1;
        mode_t mode;
        int r = prepare_new(ctx, s, &dfd, &name, &mode, message);

        if (r < 0)
                return r;
        r = mkdir_durable_at(dfd, name, mode);
        if (r == -EEXIST)
                return refuse_stale_plan(message, path, "it is there now");
        return r < 0 ? io_fail(message, r, "create", path) : 0;
}

static int make_dir_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const char *path = arg(s, 0), *name;
        _cleanup_close_ int dfd = -1;
        struct stat st;
        int r;

        r = step_file_open_parent(ctx, path, &dfd, &name);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return io_fail(message, r, "open the directory of", path);
        if (!step_file_changing(ctx))
                return 0;
        if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                return errno == ENOENT ? 0 : io_fail(message, negative_errno(), "read", path);
        if (!S_ISDIR(st.st_mode))
                return refuse_drift(message, path, "it is no longer a directory");
        r = unlink_durable_at(dfd, name, true);
        if (r == -ENOTEMPTY || r == -EEXIST)
                return step_fail(message, 0, "%s kept: not empty", path);
        return r < 0 && r != -ENOENT ? io_fail(message, r, "remove", path) : 0;
}

const struct step_ops step_make_dir_ops = {make_dir_apply, make_dir_revert};

/* ---- for people ---- */

/* asprintf's string, or NULL. It takes &d, not d: the order in which a call's arguments are
 * evaluated is unspecified, and d read before asprintf() ran would be NULL (and leak the text). */
static char *str_or_null(int n, char **s)
{
        return n < 0 ? NULL : *s;
}

char *step_file_create_describe(const struct step *s)
{
        char *d = NULL;
        return str_or_null(asprintf(&d, "create %s (mode %s)", arg(s, 0), arg(s, 1)), &d);
}

char *step_file_replace_describe(const struct step *s)
{
        char *d = NULL;
        return str_or_null(asprintf(&d, "replace the content of %s (a copy is kept to put it back)", arg(s, 0)), &d);
}

char *step_file_remove_describe(const struct step *s)
{
        char *d = NULL;
        return str_or_null(asprintf(&d, "remove %s (a copy is kept to put it back)", arg(s, 0)), &d);
}

char *step_symlink_describe(const struct step *s)
{
        char *d = NULL;

        if (*arg(s, 2))
                return str_or_null(asprintf(&d, "point the link %s at %s (it points at %s)", arg(s, 0), arg(s, 1),
                                            arg(s, 2)),
                                   &d);
        return str_or_null(asprintf(&d, "link %s -> %s", arg(s, 0), arg(s, 1)), &d);
}

char *step_make_dir_describe(const struct step *s)
{
        char *d = NULL;
        return str_or_null(asprintf(&d, "create the directory %s (mode %s)", arg(s, 0), arg(s, 1)), &d);
}
