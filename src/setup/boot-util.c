/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/boot-util.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "change/step-file.h"
#include "setup/boot-args.h"
#include "setup/cmdline.h"

/* A conflict or an open quote refuses the plan; anything else is an error. */
static int edit_failed(struct setup_plan *p, const char *where, const char *msg, int r, char **ret_error)
{
        if (r == -ENOMEM)
                return r;
        if (r == -EEXIST || r == -EINVAL)
                return setup_plan_refuse(p, "%s: %s", where, msg ? msg : strerror(-r)) < 0 ? -ENOMEM
                                                                                           : -ECANCELED;
        return error_setf(ret_error, r, "%s: %s", where, msg ? msg : strerror(-r));
}

int boot_edit_spans(const struct setup_inputs *in, struct setup_plan *p, char **text, size_t *len,
                    const struct boot_span *spans, size_t n_spans, bool blank_before, const char *where,
                    char **ret_error)
{
        _cleanup_free_ char *all = NULL, *edited = NULL, *t = NULL;
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        _cleanup_(strv_done) struct strv removed = {0};
        _cleanup_free_ char *msg = NULL;
        char **added = NULL;
        size_t all_len = 0, edited_len = 0, n;
        int r, count = 0;

        if (n_spans == 0)
                return 0;
        /* the concatenation as the loader passes it: what is there, what conflicts (a value the plan
         * removes does not: intel_iommu=off goes before intel_iommu=on comes), what to add */
        all = malloc(*len + n_spans + 1);
        if (!all)
                return -ENOMEM;
        for (size_t i = 0; i < n_spans; i++) {
                if (i > 0)
                        all[all_len++] = ' ';
                memcpy(all + all_len, *text + spans[i].start, spans[i].len);
                all_len += spans[i].len;
        }
        all[all_len] = '\0';
        r = cmdline_edit(all, all_len, (const char *const *)in->args_add,
                         (const char *const *)in->args_remove, &edited, &edited_len, &added, &msg);
        if (r < 0)
                return edit_failed(p, where, msg, r, ret_error);
        r = cmdline_parse(all, all_len, &c, &msg);
        if (r < 0) {
                strv_free_null(added);
                return edit_failed(p, where, msg, r, ret_error);
        }
        for (size_t i = 0; in->args_remove && in->args_remove[i]; i++) {
                _cleanup_(cmdline_freep) struct cmdline *one = NULL;

                if (cmdline_parse(in->args_remove[i], strlen(in->args_remove[i]), &one, NULL) < 0 ||
                    one->n_args != 1)
                        continue;
                if (cmdline_has(c, one->args[0].key, one->args[0].value) &&
                    strv_addf(&removed, "%s", in->args_remove[i]) < 0) {
                        strv_free_null(added);
                        return -ENOMEM;
                }
        }

        /* each span edited on its own, from the last to the first so that the earlier offsets hold */
        t = malloc(*len + 1);
        if (!t) {
                strv_free_null(added);
                return -ENOMEM;
        }
        memcpy(t, *text, *len);
        t[*len] = '\0';
        n = *len;
        for (size_t k = n_spans; k-- > 0;) {
                _cleanup_free_ char *out = NULL;
                size_t out_len = 0;
                bool last = k == n_spans - 1;

                r = cmdline_edit(t + spans[k].start, spans[k].len, last ? (const char *const *)added : NULL,
                                 (const char *const *)in->args_remove, &out, &out_len, NULL, &msg);
                if (r < 0) {
                        strv_free_null(added);
                        return edit_failed(p, where, msg, r, ret_error);
                }
                if (r == 0)
                        continue;
                count += r;
                r = text_splice(&t, &n, spans[k].start, spans[k].len, out, out_len);
                if (r >= 0 && spans[k].len == 0 && out_len > 0 && blank_before && spans[k].start > 0 &&
                    t[spans[k].start - 1] != ' ' && t[spans[k].start - 1] != '\t')
                        r = text_splice(&t, &n, spans[k].start, 0, " ", 1);
                if (r < 0) {
                        strv_free_null(added);
                        return r;
                }
        }
        r = boot_args_record(&p->args_add, added);
        strv_free_null(added);
        if (r < 0)
                return r;
        if (boot_args_record(&p->args_remove, removed.v) < 0)
                return -ENOMEM;
        if (count == 0)
                return 0;
        free(*text);
        *text = TAKE_PTR(t);
        *len = n;
        return count;
}

char *boot_cmdline_root(const char *text, size_t len)
{
        _cleanup_(cmdline_freep) struct cmdline *c = NULL;
        const char *root;

        if (!text || cmdline_parse(text, len, &c, NULL) < 0)
                return NULL;
        root = cmdline_get(c, "root");
        return root ? strdup(root) : NULL;
}

char *boot_kernel_image(const struct sysroot *sr, const char *kver)
{
        for (int i = 0; i < 3; i++) {
                char *path = NULL;
                int r = i == 0   ? asprintf(&path, "/boot/vmlinuz-%s", kver)
                        : i == 1 ? asprintf(&path, "/usr/lib/modules/%s/vmlinuz", kver)
                                 : asprintf(&path, "/lib/modules/%s/vmlinuz", kver);

                if (r < 0)
                        return NULL;
                if (sysroot_exists(sr, path))
                        return path;
                free(path);
        }
        return NULL;
}

int boot_plan_kernel_install(const struct setup_inputs *in, struct setup_plan *p)
{
        char **kernels = in->facts->kernels;

        if (!kernels || !kernels[0])
                return setup_plan_refuse(
                           p, "no installed kernel found (no /lib/modules/VERSION with an image); "
                              "kernel-install has nothing to rebuild the entries from") < 0
                           ? -ENOMEM
                           : 1;
        for (size_t i = 0; kernels[i]; i++) {
                _cleanup_free_ char *image = boot_kernel_image(in->sr, kernels[i]);

                if (!image)
                        return setup_plan_refuse(
                                   p,
                                   "kernel %s has no image (neither /boot/vmlinuz-%s nor "
                                   "/usr/lib/modules/%s/vmlinuz); kernel-install cannot add it",
                                   kernels[i], kernels[i], kernels[i]) < 0
                                   ? -ENOMEM
                                   : 1;
                const char *argv[] = {"kernel-install", "add", kernels[i], image, NULL};
                if (setup_plan_command(p, SETUP_COMMAND_REGENERATE, argv, NULL) < 0)
                        return -ENOMEM;
        }
        return 0;
}

char *boot_args_text(const struct setup_inputs *in)
{
        return strv_join(in->args_add, " ");
}
