/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What keeps a boot GPU busy below the display manager: virtual consoles drawn by fbcon and the
 * firmware's boot framebuffer (efifb, simpledrm/simplefb, vesafb), a platform device. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/sysroot.h"

struct vtconsole {
        unsigned index;  /* vtconN */
        char name[128];  /* "(M) frame buffer device" */
        bool bound;
        bool framebuffer; /* fbcon: the one that draws on a GPU */
};

struct boot_framebuffer {
        char device[64]; /* "efi-framebuffer.0" */
        char driver[64]; /* "efi-framebuffer", "simple-framebuffer", "vesa-framebuffer"; "" when none */
};

/* sys/class/vtconsole; none is an empty list. */
int vtconsoles_read(const struct sysroot *sr, struct vtconsole **ret, size_t *ret_n);
/* The firmware framebuffer platform devices that exist, bound or not. */
int boot_framebuffers_read(const struct sysroot *sr, struct boot_framebuffer **ret, size_t *ret_n);
