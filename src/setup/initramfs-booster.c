/* SPDX-License-Identifier: GPL-2.0-or-later */
/* booster (Arch; research-setup.md §3): vfio-pci in modules_force_load of /etc/booster.yaml, a
 * token-level edit of that one value that keeps every other byte. booster reads only the
 * options lines of modprobe.d (generator/kmod.go), never install or softdep, so the binding
 * cannot be by address: it is vfio-pci.ids= on the kernel command line, which booster's init
 * hands to the module (init/cmdline.go moduleParams), as booster's own vfio test does; setup
 * decides that (setup/vfio-bind.h) and this refuses anything else. */

#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "setup/backend.h"
#include "setup/initramfs.h"

#define BOOSTER_CONF "/etc/booster.yaml"
#define KEY "modules_force_load"

/* Module names compare as modprobe compares them: '-' and '_' are the same. */
static bool same_module(const char *a, size_t alen, const char *b)
{
        size_t blen = strlen(b);

        if (alen != blen)
                return false;
        for (size_t i = 0; i < alen; i++)
                if ((a[i] == '-' ? '_' : a[i]) != (b[i] == '-' ? '_' : b[i]))
                        return false;
        return true;
}

/* Whether the comma-separated list value[0..len) names m (booster trims each entry). */
static bool listed(const char *value, size_t len, const char *m)
{
        for (size_t i = 0; i < len;) {
                size_t j = i;
                while (j < len && value[j] != ',')
                        j++;
                size_t a = i, b = j;
                while (a < b && isspace((unsigned char)value[a]))
                        a++;
                while (b > a && isspace((unsigned char)value[b - 1]))
                        b--;
                if (same_module(value + a, b - a, m))
                        return true;
                i = j + 1;
        }
        return false;
}

/* text with every module of mods that modules_force_load lacks added to it; the key appended when
 * there is none. Forms it cannot edit safely are refused (-EOPNOTSUPP, one line): a block or flow
 * value, a value over several lines, an anchor, alias or tag, the key twice. */
static int force_load_edit(const char *text, size_t len, const char *const *mods, char **ret, size_t *ret_len,
                           char **ret_error)
{
        size_t key_at = SIZE_MAX, n_keys = 0, lineno = 0, key_line = 0;

        if (strlen(text) != len)
                return error_setf(ret_error, -EINVAL, BOOSTER_CONF " holds a NUL byte");
        for (size_t i = 0; i < len; i = strchrnul(text + i, '\n') - text + 1) {
                lineno++;
                if (strncmp(text + i, KEY, strlen(KEY)) != 0)
                        continue;
                const char *p = text + i + strlen(KEY);
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p != ':')
                        continue;
                n_keys++;
                key_at = i;
                key_line = lineno;
        }
        if (n_keys > 1)
                return error_setf(ret_error, -EOPNOTSUPP,
                                  BOOSTER_CONF " sets " KEY " more than once, which booster refuses; keep one");

        _cleanup_free_ char *missing = NULL;
        size_t n_missing = 0;
        const char *value = NULL, *end = NULL, *insert = NULL;
        char quote = 0;

        if (key_at != SIZE_MAX) {
                const char *p = strchr(text + key_at, ':') + 1, *eol = strchrnul(p, '\n');
                while (*p == ' ' || *p == '\t')
                        p++;
                if (*p && strchr("[{|>&*!%@`", *p))
                        return error_setf(ret_error, -EOPNOTSUPP,
                                          BOOSTER_CONF ":%zu: " KEY " is not a plain comma-separated string; write it "
                                          "as " KEY ": a,b,c",
                                          key_line);
                if (*p == '"' || *p == '\'') {
                        quote = *p++;
                        value = p;
                        while (p < eol && *p != quote && *p != '\\')
                                p++;
                        if (p == eol || *p == '\\' || (quote == '\'' && p[1] == '\''))
                                return error_setf(ret_error, -EOPNOTSUPP,
                                                  BOOSTER_CONF ":%zu: the value of " KEY " has an escape or "
                                                  "goes on past its line",
                                                  key_line);
                        end = p;
                } else {
                        value = p;
                        while (p < eol && !(*p == '#' && (p == value || isspace((unsigned char)p[-1]))))
                                p++;
                        end = p;
                }
                /* a plain value may go on on indented lines: not ours to guess */
                if (*eol == '\n' && (eol[1] == ' ' || eol[1] == '\t')) {
                        const char *q = eol + 1;
                        while (*q == ' ' || *q == '\t')
                                q++;
                        if (*q && *q != '\n' && *q != '#')
                                return error_setf(ret_error, -EOPNOTSUPP,
                                                  BOOSTER_CONF ":%zu: the value of " KEY " goes on past its "
                                                  "line; write it on one line",
                                                  key_line);
                }
                insert = end;
                while (insert > value && isspace((unsigned char)insert[-1]))
                        insert--;
        }

        /* what goes in: ",m" for each module not there ("m" first into an empty value) */
        size_t mlen = 0;
        FILE *f = open_memstream(&missing, &mlen);
        if (!f)
                return -ENOMEM;
        bool empty = !value || insert == value;
        const char *sep = value && memmem(value, (size_t)(end - value), ", ", 2) ? ", " : ",";
        for (size_t k = 0; mods[k]; k++)
                if (!value || !listed(value, (size_t)(end - value), mods[k]))
                        fprintf(f, "%s%s", n_missing++ || !empty ? sep : "", mods[k]);
        if (fclose(f) != 0)
                return -ENOMEM;
        if (n_missing == 0) {
                *ret = NULL;
                *ret_len = 0;
                return 0;
        }

        _cleanup_free_ char *out = NULL;
        size_t out_len = 0;
        f = open_memstream(&out, &out_len);
        if (!f)
                return -ENOMEM;
        if (key_at == SIZE_MAX) {
                fwrite(text, 1, len, f);
                fprintf(f, "%s" KEY ": %s\n", len > 0 && text[len - 1] != '\n' ? "\n" : "", missing);
        } else {
                size_t at = (size_t)(insert - text);
                fwrite(text, 1, at, f);
                /* "key:" with nothing after the colon needs the blank YAML wants */
                fprintf(f, "%s%s", empty && !quote && insert[-1] == ':' ? " " : "", missing);
                fwrite(text + at, 1, len - at, f);
        }
        if (fclose(f) != 0)
                return -ENOMEM;
        *ret = TAKE_PTR(out);
        *ret_len = out_len;
        return (int)n_missing;
}

/* The kernel argument that binds by ID, among the wanted ones. */
static bool has_ids_arg(char *const *args)
{
        for (size_t i = 0; args && args[i]; i++)
                if (strncmp(args[i], "vfio-pci.ids=", 13) == 0 || strncmp(args[i], "vfio_pci.ids=", 13) == 0)
                        return true;
        return false;
}

int initramfs_booster_plan(const struct setup_inputs *in, struct setup_plan *p, char **ret_error)
{
        static const char *const regenerate[] = {"/usr/lib/booster/regenerate_images", NULL};
        static const char *const mods[] = {SETUP_VFIO_MODULES, NULL};
        /* booster stores modules by name, uncompressed: usr/lib/modules/vfio_pci.ko */
        static const char *const tokens[] = {"vfio_pci.ko", NULL};
        static const char *const ls[] = {"booster", "ls", NULL};
        _cleanup_free_ char *now = NULL, *edited = NULL;
        size_t now_len = 0, edited_len = 0, n_images = 0;
        int r;

        if (!in->vfio || !in->vfio[0] || in->facts->vfio_pci_builtin)
                return 0; /* a built-in vfio-pci reads vfio-pci.ids= from the kernel itself */
        if (in->modprobe_conf || !has_ids_arg(in->args_add))
                return setup_plan_refuse(p, "booster ignores the install and softdep lines of modprobe.d, so it "
                                            "cannot bind by PCI address; only vfio-pci.ids= on the kernel command "
                                            "line binds there") < 0
                               ? error_setf(ret_error, -ENOMEM, "out of memory")
                               : 0;

        r = sysroot_read_file(in->sr, BOOSTER_CONF, 1 << 20, &now, &now_len);
        if (r < 0 && r != -ENOENT)
                return error_setf(ret_error, r, "cannot read " BOOSTER_CONF ": %s", strerror(-r));
        _cleanup_free_ char *why = NULL;
        r = force_load_edit(now ? now : "", now_len, mods, &edited, &edited_len, &why);
        if (r == -EOPNOTSUPP || r == -EINVAL) /* the user's file: refused, not an error of ours */
                return setup_plan_refuse(p, "%s", why ? why : "cannot edit " BOOSTER_CONF) < 0
                               ? error_setf(ret_error, -ENOMEM, "out of memory")
                               : 0;
        if (r < 0)
                return error_setf(ret_error, r, "out of memory");
        if (r == 0)
                return 0; /* already there: the images were built with it (the checks of that setup proved it) */
        r = setup_plan_write(p, in->sr, BOOSTER_CONF, edited, edited_len, 0644, ret_error);
        if (r <= 0)
                return r;

        /* regenerate_images builds /boot/booster-PKGBASE.img for each kernel with a pkgbase file */
        for (size_t i = 0; in->facts->kernels && in->facts->kernels[i]; i++) {
                _cleanup_free_ char *path = NULL, *pkgbase = NULL, *image = NULL;
                size_t len = 0;
                if (asprintf(&path, "/usr/lib/modules/%s/pkgbase", in->facts->kernels[i]) < 0)
                        return error_setf(ret_error, -ENOMEM, "out of memory");
                if (sysroot_read_file(in->sr, path, 256, &pkgbase, &len) < 0)
                        continue;
                len = strcspn(pkgbase, "\n");
                pkgbase[len] = '\0';
                if (len == 0 || strspn(pkgbase, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._+-") !=
                                        len)
                        continue;
                if (asprintf(&image, "/boot/booster-%s.img", pkgbase) < 0)
                        return error_setf(ret_error, -ENOMEM, "out of memory");
                r = initramfs_check_image(p, "booster", ls, image, tokens, ret_error);
                if (r < 0)
                        return r;
                n_images++;
        }
        if (n_images == 0)
                return setup_plan_refuse(p, "booster's regenerate_images builds images only for kernels with a "
                                            "pkgbase file (/usr/lib/modules/VERSION/pkgbase), and none has one") < 0
                               ? error_setf(ret_error, -ENOMEM, "out of memory")
                               : 0;
        r = setup_plan_command(p, SETUP_COMMAND_REGENERATE, regenerate, NULL);
        /* booster's init loads modules_force_load alongside the modalias-driven modules, not
         * before them: nothing orders vfio-pci ahead of a GPU driver that is in the image too */
        if (r >= 0)
                r = setup_plan_note(p, "booster loads vfio-pci at the same time as the other drivers in its image, not "
                                       "before them: if the GPU's own driver is in the image too (booster's "
                                       "universal mode, or modules_force_load), it can win; gpu-handoff setup status "
                                       "after the reboot tells");
        return r < 0 ? error_setf(ret_error, r, "out of memory") : 0;
}
