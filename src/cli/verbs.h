/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The verbs' descriptors (cli.h's struct verb), each defined in its own verb-*.c beside the
 * function it runs: main.c lists them in this order in --help and dispatches over them. A new
 * verb is a new file with its descriptor, one line here and one in main.c's table. */

#include "cli/cli.h"

extern const struct verb list_verb;    /* verb-list.c */
extern const struct verb doctor_verb;  /* verb-doctor.c */
extern const struct verb attach_verb;  /* verb-attach.c */
extern const struct verb release_verb; /* verb-release.c */
extern const struct verb status_verb;  /* verb-status.c */
extern const struct verb recover_verb; /* verb-release.c */
extern const struct verb reset_verb;   /* verb-reset.c */
extern const struct verb hook_verb;    /* verb-hook.c */
extern const struct verb config_verb;  /* verb-config.c */
extern const struct verb xml_verb;     /* verb-xml.c */
extern const struct verb setup_verb;   /* verb-setup.c */

/* Undoes what an interrupted setup or setup undo left (verb-setup.c), for setup and recover;
 * prints what it did; EXIT_OK when there was nothing or it is done. The caller holds the lock. */
int setup_settle(struct cli *cli);

/* hook's sub-verbs, install and uninstall (verb-hook-install.c); ends with {}. */
extern const struct verb hook_install_verbs[];

/* True when argv[0] is a libvirt hook file: .../hooks/qemu or .../hooks/qemu.d/NAME
 * (verb-hook.c): main.c then runs the hook verb with libvirt's words. */
bool invoked_as_hook(const char *argv0);
