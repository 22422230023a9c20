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

struct vtcon_check {
        const struct sysroot *sr;
        const char *vtcon;
        bool bind;
};

static int vtcon_settled(void *userdata)
{
        const struct vtcon_check *c = userdata;
        int r = vtcon_bound(c->sr, c->vtcon);
        return r < 0 ? r : r == c->bind;
}

/* fbcon attaches to a framebuffer when one registers. The kernel takes "1" in vtconN/bind but
 * does not always rebind (seen with bochs-drm once the VGA console is gone): then the boot GPU's
 * driver is bound again, its framebuffer registers anew, and fbcon takes it. */
static int rebind_boot_gpu(const struct handoff_ctx *ctx)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int r;

        r = sysroot_opendir(ctx->sr, "sys/bus/pci/devices", &dir);
        if (r < 0)
                return r;
        while ((de = readdir(dir))) {
                _cleanup_close_ int fd = -1;
                char buf[16], driver[64], path[128];

                if (de->d_name[0] == '.')
                        continue;
                fd = sysroot_openat_entry(ctx->sr, "sys/bus/pci/devices", de->d_name, O_PATH | O_DIRECTORY);
                if (fd < 0 || read_attr_at(fd, "boot_vga", buf, sizeof(buf)) < 0 || strcmp(buf, "1") != 0 ||
                    read_link_basename_at(fd, "driver", driver, sizeof(driver)) < 0 || strcmp(driver, "vfio-pci") == 0)
                        continue;
                snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/unbind", driver);
                r = kernel_write(ctx->kernel, path, de->d_name);
                snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/bind", driver);
                if (r >= 0)
                        r = kernel_write(ctx->kernel, path, de->d_name);
                return r;
        }
        return -ENODEV;
}

static int set_vtcon(const struct handoff_ctx *ctx, const char *vtcon, bool bind, char **message)
{
        struct vtcon_check check = {ctx->sr, vtcon, bind};
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
        if (r < 0)
                return step_fail(message, r, "cannot %s console %s: %s", bind ? "bind" : "unbind", vtcon, strerror(-r));
        if (wait_until(ctx->clock, ctx->settle_usec / 10, vtcon_settled, &check) >= 0)
                return 0;
        if (bind && rebind_boot_gpu(ctx) >= 0 && wait_until(ctx->clock, ctx->settle_usec, vtcon_settled, &check) >= 0)
                return 0;
        return step_fail(message, -EIO, "console %s did not %s (the kernel kept it as it was)", vtcon,
                         bind ? "come back" : "let go");
}

static int vtcon_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        return set_vtcon(ctx, s->args[0], false, message);
}

static int vtcon_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
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

static int framebuffer_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *device = s->args[0], *driver = s->args[1];
        char path[128];
        int r = framebuffer_state(ctx->sr, device, driver);

        if (r <= 0)
                return 0; /* already released, or gone */
        snprintf(path, sizeof(path), "sys/bus/platform/drivers/%s/unbind", driver);
        r = kernel_write(ctx->kernel, path, device);
        return r < 0 ? step_fail(message, r, "cannot release %s from %s: %s", device, driver, strerror(-r)) : 0;
}

/* The boot GPU when no driver has it: its modalias, to load the driver that matches it. */
static int driverless_boot_gpu_modalias(const struct handoff_ctx *ctx, char *buf, size_t size)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        int r = sysroot_opendir(ctx->sr, "sys/bus/pci/devices", &dir);

        if (r < 0)
                return r;
        while ((de = readdir(dir))) {
                _cleanup_close_ int fd = -1;
                char vga[16], driver[64];

                if (de->d_name[0] == '.')
                        continue;
                fd = sysroot_openat_entry(ctx->sr, "sys/bus/pci/devices", de->d_name, O_PATH | O_DIRECTORY);
                if (fd < 0 || read_attr_at(fd, "boot_vga", vga, sizeof(vga)) < 0 || strcmp(vga, "1") != 0)
                        continue;
                if (read_link_basename_at(fd, "driver", driver, sizeof(driver)) >= 0)
                        return 0; /* it has one: the console comes back with it */
                return read_attr_at(fd, "modalias", buf, size) < 0 ? -ENOENT : 1;
        }
        return 0;
}

/* Once vfio-pci has had a VGA device the kernel removes the firmware framebuffer for good. The
 * console then comes back only with the GPU's own DRM driver: a GPU that had none (an efifb-only
 * host) gets the driver matching it loaded, unless the host blacklists it. */
static int framebuffer_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *device = s->args[0], *driver = s->args[1];
        char path[128], modalias[256];
        int r = framebuffer_state(ctx->sr, device, driver);

        if (r == -ENOENT) {
                if (driverless_boot_gpu_modalias(ctx, modalias, sizeof(modalias)) > 0)
                        (void)kernel_load_module(ctx->kernel, modalias); /* best effort: none may match */
                return 0;
        }
        if (r == 1)
                return 0;
        if (r < 0)
                return step_fail(message, r, "cannot read the state of %s: %s", device, strerror(-r));
        snprintf(path, sizeof(path), "sys/bus/platform/drivers/%s/bind", driver);
        r = kernel_write(ctx->kernel, path, device);
        return r < 0 ? step_fail(message, r, "cannot bind %s to %s again: %s", device, driver, strerror(-r)) : 0;
}

const struct step_ops step_unbind_vtcon_ops = {vtcon_apply, vtcon_revert};
const struct step_ops step_unbind_framebuffer_ops = {framebuffer_apply, framebuffer_revert};
