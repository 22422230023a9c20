/* SPDX-License-Identifier: GPL-2.0-or-later */
/* systemd-boot (research-setup.md §1.2): the kernel arguments of its Type #1 loader entries.
 *
 * Entries written by kernel-install (90-loaderentry.install) take their `options` from
 * /etc/kernel/cmdline, so that file is what we edit, token by token; when it is missing it is
 * created from the BOOTED entry's options, never from /proc/cmdline (kernel-install's own
 * fallback), which would freeze a one-off edit made at the boot menu into every entry. Then
 * `kernel-install add` rebuilds the entry of every installed kernel, and a check reads each.
 *
 * Entries written by hand (Arch's loader/entries/arch.conf and arch-fallback.conf) are nobody's
 * output: the `options` line of every entry that boots this installation (the same root= as the
 * booted entry) is edited in place; entries of another system are left alone. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "setup/boot-util.h"
#include "setup/cmdline.h"

#define KERNEL_CMDLINE_PATH "/etc/kernel/cmdline"

/* One loader entry as systemd-boot reads it (src/boot/efi/boot.c line_get_key_value): lines of
 * KEY VALUE, '#' comments; `options` may be given several times and the values concatenate. */
struct bls_entry {
        char *path;
        char *text;
        size_t len;
        struct boot_span *options;
        size_t n_options;
        bool kernel; /* a `linux` or `uki` line: an entry that boots a Linux kernel */
};

static void bls_entry_done(struct bls_entry *e)
{
        free(e->path);
        free(e->text);
        free(e->options);
        *e = (struct bls_entry){0};
}

static bool blank(char c)
{
        return c == ' ' || c == '\t';
}

static int bls_parse(struct bls_entry *e)
{
        for (size_t at = 0; at < e->len;) {
                const char *line = e->text + at;
                const char *nl = memchr(line, '\n', e->len - at);
                size_t n = nl ? (size_t)(nl - line) : e->len - at, i = 0, key;

                while (i < n && blank(line[i]))
                        i++;
                key = i;
                while (i < n && !blank(line[i]) && line[i] != '\r')
                        i++;
                if (i > key && line[key] != '#') {
                        size_t key_len = i - key;

                        while (i < n && blank(line[i]))
                                i++;
                        if (key_len == 7 && memcmp(line + key, "options", 7) == 0) {
                                struct boot_span *o = reallocarray(e->options, e->n_options + 1, sizeof(*o));

                                if (!o)
                                        return -ENOMEM;
                                e->options = o;
                                /* without trailing "\r": systemd-boot drops it, and so do we */
                                e->options[e->n_options++] = (struct boot_span){
                                    .start = at + i,
                                    .len = n - i - (n > i && line[n - 1] == '\r'),
                                };
                        } else if ((key_len == 5 && memcmp(line + key, "linux", 5) == 0) ||
                                   (key_len == 3 && memcmp(line + key, "uki", 3) == 0))
                                e->kernel = true;
                }
                at += n + 1;
        }
        return 0;
}

/* The options values joined by a blank, as systemd-boot passes them. */
static char *bls_options(const struct bls_entry *e)
{
        char *s = malloc(e->len + e->n_options + 1);
        size_t n = 0;

        if (!s)
                return NULL;
        for (size_t i = 0; i < e->n_options; i++) {
                if (i > 0)
                        s[n++] = ' ';
                memcpy(s + n, e->text + e->options[i].start, e->options[i].len);
                n += e->options[i].len;
        }
        s[n] = '\0';
        return s;
}

static int bls_read(const struct sysroot *sr, const char *dir, const char *name, struct bls_entry *ret,
                    char **ret_error)
{
        struct bls_entry e = {0};
        int r;

        if (asprintf(&e.path, "%s/%s", dir, name) < 0)
                return -ENOMEM;
        r = setup_file_read(sr, e.path, &e.text, &e.len, ret_error);
        if (r == -ENOENT)
                r = error_setf(ret_error, r, "%s is gone", e.path);
        if (r >= 0 && memchr(e.text, '\0', e.len))
                r = error_setf(ret_error, -EINVAL, "%s holds a NUL byte; not a loader entry", e.path);
        if (r >= 0)
                r = bls_parse(&e);
        if (r < 0) {
                bls_entry_done(&e);
                return r;
        }
        *ret = e;
        return 0;
}

/* The length of an entry file name without ".conf" and without the boot counter kernel-install
 * and systemd-bless-boot put before it ("+3", "+2-1"); 0 when it does not end in ".conf". */
static size_t entry_base(const char *name)
{
        size_t n = strlen(name), base;
        const char *plus, *c;
        size_t left = 0, done = 0;

        if (n <= 5 || strcmp(name + n - 5, ".conf") != 0)
                return 0;
        base = n - 5;
        plus = memrchr(name, '+', base);
        if (!plus)
                return base;
        c = plus + 1;
        while (c < name + base && isdigit((unsigned char)*c))
                c++, left++;
        if (left > 0 && c < name + base && *c == '-') {
                c++;
                while (c < name + base && isdigit((unsigned char)*c))
                        c++, done++;
                if (done == 0)
                        return base;
        }
        return left > 0 && c == name + base ? (size_t)(plus - name) : base;
}

/* Whether the entry file name is the entry id systemd-boot reported in LoaderEntrySelected: the
 * id is the file name without the boot counter, with ".conf" (systemd >= 239) or without it. */
static bool entry_is(const char *name, const char *id)
{
        size_t base = entry_base(name);

        if (base == 0 || strncmp(id, name, base) != 0)
                return false;
        return id[base] == '\0' || strcmp(id + base, ".conf") == 0;
}

static const char *booted_entry_name(const struct boot_facts *f)
{
        if (!f->loader_entry)
                return NULL;
        for (size_t i = 0; f->entries && f->entries[i]; i++)
                if (entry_is(f->entries[i], f->loader_entry))
                        return f->entries[i];
        return NULL;
}

static const char *entries_dir(const struct boot_facts *f, char **buf)
{
        if (f->entries_dir)
                return f->entries_dir;
        if (f->esp && asprintf(buf, "%s/loader/entries", f->esp) >= 0)
                return *buf;
        return NULL;
}

/* The first line of a small file below the root, blanks trimmed; NULL when absent or empty. */
static char *first_line(const struct sysroot *sr, const char *path)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0, a = 0, b;

        if (sysroot_read_file(sr, path, 4096, &text, &len) < 0)
                return NULL;
        while (a < len && isspace((unsigned char)text[a]))
                a++;
        b = a;
        while (b < len && text[b] != '\n' && text[b] != '\0')
                b++;
        while (b > a && isspace((unsigned char)text[b - 1]))
                b--;
        return b > a ? strndup(text + a, b - a) : NULL;
}

/* The token kernel-install names entries with (ENTRY_TOKEN): /etc/kernel/entry-token, else the
 * machine id; what the existing entries use wins over both (an entry-token=auto install that
 * picked the os-release ID, or a machine id changed since), read from the entry of an
 * installed kernel: TOKEN-KVER.conf. */
static char *entry_token(const struct setup_inputs *in)
{
        const struct boot_facts *f = in->facts;
        char *tok = first_line(in->sr, "/etc/kernel/entry-token");

        if (!tok)
                tok = first_line(in->sr, "/etc/machine-id");
        for (size_t i = 0; tok && f->entries && f->entries[i]; i++)
                if (strncmp(f->entries[i], tok, strlen(tok)) == 0 && f->entries[i][strlen(tok)] == '-')
                        return tok;
        for (size_t i = 0; f->entries && f->entries[i]; i++)
                for (size_t k = 0; f->kernels && f->kernels[k]; k++) {
                        const char *name = f->entries[i];
                        size_t base = entry_base(name), kl = strlen(f->kernels[k]);

                        if (base < kl + 2 || name[base - kl - 1] != '-' ||
                            strncmp(name + base - kl, f->kernels[k], kl) != 0)
                                continue;
                        free(tok);
                        return strndup(name, base - kl - 1);
                }
        return tok;
}

static int note_escape(struct setup_plan *p, const struct setup_inputs *in, const char *alternative)
{
        _cleanup_free_ char *args = boot_args_text(in);

        if (!args)
                return -ENOMEM;
        return setup_plan_note(
            p,
            "if the next boot fails: in the systemd-boot menu, select the entry, press e, "
            "delete %s and press Enter (that boot only)%s",
            args, alternative ? alternative : "");
}

/* The options /etc/kernel/cmdline starts from: the booted entry's, without the
 * systemd.machine_id= that kernel-install appends itself. 1 with the plan refused when there is
 * no booted entry to read. */
static int cmdline_from_booted_entry(const struct setup_inputs *in, struct setup_plan *p, const char *dir,
                                     char **ret, char **ret_from, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        const char *booted = booted_entry_name(f);
        _cleanup_(bls_entry_done) struct bls_entry e = {0};
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        _cleanup_(strv_done) struct strv strip = {0};
        _cleanup_free_ char *options = NULL, *out = NULL;
        size_t out_len = 0;
        int r;

        if (!booted) {
                r = setup_plan_refuse(
                    p,
                    "%s does not exist and the booted loader entry is not known (%s); create %s "
                    "with the kernel arguments every entry should boot with (the options line "
                    "of the entry you boot, in %s), then run setup again",
                    KERNEL_CMDLINE_PATH,
                    f->loader_entry ? "LoaderEntrySelected names no entry there"
                                    : "no LoaderEntrySelected EFI variable",
                    KERNEL_CMDLINE_PATH, dir);
                return r < 0 ? r : 1;
        }
        r = bls_read(in->sr, dir, booted, &e, ret_error);
        if (r < 0)
                return r;
        if (e.n_options == 0) {
                r = setup_plan_refuse(
                    p,
                    "%s does not exist and the booted entry %s has no options line to create "
                    "it from; create %s with the kernel arguments every entry should boot "
                    "with, then run setup again",
                    KERNEL_CMDLINE_PATH, e.path, KERNEL_CMDLINE_PATH);
                return r < 0 ? r : 1;
        }
        options = bls_options(&e);
        if (!options)
                return -ENOMEM;
        r = cmdline_parse(options, strlen(options), &c, ret_error);
        if (r < 0)
                return r;
        for (size_t i = 0; i < c->separator; i++)
                if (strcmp(c->args[i].key, "systemd.machine_id") == 0 &&
                    strv_addf(&strip, "%.*s", (int)c->args[i].len, options + c->args[i].start) < 0)
                        return -ENOMEM;
        r = cmdline_edit(options, strlen(options), NULL, (const char *const *)strip.v, &out, &out_len, NULL,
                         ret_error);
        if (r < 0)
                return r;
        *ret_from = strdup(e.path);
        if (!*ret_from)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        return 0;
}

static int plan_kernel_install(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        _cleanup_free_ char *dir_buf = NULL, *text = NULL, *from = NULL, *token = NULL, *tries = NULL;
        const char *dir = entries_dir(f, &dir_buf);
        size_t len = 0;
        bool created = false;
        int r;

        if (!dir)
                return setup_plan_refuse(p, "systemd-boot's loader entries were not found (no ESP with "
                                            "loader/entries)");
        r = setup_file_read(in->sr, KERNEL_CMDLINE_PATH, &text, &len, ret_error);
        if (r == -ENOENT) {
                _cleanup_free_ char *options = NULL;

                r = cmdline_from_booted_entry(in, p, dir, &options, &from, ret_error);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (asprintf(&text, "%s\n", options) < 0)
                        return -ENOMEM;
                len = strlen(text);
                created = true;
        } else if (r < 0)
                return r;

        /* kernel-install reads every line of the file, blanks and newlines alike (tr -s "$IFS" ' ') */
        struct boot_span all = {0, len};
        if (created)
                all.len = len - 1;
        r = boot_edit_spans(in, p, &text, &len, &all, 1, false, KERNEL_CMDLINE_PATH, ret_error);
        if (r <= 0)
                return r == -ECANCELED ? 0 : r;
        r = setup_plan_write(p, in->sr, KERNEL_CMDLINE_PATH, text, len, 0644, ret_error);
        if (r < 0)
                return r;

        r = boot_plan_kernel_install(in, p);
        if (r != 0)
                return r < 0 ? r : 0;

        token = entry_token(in);
        if (!token)
                return setup_plan_refuse(p,
                                         "cannot tell the names of the entries kernel-install writes (no "
                                         "/etc/kernel/entry-token, no /etc/machine-id, no entry of an "
                                         "installed kernel in %s)",
                                         dir);
        /* boot counting: kernel-install names a new entry TOKEN-KVER+TRIES.conf */
        tries = first_line(in->sr, "/etc/kernel/tries");
        if (tries && strspn(tries, "0123456789") != strlen(tries)) {
                free(tries);
                tries = NULL;
        }
        /* a check proves what is there; what was removed it cannot see */
        for (size_t i = 0; in->args_add[0] && f->kernels[i]; i++) {
                _cleanup_free_ char *path = NULL, *what = NULL;

                if (asprintf(&path, "%s/%s-%s%s%s.conf", dir, token, f->kernels[i], tries ? "+" : "",
                             tries ? tries : "") < 0 ||
                    asprintf(&what, "the loader entry of kernel %s (%s)", f->kernels[i], path) < 0)
                        return -ENOMEM;
                r = setup_plan_check_lines(p, what, path, "options", boot_check_tokens(in));
                if (r < 0)
                        return r;
        }

        if (created &&
            setup_plan_note(p,
                            "%s did not exist: it is created from the options of the booted entry "
                            "%s (without systemd.machine_id=, which kernel-install adds itself), "
                            "not from /proc/cmdline, which holds any one-off edit made at the boot "
                            "menu",
                            KERNEL_CMDLINE_PATH, from) < 0)
                return -ENOMEM;
        if (setup_plan_note(
                p,
                "kernel-install takes the options of every entry from %s: every kernel installed "
                "from now on boots with these arguments too",
                KERNEL_CMDLINE_PATH) < 0)
                return -ENOMEM;
        if (tries &&
            setup_plan_note(p,
                            "boot counting is on (/etc/kernel/tries: %s): an entry that does not reach "
                            "boot-complete %s times is no longer the default",
                            tries, tries) < 0)
                return -ENOMEM;
        return note_escape(p, in, NULL);
}

/* Entries written by hand: every one whose options carry the booted system's root=. */
static int plan_by_hand(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        _cleanup_free_ char *dir_buf = NULL, *root = NULL, *edited = NULL;
        _cleanup_(strv_done) struct strv others = {0}, kept = {0};
        const char *dir = entries_dir(f, &dir_buf);
        const char *booted = booted_entry_name(f);
        size_t matched = 0;
        int r;

        if (!dir || !f->entries || !f->entries[0])
                return setup_plan_refuse(p, "systemd-boot's loader entries were not found (no *.conf in "
                                            "ESP/loader/entries)");
        /* root= of the booted entry as written, else as the running kernel got it */
        if (booted) {
                _cleanup_(bls_entry_done) struct bls_entry e = {0};
                _cleanup_free_ char *options = NULL;

                r = bls_read(in->sr, dir, booted, &e, ret_error);
                if (r < 0)
                        return r;
                options = bls_options(&e);
                if (!options)
                        return -ENOMEM;
                root = boot_cmdline_root(options, strlen(options));
        }
        if (!root && f->cmdline)
                root = boot_cmdline_root(f->cmdline, strlen(f->cmdline));
        if (!root)
                return setup_plan_refuse(p,
                                         "cannot tell which loader entries boot this system: neither the "
                                         "booted entry nor /proc/cmdline has root=; add the arguments to "
                                         "your entries' options lines in %s by hand",
                                         dir);

        for (size_t i = 0; f->entries[i]; i++) {
                _cleanup_(bls_entry_done) struct bls_entry e = {0};
                _cleanup_free_ char *options = NULL, *their_root = NULL, *what = NULL;

                r = bls_read(in->sr, dir, f->entries[i], &e, ret_error);
                if (r < 0)
                        return r;
                options = bls_options(&e);
                if (!options)
                        return -ENOMEM;
                their_root = boot_cmdline_root(options, strlen(options));
                if (!their_root || strcmp(their_root, root) != 0) {
                        r = their_root ? strv_addf(&others, "%s (root=%s)", f->entries[i], their_root)
                                       : strv_addf(&others, "%s (%s)", f->entries[i],
                                                   e.kernel ? "no root=" : "not a Linux entry");
                        if (r < 0)
                                return -ENOMEM;
                        continue;
                }
                matched++;
                r = boot_edit_spans(in, p, &e.text, &e.len, e.options, e.n_options, true, e.path, ret_error);
                if (r == -ECANCELED)
                        return 0;
                if (r < 0)
                        return r;
                if (r == 0)
                        continue;
                r = setup_plan_write(p, in->sr, e.path, e.text, e.len, 0644, ret_error);
                if (r < 0)
                        return r;
                if (strv_addf(&kept, "%s", f->entries[i]) < 0)
                        return -ENOMEM;
                /* the check asks every options line for every argument: only where there is one line */
                if (e.n_options != 1 || !in->args_add[0])
                        continue;
                if (asprintf(&what, "the loader entry %s", e.path) < 0)
                        return -ENOMEM;
                r = setup_plan_check_lines(p, what, e.path, "options", boot_check_tokens(in));
                if (r < 0)
                        return r;
        }
        if (matched == 0)
                return setup_plan_refuse(p,
                                         "no loader entry in %s boots this installation, root=%s; add the "
                                         "arguments to the options line of your entry by hand",
                                         dir, root);
        if (kept.n == 0)
                return 0;

        edited = strv_join(kept.v, ", ");
        if (!edited ||
            setup_plan_note(p,
                            "the entries in %s are written by hand (no kernel-install): edited %s; "
                            "an entry you add later needs the arguments too",
                            dir, edited) < 0)
                return -ENOMEM;
        if (others.n > 0) {
                _cleanup_free_ char *list = strv_join(others.v, ", ");

                if (!list || setup_plan_note(p, "left alone, they boot another system: %s", list) < 0)
                        return -ENOMEM;
        }
        return note_escape(p, in, NULL);
}

int boot_systemd_boot_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        if (in->facts->entries_by_kernel_install)
                return plan_kernel_install(in, p, ret_error);
        return plan_by_hand(in, p, ret_error);
}
