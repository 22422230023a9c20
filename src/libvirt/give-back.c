/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Giving back from vfio-pci what libvirt left there: the rules in give-back.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/sysroot.h"
#include "host/holders.h"
#include "libvirt/give-back.h"

#define VFIO_DRIVER "vfio-pci"

static bool step_is(const struct journal_step *s, const char *kind)
{
        return strcmp(s->kind, kind) == 0 && s->n_args > 0;
}

/* True when the transition bound address to vfio-pci itself: its own revert lets go of it. */
static bool bound_by_transition(const struct journal_state *st, const char *address)
{
        for (size_t i = 0; i < st->n_steps; i++)
                if (step_is(&st->steps[i], "bind-vfio") && strcmp(st->steps[i].args[0], address) == 0)
                        return true;
        return false;
}

static int take_from_vfio(const struct handoff_ctx *ctx, const char *address, char **ret_error)
{
        char path[128], override[64];
        int r;

        r = kernel_write(ctx->kernel, "sys/bus/pci/drivers/" VFIO_DRIVER "/unbind", address);
        if (r == -ETIMEDOUT)
                return error_setf(ret_error, r, "vfio-pci does not let go of %s: a process still holds it", address);
        if (r < 0 && r != -ENODEV) /* ENODEV: it let go meanwhile */
                return error_setf(ret_error, r, "cannot unbind %s from vfio-pci: %s", address, strerror(-r));
        /* libvirt binds with driver_override; left set, the host's driver could not match. */
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", address);
        if (sysroot_read_attr(ctx->sr, path, override, sizeof(override)) < 0 || strcmp(override, VFIO_DRIVER) != 0)
                return 0;
        r = kernel_write(ctx->kernel, path, "\n");
        return r < 0 ? error_setf(ret_error, r, "cannot clear driver_override of %s: %s", address, strerror(-r)) : 0;
}

bool libvirt_started(const struct journal_state *st)
{
        return st->n_phases > 0 && st->phases[0].command && strncmp(st->phases[0].command, "hook ", 5) == 0;
}

/* The devices of the rules in give-back.h: freed by the transition, bound by libvirt, and still
 * on vfio-pci. */
static int kept_by_libvirt(const struct handoff_ctx *ctx, const struct journal_state *st, struct strv *ret)
{
        for (size_t i = 0; i < st->n_steps; i++) {
                const struct journal_step *s = &st->steps[i];
                char driver[64];
                int r;

                if (!step_is(s, "unbind-driver") || s->state == JOURNAL_STEP_REVERTED ||
                    bound_by_transition(st, s->args[0]))
                        continue;
                r = pci_current_driver(ctx->sr, s->args[0], driver, sizeof(driver));
                if (r <= 0 || strcmp(driver, VFIO_DRIVER) != 0)
                        continue; /* libvirt gave it back (or it is gone: the undo says so) */
                if (strv_addf(ret, "%s", s->args[0]) < 0)
                        return -ENOMEM;
        }
        return 0;
}

/* A process holding the device's /dev/vfio/GROUP is a VM that still runs (QEMU is gone by
 * "release end"; recover and release can come earlier): named, and nothing is taken. */
static int check_unused(const struct handoff_ctx *ctx, const char *address, char **ret_error)
{
        _cleanup_free_ char *node = NULL, *text = NULL;
        _cleanup_close_ int fd = -EBADF;
        struct holder *h = NULL;
        char path[128], group[32];
        size_t n = 0;
        int r;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", address);
        fd = sysroot_openat(ctx->sr, path, O_PATH | O_DIRECTORY);
        if (fd < 0 || read_link_basename_at(fd, "iommu_group", group, sizeof(group)) < 0)
                return 0; /* no group: no VFIO node anyone could hold */
        if (asprintf(&node, "dev/vfio/%s", group) < 0)
                return -ENOMEM;
        r = holders_scan(ctx->sr, &node, 1, &h, &n, NULL);
        if (r == -ENOENT)
                return 0; /* a root without proc/: nobody to see */
        if (r < 0)
                return error_setf(ret_error, r, "cannot tell whether a VM still holds %s: %s", address, strerror(-r));
        if (n == 0) {
                holders_free(h, n);
                return 0;
        }
        text = holder_describe(&h[0]);
        holders_free(h, n);
        if (!text)
                return -ENOMEM;
        return error_setf(ret_error, -EBUSY, "%s is still in use by a VM (%s): shut the VM down first", address, text);
}

int libvirt_give_back(const struct handoff_ctx *ctx, const struct journal_state *st, struct strv *ret_taken,
                      char **ret_error)
{
        struct strv kept = {0};
        int r = kept_by_libvirt(ctx, st, &kept);

        /* every device checked before any is taken: a running VM loses none of them */
        for (size_t i = 0; r >= 0 && i < kept.n; i++)
                r = check_unused(ctx, kept.v[i], ret_error);
        for (size_t i = 0; r >= 0 && i < kept.n; i++) {
                r = take_from_vfio(ctx, kept.v[i], ret_error);
                if (r >= 0 && strv_addf(ret_taken, "%s", kept.v[i]) < 0)
                        r = -ENOMEM;
        }
        strv_done(&kept);
        return r < 0 ? r : 0;
}
