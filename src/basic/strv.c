/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/strv.h"

int strv_addf(struct strv *s, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = strv_addv(s, fmt, ap);
        va_end(ap);
        return r;
}

int strv_addv(struct strv *s, const char *fmt, va_list ap)
{
        char *x;

        if (s->n + 2 > s->cap) {
                size_t cap = s->cap ? s->cap * 2 : 8;
                char **v = realloc(s->v, cap * sizeof(char *));
                if (!v)
                        return -ENOMEM;
                s->v = v;
                s->cap = cap;
        }
        if (vasprintf(&x, fmt, ap) < 0)
                return -ENOMEM;
        s->v[s->n++] = x;
        s->v[s->n] = NULL;
        return 0;
}

void strv_done(struct strv *s)
{
        strv_free(s->v, s->n);
        *s = (struct strv){0};
}

char **strv_take(struct strv *s)
{
        char **v = s->v ? s->v : strv_new_empty();

        if (v)
                *s = (struct strv){0};
        return v;
}

char **strv_new_empty(void)
{
        return calloc(1, sizeof(char *));
}

size_t strv_length(char *const *v)
{
        size_t n = 0;

        while (v && v[n])
                n++;
        return n;
}

char *strv_join(char *const *v, const char *sep)
{
        size_t len = 1, seplen = strlen(sep);
        char *s, *q;

        for (char *const *p = v; p && *p; p++)
                len += strlen(*p) + seplen;
        s = malloc(len);
        if (!s)
                return NULL;
        q = s;
        *q = '\0';
        for (size_t i = 0; v && v[i]; i++)
                q = stpcpy(i == 0 ? q : stpcpy(q, sep), v[i]);
        return s;
}

void strv_free_null(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

void strv_free(char **v, size_t n)
{
        for (size_t i = 0; v && i < n; i++)
                free(v[i]);
        free(v);
}

int strv_compare(const void *a, const void *b)
{
        return strcmp(*(char *const *)a, *(char *const *)b);
}
