/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A hand-over session as the verbs that change the host run it (attach, release, recover, the
 * hook): the lock, the kernel seam and the context for steps, the old journal's checks, the undo,
 * and the report of a run (its step timeline, or the same as JSON). */

#include <stdio.h>

#include "change/engine.h"
#include "change/lock.h"
#include "cli/cli.h"
#include "handoff/transition.h"

struct handoff_session {
        struct change_lock *lock;
        struct kernel kernel;
        struct handoff_ctx ctx;
        struct process_id self;
        char *command; /* argv joined, for the journal */
};

/* Runs the rest of the verb apart from the terminal's session (handoff/detach.h): -1 in the
 * process that goes on with the transition (SIGINT and SIGTERM then stop it between steps), or
 * in the caller the transition's exit status to return. */
int session_detach(void);

/* Takes the one lock every transaction of every domain takes (run/gpu-handoff/lock), waiting up to
 * timeout_usec for a transition that holds it, then naming the holder. Reports errors itself;
 * returns an exit status, EXIT_OK with *ret set. */
int session_lock(struct cli *cli, const char *what, uint64_t timeout_usec, struct change_lock **ret);
/* Takes the lock (waiting up to the configuration's Lock= deadline, then naming the holder) and
 * sets up the real kernel seam with the configured deadlines. Reports errors itself; returns an
 * exit status, EXIT_OK on success. */
int session_begin(struct cli *cli, const char *what, const struct config *c, struct handoff_session *s);
void session_end(struct handoff_session *s);

/* The per-step timeline, one line per step that was reached and a total. */
void print_timeline(FILE *f, const char *verb, const struct engine_run *run);
/* The per-step timeline (human) or the same data (--json), then the outcome line. */
int print_run(const struct cli *cli, const char *verb, const struct engine_run *run, int error);

/* Nothing to do: the sentence on stdout, or with --json the verb's document with it as
 * "nothing_to_do" and no steps. Returns an exit status. */
int print_nothing_to_do(const struct cli *cli, const char *verb, const char *what);

/* run/gpu-handoff, or rel in it (its lock, its journal), is not what this tool makes: reports
 * the command that fixes it and returns EXIT_ERROR; 0 when nothing is found wrong. */
int report_unusable(const struct cli *cli, const char *rel);
bool journal_is_directory(const struct cli *cli);

/* Loads the journal: 0 when there is none, 1 with *ret, or (reported) EXIT_NEEDS_RECOVER when it
 * is damaged. */
int journal_check(struct cli *cli, struct journal_state **ret);

/* A journal write failed for want of space (ENOSPC, EDQUOT). */
bool journal_out_of_space(int r);
/* transition_journal_trouble() for this root's run: the one wording release, recover and the
 * hook give when the journal kept an undo from finishing. */
char *journal_trouble(const struct cli *cli, const char *phase, int r, const struct engine_run *run);

/* How session_give_back() says what it did: release and recover on stderr, the hook in its log. */
struct give_back_voice {
        const char *who; /* the lines' subject: the phase ("release"), or the VM's name */
        void (*taken)(const char *who, const char *address);
        int (*failed)(const char *who, int r, const char *error); /* reports; returns the exit status */
};

/* For a transition the libvirt hook started: what libvirt left on vfio-pci although the journal
 * only freed it (libvirt/give-back.h), taken from vfio-pci so that the undo can give it to its
 * drivers, each named through the voice; refused, naming the holder, while a VM still uses it.
 * Nothing for a transition the hook did not start. Returns an exit status. */
int session_give_back(const struct handoff_session *s, const struct journal_state *st,
                      const struct give_back_voice *voice);
/* The same for release and recover (phase), each device named on stderr. */
int give_back_after_hook(const struct handoff_session *s, const struct journal_state *st, const char *phase);

/* Undoes what the journal says is applied (release, recover) and returns an exit status. With
 * report, the step timeline goes to stdout; without (a recovery before attach --json, whose
 * stdout must stay one JSON document), one line on stderr. */
int revert_journal(struct cli *cli, struct handoff_session *s, const char *phase, bool report);
/* The one line on stderr that says an undo without report was done. */
void print_undone_quietly(const char *phase);
