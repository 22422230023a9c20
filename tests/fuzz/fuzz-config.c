/* SPDX-License-Identifier: GPL-2.0-or-later */
/* config_parse() on arbitrary bytes, on top of the defaults, with CPUs 0-7 online. Invariants:
 * it returns 0, -EINVAL or -ENOMEM; an error comes with one short "fuzz:LINE: ..." line and
 * leaves the configuration exactly as it was; a success gives well-formed values (lists
 * NULL-terminated, durations within (0, 1 day), sizes that are whole KiB), warnings of the form
 * "fuzz:LINE: unknown key ...", and config_value_string() of every key parses back, in a file of
 * its own, to the same string: what "gpu-handoff config" prints is a valid file meaning the same
 * thing. config_check() answers 0 or -EINVAL with a "fuzz:LINE: Hugepages=..." line. */

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "basic/bitmap.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "config/config.h"
#include "fuzz.h"

#define DAY_USEC (UINT64_C(86400) * 1000000)

static void strv_free_all(char **v)
{
        for (char **p = v; p && *p; p++)
                free(*p);
        free(v);
}

static char **values_of(const struct config *c)
{
        char **v = calloc(config_n_keys() + 1, sizeof(char *));

        fuzz_check(v);
        for (size_t i = 0; i < config_n_keys(); i++) {
                v[i] = config_value_string(c, i);
                fuzz_check(v[i]);
                fuzz_check(!strchr(v[i], '\n'));
        }
        return v;
}

/* "fuzz:LINE: " followed by text on one line. */
static void check_line_message(const char *s)
{
        size_t digits;

        fuzz_check(s && strncmp(s, "fuzz:", 5) == 0);
        digits = strspn(s + 5, "0123456789");
        fuzz_check(digits > 0 && s[5] != '0' && s[5 + digits] == ':' && s[5 + digits + 1] == ' ');
        fuzz_check(!strchr(s, '\n'));
}

static void check_list(char **v)
{
        fuzz_check(v);
        for (char **p = v; *p; p++)
                fuzz_check(**p && !strpbrk(*p, " \t"));
}

static void check_config(const struct config *c)
{
        const uint64_t durations[] = {c->settle_usec,   c->write_usec, c->unit_job_usec,
                                      c->sessions_usec, c->lock_usec,  c->hugepages_usec};

        check_list(c->gpus);
        check_list(c->cpu_units);
        check_list(c->freeze_units);
        check_list(c->freeze_processes);
        for (size_t i = 0; i < ELEMENTSOF(durations); i++)
                fuzz_check(durations[i] > 0 && durations[i] < DAY_USEC);
        fuzz_check(c->hugepages % 1024 == 0);
        fuzz_check(c->hugepage_size == UINT64_C(2) << 20 || c->hugepage_size == UINT64_C(1) << 30);
        fuzz_check(c->hugepage_node >= -1 && c->hugepage_node <= 1023);
        fuzz_check(!c->housekeeping || *c->housekeeping);
        for (size_t i = 0; i < config_n_keys(); i++) {
                struct config_origin o = config_value_origin(c, i);
                fuzz_check(!o.file || (strcmp(o.file, "fuzz") == 0 && o.line > 0));
        }
}

/* Each value alone in a file of its own parses back to itself. */
static void check_round_trip(char **values)
{
        for (size_t i = 0; i < config_n_keys(); i++) {
                const struct config_key_info *k = config_key(i);
                _cleanup_(config_freep) struct config *d = NULL;
                _cleanup_free_ char *text = NULL, *again = NULL, *error = NULL;
                char **warnings = NULL;
                int r;

                fuzz_check(config_new_default(&d) == 0);
                fuzz_check(asprintf(&text, "[%s]\n%s=%s\n", k->section, k->key, values[i]) > 0);
                r = config_parse(d, text, strlen(text), "again", NULL, &warnings, &error);
                if (r < 0)
                        fprintf(stderr, "%s does not parse back: %s\n", text, error ? error : "?");
                fuzz_check(r == 0 && !warnings);
                again = config_value_string(d, i);
                fuzz_check(again && strcmp(again, values[i]) == 0);
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_free_ char *error = NULL, *check_error = NULL;
        char **warnings = (char **)(uintptr_t)0x10, **before, **after;
        uint64_t online[BITMAP_WORDS(CPULIST_BITS)];
        int r;

        fuzz_check(cpulist_parse("0-7", online, CPULIST_BITS) == 0);
        fuzz_check(config_new_default(&c) == 0);
        before = values_of(c);
        r = config_parse(c, (const char *)data, size, "fuzz", online, &warnings, &error);
        fuzz_check(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r < 0) {
                fuzz_check(warnings == (char **)(uintptr_t)0x10);
                fuzz_check(!c->files[0]);
                after = values_of(c);
                for (size_t i = 0; i < config_n_keys(); i++) {
                        fuzz_check(strcmp(before[i], after[i]) == 0);
                        fuzz_check(!config_value_origin(c, i).file);
                }
                if (r == -EINVAL) {
                        check_line_message(error);
                        /* the quoting keeps a message short, whatever the line's length */
                        fuzz_check(strlen(error) < 1024);
                }
                strv_free_all(before);
                strv_free_all(after);
                return 0;
        }
        strv_free_all(before);
        fuzz_check(!error);
        fuzz_check(c->files[0] && strcmp(c->files[0], "fuzz") == 0 && !c->files[1]);
        for (char **w = warnings; w && *w; w++) {
                check_line_message(*w);
                fuzz_check(strstr(*w, ": unknown key ") || strstr(*w, " more unknown key"));
        }
        strv_free_all(warnings);
        check_config(c);

        after = values_of(c);
        check_round_trip(after);
        strv_free_all(after);

        r = config_check(c, &check_error);
        fuzz_check(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r == -EINVAL) {
                check_line_message(check_error);
                fuzz_check(strstr(check_error, ": Hugepages="));
        }
        return 0;
}
