/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/boot-args.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "change/step-file.h"
#include "setup/cmdline.h"

int boot_args_missing(const char *text, size_t len, const char *const *want, const char *const *going,
                      char ***ret, char **ret_error)
{
        _cleanup_free_ char *edited = NULL;
        char **added = NULL;
        int r;

        r = cmdline_edit(text, len, want, going, &edited, NULL, &added, ret_error);
        if (r < 0)
                return r;
        *ret = added;
        return 0;
}

int boot_args_present(const char *text, size_t len, const char *const *these, char ***ret, char **ret_error)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        struct strv found = {0};
        int r;

        r = cmdline_parse(text, len, &c, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; these && these[i]; i++) {
                _cleanup_(cmdline_freep) struct cmdline *one = NULL;

                r = cmdline_parse(these[i], strlen(these[i]), &one, ret_error);
                if (r < 0)
                        goto fail;
                if (one->n_args != 1) {
                        r = error_setf(ret_error, -EINVAL, "\"%s\" is not exactly one kernel argument",
                                       these[i]);
                        goto fail;
                }
                if (cmdline_has(c, one->args[0].key, one->args[0].value)) {
                        r = strv_addf(&found, "%s", these[i]);
                        if (r < 0)
                                goto fail;
                }
        }
        *ret = strv_take(&found);
        if (!*ret)
                return -ENOMEM;
        return 0;
fail:
        strv_done(&found);
        return r;
}

int boot_args_record(struct strv *list, char *const *args)
{
        for (size_t i = 0; args && args[i]; i++) {
                bool seen = false;
                for (size_t j = 0; j < list->n; j++)
                        seen = seen || strcmp(list->v[j], args[i]) == 0;
                if (!seen && strv_addf(list, "%s", args[i]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

int boot_file_write(struct setup_plan *p, const struct sysroot *sr, const char *path, const char *content,
                    size_t len, unsigned mode, char **ret_error)
{
        struct setup_file *f = setup_plan_find_file(p, path);
        char *copy;

        if (!f)
                return setup_plan_write(p, sr, path, content, len, mode, ret_error);
        if (f->action != SETUP_FILE_REMOVE && f->after_len == len && memcmp(f->after, content, len) == 0)
                return 0;
        copy = malloc(len + 1);
        if (!copy)
                return error_setf(ret_error, -ENOMEM, "out of memory");
        memcpy(copy, content, len);
        copy[len] = '\0';
        free(f->after);
        f->after = copy;
        f->after_len = len;
        if (f->action == SETUP_FILE_REMOVE) {
                f->action = SETUP_FILE_MODIFY;
        }
        return 1;
}

/* The value of the `options` line starting at text[at]: its span, or false for another line. */
static bool options_line(const char *text, size_t len, size_t at, size_t *ret_start, size_t *ret_end)
{
        size_t i = at, end = at;

        while (end < len && text[end] != '\n')
                end++;
        while (i < end && (text[i] == ' ' || text[i] == '\t'))
                i++;
        if (end - i < 7 || memcmp(text + i, "options", 7) != 0)
                return false;
        i += 7;
        if (i < end && text[i] != ' ' && text[i] != '\t')
                return false;
        while (i < end && (text[i] == ' ' || text[i] == '\t'))
                i++;
        *ret_start = i;
        *ret_end = end > i && text[end - 1] == '\r' ? end - 1 : end;
        return true;
}

static size_t next_line(const char *text, size_t len, size_t at)
{
        while (at < len && text[at] != '\n')
                at++;
        return at < len ? at + 1 : len;
}

int bls_options_get(const char *text, size_t len, char **ret)
{
        struct strv values = {0};
        char *joined;

        for (size_t at = 0; at < len; at = next_line(text, len, at)) {
                size_t s, e;
                if (options_line(text, len, at, &s, &e) &&
                    strv_addf(&values, "%.*s", (int)(e - s), text + s) < 0) {
                        strv_done(&values);
                        return -ENOMEM;
                }
        }
        joined = strv_join(values.v, " ");
        strv_done(&values);
        if (!joined)
                return -ENOMEM;
        *ret = joined;
        return 0;
}

int bls_options_edit(const char *text, size_t len, const char *const *add, const char *const *remove,
                     char **ret_text, size_t *ret_len, char ***ret_added, char **ret_error)
{
        _cleanup_strv_free_null_ char **missing = NULL;
        _cleanup_free_ char *all = NULL, *out = NULL;
        size_t out_len = 0, last = (size_t)-1, copied = 0;
        FILE *f;
        int r, count = 0;

        r = bls_options_get(text, len, &all);
        if (r < 0)
                return r;
        r = boot_args_missing(all, strlen(all), add, remove, &missing, ret_error);
        if (r < 0)
                return r;
        for (size_t at = 0; at < len; at = next_line(text, len, at)) {
                size_t s, e;
                if (options_line(text, len, at, &s, &e))
                        last = at;
        }

        f = open_memstream(&out, &out_len);
        if (!f)
                return -ENOMEM;
        for (size_t at = 0; at < len; at = next_line(text, len, at)) {
                _cleanup_free_ char *edited = NULL;
                size_t s, e, edited_len;

                if (!options_line(text, len, at, &s, &e))
                        continue;
                r = cmdline_edit(text + s, e - s, at == last ? (const char *const *)missing : NULL, remove,
                                 &edited, &edited_len, NULL, ret_error);
                if (r < 0) {
                        fclose(f);
                        return r;
                }
                count += r;
                fwrite(text + copied, 1, s - copied, f);
                fwrite(edited, 1, edited_len, f);
                copied = e;
        }
        fwrite(text + copied, 1, len - copied, f);
        if (last == (size_t)-1 && missing[0]) {
                _cleanup_free_ char *joined = strv_join(missing, " ");
                if (!joined) {
                        fclose(f);
                        return -ENOMEM;
                }
                fprintf(f, "%soptions %s\n", len > 0 && text[len - 1] != '\n' ? "\n" : "", joined);
                count += (int)strv_length(missing);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret_text = TAKE_PTR(out);
        if (ret_len)
                *ret_len = out_len;
        if (ret_added)
                *ret_added = TAKE_PTR(missing);
        return count;
}

/* A refusal (from the models: what cannot be edited safely, a conflict) or a failure: a
 * refusal plans nothing more and returns 0. where: what the message is about, or NULL when the
 * message names it already. */
int boot_refuse_or(struct setup_plan *p, int r, const char *where, char **error)
{
        if (r == -ENOMEM || (r != -EOPNOTSUPP && r != -EINVAL && r != -EEXIST))
                return r;
        if (where)
                r = setup_plan_refuse(p, "%s: %s", where, *error ?: "cannot be edited safely");
        else
                r = setup_plan_refuse(p, "%s", *error ?: "cannot be edited safely");
        free(*error);
        *error = NULL;
        return r;
}

int boot_plan_cmdline_file(const struct setup_inputs *in, struct setup_plan *p, const char *path,
                           bool first_line, struct strv *added_all, char **ret_error)
{
        _cleanup_strv_free_null_ char **added = NULL, **gone = NULL;
        _cleanup_free_ char *text = NULL, *edited = NULL, *out = NULL, *error = NULL;
        size_t len = 0, line_len, edited_len = 0;
        int r;

        r = setup_plan_read(p, in->sr, path, &text, &len, ret_error);
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return r;
        line_len = first_line ? strcspn(text, "\n") : len;
        r = boot_args_present(text, line_len, (const char *const *)in->args_remove, &gone, &error);
        if (r >= 0)
                r = cmdline_edit(text, line_len, (const char *const *)in->args_add,
                                 (const char *const *)in->args_remove, &edited, &edited_len, &added, &error);
        if (r < 0) {
                r = boot_refuse_or(p, r, path, &error);
                return r < 0 ? r : -ECANCELED;
        }
        if (asprintf(&out, "%s%.*s", edited, (int)(len - line_len), text + line_len) < 0)
                return -ENOMEM;
        r = boot_file_write(p, in->sr, path, out, edited_len + (len - line_len), 0644, ret_error);
        if (r < 0)
                return r;
        if (boot_args_record(added_all, added) < 0 || boot_args_record(&p->args_remove, gone) < 0)
                return -ENOMEM;
        return r;
}
