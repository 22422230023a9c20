/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A step of a hand-over: one change to the host with an exact reverse. Steps are data: the
 * plan builder decides them from a host snapshot, --dry-run prints them, the engine applies
 * them and journals each one (kind and arguments) before it is applied. */

#include <stddef.h>

enum step_kind {
        STEP_INHIBIT_SLEEP,      /* no args: a logind sleep inhibitor held while the GPU is lent */
        STEP_STOP_UNIT,          /* unit [why]: stop a systemd unit, start it again on the way back */
        STEP_CHECK_HOLDERS,      /* refuse|terminate addresses...: what to do with processes holding the
                                  * devices' nodes: name them and fail, or TERM, then KILL them */
        STEP_UNBIND_VTCON,       /* vtconN: fbcon lets go of the framebuffer */
        STEP_UNBIND_FRAMEBUFFER, /* platform-device driver: release the firmware framebuffer */
        STEP_UNBIND_DRIVER,      /* address driver */
        STEP_UNLOAD_MODULE,      /* module */
        STEP_LOAD_MODULE,        /* module, then the modules it brings in (unloaded again on release) */
        STEP_BIND_VFIO,          /* address: driver_override + drivers_probe */
        STEP_WAIT_VFIO_GROUP,    /* group: /dev/vfio/N appears */
        _STEP_KIND_MAX,
};

#define STEP_MAX_ARGS 8

struct step {
        enum step_kind kind;
        char *args[STEP_MAX_ARGS];
        size_t n_args;
        char *skip; /* why this step does nothing on this host (no systemd...), or NULL */
};

/* "stop-unit": the name the journal and --json use. */
const char *step_kind_to_string(enum step_kind k);
/* _STEP_KIND_MAX for a name this version does not know. */
enum step_kind step_kind_from_string(const char *s);
/* One line for people: "stop display-manager.service (sddm.service) and start it again after". */
char *step_describe(const struct step *s);
void step_done(struct step *s);
