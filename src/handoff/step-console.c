/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Console steps: fbcon lets go of the GPU's framebuffer, and the firmware's boot framebuffer
 * (efifb, simpledrm) is released. On the way back the framebuffer first, then the consoles. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "handoff/context.h"

static int vtcon_bound(const struct sysroot *sr, const char *vtcon)
{
        char path[96], buf[16];
        bool b;
        ssize_t n;

        snprintf(path, sizeof(path), "sys/class/vtconsole/%s/bind", vtcon);
        n = sysroot_read_attr(sr, path, buf, sizeof(buf));
        if (n < 0)
                return (int)n;
        return sysfs_parse_bool(buf, &b) < 0 ? -EINVAL : b;
}

static int set_vtcon(const struct handoff_ctx *ctx, const char *vtcon, bool bind, char **message)
{
        char path[96];
        int r = vtcon_bound(ctx->sr, vtcon);

        /* The console went with its framebuffer (the kernel removes efifb when vfio-pci takes the
         * VGA device): nothing to rebind; fbcon comes back with the GPU's own driver. */
        if (r == -ENOENT)
                return 0;
        if (r < 0)
                return step_fail(message, r, "cannot read the state of console %s: %s", vtcon, strerror(-r));
        if (r == bind)
                return 0; /* fbcon took it back by itself when the GPU's driver returned */
        snprintf(path, sizeof(path), "sys/class/vtconsole/%s/bind", vtcon);
        r = kernel_write(ctx->kernel, path, bind ? "1" : "0");
        return r < 0 ? step_fail(message, r, "cannot %s console %s: %s", bind ? "bind" : "unbind", vtcon, strerror(-r))
                     : 0;
}

static int vtcon_apply(const struct handoff_ctx *ctx, const struct step *s, char **message)
{
        return set_vtcon(ctx, s->args[0], false, message);
}

static int vtcon_revert(const struct handoff_ctx *ctx, const struct step *s, char **message)
{
        return set_vtcon(ctx, s->args[0], true, message);
}

/* 1 when the platform device exists and is bound to driver, 0 when it exists unbound, -ENOENT when
 * the kernel removed it. */
static int framebuffer_state(const struct sysroot *sr, const char *device, const char *driver)
{
        _cleanup_close_ int fd = -1;
        char path[128], now[64];

        snprintf(path, sizeof(path), "sys/bus/platform/devices/%s", device);
        fd = sysroot_openat(sr, path, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return fd;
        return read_link_basename_at(fd, "driver", now, sizeof(now)) >= 0 && strcmp(now, driver) == 0;
}

static int framebuffer_apply(const struct handoff_ctx *ctx, const struct step *s, char **message)
{
        const char *device = s->args[0], *driver = s->args[1];
        char path[128];
        int r = framebuffer_state(ctx->sr, device, driver);

        if (r <= 0)
                return 0; /* already released, or gone */
        snprintf(path, sizeof(path), "sys/bus/platform/drivers/%s/unbind", driver);
        r = kernel_write(ctx->kernel, path, device);
        return r < 0 ? step_fail(message, r, "cannot release %s from %s: %s", device, driver, strerror(-r)) : 0;
}

/* Once vfio-pci has had a VGA device the kernel removes the firmware framebuffer for good: then
 * the console comes back with the GPU's own driver, and there is nothing to rebind. */
static int framebuffer_revert(const struct handoff_ctx *ctx, const struct step *s, char **message)
{
        const char *device = s->args[0], *driver = s->args[1];
        char path[128];
        int r = framebuffer_state(ctx->sr, device, driver);

        if (r == -ENOENT || r == 1)
                return 0;
        if (r < 0)
                return step_fail(message, r, "cannot read the state of %s: %s", device, strerror(-r));
        snprintf(path, sizeof(path), "sys/bus/platform/drivers/%s/bind", driver);
        r = kernel_write(ctx->kernel, path, device);
        return r < 0 ? step_fail(message, r, "cannot bind %s to %s again: %s", device, driver, strerror(-r)) : 0;
}

const struct step_ops step_unbind_vtcon_ops = {vtcon_apply, vtcon_revert};
const struct step_ops step_unbind_framebuffer_ops = {framebuffer_apply, framebuffer_revert};
