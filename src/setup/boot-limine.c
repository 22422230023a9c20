/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Limine (research-setup.md §1.2; limine CONFIG.md): the kernel command line is a local option
 * of each entry, read at boot. limine.conf (Limine >= 8): entries start with a `/Title` line
 * (`//Sub` nested), options are `key: value`, `cmdline` or its alias `kernel_cmdline`; the old
 * limine.cfg: entries `:Title`, options `KEY=VALUE`, `CMDLINE=` or `KERNEL_CMDLINE=`. Comments
 * are '#' lines. The value of every entry that boots this installation (root= as the running kernel
 * got it) is edited token by token; other systems' entries are left alone.
 *
 * Under Secure Boot, a configuration hash enrolled in Limine's EFI binary (limine enroll-config)
 * makes an edited file stop the boot: an enrolled hash found on the ESP refuses the edit, and
 * where no Limine binary is found a note says that nobody could tell.
 *
 * Where limine-entry-tool writes limine.conf (CachyOS, Omarchy: /etc/default/limine), an edit
 * would be overwritten by its next run: a drop-in of ours in /etc/limine-entry-tool.d appends
 * to KERNEL_CMDLINE[default] instead, and limine-update regenerates. */

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/error.h"
#include "setup/boot-args.h"
#include "setup/boot-util.h"
#include "setup/cmdline.h"

#define ENTRY_TOOL_DIR "/etc/limine-entry-tool.d"
#define ENTRY_TOOL_DROPIN ENTRY_TOOL_DIR "/90-gpu-handoff.conf"
#define ENTRY_TOOL_DEFAULT "/etc/default/limine"
/* Limine keeps an enrolled configuration hash in its EFI binary: the 128 characters after this
 * marker, all '0' while none is enrolled (limine common/lib/config.c, config_b2sum). */
#define HASH_MARKER "++CONFIG_B2SUM_SIGNATURE++"
#define HASH_LEN 128
/* Limine's EFI binaries are a few hundred KiB */
#define EFI_BINARY_MAX (32u * 1024u * 1024u)

struct limine_entry {
        size_t line; /* of its title */
        char *title;
        bool has_cmdline; /* the first cmdline option, which is the one Limine reads */
        struct boot_span cmdline;
};

struct macro {
        char *name, *value;
};

static bool blank(char c)
{
        return c == ' ' || c == '\t';
}

/* ${NAME} replaced by the macros defined in the file, for comparing root= only (the edit keeps
 * the value as written). */
static char *expand(const char *s, size_t n, const struct macro *m, size_t n_m)
{
        size_t cap = n + 1, k = 0;
        char *out = malloc(cap);

        if (!out)
                return NULL;
        for (size_t i = 0; i < n;) {
                const char *close =
                    n - i > 2 && s[i] == '$' && s[i + 1] == '{' ? memchr(s + i, '}', n - i) : NULL;
                const char *ins = s + i;
                size_t ins_len = 1, skip = 1;

                for (size_t j = 0; close && j < n_m; j++)
                        if ((size_t)(close - s - i - 2) == strlen(m[j].name) &&
                            memcmp(s + i + 2, m[j].name, strlen(m[j].name)) == 0) {
                                ins = m[j].value;
                                ins_len = strlen(m[j].value);
                                skip = (size_t)(close - s) + 1 - i;
                                break;
                        }
                if (k + ins_len + 1 > cap) {
                        char *grown = realloc(out, cap = 2 * (k + ins_len + 1));

                        if (!grown) {
                                free(out);
                                return NULL;
                        }
                        out = grown;
                }
                memcpy(out + k, ins, ins_len);
                k += ins_len;
                i += skip;
        }
        out[k] = '\0';
        return out;
}

static void entries_free(struct limine_entry *e, size_t n, struct macro *m, size_t n_m)
{
        for (size_t i = 0; i < n; i++)
                free(e[i].title);
        free(e);
        for (size_t i = 0; i < n_m; i++) {
                free(m[i].name);
                free(m[i].value);
        }
        free(m);
}

static int parse(const char *text, size_t len, bool old, struct limine_entry **ret, size_t *ret_n,
                 struct macro **ret_m, size_t *ret_n_m)
{
        struct limine_entry *e = NULL;
        struct macro *m = NULL;
        size_t n = 0, n_m = 0, lineno = 0;

        for (size_t at = 0; at < len;) {
                const char *line = text + at;
                const char *nl = memchr(line, '\n', len - at);
                size_t ln = nl ? (size_t)(nl - line) : len - at, i = 0, end = ln;

                lineno++;
                if (end > 0 && line[end - 1] == '\r')
                        end--;
                while (i < end && blank(line[i]))
                        i++;
                if (i == end || line[i] == '#') {
                        at += ln + 1;
                        continue;
                }
                if (line[i] == (old ? ':' : '/')) {
                        struct limine_entry *g = reallocarray(e, n + 1, sizeof(*e));

                        if (!g)
                                goto oom;
                        e = g;
                        e[n] = (struct limine_entry){.line = lineno, .title = strndup(line + i, end - i)};
                        if (!e[n++].title)
                                goto oom;
                } else if (line[i] == '$' && i + 1 < end && line[i + 1] == '{') {
                        const char *close = memchr(line + i, '}', end - i);

                        if (close && close + 1 < line + end && close[1] == '=') {
                                struct macro *g = reallocarray(m, n_m + 1, sizeof(*m));

                                if (!g)
                                        goto oom;
                                m = g;
                                m[n_m].name = strndup(line + i + 2, (size_t)(close - line - i - 2));
                                m[n_m].value = strndup(close + 2, (size_t)(line + end - close - 2));
                                if (!m[n_m].name || !m[n_m].value) {
                                        free(m[n_m].name);
                                        free(m[n_m].value);
                                        goto oom;
                                }
                                n_m++;
                        }
                } else if (n > 0 && !e[n - 1].has_cmdline) {
                        char sep = old ? '=' : ':';
                        const char *s = memchr(line + i, sep, end - i);
                        size_t k, v;

                        if (s) {
                                k = (size_t)(s - line);
                                while (k > i && blank(line[k - 1]))
                                        k--;
                                v = (size_t)(s - line) + 1;
                                while (v < end && blank(line[v]))
                                        v++;
                                if ((k - i == 7 && strncasecmp(line + i, "cmdline", 7) == 0) ||
                                    (k - i == 14 && strncasecmp(line + i, "kernel_cmdline", 14) == 0)) {
                                        e[n - 1].has_cmdline = true;
                                        e[n - 1].cmdline = (struct boot_span){at + v, end - v};
                                }
                        }
                }
                at += ln + 1;
        }
        *ret = e;
        *ret_n = n;
        *ret_m = m;
        *ret_n_m = n_m;
        return 0;
oom:
        entries_free(e, n, m, n_m);
        return -ENOMEM;
}

static int note_escape(struct setup_plan *p, const struct setup_inputs *in)
{
        _cleanup_free_ char *args = boot_args_text(in);

        if (!args)
                return -ENOMEM;
        return setup_plan_note(
            p,
            "if the next boot fails: at the Limine menu, press e on the entry, delete %s from "
            "its cmdline and press F10 (that boot only; not where the editor is disabled)",
            args);
}

static int note_hash_trap(struct setup_plan *p, const char *path)
{
        return setup_plan_note(
            p,
            "Secure Boot: if a hash of %s is enrolled in Limine's EFI binary (limine "
            "enroll-config), the edited file no longer matches it and Limine refuses to boot; "
            "setup cannot tell whether one is enrolled: if so, enroll the new file's hash "
            "(b2sum) before rebooting",
            path);
}

/* Whether a Limine EFI binary on the ESP (EFI/BOOT/, EFI/limine/) has a configuration hash
 * enrolled: 1 with its path, 0 when Limine binaries were found and none has one, -ENOENT when
 * none was found (then nobody can tell), -ENOMEM. */
static int enrolled_hash(const struct setup_inputs *in, char **ret_binary)
{
        static const char *const dirs[] = {"EFI/BOOT", "EFI/limine", "EFI/Limine"};
        const char *esp = in->facts->esp;
        bool seen = false;

        for (size_t i = 0; esp && i < ELEMENTSOF(dirs); i++) {
                _cleanup_free_ char *dir = NULL;
                _cleanup_closedir_ DIR *d = NULL;
                struct dirent *de;

                if (asprintf(&dir, "%s/%s", strcmp(esp, "/") == 0 ? "" : esp, dirs[i]) < 0)
                        return -ENOMEM;
                if (sysroot_opendir(in->sr, dir, &d) < 0)
                        continue;
                while ((de = readdir(d))) {
                        _cleanup_free_ char *path = NULL, *data = NULL;
                        size_t len = 0, l = strlen(de->d_name);
                        const char *at;

                        if (l < 5 || strcasecmp(de->d_name + l - 4, ".efi") != 0)
                                continue;
                        if (asprintf(&path, "%s/%s", dir, de->d_name) < 0)
                                return -ENOMEM;
                        if (sysroot_read_file(in->sr, path, EFI_BINARY_MAX, &data, &len) < 0)
                                continue;
                        at = memmem(data, len, HASH_MARKER, strlen(HASH_MARKER));
                        if (!at)
                                continue;
                        seen = true;
                        at += strlen(HASH_MARKER);
                        if ((size_t)(data + len - at) < HASH_LEN)
                                continue;
                        for (size_t k = 0; k < HASH_LEN; k++)
                                if (at[k] != '0') {
                                        *ret_binary = TAKE_PTR(path);
                                        return 1;
                                }
                }
        }
        return seen ? 0 : -ENOENT;
}

/* KERNEL_CMDLINE's values in /etc/default/limine and the other drop-ins (not ours), joined: the
 * double- or single-quoted strings of the lines that assign it. Good enough to see what is
 * there already; the files are bash, and limine-entry-tool has the last word. */
static int entry_tool_cmdline(const struct sysroot *sr, struct strv *ret_files, char **ret, char **ret_error)
{
        _cleanup_(strv_done) struct strv files = {0};
        _cleanup_closedir_ DIR *d = NULL;
        size_t cap = 1, n = 0;
        char *all = calloc(1, 1);
        int r;

        if (!all)
                return -ENOMEM;
        if (strv_addf(&files, "%s", ENTRY_TOOL_DEFAULT) < 0)
                goto oom;
        if (sysroot_opendir(sr, ENTRY_TOOL_DIR, &d) >= 0) {
                struct dirent *de;
                _cleanup_(strv_done) struct strv names = {0};

                while ((de = readdir(d))) {
                        size_t l = strlen(de->d_name);

                        if (de->d_name[0] == '.' || l < 6 || strcmp(de->d_name + l - 5, ".conf") != 0 ||
                            strcmp(de->d_name, "90-gpu-handoff.conf") == 0)
                                continue;
                        if (strv_addf(&names, "%s", de->d_name) < 0)
                                goto oom;
                }
                if (names.n > 0)
                        qsort(names.v, names.n, sizeof(char *), strv_compare);
                for (size_t i = 0; i < names.n; i++)
                        if (strv_addf(&files, "%s/%s", ENTRY_TOOL_DIR, names.v[i]) < 0)
                                goto oom;
        }
        for (size_t f = 0; f < files.n; f++) {
                _cleanup_free_ char *text = NULL;
                size_t len = 0;

                r = setup_file_read(sr, files.v[f], &text, &len, ret_error);
                if (r == -ENOENT)
                        continue;
                if (r < 0) {
                        free(all);
                        return r;
                }
                for (char *line = text; line && *line;) {
                        char *nl = strchr(line, '\n'), *c;

                        if (nl)
                                *nl = '\0';
                        c = line + strspn(line, " \t");
                        if (*c != '#' && strstr(c, "KERNEL_CMDLINE"))
                                for (char *q = c; (q = strpbrk(q, "\"'"));) {
                                        char *close = strchr(q + 1, *q);

                                        if (!close)
                                                break;
                                        size_t l = (size_t)(close - q - 1);
                                        if (n + l + 2 > cap) {
                                                char *g = realloc(all, cap = 2 * (n + l + 2));
                                                if (!g)
                                                        goto oom;
                                                all = g;
                                        }
                                        all[n++] = ' ';
                                        memcpy(all + n, q + 1, l);
                                        n += l;
                                        all[n] = '\0';
                                        q = close + 1;
                                }
                        line = nl ? nl + 1 : NULL;
                }
        }
        *ret = all;
        *ret_files = files;
        files = (struct strv){0};
        return 0;
oom:
        free(all);
        return -ENOMEM;
}

static int plan_entry_tool(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        _cleanup_(strv_done) struct strv files = {0};
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        _cleanup_free_ char *there = NULL, *args = NULL, *content = NULL, *list = NULL;
        size_t len;
        int r;

        r = entry_tool_cmdline(in->sr, &files, &there, ret_error);
        if (r < 0)
                return r;
        list = strv_join(files.v, ", ");
        if (!list)
                return -ENOMEM;
        /* a drop-in can only add: an argument to remove that another file sets stays */
        r = cmdline_parse(there, strlen(there), &c, NULL);
        if (r < 0)
                return setup_plan_refuse(p,
                                         "limine-entry-tool's KERNEL_CMDLINE (%s) does not parse as kernel "
                                         "arguments",
                                         list);
        for (size_t i = 0; in->args_remove && in->args_remove[i]; i++) {
                _cleanup_(cmdline_freep) struct cmdline *one = NULL;

                if (cmdline_parse(in->args_remove[i], strlen(in->args_remove[i]), &one, NULL) >= 0 &&
                    one->n_args == 1 && cmdline_has(c, one->args[0].key, one->args[0].value))
                        return setup_plan_refuse(
                            p,
                            "%s is in limine-entry-tool's KERNEL_CMDLINE (%s); a drop-in "
                            "can only add arguments: remove it there, then run setup again",
                            in->args_remove[i], list);
        }
        len = strlen(there);
        struct boot_span all = {0, len};
        /* on a scratch plan: the edit records what it adds, and the drop-in may be in place */
        _cleanup_(setup_plan_done) struct setup_plan scratch = {0};
        r = boot_edit_spans(in, &scratch, &there, &len, &all, 1, false, "limine-entry-tool's KERNEL_CMDLINE",
                            ret_error);
        if (r == -ECANCELED)
                return setup_plan_refuse(p, "%s", scratch.refused);
        if (r <= 0)
                return r;
        /* the arguments the edit found missing are ours to add; those already there are not */
        _cleanup_(strv_done) struct strv ours = {0};
        for (size_t i = 0; in->args_add[i]; i++) {
                _cleanup_(cmdline_freep) struct cmdline *one = NULL;

                if (cmdline_parse(in->args_add[i], strlen(in->args_add[i]), &one, NULL) >= 0 &&
                    one->n_args == 1 && !cmdline_has(c, one->args[0].key, one->args[0].value) &&
                    strv_addf(&ours, "%s", in->args_add[i]) < 0)
                        return -ENOMEM;
        }
        args = strv_join(ours.v, " ");
        if (!args || asprintf(&content,
                              "# Written by gpu-handoff setup; `gpu-handoff setup undo` removes it.\n"
                              "KERNEL_CMDLINE[default]+=\" %s\"\n",
                              args) < 0)
                return -ENOMEM;
        r = setup_plan_write(p, in->sr, ENTRY_TOOL_DROPIN, content, strlen(content), 0644, ret_error);
        if (r < 0)
                return r;
        if (r == 0)
                return 0;
        if (boot_args_record(&p->args_add, ours.v) < 0)
                return -ENOMEM;
        const char *argv[] = {"limine-update", NULL};
        /* No check on the generated limine.conf: snapshot entries (limine-snapper-sync) keep the
         * command line of their day, so "every cmdline line holds the arguments" does not hold there. */
        if (setup_plan_command(p, SETUP_COMMAND_REGENERATE, argv, NULL) < 0 ||
            setup_plan_note(
                p,
                "limine-entry-tool writes %s from %s and its drop-ins: %s adds %s to the default "
                "entries, and every kernel installed from now on gets them too",
                in->facts->limine_conf ? in->facts->limine_conf : "limine.conf", ENTRY_TOOL_DEFAULT,
                ENTRY_TOOL_DROPIN, args) < 0 ||
            note_hash_trap(p, in->facts->limine_conf ? in->facts->limine_conf : "limine.conf") < 0 ||
            note_escape(p, in) < 0)
                return -ENOMEM;
        return 0;
}

int boot_limine_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const char *path = in->facts->limine_conf;
        _cleanup_free_ char *text = NULL, *root = NULL, *left = NULL, *edited_list = NULL, *binary = NULL;
        _cleanup_(strv_done) struct strv others = {0}, edited = {0};
        int hash;
        struct limine_entry *e = NULL;
        struct macro *m = NULL;
        size_t len = 0, n = 0, n_m = 0, matched = 0;
        bool old;
        int r;

        if (in->facts->limine_entry_tool)
                return plan_entry_tool(in, p, ret_error);
        if (!path)
                return setup_plan_refuse(p, "no limine.conf found in Limine's search paths");
        r = setup_file_read(in->sr, path, &text, &len, ret_error);
        if (r == -ENOENT)
                return setup_plan_refuse(p, "%s is gone", path);
        if (r < 0)
                return r;
        hash = enrolled_hash(in, &binary);
        if (hash == -ENOMEM)
                return hash;
        if (hash > 0)
                return setup_plan_refuse(
                    p,
                    "a hash of Limine's configuration is enrolled in %s (limine "
                    "enroll-config): under Secure Boot an edited %s stops the boot; add the "
                    "arguments by hand and enroll the new file's hash, then run setup again",
                    binary, path);
        if (in->facts->cmdline)
                root = boot_cmdline_root(in->facts->cmdline, strlen(in->facts->cmdline));
        if (!root)
                return setup_plan_refuse(
                    p,
                    "cannot tell which entries of %s boot this system: /proc/cmdline has no "
                    "root=; add the arguments to your entry's cmdline by hand",
                    path);
        old = strlen(path) > 4 && strcmp(path + strlen(path) - 4, ".cfg") == 0;
        r = parse(text, len, old, &e, &n, &m, &n_m);
        if (r < 0)
                return r;

        /* from the last entry to the first, so that the earlier spans stay where they are */
        for (size_t k = n; k-- > 0;) {
                _cleanup_free_ char *value = NULL, *theirs = NULL, *where = NULL;

                if (!e[k].has_cmdline) {
                        if (strv_addf(&others, "%s (line %zu: no cmdline)", e[k].title, e[k].line) < 0)
                                goto oom;
                        continue;
                }
                value = expand(text + e[k].cmdline.start, e[k].cmdline.len, m, n_m);
                if (!value)
                        goto oom;
                theirs = boot_cmdline_root(value, strlen(value));
                if (!theirs || strcmp(theirs, root) != 0) {
                        if (strv_addf(&others, "%s (line %zu: %s%s)", e[k].title, e[k].line,
                                      theirs ? "root=" : "no root=", theirs ? theirs : "") < 0)
                                goto oom;
                        continue;
                }
                matched++;
                if (asprintf(&where, "%s:%zu", path, e[k].line) < 0)
                        goto oom;
                r = boot_edit_spans(in, p, &text, &len, &e[k].cmdline, 1, true, where, ret_error);
                if (r == -ECANCELED) {
                        r = 0;
                        goto out;
                }
                if (r < 0)
                        goto out;
                if (r > 0 && strv_addf(&edited, "%s", e[k].title) < 0)
                        goto oom;
        }
        if (matched == 0) {
                r = setup_plan_refuse(p,
                                      "no entry of %s boots this installation, with root=%s; add the "
                                      "arguments to your entry's cmdline by hand",
                                      path, root);
                goto out;
        }
        r = 0;
        if (edited.n == 0)
                goto out;
        r = setup_plan_write(p, in->sr, path, text, len, 0644, ret_error);
        if (r < 0)
                goto out;
        r = 0;
        /* the lists were built from the last entry up */
        for (size_t i = 0; i < edited.n / 2; i++) {
                char *x = edited.v[i];
                edited.v[i] = edited.v[edited.n - 1 - i];
                edited.v[edited.n - 1 - i] = x;
        }
        for (size_t i = 0; i < others.n / 2; i++) {
                char *x = others.v[i];
                others.v[i] = others.v[others.n - 1 - i];
                others.v[others.n - 1 - i] = x;
        }
        edited_list = strv_join(edited.v, ", ");
        if (!edited_list ||
            setup_plan_note(p, "Limine reads %s at boot: edited the cmdline of %s", path, edited_list) < 0)
                goto oom;
        if (others.n > 0) {
                left = strv_join(others.v, ", ");
                if (!left || setup_plan_note(p, "left alone, they boot another system: %s", left) < 0)
                        goto oom;
        }
        /* Limine binaries without a hash need no word; none found: nobody can tell */
        if ((hash == -ENOENT && note_hash_trap(p, path) < 0) || note_escape(p, in) < 0)
                goto oom;
out:
        entries_free(e, n, m, n_m);
        return r;
oom:
        entries_free(e, n, m, n_m);
        return -ENOMEM;
}
