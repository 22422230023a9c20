/* SPDX-License-Identifier: GPL-2.0-or-later */
#pragma once

/* What the bootloader backends' unit tests (test-boot-*.c) share: run a backend on a fake root
 * with hand-filled boot facts, look at its plan as text, and apply the plan's files to the tree
 * to plan again. Include after <cmocka.h>. */

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "basic/strv.h"
#include "setup/backend.h"
#include "boot-plan-assert.h"
#include "testtree.h"

#define BT_ARGS(...) ((char **)(const char *[]){__VA_ARGS__, NULL})

typedef int (*bt_backend)(const struct setup_inputs *in, struct setup_plan *p, char **ret_error);

static inline struct setup_inputs bt_inputs(struct test_tree *t, const struct boot_facts *f, char **add,
                                            char **remove)
{
        static char *none[] = {NULL};

        return (struct setup_inputs){
            .sr = t->sr,
            .facts = f,
            .args_add = add ? add : none,
            .args_remove = remove ? remove : none,
            .vfio = none,
        };
}

/* Runs the backend; it must succeed (a refusal is a success with p->refused). */
static inline void bt_plan(bt_backend fn, const struct setup_inputs *in, struct setup_plan *p)
{
        char *error = NULL;
        int r;

        *p = (struct setup_plan){0};
        r = fn(in, p, &error);
        if (r < 0)
                print_error("backend failed: %d %s\n", r, error ? error : "(no message)");
        assert_int_equal(r, 0);
        free(error);
}

/* The commands as "argv0 argv1 ..." joined by "\n" ("; revert: ..." for a TOOL). */
static inline char *bt_commands(const struct setup_plan *p)
{
        static char buf[8192];
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < p->n_commands; i++) {
                char *a = strv_join(p->commands[i].argv, " ");

                n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s", i ? "\n" : "", a);
                free(a);
                if (p->commands[i].kind == SETUP_COMMAND_TOOL) {
                        a = strv_join(p->commands[i].revert_argv, " ");
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "; revert: %s", a);
                        free(a);
                }
        }
        return buf;
}

/* The checks as "PATH WORD: TOKENS" (LINES) or "$ ARGV: TOKENS" (OUTPUT) joined by "\n". */
static inline char *bt_checks(const struct setup_plan *p)
{
        static char buf[8192];
        size_t n = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < p->n_checks; i++) {
                const struct setup_check *c = &p->checks[i];
                char *tokens = strv_join(c->tokens, " ");

                if (c->kind == SETUP_CHECK_LINES)
                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s%s %s: %s", i ? "\n" : "",
                                              c->path, c->word, tokens);
                else {
                        char *argv = strv_join(c->argv, " ");

                        n += (size_t)snprintf(buf + n, sizeof(buf) - n, "%s$ %s: %s", i ? "\n" : "", argv,
                                              tokens);
                        free(argv);
                }
                free(tokens);
        }
        return buf;
}

static inline char *bt_notes(const struct setup_plan *p)
{
        static char buf[16384];
        char *s = strv_join(p->notes.v, "\n");

        snprintf(buf, sizeof(buf), "%s", s ? s : "");
        free(s);
        return buf;
}

static inline char *bt_list(const struct strv *s)
{
        static char buf[1024];
        char *j = strv_join(s->v, " ");

        snprintf(buf, sizeof(buf), "%s", j ? j : "");
        free(j);
        return buf;
}
