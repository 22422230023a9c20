/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* Parsers for the values this tool reads from users and from the kernel.
 * All return 0 or -errno (-EINVAL for malformed input, -ERANGE for out of range) and
 * leave their out-parameters untouched on failure. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct pci_addr {
        uint16_t domain;
        uint8_t bus;
        uint8_t slot; /* 0..31 */
        uint8_t func; /* 0..7 */
};

#define PCI_ADDR_STRLEN sizeof("0000:00:00.0")

/* Strict kernel form "DDDD:BB:DD.F" (hex, lower or upper case). */
int pci_addr_parse(const char *s, struct pci_addr *ret);
/* Command-line form: "DDDD:BB:DD.F" or the short "BB:DD.F" (domain 0). */
int pci_addr_parse_user(const char *s, struct pci_addr *ret);
/* Always the kernel's canonical lower-case "dddd:bb:dd.f". buf has PCI_ADDR_STRLEN bytes. */
char *pci_addr_format(const struct pci_addr *a, char buf[static PCI_ADDR_STRLEN]);
int pci_addr_compare(const struct pci_addr *a, const struct pci_addr *b);
bool pci_addr_same_slot(const struct pci_addr *a, const struct pci_addr *b);

/* The largest CPU set anyone here parses: the kernel's NR_CPUS is at most 8192. */
#define CPULIST_BITS 8192

/* CPU list "0-3,8-11,14" (kernel cpulist syntax, also "0-15:2" strides are rejected as
 * unusual). Bits are set in a caller-provided bitmap of nbits bits; a CPU >= nbits is -ERANGE. */
int cpulist_parse(const char *s, uint64_t *bitmap, size_t nbits);
/* Formats a bitmap back to the shortest cpulist ("" for an empty set). Returns a malloc'd string. */
char *cpulist_format(const uint64_t *bitmap, size_t nbits);

/* One sysfs attribute value as the kernel prints it: "0x10de\n", "1\n", "flr bus\n".
 * Trailing newline and spaces are ignored; anything else malformed is -EINVAL. */
int sysfs_parse_hex(const char *s, uint32_t max, uint32_t *ret);
int sysfs_parse_uint(const char *s, uint32_t max, uint32_t *ret);
int sysfs_parse_bool(const char *s, bool *ret);

/* Strips trailing whitespace in place; returns s. */
char *strip_trailing(char *s);
/* True if word appears as a whole space-separated token of list (e.g. a cpuinfo flag). */
bool word_in_list(const char *list, const char *word);
