/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/macro.h"
#include "basic/parse.h"
#include "host/console.h"
#include "host/display.h"
#include "host/gpu.h"

bool gpu_on_vfio(const struct gpu *g)
{
        return g->dev->driver && strncmp(g->dev->driver, "vfio-pci", 8) == 0;
}

bool gpu_drives_display(const struct gpu *g)
{
        return g->display != 0;
}

/* cardN-<connector>/status of every DRM card of the device; the first connected one is named. */
static void read_connectors(const struct sysroot *sr, struct gpu *g)
{
        _cleanup_closedir_ DIR *drm = NULL;
        char path[PATH_MAX];
        struct dirent *card;

        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/drm", g->dev->address);
        if (sysroot_opendir(sr, path, &drm) < 0)
                return;
        while ((card = readdir(drm))) {
                _cleanup_closedir_ DIR *dir = NULL;
                struct dirent *c;
                size_t len = strlen(card->d_name);
                uint32_t minor;

                if (strncmp(card->d_name, "card", 4) != 0 || sysfs_parse_uint(card->d_name + 4, 255, &minor) < 0)
                        continue;
                if (g->display_card < 0)
                        g->display_card = (int)minor;
                if (snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/drm/%s", g->dev->address, card->d_name) >=
                    (int)sizeof(path))
                        continue;
                if (sysroot_opendir(sr, path, &dir) < 0)
                        continue;
                while ((c = readdir(dir))) {
                        char status[32], attr[PATH_MAX];

                        if (strncmp(c->d_name, card->d_name, len) != 0 || c->d_name[len] != '-')
                                continue;
                        if (snprintf(attr, sizeof(attr), "%s/%s/status", path, c->d_name) >= (int)sizeof(attr))
                                continue;
                        if (sysroot_read_attr(sr, attr, status, sizeof(status)) < 0 || strcmp(status, "connected") != 0)
                                continue;
                        if (!(g->display & DISPLAY_CONNECTOR))
                                snprintf(g->display_connector, sizeof(g->display_connector), "%s", c->d_name + len + 1);
                        g->display |= DISPLAY_CONNECTOR;
                }
        }
}

/* A framebuffer device (graphics/fbN) of the card, with a vtconsole of fbcon bound. */
static void read_fbcon(const struct sysroot *sr, struct gpu *g, bool fbcon_bound)
{
        _cleanup_closedir_ DIR *dir = NULL;
        struct dirent *de;
        char path[PATH_MAX];

        if (!fbcon_bound)
                return;
        snprintf(path, sizeof(path), "sys/bus/pci/devices/%s/graphics", g->dev->address);
        if (sysroot_opendir(sr, path, &dir) < 0)
                return;
        while ((de = readdir(dir)))
                if (strncmp(de->d_name, "fb", 2) == 0 && de->d_name[2]) {
                        g->display |= DISPLAY_FBCON;
                        return;
                }
}

/* debugfs dri/N/clients: "command tgid dev master a uid magic", master is "y" for the master. */
static void read_master(const struct sysroot *sr, struct gpu *g)
{
        _cleanup_free_ char *text = NULL;
        char path[64];
        char *line, *save = NULL;

        if (g->display_card < 0)
                return;
        snprintf(path, sizeof(path), "sys/kernel/debug/dri/%d/clients", g->display_card);
        if (sysroot_read_file(sr, path, 1 << 20, &text, NULL) < 0)
                return;
        for (line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                char command[64], master[8];
                unsigned tgid, dev;
                if (sscanf(line, "%63s %u %u %7s", command, &tgid, &dev, master) == 4 && strcmp(master, "y") == 0) {
                        g->display |= DISPLAY_MASTER;
                        return;
                }
        }
}

int gpus_read_display(const struct sysroot *sr, struct gpu *gpus, size_t n)
{
        _cleanup_free_ struct vtconsole *vt = NULL;
        size_t n_vt = 0;
        bool fbcon = false, any = false, boot_on_vfio = false;
        int r;

        r = vtconsoles_read(sr, &vt, &n_vt);
        if (r == -ENOMEM)
                return r;
        for (size_t i = 0; r >= 0 && i < n_vt; i++)
                fbcon |= vt[i].framebuffer && vt[i].bound;
        for (size_t i = 0; i < n; i++) {
                struct gpu *g = &gpus[i];

                g->display = 0;
                g->display_card = -1;
                g->display_connector[0] = '\0';
                if (gpu_on_vfio(g)) /* reserved for VMs: reading it may even block on its lock */
                        continue;
                read_connectors(sr, g);
                read_fbcon(sr, g, fbcon);
                read_master(sr, g);
                any |= g->display != 0;
        }
        if (any)
                return 0;
        /* Nothing shows a display: the boot GPU has it, or, when that one is the VMs', every GPU
         * still on a host driver might (which one cannot be told: each needs consent). */
        for (size_t i = 0; i < n; i++)
                boot_on_vfio |= gpu_on_vfio(&gpus[i]) && gpus[i].dev->boot_vga == YES;
        for (size_t i = 0; i < n; i++) {
                struct gpu *g = &gpus[i];
                if (gpu_on_vfio(g))
                        continue;
                if (g->dev->boot_vga == YES)
                        g->display = DISPLAY_BOOT_VGA;
                else if (boot_on_vfio && g->dev->driver)
                        g->display = DISPLAY_LEFT_ON_HOST;
        }
        return 0;
}

const char *gpu_display_reason(const struct gpu *g, char *buf, size_t size)
{
        if (g->display & DISPLAY_CONNECTOR)
                snprintf(buf, size, "a display is connected to its %s", g->display_connector);
        else if (g->display & DISPLAY_FBCON)
                snprintf(buf, size, "the text console is drawn on it");
        else if (g->display & DISPLAY_MASTER)
                snprintf(buf, size, "a display server holds it");
        else if (g->display & DISPLAY_BOOT_VGA)
                snprintf(buf, size, "the firmware booted on it");
        else if (g->display & DISPLAY_LEFT_ON_HOST)
                snprintf(buf, size, "the boot GPU is on vfio-pci and this one is on %s", g->dev->driver);
        else
                snprintf(buf, size, "nothing shows a display on it");
        return buf;
}
