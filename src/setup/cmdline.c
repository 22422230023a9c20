/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "setup/cmdline.h"

/* The kernel's isspace(): lib/ctype.c marks 0xa0 (Latin-1 no-break space) as space too. */
static bool kspace(unsigned char c)
{
        return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xa0;
}

void cmdline_free(struct cmdline *c)
{
        if (!c)
                return;
        for (size_t i = 0; i < c->n_args; i++) {
                free(c->args[i].key);
                free(c->args[i].value);
        }
        free(c->args);
        free(c);
}

/* next_arg() on the argument text[0..n) (its extent already found): key and value, with the
 * quotes dropped exactly where the kernel drops them. */
static int split_arg(const char *a, size_t n, char **ret_key, char **ret_value)
{
        _cleanup_free_ char *key = NULL, *value = NULL;
        size_t i = 0, equals = SIZE_MAX;
        bool quoted = false;

        if (n > 0 && a[0] == '"') {
                a++;
                n--;
                quoted = true;
        }
        for (i = 0; i < n; i++)
                if (a[i] == '=') {
                        equals = i;
                        break;
                }
        /* next_arg() takes '=' at index 0 as "no value" (equals == 0 is its "not found") */
        if (equals == 0)
                equals = SIZE_MAX;
        if (equals == SIZE_MAX) {
                size_t kn = n;

                if (quoted && kn > 0 && a[kn - 1] == '"')
                        kn--;
                key = strndup(a, kn);
        } else {
                const char *v = a + equals + 1;
                size_t vn = n - equals - 1;

                key = strndup(a, equals);
                if (vn > 0 && v[0] == '"') {
                        v++;
                        vn--;
                        if (vn > 0 && v[vn - 1] == '"')
                                vn--;
                } else if (quoted && vn > 0 && v[vn - 1] == '"')
                        vn--;
                value = strndup(v, vn);
                if (!value)
                        return -ENOMEM;
        }
        if (!key)
                return -ENOMEM;
        *ret_key = TAKE_PTR(key);
        *ret_value = TAKE_PTR(value);
        return 0;
}

int cmdline_parse(const char *text, size_t len, struct cmdline **ret, char **ret_error)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        size_t cap = 0, i = 0;
        bool after = false;

        if (memchr(text, '\0', len))
                return error_setf(ret_error, -EINVAL, "the command line contains a NUL byte");
        c = calloc(1, sizeof(*c));
        if (!c)
                return -ENOMEM;
        c->separator = SIZE_MAX;
        for (;;) {
                struct cmdline_arg *arg;
                bool in_quote = false;
                size_t start;
                int r;

                while (i < len && kspace((unsigned char)text[i]))
                        i++;
                if (i >= len)
                        break;
                start = i;
                for (; i < len; i++) {
                        if (kspace((unsigned char)text[i]) && !in_quote)
                                break;
                        if (text[i] == '"')
                                in_quote = !in_quote;
                }
                if (c->n_args == cap) {
                        struct cmdline_arg *n = reallocarray(c->args, cap ? cap * 2 : 8, sizeof(*n));

                        if (!n)
                                return -ENOMEM;
                        c->args = n;
                        cap = cap ? cap * 2 : 8;
                }
                arg = &c->args[c->n_args];
                *arg = (struct cmdline_arg){.start = start, .len = i - start, .init = after};
                r = split_arg(text + start, i - start, &arg->key, &arg->value);
                if (r < 0)
                        return r;
                c->n_args++;
                /* parse_args(): a "--" without a value ends the kernel's part */
                if (!after && !arg->value && strcmp(arg->key, "--") == 0) {
                        c->separator = c->n_args - 1;
                        after = true;
                }
        }
        if (c->separator == SIZE_MAX)
                c->separator = c->n_args;
        *ret = TAKE_PTR(c);
        return 0;
}

/* parameq(): '-' and '_' are the same in a parameter name */
static bool key_eq(const char *a, const char *b)
{
        for (; *a && *b; a++, b++) {
                char x = *a == '-' ? '_' : *a, y = *b == '-' ? '_' : *b;

                if (x != y)
                        return false;
        }
        return *a == *b;
}

static bool value_eq(const char *a, const char *b)
{
        return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool cmdline_has_flag(const struct cmdline *c, const char *key)
{
        for (size_t i = 0; i < c->separator; i++)
                if (!c->args[i].value && key_eq(c->args[i].key, key))
                        return true;
        return false;
}

const char *cmdline_get(const struct cmdline *c, const char *key)
{
        for (size_t i = c->separator; i > 0; i--)
                if (key_eq(c->args[i - 1].key, key))
                        return c->args[i - 1].value;
        return NULL;
}

bool cmdline_has(const struct cmdline *c, const char *key, const char *value)
{
        for (size_t i = 0; i < c->separator; i++)
                if (key_eq(c->args[i].key, key) && value_eq(c->args[i].value, value))
                        return true;
        return false;
}

int text_splice(char **text, size_t *len, size_t at, size_t cut, const char *ins, size_t insn)
{
        size_t n = *len - cut + insn;
        char *t = malloc(n + 1);

        if (!t)
                return -ENOMEM;
        memcpy(t, *text, at);
        memcpy(t + at, ins, insn);
        memcpy(t + at + insn, *text + at + cut, *len - at - cut);
        t[n] = '\0';
        free(*text);
        *text = t;
        *len = n;
        return 0;
}

/* One argument to add or remove: exactly one kernel argument, not "--". */
static size_t count_quotes(const char *s, size_t n)
{
        size_t q = 0;

        for (size_t i = 0; i < n; i++)
                q += s[i] == '"';
        return q;
}

static int parse_one(const char *s, struct cmdline **ret, char **ret_error)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        int r;

        /* an open quote would swallow every argument after it, "--" and init's included */
        if (count_quotes(s, strlen(s)) % 2 != 0)
                return error_setf(ret_error, -EINVAL, "\"%s\" has an unbalanced double quote", s);

        r = cmdline_parse(s, strlen(s), &c, ret_error);
        if (r < 0)
                return r;
        if (c->n_args != 1 || c->args[0].start != 0 || c->args[0].len != strlen(s) || c->separator == 0)
                return error_setf(ret_error, -EINVAL, "\"%s\" is not exactly one kernel argument", s);
        *ret = TAKE_PTR(c);
        return 0;
}

static int add_one(char **text, size_t *len, const char *s, bool *ret_added, char **ret_error)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL, *a = NULL;
        const struct cmdline_arg *want;
        _cleanup_free_ char *ins = NULL;
        size_t at;
        int r;

        r = parse_one(s, &a, ret_error);
        if (r < 0)
                return r;
        want = &a->args[0];
        r = cmdline_parse(*text, *len, &c, ret_error);
        if (r < 0)
                return r;
        if (cmdline_has(c, want->key, want->value)) {
                *ret_added = false;
                return 0;
        }
        for (size_t i = 0; i < c->separator; i++)
                if (key_eq(c->args[i].key, want->key))
                        return error_setf(ret_error, -EEXIST,
                                          "%s conflicts with %.*s already on the command line", s,
                                          (int)c->args[i].len, *text + c->args[i].start);
        /* the kernel would read what we append as part of the open quote's argument */
        if (count_quotes(*text, *len) % 2 != 0)
                return error_setf(ret_error, -EINVAL,
                                  "the command line ends inside a double quote; refusing to add %s to it",
                                  s);
        /* after the last kernel argument; else before "--"; else at the end */
        if (c->separator > 0)
                at = c->args[c->separator - 1].start + c->args[c->separator - 1].len;
        else if (c->separator < c->n_args)
                at = c->args[c->separator].start;
        else
                at = *len;
        if (asprintf(&ins, "%s%s%s", at > 0 && !kspace((unsigned char)(*text)[at - 1]) ? " " : "", s,
                     at < *len && !kspace((unsigned char)(*text)[at]) ? " " : "") < 0)
                return -ENOMEM;
        r = text_splice(text, len, at, 0, ins, strlen(ins));
        if (r < 0)
                return r;
        *ret_added = true;
        return 0;
}

/* Removes every kernel argument equal to s; returns how many. */
static int remove_one(char **text, size_t *len, const char *s, char **ret_error)
{
        _cleanup_(cmdline_freep) struct cmdline *a = NULL;
        int r, n = 0;

        r = parse_one(s, &a, ret_error);
        if (r < 0)
                return r;
        for (;;) {
                _cleanup_(cmdline_freep) struct cmdline *c = NULL;
                size_t i, from, to;

                r = cmdline_parse(*text, *len, &c, ret_error);
                if (r < 0)
                        return r;
                for (i = 0; i < c->separator; i++)
                        if (key_eq(c->args[i].key, a->args[0].key) &&
                            value_eq(c->args[i].value, a->args[0].value))
                                break;
                if (i == c->separator)
                        return n;
                from = c->args[i].start;
                to = from + c->args[i].len;
                /* the whitespace before it when an argument precedes (the separator add_one() wrote
                 * before it), else the whitespace after it */
                if (i > 0)
                        from = c->args[i - 1].start + c->args[i - 1].len;
                else
                        while (to < *len && kspace((unsigned char)(*text)[to]))
                                to++;
                r = text_splice(text, len, from, to - from, "", 0);
                if (r < 0)
                        return r;
                n++;
        }
}

int cmdline_edit(const char *text, size_t len, const char *const *add, const char *const *remove,
                 char **ret_text, size_t *ret_len, char ***ret_added, char **ret_error)
{
        _cleanup_free_ char *t = NULL;
        _cleanup_(strv_done) struct strv added = {0};
        size_t n = len;
        int r, count = 0;

        t = malloc(len + 1);
        if (!t)
                return -ENOMEM;
        memcpy(t, text, len);
        t[len] = '\0';
        /* Removals first: "intel_iommu=off" goes before "intel_iommu=on" can be added. */
        for (size_t i = 0; remove && remove[i]; i++) {
                r = remove_one(&t, &n, remove[i], ret_error);
                if (r < 0)
                        return r;
                count += r;
        }
        for (size_t i = 0; add && add[i]; i++) {
                bool did = false;

                r = add_one(&t, &n, add[i], &did, ret_error);
                if (r < 0)
                        return r;
                if (did) {
                        if (strv_addf(&added, "%s", add[i]) < 0)
                                return -ENOMEM;
                        count++;
                }
        }
        if (ret_added) {
                char **v = strv_take(&added);

                if (!v)
                        return -ENOMEM;
                *ret_added = v;
        }
        *ret_text = TAKE_PTR(t);
        if (ret_len)
                *ret_len = n;
        return count;
}
