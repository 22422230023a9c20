/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the configuration file (src/config, gpu-handoff.conf(5)): defaults, every value
 * type, override order and origins, every error with its exact message, the unknown-key
 * warning, long lines, CRLF, and config_load()'s file checks (modes, owners, symlinks, VM
 * names) on trees below a temporary root. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/bitmap.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/strv.h"
#include "config/config.h"
#include "host/cpu.h"
#include "testtree.h"

/* Tests call the parser with this name so the expected messages are short. */
#define F "t.conf"
#define MAIN "/etc/gpu-handoff/gpu-handoff.conf"

static size_t key_index(const char *section, const char *key)
{
        for (size_t i = 0; i < config_n_keys(); i++)
                if (strcmp(config_key(i)->section, section) == 0 && strcmp(config_key(i)->key, key) == 0)
                        return i;
        fail_msg("no key %s= in [%s]", key, section);
        return SIZE_MAX;
}

static void assert_value(const struct config *c, const char *section, const char *key, const char *expected)
{
        _cleanup_free_ char *s = config_value_string(c, key_index(section, key));

        assert_non_null(s);
        assert_string_equal(s, expected);
}

static void assert_origin(const struct config *c, const char *section, const char *key, const char *file,
                          unsigned line)
{
        struct config_origin o = config_value_origin(c, key_index(section, key));

        if (!file) {
                assert_null(o.file);
                return;
        }
        assert_non_null(o.file);
        assert_string_equal(o.file, file);
        assert_int_equal(o.line, line);
}

static struct config *new_default(void)
{
        struct config *c = NULL;

        assert_int_equal(config_new_default(&c), 0);
        assert_non_null(c);
        return c;
}

/* The online CPUs as config_parse() takes them: NULL when unknown; a list that is none (what
 * cpu_online_read() refuses with -EINVAL) becomes the empty set. */
static const uint64_t *cpus(const char *list)
{
        static uint64_t set[BITMAP_WORDS(CPULIST_BITS)];

        if (!list)
                return NULL;
        if (cpulist_parse(list, set, CPULIST_BITS) < 0)
                memset(set, 0, sizeof(set));
        return set;
}

/* Parses text on top of c, expects success and no warnings. */
static void parse_into(struct config *c, const char *text, const char *file, const char *online)
{
        char **warnings = (char **)(uintptr_t)0x1;
        char *error = NULL;
        int r;

        r = config_parse(c, text, strlen(text), file, cpus(online), &warnings, &error);
        if (r < 0)
                fail_msg("unexpected parse error %d: %s", r, error ? error : "(none)");
        assert_null(error);
        if (warnings)
                fail_msg("unexpected warning: %s", warnings[0]);
}

static struct config *parse_ok(const char *text, const char *online)
{
        struct config *c = new_default();

        parse_into(c, text, F, online);
        return c;
}

/* Every value as a string, to see that a failed parse changed nothing. */
static char **snapshot(const struct config *c)
{
        char **v = calloc(config_n_keys() + 1, sizeof(char *));

        assert_non_null(v);
        for (size_t i = 0; i < config_n_keys(); i++) {
                v[i] = config_value_string(c, i);
                assert_non_null(v[i]);
        }
        return v;
}

/* Parses text (len bytes) on top of the defaults, expects -EINVAL with exactly message, and
 * that the configuration was left alone. */
static void assert_parse_error_len(const char *text, size_t len, const char *online, const char *message)
{
        _cleanup_(config_freep) struct config *c = new_default();
        char **before = snapshot(c), **after;
        char **warnings = (char **)(uintptr_t)0x1234;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(config_parse(c, text, len, F, cpus(online), &warnings, &error), -EINVAL);
        assert_non_null(error);
        assert_string_equal(error, message);
        assert_ptr_equal(warnings, (char **)(uintptr_t)0x1234);
        after = snapshot(c);
        for (size_t i = 0; i < config_n_keys(); i++)
                assert_string_equal(before[i], after[i]);
        assert_null(c->files[0]);
        strv_free_null(before);
        strv_free_null(after);

        /* the same without the out-parameters must not crash or leak */
        assert_int_equal(config_parse(c, text, len, F, cpus(online), NULL, NULL), -EINVAL);
}

static void assert_parse_error(const char *text, const char *message)
{
        assert_parse_error_len(text, strlen(text), "0-7", message);
}

/* The key table and the defaults */

static void test_keys(void **state)
{
        static const char *const expected[][3] = {
                {"Devices", "GPU", "pci-addresses"},
                {"Devices", "WithGroup", "bool"},
                {"Devices", "SingleGPU", "bool"},
                {"Holders", "Policy", "enum"},
                {"Deadlines", "Settle", "duration"},
                {"Deadlines", "Write", "duration"},
                {"Deadlines", "UnitJob", "duration"},
                {"Deadlines", "Sessions", "duration"},
                {"Deadlines", "Lock", "duration"},
                {"Deadlines", "Hugepages", "duration"},
                {"CPU", "Housekeeping", "cpulist"},
                {"CPU", "Units", "names"},
                {"CPU", "Writeback", "bool"},
                {"CPU", "IRQAffinity", "bool"},
                {"Memory", "DropCaches", "bool"},
                {"Memory", "Compact", "enum"},
                {"Memory", "Hugepages", "size"},
                {"Memory", "HugepageSize", "size"},
                {"Memory", "HugepageNode", "numa-node"},
                {"Freeze", "Units", "names"},
                {"Freeze", "Processes", "names"},
        };

        assert_int_equal(config_n_keys(), ELEMENTSOF(expected));
        for (size_t i = 0; i < ELEMENTSOF(expected); i++) {
                assert_string_equal(config_key(i)->section, expected[i][0]);
                assert_string_equal(config_key(i)->key, expected[i][1]);
                assert_string_equal(config_key(i)->type, expected[i][2]);
        }
        assert_null(config_key(config_n_keys()));
        assert_null(config_value_string(NULL, 0));
}

static void test_defaults(void **state)
{
        _cleanup_(config_freep) struct config *c = new_default();
        static const char *const values[] = {
            "",     "no",  "no",  "refuse", "10s", "20s",
            "100s", "10s", "15s", "10s",    "",    "system.slice user.slice init.scope",
            "no",   "no",  "no",  "auto",   "0",   "2M",
            "all",  "",    "",
        };

        assert_non_null(c->gpus);
        assert_null(c->gpus[0]);
        assert_false(c->with_group);
        assert_false(c->single_gpu);
        assert_int_equal(c->holders, HOLDER_POLICY_REFUSE);
        assert_int_equal(c->settle_usec, 10000000);
        assert_int_equal(c->write_usec, 20000000);
        assert_int_equal(c->unit_job_usec, 100000000);
        assert_int_equal(c->sessions_usec, 10000000);
        assert_int_equal(c->lock_usec, 15000000);
        assert_int_equal(c->hugepages_usec, 10000000);
        assert_null(c->housekeeping);
        assert_string_equal(c->cpu_units[0], "system.slice");
        assert_string_equal(c->cpu_units[1], "user.slice");
        assert_string_equal(c->cpu_units[2], "init.scope");
        assert_null(c->cpu_units[3]);
        assert_false(c->writeback);
        assert_false(c->irq_affinity);
        assert_false(c->drop_caches);
        assert_int_equal(c->compact, COMPACT_AUTO);
        assert_int_equal(c->hugepages, 0);
        assert_int_equal(c->hugepage_size, 2 << 20);
        assert_int_equal(c->hugepage_node, -1);
        assert_null(c->freeze_units[0]);
        assert_null(c->freeze_processes[0]);
        assert_null(c->files[0]);

        assert_int_equal(ELEMENTSOF(values), config_n_keys());
        for (size_t i = 0; i < config_n_keys(); i++) {
                _cleanup_free_ char *s = config_value_string(c, i);
                assert_string_equal(s, values[i]);
                assert_null(config_value_origin(c, i).file);
        }
        assert_null(config_value_string(c, config_n_keys()));
        assert_null(config_value_origin(c, config_n_keys()).file);
        assert_int_equal(config_check(c, NULL), 0);
}

/* Every type */

static void test_empty_and_comments(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;
        struct config *d;

        c = parse_ok("", NULL);
        assert_string_equal(c->files[0], F);
        assert_null(c->files[1]);
        config_free(c);
        c = parse_ok("\n\n   \n\t\n# comment\n  ; another = with equals\n[CPU]\n# Housekeeping=0-1\n", NULL);
        assert_null(c->housekeeping);

        /* NULL text of length 0 is an empty file */
        d = new_default();
        assert_int_equal(config_parse(d, NULL, 0, F, NULL, NULL, NULL), 0);
        config_free(d);
}

static void test_bool(void **state)
{
        static const struct {
                const char *word;
                bool value;
        } words[] = {{"yes", true}, {"true", true},   {"on", true},   {"1", true},
                     {"no", false}, {"false", false}, {"off", false}, {"0", false}};

        for (size_t i = 0; i < ELEMENTSOF(words); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(config_freep) struct config *c = NULL;

                assert_true(asprintf(&text,
                            "[Devices]\nWithGroup=%s\nSingleGPU=%s\n[CPU]\nWriteback=%s\nIRQAffinity=%s\n"
                            "[Memory]\nDropCaches=%s\n",
                            words[i].word, words[i].word, words[i].word, words[i].word, words[i].word) > 0);
                c = parse_ok(text, NULL);
                assert_int_equal(c->with_group, words[i].value);
                assert_int_equal(c->single_gpu, words[i].value);
                assert_int_equal(c->writeback, words[i].value);
                assert_int_equal(c->irq_affinity, words[i].value);
                assert_int_equal(c->drop_caches, words[i].value);
                assert_value(c, "Devices", "WithGroup", words[i].value ? "yes" : "no");
        }
        assert_parse_error("[Devices]\nWithGroup=maybe\n",
                           F ":2: WithGroup=maybe: not a boolean; expected yes or no (also true/false, on/off, 1/0)");
        assert_parse_error("[Devices]\nWithGroup=Yes\n",
                           F ":2: WithGroup=Yes: not a boolean; expected yes or no (also true/false, on/off, 1/0)");
        assert_parse_error("[Devices]\nSingleGPU=\n",
                           F ":2: SingleGPU=: not a boolean; expected yes or no (also true/false, on/off, 1/0)");
}

static void test_duration(void **state)
{
        static const struct {
                const char *text;
                uint64_t usec;
                const char *canonical;
        } good[] = {
                {"10", 10000000, "10s"},     {"10s", 10000000, "10s"},
                {"10 s", 10000000, "10s"},   {"1500ms", 1500000, "1500ms"},
                {"2000ms", 2000000, "2s"},   {"250us", 250, "250us"},
                {"2min", 120000000, "2min"}, {"100s", 100000000, "100s"},
                {"120s", 120000000, "2min"}, {"1h", 3600000000, "1h"},
                {"23h", 82800000000, "23h"}, {"86399s", 86399000000, "86399s"},
                {"1us", 1, "1us"},           {"007s", 7000000, "7s"},
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(config_freep) struct config *c = NULL;

                assert_true(asprintf(&text,
                                     "[Deadlines]\nSettle=%s\nWrite=%s\nUnitJob=%s\nSessions=%s\nLock=%s\n"
                                     "Hugepages=%s\n",
                                     good[i].text, good[i].text, good[i].text, good[i].text, good[i].text,
                                     good[i].text) > 0);
                c = parse_ok(text, NULL);
                assert_int_equal(c->settle_usec, good[i].usec);
                assert_int_equal(c->write_usec, good[i].usec);
                assert_int_equal(c->unit_job_usec, good[i].usec);
                assert_int_equal(c->sessions_usec, good[i].usec);
                assert_int_equal(c->lock_usec, good[i].usec);
                assert_int_equal(c->hugepages_usec, good[i].usec);
                assert_value(c, "Deadlines", "Settle", good[i].canonical);
                assert_value(c, "Deadlines", "Hugepages", good[i].canonical);
        }

        assert_parse_error("[Deadlines]\nSettle=0\n",
                           F ":2: Settle=0: a deadline must be longer than 0; expected e.g. 10s");
        assert_parse_error("[Deadlines]\nSettle=0ms\n",
                           F ":2: Settle=0ms: a deadline must be longer than 0; expected e.g. 10s");
        assert_parse_error("[Deadlines]\nWrite=24h\n",
                           F ":2: Write=24h: too long; expected less than a day (24h)");
        assert_parse_error("[Deadlines]\nWrite=86400s\n",
                           F ":2: Write=86400s: too long; expected less than a day (24h)");
        assert_parse_error("[Deadlines]\nWrite=99999999999999999999999h\n",
                           F ":2: Write=99999999999999999999999h: too long; expected less than a day (24h)");
        assert_parse_error("[Deadlines]\nWrite=18446744073709551615us\n",
                           F ":2: Write=18446744073709551615us: too long; expected less than a day (24h)");
        assert_parse_error("[Deadlines]\nLock=2d\n",
                           F ":2: Lock=2d: unknown unit \"d\"; expected us, ms, s, min or h, e.g. 10s");
        assert_parse_error("[Deadlines]\nLock=2m\n",
                           F ":2: Lock=2m: unknown unit \"m\"; expected us, ms, s, min or h, e.g. 10s");
        assert_parse_error("[Deadlines]\nLock=1.5s\n",
                           F ":2: Lock=1.5s: not a whole number; expected e.g. 1500ms for 1.5s");
        assert_parse_error("[Deadlines]\nUnitJob=s\n",
                           F ":2: UnitJob=s: not a duration; expected a whole number with a unit, e.g. 10s, 500ms, 2min");
        assert_parse_error("[Deadlines]\nUnitJob=-5s\n",
                           F ":2: UnitJob=-5s: not a duration; expected a whole number with a unit, e.g. 10s, "
                             "500ms, 2min");
        assert_parse_error("[Deadlines]\nUnitJob=\n",
                           F ":2: UnitJob=: not a duration; expected a whole number with a unit, e.g. 10s, 500ms, 2min");
}

static void test_size(void **state)
{
        static const struct {
                const char *text;
                uint64_t bytes;
                const char *canonical;
        } good[] = {
                {"0", 0, "0"},
                {"0G", 0, "0"},
                {"16G", UINT64_C(16) << 30, "16G"},
                {"16GiB", UINT64_C(16) << 30, "16G"},
                {"16 G", UINT64_C(16) << 30, "16G"},
                {"512M", UINT64_C(512) << 20, "512M"},
                {"1536M", UINT64_C(1536) << 20, "1536M"},
                {"2048M", UINT64_C(2) << 30, "2G"},
                {"4096K", UINT64_C(4) << 20, "4M"},
                {"6KiB", UINT64_C(6) << 10, "6K"},
                {"1T", UINT64_C(1) << 40, "1T"},
                {"1TiB", UINT64_C(1) << 40, "1T"},
                {"2MiB", UINT64_C(2) << 20, "2M"},
                {"16777215T", UINT64_C(16777215) << 40, "16777215T"},
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                _cleanup_free_ char *text = NULL;
                _cleanup_(config_freep) struct config *c = NULL;

                assert_true(asprintf(&text, "[Memory]\nHugepages=%s\n", good[i].text) > 0);
                c = parse_ok(text, NULL);
                assert_int_equal(c->hugepages, good[i].bytes);
                assert_value(c, "Memory", "Hugepages", good[i].canonical);
        }

        assert_parse_error("[Memory]\nHugepages=16\n",
                           F ":2: Hugepages=16: a size needs a unit; expected e.g. 16G, 512M");
        assert_parse_error("[Memory]\nHugepages=16GB\n",
                           F ":2: Hugepages=16GB: unknown unit \"GB\"; expected K, M, G or T (powers of 1024), e.g. 16G");
        assert_parse_error("[Memory]\nHugepages=16g\n",
                           F ":2: Hugepages=16g: unknown unit \"g\"; expected K, M, G or T (powers of 1024), e.g. 16G");
        assert_parse_error("[Memory]\nHugepages=1.5G\n",
                           F ":2: Hugepages=1.5G: not a whole number; expected e.g. 1536M for 1.5G");
        assert_parse_error("[Memory]\nHugepages=16777216T\n", F ":2: Hugepages=16777216T: too large");
        assert_parse_error("[Memory]\nHugepages=99999999999999999999999K\n",
                           F ":2: Hugepages=99999999999999999999999K: too large");
        assert_parse_error("[Memory]\nHugepages=G\n",
                           F ":2: Hugepages=G: not a size; expected a whole number with a unit, e.g. 16G, 512M");
        assert_parse_error("[Memory]\nHugepages=\n",
                           F ":2: Hugepages=: not a size; expected a whole number with a unit, e.g. 16G, 512M");
}

static void test_hugepage_size_and_node(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;

        c = parse_ok("[Memory]\nHugepageSize=1G\nHugepageNode=1\nHugepages=16G\n", NULL);
        assert_int_equal(c->hugepage_size, 1 << 30);
        assert_int_equal(c->hugepage_node, 1);
        assert_value(c, "Memory", "HugepageSize", "1G");
        assert_value(c, "Memory", "HugepageNode", "1");
        assert_int_equal(config_check(c, NULL), 0);
        config_free(c);
        c = parse_ok("[Memory]\nHugepageSize=2048K\nHugepageNode=all\n", NULL);
        assert_int_equal(c->hugepage_size, 2 << 20);
        assert_int_equal(c->hugepage_node, -1);
        assert_value(c, "Memory", "HugepageNode", "all");
        config_free(c);
        c = parse_ok("[Memory]\nHugepageNode=1023\n", NULL);
        assert_int_equal(c->hugepage_node, 1023);

        assert_parse_error("[Memory]\nHugepageSize=4M\n",
                           F ":2: HugepageSize=4M: expected 2M or 1G, the x86-64 hugepage sizes");
        assert_parse_error("[Memory]\nHugepageSize=0\n",
                           F ":2: HugepageSize=0: expected 2M or 1G, the x86-64 hugepage sizes");
        assert_parse_error("[Memory]\nHugepageSize=2\n",
                           F ":2: HugepageSize=2: a size needs a unit; expected e.g. 16G, 512M");
        assert_parse_error("[Memory]\nHugepageNode=1024\n",
                           F ":2: HugepageNode=1024: NUMA node numbers go up to 1023");
        assert_parse_error("[Memory]\nHugepageNode=-1\n",
                           F ":2: HugepageNode=-1: expected all or a NUMA node number (0, 1, ...)");
        assert_parse_error("[Memory]\nHugepageNode=node0\n",
                           F ":2: HugepageNode=node0: expected all or a NUMA node number (0, 1, ...)");
        assert_parse_error("[Memory]\nHugepageNode=1 2\n",
                           F ":2: HugepageNode=1 2: expected all or a NUMA node number (0, 1, ...)");
}

static void test_hugepages_multiple(void **state)
{
        _cleanup_(config_freep) struct config *c = new_default();
        _cleanup_free_ char *error = NULL;

        /* per file, any size parses: the rule is checked once every file is applied */
        parse_into(c, "[Memory]\nHugepages=5M\n", "main.conf", NULL);
        assert_int_equal(config_check(c, &error), -EINVAL);
        assert_string_equal(error,
                            "main.conf:2: Hugepages=5M: not a multiple of HugepageSize=2M (the default); "
                            "expected e.g. 4M or 6M");
        free(TAKE_PTR(error));

        parse_into(c, "\n[Memory]\nHugepageSize=1G\n", "vm.conf", NULL);
        assert_int_equal(config_check(c, &error), -EINVAL);
        assert_string_equal(error,
                            "main.conf:2: Hugepages=5M: not a multiple of HugepageSize=1G (from vm.conf:3); "
                            "expected e.g. 1G");
        free(TAKE_PTR(error));
        assert_int_equal(config_check(c, NULL), -EINVAL);

        parse_into(c, "[Memory]\nHugepages=3G\n", "vm2.conf", NULL);
        assert_int_equal(config_check(c, &error), 0);
        assert_null(error);
}

static void test_enums(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;

        c = parse_ok("[Holders]\nPolicy=terminate\n[Memory]\nCompact=yes\n", NULL);
        assert_int_equal(c->holders, HOLDER_POLICY_TERMINATE);
        assert_int_equal(c->compact, COMPACT_YES);
        assert_value(c, "Holders", "Policy", "terminate");
        assert_value(c, "Memory", "Compact", "yes");
        config_free(c);
        c = parse_ok("[Holders]\nPolicy=refuse\n[Memory]\nCompact=off\n", NULL);
        assert_int_equal(c->holders, HOLDER_POLICY_REFUSE);
        assert_int_equal(c->compact, COMPACT_NO);
        assert_value(c, "Memory", "Compact", "no");
        config_free(c);
        c = new_default();
        parse_into(c, "[Memory]\nCompact=no\n", "a", NULL);
        parse_into(c, "[Memory]\nCompact=auto\n", "b", NULL);
        assert_int_equal(c->compact, COMPACT_AUTO);
        assert_value(c, "Memory", "Compact", "auto");

        assert_parse_error("[Holders]\nPolicy=kill\n", F ":2: Policy=kill: expected refuse or terminate");
        assert_parse_error("[Holders]\nPolicy=Refuse\n",
                           F ":2: Policy=Refuse: expected refuse or terminate");
        assert_parse_error("[Memory]\nCompact=always\n", F ":2: Compact=always: expected auto, yes or no");
}

static void test_gpu(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;

        c = parse_ok("[Devices]\nGPU=01:00.0\t0000:0A:00.1  0001:c1:1f.7\n", NULL);
        assert_string_equal(c->gpus[0], "0000:01:00.0");
        assert_string_equal(c->gpus[1], "0000:0a:00.1");
        assert_string_equal(c->gpus[2], "0001:c1:1f.7");
        assert_null(c->gpus[3]);
        assert_value(c, "Devices", "GPU", "0000:01:00.0 0000:0a:00.1 0001:c1:1f.7");
        config_free(c);
        c = parse_ok("[Devices]\nGPU=\n", NULL);
        assert_null(c->gpus[0]);

        assert_parse_error("[Devices]\nGPU=01:00\n",
                           F ":2: GPU=01:00: \"01:00\" is not a PCI address; expected e.g. 0000:01:00.0 or 01:00.0");
        assert_parse_error("[Devices]\nGPU=01:00.0 01:20.0\n",
                           F ":2: GPU=01:00.0 01:20.0: \"01:20.0\" is not a PCI address; expected e.g. "
                             "0000:01:00.0 or 01:00.0");
        assert_parse_error("[Devices]\nGPU=01:00.0,01:00.1\n",
                           F ":2: GPU=01:00.0,01:00.1: \"01:00.0,01:00.1\" is not a PCI address; expected e.g. "
                           "0000:01:00.0 or 01:00.0");
        assert_parse_error("[Devices]\nGPU=01:00.0 0000:01:00.0\n",
                           F ":2: GPU=01:00.0 0000:01:00.0: 0000:01:00.0 is listed twice");
}

static void test_cpulist(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;

        c = parse_ok("[CPU]\nHousekeeping=3,0-2,8\n", "0-15");
        assert_string_equal(c->housekeeping, "0-3,8");
        assert_value(c, "CPU", "Housekeeping", "0-3,8");
        config_free(c);
        /* online unknown: anything that parses is taken */
        c = parse_ok("[CPU]\nHousekeeping=0-200\n", NULL);
        assert_string_equal(c->housekeeping, "0-200");
        config_free(c);
        /* a malformed online list is not the file's fault (the host reader gives no CPUs): nothing is
         * checked */
        c = parse_ok("[CPU]\nHousekeeping=0-200\n", "garbage");
        assert_string_equal(c->housekeeping, "0-200");
        config_free(c);
        /* empty resets to no isolation */
        c = new_default();
        parse_into(c, "[CPU]\nHousekeeping=0-1\n", "a", "0-7");
        parse_into(c, "[CPU]\nHousekeeping=\n", "b", "0-7");
        assert_null(c->housekeeping);
        assert_value(c, "CPU", "Housekeeping", "");
        assert_origin(c, "CPU", "Housekeeping", "b", 2);

        assert_parse_error("[CPU]\nHousekeeping=0-3,x\n",
                           F ":2: Housekeeping=0-3,x: not a CPU list; expected e.g. 0-3,8-11");
        assert_parse_error("[CPU]\nHousekeeping=3-1\n",
                           F ":2: Housekeeping=3-1: not a CPU list; expected e.g. 0-3,8-11");
        assert_parse_error("[CPU]\nHousekeeping=0 1\n",
                           F ":2: Housekeeping=0 1: not a CPU list; expected e.g. 0-3,8-11");
        assert_parse_error("[CPU]\nHousekeeping=0-8192\n",
                           F ":2: Housekeeping=0-8192: CPU numbers above 8191 do not exist; expected e.g. 0-3,8-11");
        assert_parse_error("[CPU]\nHousekeeping=0-15\n",
                           F ":2: Housekeeping=0-15: CPUs 8-15 are not online (online: 0-7)");
        assert_parse_error("[CPU]\nHousekeeping=0,9\n",
                           F ":2: Housekeeping=0,9: CPU 9 is not online (online: 0-7)");
        assert_parse_error("[CPU]\nHousekeeping=0-7\n",
                           F ":2: Housekeeping=0-7: that is every online CPU (online: 0-7); leave at least one for "
                           "the guest, e.g. Housekeeping=0-1");
        assert_parse_error_len("[CPU]\nHousekeeping=1,4\n", strlen("[CPU]\nHousekeeping=1,4\n"), "0-1,3,5-6",
                               F ":2: Housekeeping=1,4: CPU 4 is not online (online: 0-1,3,5-6)");
}

static void test_names(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;

        c = parse_ok("[CPU]\nUnits=system.slice machine.slice\n"
                     "[Freeze]\nUnits=foo.service bar@1.service x.scope\nProcesses=steam  firefox-bin "
                     "123456789012345\n",
                     NULL);
        assert_string_equal(c->cpu_units[0], "system.slice");
        assert_string_equal(c->cpu_units[1], "machine.slice");
        assert_null(c->cpu_units[2]);
        assert_string_equal(c->freeze_units[2], "x.scope");
        assert_null(c->freeze_units[3]);
        assert_string_equal(c->freeze_processes[0], "steam");
        assert_string_equal(c->freeze_processes[2], "123456789012345");
        assert_value(c, "Freeze", "Processes", "steam firefox-bin 123456789012345");
        config_free(c);

        /* an empty value resets a list */
        c = parse_ok("[CPU]\nUnits=\n", NULL);
        assert_null(c->cpu_units[0]);
        assert_value(c, "CPU", "Units", "");

        assert_parse_error("[CPU]\nUnits=system\n",
                           F ":2: Units=system: \"system\" is not a unit name; expected a name with its type, e.g. "
                           "system.slice or foo.service");
        assert_parse_error("[CPU]\nUnits=.slice\n",
                           F ":2: Units=.slice: \".slice\" is not a unit name; expected a name with its type, e.g. "
                           "system.slice or foo.service");
        assert_parse_error("[Freeze]\nUnits=/etc/x.service\n",
                           F ":2: Units=/etc/x.service: \"/etc/x.service\" is not a unit name: '/' and non-ASCII "
                           "characters are not allowed");
        assert_parse_error("[Freeze]\nUnits=caf\xc3\xa9.service\n",
                           F ":2: Units=caf\xc3\xa9.service: \"caf\xc3\xa9.service\" is not a unit name: '/' and "
                           "non-ASCII characters are not allowed");
        assert_parse_error("[Freeze]\nUnits=a.service a.service\n",
                           F ":2: Units=a.service a.service: a.service is listed twice");
        assert_parse_error("[Freeze]\nProcesses=1234567890123456\n",
                           F ":2: Processes=1234567890123456: process name \"1234567890123456\" is longer than 15 bytes; "
                           "expected the name as /proc/PID/comm shows it (the kernel keeps the first 15 bytes)");
        assert_parse_error("[Freeze]\nProcesses=steam steam\n",
                           F ":2: Processes=steam steam: steam is listed twice");
}

/* Syntax */

static void test_syntax_errors(void **state)
{
        assert_parse_error("[Devices]\nGPU=\n[Foo]\n",
                           F ":3: unknown section [Foo]; expected [Devices], [Holders], [Deadlines], [CPU], [Memory] "
                           "or [Freeze]");
        assert_parse_error("[cpu]\n",
                           F ":1: unknown section [cpu]; expected [Devices], [Holders], [Deadlines], [CPU], [Memory] "
                           "or [Freeze]");
        assert_parse_error("[ CPU ]\n",
                           F ":1: unknown section [ CPU ]; expected [Devices], [Holders], [Deadlines], [CPU], [Memory] "
                           "or [Freeze]");
        assert_parse_error("[CPU\n", F ":1: \"[CPU\": a section header ends with ']'; expected e.g. [CPU]");
        assert_parse_error("[CPU] # the CPUs\n", F
                           ":1: \"[CPU] # the CPUs\": a section header ends with ']'; expected e.g. [CPU]");
        assert_parse_error("[\n", F ":1: \"[\": a section header ends with ']'; expected e.g. [CPU]");
        assert_parse_error("# settle\nSettle=10s\n",
                           F ":2: Settle= outside any section; expected a section header before it (Settle= belongs in "
                           "[Deadlines])");
        assert_parse_error("Hugepages=1G\n",
                           F ":1: Hugepages= outside any section; expected a section header before it (Hugepages= "
                           "belongs in [Deadlines] and [Memory])");
        assert_parse_error("Foo=1\n",
                           F ":1: Foo= outside any section; expected a section header before it, e.g. [Devices]");
        assert_parse_error("[Deadlines]\nSettle 10s\n",
                           F ":2: \"Settle 10s\" is not a Key=Value line, a [Section] header or a comment; expected e.g. "
                           "Settle=10s");
        assert_parse_error("[Deadlines]\n = 10s\n", F ":2: \"=10s\": no key before '='; expected Key=Value");
        assert_parse_error("[Devices]\nGPU=01:00.0\nWithGroup=yes\nGPU=02:00.0\n",
                           F ":4: GPU= given twice in [Devices] (first on line 2)");
        /* in a repeated section too */
        assert_parse_error("[CPU]\nUnits=\n[Freeze]\nUnits=\n[CPU]\n\nUnits=a.slice\n",
                           F ":7: Units= given twice in [CPU] (first on line 2)");
        /* an error after a good line: nothing applies */
        assert_parse_error("[Devices]\nWithGroup=yes\n[Deadlines]\nSettle=x\n",
                           F ":4: Settle=x: not a duration; expected a whole number with a unit, e.g. 10s, 500ms, 2min");
}

static void test_unknown_key_warning(void **state)
{
        _cleanup_(config_freep) struct config *c = new_default();
        char **warnings = NULL;
        char *error = NULL;
        const char *text = "[CPU]\nFoo=bar\nHousekeeping=0\nHugepages=1G\n[Freeze]\nunits=x\n";

        assert_int_equal(config_parse(c, text, strlen(text), F, cpus("0-3"), &warnings, &error), 0);
        assert_null(error);
        assert_non_null(warnings);
        assert_string_equal(warnings[0], F ":2: unknown key Foo= in [CPU], ignored");
        assert_string_equal(warnings[1], F ":4: unknown key Hugepages= in [CPU], ignored (Hugepages= belongs in "
                                           "[Deadlines] and [Memory])");
        assert_string_equal(warnings[2], F ":6: unknown key units= in [Freeze], ignored");
        assert_null(warnings[3]);
        /* the rest of the file applies */
        assert_string_equal(c->housekeeping, "0");
        strv_free_null(warnings);

        /* a file of unknown keys: 20 warnings and a count of the rest */
        {
                char many[2048] = "[CPU]\n";
                size_t n = strlen(many);

                for (int i = 0; i < 50; i++)
                        n += (size_t)snprintf(many + n, sizeof(many) - n, "Key%d=%d\n", i, i);
                assert_int_equal(config_parse(c, many, n, F, NULL, &warnings, NULL), 0);
                assert_string_equal(warnings[0], F ":2: unknown key Key0= in [CPU], ignored");
                assert_string_equal(warnings[19], F ":21: unknown key Key19= in [CPU], ignored");
                assert_string_equal(warnings[20], F ":22: 30 more unknown keys from here on, ignored");
                assert_null(warnings[21]);
                strv_free_null(warnings);
        }

        /* no warnings: NULL */
        warnings = (char **)(uintptr_t)0x1;
        assert_int_equal(config_parse(c, "", 0, F, NULL, &warnings, NULL), 0);
        assert_null(warnings);
}

static void test_text_errors(void **state)
{
        static const char nul[] = "[CPU]\nUnits=a\0.slice\n";
        static const char nul_first[] = "\0";

        assert_parse_error_len(nul, sizeof(nul) - 1, NULL, F ":2: NUL byte; expected a text file");
        assert_parse_error_len(nul_first, 1, NULL, F ":1: NUL byte; expected a text file");
        assert_parse_error("[CPU]\n\n# \xff\n", F ":3: invalid UTF-8 (byte 0xff); expected UTF-8 text");
        assert_parse_error("[CPU]\n# \xc0\xaf overlong\n",
                           F ":2: invalid UTF-8 (byte 0xc0); expected UTF-8 text");
        assert_parse_error("[CPU]\n# \xed\xa0\x80 surrogate\n",
                           F ":2: invalid UTF-8 (byte 0xed); expected UTF-8 text");
        assert_parse_error("[CPU]\n# cut \xe2\x82\n",
                           F ":2: invalid UTF-8 (byte 0xe2); expected UTF-8 text");
        assert_parse_error("[CPU]\nUnits=a.slice\x1b[0m\n",
                           F ":2: control character 0x1b; expected text (a tab is the only one allowed)");
        assert_parse_error("[CPU]\r\r\n",
                           F ":1: control character 0x0d; expected text (a tab is the only one allowed)");
        assert_parse_error("[CPU]\nUnits=a\rb.slice\n",
                           F ":2: control character 0x0d; expected text (a tab is the only one allowed)");

        /* valid UTF-8 in comments is fine */
        config_free(parse_ok("# Grafikkarte f\xc3\xbcr die VM \xe2\x86\x92 \xf0\x9f\x8e\xae\n", NULL));
}

static void test_crlf(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;

        c = parse_ok("# edited on Windows\r\n[Devices]\r\nWithGroup=yes\r\n\r\n[Deadlines]\r\nSettle=5s\r\nLock=1min",
                     NULL);
        assert_true(c->with_group);
        assert_int_equal(c->settle_usec, 5000000);
        assert_int_equal(c->lock_usec, 60000000);
        assert_origin(c, "Deadlines", "Settle", F, 6);
        assert_origin(c, "Deadlines", "Lock", F, 7);
}

static void test_windows(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;

        /* a byte order mark at the start is skipped, anywhere else it is text */
        c = parse_ok("\xef\xbb\xbf[Devices]\r\nWithGroup=yes\r\n", NULL);
        assert_true(c->with_group);
        assert_origin(c, "Devices", "WithGroup", F, 2);
        assert_parse_error("[Devices]\n\xef\xbb\xbf[CPU]\n",
                           F ":2: \"\xef\xbb\xbf[CPU]\" is not a Key=Value line, a [Section] header or a comment; "
                           "expected e.g. Settle=10s");
}

static void test_trailing_comment(void **state)
{
        assert_parse_error("[Deadlines]\nSettle=10s # longer for the RX 6800\n",
                           F ":2: Settle=10s # longer for the RX 6800: unknown unit \"s # longer for the RX 6800\"; "
                           "expected us, ms, s, min or h, e.g. 10s (a comment must be on a line of its own)");
        assert_parse_error("[Devices]\nWithGroup=yes\t; why\n",
                           F ":2: WithGroup=yes\t; why: not a boolean; expected yes or no (also true/false, on/off, "
                           "1/0) (a comment must be on a line of its own)");
}

static void test_blanks(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL;

        c = parse_ok("  [Deadlines]  \n\tSettle\t=\t5s\t\n   Lock =   2min   \n", NULL);
        assert_int_equal(c->settle_usec, 5000000);
        assert_int_equal(c->lock_usec, 120000000);
        config_free(c);
        /* the first '=' splits: a value may hold more */
        c = parse_ok("[Freeze]\nProcesses=a=b\n", NULL);
        assert_string_equal(c->freeze_processes[0], "a=b");
}

static void test_long_lines(void **state)
{
        const size_t big = 200 * 1024;
        _cleanup_free_ char *text = malloc(big + 256), *expected = NULL;
        char last[32];
        _cleanup_(config_freep) struct config *c = NULL;
        size_t n = 0, names = 0;

        assert_non_null(text);
        /* a 200 KB comment, then keys: line numbers stay right */
        n += (size_t)sprintf(text + n, "# ");
        memset(text + n, 'x', big);
        n += big;
        n += (size_t)sprintf(text + n, "\n[Deadlines]\nSettle=3s\n");
        c = parse_ok(text, NULL);
        assert_origin(c, "Deadlines", "Settle", F, 3);
        config_free(TAKE_PTR(c));

        /* a 200 KB value: over 10,000 process names, each different */
        n = (size_t)sprintf(text, "[Freeze]\nProcesses=");
        while (n < big) {
                n += (size_t)sprintf(text + n, "p%zu ", names);
                names++;
        }
        text[n] = '\0';
        c = parse_ok(text, NULL);
        assert_true(names > 10000);
        assert_null(c->freeze_processes[names]);
        snprintf(last, sizeof(last), "p%zu", names - 1);
        assert_string_equal(c->freeze_processes[names - 1], last);
        config_free(TAKE_PTR(c));

        /* a 200 KB bad value: the message quotes the start of it, not all of it */
        n = (size_t)sprintf(text, "[CPU]\nHousekeeping=");
        memset(text + n, '9', big);
        text[n + big] = '\0';
        assert_true(asprintf(&expected,
                             F ":2: Housekeeping=%.64s...: CPU numbers above 8191 do not exist; expected e.g. "
                               "0-3,8-11",
                             text + n) > 0);
        assert_parse_error(text, expected);
}

static void test_override(void **state)
{
        _cleanup_(config_freep) struct config *c = new_default();
        const char *main_text = "[Devices]\nGPU=01:00.0\nWithGroup=yes\n[Deadlines]\nSettle=20s\nLock=1min\n"
                                "[Freeze]\nUnits=a.service\n";
        const char *vm_text = "[Deadlines]\nSettle=3s\n[Freeze]\nUnits=\n[Devices]\nGPU=02:00.0\n";

        parse_into(c, main_text, "main", NULL);
        parse_into(c, vm_text, "vm", NULL);
        assert_value(c, "Devices", "GPU", "0000:02:00.0");
        assert_origin(c, "Devices", "GPU", "vm", 6);
        assert_value(c, "Devices", "WithGroup", "yes");
        assert_origin(c, "Devices", "WithGroup", "main", 3);
        assert_value(c, "Deadlines", "Settle", "3s");
        assert_origin(c, "Deadlines", "Settle", "vm", 2);
        assert_value(c, "Deadlines", "Lock", "1min");
        assert_origin(c, "Deadlines", "Lock", "main", 6);
        assert_value(c, "Freeze", "Units", "");
        assert_origin(c, "Freeze", "Units", "vm", 4);
        assert_value(c, "Deadlines", "Write", "20s");
        assert_origin(c, "Deadlines", "Write", NULL, 0);
        assert_string_equal(c->files[0], "main");
        assert_string_equal(c->files[1], "vm");
        assert_null(c->files[2]);
}

/* Every value written back parses to itself. */
static void test_round_trip(void **state)
{
        _cleanup_(config_freep) struct config *c = NULL, *d = new_default();
        _cleanup_free_ char *text = NULL;
        char *buf = NULL;
        size_t len = 0;
        FILE *f;

        c = parse_ok("[Devices]\nGPU=01:00.0 0000:41:00.1\nSingleGPU=on\n[Holders]\nPolicy=terminate\n"
                     "[Deadlines]\nSettle=1500ms\nWrite=90s\nUnitJob=7200s\n[CPU]\nHousekeeping=8,0-3\n"
                     "Units=\n[Memory]\nCompact=no\nHugepages=3072M\nHugepageSize=1G\nHugepageNode=0\n"
                     "[Freeze]\nProcesses=a b\n",
                     NULL);
        f = open_memstream(&buf, &len);
        assert_non_null(f);
        for (size_t i = 0; i < config_n_keys(); i++) {
                _cleanup_free_ char *v = config_value_string(c, i);
                fprintf(f, "[%s]\n%s=%s\n", config_key(i)->section, config_key(i)->key, v);
        }
        assert_int_equal(fclose(f), 0);
        text = buf;
        parse_into(d, text, "again", NULL);
        for (size_t i = 0; i < config_n_keys(); i++) {
                _cleanup_free_ char *a = config_value_string(c, i), *b = config_value_string(d, i);
                assert_string_equal(a, b);
        }
        assert_value(d, "Deadlines", "UnitJob", "2h");
        assert_value(d, "Memory", "Hugepages", "3G");
}

/* Loading from a tree */

static void chmod_rel(struct test_tree *t, const char *rel, mode_t mode)
{
        _cleanup_free_ char *path = NULL;

        assert_true(asprintf(&path, "%s/%s", t->dir, rel) > 0);
        assert_int_equal(chmod(path, mode), 0);
}

/* Writes a file with exactly this mode (the test's umask does not matter), its directories 0755. */
static void write_conf(struct test_tree *t, const char *rel, const char *text, mode_t mode)
{
        char dir[512];

        test_tree_write(t, rel, text);
        chmod_rel(t, rel, mode);
        snprintf(dir, sizeof(dir), "%s", rel);
        for (char *slash = strrchr(dir, '/'); slash; slash = strrchr(dir, '/')) {
                *slash = '\0';
                if (strcmp(dir, "etc") == 0)
                        break;
                chmod_rel(t, dir, 0755);
        }
}

static int load(struct test_tree *t, const char *vm, struct config **ret, char ***ret_warnings,
                char **ret_error)
{
        uint64_t online[BITMAP_WORDS(CPULIST_BITS)];

        /* as the command line does: the host's online CPUs, when they can be read */
        return config_load(t->sr, vm, cpu_online_read(t->sr, online) >= 0 ? online : NULL, ret, ret_warnings,
                           ret_error);
}

static void assert_load_error(struct test_tree *t, const char *vm, int error, const char *message)
{
        struct config *c = (struct config *)(uintptr_t)0x1234;
        _cleanup_free_ char *e = NULL;

        assert_int_equal(load(t, vm, &c, NULL, &e), error);
        assert_ptr_equal(c, (struct config *)(uintptr_t)0x1234);
        assert_non_null(e);
        assert_string_equal(e, message);
}

static void test_load_missing(void **state)
{
        struct test_tree *t = test_tree_new("config-missing");
        _cleanup_(config_freep) struct config *c = NULL;
        char **warnings = (char **)(uintptr_t)0x1;

        /* no etc/gpu-handoff at all */
        assert_int_equal(load(t, "win11", &c, &warnings, NULL), 0);
        assert_null(warnings);
        assert_null(c->files[0]);
        config_free(TAKE_PTR(c));

        /* the directory, no file; vm.d without the VM's file */
        test_tree_mkdir(t, "etc/gpu-handoff/vm.d");
        chmod_rel(t, "etc/gpu-handoff", 0755);
        chmod_rel(t, "etc/gpu-handoff/vm.d", 0755);
        assert_int_equal(load(t, "win11", &c, NULL, NULL), 0);
        assert_null(c->files[0]);
        config_free(TAKE_PTR(c));

        /* only the VM's file */
        write_conf(t, "etc/gpu-handoff/vm.d/win11.conf", "[Deadlines]\nSettle=1s\n", 0644);
        assert_int_equal(load(t, "win11", &c, NULL, NULL), 0);
        assert_string_equal(c->files[0], "/etc/gpu-handoff/vm.d/win11.conf");
        assert_null(c->files[1]);
        assert_int_equal(c->settle_usec, 1000000);
        config_free(TAKE_PTR(c));
        /* without --vm it is not read */
        assert_int_equal(load(t, NULL, &c, NULL, NULL), 0);
        assert_null(c->files[0]);
        test_tree_free(t);
}

static void test_load_override(void **state)
{
        struct test_tree *t = test_tree_new("config-override");
        _cleanup_(config_freep) struct config *c = NULL;
        char **warnings = NULL;

        write_conf(t, "etc/gpu-handoff/gpu-handoff.conf",
                   "# host "
                   "defaults\n[Devices]\nGPU=01:00.0\n[CPU]\nHousekeeping=0-1\nBogus=1\n[Memory]\nHugepages=8G\n",
                   0644);
        write_conf(t, "etc/gpu-handoff/vm.d/win11.conf",
                   "[CPU]\nHousekeeping=0-3\n[Memory]\nHugepageSize=1G\n", 0600);
        test_tree_write(t, "sys/devices/system/cpu/online", "0-7\n");

        assert_int_equal(load(t, "win11", &c, &warnings, NULL), 0);
        assert_non_null(warnings);
        assert_string_equal(warnings[0], MAIN ":6: unknown key Bogus= in [CPU], ignored");
        assert_null(warnings[1]);
        strv_free_null(warnings);
        assert_string_equal(c->files[0], MAIN);
        assert_string_equal(c->files[1], "/etc/gpu-handoff/vm.d/win11.conf");
        assert_value(c, "Devices", "GPU", "0000:01:00.0");
        assert_origin(c, "Devices", "GPU", MAIN, 3);
        assert_value(c, "CPU", "Housekeeping", "0-3");
        assert_origin(c, "CPU", "Housekeeping", "/etc/gpu-handoff/vm.d/win11.conf", 2);
        assert_value(c, "Memory", "Hugepages", "8G");
        assert_value(c, "Memory", "HugepageSize", "1G");
        config_free(TAKE_PTR(c));

        /* the online CPUs are checked, in either file */
        write_conf(t, "etc/gpu-handoff/vm.d/big.conf", "[CPU]\nHousekeeping=0-15\n", 0644);
        assert_load_error(t, "big", -EINVAL,
                          "/etc/gpu-handoff/vm.d/big.conf:2: Housekeeping=0-15: CPUs 8-15 are not online (online: 0-7)");
        /* and the hugepage rule after both */
        write_conf(t, "etc/gpu-handoff/vm.d/odd.conf", "[Memory]\nHugepageSize=1G\nHugepages=1536M\n", 0644);
        assert_load_error(t, "odd", -EINVAL,
                          "/etc/gpu-handoff/vm.d/odd.conf:3: Hugepages=1536M: not a multiple of HugepageSize=1G (from "
                          "/etc/gpu-handoff/vm.d/odd.conf:2); expected e.g. 1G or 2G");
        /* an error in the main file */
        write_conf(t, "etc/gpu-handoff/gpu-handoff.conf", "[Devices]\nGPU=1\n", 0644);
        assert_load_error(t, "win11", -EINVAL,
                          MAIN
                          ":2: GPU=1: \"1\" is not a PCI address; expected e.g. 0000:01:00.0 or 01:00.0");
        test_tree_free(t);
}

static void test_load_unsafe(void **state)
{
        struct test_tree *t = test_tree_new("config-unsafe");
        _cleanup_(config_freep) struct config *c = NULL;

        write_conf(t, "etc/gpu-handoff/gpu-handoff.conf", "[Devices]\n", 0666);
        assert_load_error(t, NULL, -EPERM,
                          MAIN
                          " is writable by group and others (mode 0666): it configures a root process; chmod go-w it");
        chmod_rel(t, "etc/gpu-handoff/gpu-handoff.conf", 0602);
        assert_load_error(t, NULL, -EPERM,
                          MAIN
                          " is writable by others (mode 0602): it configures a root process; chmod go-w it");
        chmod_rel(t, "etc/gpu-handoff/gpu-handoff.conf", 0620);
        assert_load_error(t, NULL, -EPERM,
                          MAIN
                          " is writable by group (mode 0620): it configures a root process; chmod go-w it");
        chmod_rel(t, "etc/gpu-handoff/gpu-handoff.conf", 0400);
        assert_int_equal(load(t, NULL, &c, NULL, NULL), 0);
        config_free(TAKE_PTR(c));

        /* the directories */
        chmod_rel(t, "etc/gpu-handoff", 0775);
        assert_load_error(t, NULL, -EPERM,
                          "/etc/gpu-handoff is writable by group (mode 0775): it configures a root process; "
                          "chmod go-w it");
        chmod_rel(t, "etc/gpu-handoff", 01777);
        assert_load_error(t, NULL, -EPERM,
                          "/etc/gpu-handoff is writable by group and others (mode 1777): it configures a root "
                          "process; chmod go-w it");
        chmod_rel(t, "etc/gpu-handoff", 0755);
        write_conf(t, "etc/gpu-handoff/vm.d/win11.conf", "", 0644);
        chmod_rel(t, "etc/gpu-handoff/vm.d", 0770);
        assert_load_error(t, "win11", -EPERM,
                          "/etc/gpu-handoff/vm.d is writable by group (mode 0770): it configures a root process; "
                          "chmod go-w it");
        /* vm.d is only looked at for a VM */
        assert_int_equal(load(t, NULL, &c, NULL, NULL), 0);
        config_free(TAKE_PTR(c));
        chmod_rel(t, "etc/gpu-handoff/vm.d", 0755);
        chmod_rel(t, "etc/gpu-handoff/vm.d/win11.conf", 0664);
        assert_load_error(t, "win11", -EPERM,
                          "/etc/gpu-handoff/vm.d/win11.conf is writable by group (mode 0664): it configures a root "
                          "process; chmod go-w it");
        test_tree_free(t);
}

static void test_load_owner(void **state)
{
        struct test_tree *t;
        char path[512];

        if (geteuid() != 0)
                skip(); /* only root can give a file away */
        t = test_tree_new("config-owner");
        write_conf(t, "etc/gpu-handoff/gpu-handoff.conf", "", 0644);
        snprintf(path, sizeof(path), "%s/etc/gpu-handoff/gpu-handoff.conf", t->dir);
        assert_int_equal(chown(path, 1234, 1234), 0);
        assert_load_error(t, NULL, -EPERM,
                          MAIN
                          " is owned by uid 1234, not root: it configures a root process; chown root it");
        assert_int_equal(chown(path, 0, 0), 0);
        snprintf(path, sizeof(path), "%s/etc/gpu-handoff", t->dir);
        assert_int_equal(chown(path, 1234, 0), 0);
        assert_load_error(t, NULL, -EPERM,
                          "/etc/gpu-handoff is owned by uid 1234, not root: it configures a root process; chown root it");
        test_tree_free(t);
}

static void test_load_files(void **state)
{
        struct test_tree *t = test_tree_new("config-files");
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_free_ char *big = NULL;
        char path[512];

        write_conf(t, "etc/gpu-handoff/gpu-handoff.conf", "[Deadlines]\nSettle=2s\n", 0644);
        write_conf(t, "etc/gpu-handoff/vm.d/x.conf", "", 0644);

        /* a symlink resolves inside the root, even an absolute one; the target is what is checked */
        test_tree_link(t, "/etc/gpu-handoff/gpu-handoff.conf", "etc/gpu-handoff/vm.d/link.conf");
        assert_int_equal(load(t, "link", &c, NULL, NULL), 0);
        assert_origin(c, "Deadlines", "Settle", "/etc/gpu-handoff/vm.d/link.conf", 2);
        config_free(TAKE_PTR(c));
        test_tree_link(t, "../../../../../../../../secret.conf", "etc/gpu-handoff/vm.d/escape.conf");
        write_conf(t, "secret.conf", "[Deadlines]\nSettle=4s\n", 0666);
        assert_load_error(t, "escape", -EPERM,
                          "/etc/gpu-handoff/vm.d/escape.conf is writable by group and others (mode 0666): it "
                          "configures a root process; chmod go-w it");
        chmod_rel(t, "secret.conf", 0644);
        assert_int_equal(load(t, "escape", &c, NULL, NULL), 0);
        assert_int_equal(c->settle_usec, 4000000);
        config_free(TAKE_PTR(c));
        test_tree_link(t, "loop.conf", "etc/gpu-handoff/vm.d/loop.conf");
        assert_load_error(t, "loop", -ELOOP,
                          "/etc/gpu-handoff/vm.d/loop.conf: Too many levels of symbolic links");

        /* not a regular file */
        snprintf(path, sizeof(path), "%s/etc/gpu-handoff/vm.d/fifo.conf", t->dir);
        assert_int_equal(mkfifo(path, 0644), 0);
        assert_int_equal(chmod(path, 0644), 0);
        assert_load_error(t, "fifo", -EINVAL,
                          "/etc/gpu-handoff/vm.d/fifo.conf is not a regular file; expected a configuration file");
        test_tree_mkdir(t, "etc/gpu-handoff/vm.d/dir.conf");
        chmod_rel(t, "etc/gpu-handoff/vm.d/dir.conf", 0755);
        assert_load_error(t, "dir", -EINVAL,
                          "/etc/gpu-handoff/vm.d/dir.conf is not a regular file; expected a configuration file");

        /* over 1 MiB */
        big = malloc(1024 * 1024 + 2);
        assert_non_null(big);
        memset(big, '#', 1024 * 1024 + 1);
        big[1024 * 1024 + 1] = '\0';
        write_conf(t, "etc/gpu-handoff/vm.d/big.conf", big, 0644);
        assert_load_error(t, "big", -EFBIG,
                          "/etc/gpu-handoff/vm.d/big.conf is larger than 1 MiB; expected a configuration file");
        big[1024 * 1024] = '\0'; /* exactly 1 MiB is fine */
        write_conf(t, "etc/gpu-handoff/vm.d/big.conf", big, 0644);
        assert_int_equal(load(t, "big", &c, NULL, NULL), 0);
        config_free(TAKE_PTR(c));

        /* etc/gpu-handoff a file */
        test_tree_free(t);
        t = test_tree_new("config-notdir");
        test_tree_write(t, "etc/gpu-handoff", "");
        assert_load_error(t, NULL, -ENOTDIR,
                          "/etc/gpu-handoff is not a directory; expected the configuration directory");
        test_tree_free(t);
}

static void test_vm_names(void **state)
{
        /* The lines name no option: the hook passes names too (and never one refused here). */
        struct test_tree *t = test_tree_new("config-vm");
        _cleanup_(config_freep) struct config *c = NULL;
        char name[300];

        assert_load_error(t, "", -EINVAL,
                          "\"\" is not a VM name: it is empty; expected the libvirt domain name, a file name of 1 "
                          "to 250 bytes (no '/', no control characters)");
        assert_load_error(t, "../etc/passwd", -EINVAL,
                          "\"../etc/passwd\" is not a VM name: it contains '/'; expected the libvirt domain "
                          "name, a file name of 1 to 250 bytes (no '/', no control characters)");
        assert_load_error(t, "a/b", -EINVAL,
                          "\"a/b\" is not a VM name: it contains '/'; expected the libvirt domain name, a file "
                          "name of 1 to 250 bytes (no '/', no control characters)");
        assert_load_error(t, "win\n11", -EINVAL,
                          "\"win\\x0a11\" is not a VM name: it contains a control character; expected the "
                          "libvirt domain name, a file name of 1 to 250 bytes (no '/', no control characters)");
        memset(name, 'a', 251);
        name[251] = '\0';
        assert_load_error(t, name, -EINVAL,
                          "\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...\" is not a VM "
                          "name: it is longer than 250 bytes; expected the libvirt domain name, a file name of 1 to "
                          "250 bytes (no '/', no control characters)");
        name[250] = '\0';
        assert_int_equal(load(t, name, &c, NULL, NULL), 0);
        config_free(TAKE_PTR(c));
        /* what libvirt allows otherwise is fine: a leading '.' too (vm.d/.hidden.conf) */
        assert_int_equal(load(t, "win 11 (gaming) \xc3\xa9", &c, NULL, NULL), 0);
        config_free(TAKE_PTR(c));
        test_tree_write(t, "etc/gpu-handoff/vm.d/.hidden.conf", "[Devices]\nSingleGPU=yes\n");
        assert_int_equal(load(t, ".hidden", &c, NULL, NULL), 0);
        assert_true(c->single_gpu);
        config_free(TAKE_PTR(c));
        assert_int_equal(load(t, "..", &c, NULL, NULL), 0);
        test_tree_free(t);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_keys),
            cmocka_unit_test(test_defaults),
            cmocka_unit_test(test_empty_and_comments),
            cmocka_unit_test(test_bool),
            cmocka_unit_test(test_duration),
            cmocka_unit_test(test_size),
            cmocka_unit_test(test_hugepage_size_and_node),
            cmocka_unit_test(test_hugepages_multiple),
            cmocka_unit_test(test_enums),
            cmocka_unit_test(test_gpu),
            cmocka_unit_test(test_cpulist),
            cmocka_unit_test(test_names),
            cmocka_unit_test(test_syntax_errors),
            cmocka_unit_test(test_unknown_key_warning),
            cmocka_unit_test(test_text_errors),
            cmocka_unit_test(test_crlf),
            cmocka_unit_test(test_windows),
            cmocka_unit_test(test_trailing_comment),
            cmocka_unit_test(test_blanks),
            cmocka_unit_test(test_long_lines),
            cmocka_unit_test(test_override),
            cmocka_unit_test(test_round_trip),
            cmocka_unit_test(test_load_missing),
            cmocka_unit_test(test_load_override),
            cmocka_unit_test(test_load_unsafe),
            cmocka_unit_test(test_load_owner),
            cmocka_unit_test(test_load_files),
            cmocka_unit_test(test_vm_names),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
