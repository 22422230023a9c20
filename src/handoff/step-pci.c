/* SPDX-License-Identifier: GPL-2.0-or-later */
/* PCI driver steps: unbind a function from its host driver, bind it to vfio-pci (per device,
 * driver_override + drivers_probe, never new_id: that would grab every device with the same
 * IDs), and wait for the IOMMU group's VFIO node. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "handoff/context.h"
#include "handoff/unreset.h"
#include "host/iommu.h"

#define VFIO_DRIVER "vfio-pci"

int pci_current_driver(const struct sysroot *sr, const char *address, char *buf, size_t size)
{
        char path[128];
        _cleanup_close_ int fd = -1;
        int r;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s", address);
        fd = sysroot_openat(sr, path, O_PATH | O_DIRECTORY);
        if (fd < 0)
                return fd == -ENOENT ? -ENODEV : fd;
        r = read_link_basename_at(fd, "driver", buf, size);
        if (r == -ENOENT)
                return 0;
        return r < 0 ? r : 1;
}

struct bound_check {
        const struct sysroot *sr;
        const char *address;
        const char *driver; /* NULL: wait for no driver */
};

static int is_bound(void *userdata)
{
        const struct bound_check *c = userdata;
        char now[64];
        int r = pci_current_driver(c->sr, c->address, now, sizeof(now));

        if (r < 0)
                return r;
        return c->driver ? r > 0 && strcmp(now, c->driver) == 0 : r == 0;
}

/* The kernel binds and unbinds synchronously, but a probe may be deferred: wait for it. */
static int wait_bound(const struct handoff_ctx *ctx, const char *address, const char *driver)
{
        struct bound_check c = {ctx->sr, address, driver};
        return wait_until(ctx->clock, ctx->settle_usec, is_bound, &c);
}

/* pci_current_driver() failed: the device went away, or its directory could not be read. */
static int driver_unknown(char **message, int r, const char *address)
{
        if (r == -ENOENT || r == -ENODEV)
                return step_fail(message, r, "%s is gone from the PCI bus", address);
        return step_fail(message, r, "cannot read which driver %s has: %s", address, strerror(-r));
}

static int unbind_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0], *driver = s->args[1];
        char now[64], path[128];
        int r;

        r = pci_current_driver(ctx->sr, address, now, sizeof(now));
        if (r < 0)
                return driver_unknown(message, r, address);
        if (r == 0)
                return 0; /* already free */
        if (strcmp(now, driver) != 0)
                return step_fail(message, -EBUSY, "%s is now bound to %s, not %s as planned", address, now, driver);
        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/unbind", driver);
        r = kernel_write(ctx->kernel, path, address);
        if (r == -ETIMEDOUT)
                return step_fail(message, r,
                                 "unbinding %s from %s did not return: the device is wedged in the kernel and the "
                                 "host needs a reboot to use it again",
                                 address, driver);
        if (r < 0)
                return step_fail(message, r, "cannot unbind %s from %s: %s", address, driver, strerror(-r));
        r = wait_bound(ctx, address, NULL);
        return r < 0 ? step_fail(message, r, "%s is still bound to %s", address, driver) : 0;
}

static int unbind_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0], *driver = s->args[1];
        char now[64], path[128];
        int r;

        if (unreset_recorded(ctx->sr, address))
                return 0; /* it did not come back from its reset: it stays on vfio-pci (return-reset) */
        r = pci_current_driver(ctx->sr, address, now, sizeof(now));
        if (r < 0)
                return driver_unknown(message, r, address);
        if (r > 0 && strcmp(now, driver) == 0)
                return 0; /* reloading the module already bound it */
        if (r > 0)
                return step_fail(message, -EBUSY, "%s is bound to %s; cannot give it back to %s", address, now, driver);
        snprintf(path, sizeof(path), "sys/bus/pci/drivers/%s/bind", driver);
        r = kernel_write(ctx->kernel, path, address);
        if (r < 0 && r != -EBUSY)
                return step_fail(message, r, "cannot bind %s to %s again: %s", address, driver, strerror(-r));
        r = wait_bound(ctx, address, driver);
        return r < 0 ? step_fail(message, r, "%s did not bind to %s again", address, driver) : 0;
}

static int bind_vfio_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0];
        char now[64], path[128];
        int r;

        r = pci_current_driver(ctx->sr, address, now, sizeof(now));
        if (r < 0)
                return driver_unknown(message, r, address);
        if (r > 0 && strcmp(now, VFIO_DRIVER) == 0)
                return 0;
        if (r > 0)
                return step_fail(message, -EBUSY, "%s is bound to %s; it must be free to bind vfio-pci", address, now);
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", address);
        r = kernel_write(ctx->kernel, path, VFIO_DRIVER);
        if (r < 0)
                return step_fail(message, r, "cannot set driver_override of %s: %s", address, strerror(-r));
        r = kernel_write(ctx->kernel, "sys/bus/pci/drivers_probe", address);
        if (r < 0 && r != -EBUSY)
                return step_fail(message, r, "vfio-pci did not take %s: %s (dmesg says why)", address, strerror(-r));
        r = wait_bound(ctx, address, VFIO_DRIVER);
        return r < 0 ? step_fail(message, r, "%s did not bind to vfio-pci (is the IOMMU enabled? dmesg says why)",
                                 address)
                     : 0;
}

static int bind_vfio_revert(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        const char *address = s->args[0];
        char now[64], path[128];
        int r;

        if (unreset_recorded(ctx->sr, address))
                return 0; /* it did not come back from its reset: a host driver must not probe it */
        r = pci_current_driver(ctx->sr, address, now, sizeof(now));
        if (r < 0)
                return driver_unknown(message, r, address);
        if (r > 0 && strcmp(now, VFIO_DRIVER) == 0) {
                r = kernel_write(ctx->kernel, "sys/bus/pci/drivers/" VFIO_DRIVER "/unbind", address);
                if (r == -ETIMEDOUT)
                        return step_fail(message, r,
                                         "vfio-pci does not let go of %s: a VM (or another process) still holds it; "
                                         "stop the VM and run gpu-handoff recover",
                                         address);
                if (r < 0)
                        return step_fail(message, r, "cannot unbind %s from vfio-pci: %s", address, strerror(-r));
                /* A write that returns 0 is not proof: the device must be seen to have left. */
                r = pci_current_driver(ctx->sr, address, now, sizeof(now));
                if (r < 0)
                        return driver_unknown(message, r, address);
                if (r > 0 && strcmp(now, VFIO_DRIVER) == 0)
                        return step_fail(message, -EBUSY,
                                         "%s is still bound to vfio-pci after unbinding it; stop whatever uses it "
                                         "(a VM?), then run gpu-handoff recover",
                                         address);
        }
        /* An empty override lets the device's own driver match again. */
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/driver_override", address);
        r = kernel_write(ctx->kernel, path, "\n");
        return r < 0 ? step_fail(message, r, "cannot clear driver_override of %s: %s", address, strerror(-r)) : 0;
}

/* The kernel's viability rule: every member on a VFIO-compatible driver, no driver, or a bridge. */
static int group_blocker(const struct sysroot *sr, const char *group, char *address, size_t asize, char *driver,
                         size_t dsize)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        char path[96];
        int r;

        snprintf(path, sizeof(path), "sys/kernel/iommu_groups/%s/devices", group);
        r = sysroot_opendir(sr, path, &dir);
        if (r < 0)
                return r;
        while ((de = readdir(dir))) {
                _cleanup_close_ int fd = -1;
                char buf[32];
                uint32_t class;

                if (de->d_name[0] == '.')
                        continue;
                fd = sysroot_openat_entry(sr, path, de->d_name, O_PATH | O_DIRECTORY);
                if (fd < 0 || read_link_basename_at(fd, "driver", driver, dsize) < 0)
                        continue; /* gone, or no driver: fine */
                if (driver_is_vfio_compatible(driver))
                        continue;
                if (read_attr_at(fd, "class", buf, sizeof(buf)) >= 0 && sysfs_parse_hex(buf, 0xffffff, &class) >= 0 &&
                    (class >> 16) == 0x06)
                        continue;
                snprintf(address, asize, "%.63s", de->d_name);
                return 1;
        }
        return 0;
}

static int wait_group_apply(const struct change_ctx *change, const struct step *s, char **message)
{
        const struct handoff_ctx *ctx = handoff_ctx_of(change);
        char path[64], address[64], driver[64];
        int r;

        snprintf(path, sizeof(path), "dev/vfio/%s", s->args[0]);
        r = wait_for_path(ctx->sr, path, ctx->clock, ctx->settle_usec);
        if (r < 0)
                return step_fail(message, r, "/%s did not appear: IOMMU group %s is not usable by VFIO", path,
                                 s->args[0]);
        r = group_blocker(ctx->sr, s->args[0], address, sizeof(address), driver, sizeof(driver));
        if (r > 0)
                return step_fail(message, -EBUSY,
                                 "IOMMU group %s is not viable: %s is still bound to %s, so no VM could use the group",
                                 s->args[0], address, driver);
        return r < 0 ? step_fail(message, r, "cannot read IOMMU group %s: %s", s->args[0], strerror(-r)) : 0;
}

const struct step_ops step_unbind_driver_ops = {unbind_apply, unbind_revert};
const struct step_ops step_bind_vfio_ops = {bind_vfio_apply, bind_vfio_revert};
const struct step_ops step_wait_vfio_group_ops = {wait_group_apply, NULL};
