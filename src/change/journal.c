/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The journal of a transition: format, replay rules and crash safety are described in journal.h.
 * One state machine (check_record() + commit_record()) serves both the parser and the writer,
 * so the writer cannot produce a journal that the parser refuses. */

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/fileio.h"
#include "basic/macro.h"
#include "basic/sysroot.h"
#include "basic/strv.h"
#include "change/dir.h"
#include "change/journal.h"

/* Longest excerpt of journal text quoted in an error message. */
#define QUOTE_MAX 40
/* Longest step kind or phase name. */
#define NAME_MAX_LEN 64
#define ERRNO_MAX 4095

enum record_type {
        REC_PHASE,
        REC_BEGIN,
        REC_NOTE,
        REC_DONE,
        REC_FAILED,
        REC_REVERT,
        REC_REVERTED,
        REC_REVERT_FAILED,
        REC_END,
        _REC_MAX,
};

static const char *const record_names[_REC_MAX] = {
        [REC_PHASE] = "phase",
        [REC_BEGIN] = "begin",
        [REC_NOTE] = "note",
        [REC_DONE] = "done",
        [REC_FAILED] = "failed",
        [REC_REVERT] = "revert",
        [REC_REVERTED] = "reverted",
        [REC_REVERT_FAILED] = "revert-failed",
        [REC_END] = "end",
};

/* The fields after the record name, for "expected ..." messages. */
static const char *const record_syntax[_REC_MAX] = {
        [REC_PHASE] = "phase NAME PID START USEC DEVICES COMMAND",
        [REC_BEGIN] = "begin INDEX KIND ARG...",
        [REC_NOTE] = "note INDEX KEY VALUE",
        [REC_DONE] = "done INDEX USEC",
        [REC_FAILED] = "failed INDEX ERRNO",
        [REC_REVERT] = "revert INDEX",
        [REC_REVERTED] = "reverted INDEX",
        [REC_REVERT_FAILED] = "revert-failed INDEX ERRNO",
        [REC_END] = "end OUTCOME",
};

static const char *const step_state_names[_JOURNAL_STEP_STATE_MAX] = {
        [JOURNAL_STEP_BEGUN] = "begun",
        [JOURNAL_STEP_DONE] = "done",
        [JOURNAL_STEP_FAILED] = "failed",
        [JOURNAL_STEP_REVERTING] = "reverting",
        [JOURNAL_STEP_REVERTED] = "reverted",
};

const char *journal_step_state_to_string(enum journal_step_state s)
{
        return (unsigned)s < _JOURNAL_STEP_STATE_MAX ? step_state_names[s] : NULL;
}

const char *journal_outcome_to_string(const struct journal_spec *spec, enum journal_outcome o)
{
        if (o == JOURNAL_OUTCOME_NONE)
                return "none";
        return (unsigned)o < _JOURNAL_OUTCOME_MAX ? spec->outcomes[o] : NULL;
}

enum journal_outcome journal_outcome_from_string(const struct journal_spec *spec, const char *s)
{
        /* "none" is not an outcome a record can carry. */
        for (unsigned o = JOURNAL_OUTCOME_APPLIED; s && o < _JOURNAL_OUTCOME_MAX; o++)
                if (strcmp(s, spec->outcomes[o]) == 0)
                        return (enum journal_outcome)o;
        return _JOURNAL_OUTCOME_MAX;
}

/* "DIR/journal", for messages. */
static const char *journal_path(const struct journal_spec *spec, char buf[static PATH_MAX])
{
        snprintf(buf, PATH_MAX, "%s/" JOURNAL_FILE, spec->dir);
        return buf;
}

/* Escaping */

static bool is_raw(unsigned char c)
{
        return c > ' ' && c < 0x7f && c != '\\';
}

char *journal_escape(const char *s)
{
        size_t n = 0;
        char *e, *q;

        for (const unsigned char *p = (const unsigned char *)s; *p; p++)
                n += is_raw(*p) ? 1 : *p == '\\' ? 2 : 4;
        e = malloc(n + 1);
        if (!e)
                return NULL;
        q = e;
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                if (is_raw(*p))
                        *q++ = (char)*p;
                else if (*p == '\\') {
                        *q++ = '\\';
                        *q++ = '\\';
                } else
                        q += sprintf(q, "\\x%02x", *p);
        }
        *q = '\0';
        return e;
}

static size_t escaped_len(const char *s)
{
        size_t n = 0;

        for (const unsigned char *p = (const unsigned char *)s; p && *p; p++)
                n += is_raw(*p) ? 1 : *p == '\\' ? 2 : 4;
        return n;
}

/* Digits of the largest numbers a record holds: a usec or a start time (uint64), a pid. */
#define NUMBER_MAX 20
#define ERRNO_DIGITS 4 /* ERRNO_MAX */

static size_t digits(size_t n)
{
        size_t d = 1;

        while (n >= 10) {
                n /= 10;
                d++;
        }
        return d;
}

size_t journal_phase_bytes(const char *phase, const char *devices, const char *command)
{
        /* "phase NAME PID START USEC DEVICES COMMAND\n" */
        return strlen("phase") + 1 + strlen(phase) + 3 * (1 + NUMBER_MAX) + 1 + escaped_len(devices) + 1 +
               escaped_len(command) + 1;
}

size_t journal_note_bytes(size_t i, const char *key, const char *value)
{
        /* "note I KEY VALUE\n" */
        return strlen("note") + 1 + digits(i) + 1 + strlen(key) + 1 + escaped_len(value) + 1;
}

size_t journal_step_bytes(size_t i, const char *kind, const char *const *args, size_t n_args, size_t note_room)
{
        size_t d = digits(i);
        size_t begin = strlen("begin") + 1 + d + 1 + strlen(kind) + 1;
        /* "done I USEC" is the longer of it and "failed I ERRNO"; "revert-failed I ERRNO" the
         * longer conclusion of a revert */
        size_t concluded = strlen("done") + 1 + d + 1 + NUMBER_MAX + 1;
        size_t revert = strlen("revert") + 1 + d + 1 + strlen("revert-failed") + 1 + d + 1 + ERRNO_DIGITS + 1;

        for (size_t a = 0; a < n_args; a++)
                begin += 1 + escaped_len(args[a]);
        return begin + note_room + concluded + JOURNAL_REVERT_ROUNDS * revert;
}

static int unhex(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

int journal_unescape(const char *s, size_t len, char **ret)
{
        _cleanup_free_ char *u = NULL;
        char *q;

        if (!s && len > 0)
                return -EINVAL;
        u = malloc(len + 1);
        if (!u)
                return -ENOMEM;
        q = u;
        for (size_t i = 0; i < len; i++) {
                unsigned char c = (unsigned char)s[i];
                int hi, lo;

                if (is_raw(c)) {
                        *q++ = (char)c;
                        continue;
                }
                if (c != '\\' || i + 1 >= len)
                        return -EINVAL;
                if (s[i + 1] == '\\') {
                        *q++ = '\\';
                        i++;
                        continue;
                }
                if (s[i + 1] != 'x' || i + 3 >= len)
                        return -EINVAL;
                hi = unhex(s[i + 2]);
                lo = unhex(s[i + 3]);
                /* A NUL would silently cut the string short. */
                if (hi < 0 || lo < 0 || (hi | lo) == 0)
                        return -EINVAL;
                *q++ = (char)(hi << 4 | lo);
                i += 3;
        }
        *q = '\0';
        *ret = TAKE_PTR(u);
        return 0;
}

/* Records */

struct record {
        enum record_type type;
        size_t index;
        char *name; /* phase name, step kind or note key */
        char **args;
        size_t n_args;
        struct process_id owner;
        uint64_t usec; /* phase: realtime; done: duration */
        int error;     /* -errno */
        char *devices;
        char *command;
        char *value; /* note */
        enum journal_outcome outcome;
};

static void record_done(struct record *rec)
{
        free(rec->name);
        free(rec->value);
        strv_free(rec->args, rec->n_args);
        free(rec->devices);
        free(rec->command);
}

static bool is_name(const char *s)
{
        size_t n = strspn(s, "abcdefghijklmnopqrstuvwxyz0123456789-");

        return n > 0 && n <= NAME_MAX_LEN && s[n] == '\0' && s[0] != '-';
}

/* The replay rules of journal.h. Returns 0, or -EPROTO with the reason in why. Changes nothing. */
_printf_(3, 4) static int refuse(char *why, size_t size, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(why, size, fmt, ap);
        va_end(ap);
        return -EPROTO;
}

static int check_record(const struct journal_state *st, const struct record *rec, char *why, size_t size)
{
        const char *const *outcome_names = st->spec->outcomes;
        const struct journal_phase *last = st->n_phases > 0 ? &st->phases[st->n_phases - 1] : NULL;
        const char *what = record_names[rec->type];
        const struct journal_step *step = rec->index < st->n_steps ? &st->steps[rec->index] : NULL;

        if (rec->type == REC_PHASE) {
                if (last && (last->outcome == JOURNAL_OUTCOME_ROLLED_BACK || last->outcome == JOURNAL_OUTCOME_UNDONE))
                        return refuse(why, size, "phase after the transition ended (%s)", outcome_names[last->outcome]);
                return 0;
        }
        if (!last)
                return refuse(why, size, "'%s' before the first phase", what);
        if (last->outcome != JOURNAL_OUTCOME_NONE)
                return refuse(why, size, "'%s' after the phase ended (%s)", what, outcome_names[last->outcome]);

        switch (rec->type) {
        case REC_BEGIN:
                if (st->in_progress)
                        return refuse(why, size, "begin of step %zu while step %zu is in progress", rec->index,
                                      st->in_progress_step);
                if (st->any_revert)
                        return refuse(why, size, "begin of step %zu after steps were reverted", rec->index);
                if (rec->index != st->n_steps)
                        return refuse(why, size, "step %zu out of order; expected step %zu", rec->index, st->n_steps);
                return 0;

        case REC_NOTE:
        case REC_DONE:
        case REC_FAILED:
        case REC_REVERTED:
        case REC_REVERT_FAILED: {
                bool revert = rec->type == REC_REVERTED || rec->type == REC_REVERT_FAILED;

                if (!step)
                        return refuse(why, size, "'%s' for step %zu, which was never begun", what, rec->index);
                if (!st->in_progress || st->in_progress_step != rec->index || st->in_progress_revert != revert)
                        return refuse(why, size, "'%s' for step %zu without its '%s' (the step is %s)", what,
                                      rec->index, revert ? "revert" : "begin", step_state_names[step->state]);
                return 0;
        }

        case REC_REVERT:
                /* The step in progress itself may be reverted: its owner could not record how the
                 * change went (the journal write failed) and undoes it instead. */
                if (st->in_progress && st->in_progress_step != rec->index)
                        return refuse(why, size, "revert of step %zu while step %zu is in progress", rec->index,
                                      st->in_progress_step);
                if (!step)
                        return refuse(why, size, "revert of step %zu, which was never begun", rec->index);
                if (step->state == JOURNAL_STEP_REVERTED)
                        return refuse(why, size, "revert of step %zu, which is reverted already", rec->index);
                return 0;

        case REC_END: {
                enum journal_step_state need;
                bool was_applied = false;

                if (st->in_progress)
                        return refuse(why, size, "end while step %zu is in progress", st->in_progress_step);
                for (size_t p = 0; p + 1 < st->n_phases; p++)
                        was_applied = was_applied || st->phases[p].outcome == JOURNAL_OUTCOME_APPLIED;
                if (rec->outcome == JOURNAL_OUTCOME_UNDONE && !was_applied)
                        return refuse(why, size, "'%s' but %s was never %s; expected '%s'",
                                      outcome_names[JOURNAL_OUTCOME_UNDONE], st->spec->subject,
                                      outcome_names[JOURNAL_OUTCOME_APPLIED], outcome_names[JOURNAL_OUTCOME_ROLLED_BACK]);
                if (rec->outcome == JOURNAL_OUTCOME_ROLLED_BACK && was_applied)
                        return refuse(why, size, "'%s' after %s was %s; expected '%s'",
                                      outcome_names[JOURNAL_OUTCOME_ROLLED_BACK], st->spec->subject,
                                      outcome_names[JOURNAL_OUTCOME_APPLIED], outcome_names[JOURNAL_OUTCOME_UNDONE]);
                need = rec->outcome == JOURNAL_OUTCOME_APPLIED ? JOURNAL_STEP_DONE : JOURNAL_STEP_REVERTED;
                if (st->n_in_state[need] == st->n_steps)
                        return 0;
                for (size_t i = 0; i < st->n_steps; i++)
                        if (st->steps[i].state != need)
                                return refuse(why, size, "'%s' but step %zu is %s, not %s", outcome_names[rec->outcome],
                                              i, step_state_names[st->steps[i].state], step_state_names[need]);
                return 0; /* not reached: the counts said otherwise */
        }

        default:
                return refuse(why, size, "unknown record");
        }
}

static int grow(void **p, size_t *n_alloc, size_t n_needed, size_t size)
{
        size_t n;
        void *q;

        if (n_needed <= *n_alloc)
                return 0;
        n = *n_alloc ? *n_alloc * 2 : 8;
        if (n < n_needed)
                n = n_needed;
        q = realloc(*p, n * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *n_alloc = n;
        return 0;
}

/* Where step's value of key is in its notes (2 * n_notes strings), or -1. */
static long find_note(const struct journal_step *step, const char *key)
{
        for (size_t k = 0; k < step->n_notes; k++)
                if (strcmp(step->notes[2 * k], key) == 0)
                        return (long)k;
        return -1;
}

/* Makes room for what commit_record() adds, so that it cannot fail. */
static int reserve_record(struct journal_state *st, const struct record *rec)
{
        if (rec->type == REC_NOTE) {
                struct journal_step *step = &st->steps[rec->index];
                char **v;

                if (find_note(step, rec->name) >= 0)
                        return 0;
                v = realloc(step->notes, (2 * step->n_notes + 2) * sizeof(char *));
                if (!v)
                        return -ENOMEM;
                step->notes = v;
                return 0;
        }
        if (rec->type == REC_PHASE)
                return grow((void **)&st->phases, &st->n_phases_alloc, st->n_phases + 1, sizeof(*st->phases));
        if (rec->type == REC_BEGIN)
                return grow((void **)&st->steps, &st->n_steps_alloc, st->n_steps + 1, sizeof(*st->steps));
        return 0;
}

static void set_step_state(struct journal_state *st, size_t i, enum journal_step_state s)
{
        st->n_in_state[st->steps[i].state]--;
        st->n_in_state[s]++;
        st->steps[i].state = s;
}

/* Applies a checked record; takes over its strings. */
static void commit_record(struct journal_state *st, struct record *rec)
{
        struct journal_step *step = rec->index < st->n_steps ? &st->steps[rec->index] : NULL;

        switch (rec->type) {
        case REC_PHASE:
                st->phases[st->n_phases++] = (struct journal_phase){
                        .name = TAKE_PTR(rec->name),
                        .owner = rec->owner,
                        .realtime_usec = rec->usec,
                        .devices = TAKE_PTR(rec->devices),
                        .command = TAKE_PTR(rec->command),
                };
                /* The previous owner is gone: what it had in progress stays BEGUN or REVERTING. */
                st->in_progress = false;
                break;
        case REC_BEGIN:
                st->steps[st->n_steps++] = (struct journal_step){
                        .kind = TAKE_PTR(rec->name),
                        .args = TAKE_PTR(rec->args),
                        .n_args = rec->n_args,
                        .state = JOURNAL_STEP_BEGUN,
                        .phase = st->n_phases - 1,
                };
                rec->n_args = 0;
                st->n_in_state[JOURNAL_STEP_BEGUN]++;
                st->in_progress = true;
                st->in_progress_revert = false;
                st->in_progress_step = rec->index;
                break;
        case REC_NOTE: {
                long k = find_note(step, rec->name);

                step->note_bytes += journal_note_bytes(rec->index, rec->name, rec->value);
                if (k >= 0) {
                        free(step->notes[2 * k + 1]);
                        step->notes[2 * k + 1] = TAKE_PTR(rec->value);
                        break;
                }
                step->notes[2 * step->n_notes] = TAKE_PTR(rec->name);
                step->notes[2 * step->n_notes + 1] = TAKE_PTR(rec->value);
                step->n_notes++;
                break;
        }
        case REC_DONE:
                set_step_state(st, rec->index, JOURNAL_STEP_DONE);
                step->duration_usec = rec->usec;
                st->in_progress = false;
                break;
        case REC_FAILED:
                set_step_state(st, rec->index, JOURNAL_STEP_FAILED);
                step->error = rec->error;
                st->in_progress = false;
                break;
        case REC_REVERT:
                set_step_state(st, rec->index, JOURNAL_STEP_REVERTING);
                st->any_revert = true;
                st->in_progress = true;
                st->in_progress_revert = true;
                st->in_progress_step = rec->index;
                break;
        case REC_REVERTED:
                set_step_state(st, rec->index, JOURNAL_STEP_REVERTED);
                st->in_progress = false;
                break;
        case REC_REVERT_FAILED:
                step->error = rec->error; /* stays REVERTING: maybe partly undone */
                st->in_progress = false;
                break;
        case REC_END:
                st->phases[st->n_phases - 1].outcome = rec->outcome;
                break;
        default:
                break;
        }
}

void journal_state_free(struct journal_state *st)
{
        if (!st)
                return;
        for (size_t i = 0; i < st->n_phases; i++) {
                free(st->phases[i].name);
                free(st->phases[i].devices);
                free(st->phases[i].command);
        }
        for (size_t i = 0; i < st->n_steps; i++) {
                free(st->steps[i].kind);
                strv_free(st->steps[i].args, st->steps[i].n_args);
                strv_free(st->steps[i].notes, 2 * st->steps[i].n_notes);
        }
        free(st->phases);
        free(st->steps);
        free(st);
}

/* Parser */

struct span {
        const char *p;
        size_t n;
};

struct parser {
        const struct journal_spec *spec;
        const char *filename;
        size_t line;
        char *error;
        struct journal_state *st;
};

/* error_setf_at() at the line being parsed; -ENOMEM when the message cannot be made. Parsing
 * stops at the first error, so there is only ever one. */
_printf_(2, 3) static int parse_error(struct parser *ps, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = verror_setf_at(&ps->error, -EBADMSG, ps->filename, ps->line, fmt, ap);
        va_end(ap);
        return ps->error ? r : -ENOMEM;
}

/* Journal text is printable ASCII once checked, so quoting only has to keep it short. */
static const char *quote(struct span s, char buf[static QUOTE_MAX + 4])
{
        size_t n = s.n < QUOTE_MAX ? s.n : QUOTE_MAX;

        memcpy(buf, s.p, n);
        strcpy(buf + n, n < s.n ? "..." : "");
        return buf;
}

static int check_bytes(struct parser *ps, struct span s)
{
        for (size_t i = 0; i < s.n; i++) {
                unsigned char c = (unsigned char)s.p[i];
                if (c == 0)
                        return parse_error(ps, "NUL byte at column %zu", i + 1);
                if (c < 0x20 || c >= 0x7f)
                        return parse_error(ps, "byte 0x%02x at column %zu; a journal is printable ASCII", c, i + 1);
        }
        return 0;
}

static bool span_eq(struct span s, const char *str)
{
        return s.n == strlen(str) && memcmp(s.p, str, s.n) == 0;
}

/* Strict decimal: digits only, no sign, no leading zero, no overflow. */
static bool parse_u64(struct span s, uint64_t max, uint64_t *ret)
{
        uint64_t v = 0;

        if (s.n == 0 || (s.p[0] == '0' && s.n > 1))
                return false;
        for (size_t i = 0; i < s.n; i++) {
                unsigned d = (unsigned)(s.p[i] - '0');
                if (d > 9 || v > (max - d) / 10)
                        return false;
                v = v * 10 + d;
        }
        *ret = v;
        return true;
}

static int parse_number(struct parser *ps, struct span s, uint64_t min, uint64_t max, const char *what, uint64_t *ret)
{
        char q[QUOTE_MAX + 4];
        uint64_t v;

        if (!parse_u64(s, max, &v) || v < min)
                return parse_error(ps, "bad %s '%s'", what, quote(s, q));
        *ret = v;
        return 0;
}

static int parse_text(struct parser *ps, struct span s, const char *what, char **ret)
{
        char q[QUOTE_MAX + 4];
        int r = journal_unescape(s.p, s.n, ret);

        if (r == -EINVAL)
                return parse_error(ps, "bad escape in %s '%s'", what, quote(s, q));
        return r;
}

static int parse_name(struct parser *ps, struct span s, const char *what, char **ret)
{
        char q[QUOTE_MAX + 4];
        char *n;

        n = strndup(s.p, s.n);
        if (!n)
                return -ENOMEM;
        if (!is_name(n)) {
                free(n);
                return parse_error(ps, "bad %s '%s'; expected [a-z0-9-]", what, quote(s, q));
        }
        *ret = n;
        return 0;
}

/* The magic is "PREFIX VERSION": a PREFIX with another version is this kind of journal in a
 * format this tool does not read; anything else is not this kind of journal. */
static int parse_magic(struct parser *ps, struct span line)
{
        const char *magic = ps->spec->magic;
        size_t prefix = (size_t)(strrchr(magic, ' ') + 1 - magic);
        char q[QUOTE_MAX + 4];
        struct span version = { line.p + prefix, 0 };

        if (span_eq(line, magic))
                return 0;
        if (line.n > prefix && memcmp(line.p, magic, prefix) == 0) {
                version.n = line.n - prefix;
                if (strspn(version.p, "0123456789") >= version.n)
                        return parse_error(ps, "journal format version %s is not supported (this tool reads version %s)",
                                           quote(version, q), magic + prefix);
        }
        return parse_error(ps, "not a %.*s (the first line is '%s')", (int)(prefix - 1), magic, quote(line, q));
}

/* Splits at every single space: "a  b" is "a", "", "b". */
static int split(struct span line, struct span **ret, size_t *ret_n)
{
        size_t n = 1, k = 0;
        struct span *f;
        const char *start = line.p;

        for (size_t i = 0; i < line.n; i++)
                n += line.p[i] == ' ';
        f = calloc(n, sizeof(*f));
        if (!f)
                return -ENOMEM;
        for (size_t i = 0; i <= line.n; i++)
                if (i == line.n || line.p[i] == ' ') {
                        f[k++] = (struct span){ start, (size_t)(line.p + i - start) };
                        start = line.p + i + 1;
                }
        *ret = f;
        *ret_n = n;
        return 0;
}

static int parse_record(struct parser *ps, const struct span *f, size_t n, struct record *rec)
{
        static const size_t n_fields[_REC_MAX] = {
                [REC_PHASE] = 7, [REC_BEGIN] = 3,  [REC_NOTE] = 4, [REC_DONE] = 3, [REC_FAILED] = 3,
                [REC_REVERT] = 2, [REC_REVERTED] = 2, [REC_REVERT_FAILED] = 3, [REC_END] = 2,
        };
        char q[QUOTE_MAX + 4];
        uint64_t v;
        unsigned t;
        int r;

        for (t = 0; t < _REC_MAX; t++)
                if (span_eq(f[0], record_names[t]))
                        break;
        if (t == _REC_MAX)
                return parse_error(ps, "unknown record '%s'", quote(f[0], q));
        rec->type = (enum record_type)t;
        if (t == REC_BEGIN ? n < n_fields[t] : n != n_fields[t])
                return parse_error(ps, "expected '%s'", record_syntax[t]);

        if (t == REC_PHASE) {
                r = parse_name(ps, f[1], "phase name", &rec->name);
                if (r < 0)
                        return r;
                r = parse_number(ps, f[2], 1, INT_MAX, "pid", &v);
                if (r < 0)
                        return r;
                rec->owner.pid = (pid_t)v;
                r = parse_number(ps, f[3], 0, UINT64_MAX, "start time", &v);
                if (r < 0)
                        return r;
                rec->owner.start_time = v;
                r = parse_number(ps, f[4], 0, UINT64_MAX, "timestamp", &rec->usec);
                if (r < 0)
                        return r;
                r = parse_text(ps, f[5], "devices", &rec->devices);
                if (r < 0)
                        return r;
                return parse_text(ps, f[6], "command", &rec->command);
        }
        if (t == REC_END) {
                _cleanup_free_ char *o = strndup(f[1].p, f[1].n);
                if (!o)
                        return -ENOMEM;
                rec->outcome = journal_outcome_from_string(ps->spec, o);
                if (rec->outcome == _JOURNAL_OUTCOME_MAX)
                        return parse_error(ps, "unknown outcome '%s'; expected %s, %s or %s", quote(f[1], q),
                                           ps->spec->outcomes[JOURNAL_OUTCOME_APPLIED],
                                           ps->spec->outcomes[JOURNAL_OUTCOME_ROLLED_BACK],
                                           ps->spec->outcomes[JOURNAL_OUTCOME_UNDONE]);
                return 0;
        }

        r = parse_number(ps, f[1], 0, SIZE_MAX, "step index", &v);
        if (r < 0)
                return r;
        rec->index = (size_t)v;

        switch (t) {
        case REC_BEGIN:
                r = parse_name(ps, f[2], "step kind", &rec->name);
                if (r < 0)
                        return r;
                rec->args = calloc(n - 2, sizeof(char *)); /* n - 3 arguments and the NULL */
                if (!rec->args)
                        return -ENOMEM;
                for (size_t i = 3; i < n; i++) {
                        char what[64];
                        snprintf(what, sizeof(what), "argument %zu", i - 2);
                        r = parse_text(ps, f[i], what, &rec->args[rec->n_args]);
                        if (r < 0)
                                return r;
                        rec->n_args++;
                }
                return 0;
        case REC_NOTE:
                r = parse_name(ps, f[2], "note key", &rec->name);
                if (r < 0)
                        return r;
                return parse_text(ps, f[3], "note value", &rec->value);
        case REC_DONE:
                return parse_number(ps, f[2], 0, UINT64_MAX, "duration", &rec->usec);
        case REC_FAILED:
        case REC_REVERT_FAILED:
                r = parse_number(ps, f[2], 1, ERRNO_MAX, "errno", &v);
                if (r < 0)
                        return r;
                rec->error = -(int)v;
                return 0;
        default:
                return 0;
        }
}

static int parse_line(struct parser *ps, struct span line)
{
        _cleanup_free_ struct span *f = NULL;
        struct record rec = {};
        char why[256];
        size_t n;
        int r;

        if (line.n == 0)
                return parse_error(ps, "empty line");
        r = split(line, &f, &n);
        if (r < 0)
                return r;
        r = parse_record(ps, f, n, &rec);
        if (r >= 0) {
                r = check_record(ps->st, &rec, why, sizeof(why));
                if (r == -EPROTO)
                        r = parse_error(ps, "%s", why);
        }
        if (r >= 0)
                r = reserve_record(ps->st, &rec);
        if (r >= 0)
                commit_record(ps->st, &rec);
        record_done(&rec);
        return r;
}

/* An incomplete last line is ignored (journal.h says why), but it must look like the start of
 * what the writer writes: garbage is corruption, not a crash. */
static int check_fragment(struct parser *ps, struct span frag)
{
        char q[QUOTE_MAX + 4];
        struct span word = { frag.p, strcspn(frag.p, " ") };

        if (!ps->st->have_magic) {
                if (frag.n <= strlen(ps->spec->magic) && memcmp(frag.p, ps->spec->magic, frag.n) == 0)
                        return 0;
                return parse_magic(ps, frag);
        }
        for (unsigned t = 0; t < _REC_MAX; t++) {
                size_t k = strlen(record_names[t]);
                /* a whole word must be a record name, a cut one the start of one */
                if (word.n == frag.n ? word.n <= k && memcmp(word.p, record_names[t], word.n) == 0
                                     : span_eq(word, record_names[t]))
                        return 0;
        }
        return parse_error(ps, "incomplete last line '%s' is not the start of a record", quote(frag, q));
}

int journal_parse(const struct journal_spec *spec, const char *text, size_t len, const char *filename,
                  struct journal_state **ret, char **ret_error)
{
        char path[PATH_MAX];
        struct parser ps = {
                .spec = spec,
                .line = 1,
        };
        const char *p = text, *end = text ? text + len : text;
        int r = 0;

        if (!spec || !ret || (!text && len > 0))
                return -EINVAL;
        ps.filename = filename ? filename : journal_path(spec, path);
        if (len > JOURNAL_SIZE_MAX)
                return error_setf(ret_error, -EBADMSG, "%s: larger than 1 MiB (%zu bytes); not a journal this tool wrote",
                                  ps.filename, len);
        ps.st = calloc(1, sizeof(*ps.st));
        if (!ps.st)
                return -ENOMEM;
        ps.st->spec = spec;

        for (; p < end && r >= 0; ps.line++) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                struct span line = { p, (size_t)((nl ? nl : end) - p) };

                p = nl ? nl + 1 : end;
                r = check_bytes(&ps, line);
                if (r < 0)
                        break;
                if (!nl) {
                        /* strcspn() in check_fragment() needs a terminator: copy the fragment */
                        _cleanup_free_ char *frag = strndup(line.p, line.n);
                        if (!frag) {
                                r = -ENOMEM;
                                break;
                        }
                        r = check_fragment(&ps, (struct span){ frag, line.n });
                        ps.st->ignored_bytes = line.n;
                        break;
                }
                if (!ps.st->have_magic) {
                        r = parse_magic(&ps, line);
                        ps.st->have_magic = r >= 0;
                        continue;
                }
                r = parse_line(&ps, line);
        }
        if (r < 0) {
                if (ret_error && ps.error) {
                        *ret_error = ps.error;
                        ps.error = NULL;
                }
                free(ps.error);
                journal_state_free(ps.st);
                return r;
        }
        *ret = ps.st;
        return 0;
}

/* State queries */

const struct process_id *journal_state_owner(const struct journal_state *st)
{
        return st && st->n_phases > 0 ? &st->phases[st->n_phases - 1].owner : NULL;
}

enum journal_outcome journal_state_outcome(const struct journal_state *st)
{
        return st && st->n_phases > 0 ? st->phases[st->n_phases - 1].outcome : JOURNAL_OUTCOME_NONE;
}

bool journal_state_needs_recovery(const struct journal_state *st, bool owner_alive)
{
        if (!st || st->n_phases == 0)
                return false;
        return journal_state_outcome(st) == JOURNAL_OUTCOME_NONE && !owner_alive;
}

int journal_state_pending_reverts(const struct journal_state *st, size_t **ret, size_t *ret_n)
{
        size_t n, k = 0;
        size_t *v = NULL;

        if (!st || !ret || !ret_n)
                return -EINVAL;
        n = st->n_steps - st->n_in_state[JOURNAL_STEP_REVERTED];
        if (n > 0) {
                v = malloc(n * sizeof(*v));
                if (!v)
                        return -ENOMEM;
                for (size_t i = st->n_steps; i-- > 0;)
                        if (st->steps[i].state != JOURNAL_STEP_REVERTED)
                                v[k++] = i;
        }
        *ret = v;
        *ret_n = n;
        return 0;
}

const char *journal_state_note(const struct journal_state *st, size_t i, const char *key)
{
        long k;

        if (!st || i >= st->n_steps || !key)
                return NULL;
        k = find_note(&st->steps[i], key);
        return k >= 0 ? st->steps[i].notes[2 * k + 1] : NULL;
}

enum journal_outcome journal_state_undo_outcome(const struct journal_state *st)
{
        for (size_t p = 0; st && p < st->n_phases; p++)
                if (st->phases[p].outcome == JOURNAL_OUTCOME_APPLIED)
                        return JOURNAL_OUTCOME_UNDONE;
        return JOURNAL_OUTCOME_ROLLED_BACK;
}

/* Files */

/* The journal itself, below dfd. Another user who can write it could forge the record of what to
 * undo as root. */
static int open_file(const struct journal_spec *spec, int dfd, int flags, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        char path[PATH_MAX];
        struct stat st;
        int r;

        journal_path(spec, path);
        /* O_NONBLOCK: a FIFO planted here must not hang us before fstat() tells what it is. */
        fd = openat(dfd, JOURNAL_FILE, flags | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC, 0600);
        if (fd < 0) {
                r = negative_errno();
                if (r == -EEXIST && fstatat(dfd, JOURNAL_FILE, &st, AT_SYMLINK_NOFOLLOW) >= 0 && S_ISLNK(st.st_mode))
                        r = -ELOOP;
                if (r == -ELOOP)
                        return error_setf(ret_error, r, "%s is a symlink; refusing to follow it", path);
                if (r == -EEXIST)
                        return error_setf(ret_error, r, "%s exists already; recover or discard it first", path);
                if (r == -EISDIR)
                        return error_setf(ret_error, -EBADFD, "%s is not a regular file", path);
                return r;
        }
        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (!S_ISREG(st.st_mode))
                return error_setf(ret_error, -EBADFD, "%s is not a regular file", path);
        if (st.st_uid != geteuid())
                return error_setf(ret_error, -EPERM, "%s is owned by uid %u, not by uid %u", path,
                                  (unsigned)st.st_uid, (unsigned)geteuid());
        return TAKE_FD(fd);
}

static int load_fd(const struct journal_spec *spec, int fd, struct journal_state **ret, size_t *ret_len,
                   char **ret_error)
{
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        /* One byte more than a journal may have tells "too large" from "exactly at it". */
        r = read_fd_full(fd, JOURNAL_SIZE_MAX + 1, &buf, &len);
        if (r == -EFBIG) {
                char path[PATH_MAX];
                struct stat st;

                return error_setf(ret_error, -EBADMSG, "%s: larger than 1 MiB (%jd bytes); not a journal this tool wrote",
                                  journal_path(spec, path), fstat(fd, &st) < 0 ? (intmax_t)-1 : (intmax_t)st.st_size);
        }
        if (r < 0)
                return r;
        r = journal_parse(spec, buf, len, NULL, ret, ret_error);
        if (r < 0)
                return r;
        if (ret_len)
                *ret_len = len;
        return 0;
}

int journal_load(const struct journal_spec *spec, const struct sysroot *sr, struct journal_state **ret,
                 char **ret_error)
{
        _cleanup_close_ int dfd = -1, fd = -1;

        if (!spec || !sr || !ret)
                return -EINVAL;
        dfd = change_dir_open(sr, spec->dir, false, ret_error);
        if (dfd < 0)
                return dfd;
        fd = open_file(spec, dfd, O_RDONLY, ret_error);
        if (fd < 0)
                return fd;
        return load_fd(spec, fd, ret, NULL, ret_error);
}

int journal_remove(const struct journal_spec *spec, const struct sysroot *sr)
{
        _cleanup_close_ int dfd = -1;

        if (!spec || !sr)
                return -EINVAL;
        dfd = change_dir_open(sr, spec->dir, false, NULL);
        if (dfd < 0)
                return dfd;
        /* Whatever is there, a symlink included (unlinkat() does not follow it): this is also
         * how a journal that cannot be read is discarded. */
        if (unlinkat(dfd, JOURNAL_FILE, 0) < 0)
                return negative_errno();
        return fsync(dfd) < 0 ? negative_errno() : 0;
}

/* Writer */

struct journal {
        const struct journal_spec *spec;
        int fd;
        off_t size;  /* bytes of complete records */
        int broken;  /* first unrecoverable write error, sticky */
        struct journal_state *st;
};

static struct journal *journal_new(const struct journal_spec *spec, int fd, off_t size, struct journal_state *st)
{
        struct journal *j = calloc(1, sizeof(*j));

        if (!j)
                return NULL;
        j->spec = spec;
        j->fd = fd;
        j->size = size;
        j->st = st;
        return j;
}

struct journal *journal_close(struct journal *j)
{
        if (!j)
                return NULL;
        if (j->fd >= 0)
                close(j->fd);
        journal_state_free(j->st);
        free(j);
        return NULL;
}

const struct journal_state *journal_get_state(const struct journal *j)
{
        return j ? j->st : NULL;
}

const struct journal_spec *journal_get_spec(const struct journal *j)
{
        return j ? j->spec : NULL;
}

/* The record as one line, with the magic line first when the journal is still empty. */
static char *format_record(const struct journal_state *st, const struct record *rec, size_t *ret_len)
{
        _cleanup_free_ char *text = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        bool ok = true;

        if (!f)
                return NULL;
        if (!st->have_magic)
                fprintf(f, "%s\n", st->spec->magic);
        fputs(record_names[rec->type], f);
        switch (rec->type) {
        case REC_PHASE: {
                _cleanup_free_ char *d = journal_escape(rec->devices), *c = journal_escape(rec->command);
                ok = d && c;
                fprintf(f, " %s %jd %ju %ju %s %s", rec->name, (intmax_t)rec->owner.pid,
                        (uintmax_t)rec->owner.start_time, (uintmax_t)rec->usec, d ? d : "", c ? c : "");
                break;
        }
        case REC_BEGIN:
                fprintf(f, " %zu %s", rec->index, rec->name);
                for (size_t i = 0; i < rec->n_args; i++) {
                        _cleanup_free_ char *a = journal_escape(rec->args[i]);
                        ok = ok && a;
                        fprintf(f, " %s", a ? a : "");
                }
                break;
        case REC_NOTE: {
                _cleanup_free_ char *v = journal_escape(rec->value);
                ok = v;
                fprintf(f, " %zu %s %s", rec->index, rec->name, v ? v : "");
                break;
        }
        case REC_DONE:
                fprintf(f, " %zu %ju", rec->index, (uintmax_t)rec->usec);
                break;
        case REC_FAILED:
        case REC_REVERT_FAILED:
                fprintf(f, " %zu %d", rec->index, -rec->error);
                break;
        case REC_END:
                fprintf(f, " %s", st->spec->outcomes[rec->outcome]);
                break;
        default:
                fprintf(f, " %zu", rec->index);
                break;
        }
        fputc('\n', f);
        if (fclose(f) != 0 || !ok)
                return NULL;
        *ret_len = len;
        return TAKE_PTR(text);
}

static journal_write_hook_fn write_hook;
static void *write_hook_userdata;
static unsigned n_writes;

void journal_set_write_hook(journal_write_hook_fn fn, void *userdata)
{
        write_hook = fn;
        write_hook_userdata = userdata;
        n_writes = 0;
}

int journal_reserve(struct journal *j, size_t total)
{
        if (!j)
                return -EINVAL;
        if (total > JOURNAL_SIZE_MAX)
                return -EFBIG;
        if ((off_t)total <= j->size)
                return 0;
        /* KEEP_SIZE: the blocks are the file's, beyond its end, where the records will go. */
        if (fallocate(j->fd, FALLOC_FL_KEEP_SIZE, j->size, (off_t)total - j->size) < 0 && errno != EOPNOTSUPP &&
            errno != ENOSYS)
                return negative_errno();
        return 0;
}

/* Checks, writes durably, then commits to the in-memory state. Takes over rec's strings. */
static int append(struct journal *j, struct record *rec)
{
        _cleanup_free_ char *line = NULL;
        char why[256];
        size_t len = 0;
        int r;

        if (j->broken) {
                r = j->broken;
                goto out;
        }
        r = check_record(j->st, rec, why, sizeof(why));
        if (r < 0)
                goto out;
        r = reserve_record(j->st, rec);
        if (r < 0)
                goto out;
        line = format_record(j->st, rec, &len);
        if (!line) {
                r = -ENOMEM;
                goto out;
        }
        if ((uint64_t)j->size + len > JOURNAL_SIZE_MAX) {
                r = -EFBIG;
                goto out;
        }
        if (write_hook && (r = write_hook(++n_writes, write_hook_userdata)) < 0)
                goto out; /* as a write that wrote nothing */
        r = write_all(j->fd, line, len);
        if (r >= 0 && fdatasync(j->fd) < 0)
                r = negative_errno();
        if (r < 0) {
                /* Cut off what may have been written, so that the next record starts a line. */
                if (ftruncate(j->fd, j->size) < 0 || fdatasync(j->fd) < 0)
                        j->broken = r;
                goto out;
        }
        j->size += (off_t)len;
        j->st->have_magic = true;
        commit_record(j->st, rec);
out:
        record_done(rec);
        return r;
}

static int now_usec(uint64_t *ret)
{
        struct timespec ts;

        if (clock_gettime(CLOCK_REALTIME, &ts) < 0)
                return negative_errno();
        *ret = (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
        return 0;
}

static int phase_record(const char *phase, const struct process_id *owner, const char *devices,
                        const char *command, struct record *rec)
{
        int r;

        if (!phase || !is_name(phase) || !owner || owner->pid <= 0)
                return -EINVAL;
        *rec = (struct record){ .type = REC_PHASE, .owner = *owner };
        r = now_usec(&rec->usec);
        if (r < 0)
                return r;
        rec->name = strdup(phase);
        rec->devices = strdup(devices ? devices : "");
        rec->command = strdup(command ? command : "");
        if (!rec->name || !rec->devices || !rec->command) {
                record_done(rec);
                return -ENOMEM;
        }
        return 0;
}

int journal_create(const struct journal_spec *spec, const struct sysroot *sr, const char *phase,
                   const struct process_id *owner, const char *devices, const char *command, struct journal **ret,
                   char **ret_error)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        struct journal_state *st;
        struct journal *j = NULL;
        struct record rec;
        int r;

        if (!spec || !sr || !ret)
                return -EINVAL;
        r = phase_record(phase, owner, devices, command, &rec);
        if (r < 0)
                return r;
        dfd = change_dir_open(sr, spec->dir, true, ret_error);
        if (dfd < 0) {
                record_done(&rec);
                return dfd;
        }
        fd = open_file(spec, dfd, O_RDWR | O_APPEND | O_CREAT | O_EXCL, ret_error);
        if (fd < 0) {
                record_done(&rec);
                return fd;
        }
        st = calloc(1, sizeof(*st));
        if (st)
                st->spec = spec;
        j = st ? journal_new(spec, fd, 0, st) : NULL;
        if (!j) {
                journal_state_free(st);
                record_done(&rec);
                r = -ENOMEM;
                goto fail;
        }
        fd = -1; /* j owns it now */
        r = append(j, &rec);
        if (r >= 0 && fsync(dfd) < 0)
                r = negative_errno();
        if (r < 0)
                goto fail;
        *ret = j;
        return 0;
fail:
        /* Nothing was done under this journal yet: leave no trace of it. */
        journal_close(j);
        (void)unlinkat(dfd, JOURNAL_FILE, 0);
        return r;
}

int journal_open(const struct journal_spec *spec, const struct sysroot *sr, struct journal **ret,
                 char **ret_error)
{
        _cleanup_close_ int dfd = -1, fd = -1;
        _cleanup_journal_state_ struct journal_state *st = NULL;
        struct journal *j;
        size_t len = 0;
        int r;

        if (!spec || !sr || !ret)
                return -EINVAL;
        dfd = change_dir_open(sr, spec->dir, false, ret_error);
        if (dfd < 0)
                return dfd;
        fd = open_file(spec, dfd, O_RDWR | O_APPEND, ret_error);
        if (fd < 0)
                return fd;
        r = load_fd(spec, fd, &st, &len, ret_error);
        if (r < 0)
                return r;
        if (st->ignored_bytes > 0) {
                len -= st->ignored_bytes;
                if (ftruncate(fd, (off_t)len) < 0 || fdatasync(fd) < 0)
                        return negative_errno();
                st->ignored_bytes = 0;
        }
        j = journal_new(spec, fd, (off_t)len, st);
        if (!j)
                return -ENOMEM;
        fd = -1;
        st = NULL;
        *ret = j;
        return 0;
}

int journal_phase(struct journal *j, const char *phase, const struct process_id *owner, const char *command)
{
        struct record rec;
        int r;

        if (!j)
                return -EINVAL;
        /* The devices are the transition's: a later phase repeats them from the first. */
        r = phase_record(phase, owner, j->st->n_phases > 0 ? j->st->phases[0].devices : "", command, &rec);
        if (r < 0)
                return r;
        return append(j, &rec);
}

int journal_step_begin(struct journal *j, size_t i, const char *kind, const char *const *args, size_t n_args)
{
        struct record rec = { .type = REC_BEGIN, .index = i };

        if (!j || !kind || !is_name(kind) || (!args && n_args > 0))
                return -EINVAL;
        for (size_t k = 0; k < n_args; k++)
                if (!args[k])
                        return -EINVAL;
        rec.name = strdup(kind);
        rec.args = calloc(n_args + 1, sizeof(char *));
        if (!rec.name || !rec.args) {
                record_done(&rec);
                return -ENOMEM;
        }
        for (; rec.n_args < n_args; rec.n_args++) {
                rec.args[rec.n_args] = strdup(args[rec.n_args]);
                if (!rec.args[rec.n_args]) {
                        record_done(&rec);
                        return -ENOMEM;
                }
        }
        return append(j, &rec);
}

int journal_note(struct journal *j, size_t i, const char *key, const char *value)
{
        struct record rec = { .type = REC_NOTE, .index = i };

        if (!j || !key || !is_name(key) || !value)
                return -EINVAL;
        rec.name = strdup(key);
        rec.value = strdup(value);
        if (!rec.name || !rec.value) {
                record_done(&rec);
                return -ENOMEM;
        }
        return append(j, &rec);
}

int journal_step_done(struct journal *j, size_t i, uint64_t duration_usec)
{
        if (!j)
                return -EINVAL;
        return append(j, &(struct record){ .type = REC_DONE, .index = i, .usec = duration_usec });
}

int journal_step_failed(struct journal *j, size_t i, int error)
{
        if (!j || error >= 0 || error < -ERRNO_MAX)
                return -EINVAL;
        return append(j, &(struct record){ .type = REC_FAILED, .index = i, .error = error });
}

int journal_revert_begin(struct journal *j, size_t i)
{
        if (!j)
                return -EINVAL;
        return append(j, &(struct record){ .type = REC_REVERT, .index = i });
}

int journal_reverted(struct journal *j, size_t i)
{
        if (!j)
                return -EINVAL;
        return append(j, &(struct record){ .type = REC_REVERTED, .index = i });
}

int journal_revert_failed(struct journal *j, size_t i, int error)
{
        if (!j || error >= 0 || error < -ERRNO_MAX)
                return -EINVAL;
        return append(j, &(struct record){ .type = REC_REVERT_FAILED, .index = i, .error = error });
}

int journal_end(struct journal *j, enum journal_outcome outcome)
{
        if (!j || outcome <= JOURNAL_OUTCOME_NONE || outcome >= _JOURNAL_OUTCOME_MAX)
                return -EINVAL;
        return append(j, &(struct record){ .type = REC_END, .outcome = outcome });
}
