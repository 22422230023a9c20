/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Giving back from vfio-pci what libvirt left there: the rules in give-back.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "libvirt/give-back.h"

#define VFIO_DRIVER "vfio-pci"

_printf_(3, 4) static int fail(char **ret_error, int error, const char *fmt, ...)
{
        va_list ap;

        if (!ret_error)
                return error;
        va_start(ap, fmt);
        if (vasprintf(ret_error, fmt, ap) < 0)
                *ret_error = NULL;
        va_end(ap);
        return error;
}

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
                return fail(ret_error, r, "vfio-pci does not let go of %s: a process still holds it", address);
        if (r < 0 && r != -ENODEV) /* ENODEV: it let go meanwhile */
                return fail(ret_error, r, "cannot unbind %s from vfio-pci: %s", address, strerror(-r));
        /* libvirt binds with driver_override; left set, the host's driver could not match. */
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", address);
        if (sysroot_read_attr(ctx->sr, path, override, sizeof(override)) < 0 || strcmp(override, VFIO_DRIVER) != 0)
                return 0;
        r = kernel_write(ctx->kernel, path, "\n");
        return r < 0 ? fail(ret_error, r, "cannot clear driver_override of %s: %s", address, strerror(-r)) : 0;
}

int libvirt_give_back(const struct handoff_ctx *ctx, const struct journal_state *st, struct strv *ret_taken,
                      char **ret_error)
{
        for (size_t i = 0; i < st->n_steps; i++) {
                const struct journal_step *s = &st->steps[i];
                const char *address;
                char driver[64];
                int r;

                if (!step_is(s, "unbind-driver") || s->state == JOURNAL_STEP_REVERTED)
                        continue;
                address = s->args[0];
                if (bound_by_transition(st, address))
                        continue;
                r = pci_current_driver(ctx->sr, address, driver, sizeof(driver));
                if (r <= 0 || strcmp(driver, VFIO_DRIVER) != 0)
                        continue; /* libvirt gave it back (or it is gone: the undo says so) */
                r = take_from_vfio(ctx, address, ret_error);
                if (r < 0)
                        return r;
                if (strv_addf(ret_taken, "%s", address) < 0)
                        return -ENOMEM;
        }
        return 0;
}
