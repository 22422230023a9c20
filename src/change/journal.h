/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* The journal: the durable record of one transition (a change made of steps, step.h, and taking
 * it back), so that a failure rolls back and a crash at any point (SIGKILL, power loss of the
 * process) is recoverable. Where it lives and the words its outcomes are written with are its
 * domain's (struct journal_spec): the hand-over's is run/gpu-handoff/journal below the sysroot,
 * tmpfs, so that a reboot clears it together with the runtime state it describes; host setup
 * keeps its journal below var/lib, because what it changes survives a reboot.
 *
 * Format: text, one record per line, fields separated by single spaces. Free text (step
 * arguments, devices, command) is escaped so that any C string round-trips: bytes 0x21..0x7e
 * stand for themselves except '\', which is written "\\"; every other byte (space, newline,
 * control characters, UTF-8 bytes) is "\xNN" (lower-case hex). An empty string is an empty
 * field, so two spaces in a row or a trailing space mean something. A journal is therefore
 * printable ASCII plus '\n', and a byte outside that is corruption.
 *
 *     gpu-handoff journal 1
 *     phase attach 4242 81234 1718000000123456 0000:01:00.0\x200000:01:00.1 gpu-handoff\x20attach
 *     begin 0 stop-unit nvidia-persistenced.service
 *     done 0 120000
 *     begin 1 unbind-driver 0000:01:00.1 snd_hda_intel
 *     failed 1 16
 *     revert 1
 *     reverted 1
 *     revert 0
 *     reverted 0
 *     end rolled-back
 *
 * (the hand-over's words; a step that learns a fact while applying journals it, for instance
 * "begin 0 stop-unit display-manager.service" followed by "note 0 unit sddm.service").
 *
 *   gpu-handoff journal 1            magic and format version; always the first line (the
 *                                    spec's magic: each domain has its own, so that one
 *                                    domain never reads another's journal)
 *   phase NAME PID START USEC DEVICES COMMAND
 *                                    a process takes over the transition: "attach", then
 *                                    "release" (or "recover" after a crash); PID and START (its
 *                                    start time from /proc/PID/stat) identify the owner, USEC is
 *                                    CLOCK_REALTIME in microseconds; DEVICES and COMMAND are
 *                                    free text for humans
 *   begin I KIND ARG...              step I (0, 1, 2, ... in order) is about to change the system;
 *                                    KIND ([a-z0-9-]) and the ARGs say what it changes and how to
 *                                    undo it. Written and fdatasync'ed BEFORE the change.
 *   note I KEY VALUE                 step I, being applied, learned a fact its revert needs
 *                                    (the unit an alias stood for, whether a unit ran): KEY
 *                                    ([a-z0-9-]) and VALUE (free text). Written and
 *                                    fdatasync'ed BEFORE the change the fact is about; a later
 *                                    note of the same KEY replaces the value.
 *   done I USEC                      step I was applied, in USEC microseconds
 *   failed I ERRNO                   applying step I failed with this (positive) errno
 *   revert I                         step I is about to be undone (written before undoing)
 *   reverted I                       step I was undone
 *   revert-failed I ERRNO            undoing step I failed; it stays pending
 *   end OUTCOME                      the phase ended: applied, rolled back or undone, in the
 *                                    spec's words (the hand-over's: attached | rolled-back |
 *                                    released)
 *
 * Replay (journal_parse()) turns the records into a state and refuses sequences a correct
 * writer never produces; the writer functions below check each record against the same rules
 * before writing it, so whatever they write can be read back:
 *   - a "phase" is allowed first, after a phase that ended APPLIED, or after a phase that did
 *     not end (its owner died; the new owner takes over whatever was in progress). Nothing may
 *     follow ROLLED_BACK or UNDONE.
 *   - every other record needs a phase that has not ended. One operation is in progress at a
 *     time: "begin I" needs I == number of steps so far, no operation in progress and no revert
 *     yet in the transition; "note I" needs the begin of step I in progress; "done"/"failed"
 *     conclude the begin in progress, "reverted" and "revert-failed" the revert in progress.
 *     "revert I" needs a step I that is not yet reverted, and no operation in progress on
 *     another step (one on step I itself is given up: that is how its owner undoes a change
 *     whose "done" or "failed" it could not write).
 *   - "end APPLIED" needs every step done; "end ROLLED_BACK" and "end UNDONE" need every step
 *     reverted, and UNDONE is the outcome if and only if an earlier phase ended APPLIED.
 * Replay keeps each step's notes (the last value of each key) for its revert.
 * Step states: BEGUN (maybe applied), DONE, FAILED (may have partly applied), REVERTING (maybe
 * partly undone; also after revert-failed), REVERTED.
 *
 * Version: notes came after version 1 and did not change it. Every version 1 journal without
 * notes reads as before, and a reader that predates notes refuses a journal with one ("unknown
 * record"), which is what a new version would make it do, while the hand-over's journals that
 * note nothing (most) stay readable by it.
 *
 * Crash safety: each record is written with one write() and fdatasync'ed before the function
 * returns; the engine changes nothing before the begin/revert record for it is durable. A crash
 * during a write leaves a last line without '\n'. Replay ignores that line (and journal_open()
 * cuts it off before appending): whatever it announced was never acted upon, because the
 * engine acts only after the write returned. A torn "begin" therefore means nothing was applied,
 * a torn "done" leaves its step BEGUN (maybe applied), which is what recovery assumes anyway.
 * An empty file, or one with only part of the first line (a crash while journal_create() wrote
 * it), is a journal with no phases: nothing was done under it, and the next phase written to it
 * (journal_open() + journal_phase()) starts with the magic line.
 *
 * Library code: never prints, never exits. Functions return 0 or -errno and leave their
 * out-parameters untouched on failure, except *ret_error, which receives a message (malloc'd,
 * "DIR/journal:LINE: what was wrong" for parse errors) where there is more to say than the
 * error code; it is left alone otherwise, so callers initialize it to NULL. */

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "basic/proc.h"
#include "basic/sysroot.h"

/* The file's name in its spec's directory. */
#define JOURNAL_FILE "journal"
/* A real journal is a few KiB; anything larger is not one this tool wrote. */
#define JOURNAL_SIZE_MAX (1024u * 1024u)

enum journal_step_state {
        JOURNAL_STEP_BEGUN,     /* begin written; maybe applied */
        JOURNAL_STEP_DONE,
        JOURNAL_STEP_FAILED,    /* apply failed, maybe after changing something */
        JOURNAL_STEP_REVERTING, /* revert written (or the revert failed); maybe partly undone */
        JOURNAL_STEP_REVERTED,
        _JOURNAL_STEP_STATE_MAX,
};

enum journal_outcome {
        JOURNAL_OUTCOME_NONE,        /* the phase did not end: still running, or its owner crashed */
        JOURNAL_OUTCOME_APPLIED,     /* every step done (the hand-over: "attached") */
        JOURNAL_OUTCOME_ROLLED_BACK, /* a failure put back every step before it was applied */
        JOURNAL_OUTCOME_UNDONE,      /* every step put back after it was applied ("released") */
        _JOURNAL_OUTCOME_MAX,
};

/* Where a domain's journal lives and how it writes its outcomes. */
struct journal_spec {
        const char *dir;   /* below the sysroot: "run/gpu-handoff"; the journal is DIR/journal */
        const char *magic; /* the first line: "gpu-handoff journal 1" ("PREFIX VERSION") */
        const char *subject; /* what the outcomes are said of, for messages: "the GPU" */
        /* [APPLIED], [ROLLED_BACK], [UNDONE]: "attached", "rolled-back", "released"; distinct
         * [a-z0-9-] words */
        const char *outcomes[_JOURNAL_OUTCOME_MAX];
};

struct journal_phase {
        char *name;             /* "attach", "release", "recover" */
        struct process_id owner;
        uint64_t realtime_usec; /* when it began, CLOCK_REALTIME */
        char *devices;
        char *command;
        enum journal_outcome outcome;
};

struct journal_step {
        char *kind;             /* "unbind-driver" */
        char **args;            /* n_args strings, NULL-terminated */
        size_t n_args;
        enum journal_step_state state;
        size_t phase;           /* index of the phase that began it */
        uint64_t duration_usec; /* when DONE */
        int error;              /* -errno of the last failure (apply or revert), 0 if none */
        char **notes;           /* KEY, VALUE, KEY, VALUE...: 2 * n_notes strings */
        size_t n_notes;
        size_t note_bytes;      /* journal bytes its note records took (journal_note_bytes()) */
};

struct journal_state {
        const struct journal_spec *spec;
        bool have_magic;        /* the first line is complete; false only for an empty journal */
        struct journal_phase *phases;
        size_t n_phases;
        struct journal_step *steps;
        size_t n_steps;
        size_t ignored_bytes;   /* length of an incomplete last line that replay ignored */

        /* Replay bookkeeping, for the rules above. */
        bool in_progress;       /* a begin or revert of step in_progress_step has no conclusion */
        bool in_progress_revert;
        size_t in_progress_step;
        bool any_revert;
        size_t n_in_state[_JOURNAL_STEP_STATE_MAX]; /* how many steps are in each state */
        size_t n_phases_alloc, n_steps_alloc;
};

/* Parses a journal from memory (journal_load() reads the file and calls this). filename only
 * prefixes error messages. -EBADMSG with "FILENAME:LINE: ..." in *ret_error for anything it
 * does not understand: recovery must not act on a journal it cannot read. */
int journal_parse(const struct journal_spec *spec, const char *text, size_t len, const char *filename,
                  struct journal_state **ret, char **ret_error);
/* -ENOENT when there is no journal. Refuses a symlinked directory or journal (-ELOOP), a
 * journal that is not a regular file (-EBADFD), either owned by another user or the directory
 * writable by others (-EPERM), with a message. */
int journal_load(const struct journal_spec *spec, const struct sysroot *sr, struct journal_state **ret,
                 char **ret_error);
void journal_state_free(struct journal_state *st);

/* The last phase's owner, or NULL when no phase was recorded. */
const struct process_id *journal_state_owner(const struct journal_state *st);
/* How the last phase ended; NONE when it did not (or there is none). */
enum journal_outcome journal_state_outcome(const struct journal_state *st);
/* True when the last phase did not end and its owner is gone: someone must undo what it left.
 * A journal without phases, or whose last phase ended, needs none: APPLIED is the normal
 * state (a lent GPU), and a ROLLED_BACK/UNDONE journal only waits to be removed. */
bool journal_state_needs_recovery(const struct journal_state *st, bool owner_alive);
/* The steps to revert, in the order to revert them (highest index first): every step that is not
 * REVERTED. BEGUN and FAILED steps are included because they may have changed something; a
 * step's revert is idempotent, so undoing a change that never happened is harmless. *ret is
 * malloc'd, NULL when there is nothing to revert. */
int journal_state_pending_reverts(const struct journal_state *st, size_t **ret, size_t *ret_n);
/* The outcome that undoing everything ends with: UNDONE if a phase ever ended APPLIED,
 * ROLLED_BACK otherwise. */
enum journal_outcome journal_state_undo_outcome(const struct journal_state *st);

const char *journal_step_state_to_string(enum journal_step_state s);
/* The spec's word for o; "none" for NONE. */
const char *journal_outcome_to_string(const struct journal_spec *spec, enum journal_outcome o);
enum journal_outcome journal_outcome_from_string(const struct journal_spec *spec,
                                                 const char *s); /* _JOURNAL_OUTCOME_MAX if unknown */
/* The note of step i under key, or NULL. */
const char *journal_state_note(const struct journal_state *st, size_t i, const char *key);

/* The escaping described above; both return malloc'd strings. journal_unescape() returns
 * -EINVAL for a bad escape, a "\x00" or a byte that should have been escaped. */
char *journal_escape(const char *s);
int journal_unescape(const char *s, size_t len, char **ret);

/* An open journal that records are appended to. */
struct journal;

/* Creates the journal (and its directory, change_dir_open()) with a first phase owned by owner;
 * fsyncs it and the directory. -EEXIST when a journal exists already: the caller decides whether
 * to recover it first. Same refusals as journal_load(). */
int journal_create(const struct journal_spec *spec, const struct sysroot *sr, const char *phase, const struct process_id *owner,
                   const char *devices, const char *command, struct journal **ret, char **ret_error);
/* Opens the existing journal to append to it (release, recover): replays it, and cuts off an
 * incomplete last line first so that the next record starts on a line of its own. */
int journal_open(const struct journal_spec *spec, const struct sysroot *sr, struct journal **ret,
                 char **ret_error);
/* The state replayed so far, including every record this handle wrote. */
const struct journal_state *journal_get_state(const struct journal *j);
const struct journal_spec *journal_get_spec(const struct journal *j);

/* Sizing, so that a transition is refused before its first change when the journal could not
 * record it to the end. How many rounds of "revert" and its conclusion a step is given room
 * for: the rollback or release, and a recover after it. */
#define JOURNAL_REVERT_ROUNDS 2
/* The most bytes a phase record with these fields takes. */
size_t journal_phase_bytes(const char *phase, const char *devices, const char *command);
/* The most bytes the records of step i take: its begin and done (or failed), note_room bytes of
 * notes, and JOURNAL_REVERT_ROUNDS of revert and reverted (or revert-failed). How much a step may
 * note is its kind's note_room (step.h), counted in journal_note_bytes() of every note it wrote,
 * a replaced value included (journal_step's note_bytes); step_note() refuses a note beyond it
 * (-E2BIG), so that the reserved room stays enough. The hand-over's unit steps have 1 KiB. */
size_t journal_step_bytes(size_t i, const char *kind, const char *const *args, size_t n_args, size_t note_room);
/* The bytes the record "note I KEY VALUE" takes, its newline included. */
size_t journal_note_bytes(size_t i, const char *key, const char *value);
/* Reserves the blocks for the journal to grow to total bytes (fallocate, the file's size
 * unchanged), so that a full file system later cannot keep the revert records out. -EFBIG when
 * total is beyond JOURNAL_SIZE_MAX; -ENOSPC, -EDQUOT when there is no room. A file system without
 * fallocate reserves nothing and answers 0. */
int journal_reserve(struct journal *j, size_t total);

/* Test seam: fn runs before each record is written, with the number of the write (1, 2, ... since
 * the hook was set, over every journal of the process); a negative errno fails that write as a
 * full disk would, before anything reached the file. NULL removes it. */
typedef int (*journal_write_hook_fn)(unsigned n, void *userdata);
void journal_set_write_hook(journal_write_hook_fn fn, void *userdata);

/* Each appends one record, durably (write + fdatasync) before returning. -EINVAL for a bad
 * argument (a kind or phase name outside [a-z0-9-], errno out of range), -EPROTO for a record
 * the rules above do not allow now, -EFBIG when the journal would outgrow JOURNAL_SIZE_MAX;
 * nothing is written then. When writing fails the journal is cut back to its previous length,
 * so it stays readable; if even that fails, every later append returns the first error. */
int journal_phase(struct journal *j, const char *phase, const struct process_id *owner,
                  const char *command);
int journal_step_begin(struct journal *j, size_t i, const char *kind, const char *const *args,
                       size_t n_args);
int journal_note(struct journal *j, size_t i, const char *key, const char *value);
int journal_step_done(struct journal *j, size_t i, uint64_t duration_usec);
int journal_step_failed(struct journal *j, size_t i, int error); /* error: -errno */
int journal_revert_begin(struct journal *j, size_t i);
int journal_reverted(struct journal *j, size_t i);
int journal_revert_failed(struct journal *j, size_t i, int error);
int journal_end(struct journal *j, enum journal_outcome outcome);
/* Closes the handle (the file stays); returns NULL. */
struct journal *journal_close(struct journal *j);

/* Unlinks the journal (after ROLLED_BACK or UNDONE) and fsyncs the directory. -ENOENT when
 * there is none. */
int journal_remove(const struct journal_spec *spec, const struct sysroot *sr);

static inline void journal_state_freep(struct journal_state **p)
{
        journal_state_free(*p);
}
static inline void journal_closep(struct journal **p)
{
        journal_close(*p);
}
#define _cleanup_journal_state_ __attribute__((cleanup(journal_state_freep)))
#define _cleanup_journal_ __attribute__((cleanup(journal_closep)))
