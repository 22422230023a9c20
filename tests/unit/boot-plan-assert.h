/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the bootloader backends' tests (test-boot-*.c) share: exact assertions on a setup plan
 * (files with their whole new content, commands' argv, checks, notes) and applying its files to
 * the fake tree, as the steps would, to plan again and see nothing. Included by each test. */

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testtree.h"
#include "basic/strv.h"
#include "setup/plan.h"

/* argv joined by single spaces ("" for NULL) in a static buffer (one at a time). */
static inline const char *joined(char *const *v)
{
        static char buf[2048];
        size_t len = 0;

        buf[0] = '\0';
        for (size_t i = 0; v && v[i]; i++)
                len += (size_t)snprintf(buf + len, sizeof(buf) - len, "%s%s", i ? " " : "", v[i]);
        return buf;
}

static inline void assert_file(const struct setup_plan *p, size_t i, const char *path,
                               enum setup_file_action action, const char *after)
{
        assert_true(i < p->n_files);
        assert_string_equal(p->files[i].path, path);
        assert_int_equal(p->files[i].action, action);
        if (after) {
                assert_non_null(p->files[i].after);
                assert_string_equal(p->files[i].after, after);
                assert_int_equal(p->files[i].after_len, strlen(after));
        } else {
                assert_null(p->files[i].after);
        }
}

static inline void assert_command(const struct setup_plan *p, size_t i, enum setup_command_kind kind,
                                  const char *argv, const char *revert)
{
        assert_true(i < p->n_commands);
        assert_int_equal(p->commands[i].kind, kind);
        assert_string_equal(joined(p->commands[i].argv), argv);
        if (revert)
                assert_string_equal(joined(p->commands[i].revert_argv), revert);
        else
                assert_null(p->commands[i].revert_argv);
}

static inline void assert_check_lines(const struct setup_plan *p, size_t i, const char *path,
                                      const char *word, const char *tokens, const char *skip)
{
        assert_true(i < p->n_checks);
        assert_int_equal(p->checks[i].kind, SETUP_CHECK_LINES);
        assert_string_equal(p->checks[i].path, path);
        assert_string_equal(p->checks[i].word, word);
        assert_string_equal(joined(p->checks[i].tokens), tokens);
        if (skip)
                assert_string_equal(joined(p->checks[i].skip), skip);
        else
                assert_null(p->checks[i].skip);
}

static inline void assert_check_output(const struct setup_plan *p, size_t i, const char *argv,
                                       const char *tokens)
{
        assert_true(i < p->n_checks);
        assert_int_equal(p->checks[i].kind, SETUP_CHECK_OUTPUT);
        assert_string_equal(joined(p->checks[i].argv), argv);
        assert_string_equal(joined(p->checks[i].tokens), tokens);
}

static inline void assert_refused(const struct setup_plan *p, const char *part)
{
        if (!p->refused)
                fail_msg("not refused (expected \"%s\")", part);
        if (!strstr(p->refused, part))
                fail_msg("refused with \"%s\", expected \"%s\" in it", p->refused, part);
        assert_int_equal(p->n_files, 0);
        assert_int_equal(p->n_commands, 0);
}

/* The plan does nothing at all: the second run of setup. */
static inline void assert_nothing(const struct setup_plan *p)
{
        if (p->refused)
                fail_msg("refused: %s", p->refused);
        if (p->n_files > 0)
                fail_msg("plans %s again", p->files[0].path);
        assert_int_equal(p->n_commands, 0);
        assert_int_equal(p->n_checks, 0);
        assert_int_equal(p->notes.n, 0);
        assert_int_equal(p->args_add.n, 0);
        assert_int_equal(p->args_remove.n, 0);
}

/* Writes the plan's files into the tree as the steps would. */
static inline void apply_files(struct test_tree *t, const struct setup_plan *p)
{
        for (size_t i = 0; i < p->n_files; i++) {
                char path[512];

                if (p->files[i].action != SETUP_FILE_REMOVE) {
                        test_tree_write(t, p->files[i].path + 1, p->files[i].after);
                        continue;
                }
                snprintf(path, sizeof(path), "%s%s", t->dir, p->files[i].path);
                assert_int_equal(unlink(path), 0);
        }
}

/* The whole text of a file of the tree, malloc'd. */
static inline char *tree_read(struct test_tree *t, const char *rel)
{
        char path[512], *text = NULL;
        size_t len = 0;
        FILE *f;

        snprintf(path, sizeof(path), "%s/%s", t->dir, rel);
        f = fopen(path, "r");
        assert_non_null(f);
        assert_true(getdelim(&text, &len, '\0', f) >= 0 || feof(f));
        fclose(f);
        return text;
}
