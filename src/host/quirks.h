/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The GPU quirks database: known-bad or special device families, keyed by PCI vendor:device
 * (lists and ranges), read at run time from an installed text file (data/quirks; format in
 * that file's header and in docs/quirks.md). Library code: never prints, never exits. */

#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"

enum quirk_severity {
        QUIRK_INFO,
        QUIRK_WARNING,
        QUIRK_ERROR,
};

/* What the tool itself acts on; a quirk may set several. */
enum quirk_flag {
        QUIRK_RESET_BROKEN = 1u << 0,       /* no working reset; VM restarts may hang the card */
        QUIRK_RESET_ONCE_PER_BOOT = 1u << 1, /* may not come back after one VM run (RTX 50) */
        QUIRK_VENDOR_RESET = 1u << 2,       /* the vendor-reset module supports this family */
        QUIRK_KEEP_EFIFB = 1u << 3,         /* unbinding efifb can be harmful (RX 6000) */
        QUIRK_COMPANIONS_TRAVEL = 1u << 4,  /* USB-C/UCSI functions must go with the GPU */
        QUIRK_SWITCH_COMPANIONS = 1u << 5,  /* the card's own PCIe switch: functions behind its other ports are its own */
};

struct quirk_id_range {
        uint16_t vendor;
        uint16_t first, last; /* device IDs, inclusive */
};

struct quirk {
        char *id;          /* "nvidia-blackwell-reset": stable, lower-case, [a-z0-9-] */
        char *name;        /* "NVIDIA RTX 50 series (Blackwell)" */
        enum quirk_severity severity;
        unsigned flags;    /* enum quirk_flag */
        char *summary;     /* one line: what goes wrong */
        char *fix;         /* one line: what the user should do */
        char *source;      /* where this is known from (URL or reference), mandatory */
        struct quirk_id_range *ranges;
        size_t n_ranges;
};

struct quirk_db {
        struct quirk *quirks;
        size_t n_quirks;
};

/* Parses a database from memory: text need not be NUL-terminated, and a NUL byte inside it is
 * an error. filename only names the input in messages (NULL: "(quirks)"). On error returns
 * -EINVAL (or -ENOMEM) and, if ret_error is not NULL, a malloc'd "FILENAME:LINE: message" naming
 * what was wrong and what was expected (NULL when even that could not be allocated). */
int quirk_db_parse(const char *text, size_t len, const char *filename, struct quirk_db **ret,
                   char **ret_error);
/* Reads and parses a file; -errno from open/read with ret_error "PATH: strerror" (-EFBIG for a
 * file over 16 MiB). */
int quirk_db_load(const char *path, struct quirk_db **ret, char **ret_error);
void quirk_db_free(struct quirk_db *db);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct quirk_db *, quirk_db_free)
#define _cleanup_quirk_db_ _cleanup_(quirk_db_freep)

/* Fills out[] with up to max_out quirks matching vendor:device, in file order; returns the total
 * number of matches (which may exceed max_out). */
size_t quirk_db_match(const struct quirk_db *db, uint16_t vendor, uint16_t device,
                      const struct quirk **out, size_t max_out);

const char *quirk_severity_to_string(enum quirk_severity s);
/* "reset-broken" etc.; NULL for an unknown bit. */
const char *quirk_flag_to_string(enum quirk_flag f);
