/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the bootloader backends that edit a file they share with the user have in common: the
 * kernel arguments of one or several spans of a file's text (a loader entry's `options` lines,
 * rEFInd's quoted field, Limine's `cmdline:` value) edited through cmdline_edit(), which keeps
 * every other byte; root= of a command line, which tells the entries that boot this system from
 * another system's; the text of a file; and kernel-install's run for every installed kernel.
 * Pure over the text and the root: nothing here writes. */

#include <stdbool.h>
#include <stddef.h>

#include "setup/backend.h"

/* Bytes [start, start + len) of a text. */
struct boot_span {
        size_t start, len;
};

/* The kernel arguments a boot loader concatenates from several spans of *text (BLS allows
 * several `options` lines; one span is the usual case), edited in place: every argument of
 * in->args_add that the concatenation lacks is added at the end of the last span, every one of
 * in->args_remove is removed from each span. blank_before: a span that was empty and directly
 * follows a non-blank byte (`options` at the end of its line) gets one blank before what it
 * gains. The arguments really added and removed are recorded in p->args_add / p->args_remove
 * (each once). Returns the number of arguments added plus removed (0: *text untouched). An
 * argument whose key is there with another value, or an open quote, is not for setup to settle:
 * the plan is refused with one line "WHERE: why" and -ECANCELED returned, *text untouched. */
int boot_edit_spans(const struct setup_inputs *in, struct setup_plan *p, char **text, size_t *len,
                    const struct boot_span *spans, size_t n_spans, bool blank_before, const char *where,
                    char **ret_error);


/* The value of the last root= among these kernel arguments, malloc'd; NULL when there is none
 * (or out of memory, or a NUL byte). */
char *boot_cmdline_root(const char *text, size_t len);


/* The image kernel-install is given for kernel kver: /boot/vmlinuz-KVER where it exists, else
 * /usr/lib/modules/KVER/vmlinuz (Arch, Fedora), else /lib/modules/KVER/vmlinuz; malloc'd, NULL
 * when none of them exists (or out of memory). */
char *boot_kernel_image(const struct sysroot *sr, const char *kver);

/* `kernel-install add KVER IMAGE` for every installed kernel (facts->kernels), as REGENERATE
 * commands. 0, or 1 with the plan refused (no kernel, or one without an image), or -ENOMEM. */
int boot_plan_kernel_install(const struct setup_inputs *in, struct setup_plan *p);

/* The arguments a check looks for: in->args_add, as a const list. */
static inline const char *const *boot_check_tokens(const struct setup_inputs *in)
{
        return (const char *const *)in->args_add;
}

/* in->args_add joined by blanks, for notes ("intel_iommu=on iommu=pt"); malloc'd. */
char *boot_args_text(const struct setup_inputs *in);
