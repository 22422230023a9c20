/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Reset steps: choose the kernel's reset method of a device (reset_method, Linux 5.15+) with an
 * exact way back, reset a device (its own reset, or a secondary bus reset of everything below
 * its bridge), and remove a device and rescan its bridge. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "handoff/context.h"
#include "handoff/reset.h"
#include "handoff/unreset.h"

/* reset_method as the kernel shows it: "flr bus", "" when resets are disabled. */
static int read_methods(const struct sysroot *sr, const char *address, char *buf, size_t size)
{
        char path[128];
        ssize_t r;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset_method", address);
        r = sysroot_read_attr(sr, path, buf, size);
        return r < 0 ? (int)r : 0;
}

/* args: address method previous. The previous list is the plan's reading, journaled before
 * anything changes; whether it was the kernel's default is learned by asking the kernel for
 * its default and is noted ("default"), so that the revert writes "default" back where it was
 * (a default list follows the device, a written one does not). A kill before that note is
 * harmless: the revert then writes the previous list itself, which reads the same. */
static int reset_method_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0], *method = s->args[1], *previous = s->args[2];
        char now[256], path[128];
        int r;

        r = read_methods(ctx->sr, address, now, sizeof(now));
        if (r < 0)
                return step_fail(message, r, "cannot read the reset methods of %s: %s", address, strerror(-r));
        if (strcmp(now, previous) != 0)
                return step_fail(message, -EBUSY, "the reset methods of %s changed since the plan (\"%s\", not \"%s\")",
                                 address, now, previous);
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset_method", address);
        r = kernel_write(ctx->kernel, path, "default");
        if (r >= 0)
                r = read_methods(ctx->sr, address, now, sizeof(now));
        if (r < 0)
                return step_fail(message, r, "cannot read the default reset methods of %s: %s", address,
                                 strerror(-r));
        r = step_note(change, "default", strcmp(now, previous) == 0 ? "yes" : "no");
        if (r < 0)
                return step_fail(message, r, "cannot journal the reset methods of %s: %s", address, strerror(-r));
        r = kernel_write(ctx->kernel, path, method);
        if (r == -EINVAL)
                return step_fail(message, r, "the kernel does not offer the reset method %s for %s (it offers: %s)",
                                 method, address, now[0] ? now : "none");
        return r < 0 ? step_fail(message, r, "cannot set the reset method of %s to %s: %s", address, method,
                                 strerror(-r))
                     : 0;
}

static int reset_method_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0], *previous = s->args[2], *was_default = step_note_get(change, "default");
        char now[256], path[128];
        int r;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset_method", address);
        if (!sysroot_exists(ctx->sr, path))
                return 0; /* the device is gone (removed and not back): nothing to restore */
        bool by_default = was_default && strcmp(was_default, "yes") == 0;

        r = kernel_write(ctx->kernel, path, by_default ? "default" : previous);
        /* The kernel checks every method written by probing it again, and a probe can fail now
         * that passed at boot ("bus" once a sibling function is on the bus, testbed.md): the
         * list cannot come back, and the kernel's own default is the nearest there is. */
        if (r == -EINVAL && !by_default) {
                r = kernel_write(ctx->kernel, path, "default");
                by_default = true;
        }
        if (r >= 0)
                r = read_methods(ctx->sr, address, now, sizeof(now));
        if (r >= 0 && !by_default && strcmp(now, previous) != 0)
                r = -EIO;
        return r < 0 ? step_fail(message, r, "cannot restore the reset methods of %s to \"%s\": %s", address,
                                 previous, strerror(-r))
                     : 0;
}

/* args: address function|bus [bridge]. */
static int reset_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0];
        bool bus = strcmp(s->args[1], "bus") == 0;
        char path[128];
        int r;

        if (bus && s->n_args > 2)
                snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset_subordinate", s->args[2]);
        else
                snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset", address);
        r = kernel_write(ctx->kernel, path, "1");
        if (r == -ENOTTY)
                return step_fail(message, r, "the kernel has no way to reset %s (reset_method is empty)", address);
        return r < 0 ? step_fail(message, r, "resetting %s failed: %s (dmesg says why)", address, strerror(-r)) : 0;
}

/* args: address bridge ("" for a device on a root bus: the whole PCI bus is rescanned). */
static int remove_rescan_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0], *bridge = s->args[1];
        char path[128];
        int r;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/remove", address);
        if (sysroot_exists(ctx->sr, path)) {
                r = kernel_write(ctx->kernel, path, "1");
                if (r < 0)
                        return step_fail(message, r, "cannot remove %s: %s", address, strerror(-r));
        }
        if (bridge[0])
                snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/rescan", bridge);
        else
                snprintf(path, sizeof(path), "sys/bus/pci/rescan");
        r = kernel_write(ctx->kernel, path, "1");
        if (r < 0)
                return step_fail(message, r, "%s was removed, and rescanning %s failed: %s; try echo 1 > "
                                 "/sys/bus/pci/rescan", address, bridge[0] ? bridge : "the PCI bus", strerror(-r));
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", address);
        return sysroot_exists(ctx->sr, path)
                       ? 0
                       : step_fail(message, -ENODEV, "%s did not come back after the rescan", address);
}

/* args: address device_specific|none [previous]. Nothing on the way out; on the way back, before
 * the card leaves vfio-pci for its host driver: reset it by the method (none: the family has no
 * working one) with reset_method set to it for the reset and previous (the plan's reading)
 * written back, then check that it answers. One that does not is recorded (unreset.h) and stays
 * on vfio-pci, as the steps after this one read the record; the rest of the host is given back.
 * Run again (recover after a crash), it resets again and writes previous again. */
static int return_reset_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        return 0;
}

static int return_reset_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0], *method = s->args[1];
        const char *previous = s->n_args > 2 ? s->args[2] : NULL;
        struct reset_health health;
        const char *problem;
        char path[128], reset[128];
        int r = 0, w;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/reset_method", address);
        snprintf(reset, sizeof(reset), "sys/bus/pci/devices/%s/reset", address);
        if (!unreset_recorded(ctx->sr, address) && strcmp(method, "none") != 0 && previous &&
            kernel_write(ctx->kernel, path, method) >= 0)
                r = kernel_write(ctx->kernel, reset, "1");
        if (previous && sysroot_exists(ctx->sr, path)) {
                w = kernel_write(ctx->kernel, path, previous[0] ? previous : "\n");
                if (w < 0)
                        return step_fail(message, w, "cannot restore the reset methods of %s to \"%s\": %s", address,
                                         previous, strerror(-w));
        }
        if (r < 0 && r != -ENOTTY)
                return step_fail(message, r, "resetting %s by %s failed: %s", address, method, strerror(-r));
        if (unreset_recorded(ctx->sr, address))
                return 0; /* an earlier run of this revert found it gone */
        reset_health_read(ctx->sr, address, &health);
        problem = reset_health_problem(&health);
        if (!problem)
                return 0;
        r = unreset_record(ctx->sr, address, problem);
        return r < 0 ? step_fail(message, r,
                                 "%s did not come back (%s), and that could not be recorded: %s; it must not go back "
                                 "to its host driver: reboot the host",
                                 address, problem, strerror(-r))
                     : 0;
}

const struct step_ops step_reset_method_ops = {reset_method_apply, reset_method_revert};
const struct step_ops step_reset_device_ops = {reset_apply, NULL};
const struct step_ops step_remove_rescan_ops = {remove_rescan_apply, NULL};
const struct step_ops step_return_reset_ops = {return_reset_apply, return_reset_revert};
