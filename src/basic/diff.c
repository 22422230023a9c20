/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "basic/diff.h"

#include <stdbool.h>
#include <sys/param.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"

#define CONTEXT 3

struct line {
        const char *s;
        size_t len;   /* without the newline */
        bool newline; /* ends with '\n' */
};

static struct line *split(const char *text, size_t len, size_t *ret_n)
{
        size_t n = 0, i = 0;
        struct line *lines;

        for (size_t k = 0; k < len; k++)
                if (text[k] == '\n')
                        n++;
        if (len > 0 && text[len - 1] != '\n')
                n++;
        lines = calloc(n + 1, sizeof(*lines));
        if (!lines)
                return NULL;
        for (const char *p = text; p < text + len; i++) {
                const char *nl = memchr(p, '\n', text + len - p);

                lines[i] = (struct line){p, nl ? (size_t)(nl - p) : (size_t)(text + len - p), nl != NULL};
                p = nl ? nl + 1 : text + len;
        }
        *ret_n = n;
        return lines;
}

static bool same(const struct line *x, const struct line *y)
{
        return x->len == y->len && x->newline == y->newline && memcmp(x->s, y->s, x->len) == 0;
}

/* One edit script entry: ' ' kept, '-' from a, '+' from b. */
struct op {
        char kind;
        const struct line *line;
};

/* The longest common subsequence of the middle parts, by dynamic programming (bounded by
 * DIFF_LINES_MAX), as an edit script appended to ops. */
static size_t lcs_script(const struct line *a, size_t na, const struct line *b, size_t nb, struct op *ops)
{
        size_t n = 0;

        if (na == 0 || nb == 0 || na > DIFF_LINES_MAX || nb > DIFF_LINES_MAX || na * nb > 4000000) {
                for (size_t i = 0; i < na; i++)
                        ops[n++] = (struct op){'-', &a[i]};
                for (size_t j = 0; j < nb; j++)
                        ops[n++] = (struct op){'+', &b[j]};
                return n;
        }
        uint32_t *len = calloc((na + 1) * (nb + 1), sizeof(uint32_t));
        if (!len)
                return SIZE_MAX;
#define L(i, j) len[(i) * (nb + 1) + (j)]
        for (size_t i = na; i-- > 0;)
                for (size_t j = nb; j-- > 0;)
                        L(i, j) = same(&a[i], &b[j]) ? L(i + 1, j + 1) + 1 : MAX(L(i + 1, j), L(i, j + 1));
        size_t i = 0, j = 0;
        while (i < na && j < nb) {
                if (same(&a[i], &b[j])) {
                        ops[n++] = (struct op){' ', &a[i]};
                        i++, j++;
                } else if (L(i + 1, j) >= L(i, j + 1))
                        ops[n++] = (struct op){'-', &a[i++]};
                else
                        ops[n++] = (struct op){'+', &b[j++]};
        }
#undef L
        free(len);
        while (i < na)
                ops[n++] = (struct op){'-', &a[i++]};
        while (j < nb)
                ops[n++] = (struct op){'+', &b[j++]};
        return n;
}

static void put_line(FILE *f, char kind, const struct line *l)
{
        fputc(kind, f);
        fwrite(l->s, 1, l->len, f);
        fputc('\n', f);
        if (!l->newline)
                fputs("\\ No newline at end of file\n", f);
}

char *diff_unified(const char *a_text, size_t a_len, const char *b_text, size_t b_len)
{
        size_t na = 0, nb = 0, n_ops, pre = 0, post = 0;
        _cleanup_free_ struct line *a = split(a_text, a_len, &na);
        _cleanup_free_ struct line *b = split(b_text, b_len, &nb);
        _cleanup_free_ struct op *ops = NULL;
        char *out = NULL;
        size_t out_len = 0;
        FILE *f;

        if (!a || !b)
                return NULL;
        while (pre < na && pre < nb && same(&a[pre], &b[pre]))
                pre++;
        while (post < na - pre && post < nb - pre && same(&a[na - 1 - post], &b[nb - 1 - post]))
                post++;
        ops = calloc(na + nb + 1, sizeof(*ops));
        if (!ops)
                return NULL;
        n_ops = 0;
        for (size_t i = 0; i < pre; i++)
                ops[n_ops++] = (struct op){' ', &a[i]};
        size_t mid = lcs_script(a + pre, na - pre - post, b + pre, nb - pre - post, ops + n_ops);
        if (mid == SIZE_MAX)
                return NULL;
        n_ops += mid;
        for (size_t i = na - post; i < na; i++)
                ops[n_ops++] = (struct op){' ', &a[i]};

        f = open_memstream(&out, &out_len);
        if (!f)
                return NULL;
        /* Hunks: runs of changes with up to CONTEXT kept lines around them, joined when the kept
         * lines between two changes are at most 2 * CONTEXT. */
        size_t k = 0;
        while (k < n_ops) {
                while (k < n_ops && ops[k].kind == ' ')
                        k++;
                if (k == n_ops)
                        break;
                size_t start = k > CONTEXT ? k - CONTEXT : 0, end = k;
                for (;;) {
                        while (end < n_ops && ops[end].kind != ' ')
                                end++;
                        size_t kept = 0;
                        while (end + kept < n_ops && ops[end + kept].kind == ' ')
                                kept++;
                        if (end + kept < n_ops && kept <= 2 * CONTEXT) {
                                end += kept;
                                continue;
                        }
                        end += MIN(kept, (size_t)CONTEXT);
                        break;
                }
                /* line numbers of the hunk in a and b */
                size_t a_line = 1, b_line = 1, a_count = 0, b_count = 0;
                for (size_t i = 0; i < start; i++) {
                        a_line += ops[i].kind != '+';
                        b_line += ops[i].kind != '-';
                }
                for (size_t i = start; i < end; i++) {
                        a_count += ops[i].kind != '+';
                        b_count += ops[i].kind != '-';
                }
                fprintf(f, "@@ -%zu", a_count ? a_line : a_line - 1);
                if (a_count != 1)
                        fprintf(f, ",%zu", a_count);
                fprintf(f, " +%zu", b_count ? b_line : b_line - 1);
                if (b_count != 1)
                        fprintf(f, ",%zu", b_count);
                fputs(" @@\n", f);
                for (size_t i = start; i < end; i++)
                        put_line(f, ops[i].kind, ops[i].line);
                k = end;
        }
        if (fclose(f) != 0) {
                free(out);
                return NULL;
        }
        return out;
}
