/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Unified kernel images (research-setup.md §1.2 "UKI"): the command line is the image's own
 * .cmdline section, and under Secure Boot systemd-stub ignores any other. Two routes:
 *
 * - an addon, where ukify exists: ESP/loader/addons/gpu-handoff.addon.efi, a PE file whose
 *   .cmdline systemd-stub appends to every UKI's. Undo removes the file; no image is rebuilt.
 * - a rebuild: /etc/kernel/cmdline edited token by token (created from the UKI's own .cmdline
 *   when missing, read from the PE section), then the generator that built the images:
 *   kernel-install (install.conf layout=uki) or mkinitcpio (a preset with *_uki=). An addon
 *   can only add, so removing an argument the images carry takes this route too. */

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "setup/boot-args.h"
#include "setup/boot-util.h"
#include "setup/cmdline.h"
#include "setup/pe.h"

#define KERNEL_CMDLINE_PATH "/etc/kernel/cmdline"
#define CMDLINE_D "/etc/cmdline.d"
#define CMDLINE_D_DROPIN CMDLINE_D "/90-gpu-handoff.conf"
#define ADDON_NAME "gpu-handoff.addon.efi"
/* the kernel's COMMAND_LINE_SIZE is 2048 on x86; a little room for a hand-made image */
#define CMDLINE_MAX (64u * 1024u)

struct uki {
        const char *path; /* borrowed from the facts */
        char *cmdline;    /* its .cmdline section, trailing blanks dropped; NULL: it has none */
};

static void ukis_free(struct uki *u, size_t n)
{
        for (size_t i = 0; i < n; i++)
                free(u[i].cmdline);
        free(u);
}

static int read_cmdline(const struct sysroot *sr, const char *path, char **ret, char **ret_error)
{
        char *text = NULL;
        int r = pe_read_section(sr, path, ".cmdline", CMDLINE_MAX, &text);

        if (r == -ENOENT)
                return r;
        if (r == -EBADMSG)
                return error_setf(ret_error, r, "%s is not a PE file (an EFI binary)", path);
        if (r == -EFBIG)
                return error_setf(ret_error, r, "%s: its .cmdline section is bigger than %u bytes", path,
                                  CMDLINE_MAX);
        if (r < 0)
                return error_setf(ret_error, r, "cannot read %s: %s", path, strerror(-r));
        if (r > 0) {
                size_t n = strlen(text);

                while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == ' ' || text[n - 1] == '\t' ||
                                 text[n - 1] == '\r'))
                        text[--n] = '\0';
        }
        *ret = text;
        return r;
}

/* Whether cmdline carries every argument of args (a NULL list: none). */
static bool has_all(const char *cmdline, char *const *args)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;

        if (!cmdline || cmdline_parse(cmdline, strlen(cmdline), &c, NULL) < 0)
                return false;
        for (size_t i = 0; args && args[i]; i++) {
                _cleanup_(cmdline_freep) struct cmdline *one = NULL;

                if (cmdline_parse(args[i], strlen(args[i]), &one, NULL) < 0 || one->n_args != 1 ||
                    !cmdline_has(c, one->args[0].key, one->args[0].value))
                        return false;
        }
        return true;
}

static bool has_any(const char *cmdline, char *const *args)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;

        if (!cmdline || cmdline_parse(cmdline, strlen(cmdline), &c, NULL) < 0)
                return false;
        for (size_t i = 0; args && args[i]; i++) {
                _cleanup_(cmdline_freep) struct cmdline *one = NULL;

                if (cmdline_parse(args[i], strlen(args[i]), &one, NULL) >= 0 && one->n_args == 1 &&
                    cmdline_has(c, one->args[0].key, one->args[0].value))
                        return true;
        }
        return false;
}

static const char *base_name(const char *path)
{
        const char *s = strrchr(path, '/');

        return s ? s + 1 : path;
}

/* Which preset of /etc/mkinitcpio.d builds a UKI (an uncommented NAME_uki=): its file name. */
static char *mkinitcpio_uki_preset(const struct sysroot *sr)
{
        _cleanup_closedir_ DIR *d = NULL;
        struct dirent *de;

        if (sysroot_opendir(sr, "/etc/mkinitcpio.d", &d) < 0)
                return NULL;
        while ((de = readdir(d))) {
                _cleanup_free_ char *path = NULL, *text = NULL;
                size_t len = 0, l = strlen(de->d_name);

                if (l < 8 || strcmp(de->d_name + l - 7, ".preset") != 0)
                        continue;
                if (asprintf(&path, "/etc/mkinitcpio.d/%s", de->d_name) < 0)
                        return NULL;
                if (sysroot_read_file(sr, path, 1u << 20, &text, &len) < 0)
                        continue;
                for (char *line = text; line && *line;) {
                        char *nl = strchr(line, '\n'), *c = line + strspn(line, " \t"), *eq;

                        if (nl)
                                *nl = '\0';
                        eq = strchr(c, '=');
                        if (*c != '#' && eq && eq - c > 4 && memcmp(eq - 4, "_uki", 4) == 0 &&
                            strspn(c, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") ==
                                (size_t)(eq - c) &&
                            eq[1] != '\0' && strcmp(eq + 1, "\"\"") != 0 && strcmp(eq + 1, "''") != 0)
                                return strdup(de->d_name);
                        line = nl ? nl + 1 : NULL;
                }
        }
        return NULL;
}

static int note_escape(struct setup_plan *p, const struct setup_inputs *in)
{
        _cleanup_free_ char *args = boot_args_text(in);

        if (!args)
                return -ENOMEM;
        return setup_plan_note(
            p,
            "if the next boot fails: in the systemd-boot menu, press e on the entry and delete "
            "%s (that boot only; under Secure Boot a UKI ignores edits: boot another entry or "
            "a live system and run `gpu-handoff --root /mnt setup undo`)",
            args);
}

/* The arguments of in->args_add that at least one image lacks, in their order. A value that
 * conflicts with an image's is refused: -ECANCELED. */
static int images_lacking(const struct setup_inputs *in, struct setup_plan *p, struct uki *u, size_t n,
                          struct strv *ret, char **ret_error)
{
        /* a scratch plan: the edit records what it adds, and nothing is added yet */
        _cleanup_(setup_plan_done) struct setup_plan scratch = {0};
        int r;

        for (size_t i = 0; i < n; i++) {
                _cleanup_free_ char *copy = strdup(u[i].cmdline ? u[i].cmdline : "");
                size_t len = copy ? strlen(copy) : 0;
                struct boot_span all = {0, len};

                if (!copy)
                        return -ENOMEM;
                r = boot_edit_spans(in, &scratch, &copy, &len, &all, 1, false, u[i].path, ret_error);
                if (r == -ECANCELED)
                        return setup_plan_refuse(p, "%s", scratch.refused) < 0 ? -ENOMEM : -ECANCELED;
                if (r < 0)
                        return r;
        }
        for (size_t i = 0; in->args_add[i]; i++)
                for (size_t k = 0; k < scratch.args_add.n; k++)
                        if (strcmp(in->args_add[i], scratch.args_add.v[k]) == 0) {
                                if (strv_addf(ret, "%s", in->args_add[i]) < 0)
                                        return -ENOMEM;
                                break;
                        }
        return 0;
}

/* ESP/loader/addons/gpu-handoff.addon.efi, built by ukify, removed by undo. */
static int plan_addon(const struct setup_inputs *in, struct setup_plan *p, struct uki *u, size_t n,
                      char **ret_error)
{
        const char *esp = in->facts->esp;
        _cleanup_free_ char *loader = NULL, *dir = NULL, *addon = NULL, *args = NULL, *cmdline_arg = NULL,
                            *output_arg = NULL, *existing = NULL;
        _cleanup_(strv_done) struct strv want = {0};
        int r;

        if (!esp)
                return setup_plan_refuse(
                    p, "the ESP was not found: nowhere to put the addon loader/addons/%s", ADDON_NAME);
        if (asprintf(&loader, "%s/loader", esp) < 0 || asprintf(&dir, "%s/addons", loader) < 0 ||
            asprintf(&addon, "%s/%s", dir, ADDON_NAME) < 0)
                return -ENOMEM;

        /* what an image lacks goes into the addon; a value that conflicts is refused */
        r = images_lacking(in, p, u, n, &want, ret_error);
        if (r < 0)
                return r == -ECANCELED ? 0 : r;
        if (want.n == 0)
                return 0;
        args = strv_join(want.v, " ");
        if (!args)
                return -ENOMEM;

        r = read_cmdline(in->sr, addon, &existing, ret_error);
        if (r == -ENOENT)
                r = 0;
        else if (r < 0)
                return r;
        if (r > 0 && has_all(existing, want.v))
                return 0; /* in place since an earlier setup */
        if (r > 0 || sysroot_exists(in->sr, addon))
                return setup_plan_refuse(
                    p,
                    "%s exists and lacks %s (it holds \"%s\"); `gpu-handoff setup undo` "
                    "removes it, then run setup again",
                    addon, args, existing ? existing : "");

        /* the directories, when missing, are ours too: created before, removed after */
        if (!sysroot_exists(in->sr, loader)) {
                const char *mk[] = {"mkdir", "--", loader, NULL}, *rm[] = {"rmdir", "--", loader, NULL};

                if (setup_plan_command(p, SETUP_COMMAND_TOOL, mk, rm) < 0)
                        return -ENOMEM;
        }
        if (!sysroot_exists(in->sr, dir)) {
                const char *mk[] = {"mkdir", "--", dir, NULL}, *rm[] = {"rmdir", "--", dir, NULL};

                if (setup_plan_command(p, SETUP_COMMAND_TOOL, mk, rm) < 0)
                        return -ENOMEM;
        }
        if (asprintf(&cmdline_arg, "--cmdline=%s", args) < 0 ||
            asprintf(&output_arg, "--output=%s", addon) < 0)
                return -ENOMEM;
        const char *build[] = {"ukify", "build", cmdline_arg, output_arg, NULL};
        const char *undo[] = {"rm", "-f", "--", addon, NULL};
        const char *inspect[] = {"ukify", "inspect", addon, NULL};
        _cleanup_free_ char *what = NULL;
        if (asprintf(&what, "the addon %s", addon) < 0 ||
            setup_plan_command(p, SETUP_COMMAND_TOOL, build, undo) < 0 ||
            setup_plan_check_output(p, what, inspect, (const char *const *)want.v) < 0)
                return -ENOMEM;
        if (boot_args_record(&p->args_add, want.v) < 0)
                return -ENOMEM;

        if (setup_plan_note(
                p,
                "the unified kernel images keep their own command line: systemd-stub appends the "
                "addon %s (%s) to every one it boots; undo removes the file, no image is rebuilt",
                addon, args) < 0 ||
            setup_plan_note(
                p, "addons in ESP/loader/addons are read by systemd-stub from systemd 255 (per-image "
                   "NAME.efi.extra.d/ addons from 254); an older stub ignores it") < 0 ||
            setup_plan_note(
                p, "Secure Boot: the firmware-verified stub loads only a signed addon; sign it as your "
                   "images are signed (ukify build --secureboot-private-key=KEY "
                   "--secureboot-certificate=CERT, or sbsign), else it is ignored and the arguments "
                   "are not there") < 0 ||
            note_escape(p, in) < 0)
                return -ENOMEM;
        return 0;
}

/* The images' command line, to create /etc/kernel/cmdline from: the booted image's, else the
 * one every image shares. 1 with the plan refused when that is not one line. */
static int image_cmdline(const struct setup_inputs *in, struct setup_plan *p, struct uki *u, size_t n,
                         const char **ret, const char **ret_from)
{
        const char *entry = in->facts->loader_entry;
        const char *file = KERNEL_CMDLINE_PATH;

        for (size_t i = 0; entry && i < n; i++)
                if (strcmp(base_name(u[i].path), entry) == 0 && u[i].cmdline) {
                        *ret = u[i].cmdline;
                        *ret_from = u[i].path;
                        return 0;
                }
        for (size_t i = 0; i < n; i++)
                if (!u[i].cmdline || strcmp(u[i].cmdline, u[0].cmdline) != 0) {
                        int r =
                            setup_plan_refuse(p,
                                              "%s does not exist and the images' command lines %s; create "
                                              "%s with the kernel arguments every image should boot with, "
                                              "then run setup again",
                                              file,
                                              !u[i].cmdline ? "are not all in their .cmdline section"
                                                            : "differ and the booted one is not known",
                                              file);
                        return r < 0 ? r : 1;
                }
        *ret = u[0].cmdline;
        *ret_from = u[0].path;
        return 0;
}

static int plan_rebuild(const struct setup_inputs *in, struct setup_plan *p, struct uki *u, size_t n,
                        char **ret_error)
{
        const struct boot_facts *f = in->facts;
        _cleanup_free_ char *preset = NULL, *text = NULL, *list = NULL;
        const char *path = KERNEL_CMDLINE_PATH, *from = NULL;
        bool kernel_install = f->install_layout && strcmp(f->install_layout, "uki") == 0;
        bool created = false, dropin = false;
        size_t len = 0;
        int r;

        /* the generator first: without one, no file is worth editing */
        if (!kernel_install)
                preset = mkinitcpio_uki_preset(in->sr);
        if (!kernel_install && !preset) {
                _cleanup_(strv_done) struct strv names = {0};

                for (size_t i = 0; i < n; i++)
                        if (strv_addf(&names, "%s", u[i].path) < 0)
                                return -ENOMEM;
                list = strv_join(names.v, ", ");
                if (!list)
                        return -ENOMEM;
                return setup_plan_refuse(
                    p,
                    "found unified kernel images (%s) but not what builds them: "
                    "/etc/kernel/install.conf has %s%s, and no preset in /etc/mkinitcpio.d "
                    "has NAME_uki=; add the arguments where your images get their command "
                    "line and rebuild them by hand%s",
                    list, f->install_layout ? "layout=" : "no layout=",
                    f->install_layout ? f->install_layout : "uki",
                    f->ukify ? "" : " (or install ukify: setup then uses an addon)");
        }

        r = setup_file_read(in->sr, path, &text, &len, ret_error);
        if (r == -ENOENT && preset && sysroot_exists(in->sr, CMDLINE_D)) {
                /* mkinitcpio reads the .conf files of /etc/cmdline.d when /etc/kernel/cmdline is absent: a
                 * file there would shadow the user's, so ours goes beside them */
                path = CMDLINE_D_DROPIN;
                r = setup_file_read(in->sr, path, &text, &len, ret_error);
                if (r == -ENOENT) {
                        text = strdup("");
                        if (!text)
                                return -ENOMEM;
                        len = 0;
                        r = 0;
                        created = true;
                }
                dropin = true;
        } else if (r == -ENOENT) {
                const char *cmdline = NULL;

                r = image_cmdline(in, p, u, n, &cmdline, &from);
                if (r != 0)
                        return r < 0 ? r : 0;
                if (asprintf(&text, "%s\n", cmdline) < 0)
                        return -ENOMEM;
                len = strlen(text);
                created = true;
        }
        if (r < 0)
                return r;

        struct boot_span all = {0, len - (created && !dropin ? 1 : 0)};
        struct setup_inputs sub = *in;
        _cleanup_(strv_done) struct strv want = {0};
        if (dropin) {
                /* our drop-in holds what the images lack (the user's files in /etc/cmdline.d made
                 * them), and a value that conflicts with theirs is refused */
                r = images_lacking(in, p, u, n, &want, ret_error);
                if (r < 0)
                        return r == -ECANCELED ? 0 : r;
                sub.args_add = strv_take(&want);
                if (!sub.args_add)
                        return -ENOMEM;
        }
        r = boot_edit_spans(&sub, p, &text, &len, &all, 1, false, path, ret_error);
        if (dropin)
                strv_free_null(sub.args_add);
        if (r <= 0)
                return r == -ECANCELED ? 0 : r;
        if (dropin && len > 0 && text[len - 1] != '\n') {
                char *t = realloc(text, len + 2);

                if (!t)
                        return -ENOMEM;
                text = t;
                text[len++] = '\n';
                text[len] = '\0';
        }
        r = setup_plan_write(p, in->sr, path, text, len, 0644, ret_error);
        if (r < 0)
                return r;

        if (kernel_install) {
                r = boot_plan_kernel_install(in, p);
                if (r != 0)
                        return r < 0 ? r : 0;
        } else {
                const char *argv[] = {"mkinitcpio", "-P", NULL};

                if (setup_plan_command(p, SETUP_COMMAND_REGENERATE, argv, NULL) < 0)
                        return -ENOMEM;
        }
        /* Each image's .cmdline, where the generator writes it in place. `ukify inspect` prints
         * the text sections; without ukify, strings(1) (binutils, which objcopy-built images
         * need anyway) prints the section as one printable run. */
        for (size_t i = 0; in->args_add[0] && i < n; i++) {
                _cleanup_free_ char *what = NULL;
                const char *ukify[] = {"ukify", "inspect", u[i].path, NULL};
                const char *strings[] = {"strings", "-n", "8", u[i].path, NULL};

                if (asprintf(&what, "the command line of %s", u[i].path) < 0 ||
                    setup_plan_check_output(p, what, f->ukify ? ukify : strings, boot_check_tokens(in)) < 0)
                        return -ENOMEM;
        }

        if (created && !dropin &&
            setup_plan_note(p, "%s did not exist: it is created from the .cmdline section of %s", path,
                            from) < 0)
                return -ENOMEM;
        if (setup_plan_note(
                p,
                "%s builds the images with the command line of %s: every image built from now on "
                "boots with these arguments too",
                kernel_install ? "kernel-install" : "mkinitcpio", path) < 0)
                return -ENOMEM;
        return note_escape(p, in);
}

int boot_uki_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        char **paths = in->facts->ukis;
        struct uki *u;
        size_t n = 0;
        int r = 0;

        if (!paths || !paths[0])
                return setup_plan_refuse(p, "no unified kernel image found (ESP/EFI/Linux/*.efi)");
        while (paths[n])
                n++;
        u = calloc(n, sizeof(*u));
        if (!u)
                return -ENOMEM;
        for (size_t i = 0; i < n && r >= 0; i++) {
                u[i].path = paths[i];
                r = read_cmdline(in->sr, paths[i], &u[i].cmdline, ret_error);
        }
        if (r >= 0) {
                bool removes = false;

                for (size_t i = 0; i < n; i++)
                        removes = removes || has_any(u[i].cmdline, in->args_remove);
                r = in->facts->ukify && !removes ? plan_addon(in, p, u, n, ret_error)
                                                 : plan_rebuild(in, p, u, n, ret_error);
        }
        ukis_free(u, n);
        return r;
}
