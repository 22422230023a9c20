/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/plan.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "change/step-file.h"

static char **argv_copy(const char *const *argv)
{
        size_t n = 0;
        while (argv && argv[n])
                n++;
        char **copy = calloc(n + 1, sizeof(char *));
        if (!copy)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                copy[i] = strdup(argv[i]);
                if (!copy[i]) {
                        strv_free_null(copy);
                        return NULL;
                }
        }
        return copy;
}

static bool argv_equal(char *const *a, const char *const *b)
{
        size_t i = 0;
        for (; a[i] && b[i]; i++)
                if (strcmp(a[i], b[i]) != 0)
                        return false;
        return !a[i] && !b[i];
}

void setup_check_done(struct setup_check *c)
{
        free(c->what);
        free(c->path);
        free(c->word);
        strv_free_null(c->argv);
        strv_free_null(c->tokens);
        strv_free_null(c->skip);
        *c = (struct setup_check){0};
}

void setup_plan_done(struct setup_plan *p)
{
        strv_done(&p->args_add);
        strv_done(&p->args_remove);
        strv_done(&p->vfio);
        for (size_t i = 0; i < p->n_files; i++) {
                free(p->files[i].path);
                free(p->files[i].before);
                free(p->files[i].after);
        }
        free(p->files);
        for (size_t i = 0; i < p->n_commands; i++) {
                strv_free_null(p->commands[i].argv);
                strv_free_null(p->commands[i].revert_argv);
        }
        free(p->commands);
        for (size_t i = 0; i < p->n_checks; i++)
                setup_check_done(&p->checks[i]);
        free(p->checks);
        strv_done(&p->notes);
        free(p->refused);
        *p = (struct setup_plan){0};
}

static char *memdup_nul(const char *data, size_t len)
{
        char *copy = malloc(len + 1);
        if (!copy)
                return NULL;
        if (len > 0)
                memcpy(copy, data, len);
        copy[len] = '\0';
        return copy;
}

int setup_plan_add_file(struct setup_plan *p, const char *path, enum setup_file_action action,
                        const char *before, size_t before_len, const char *after, size_t after_len,
                        unsigned mode)
{
        if (p->refused) /* a refused plan stays empty */
                return 0;
        struct setup_file *files = reallocarray(p->files, p->n_files + 1, sizeof(*files));
        if (!files)
                return -ENOMEM;
        p->files = files;
        struct setup_file f = {.action = action, .mode = action == SETUP_FILE_CREATE ? mode : 0};
        f.path = strdup(path);
        if (action != SETUP_FILE_CREATE) {
                f.before = memdup_nul(before, before_len);
                f.before_len = before_len;
        }
        if (action != SETUP_FILE_REMOVE) {
                f.after = memdup_nul(after, after_len);
                f.after_len = after_len;
        }
        if (!f.path || (action != SETUP_FILE_CREATE && !f.before) ||
            (action != SETUP_FILE_REMOVE && !f.after)) {
                free(f.path);
                free(f.before);
                free(f.after);
                return -ENOMEM;
        }
        p->files[p->n_files++] = f;
        return 0;
}

struct setup_file *setup_plan_find_file(struct setup_plan *p, const char *path)
{
        for (size_t i = 0; i < p->n_files; i++)
                if (strcmp(p->files[i].path, path) == 0)
                        return &p->files[i];
        return NULL;
}

/* What is at path now: 0 with the content, -ENOENT when nothing is there; a symlink or anything
 * but a regular file is refused, as the file steps refuse it. */
static int read_current(const struct sysroot *sr, const char *path, char **ret, size_t *ret_len,
                        char **ret_error)
{
        int fd = sysroot_openat(sr, path, O_PATH | O_NOFOLLOW | O_CLOEXEC);
        if (fd == -ENOENT)
                return -ENOENT;
        if (fd < 0)
                return error_setf(ret_error, fd, "cannot open %s: %s", path, strerror(-fd));
        struct stat st;
        int r = fstat(fd, &st) < 0 ? -errno : 0;
        close(fd);
        if (r < 0)
                return error_setf(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        if (S_ISLNK(st.st_mode))
                return error_setf(
                    ret_error, -ELOOP,
                    "%s is a symlink; setup edits regular files only (edit the file it points to, "
                    "or replace the link with a copy)",
                    path);
        if (!S_ISREG(st.st_mode))
                return error_setf(ret_error, -EINVAL, "%s is not a regular file", path);
        return setup_file_read(sr, path, ret, ret_len, ret_error);
}

int setup_file_read(const struct sysroot *sr, const char *path, char **ret, size_t *ret_len,
                    char **ret_error)
{
        int r = sysroot_read_file(sr, path, STEP_FILE_MAX, ret, ret_len);

        if (r == -ENOENT)
                return r;
        if (r == -EFBIG)
                return error_setf(ret_error, r, "%s is bigger than %u bytes; setup does not edit it", path,
                                  STEP_FILE_MAX);
        if (r < 0)
                return error_setf(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        return 0;
}

int setup_plan_read(struct setup_plan *p, const struct sysroot *sr, const char *path, char **ret,
                    size_t *ret_len, char **ret_error)
{
        struct setup_file *f = setup_plan_find_file(p, path);

        if (!f)
                return setup_file_read(sr, path, ret, ret_len, ret_error);
        if (f->action == SETUP_FILE_REMOVE)
                return -ENOENT;
        *ret = memdup_nul(f->after, f->after_len);
        if (!*ret)
                return -ENOMEM;
        if (ret_len)
                *ret_len = f->after_len;
        return 0;
}

int setup_plan_write(struct setup_plan *p, const struct sysroot *sr, const char *path, const char *content,
                     size_t len, unsigned mode, char **ret_error)
{
        _cleanup_free_ char *now = NULL;
        size_t now_len = 0;
        int r = read_current(sr, path, &now, &now_len, ret_error);
        if (r == -ENOENT) {
                r = setup_plan_add_file(p, path, SETUP_FILE_CREATE, NULL, 0, content, len, mode);
                return r < 0 ? error_setf(ret_error, r, "out of memory") : 1;
        }
        if (r < 0)
                return r;
        if (now_len == len && memcmp(now, content, len) == 0)
                return 0;
        r = setup_plan_add_file(p, path, SETUP_FILE_MODIFY, now, now_len, content, len, 0);
        return r < 0 ? error_setf(ret_error, r, "out of memory") : 1;
}

int setup_plan_remove(struct setup_plan *p, const struct sysroot *sr, const char *path, char **ret_error)
{
        _cleanup_free_ char *now = NULL;
        size_t now_len = 0;
        int r = read_current(sr, path, &now, &now_len, ret_error);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        r = setup_plan_add_file(p, path, SETUP_FILE_REMOVE, now, now_len, NULL, 0, 0);
        return r < 0 ? error_setf(ret_error, r, "out of memory") : 1;
}

int setup_plan_command(struct setup_plan *p, enum setup_command_kind kind, const char *const *argv,
                       const char *const *revert_argv)
{
        if (!argv || !argv[0] || (kind == SETUP_COMMAND_TOOL && (!revert_argv || !revert_argv[0])))
                return -EINVAL;
        if (p->refused)
                return 0;
        if (kind == SETUP_COMMAND_REGENERATE)
                for (size_t i = 0; i < p->n_commands; i++)
                        if (p->commands[i].kind == kind && argv_equal(p->commands[i].argv, argv))
                                return 0;
        struct setup_command *commands = reallocarray(p->commands, p->n_commands + 1, sizeof(*commands));
        if (!commands)
                return -ENOMEM;
        p->commands = commands;
        struct setup_command c = {.kind = kind, .argv = argv_copy(argv)};
        if (kind == SETUP_COMMAND_TOOL)
                c.revert_argv = argv_copy(revert_argv);
        if (!c.argv || (kind == SETUP_COMMAND_TOOL && !c.revert_argv)) {
                strv_free_null(c.argv);
                strv_free_null(c.revert_argv);
                return -ENOMEM;
        }
        p->commands[p->n_commands++] = c;
        return 0;
}

static int add_check(struct setup_plan *p, struct setup_check c, bool skip_wanted)
{
        if (p->refused) {
                setup_check_done(&c);
                return 0;
        }
        struct setup_check *checks = reallocarray(p->checks, p->n_checks + 1, sizeof(*checks));
        if (checks)
                p->checks = checks;
        if (!checks || !c.what || !c.tokens ||
            (c.kind == SETUP_CHECK_LINES ? !c.path || !c.word : !c.argv) || (skip_wanted && !c.skip)) {
                setup_check_done(&c);
                return -ENOMEM;
        }
        p->checks[p->n_checks++] = c;
        return 0;
}

int setup_plan_check_lines(struct setup_plan *p, const char *what, const char *path, const char *word,
                           const char *const *tokens)
{
        return setup_plan_check_lines_except(p, what, path, word, tokens, NULL);
}

int setup_plan_check_lines_except(struct setup_plan *p, const char *what, const char *path, const char *word,
                                  const char *const *tokens, const char *const *skip)
{
        return add_check(p,
                         (struct setup_check){
                             .kind = SETUP_CHECK_LINES,
                             .what = strdup(what),
                             .path = strdup(path),
                             .word = strdup(word),
                             .tokens = argv_copy(tokens),
                             .skip = skip ? argv_copy(skip) : NULL,
                         },
                         skip != NULL);
}

int setup_plan_check_output(struct setup_plan *p, const char *what, const char *const *argv,
                            const char *const *tokens)
{
        if (!argv || !argv[0])
                return -EINVAL;
        return add_check(p,
                         (struct setup_check){
                             .kind = SETUP_CHECK_OUTPUT,
                             .what = strdup(what),
                             .argv = argv_copy(argv),
                             .tokens = argv_copy(tokens),
                         },
                         false);
}

int setup_plan_note(struct setup_plan *p, const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        int r = strv_addv(&p->notes, fmt, ap);
        va_end(ap);
        return r;
}

int setup_plan_refuse(struct setup_plan *p, const char *fmt, ...)
{
        if (p->refused)
                return 0;
        char *why = NULL;
        va_list ap;
        va_start(ap, fmt);
        int r = vasprintf(&why, fmt, ap);
        va_end(ap);
        if (r < 0)
                return -ENOMEM;
        /* A refused plan plans nothing: what the backends added before it goes (the bootloader
         * and initramfs it was made for stay, to say where it was refused). */
        enum bootloader_id bootloader = p->bootloader;
        enum initramfs_id initramfs = p->initramfs;
        setup_plan_done(p);
        *p = (struct setup_plan){.bootloader = bootloader, .initramfs = initramfs, .refused = why};
        return 0;
}

bool setup_plan_changes(const struct setup_plan *p)
{
        if (p->n_files > 0)
                return true;
        for (size_t i = 0; i < p->n_commands; i++)
                if (p->commands[i].kind == SETUP_COMMAND_TOOL)
                        return true;
        return false;
}
