/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The configuration: /etc/gpu-handoff/gpu-handoff.conf, then /etc/gpu-handoff/vm.d/VM.conf for
 * the VM being started, whose keys override the main file's. INI-style: "[Section]" headers and
 * "Key=Value" lines; '#' or ';' at the start of a line (after blanks) is a comment. Every key,
 * its type and default is documented in gpu-handoff.conf(5) (docs/man/gpu-handoff.conf.5).
 *
 * Parsing is strict: an unknown section, a malformed line, a bad value or a key given twice in
 * one file is an error "FILE:LINE: message"; an unknown key in a known section is a warning (a
 * newer version's key), and the rest of the file still applies. A file writable by anyone but
 * root (or by anyone but the user running the tool, under --root as that user), or in such a
 * directory, is refused: it drives a root process.
 *
 * Library code: never prints, never exits. 0 or -errno; *ret_error receives one malloc'd line
 * where there is more to say than the error code. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "basic/macro.h"
#include "basic/sysroot.h"

#define CONFIG_DIR "etc/gpu-handoff"
#define CONFIG_PATH "etc/gpu-handoff/gpu-handoff.conf"
#define CONFIG_VM_DIR "etc/gpu-handoff/vm.d"

enum holder_policy {
        HOLDER_POLICY_REFUSE,    /* name the processes that hold the GPU and fail */
        HOLDER_POLICY_TERMINATE, /* TERM, then KILL them */
};

enum compact_mode {
        COMPACT_AUTO, /* before allocating hugepages, unless known to misbehave (ZFS, Linux >= 6.3.1) */
        COMPACT_YES,  /* always, with DropCaches or hugepages */
        COMPACT_NO,
};

/* Where a value came from, for "gpu-handoff config": the default, or a file and line. */
struct config_origin {
        const char *file; /* NULL: the built-in default; else the file as shown to the user
                           * ("/etc/gpu-handoff/gpu-handoff.conf", also under --root), one of files */
        unsigned line;
};

struct config {
        /* [Devices] */
        /* Lists (char **) are NULL-terminated and never NULL: an empty list is { NULL }. */
        char **gpus;     /* GPU=: canonical PCI addresses ("0000:01:00.0"), as listed; empty: pick */
        bool with_group; /* WithGroup= */
        bool single_gpu; /* SingleGPU=: consent to lend the GPU that drives the host's display */

        /* [Holders] */
        enum holder_policy holders; /* Policy= */

        /* [Deadlines]: microseconds */
        uint64_t settle_usec;    /* Settle=10s: a driver bound, /dev/vfio/N appearing */
        uint64_t write_usec;     /* Write=20s: a sysfs write that blocks is reported wedged */
        uint64_t unit_job_usec;  /* UnitJob=100s: a systemd start or stop job */
        uint64_t sessions_usec;  /* Sessions=10s: graphical sessions ending after the DM stopped */
        uint64_t lock_usec;      /* Lock=15s: waiting for another gpu-handoff */
        uint64_t hugepages_usec; /* Hugepages=10s: obtaining hugepages, compaction included */

        /* [CPU] */
        char *housekeeping; /* Housekeeping=: cpulist the host keeps ("0-1,8-9"); NULL: no isolation */
        char **cpu_units;   /* Units=system.slice user.slice init.scope */
        bool writeback;     /* Writeback=no: also the writeback workqueue's cpumask */
        bool irq_affinity;  /* IRQAffinity=no: also move IRQs off the guest's CPUs */

        /* [Memory] */
        bool drop_caches;          /* DropCaches=no: sync, drop the page cache, compact */
        enum compact_mode compact; /* Compact=auto */
        uint64_t hugepages;        /* Hugepages=: bytes of guest memory to back with hugepages; 0: none */
        uint64_t hugepage_size;    /* HugepageSize=2M: 2M or 1G */
        int hugepage_node;         /* HugepageNode=: NUMA node, -1 (all, the default): the global pool */

        /* [Freeze] */
        char **freeze_units;     /* Units=: systemd units frozen while the GPU is lent (FreezeUnit) */
        char **freeze_processes; /* Processes=: process names (comm) stopped with SIGSTOP */

        char **files;                  /* the files read, in order, as shown to the user */
        struct config_origin *origins; /* one per key (config_n_keys()), in key order */
};

/* The built-in defaults (no file); the documented defaults of gpu-handoff.conf(5). */
int config_new_default(struct config **ret);
/* Why a VM name cannot name CONFIG_VM_DIR/NAME.conf ("it is longer than 250 bytes": NAME_MAX
 * less ".conf"; "it contains '/'"...); NULL when it can. */
const char *config_vm_name_problem(const char *vm);
/* Reads CONFIG_PATH (missing: defaults) and, when vm is not NULL, CONFIG_VM_DIR/VM.conf
 * (missing: nothing to override), then config_check(). Values are checked against the host
 * where they name it: CPU lists against online (the host's online CPUs, CPULIST_BITS bits; NULL
 * or empty when they are not known: not checked here, the CPU isolation step checks them when
 * it runs). *ret_warnings: NULL or a NULL-terminated list of
 * "FILE:LINE: ..." lines (unknown keys), set on success only. Errors, with one line in
 * *ret_error: -EINVAL for a bad VM name (config_vm_name_problem(); the line names no option),
 * a malformed file or value, -EPERM for an unsafe file or directory (writable by group or
 * others, or owned by neither root nor the effective uid), -EFBIG for a file over 1 MiB,
 * -errno when a file cannot be read. *ret is untouched on failure. */
int config_load(const struct sysroot *sr, const char *vm, const uint64_t *online, struct config **ret,
                char ***ret_warnings, char **ret_error);
/* Parses text (len bytes, need not be NUL-terminated; a NUL byte in it is an error) as the file
 * filename (the name used in messages and origins) on top of *c: the keys it sets replace
 * theirs, the others stay. Nothing of *c changes on failure. Files from Windows editors are
 * accepted: CRLF line ends (one '\r' before each newline is dropped), a UTF-8 byte order mark
 * at the start. online: the online CPUs (CPULIST_BITS bits) to check CPU lists against, or NULL
 * (or an empty set) not to check. *ret_warnings as for config_load(). -EINVAL with
 * "FILENAME:LINE: message" in *ret_error, or -ENOMEM. Cross-key rules are not checked here:
 * call config_check() once all files are applied. */
int config_parse(struct config *c, const char *text, size_t len, const char *filename, const uint64_t *online,
                 char ***ret_warnings, char **ret_error);
/* The rules that involve several keys, possibly from different files: Hugepages= must be a
 * multiple of HugepageSize=. -EINVAL with "FILE:LINE: message" (Hugepages='s origin). */
int config_check(const struct config *c, char **ret_error);
void config_free(struct config *c);
DEFINE_TRIVIAL_CLEANUP_FUNC(struct config *, config_free)

/* For "gpu-handoff config": every key of every section in documentation order. */
struct config_key_info {
        const char *section;
        const char *key;
        const char *type; /* "bool", "duration", "size", "cpulist", "pci-addresses", "names", "enum",
                           * "numa-node" */
};
size_t config_n_keys(void);
const struct config_key_info *config_key(size_t i);
/* The effective value of key i as it would be written in a file, malloc'd (NULL: out of memory
 * or no such key). Canonical forms: bools "yes"/"no"; durations and sizes in the largest unit
 * that divides them exactly ("100s", "2min", "1500ms"; "16G", "1536M", "0"); lists joined by
 * one space; PCI addresses "0000:01:00.0"; cpulists as cpulist_format() writes them; the NUMA
 * node "all" or its number. Parsing the string again gives the same value. */
char *config_value_string(const struct config *c, size_t i);
/* Where key i's value came from. */
struct config_origin config_value_origin(const struct config *c, size_t i);
/* True when no file set [section] key: the built-in default stands (a caller may fill it in
 * from elsewhere, as the hook does from the domain XML). */
bool config_is_default(const struct config *c, const char *section, const char *key);
