/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The GRUB backend (BOOTLOADER_GRUB, BOOTLOADER_GRUB_BLS; research-setup.md §1.2).
 *
 * Debian and Ubuntu (a /etc/default/grub.d directory: Debian's default_grub_d.patch): the
 * arguments go into our own drop-in, appended to GRUB_CMDLINE_LINUX_DEFAULT, so that the
 * recovery entries, which get GRUB_CMDLINE_LINUX only, stay a clean way back, and so that undo is
 * removing our file. What is already in effect is what grub-mkconfig would compute: it sources
 * /etc/default/grub, then every grub.d/ *.cfg in order, the last assignment winning (Ubuntu's
 * cloud images set GRUB_CMDLINE_LINUX_DEFAULT in 50-cloudimg-settings.cfg; ours is read after).
 *
 * Elsewhere (Arch, openSUSE, Fedora without grubby: grub.d is not read there) the value of
 * GRUB_CMDLINE_LINUX_DEFAULT in /etc/default/grub is edited token by token, every other byte
 * kept, then grub-mkconfig writes the menu. With BLS (GRUB_ENABLE_BLSCFG=true) the command line
 * lives in each entry's `options` line, which grub-mkconfig no longer rewrites (rhboot/grub2
 * PR #126), so those are edited too, and /etc/kernel/cmdline, which kernel-install copies into
 * the entries of kernels installed later. */

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/error.h"
#include "setup/backend.h"
#include "setup/boot-args.h"
#include "setup/cmdline.h"
#include "setup/grub-default.h"

#define GRUB_DEFAULT_PATH "/etc/default/grub"
#define GRUB_DEFAULT_DIR "/etc/default/grub.d"
#define LINUX "GRUB_CMDLINE_LINUX"
#define DEFAULT "GRUB_CMDLINE_LINUX_DEFAULT"

/* Our drop-in: one comment and one assignment that appends to what was read before it. */
#define DROPIN_COMMENT "# Written by gpu-handoff setup; `gpu-handoff setup undo` removes it.\n"
#define DROPIN_PREFIX DEFAULT "=\"$" DEFAULT " "

/* GRUB's recovery entries: Debian's 10_linux gives them "single", Ubuntu's "recovery", and
 * only GRUB_CMDLINE_LINUX, so their linux lines lack our arguments by design. */
static const char *const recovery_words[] = {"single", "recovery", NULL};

/* grub-mkconfig's view of the two variables: the value of the last assignment and the file it
 * is in (NULL: never assigned, the value is ""). */
struct grub_effective {
        char *linux_value, *linux_from;
        char *default_value, *default_from;
        char *no_recovery, *no_recovery_from; /* GRUB_DISABLE_RECOVERY, for the way back we name */
};

static void grub_effective_done(struct grub_effective *e)
{
        free(e->linux_value);
        free(e->linux_from);
        free(e->default_value);
        free(e->default_from);
        free(e->no_recovery);
        free(e->no_recovery_from);
}

/* Takes path's assignments of the variable into *value / *from. 1 when it has one, 0 when not,
 * -EOPNOTSUPP (or -EINVAL) with the refusal in *ret_error when the file cannot be understood. */
static int take_assignment(const char *path, const char *text, size_t len, const char *name, char **value,
                           char **from, char **ret_error)
{
        _cleanup_free_ char *error = NULL;
        struct grub_value v = {0};
        char *f;
        int r;

        r = grub_default_find(text, len, name, &v, &error);
        if (r == -ENOMEM)
                return r;
        if (r < 0)
                return error_setf(ret_error, r, "%s: %s", path, error ?: "cannot be read as a shell script");
        if (r == 0)
                return 0;
        f = strdup(path);
        if (!f) {
                grub_value_done(&v);
                return -ENOMEM;
        }
        free(*value);
        free(*from);
        *value = TAKE_PTR(v.value);
        *from = f;
        grub_value_done(&v);
        return 1;
}

/* Reads one sourced file into e. A file that never names the variables is not parsed: what it
 * does with other variables is none of our business, however it is written. */
static int effective_add(struct grub_effective *e, const char *path, const char *text, size_t len,
                         bool linux_only, char **ret_error)
{
        _cleanup_free_ char *ignored = NULL;
        int r;

        /* only for what the notes say: a form we cannot read leaves the last value we could */
        if (memmem(text, len, "GRUB_DISABLE_RECOVERY", strlen("GRUB_DISABLE_RECOVERY")))
                (void)take_assignment(path, text, len, "GRUB_DISABLE_RECOVERY", &e->no_recovery,
                                      &e->no_recovery_from, &ignored);
        if (!memmem(text, len, LINUX, strlen(LINUX)))
                return 0;
        r = take_assignment(path, text, len, LINUX, &e->linux_value, &e->linux_from, ret_error);
        if (r < 0 || linux_only)
                return r < 0 ? r : 0;
        r = take_assignment(path, text, len, DEFAULT, &e->default_value, &e->default_from, ret_error);
        return r < 0 ? r : 0;
}

/* The *.cfg names in grub.d, in the order the shell's glob gives them (the C locale's; a locale
 * that collates differently could order names that differ only in case otherwise). */
static int list_dropins(const struct sysroot *sr, char ***ret, char **ret_error)
{
        _cleanup_(closedirp) DIR *d = NULL;
        struct strv names = {0};
        struct dirent *de;
        int r;

        r = sysroot_opendir(sr, GRUB_DEFAULT_DIR, &d);
        if (r < 0)
                return error_setf(ret_error, r, "cannot read %s: %s", GRUB_DEFAULT_DIR, strerror(-r));
        while ((de = readdir(d))) {
                size_t n = strlen(de->d_name);
                if (de->d_name[0] == '.' || n <= 4 || strcmp(de->d_name + n - 4, ".cfg") != 0)
                        continue;
                if (strv_addf(&names, "%s", de->d_name) < 0) {
                        strv_done(&names);
                        return -ENOMEM;
                }
        }
        if (names.n > 0)
                qsort(names.v, names.n, sizeof(char *), strv_compare);
        *ret = strv_take(&names);
        return *ret ? 0 : -ENOMEM;
}

/* The arguments our drop-in appends: NULL in *ret when it is not in the shape we write (someone
 * edited it). */
static int dropin_args(const char *text, char **ret)
{
        const char *line = strstr(text, "\n" DROPIN_PREFIX), *end;

        line = line ? line + 1 : (strncmp(text, DROPIN_PREFIX, strlen(DROPIN_PREFIX)) == 0 ? text : NULL);
        *ret = NULL;
        if (!line)
                return 0;
        line += strlen(DROPIN_PREFIX);
        end = strchr(line, '\n');
        if (!end || end == line || end[-1] != '"' || end[1] != '\0' ||
            memchr(line, '"', (size_t)(end - 1 - line)))
                return 0;
        *ret = strndup(line, (size_t)(end - 1 - line));
        return *ret ? 0 : -ENOMEM;
}

/* Whether a file sourced after ours may drop what ours appends to _DEFAULT: it assigns the
 * variable other than by appending to it (`NAME="$NAME …"`, `NAME="${NAME} …"`), or unsets it.
 * Mentions in comments and reads ("if [ -n "$NAME" ]") keep it. A line-level look, on purpose
 * cautious: anything but those forms counts as dropping. */
static bool drops_default(const char *text)
{
        for (const char *line = text; line && *line;
             line = strchr(line, '\n'), line = line ? line + 1 : NULL) {
                size_t n = strcspn(line, "\n");
                _cleanup_free_ char *l = strndup(line, n);
                const char *at, *s;

                if (!l)
                        return true;
                s = l + strspn(l, " \t");
                if (*s == '#' || !strstr(s, DEFAULT))
                        continue;
                if (strstr(s, "unset"))
                        return true;
                for (at = strstr(s, DEFAULT "="); at; at = strstr(at + 1, DEFAULT "=")) {
                        const char *v = at + strlen(DEFAULT "=");
                        if (at > s && (at[-1] == '$' || at[-1] == '{' || at[-1] == '_'))
                                continue;
                        if (strncmp(v, "\"$" DEFAULT " ", strlen(DEFAULT) + 3) != 0 &&
                            strncmp(v, "\"${" DEFAULT "} ", strlen(DEFAULT) + 5) != 0)
                                return true;
                }
        }
        return false;
}

static bool shell_safe(const char *s)
{
        return !strpbrk(s, "\"$`\\\n");
}

/* How to get back from a boot that fails. */
static int note_escape(struct setup_plan *p, char *const *added, bool debian_recovery)
{
        _cleanup_free_ char *joined = strv_join(added, " ");
        int r;

        if (!joined)
                return -ENOMEM;
        if (!added || !added[0])
                return 0;
        r = setup_plan_note(
            p,
            "if the next boot fails: at the GRUB menu press e, delete %s from the line starting "
            "with linux, then press Ctrl-X to boot once without them",
            joined);
        if (r >= 0 && debian_recovery)
                r = setup_plan_note(
                    p, "or pick \"Advanced options\" and the entry ending in \"(recovery mode)\": "
                       "it boots without them");
        return r;
}

static int plan_debian(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const char *ours = strrchr(SETUP_GRUB_DROPIN_PATH, '/') + 1;
        const char *const *add = (const char *const *)in->args_add;
        const char *const *remove = (const char *const *)in->args_remove;
        _cleanup_strv_free_null_ char **names = NULL, **missing = NULL, **added = NULL, **gone = NULL,
                                        **in_linux = NULL, **in_default = NULL;
        _cleanup_free_ char *main_text = NULL, *ours_text = NULL, *ours_args = NULL, *line = NULL,
                            *new_args = NULL, *error = NULL;
        struct grub_effective e = {0};
        size_t main_len = 0, ours_len = 0, new_len = 0;
        bool changed = false;
        int r;

        r = setup_plan_read(p, in->sr, GRUB_DEFAULT_PATH, &main_text, &main_len, ret_error);
        if (r < 0 && r != -ENOENT)
                return r;
        if (r == 0) {
                r = effective_add(&e, GRUB_DEFAULT_PATH, main_text, main_len, false, &error);
                if (r < 0)
                        goto refuse;
        }
        r = list_dropins(in->sr, &names, ret_error);
        if (r < 0)
                goto out;
        for (size_t i = 0; names[i]; i++) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                size_t len = 0;
                bool after = strcmp(names[i], ours) > 0;

                if (strcmp(names[i], ours) == 0)
                        continue;
                if (asprintf(&path, "%s/%s", GRUB_DEFAULT_DIR, names[i]) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
                r = setup_plan_read(p, in->sr, path, &text, &len, ret_error);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        goto out;
                r = effective_add(&e, path, text, len, after, &error);
                if (r < 0)
                        goto refuse;
                /* read after ours, an assignment of _DEFAULT would drop what we append */
                if (after && drops_default(text)) {
                        r = setup_plan_refuse(p,
                                              "%s is read after %s and sets " DEFAULT
                                              ", which would undo ours; move its setting into %s or an "
                                              "earlier drop-in",
                                              path, SETUP_GRUB_DROPIN_PATH, GRUB_DEFAULT_PATH);
                        goto out;
                }
        }

        /* what the normal entries get before our drop-in: GRUB_CMDLINE_LINUX then _DEFAULT */
        if (asprintf(&line, "%s %s", e.linux_value ?: "", e.default_value ?: "") < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = boot_args_missing(line, strlen(line), add, remove, &missing, &error);
        if (r < 0) {
                r = boot_refuse_or(p, r, "the GRUB command line", &error);
                goto out;
        }

        r = setup_plan_read(p, in->sr, SETUP_GRUB_DROPIN_PATH, &ours_text, &ours_len, ret_error);
        if (r < 0 && r != -ENOENT)
                goto out;
        if (r == 0) {
                r = dropin_args(ours_text, &ours_args);
                if (r < 0)
                        goto out;
                if (!ours_args) {
                        r = setup_plan_refuse(
                            p,
                            "%s is not as gpu-handoff wrote it (edited by hand?); restore it "
                            "or remove it, then run setup again",
                            SETUP_GRUB_DROPIN_PATH);
                        goto out;
                }
        }

        /* ours keeps what it has (less what goes) and takes what is missing */
        r = cmdline_edit(ours_args ?: "", ours_args ? strlen(ours_args) : 0, (const char *const *)missing,
                         remove, &new_args, &new_len, &added, &error);
        if (r < 0) {
                r = boot_refuse_or(p, r, SETUP_GRUB_DROPIN_PATH, &error);
                goto out;
        }
        if (!shell_safe(new_args)) {
                r = setup_plan_refuse(p, "%s cannot go into a double-quoted GRUB setting", new_args);
                goto out;
        }

        /* what goes and is not ours: only /etc/default/grub is edited, never another drop-in */
        r = boot_args_present(e.linux_value ?: "", e.linux_value ? strlen(e.linux_value) : 0, remove,
                              &in_linux, &error);
        if (r >= 0)
                r = boot_args_present(e.default_value ?: "", e.default_value ? strlen(e.default_value) : 0,
                                      remove, &in_default, &error);
        if (r < 0) {
                r = boot_refuse_or(p, r, "the GRUB command line", &error);
                goto out;
        }
        if ((in_linux[0] && strcmp(e.linux_from, GRUB_DEFAULT_PATH) != 0) ||
            (in_default[0] && strcmp(e.default_from, GRUB_DEFAULT_PATH) != 0)) {
                r = setup_plan_refuse(
                    p, "%s is set in %s, which is not gpu-handoff's; take %s off there by hand",
                    in_linux[0] ? LINUX : DEFAULT, in_linux[0] ? e.linux_from : e.default_from,
                    in_linux[0] ? in_linux[0] : in_default[0]);
                goto out;
        }
        if (in_linux[0] || in_default[0]) {
                _cleanup_free_ char *once = NULL, *twice = NULL;
                size_t once_len = 0, twice_len = 0;

                r = grub_default_edit(main_text, main_len, LINUX, NULL, (const char *const *)in_linux, &once,
                                      &once_len, NULL, &error);
                if (r >= 0)
                        r = grub_default_edit(once, once_len, DEFAULT, NULL, (const char *const *)in_default,
                                              &twice, &twice_len, NULL, &error);
                if (r < 0) {
                        r = boot_refuse_or(p, r, GRUB_DEFAULT_PATH, &error);
                        goto out;
                }
                r = boot_file_write(p, in->sr, GRUB_DEFAULT_PATH, twice, twice_len, 0644, ret_error);
                if (r < 0)
                        goto out;
                changed = changed || r > 0;
                if (boot_args_record(&p->args_remove, in_linux) < 0 ||
                    boot_args_record(&p->args_remove, in_default) < 0) {
                        r = -ENOMEM;
                        goto out;
                }
        }

        /* our drop-in: written when it holds anything, removed when it is left empty */
        {
                _cleanup_(cmdline_freep) struct cmdline *c = NULL;
                _cleanup_free_ char *content = NULL;

                r = cmdline_parse(new_args, new_len, &c, ret_error);
                if (r < 0)
                        goto out;
                if (c->n_args == 0) {
                        r = setup_plan_remove(p, in->sr, SETUP_GRUB_DROPIN_PATH, ret_error);
                } else {
                        if (asprintf(&content, DROPIN_COMMENT DROPIN_PREFIX "%s\"\n", new_args) < 0) {
                                r = -ENOMEM;
                                goto out;
                        }
                        r = boot_file_write(p, in->sr, SETUP_GRUB_DROPIN_PATH, content, strlen(content),
                                            0644, ret_error);
                }
                if (r < 0)
                        goto out;
                changed = changed || r > 0;
        }
        if (ours_args) {
                r = boot_args_present(ours_args, strlen(ours_args), remove, &gone, ret_error);
                if (r < 0 || boot_args_record(&p->args_remove, gone) < 0) {
                        r = r < 0 ? r : -ENOMEM;
                        goto out;
                }
        }
        if (boot_args_record(&p->args_add, added) < 0) {
                r = -ENOMEM;
                goto out;
        }

        r = 0;
        if (!changed)
                goto out;
        if (in->facts->proxmox) {
                /* proxmox-boot-tool runs update-grub with each ESP it manages mounted on /boot: the
                 * menus that boot are there, not in this /boot/grub, so there is nothing here to check */
                r = setup_plan_command(p, SETUP_COMMAND_REGENERATE,
                                       (const char *const[]){"proxmox-boot-tool", "refresh", NULL}, NULL);
        } else {
                const char *cfg = in->facts->grub_cfg ?: "/boot/grub/grub.cfg";
                _cleanup_free_ char *what = NULL;

                r = setup_plan_command(p, SETUP_COMMAND_REGENERATE,
                                       (const char *const[]){"update-grub", NULL}, NULL);
                if (r >= 0 && asprintf(&what, "the GRUB menu (%s)", cfg) < 0)
                        r = -ENOMEM;
                if (r >= 0 && add && add[0])
                        r = setup_plan_check_lines_except(p, what, cfg, "linux", add, recovery_words);
        }
        if (r >= 0)
                r = note_escape(p, added, !e.no_recovery || strcmp(e.no_recovery, "true") != 0);
        goto out;

refuse:
        r = boot_refuse_or(p, r, NULL, &error);
out:
        grub_effective_done(&e);
        return r;
}

/* /etc/default/grub without grub.d: the arguments into GRUB_CMDLINE_LINUX_DEFAULT, those that go
 * out of whichever of the two holds them. 1 when the file changes. */
static int plan_default_file(const struct setup_inputs *in, struct setup_plan *p, struct strv *added_all,
                             char **ret_error)
{
        const char *const *add = (const char *const *)in->args_add;
        const char *const *remove = (const char *const *)in->args_remove;
        _cleanup_strv_free_null_ char **missing = NULL, **added = NULL, **in_linux = NULL,
                                        **in_default = NULL;
        _cleanup_free_ char *text = NULL, *line = NULL, *once = NULL, *twice = NULL, *error = NULL;
        struct grub_effective e = {0};
        size_t len = 0, once_len = 0, twice_len = 0;
        int r;

        r = setup_plan_read(p, in->sr, GRUB_DEFAULT_PATH, &text, &len, ret_error);
        if (r == -ENOENT) {
                text = strdup("");
                r = text ? 0 : -ENOMEM;
        }
        if (r < 0)
                return r;
        r = effective_add(&e, GRUB_DEFAULT_PATH, text, len, false, &error);
        if (r < 0) {
                r = boot_refuse_or(p, r, NULL, &error);
                r = r < 0 ? r : -ECANCELED;
                goto out;
        }
        if (asprintf(&line, "%s %s", e.linux_value ?: "", e.default_value ?: "") < 0) {
                r = -ENOMEM;
                goto out;
        }
        r = boot_args_missing(line, strlen(line), add, remove, &missing, &error);
        if (r >= 0)
                r = boot_args_present(e.linux_value ?: "", e.linux_value ? strlen(e.linux_value) : 0, remove,
                                      &in_linux, &error);
        if (r >= 0)
                r = boot_args_present(e.default_value ?: "", e.default_value ? strlen(e.default_value) : 0,
                                      remove, &in_default, &error);
        if (r >= 0)
                r = grub_default_edit(text, len, DEFAULT, (const char *const *)missing,
                                      (const char *const *)in_default, &once, &once_len, &added, &error);
        if (r >= 0)
                r = grub_default_edit(once, once_len, LINUX, NULL, (const char *const *)in_linux, &twice,
                                      &twice_len, NULL, &error);
        if (r < 0)
                goto refuse;
        r = boot_file_write(p, in->sr, GRUB_DEFAULT_PATH, twice, twice_len, 0644, ret_error);
        if (r < 0)
                goto out;
        if (boot_args_record(added_all, added) < 0 || boot_args_record(&p->args_remove, in_linux) < 0 ||
            boot_args_record(&p->args_remove, in_default) < 0)
                r = -ENOMEM;
        goto out;
refuse:
        r = boot_refuse_or(p, r, GRUB_DEFAULT_PATH, &error);
        if (r == 0)
                r = -ECANCELED;
out:
        grub_effective_done(&e);
        return r;
}

/* Every BLS entry's options; the paths of the entries, for the checks. */
static int plan_bls_entries(const struct setup_inputs *in, struct setup_plan *p, struct strv *added_all,
                            struct strv *paths, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        bool changed = false;
        int r;

        for (size_t i = 0; f->entries_dir && f->entries && f->entries[i]; i++) {
                _cleanup_strv_free_null_ char **added = NULL, **gone = NULL;
                _cleanup_free_ char *path = NULL, *text = NULL, *options = NULL, *out = NULL, *error = NULL;
                size_t len = 0, out_len = 0;

                if (asprintf(&path, "%s/%s", f->entries_dir, f->entries[i]) < 0)
                        return -ENOMEM;
                r = setup_plan_read(p, in->sr, path, &text, &len, ret_error);
                if (r == -ENOENT)
                        continue;
                if (r < 0)
                        return r;
                r = bls_options_get(text, len, &options);
                if (r < 0)
                        return r;
                /* RHEL 8: "options $kernelopts", the value in grubenv, which grubby keeps */
                if (strchr(options, '$')) {
                        r = setup_plan_refuse(
                            p,
                            "%s: its options use a GRUB variable (%s); setup cannot edit that "
                            "safely; use grubby (--bootloader grubby)",
                            path, options);
                        return r < 0 ? r : -ECANCELED;
                }
                r = boot_args_present(options, strlen(options), (const char *const *)in->args_remove, &gone,
                                      &error);
                if (r >= 0)
                        r = bls_options_edit(text, len, (const char *const *)in->args_add,
                                             (const char *const *)in->args_remove, &out, &out_len, &added,
                                             &error);
                if (r < 0) {
                        r = boot_refuse_or(p, r, path, &error);
                        return r < 0 ? r : -ECANCELED;
                }
                r = boot_file_write(p, in->sr, path, out, out_len, 0644, ret_error);
                if (r < 0)
                        return r;
                changed = changed || r > 0;
                if (boot_args_record(added_all, added) < 0 || boot_args_record(&p->args_remove, gone) < 0 ||
                    strv_addf(paths, "%s", path) < 0)
                        return -ENOMEM;
        }
        return changed;
}

static int plan_other(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        const struct boot_facts *f = in->facts;
        const char *const *add = (const char *const *)in->args_add;
        bool bls = in->bootloader == BOOTLOADER_GRUB_BLS;
        _cleanup_free_ char *what = NULL;
        struct strv added = {0}, entries = {0};
        const char *cfg = f->grub_cfg, *tool;
        int r, changed_default, changed_entries = 0, changed_cmdline = 0;

        if (!cfg)
                return setup_plan_refuse(p,
                                         "no grub.cfg found (/boot/grub/grub.cfg or /boot/grub2/grub.cfg): "
                                         "is GRUB what boots this system?");
        /* Fedora >= 34's /boot/efi/EFI/fedora/grub.cfg is a stub that loads /boot/grub2/grub.cfg:
         * writing the menu there breaks the boot (research-setup.md §1.2) */
        if (strcasestr(cfg, "/efi/"))
                return setup_plan_refuse(
                    p,
                    "%s is on the EFI partition: it is a stub there, setup does not write "
                    "the GRUB menu to it",
                    cfg);
        tool = strcmp(cfg, "/boot/grub2/grub.cfg") == 0 ? "grub2-mkconfig" : "grub-mkconfig";

        r = changed_default = plan_default_file(in, p, &added, ret_error);
        if (r >= 0 && bls) {
                r = changed_entries = plan_bls_entries(in, p, &added, &entries, ret_error);
                if (r >= 0 && f->kernel_cmdline)
                        r = changed_cmdline =
                            boot_plan_cmdline_file(in, p, KERNEL_CMDLINE_PATH, false, &added, ret_error);
        }
        if (r == -ECANCELED) { /* refused */
                r = 0;
                goto out;
        }
        if (r < 0)
                goto out;
        if (boot_args_record(&p->args_add, added.v) < 0) {
                r = -ENOMEM;
                goto out;
        }
        if (changed_default > 0)
                r = setup_plan_command(p, SETUP_COMMAND_REGENERATE,
                                       (const char *const[]){tool, "-o", cfg, NULL}, NULL);
        if (r >= 0 && add && add[0] && (changed_default > 0 || changed_entries > 0 || changed_cmdline > 0)) {
                if (!bls) {
                        if (asprintf(&what, "the GRUB menu (%s)", cfg) < 0)
                                r = -ENOMEM;
                        else
                                r = setup_plan_check_lines_except(p, what, cfg, "linux", add,
                                                                  recovery_words);
                }
                for (size_t i = 0; r >= 0 && i < entries.n; i++) {
                        free(what);
                        what = NULL;
                        if (asprintf(&what, "the boot entry %s", entries.v[i]) < 0)
                                r = -ENOMEM;
                        else
                                r = setup_plan_check_lines(p, what, entries.v[i], "options", add);
                }
        }
        if (r >= 0 && (changed_default > 0 || changed_entries > 0 || changed_cmdline > 0))
                r = note_escape(p, added.v, false);
out:
        strv_done(&added);
        strv_done(&entries);
        return r;
}

int boot_grub_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        if (in->bootloader == BOOTLOADER_GRUB && in->facts->grub_default_d)
                return plan_debian(in, p, ret_error);
        return plan_other(in, p, ret_error);
}
