/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* One section of a PE file (an EFI binary: a unified kernel image, a systemd-stub addon), as the
 * firmware's loader and systemd-stub find it: the DOS header's e_lfanew, the "PE\0\0" signature,
 * the COFF header, the section table; a section's bytes are its raw data cut to its virtual size.
 * Read with pread() in small pieces (a UKI is tens of megabytes); every offset and size is
 * checked against the file, so a hostile file is refused, never followed. */

#include <stddef.h>

#include "basic/sysroot.h"

/* The section called name (".cmdline") of the PE file at path below the root, up to max bytes,
 * NUL-terminated and cut at its first NUL: 1 with *ret (malloc'd), 0 when there is no such
 * section, -EBADMSG when the file is not a PE file, -EFBIG when the section is bigger than max,
 * other -errno when it cannot be read. */
int pe_read_section(const struct sysroot *sr, const char *path, const char *name, size_t max, char **ret);
