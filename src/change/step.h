/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The step contract: one change to the machine with an exact reverse. Steps are data: a domain
 * (the hand-over, host setup, hook install) plans them, --dry-run prints them, the engine
 * (engine.h) journals each one (kind and arguments) before it applies it. A domain registers its
 * step kinds in a table: for each kind its name (what the journal and --json say), a line for
 * people and the apply/revert pair. The core knows no kind; it indexes the domain's table with
 * struct step's kind, so a domain names its kinds with constants (an enum) of its own.
 *
 * While a step runs, the engine tells it where it stands: its index in the journal and the
 * journal's directory (where file steps keep their before-images), and lets it journal the facts
 * it learns while applying (step_note()) for its revert to read (step_note_get()), in this process
 * or in the one that recovers after a crash. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/sysroot.h"
#include "basic/wait.h"

#define STEP_MAX_ARGS 8

struct step {
        unsigned kind; /* an index into its domain's kinds */
        char *args[STEP_MAX_ARGS];
        size_t n_args;
        char *skip; /* why this step does nothing on this machine (no systemd...), or NULL */
};

/* The commands seam (argv, deadline), the same for every domain; defined where it is implemented. */
struct commands;
struct journal;
struct journal_spec;

/* What a step needs to change the machine. The caller fills the first part, one per command; the
 * engine copies it for each step it runs and fills the second. */
struct change_ctx {
        const struct sysroot *sr;
        const struct clock_ops *clock;   /* NULL: the real clock */
        const struct commands *commands; /* NULL when the domain runs no command */
        const void *domain;              /* the domain's own context (struct handoff_ctx) */

        /* The engine's, for the step it runs: read them through the functions below. */
        struct journal *journal;
        size_t index;     /* the step's index in the journal */
        bool applying;    /* apply (notes may be written), not revert */
        size_t note_room; /* the bytes of journal the step's kind may fill with notes */
};

struct step_ops {
        /* Makes the change; 0, or -errno with *message saying what went wrong in the user's terms. */
        int (*apply)(const struct change_ctx *ctx, const struct step *s, char **message);
        /* Puts back what apply changed. Idempotent: a change already undone is not an error. NULL when
         * the step changes nothing (a check, a wait). */
        int (*revert)(const struct change_ctx *ctx, const struct step *s, char **message);
};

struct change_kind {
        const char *name; /* "stop-unit": [a-z0-9-], unique in its domain */
        /* One line for people: "stop display-manager.service (sddm.service), start it again on
         * release"; malloc'd, NULL when out of memory. */
        char *(*describe)(const struct step *s);
        const struct step_ops *ops;
        /* The most bytes of journal its notes take (journal_note_bytes() of each); 0: it notes
         * nothing. The journal's room is reserved for it before the first change. */
        size_t note_room;
};

/* A domain: its step kinds, indexed by struct step's kind. */
struct change_domain {
        const char *name; /* "handoff", for messages */
        const struct change_kind *kinds;
        size_t n_kinds;
};

/* The kind of s, or NULL when the domain has none of that index. */
const struct change_kind *change_domain_kind(const struct change_domain *d, unsigned kind);
/* The index of the kind with this name, or -ENOENT when the domain has none (a journal of a later
 * version, or of another domain). */
int change_domain_find_kind(const struct change_domain *d, const char *name);
/* describe() of the step's kind; NULL for an unknown kind or out of memory. */
char *change_domain_describe(const struct change_domain *d, const struct step *s);

void step_done(struct step *s);
/* For the implementations: printf into *message (which may be NULL, or hold an earlier message,
 * which it replaces); returns error. */
int step_fail(char **message, int error, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* The step's index in the journal, and the journal's directory below the root (its spec's dir). */
size_t step_journal_index(const struct change_ctx *ctx);
const char *step_journal_dir(const struct change_ctx *ctx);
/* Journals KEY = VALUE for the step being applied, durably, before the step makes the change the
 * fact describes (journal.h, "note"). A later note of the same key replaces the value. -EPROTO
 * outside apply, -E2BIG when the step's notes would outgrow its kind's note_room, -EINVAL for a
 * key outside [a-z0-9-]; the journal's errors otherwise (nothing is noted then: the step must not
 * make the change). */
int step_note(const struct change_ctx *ctx, const char *key, const char *value);
/* The value noted under key for this step (by this process or the one that applied it before a
 * crash), or NULL when there is none. Borrowed from the journal's state. */
const char *step_note_get(const struct change_ctx *ctx, const char *key);
