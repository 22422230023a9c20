/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "setup/cmdline.h"
#include "setup/grub-default.h"

#define MAX_WORDS 64

struct word {
        size_t start, end; /* bytes of the word */
        size_t line;       /* line it starts on */
};

struct scan {
        const char *text;
        size_t len, i, line;
        const char *name;
        size_t name_len;
        unsigned depth;    /* inside if/while/until/for/{ */
        size_t unmodelled; /* line of a case, subshell or function seen so far, 0: none */
        bool found;
        struct word last; /* the last assignment's whole word */
        char **error;
};

void grub_value_done(struct grub_value *v)
{
        if (!v)
                return;
        free(v->value);
        v->value = NULL;
}

static bool is_ident(char c, bool first)
{
        return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
               (!first && c >= '0' && c <= '9');
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static bool is_op(char c)
{
        return c == '\n' || c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '<' || c == '>';
}

static void advance(struct scan *s)
{
        if (s->text[s->i] == '\n')
                s->line++;
        s->i++;
}

/* Skips to the byte after the closing `close`, honouring backslashes (not in '…'), nested
 * quotes and $( ) / ` ` inside "…" the way sh does closely enough to find the end. */
static int skip_quoted(struct scan *s, char close);

static int skip_paren(struct scan *s)
{
        unsigned depth = 1;

        while (s->i < s->len) {
                char c = s->text[s->i];
                int r;

                if (c == '\\' && s->i + 1 < s->len) {
                        advance(s);
                        advance(s);
                        continue;
                }
                if (c == '\'' || c == '"' || c == '`') {
                        advance(s);
                        r = skip_quoted(s, c);
                        if (r < 0)
                                return r;
                        continue;
                }
                advance(s);
                if (c == '(')
                        depth++;
                else if (c == ')' && --depth == 0)
                        return 0;
        }
        return error_setf(s->error, -EINVAL, "line %zu: unterminated $(", s->line);
}

static int skip_quoted(struct scan *s, char close)
{
        size_t line = s->line;

        while (s->i < s->len) {
                char c = s->text[s->i];
                int r;

                if (c == close) {
                        advance(s);
                        return 0;
                }
                if (close != '\'' && c == '\\' && s->i + 1 < s->len) {
                        advance(s);
                        advance(s);
                        continue;
                }
                if (close == '"' && c == '`') {
                        advance(s);
                        r = skip_quoted(s, '`');
                        if (r < 0)
                                return r;
                        continue;
                }
                if (close == '"' && c == '$' && s->i + 1 < s->len && s->text[s->i + 1] == '(') {
                        advance(s);
                        advance(s);
                        r = skip_paren(s);
                        if (r < 0)
                                return r;
                        continue;
                }
                advance(s);
        }
        return error_setf(s->error, -EINVAL, "line %zu: unterminated %c quote", line, close);
}

/* One shell word from s->i: up to an unquoted blank or operator. */
static int read_word(struct scan *s, struct word *w)
{
        w->start = s->i;
        w->line = s->line;
        while (s->i < s->len) {
                char c = s->text[s->i];
                int r;

                if (is_blank(c) || is_op(c))
                        break;
                if (c == '\\' && s->i + 1 < s->len) {
                        advance(s);
                        advance(s);
                        continue;
                }
                if (c == '\'' || c == '"' || c == '`') {
                        advance(s);
                        r = skip_quoted(s, c);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (c == '$' && s->i + 1 < s->len && s->text[s->i + 1] == '(') {
                        advance(s);
                        advance(s);
                        r = skip_paren(s);
                        if (r < 0)
                                return r;
                        continue;
                }
                if (c == '$' && s->i + 1 < s->len && s->text[s->i + 1] == '{') {
                        /* ${X:-a b} is one word: blanks inside the braces do not split it */
                        size_t line = s->line;

                        while (s->i < s->len && s->text[s->i] != '}')
                                advance(s);
                        if (s->i >= s->len)
                                return error_setf(s->error, -EINVAL, "line %zu: unterminated ${", line);
                }
                advance(s);
        }
        w->end = s->i;
        return 0;
}

/* Where NAME= ends when the word is an assignment, else 0. */
static size_t assignment(const struct scan *s, const struct word *w)
{
        size_t i = w->start;

        if (i >= w->end || !is_ident(s->text[i], true))
                return 0;
        while (i < w->end && is_ident(s->text[i], false))
                i++;
        return i < w->end && s->text[i] == '=' ? i + 1 - w->start : 0;
}

static bool is_name(const struct scan *s, const struct word *w)
{
        return assignment(s, w) == s->name_len + 1 && memcmp(s->text + w->start, s->name, s->name_len) == 0;
}

/* Whether the word names the variable at all (as a whole identifier). */
static bool mentions(const struct scan *s, const struct word *w)
{
        for (size_t i = w->start; i + s->name_len <= w->end; i++)
                if (memcmp(s->text + i, s->name, s->name_len) == 0 &&
                    (i == w->start || !is_ident(s->text[i - 1], false)) &&
                    (i + s->name_len == w->end || !is_ident(s->text[i + s->name_len], false)))
                        return true;
        return false;
}

static bool word_is(const struct scan *s, const struct word *w, const char *kw)
{
        size_t n = strlen(kw);

        return w->end - w->start == n && memcmp(s->text + w->start, kw, n) == 0;
}

static int refuse(struct scan *s, size_t line, const char *why)
{
        return error_setf(s->error, -EOPNOTSUPP, "line %zu: %s %s; refusing to edit it", line, s->name, why);
}

/* One simple command's words (reserved words first, as sh would take them). redirected: the
 * command has a redirection or more words than kept, so it is no plain assignment. */
static int command(struct scan *s, struct word *w, size_t n, bool redirected)
{
        size_t k = 0;
        bool all_assignments = true;

        for (; k < n; k++) {
                if (word_is(s, &w[k], "if") || word_is(s, &w[k], "while") || word_is(s, &w[k], "until") ||
                    word_is(s, &w[k], "for") || word_is(s, &w[k], "{"))
                        s->depth++;
                else if (word_is(s, &w[k], "fi") || word_is(s, &w[k], "done") || word_is(s, &w[k], "}"))
                        s->depth = s->depth > 0 ? s->depth - 1 : 0;
                else if (word_is(s, &w[k], "case") || word_is(s, &w[k], "esac") ||
                         word_is(s, &w[k], "function")) {
                        if (!s->unmodelled)
                                s->unmodelled = w[k].line;
                } else if (!word_is(s, &w[k], "then") && !word_is(s, &w[k], "else") &&
                           !word_is(s, &w[k], "elif") && !word_is(s, &w[k], "do") && !word_is(s, &w[k], "!"))
                        break;
        }
        for (size_t j = k; j < n; j++)
                if (!assignment(s, &w[j]))
                        all_assignments = false;
        for (size_t j = k; j < n; j++) {
                bool assigns = is_name(s, &w[j]);

                if (assigns && all_assignments && !redirected) {
                        if (s->depth > 0)
                                return refuse(s, w[j].line, "is assigned inside an if/while/for/{ } block");
                        if (s->unmodelled)
                                return error_setf(
                                    s->error, -EOPNOTSUPP,
                                    "line %zu: %s is assigned after a case, subshell or function "
                                    "(line %zu) this editor cannot follow; refusing to edit it",
                                    w[j].line, s->name, s->unmodelled);
                        s->found = true;
                        s->last = w[j];
                } else if (assigns || (!all_assignments && mentions(s, &w[j])))
                        return refuse(s, w[j].line, "is named in a statement other than a plain assignment");
        }
        return 0;
}

static int scan_file(struct scan *s)
{
        struct word words[MAX_WORDS];
        size_t n = 0;
        bool redirected = false;
        int r;

        for (;;) {
                char c = s->i < s->len ? s->text[s->i] : '\n';

                if (s->i < s->len && is_blank(c)) {
                        advance(s);
                        continue;
                }
                if (s->i + 1 < s->len && c == '\\' && s->text[s->i + 1] == '\n') {
                        /* a continuation between words: a statement of two lines */
                        advance(s);
                        advance(s);
                        continue;
                }
                if (c == '#') {
                        while (s->i < s->len && s->text[s->i] != '\n')
                                advance(s);
                        continue;
                }
                if (is_op(c) || s->i >= s->len) {
                        if (c == '<' || c == '>') {
                                redirected = true;
                                advance(s);
                                continue;
                        }
                        r = command(s, words, n, redirected);
                        if (r < 0)
                                return r;
                        n = 0;
                        redirected = false;
                        if (s->i >= s->len)
                                return 0;
                        if ((c == '(' || c == ')') && !s->unmodelled)
                                s->unmodelled = s->line;
                        advance(s);
                        continue;
                }
                if (n == MAX_WORDS) {
                        /* a long command (no plain assignment has that many words): only whether
                         * it names the variable matters */
                        struct word extra;

                        r = read_word(s, &extra);
                        if (r < 0)
                                return r;
                        if (mentions(s, &extra))
                                return refuse(s, extra.line,
                                              "is named in a statement other than a plain assignment");
                        redirected = true;
                        continue;
                }
                r = read_word(s, &words[n]);
                if (r < 0)
                        return r;
                n++;
        }
}

/* find, and whether a line appended at the end is a top-level statement of its own */
static int find(const char *text, size_t len, const char *name, struct grub_value *ret, bool *ret_appendable,
                char **ret_error)
{
        struct scan s = {
            .text = text, .len = len, .line = 1, .name = name, .name_len = strlen(name), .error = ret_error};
        _cleanup_free_ char *value = NULL;
        size_t start, end, line;
        char quote = 0;
        int r;

        if (s.name_len == 0 || !is_ident(name[0], true))
                return error_setf(ret_error, -EINVAL, "\"%s\" is not a shell variable name", name);
        for (size_t i = 1; i < s.name_len; i++)
                if (!is_ident(name[i], false))
                        return error_setf(ret_error, -EINVAL, "\"%s\" is not a shell variable name", name);
        if (memchr(text, '\0', len))
                return error_setf(ret_error, -EINVAL, "the file contains a NUL byte");
        r = scan_file(&s);
        if (r < 0)
                return r;
        if (!s.found) {
                /* a block left open, a case or function, or a continuation at the very end would
                 * make the appended line part of something else */
                if (ret_appendable)
                        *ret_appendable = s.depth == 0 && !s.unmodelled &&
                                          !(len > 0 && text[len - 1] == '\\') &&
                                          !(len > 1 && text[len - 1] == '\n' && text[len - 2] == '\\');
                if (ret_appendable && !*ret_appendable)
                        return error_setf(ret_error, -EOPNOTSUPP,
                                          "%s is not set, and a line appended at the end would not be a "
                                          "statement of its own (open block, case, function or continuation "
                                          "%s); refusing to add it",
                                          name, s.unmodelled ? "before it" : "at the end");
                return 0;
        }

        start = s.last.start + s.name_len + 1;
        end = s.last.end;
        line = s.last.line;
        if (start < end && (text[start] == '"' || text[start] == '\'')) {
                quote = text[start];
                /* one quoted segment: the closing quote must be the word's last byte */
                if (end - start < 2 || text[end - 1] != quote ||
                    memchr(text + start + 1, quote, end - start - 2))
                        return refuse(&s, line, "mixes quoting forms in its value");
        }
        for (size_t i = start; i < end; i++) {
                char c = text[i];

                if (quote == '\'')
                        break;
                if (c == '$')
                        return refuse(&s, line, "uses $ (a variable or command substitution) in its value");
                if (c == '`')
                        return refuse(&s, line, "uses a backquote command substitution in its value");
                if (c == '\\')
                        return refuse(&s, line,
                                      "uses a backslash (an escape or continuation line) in its value");
                if (!quote && (c == '"' || c == '\''))
                        return refuse(&s, line, "mixes quoting forms in its value");
                if (!quote && i == start && c == '~')
                        return refuse(&s, line, "starts with ~ (tilde expansion)");
        }
        if (memchr(text + start, '\n', end - start))
                return refuse(&s, line, "has a value that spans more than one line");
        value = quote ? strndup(text + start + 1, end - start - 2) : strndup(text + start, end - start);
        if (!value)
                return -ENOMEM;
        *ret = (struct grub_value){
            .line = line,
            .start = start,
            .len = end - start,
            .quote = quote,
            .value = TAKE_PTR(value),
        };
        return 1;
}

int grub_default_find(const char *text, size_t len, const char *name, struct grub_value *ret,
                      char **ret_error)
{
        return find(text, len, name, ret, NULL, ret_error);
}

/* The characters an unquoted shell word can hold as themselves */
static bool plain(const char *v)
{
        for (; *v; v++)
                if (!is_ident(*v, false) && !strchr(".,:/=+@%-", *v))
                        return false;
        return true;
}

int grub_default_edit(const char *text, size_t len, const char *name, const char *const *add,
                      const char *const *remove, char **ret_text, size_t *ret_len, char ***ret_added,
                      char **ret_error)
{
        _cleanup_(grub_value_done) struct grub_value v = {0};
        _cleanup_free_ char *edited = NULL, *ins = NULL, *out = NULL;
        char **added = NULL;
        bool appendable = true;
        size_t at, cut, elen = 0, n;
        char quote;
        int r, count;

        r = find(text, len, name, &v, &appendable, ret_error);
        if (r < 0)
                return r;
        count = cmdline_edit(r > 0 ? v.value : "", r > 0 ? strlen(v.value) : 0, add, remove, &edited, &elen,
                             &added, ret_error);
        if (count < 0)
                return count;
        if (count == 0) {
                /* nothing to do: the same bytes, even for an unquoted value that quotes would change */
                out = malloc(len + 1);
                if (!out) {
                        strv_free_null(added);
                        return -ENOMEM;
                }
                memcpy(out, text, len);
                out[len] = '\0';
                *ret_text = TAKE_PTR(out);
                if (ret_len)
                        *ret_len = len;
                if (ret_added)
                        *ret_added = added;
                else
                        strv_free_null(added);
                return 0;
        }
        quote = r > 0 ? v.quote : '"';
        if (quote == 0 && !plain(edited))
                quote = strpbrk(edited, "\"$`\\") ? '\'' : '"';
        if (strchr(edited, '\n') || (quote == '"' && strpbrk(edited, "\"$`\\")) ||
            (quote == '\'' && strchr(edited, '\''))) {
                strv_free_null(added);
                return error_setf(
                    ret_error, -EOPNOTSUPP,
                    "%s would need a character its %s quotes cannot hold without an escape: %s", name,
                    quote == '\'' ? "single" : "double", edited);
        }
        if (r > 0) {
                at = v.start;
                cut = v.len;
                r = quote ? asprintf(&ins, "%c%s%c", quote, edited, quote) : asprintf(&ins, "%s", edited);
        } else {
                at = len;
                cut = 0;
                r = asprintf(&ins, "%s%s=\"%s\"\n", len > 0 && text[len - 1] != '\n' ? "\n" : "", name,
                             edited);
        }
        if (r < 0) {
                strv_free_null(added);
                return -ENOMEM;
        }
        n = len - cut + strlen(ins);
        out = malloc(n + 1);
        if (!out) {
                strv_free_null(added);
                return -ENOMEM;
        }
        memcpy(out, text, at);
        memcpy(out + at, ins, strlen(ins));
        memcpy(out + at + strlen(ins), text + at + cut, len - at - cut);
        out[n] = '\0';
        *ret_text = TAKE_PTR(out);
        if (ret_len)
                *ret_len = n;
        if (ret_added)
                *ret_added = added;
        else
                strv_free_null(added);
        return count;
}
