/* SPDX-License-Identifier: GPL-2.0-or-later */
/* rEFInd (research-setup.md §1.2; refind 0.13.2 linux.html): refind_linux.conf, read at boot
 * next to the kernel. Each line is "LABEL" "OPTIONS", both fields in double quotes, `""` inside
 * quotes a literal quote, '#' a comment line; the FIRST line is what a plain boot uses, the
 * others are on F2/Insert. Only the first line's options change, argument by argument, so that
 * the other lines (refind-install's "Boot with minimal options") stay the way back. Nothing to
 * regenerate. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "setup/boot-util.h"

struct quoted {
        size_t start, len; /* inside the quotes, escapes as written */
};

static bool blank(char c)
{
        return c == ' ' || c == '\t' || c == '\r';
}

/* A quoted field at *at: 0 and *at past its closing quote, or -EINVAL. */
static int field(const char *line, size_t n, size_t *at, struct quoted *ret)
{
        size_t i = *at;

        if (i >= n || line[i] != '"')
                return -EINVAL;
        ret->start = ++i;
        for (; i < n; i++) {
                if (line[i] != '"')
                        continue;
                if (i + 1 < n && line[i + 1] == '"') {
                        i++;
                        continue;
                }
                ret->len = i - ret->start;
                *at = i + 1;
                return 0;
        }
        return -EINVAL;
}

static char *unescape(const char *s, size_t n, size_t *ret_len)
{
        char *out = malloc(n + 1);
        size_t k = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                out[k++] = s[i];
                if (s[i] == '"' && i + 1 < n && s[i + 1] == '"')
                        i++;
        }
        out[k] = '\0';
        *ret_len = k;
        return out;
}

static char *escape(const char *s, size_t n, size_t *ret_len)
{
        char *out = malloc(2 * n + 1);
        size_t k = 0;

        if (!out)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                out[k++] = s[i];
                if (s[i] == '"')
                        out[k++] = '"';
        }
        out[k] = '\0';
        *ret_len = k;
        return out;
}

int boot_refind_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const char *path = in->facts->refind_conf;
        _cleanup_free_ char *text = NULL, *plain = NULL, *escaped = NULL, *label = NULL, *where = NULL,
                            *args = NULL, *result = NULL;
        size_t len = 0, plain_len = 0, escaped_len = 0, label_len = 0, lineno = 0, default_line = 0,
               others = 0;
        struct quoted lab = {0}, opts = {0};
        bool found = false;
        int r;

        if (!path)
                return setup_plan_refuse(
                    p, "no refind_linux.conf found (rEFInd reads the kernel's options from "
                       "/boot/refind_linux.conf)");
        r = setup_file_read(in->sr, path, &text, &len, ret_error);
        if (r == -ENOENT)
                return setup_plan_refuse(p, "%s is gone", path);
        if (r < 0)
                return r;

        for (size_t at = 0; at < len;) {
                const char *line = text + at;
                const char *nl = memchr(line, '\n', len - at);
                size_t n = nl ? (size_t)(nl - line) : len - at, i = 0;

                lineno++;
                while (i < n && blank(line[i]))
                        i++;
                if (i == n || line[i] == '#') {
                        at += n + 1;
                        continue;
                }
                if (found) {
                        others++;
                        at += n + 1;
                        continue;
                }
                found = true;
                default_line = lineno;
                if (field(line, n, &i, &lab) < 0)
                        return setup_plan_refuse(
                            p,
                            "%s:%zu: cannot parse the default line: it does not start with "
                            "a quoted label (\"LABEL\" \"OPTIONS\")",
                            path, lineno);
                while (i < n && (blank(line[i]) || line[i] == '=' || line[i] == ','))
                        i++;
                if (field(line, n, &i, &opts) < 0)
                        return setup_plan_refuse(
                            p,
                            "%s:%zu: cannot parse the default line: its options are not one "
                            "quoted field (\"LABEL\" \"OPTIONS\", \"\" for a quote inside)",
                            path, lineno);
                lab.start += at;
                opts.start += at;
                at += n + 1;
        }
        if (!found)
                return setup_plan_refuse(p, "%s holds no boot line (\"LABEL\" \"OPTIONS\"); add one", path);

        /* the kernel sees the field unescaped: edit that, then quote it back */
        plain = unescape(text + opts.start, opts.len, &plain_len);
        label = unescape(text + lab.start, lab.len, &label_len);
        if (!plain || !label || asprintf(&where, "%s:%zu", path, default_line) < 0)
                return -ENOMEM;
        struct boot_span all = {0, plain_len};
        r = boot_edit_spans(in, p, &plain, &plain_len, &all, 1, false, where, ret_error);
        if (r <= 0)
                return r == -ECANCELED ? 0 : r;
        escaped = escape(plain, plain_len, &escaped_len);
        result = malloc(len - opts.len + escaped_len + 1);
        if (!escaped || !result)
                return -ENOMEM;
        memcpy(result, text, opts.start);
        memcpy(result + opts.start, escaped, escaped_len);
        memcpy(result + opts.start + escaped_len, text + opts.start + opts.len, len - opts.start - opts.len);
        len = len - opts.len + escaped_len;
        result[len] = '\0';
        r = setup_plan_write(p, in->sr, path, result, len, 0644, ret_error);
        if (r < 0)
                return r;

        args = boot_args_text(in);
        if (!args)
                return -ENOMEM;
        r = setup_plan_note(
            p, "rEFInd boots the first line of %s (\"%s\") by default: it gains %s; %s", path, label, args,
            others > 0 ? "the other lines are unchanged: to boot once without the arguments, "
                         "press F2 (or Insert) on the entry at the rEFInd menu and pick one of them "
                         "(\"Boot with minimal options\" where refind-install wrote it)"
                       : "to boot once without the arguments, press F2 (or Insert) on the entry "
                         "at the rEFInd menu, then F2 again to edit its options and delete them");
        return r < 0 ? -ENOMEM : 0;
}
