/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* A setup plan: everything `gpu-handoff setup` (or `setup undo`) will do, computed without
 * touching the host, so that --dry-run prints it as unified diffs and argv lists, --json as data
 * (docs/json.md, "setup plan"), and the steps (setup/steps.h) are made from it one to one.
 *
 * The backends (setup/backend.h) append to it: files with their whole content before and after,
 * the commands that act on them, and the checks that prove the result. Order matters and is
 * kept: files are written in the order added, then the commands run in the order added, then
 * the checks. */

#include <stdbool.h>
#include <stddef.h>

#include "basic/macro.h"
#include "basic/strv.h"
#include "basic/sysroot.h"
#include "host/boot.h"

enum setup_file_action {
        SETUP_FILE_CREATE, /* "create": there is none; after is the content */
        SETUP_FILE_MODIFY, /* "modify": before and after; the mode and owner stay */
        SETUP_FILE_REMOVE, /* "remove": before is what goes */
};

struct setup_file {
        char *path; /* absolute, as seen inside the root: "/etc/default/grub.d/90-gpu-handoff.cfg" */
        enum setup_file_action action;
        char *before; /* NUL-terminated too; NULL for CREATE */
        size_t before_len;
        char *after; /* NUL-terminated too; NULL for REMOVE */
        size_t after_len;
        unsigned mode; /* CREATE: the new file's mode (0644, 0755); otherwise 0 */
};

enum setup_command_kind {
        /* Regenerates what is built from the files (update-grub, update-initramfs -u -k all,
         * kernel-install add ...): runs after the files are written, and again after they are
         * restored when the setup is undone or rolled back, so that the next boot is the old one. */
        SETUP_COMMAND_REGENERATE,
        /* Changes a command line that a tool owns (grubby --args, kernelstub -a, rpm-ostree
         * kargs): its revert is revert_argv (exactly the arguments it added, taken away). */
        SETUP_COMMAND_TOOL,
};

struct setup_command {
        enum setup_command_kind kind;
        char **argv;        /* NULL-terminated; argv[0] a program name looked up in PATH */
        char **revert_argv; /* TOOL only */
};

enum setup_check_kind {
        /* Every line of path whose first word is `word` ("linux", "options") holds every token
         * (as whole blank-separated words), and there is at least one such line. */
        SETUP_CHECK_LINES,
        /* argv's output (lsinitramfs IMAGE) holds every token as a substring. */
        SETUP_CHECK_OUTPUT,
};

struct setup_check {
        enum setup_check_kind kind;
        char *what;   /* for people: "the GRUB menu (/boot/grub/grub.cfg)" */
        char *path;   /* LINES */
        char *word;   /* LINES */
        char **argv;  /* OUTPUT; NULL-terminated */
        char **tokens; /* NULL-terminated */
        /* LINES: a line that holds one of these as a whole word is not checked (GRUB's recovery
         * entries, "single" / "recovery", get GRUB_CMDLINE_LINUX only); NULL-terminated or NULL */
        char **skip;
};

struct setup_plan {
        enum bootloader_id bootloader;
        enum initramfs_id initramfs;
        struct strv args_add;    /* kernel arguments this plan adds (not those already present) */
        struct strv args_remove; /* kernel arguments it removes */
        struct strv vfio;        /* PCI addresses bound to vfio-pci from early boot */

        struct setup_file *files;
        size_t n_files;
        struct setup_command *commands;
        size_t n_commands;
        struct setup_check *checks;
        size_t n_checks;

        struct strv notes; /* lines for people after the plan: what the next boot does, the way back */
        char *refused;     /* one line why nothing may be done, or NULL */
};

void setup_plan_done(struct setup_plan *p);

/* The file at path becomes content (mode for a new file): reads what is there now (below sr)
 * and adds CREATE or MODIFY, or nothing when it already holds exactly content (returns 0 then,
 * 1 when a change was added). -errno when the file cannot be read (not regular, a symlink, too
 * big), with *ret_error naming it. */
int setup_plan_write(struct setup_plan *p, const struct sysroot *sr, const char *path, const char *content,
                     size_t len, unsigned mode, char **ret_error);
/* The file at path goes (REMOVE), when there is one: 1 added, 0 nothing there. */
int setup_plan_remove(struct setup_plan *p, const struct sysroot *sr, const char *path, char **ret_error);
/* The whole file at path below the root (a regular file of at most STEP_FILE_MAX bytes),
 * NUL-terminated: 0, -ENOENT when there is none, or -errno with one line naming it. */
int setup_file_read(const struct sysroot *sr, const char *path, char **ret, size_t *ret_len, char **ret_error);
/* What path holds as the plan so far leaves it: a file change already planned gives its new
 * content (two backends' edits of one file stack), else setup_file_read(). -ENOENT when there
 * is none, or the plan removes it. */
int setup_plan_read(struct setup_plan *p, const struct sysroot *sr, const char *path, char **ret, size_t *ret_len,
                    char **ret_error);
/* Frees what a check holds (setup_plan_done() does it for the plan's). */
void setup_check_done(struct setup_check *c);
/* Adds a file change as given (before/after copied). */
int setup_plan_add_file(struct setup_plan *p, const char *path, enum setup_file_action action, const char *before,
                        size_t before_len, const char *after, size_t after_len, unsigned mode);
/* The file change planned for path, or NULL: a backend that edits a file another one planned
 * already edits the planned content. */
struct setup_file *setup_plan_find_file(struct setup_plan *p, const char *path);

/* Adds a command; argv (and revert_argv for TOOL) NULL-terminated, copied. A REGENERATE command
 * already in the plan with the same argv is not added twice. */
int setup_plan_command(struct setup_plan *p, enum setup_command_kind kind, const char *const *argv,
                       const char *const *revert_argv);
int setup_plan_check_lines(struct setup_plan *p, const char *what, const char *path, const char *word,
                           const char *const *tokens);
/* The same, leaving out the lines that hold one of skip (NULL-terminated) as a whole word. */
int setup_plan_check_lines_except(struct setup_plan *p, const char *what, const char *path, const char *word,
                                  const char *const *tokens, const char *const *skip);
int setup_plan_check_output(struct setup_plan *p, const char *what, const char *const *argv,
                            const char *const *tokens);
/* printf-style into notes / refused (refused: the first one stays). A refusal empties the plan
 * (files, commands, checks, notes, arguments): a refused setup plans nothing, and what is added
 * after it is not kept. */
int setup_plan_note(struct setup_plan *p, const char *fmt, ...) _printf_(2, 3);
int setup_plan_refuse(struct setup_plan *p, const char *fmt, ...) _printf_(2, 3);

/* Whether the plan changes anything (a file or a TOOL command). */
bool setup_plan_changes(const struct setup_plan *p);
