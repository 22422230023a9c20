/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The verb layer: parses the command line, reads the host, reports once. Everything below it
 * returns -errno and never prints. */

#include <stdbool.h>

#include "basic/macro.h"
#include "basic/sysroot.h"
#include "config/config.h"
#include "host/quirks.h"

/* Documented in README.md and in every verb's --help. */
enum {
        EXIT_OK = 0,
        EXIT_NOT_READY = 1, /* doctor: not ready; a hook refusing */
        EXIT_ERROR = 2,     /* usage or runtime error */
        EXIT_ROLLED_BACK = 3,
        EXIT_NEEDS_RECOVER = 4,
};

/* Options a verb accepts; anything else is a usage error. */
enum {
        OPT_GPUS = 1u << 0,
        OPT_GROUP = 1u << 1,
        OPT_DRY_RUN = 1u << 2,
        OPT_YES = 1u << 3,
        OPT_WITH_GROUP = 1u << 4,
        OPT_FORCE = 1u << 5,
        OPT_DISCARD = 1u << 6,
        OPT_TERMINATE = 1u << 7,
        OPT_VM = 1u << 8, /* --vm NAME: also apply /etc/gpu-handoff/vm.d/NAME.conf */
        /* xml's options (high bits, clear of the ones other verbs add) */
        OPT_GUEST_BUS = 1u << 16,
        OPT_MANAGED = 1u << 17,
        OPT_ROM = 1u << 18,
        OPT_NVIDIA_LEGACY = 1u << 19,
        OPT_PROXMOX = 1u << 20,
};

struct cli {
        const char *root; /* as given (--root, $GPU_HANDOFF_ROOT, "/"), escaped for messages */
        const char *quirks_path; /* NULL: environment or installed default */
        const char *pci_ids;
        bool json;
        bool gpus_only;
        int group; /* -1: all */
        bool dry_run, yes, with_group, force, discard, terminate;
        const char *vm; /* --vm NAME; NULL: the main configuration file only */
        const char *guest_bus, *managed, *rom; /* xml: checked by the verb; NULL: not given */
        bool nvidia_legacy, proxmox;
        struct sysroot *sr;
};

struct verb {
        const char *name;
        int min_args, max_args;
        unsigned options; /* OPT_* */
        int (*run)(struct cli *cli, int argc, char **argv);
        const char *args;    /* "[DEVICE...]" for the usage line */
        const char *summary; /* one line for the verb list */
        const char *help;    /* the rest of "VERB --help" */
};

int verb_list(struct cli *cli, int argc, char **argv);
int verb_doctor(struct cli *cli, int argc, char **argv);
int verb_attach(struct cli *cli, int argc, char **argv);
int verb_release(struct cli *cli, int argc, char **argv);
int verb_recover(struct cli *cli, int argc, char **argv);
int verb_status(struct cli *cli, int argc, char **argv);
int verb_config(struct cli *cli, int argc, char **argv);
int verb_hook(struct cli *cli, int argc, char **argv);
/* True when argv[0] is a libvirt hook file: .../hooks/qemu or .../hooks/qemu.d/NAME. */
bool invoked_as_hook(const char *argv0);
/* "hook install" / "hook uninstall" (src/cli/verb-hook-install.c); the installed gpu-handoff the
 * hook runs: $GPU_HANDOFF_BINARY, else SBINDIR/gpu-handoff. */
int hook_install_verb(struct cli *cli, int argc, char **argv);
const char *hook_binary(void);
int verb_xml(struct cli *cli, int argc, char **argv);

/* "gpu-handoff: message" on stderr; returns EXIT_ERROR for "return error(...)". */
_printf_(1, 2) int cli_error(const char *fmt, ...);
_printf_(1, 2) void cli_warning(const char *fmt, ...);

/* Loads the quirks database the options name. A missing default database is a warning and
 * *ret is NULL; a malformed one, or a missing one the user named, is an error. */
int cli_load_quirks(const struct cli *cli, struct quirk_db **ret);
/* The quirks database cli_load_quirks() reads: --quirks, $GPU_HANDOFF_QUIRKS or the installed one. */
const char *cli_quirks_path(const struct cli *cli);
/* Loads the configuration (gpu-handoff.conf(5)) below cli->sr, with cli->vm's vm.d file when
 * --vm was given: prints each warning (unknown keys) as "gpu-handoff: warning: ...", an error
 * as its one line. Returns EXIT_OK with *ret set, or EXIT_ERROR with *ret NULL. */
int cli_load_config(const struct cli *cli, struct config **ret);
