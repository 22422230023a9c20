/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The verb layer: parses the command line, reads the host, reports once. Everything below it
 * returns -errno and never prints. This header is what every verb file shares (cli.c): the
 * descriptor a verb is made of, the command line's global state, reporting, the configuration and
 * the quirks as the options name them. It names no verb: verbs.h lists them for main.c. */

#include <stdbool.h>
#include <stdio.h>

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

struct cli {
        const char *root; /* as given (--root, $GPU_HANDOFF_ROOT, "/"), escaped for messages */
        const char *quirks_path; /* NULL: environment or installed default */
        const char *pci_ids;
        bool json;
        const char *vm; /* --vm NAME; NULL: the main configuration file only */
        struct sysroot *sr;
};

/* One option of a verb, in the verb's own table: how it is parsed and how its --help line reads.
 * Exactly one of flag, string and parse says where the value goes; none: the entry documents a
 * global option (--json) where this verb's help lists it, and main.c parses it. */
struct verb_option {
        const char *name;  /* without "--" */
        const char *value; /* the value's name in --help ("N", "NAME"); NULL: the option takes none */
        const char *help;  /* its text in --help; '\n' starts a line under the first */
        bool *flag;           /* set when given */
        const char **string;  /* the value as given (argv outlives the verb); the verb checks it */
        /* checks the value and keeps it; 0, or the exit status after reporting (cli_error) */
        int (*parse)(struct cli *cli, const char *value);
};

/* A verb, or a sub-verb of one (hook install): everything main.c needs to parse its command
 * line, dispatch to it and print its --help. Tables of options and sub-verbs end with {}. */
struct verb {
        const char *name;
        const char *args; /* the usage line's "[DEVICE...]" */
        int min_args, max_args;
        int (*run)(struct cli *cli, int argc, char **argv);
        const char *summary;     /* one line for the verb list; a sub-verb's text in its verb's help */
        const char *description; /* --help: what comes before the options */
        const struct verb *subverbs;
        const struct verb_option *options;
        int column;         /* --help: where the text of an option (or sub-verb) line starts */
        const char *epilog; /* --help: what comes after the options; NULL: nothing */
};

/* The entry with that name in a table that ends with {}; NULL when there is none. */
const struct verb *verb_find(const struct verb *table, const char *name);
const struct verb_option *verb_option_find(const struct verb *v, const char *name);
/* "VERB --help": the usage line, the summary, the description, the sub-verbs and options, each
 * in the verb's column, and the epilog. */
void verb_print_help(FILE *f, const struct verb *v);

/* --vm NAME, which every verb that reads the configuration takes: kept in cli->vm and checked
 * when the configuration is read (cli_load_config()). */
int cli_parse_vm(struct cli *cli, const char *value);

/* The installed gpu-handoff the hook runs: $GPU_HANDOFF_BINARY, else SBINDIR/gpu-handoff. */
const char *hook_binary(void);

/* "gpu-handoff: message" on stderr; returns EXIT_ERROR for "return error(...)". */
_printf_(1, 2) int cli_error(const char *fmt, ...);
_printf_(1, 2) void cli_warning(const char *fmt, ...);
/* A plan that could not be made (plan_attach(), plan_room()): "VERB: message", and the exit
 * status: EXIT_ERROR for a bad or unknown device name or no memory, else EXIT_NOT_READY (the
 * host refuses as it is). */
int cli_plan_failed(const char *verb, int r, const char *error);

/* Loads the quirks database the options name. A missing default database is a warning and
 * *ret is NULL; a malformed one, or a missing one the user named, is an error. */
int cli_load_quirks(const struct cli *cli, struct quirk_db **ret);
/* The quirks database cli_load_quirks() reads: --quirks, $GPU_HANDOFF_QUIRKS or the installed one. */
const char *cli_quirks_path(const struct cli *cli);
/* Loads the configuration (gpu-handoff.conf(5)) below cli->sr, with cli->vm's vm.d file when
 * --vm was given: prints each warning (unknown keys) as "gpu-handoff: warning: ...", an error
 * as its one line. Returns EXIT_OK with *ret set, or EXIT_ERROR with *ret NULL. */
int cli_load_config(const struct cli *cli, struct config **ret);
/* The same, the warnings returned (NULL-terminated, for strv_free_null()) instead of printed. */
int cli_load_config_warnings(const struct cli *cli, struct config **ret, char ***ret_warnings);
