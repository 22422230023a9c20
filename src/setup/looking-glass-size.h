/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Looking Glass's shared-memory (IVSHMEM / kvmfr) size for a guest resolution, by the formula of
 * the Looking Glass host the guest runs (research-setup.md §5). Pure.
 *
 *   B7 and earlier: width x height x 4 bytes (8 for HDR) x 2 frames + 10 MiB
 *   after B7 (the IDD host): ceil(width x 4 / 256) x 256 x height x 3 + 4 MiB; HDR uses the same
 *     32-bit transport, so it does not double it
 *
 * each rounded up to a power of two MiB (IVSHMEM takes nothing else). */

#include <stdbool.h>
#include <stdint.h>

enum lg_version {
        LG_VERSION_CURRENT, /* after B7: the IDD host (the default: the newest) */
        LG_VERSION_B7,      /* B7 and earlier */
};

struct lg_mode {
        uint32_t width, height;
        bool hdr;
};

/* The largest size either formula may give: kvmfr's static_size_mb is an int, QEMU's size a
 * 64-bit byte count; 65536 MiB is far beyond any display (8K HDR on B7 is 512). */
#define LG_SIZE_MAX_MIB 65536u

/* "WIDTHxHEIGHT" or "WIDTHxHEIGHT@hdr" ("2560x1440", "3840x2160@hdr"). 0, or -EINVAL with one
 * line in *ret_error (zero, too large, junk). */
int lg_mode_parse(const char *s, struct lg_mode *ret, char **ret_error);

/* The size in MiB for mode under version's formula; 0 when it exceeds LG_SIZE_MAX_MIB. */
uint32_t lg_size_mib(const struct lg_mode *mode, enum lg_version version);

/* "B7" / "current" and back; -EINVAL for anything else. */
int lg_version_from_string(const char *s);
const char *lg_version_to_string(enum lg_version v);
