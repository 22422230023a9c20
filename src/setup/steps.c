/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/steps.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/param.h>
#include <sys/stat.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/strv.h"
#include "basic/time-util.h"
#include "basic/wait.h"
#include "change/commands.h"
#include "change/engine.h"
#include "change/step-file.h"

/* ---- argv as one argument ---- */

char *setup_argv_join(char *const *argv)
{
        for (size_t i = 0; argv && argv[i]; i++)
                if (strchr(argv[i], '\n'))
                        return NULL;
        return strv_join(argv, "\n");
}

char **setup_argv_split(const char *joined)
{
        struct strv v = {0};

        for (const char *p = joined;;) {
                const char *nl = strchr(p, '\n');
                size_t len = nl ? (size_t)(nl - p) : strlen(p);

                if (strv_addf(&v, "%.*s", (int)len, p) < 0) {
                        strv_done(&v);
                        return NULL;
                }
                if (!nl)
                        break;
                p = nl + 1;
        }
        return strv_take(&v);
}

/* "update-initramfs -u -k all", for people. */
static char *argv_words(const char *joined)
{
        char *s = strdup(joined);

        for (char *p = s; p && *p; p++)
                if (*p == '\n')
                        *p = ' ';
        return s;
}

/* The process group a run step's command runs in, noted before it starts: "PGID START BOOT_ID"
 * (command_group_format()). */
#define NOTE_PGID "pgid"
/* Room for that one note: "note I pgid VALUE", its spaces escaped. */
#define RUN_NOTE_ROOM 160

/* The watch of a run step's command: its group, journaled before the command may change anything. */
static int note_group(void *userdata, const struct command_group *g, char **ret_error)
{
        char value[COMMAND_GROUP_STRING_MAX];
        int r;

        command_group_format(g, value);
        r = step_note(userdata, NOTE_PGID, value);
        if (r < 0)
                return error_setf(ret_error, r,
                                  "cannot journal the process group it runs in, so it was not run: %s",
                                  strerror(-r));
        return 0;
}

/* Runs a step's command; apply notes its process group first when note is true. */
static int run_joined(const struct change_ctx *ctx, const char *joined, bool note, char **ret_output,
                      char **message)
{
        _cleanup_strv_free_null_ char **argv = setup_argv_split(joined);
        _cleanup_free_ char *error = NULL;
        const struct command_watch watch = {.started = note_group, .userdata = (void *)ctx};

        if (!argv)
                return step_fail(message, -ENOMEM, "out of memory");
        uint64_t deadline = clock_now(ctx->clock) + SETUP_COMMAND_TIMEOUT_USEC;
        int r = command_run_watched(ctx->commands, (const char *const *)argv, note ? &watch : NULL, deadline,
                                    ret_output, &error);
        if (r < 0)
                return step_fail(message, r, "%s", error ? error : strerror(-r));
        return 0;
}

/* Stops what is left of the command of the journal's step i, when it noted its group: the
 * children of a generator whose leader died with a killed owner (PR_SET_PDEATHSIG reaches the
 * leader only) go on writing /boot, and must not race the revert that follows. */
static int stop_leftovers(const struct change_ctx *ctx, const struct journal_state *st, size_t i,
                          char **message)
{
        const char *noted = journal_state_note(st, i, NOTE_PGID);
        _cleanup_free_ char *error = NULL, *words = NULL;
        struct command_group g;
        int r;

        if (!noted)
                return 0;
        words = argv_words(st->steps[i].n_args > 0 ? st->steps[i].args[0] : "");
        if (!words)
                return step_fail(message, -ENOMEM, "out of memory");
        if (command_group_parse(noted, &g) < 0)
                return step_fail(
                    message, -EBADMSG,
                    "/%s/journal: step %zu notes \"%.64s\" as the process group of %s, which is not "
                    "one gpu-handoff writes",
                    setup_journal.dir, i, noted, words);
        r = command_stop_group(ctx->commands, &g, &error);
        if (r < 0)
                return step_fail(message, r,
                                 "cannot stop what is left of an earlier %s (process group %d): %s", words,
                                 (int)g.pgid, error ? error : strerror(-r));
        return 0;
}

/* ---- record ---- */

static int record_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        return 0;
}

static const struct step_ops record_ops = {.apply = record_apply};

static char *record_describe(const struct step *s)
{
        char *text = NULL;

        if (asprintf(&text, "record the setup: kernel arguments \"%s\", vfio-pci at boot \"%s\" (%s%s%s)",
                     s->args[0], s->args[1], s->args[2], *s->args[3] ? ", " : "", s->args[3]) < 0)
                return NULL;
        return text;
}

int setup_record_parse(const struct step *s, struct setup_record *ret)
{
        if (s->kind != SETUP_STEP_RECORD || s->n_args != 4)
                return -EINVAL;
        *ret = (struct setup_record){s->args[0], s->args[1], s->args[2], s->args[3]};
        return 0;
}

/* ---- regenerate-on-undo and run ---- */

static int regenerate_on_undo_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        return 0; /* its command runs with the other commands, later; this step is its undo */
}

/* Every run step of the journal was reverted before (they come later), each after stopping what
 * was left of its command; but a rollback goes on past a revert that failed, so the guard stops
 * them again rather than regenerate beside them. Its own command, run here while reverting, has
 * no note (notes are written while applying): an undo killed while it runs leaves its
 * children unstopped. */
static int regenerate_on_undo_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const struct journal_state *st = journal_get_state(ctx->journal);

        for (size_t i = 0; st && i < st->n_steps; i++) {
                int r = stop_leftovers(ctx, st, i, message);
                if (r < 0)
                        return r;
        }
        return run_joined(ctx, s->args[0], false, NULL, message);
}

static const struct step_ops regenerate_on_undo_ops = {.apply = regenerate_on_undo_apply,
                                                       .revert = regenerate_on_undo_revert};

static char *regenerate_on_undo_describe(const struct step *s)
{
        _cleanup_free_ char *words = argv_words(s->args[0]);
        char *text = NULL;

        if (!words || asprintf(&text, "when undone, after the files are back: %s", words) < 0)
                return NULL;
        return text;
}

static int run_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        return run_joined(ctx, s->args[0], true, NULL, message);
}

/* What is left of its command first (a killed owner's orphans), then its undo command. */
static int run_revert(const struct change_ctx *ctx, const struct step *s, char **message)
{
        const struct journal_state *st = journal_get_state(ctx->journal);
        int r = st && step_journal_index(ctx) < st->n_steps
                    ? stop_leftovers(ctx, st, step_journal_index(ctx), message)
                    : 0;

        if (r < 0)
                return r;
        return *s->args[1] ? run_joined(ctx, s->args[1], false, NULL, message) : 0;
}

static const struct step_ops run_ops = {.apply = run_apply, .revert = run_revert};

static char *run_describe(const struct step *s)
{
        _cleanup_free_ char *words = argv_words(s->args[0]), *undo = argv_words(s->args[1]);
        char *text = NULL;

        if (!words || !undo)
                return NULL;
        if (asprintf(&text, *undo ? "run %s (undo: %s)" : "run %s", words, undo) < 0)
                return NULL;
        return text;
}

/* ---- checks ---- */

/* Whether token is one of line's blank-separated words. */
static bool has_word(const char *line, size_t len, const char *token)
{
        size_t tlen = strlen(token);

        for (size_t i = 0; i + tlen <= len; i++) {
                bool start = i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t';
                bool end = i + tlen == len || line[i + tlen] == ' ' || line[i + tlen] == '\t';

                if (start && end && memcmp(line + i, token, tlen) == 0)
                        return true;
        }
        return false;
}

static int check_lines_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        _cleanup_free_ char *text = NULL;
        _cleanup_strv_free_null_ char **tokens = setup_argv_split(s->args[3]);
        _cleanup_strv_free_null_ char **skip =
            s->n_args > 4 && *s->args[4] ? setup_argv_split(s->args[4]) : strv_new_empty();
        const char *what = s->args[0], *path = s->args[1], *word = s->args[2];
        size_t len = 0, n_lines = 0;
        int r;

        if (!tokens || !skip)
                return step_fail(message, -ENOMEM, "out of memory");
        r = sysroot_read_file(ctx->sr, path, STEP_FILE_MAX * 8, &text, &len);
        if (r < 0)
                return step_fail(message, r, "cannot read %s to check it: %s", path, strerror(-r));
        for (const char *line = text; line < text + len;) {
                const char *nl = memchr(line, '\n', text + len - line);
                size_t line_len = nl ? (size_t)(nl - line) : (size_t)(text + len - line);
                const char *p = line;
                size_t wlen = strlen(word);

                while (p < line + line_len && (*p == ' ' || *p == '\t'))
                        p++;
                bool skipped = false;
                for (size_t k = 0; skip[k] && !skipped; k++)
                        skipped = has_word(p, line + line_len - p, skip[k]);
                if (!skipped && (size_t)(line + line_len - p) > wlen && memcmp(p, word, wlen) == 0 &&
                    (p[wlen] == ' ' || p[wlen] == '\t')) {
                        n_lines++;
                        for (size_t t = 0; tokens[t]; t++)
                                if (*tokens[t] && !has_word(p, line + line_len - p, tokens[t]))
                                        return step_fail(
                                            message, -EPROTO,
                                            "%s does not carry %s although the command that writes it "
                                            "succeeded: a line of %s reads \"%.*s\"",
                                            what, tokens[t], path, (int)MIN(line_len, (size_t)200), line);
                }
                line = nl ? nl + 1 : text + len;
        }
        if (n_lines == 0)
                return step_fail(message, -EPROTO, "%s has no \"%s\" line after the command that writes it",
                                 what, word);
        return 0;
}

static const struct step_ops check_lines_ops = {.apply = check_lines_apply};

static char *check_lines_describe(const struct step *s)
{
        _cleanup_free_ char *words = argv_words(s->args[3]);
        char *text = NULL;

        _cleanup_free_ char *skip = s->n_args > 4 ? argv_words(s->args[4]) : strdup("");
        if (!words || !skip ||
            asprintf(&text, "check that every \"%s\" line of %s carries %s%s%s", s->args[2], s->args[1],
                     words, *skip ? " (but those with " : "", *skip ? skip : "") < 0)
                return NULL;
        if (*skip) {
                char *closed = NULL;
                if (asprintf(&closed, "%s)", text) < 0)
                        closed = NULL;
                free(text);
                text = closed;
        }
        return text;
}

static int check_output_apply(const struct change_ctx *ctx, const struct step *s, char **message)
{
        _cleanup_free_ char *output = NULL, *words = argv_words(s->args[1]);
        _cleanup_strv_free_null_ char **tokens = setup_argv_split(s->args[2]);

        if (!tokens || !words)
                return step_fail(message, -ENOMEM, "out of memory");
        int r = run_joined(ctx, s->args[1], false, &output, message);
        if (r < 0)
                return r;
        for (size_t t = 0; tokens[t]; t++)
                if (*tokens[t] && (!output || !strstr(output, tokens[t])))
                        return step_fail(message, -EPROTO,
                                         "%s does not hold %s although the command that builds it succeeded "
                                         "(checked with %s)",
                                         s->args[0], tokens[t], words);
        return 0;
}

static const struct step_ops check_output_ops = {.apply = check_output_apply};

static char *check_output_describe(const struct step *s)
{
        _cleanup_free_ char *words = argv_words(s->args[1]), *tokens = argv_words(s->args[2]);
        char *text = NULL;

        if (!words || !tokens ||
            asprintf(&text, "check with %s that %s holds %s", words, s->args[0], tokens) < 0)
                return NULL;
        return text;
}

/* ---- the domain ---- */

static const struct change_kind setup_kinds[_SETUP_STEP_MAX] = {
    [SETUP_STEP_RECORD] = {"setup-record", record_describe, &record_ops, 0},
    [SETUP_STEP_REGENERATE_ON_UNDO] = {"regenerate-on-undo", regenerate_on_undo_describe,
                                       &regenerate_on_undo_ops, 0},
    [SETUP_STEP_MAKE_DIR] = STEP_KIND_MAKE_DIR,
    [SETUP_STEP_CREATE_FILE] = STEP_KIND_CREATE_FILE,
    [SETUP_STEP_REPLACE_FILE] = STEP_KIND_REPLACE_FILE,
    [SETUP_STEP_REMOVE_FILE] = STEP_KIND_REMOVE_FILE,
    [SETUP_STEP_RUN] = {"run", run_describe, &run_ops, RUN_NOTE_ROOM},
    [SETUP_STEP_CHECK_LINES] = {"check-lines", check_lines_describe, &check_lines_ops, 0},
    [SETUP_STEP_CHECK_OUTPUT] = {"check-output", check_output_describe, &check_output_ops, 0},
};

const struct change_domain setup_domain = {
    .name = "setup", .kinds = setup_kinds, .n_kinds = _SETUP_STEP_MAX};

const struct journal_spec setup_journal = {
    .dir = "var/lib/gpu-handoff/setup",
    .magic = "gpu-handoff setup-journal 1",
    .subject = "the host setup",
    .outcomes = {[JOURNAL_OUTCOME_APPLIED] = "applied",
                 [JOURNAL_OUTCOME_ROLLED_BACK] = "rolled-back",
                 [JOURNAL_OUTCOME_UNDONE] = "undone"},
};

/* ---- plan to steps ---- */

struct builder {
        struct step *steps;
        size_t n, cap;
};

static int add(struct builder *b, unsigned kind, size_t n_args, ...)
{
        if (b->n == b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 16;
                struct step *steps = reallocarray(b->steps, cap, sizeof(*steps));

                if (!steps)
                        return -ENOMEM;
                b->steps = steps;
                b->cap = cap;
        }
        struct step *s = &b->steps[b->n];
        va_list ap;
        int r = 0;

        *s = (struct step){.kind = kind};
        va_start(ap, n_args);
        for (size_t i = 0; i < n_args; i++) {
                const char *a = va_arg(ap, const char *);

                if (!a || !(s->args[i] = strdup(a))) {
                        r = a ? -ENOMEM : -EINVAL;
                        break;
                }
                s->n_args++;
        }
        va_end(ap);
        if (r < 0) {
                step_done(s);
                return r;
        }
        b->n++;
        return 0;
}

/* make-dir steps for the missing directories above path, outermost first, once each. */
static int add_parents(struct builder *b, const struct sysroot *sr, const char *path)
{
        _cleanup_free_ char *dir = strdup(path);
        char *slash;

        if (!dir)
                return -ENOMEM;
        slash = strrchr(dir, '/');
        if (!slash || slash == dir)
                return 0;
        *slash = '\0';
        if (sysroot_exists(sr, dir))
                return 0;
        for (size_t i = 0; i < b->n; i++)
                if (b->steps[i].kind == SETUP_STEP_MAKE_DIR && strcmp(b->steps[i].args[0], dir) == 0)
                        return 0;
        int r = add_parents(b, sr, dir);
        if (r < 0)
                return r;
        return add(b, SETUP_STEP_MAKE_DIR, 2, dir, "0755");
}

int setup_steps_from_plan(const struct sysroot *sr, const struct setup_plan *p, struct step **ret,
                          size_t *ret_n)
{
        struct builder b = {0};
        _cleanup_free_ char *args = strv_join(p->args_add.v, " "), *vfio = strv_join(p->vfio.v, " ");
        int r;

        if (!args || !vfio)
                return -ENOMEM;
        r = add(&b, SETUP_STEP_RECORD, 4, args, vfio, bootloader_to_string(p->bootloader) ?: "",
                initramfs_to_string(p->initramfs) ?: "");
        for (size_t i = p->n_commands; r >= 0 && i > 0; i--) {
                const struct setup_command *c = &p->commands[i - 1];
                _cleanup_free_ char *joined = setup_argv_join(c->argv);

                if (c->kind == SETUP_COMMAND_REGENERATE)
                        r = joined ? add(&b, SETUP_STEP_REGENERATE_ON_UNDO, 1, joined) : -EINVAL;
        }
        for (size_t i = 0; r >= 0 && i < p->n_files; i++) {
                const struct setup_file *f = &p->files[i];
                _cleanup_free_ char *expect = NULL;
                char mode[16];

                switch (f->action) {
                case SETUP_FILE_CREATE:
                        snprintf(mode, sizeof(mode), "%04o", f->mode);
                        r = add_parents(&b, sr, f->path);
                        if (r >= 0)
                                r = add(&b, SETUP_STEP_CREATE_FILE, 3, f->path, mode, f->after);
                        break;
                case SETUP_FILE_MODIFY:
                        expect = file_digest(f->before, f->before_len);
                        r = expect ? add(&b, SETUP_STEP_REPLACE_FILE, 4, f->path, "-", expect, f->after)
                                   : -ENOMEM;
                        break;
                case SETUP_FILE_REMOVE:
                        expect = file_digest(f->before, f->before_len);
                        r = expect ? add(&b, SETUP_STEP_REMOVE_FILE, 2, f->path, expect) : -ENOMEM;
                        break;
                }
        }
        for (size_t i = 0; r >= 0 && i < p->n_commands; i++) {
                const struct setup_command *c = &p->commands[i];
                _cleanup_free_ char *joined = setup_argv_join(c->argv);
                _cleanup_free_ char *undo = c->revert_argv ? setup_argv_join(c->revert_argv) : strdup("");

                r = joined && undo ? add(&b, SETUP_STEP_RUN, 2, joined, undo) : -EINVAL;
        }
        for (size_t i = 0; r >= 0 && i < p->n_checks; i++) {
                const struct setup_check *c = &p->checks[i];
                _cleanup_free_ char *tokens = setup_argv_join(c->tokens);
                _cleanup_free_ char *argv = c->argv ? setup_argv_join(c->argv) : NULL;

                if (!tokens)
                        r = -EINVAL;
                else if (c->kind == SETUP_CHECK_LINES) {
                        _cleanup_free_ char *skip = c->skip ? setup_argv_join(c->skip) : strdup("");
                        r = skip
                                ? add(&b, SETUP_STEP_CHECK_LINES, 5, c->what, c->path, c->word, tokens, skip)
                                : -ENOMEM;
                } else
                        r = argv ? add(&b, SETUP_STEP_CHECK_OUTPUT, 3, c->what, argv, tokens) : -EINVAL;
        }
        if (r < 0) {
                steps_free(b.steps, b.n);
                return r;
        }
        *ret = b.steps;
        *ret_n = b.n;
        return 0;
}

/* ---- trust ---- */

/* The programs setup runs: a journal naming any other is not one setup wrote. */
static const char *const setup_programs[] = {
    "update-grub",
    "grub-mkconfig",
    "grub2-mkconfig",
    "grubby",
    "kernel-install",
    "kernelstub",
    "rpm-ostree",
    "proxmox-boot-tool",
    "update-initramfs",
    "dracut",
    "mkinitcpio",
    "/usr/lib/booster/regenerate_images",
    "booster",
    "lsinitramfs",
    "lsinitrd",
    "lsinitcpio",
    "ukify",
    "mkdir",
    "rmdir",
    "rm",
    "strings",
    "limine-update",
    "bootctl",
};

static bool program_known(const char *joined)
{
        size_t len = strcspn(joined, "\n");

        for (size_t i = 0; i < ELEMENTSOF(setup_programs); i++)
                if (strlen(setup_programs[i]) == len && memcmp(setup_programs[i], joined, len) == 0)
                        return true;
        return false;
}

static bool path_ok(const char *path)
{
        return path[0] == '/' && !strstr(path, "/../") && !strstr(path, "/./") &&
               strcmp(path + strlen(path) - MIN(strlen(path), (size_t)3), "/..") != 0;
}

int setup_journal_trusted(const struct journal_state *st, char **ret_error)
{
        for (size_t i = 0; i < st->n_steps; i++) {
                const struct journal_step *s = &st->steps[i];
                int kind = change_domain_find_kind(&setup_domain, s->kind);
                bool ok = kind >= 0;

                if (ok && (kind == SETUP_STEP_MAKE_DIR || kind == SETUP_STEP_CREATE_FILE ||
                           kind == SETUP_STEP_REPLACE_FILE || kind == SETUP_STEP_REMOVE_FILE))
                        ok = s->n_args >= 1 && path_ok(s->args[0]);
                if (ok && kind == SETUP_STEP_REGENERATE_ON_UNDO)
                        ok = s->n_args == 1 && program_known(s->args[0]);
                if (ok && kind == SETUP_STEP_RUN)
                        ok = s->n_args == 2 && program_known(s->args[0]) &&
                             (!*s->args[1] || program_known(s->args[1]));
                if (ok && kind == SETUP_STEP_CHECK_LINES)
                        ok = s->n_args == 4 || s->n_args == 5;
                if (ok && kind == SETUP_STEP_CHECK_OUTPUT)
                        ok = s->n_args == 3 && program_known(s->args[1]);
                if (!ok)
                        return error_setf(
                            ret_error, -EBADMSG,
                            "/%s/journal: step %zu (%.32s %.64s) is not a change gpu-handoff setup "
                            "makes; refusing to act on this journal",
                            setup_journal.dir, i, s->kind, s->n_args > 0 ? s->args[0] : "");
        }
        return 0;
}
