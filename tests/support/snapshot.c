/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/fileio.h"
#include "basic/macro.h"
#include "snapshot.h"

/* Files larger than this are summarised: a fake tree has no business holding them. */
#define CONTENT_MAX (1024 * 1024)

struct line {
        char *path; /* escaped, the sort key */
        char *text; /* the whole line, without its newline */
};

struct walk {
        const char *const *exclude;
        struct line *v;
        size_t n, cap;
};

static void escape_to(FILE *f, const char *s, size_t len)
{
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];

                if (c <= ' ' || c >= 0x7f || c == '\\')
                        fprintf(f, "\\x%02x", c);
                else
                        fputc(c, f);
        }
}

static bool excluded(const struct walk *w, const char *path)
{
        for (const char *const *g = w->exclude; g && *g; g++)
                if (fnmatch(*g, path, 0) == 0)
                        return true;
        return false;
}

static int add_line(struct walk *w, const char *path, const char *text)
{
        struct line l = {};

        if (w->n == w->cap) {
                size_t cap = w->cap ? w->cap * 2 : 256;
                struct line *v = realloc(w->v, cap * sizeof(*v));

                if (!v)
                        return -ENOMEM;
                w->v = v;
                w->cap = cap;
        }
        l.path = strdup(path);
        l.text = strdup(text);
        if (!l.path || !l.text) {
                free(l.path);
                free(l.text);
                return -ENOMEM;
        }
        w->v[w->n++] = l;
        return 0;
}

/* The content of a regular file below dfd, escaped, into f. */
static void file_content_to(FILE *f, int dfd, const char *name, off_t size)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t n = 0;

        if (size > CONTENT_MAX) {
                fprintf(f, "<%lld bytes>", (long long)size);
                return;
        }
        fd = openat(dfd, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY);
        buf = malloc((size_t)size + 1);
        if (fd < 0 || !buf) {
                fprintf(f, "<error: %s>", fd < 0 ? strerrorname_np(errno) : "ENOMEM");
                return;
        }
        while (n < (size_t)size + 1) {
                ssize_t k = read(fd, buf + n, (size_t)size + 1 - n);

                if (k < 0 && errno == EINTR)
                        continue;
                if (k < 0) {
                        fprintf(f, "<error: %s>", strerrorname_np(errno));
                        return;
                }
                if (k == 0)
                        break;
                n += (size_t)k;
        }
        escape_to(f, buf, n);
}

static int walk_dir(struct walk *w, int dfd, const char *prefix)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;
        int fd, r;

        fd = openat(dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return negative_errno();
        r = dir_from_fd(fd, &d);
        if (r < 0)
                return r;
        while ((errno = 0, de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *epath = NULL, *text = NULL;
                size_t epath_len, text_len;
                FILE *f;
                struct stat st;

                if (strcmp(de->d_name, ".") == 0 || strcmp(de->d_name, "..") == 0)
                        continue;
                if (asprintf(&path, "%s%s%s", prefix, *prefix ? "/" : "", de->d_name) < 0)
                        return -ENOMEM;
                if (excluded(w, path))
                        continue;
                if (fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) < 0)
                        return negative_errno();

                f = open_memstream(&epath, &epath_len);
                if (!f)
                        return -ENOMEM;
                escape_to(f, path, strlen(path));
                if (fclose(f) != 0)
                        return -ENOMEM;

                f = open_memstream(&text, &text_len);
                if (!f)
                        return -ENOMEM;
                if (S_ISDIR(st.st_mode))
                        fprintf(f, "d %s %04o", epath, (unsigned)(st.st_mode & 07777));
                else if (S_ISLNK(st.st_mode)) {
                        char target[4096];
                        ssize_t k = readlinkat(dirfd(d), de->d_name, target, sizeof(target));

                        fprintf(f, "l %s -> ", epath);
                        if (k < 0 || (size_t)k >= sizeof(target))
                                fprintf(f, "<error: %s>", k < 0 ? strerrorname_np(errno) : "ENAMETOOLONG");
                        else
                                escape_to(f, target, (size_t)k);
                } else if (S_ISREG(st.st_mode)) {
                        fprintf(f, "f %s %04o ", epath, (unsigned)(st.st_mode & 07777));
                        file_content_to(f, dirfd(d), de->d_name, st.st_size);
                } else
                        fprintf(f, "? %s", epath);
                if (fclose(f) != 0)
                        return -ENOMEM;
                r = add_line(w, epath, text);
                if (r < 0)
                        return r;

                if (S_ISDIR(st.st_mode)) {
                        _cleanup_close_ int sub =
                            openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

                        if (sub < 0)
                                return negative_errno();
                        r = walk_dir(w, sub, path);
                        if (r < 0)
                                return r;
                }
        }
        return errno > 0 ? -errno : 0;
}

static int compare_lines(const void *a, const void *b)
{
        return strcmp(((const struct line *)a)->path, ((const struct line *)b)->path);
}

char *tree_snapshot(const char *root_dir, const char *const *exclude_globs)
{
        struct walk w = {.exclude = exclude_globs};
        _cleanup_close_ int fd = -1;
        char *out = NULL;
        size_t out_len = 0;
        FILE *f = NULL;
        int r;

        fd = open(root_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0)
                return NULL;
        r = walk_dir(&w, fd, "");
        if (r >= 0) {
                qsort(w.v, w.n, sizeof(*w.v), compare_lines);
                f = open_memstream(&out, &out_len);
                if (!f)
                        r = -ENOMEM;
        }
        for (size_t i = 0; r >= 0 && i < w.n; i++)
                fprintf(f, "%s\n", w.v[i].text);
        if (f && fclose(f) != 0 && r >= 0)
                r = -ENOMEM;
        for (size_t i = 0; i < w.n; i++) {
                free(w.v[i].path);
                free(w.v[i].text);
        }
        free(w.v);
        if (r < 0) {
                free(out);
                errno = -r;
                return NULL;
        }
        return out;
}

/* The path of a snapshot line (its second word) as [start, start+len). */
static const char *line_path(const char *line, size_t line_len, size_t *ret_len)
{
        const char *p, *end = line + line_len;

        if (line_len < 2)
                return *ret_len = 0, line;
        p = line + 2;
        *ret_len = (size_t)((const char *)(memchr(p, ' ', (size_t)(end - p)) ?: end) - p);
        return p;
}

static int compare_paths(const char *a, size_t a_len, const char *b, size_t b_len)
{
        size_t pa, pb;
        const char *x = line_path(a, a_len, &pa), *y = line_path(b, b_len, &pb);
        int c = memcmp(x, y, pa < pb ? pa : pb);

        return c != 0 ? c : (pa > pb) - (pa < pb);
}

char *snapshot_diff(const char *a, const char *b)
{
        char *out = NULL;
        size_t out_len = 0;
        FILE *f = open_memstream(&out, &out_len);

        if (!f)
                return NULL;
        /* both are sorted by path: a merge walk */
        while (*a || *b) {
                const char *ea = strchrnul(a, '\n'), *eb = strchrnul(b, '\n');
                size_t la = (size_t)(ea - a), lb = (size_t)(eb - b);
                int c;

                if (!*a)
                        c = 1;
                else if (!*b)
                        c = -1;
                else
                        c = compare_paths(a, la, b, lb);
                if (c == 0 && la == lb && memcmp(a, b, la) == 0) {
                        /* the same line */
                } else {
                        if (c <= 0)
                                fprintf(f, "-%.*s\n", (int)la, a);
                        if (c >= 0)
                                fprintf(f, "+%.*s\n", (int)lb, b);
                }
                if (c <= 0)
                        a = *ea ? ea + 1 : ea;
                if (c >= 0)
                        b = *eb ? eb + 1 : eb;
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}
