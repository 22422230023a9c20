/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the quirks database: the format (docs/quirks.md), every error with its exact
 * message, matching, loading, and the shipped data/quirks. */

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "host/quirks.h"

/* Tests call the parser with this name so the expected messages are short. */
#define F "t.q"

#define ENTRY_A                                                                                                     \
        "[entry-a]\n"                                                                                               \
        "name     = Family A\n"                                                                                     \
        "match    = 10de:2b80-2bff 10de:1e04 1002:744C\n"                                                           \
        "severity = warning\n"                                                                                      \
        "flags    = reset-once-per-boot companions-travel\n"                                                        \
        "summary  = It breaks.\n"                                                                                   \
        "fix      = Reboot.\n"                                                                                      \
        "source   = https://example.org/a#comment-5\n"

#define ENTRY_B                                                                                                     \
        "[entry-b]\n"                                                                                               \
        "source = ref B\n"                                                                                          \
        "fix = Fix B\n"                                                                                             \
        "summary = Summary B\n"                                                                                     \
        "severity = info\n"                                                                                         \
        "match = 10de:1e04\n"                                                                                       \
        "name = Family B\n"

static struct quirk_db *parse_ok(const char *text)
{
        struct quirk_db *db = NULL;
        char *error = NULL;
        int r;

        r = quirk_db_parse(text, strlen(text), F, &db, &error);
        if (r < 0)
                fail_msg("unexpected parse error %d: %s", r, error ? error : "(none)");
        assert_null(error);
        assert_non_null(db);
        return db;
}

/* Parses text, expects failure with exactly message, and that *ret was left alone. */
static void assert_parse_error_len(const char *text, size_t len, const char *message)
{
        struct quirk_db *db = (struct quirk_db *)(uintptr_t)0x1234;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(quirk_db_parse(text, len, F, &db, &error), -EINVAL);
        assert_ptr_equal(db, (struct quirk_db *)(uintptr_t)0x1234);
        assert_non_null(error);
        assert_string_equal(error, message);

        /* the same without an error buffer must not crash or leak */
        assert_int_equal(quirk_db_parse(text, len, F, &db, NULL), -EINVAL);
        assert_ptr_equal(db, (struct quirk_db *)(uintptr_t)0x1234);
}

static void assert_parse_error(const char *text, const char *message)
{
        assert_parse_error_len(text, strlen(text), message);
}

static void test_parse_good(void **state)
{
        _cleanup_quirk_db_ struct quirk_db *db = parse_ok("# leading comment\n\n" ENTRY_A "\n   # indented comment\n" ENTRY_B);
        const struct quirk *a, *b;

        assert_int_equal(db->n_quirks, 2);
        a = &db->quirks[0];
        assert_string_equal(a->id, "entry-a");
        assert_string_equal(a->name, "Family A");
        assert_int_equal(a->severity, QUIRK_WARNING);
        assert_int_equal(a->flags, QUIRK_RESET_ONCE_PER_BOOT | QUIRK_COMPANIONS_TRAVEL);
        assert_string_equal(a->summary, "It breaks.");
        assert_string_equal(a->fix, "Reboot.");
        /* '#' inside a value is part of it */
        assert_string_equal(a->source, "https://example.org/a#comment-5");
        assert_int_equal(a->n_ranges, 3);
        assert_int_equal(a->ranges[0].vendor, 0x10de);
        assert_int_equal(a->ranges[0].first, 0x2b80);
        assert_int_equal(a->ranges[0].last, 0x2bff);
        assert_int_equal(a->ranges[1].vendor, 0x10de);
        assert_int_equal(a->ranges[1].first, 0x1e04);
        assert_int_equal(a->ranges[1].last, 0x1e04);
        /* upper case hex */
        assert_int_equal(a->ranges[2].vendor, 0x1002);
        assert_int_equal(a->ranges[2].first, 0x744c);
        assert_int_equal(a->ranges[2].last, 0x744c);

        b = &db->quirks[1];
        assert_string_equal(b->id, "entry-b");
        assert_string_equal(b->name, "Family B");
        assert_int_equal(b->severity, QUIRK_INFO);
        assert_int_equal(b->flags, 0); /* flags is optional */
        assert_string_equal(b->source, "ref B");
        assert_int_equal(b->n_ranges, 1);
}

static void test_parse_whitespace(void **state)
{
        /* tabs, no blanks around '=', blanks before the header, CRLF, no final newline,
         * and '=' inside a value */
        const char *text = "  [x1]  \r\n"
                           "name=N = M\r\n"
                           "\tmatch\t=\t8086:0001\t 8086:0002-0003 \r\n"
                           "severity = error\r\n"
                           "flags = vendor-reset\t keep-efifb   reset-broken\r\n"
                           "summary = S\r\n"
                           "fix = F\r\n"
                           "source = R";
        _cleanup_quirk_db_ struct quirk_db *db = parse_ok(text);
        const struct quirk *q = &db->quirks[0];

        assert_int_equal(db->n_quirks, 1);
        assert_string_equal(q->id, "x1");
        assert_string_equal(q->name, "N = M");
        assert_int_equal(q->severity, QUIRK_ERROR);
        assert_int_equal(q->flags, QUIRK_VENDOR_RESET | QUIRK_KEEP_EFIFB | QUIRK_RESET_BROKEN);
        assert_string_equal(q->source, "R");
        assert_int_equal(q->n_ranges, 2);
        assert_int_equal(q->ranges[1].first, 2);
        assert_int_equal(q->ranges[1].last, 3);
}

static void test_parse_utf8(void **state)
{
        _cleanup_quirk_db_ struct quirk_db *db = parse_ok("[u]\nname = Radeon\u2122 caf\u00e9 \U0001F600\nmatch = 1002:0001\n"
                                                          "severity = info\nsummary = s\nfix = f\nsource = s\n");

        assert_string_equal(db->quirks[0].name, "Radeon\u2122 caf\u00e9 \U0001F600");
}

static void test_parse_empty(void **state)
{
        _cleanup_quirk_db_ struct quirk_db *a = parse_ok("");
        _cleanup_quirk_db_ struct quirk_db *b = parse_ok("# only\n\n  # comments\n\t\n");
        _cleanup_quirk_db_ struct quirk_db *c = NULL;

        assert_int_equal(a->n_quirks, 0);
        assert_int_equal(b->n_quirks, 0);
        /* NULL text with length 0 is an empty file */
        assert_int_equal(quirk_db_parse(NULL, 0, F, &c, NULL), 0);
        assert_non_null(c);
        assert_int_equal(c->n_quirks, 0);
}

static void test_parse_not_nul_terminated(void **state)
{
        /* The parser must honour len: the bytes after it are garbage that would fail. */
        const char text[] = ENTRY_B "name = garbage after the end\n";
        _cleanup_quirk_db_ struct quirk_db *db = NULL;

        assert_int_equal(quirk_db_parse(text, strlen(ENTRY_B), F, &db, NULL), 0);
        assert_int_equal(db->n_quirks, 1);
        assert_string_equal(db->quirks[0].name, "Family B");
}

static void test_parse_errors_structure(void **state)
{
        assert_parse_error("name = x\n", F ":1: key outside an entry; expected a section header '[id]' first");
        assert_parse_error("# c\n\nhello\n" ENTRY_A,
                           F ":3: cannot parse 'hello'; expected '[id]', 'key = value', a '#' comment or a blank line");
        assert_parse_error(ENTRY_A "just words\n",
                           F ":9: cannot parse 'just words'; expected '[id]', 'key = value', a '#' comment or a blank line");
        assert_parse_error("[a\n", F ":1: bad section header '[a'; expected '[id]'");
        assert_parse_error("[\n", F ":1: bad section header '['; expected '[id]'");
        assert_parse_error("[a] x\n", F ":1: bad section header '[a] x'; expected '[id]'");
        assert_parse_error("[]\n", F ":1: bad entry id ''; expected lower-case letters, digits and '-', not starting with '-'");
        assert_parse_error("[Big]\n",
                           F ":1: bad entry id 'Big'; expected lower-case letters, digits and '-', not starting with '-'");
        assert_parse_error("[ a ]\n",
                           F ":1: bad entry id ' a '; expected lower-case letters, digits and '-', not starting with '-'");
        assert_parse_error("[-a]\n",
                           F ":1: bad entry id '-a'; expected lower-case letters, digits and '-', not starting with '-'");
        assert_parse_error("[a_b]\n",
                           F ":1: bad entry id 'a_b'; expected lower-case letters, digits and '-', not starting with '-'");
        assert_parse_error(ENTRY_A "\n" ENTRY_B "[entry-a]\n",
                           F ":17: duplicate entry id 'entry-a' (first defined on line 1)");
}

static void test_parse_errors_keys(void **state)
{
        assert_parse_error("[a]\nnmae = x\n",
                           F ":2: unknown key 'nmae'; expected name, match, severity, flags, summary, fix or source");
        assert_parse_error("[a]\nName = x\n",
                           F ":2: unknown key 'Name'; expected name, match, severity, flags, summary, fix or source");
        assert_parse_error("[a]\nna me = x\n",
                           F ":2: unknown key 'na me'; expected name, match, severity, flags, summary, fix or source");
        assert_parse_error("[a]\n= x\n", F ":2: missing key before '='; expected 'key = value'");
        assert_parse_error("[a]\nname = x\nname = y\n",
                           F ":3: duplicate key 'name' in entry 'a' (first set on line 2)");
        assert_parse_error("[a]\nflags = keep-efifb\n\n# c\nflags = keep-efifb\n",
                           F ":5: duplicate key 'flags' in entry 'a' (first set on line 2)");
        assert_parse_error("[a]\nname =\n", F ":2: key 'name' has an empty value");
        assert_parse_error("[a]\nsource = \t \n", F ":2: key 'source' has an empty value");
        assert_parse_error("[a]\nflags =\n", F ":2: key 'flags' has an empty value");
}

static void test_parse_errors_missing(void **state)
{
        /* reported on the entry's header line, in key order */
        assert_parse_error("[lonely]\n", F ":1: entry 'lonely' lacks the mandatory key 'name'");
        assert_parse_error(ENTRY_B "\n[b2]\nname = n\nmatch = 1002:0001\nseverity = info\nsummary = s\nfix = f\n",
                           F ":9: entry 'b2' lacks the mandatory key 'source'");
        assert_parse_error("[c]\nname = n\nseverity = info\nsummary = s\nfix = f\nsource = s\n[d]\n",
                           F ":1: entry 'c' lacks the mandatory key 'match'");
        assert_parse_error("[c]\nname = n\nmatch = 1002:0001\nsummary = s\nfix = f\nsource = s\n",
                           F ":1: entry 'c' lacks the mandatory key 'severity'");
        assert_parse_error("[c]\nname = n\nmatch = 1002:0001\nseverity = info\nfix = f\nsource = s\n",
                           F ":1: entry 'c' lacks the mandatory key 'summary'");
        assert_parse_error("[c]\nname = n\nmatch = 1002:0001\nseverity = info\nsummary = s\nsource = s\n",
                           F ":1: entry 'c' lacks the mandatory key 'fix'");
}

static void test_parse_errors_match(void **state)
{
        static const char *const bad[] = {
                "10de", "10de:", "10de:1e0", "10de:1e044", "10d:1e04", "10de1e04", "10de:1e04-", "10de:1e04-1e0",
                "10de:1e04-1e055", "10de:1e04:1e05", "10de:1e04,", "0x10de:1e04", "10de:1e0g", "g0de:1e04",
                "10de:-1e04", "10de:+e04", "10de:1e04--1e05", "10de;1e04",
        };

        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                _cleanup_free_ char *text = NULL, *msg = NULL;
                assert_true(asprintf(&text, "[a]\nmatch = 10de:0001 %s\n", bad[i]) > 0);
                assert_true(asprintf(&msg,
                                     F ":2: bad PCI ID '%s'; expected VVVV:DDDD or VVVV:DDDD-DDDD (4 hex digits each)",
                                     bad[i]) > 0);
                assert_parse_error(text, msg);
        }
        assert_parse_error("[a]\nmatch = 10de:1e04,10de:1e07\n",
                           F ":2: bad PCI ID '10de:1e04,10de:1e07'; expected VVVV:DDDD or VVVV:DDDD-DDDD (4 hex digits each)");
        assert_parse_error("[a]\nmatch = 10de:2bff-2b80\n",
                           F ":2: range '10de:2bff-2b80' runs backwards; expected VVVV:FIRST-LAST with FIRST <= LAST");
        assert_parse_error("[a]\nmatch = 10de:0001-0000\n",
                           F ":2: range '10de:0001-0000' runs backwards; expected VVVV:FIRST-LAST with FIRST <= LAST");
        /* overlaps inside one entry, reported sorted and canonical */
        assert_parse_error("[a]\nmatch = 10de:1e04 10de:1E04\n", F ":2: IDs '10de:1e04' and '10de:1e04' overlap; list each device once");
        assert_parse_error("[a]\nmatch = 10de:2b80-2bff 1002:0001 10de:2b85\n",
                           F ":2: IDs '10de:2b80-2bff' and '10de:2b85' overlap; list each device once");
        assert_parse_error("[a]\nmatch = 10de:2c00-2cff 10de:2b80-2c00\n",
                           F ":2: IDs '10de:2b80-2c00' and '10de:2c00-2cff' overlap; list each device once");
        /* the same device under two vendors, adjacent ranges and a second entry are fine */
        {
                _cleanup_quirk_db_ struct quirk_db *db =
                        parse_ok("[a]\nname = n\nmatch = 10de:0001 1002:0001 10de:0002-0003 10de:0004\nseverity = info\n"
                                 "summary = s\nfix = f\nsource = s\n"
                                 "[b]\nname = n\nmatch = 10de:0001\nseverity = info\nsummary = s\nfix = f\nsource = s\n");
                assert_int_equal(db->quirks[0].n_ranges, 4);
        }
}

static void test_parse_errors_values(void **state)
{
        assert_parse_error("[a]\nseverity = fatal\n", F ":2: unknown severity 'fatal'; expected info, warning or error");
        assert_parse_error("[a]\nseverity = Warning\n", F ":2: unknown severity 'Warning'; expected info, warning or error");
        assert_parse_error("[a]\nseverity = info warning\n",
                           F ":2: unknown severity 'info warning'; expected info, warning or error");
        assert_parse_error("[a]\nflags = keep-efifb reset-borken\n",
                           F ":2: unknown flag 'reset-borken'; expected reset-broken, reset-once-per-boot, "
                             "vendor-reset, keep-efifb, companions-travel or switch-companions, separated by spaces");
        assert_parse_error("[a]\nflags = keep-efifb,vendor-reset\n",
                           F ":2: unknown flag 'keep-efifb,vendor-reset'; expected reset-broken, reset-once-per-boot, "
                             "vendor-reset, keep-efifb, companions-travel or switch-companions, separated by spaces");
        assert_parse_error("[a]\nflags = keep-efifb vendor-reset keep-efifb\n", F ":2: flag 'keep-efifb' is listed twice");
}

static void test_parse_errors_bytes(void **state)
{
        static const char nul[] = "[a]\nname = x\0y\n";
        static const char nul_first[] = "\0";

        assert_parse_error_len(nul, sizeof(nul) - 1,
                               F ":2: NUL byte (byte 0x00 at column 9); expected printable UTF-8 text");
        assert_parse_error_len(nul_first, 1, F ":1: NUL byte (byte 0x00 at column 1); expected printable UTF-8 text");
        /* a NUL in a comment is still an error */
        assert_parse_error_len("# a\0b\n", 6, F ":1: NUL byte (byte 0x00 at column 4); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = x\ry\n",
                           F ":2: carriage return that does not end the line (byte 0x0d at column 9); expected printable UTF-8 text");
        assert_parse_error("[a]\r\r\n",
                           F ":1: carriage return that does not end the line (byte 0x0d at column 4); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = \x1b[31m\n",
                           F ":2: control character (byte 0x1b at column 8); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = \x7f\n",
                           F ":2: control character (byte 0x7f at column 8); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = caf\xe9\n", F ":2: invalid UTF-8 (byte 0xe9 at column 11); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = \xc0\xaf\n", F ":2: invalid UTF-8 (byte 0xc0 at column 8); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = \xe0\x80\xaf\n", F ":2: invalid UTF-8 (byte 0xe0 at column 8); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = \xed\xa0\x80\n", F ":2: invalid UTF-8 (byte 0xed at column 8); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = \xf4\x90\x80\x80\n", F ":2: invalid UTF-8 (byte 0xf4 at column 8); expected printable UTF-8 text");
        assert_parse_error("[a]\nname = \xe2\x84", F ":2: invalid UTF-8 (byte 0xe2 at column 8); expected printable UTF-8 text");
        assert_parse_error("\xef\xbb\xbf[a]\n", F ":1: byte order mark; expected plain UTF-8 without a BOM");
        /* user text in messages is escaped and cut short */
        assert_parse_error("[a]\nname\xc3\xa9 = x\n",
                           F ":2: unknown key 'name\\xc3\\xa9'; expected name, match, severity, flags, summary, fix or source");
        assert_parse_error("[a]\nseverity = 0123456789012345678901234567890123456789-and-more\n",
                           F ":2: unknown severity '0123456789012345678901234567890123456789...'; expected info, warning or error");
}

static void test_parse_long_lines(void **state)
{
        /* no line-length limit: a 1 MiB name and a match line with 20000 IDs */
        const size_t name_len = 1024 * 1024, n_ids = 20000;
        _cleanup_free_ char *text = NULL;
        _cleanup_quirk_db_ struct quirk_db *db = NULL;
        size_t len = 0, alloc = name_len + n_ids * 10 + 256;
        const struct quirk *out[2];

        text = malloc(alloc);
        assert_non_null(text);
        len += (size_t)sprintf(text + len, "[big]\nname = ");
        memset(text + len, 'N', name_len);
        len += name_len;
        len += (size_t)sprintf(text + len, "\nmatch =");
        for (size_t i = 0; i < n_ids; i++)
                len += (size_t)sprintf(text + len, " %04zx:%04zx", 0x1000 + i % 3, i);
        len += (size_t)sprintf(text + len, "\nseverity = info\nsummary = s\nfix = f\nsource = s\n");
        assert_true(len < alloc);

        db = parse_ok(text);
        assert_int_equal(strlen(db->quirks[0].name), name_len);
        assert_int_equal(db->quirks[0].n_ranges, n_ids);
        assert_int_equal(quirk_db_match(db, 0x1000 + 19999 % 3, 19999, out, 2), 1);
        assert_int_equal(quirk_db_match(db, 0x1000, 1, out, 2), 0);
}

static void test_match(void **state)
{
        _cleanup_quirk_db_ struct quirk_db *db = parse_ok(ENTRY_A ENTRY_B);
        const struct quirk *out[4] = {};

        /* range boundaries */
        assert_int_equal(quirk_db_match(db, 0x10de, 0x2b80, out, 4), 1);
        assert_ptr_equal(out[0], &db->quirks[0]);
        assert_int_equal(quirk_db_match(db, 0x10de, 0x2bff, out, 4), 1);
        assert_int_equal(quirk_db_match(db, 0x10de, 0x2b7f, out, 4), 0);
        assert_int_equal(quirk_db_match(db, 0x10de, 0x2c00, out, 4), 0);
        /* vendor must match too */
        assert_int_equal(quirk_db_match(db, 0x1002, 0x2b85, out, 4), 0);
        assert_int_equal(quirk_db_match(db, 0x1002, 0x744c, out, 4), 1);
        assert_int_equal(quirk_db_match(db, 0x10de, 0x744c, out, 4), 0);

        /* two entries, in file order */
        out[0] = out[1] = NULL;
        assert_int_equal(quirk_db_match(db, 0x10de, 0x1e04, out, 4), 2);
        assert_ptr_equal(out[0], &db->quirks[0]);
        assert_ptr_equal(out[1], &db->quirks[1]);
        assert_null(out[2]);

        /* the total is returned even when out[] is too small */
        out[0] = out[1] = NULL;
        assert_int_equal(quirk_db_match(db, 0x10de, 0x1e04, out, 1), 2);
        assert_ptr_equal(out[0], &db->quirks[0]);
        assert_null(out[1]);
        assert_int_equal(quirk_db_match(db, 0x10de, 0x1e04, NULL, 0), 2);

        /* no database */
        assert_int_equal(quirk_db_match(NULL, 0x10de, 0x1e04, out, 4), 0);
}

static void test_match_counts_entry_once(void **state)
{
        _cleanup_quirk_db_ struct quirk_db *db =
                parse_ok("[a]\nname = n\nmatch = 10de:0001-0002 1002:0001 10de:0003\nseverity = info\n"
                         "summary = s\nfix = f\nsource = s\n");
        const struct quirk *out[2] = {};

        assert_int_equal(quirk_db_match(db, 0x10de, 0x0003, out, 2), 1);
        assert_int_equal(quirk_db_match(db, 0x10de, 0x0001, out, 2), 1);
        assert_null(out[1]);
}

static void test_strings(void **state)
{
        assert_string_equal(quirk_severity_to_string(QUIRK_INFO), "info");
        assert_string_equal(quirk_severity_to_string(QUIRK_WARNING), "warning");
        assert_string_equal(quirk_severity_to_string(QUIRK_ERROR), "error");
        assert_null(quirk_severity_to_string((enum quirk_severity)3));
        assert_null(quirk_severity_to_string((enum quirk_severity)-1));

        assert_string_equal(quirk_flag_to_string(QUIRK_RESET_BROKEN), "reset-broken");
        assert_string_equal(quirk_flag_to_string(QUIRK_RESET_ONCE_PER_BOOT), "reset-once-per-boot");
        assert_string_equal(quirk_flag_to_string(QUIRK_VENDOR_RESET), "vendor-reset");
        assert_string_equal(quirk_flag_to_string(QUIRK_KEEP_EFIFB), "keep-efifb");
        assert_string_equal(quirk_flag_to_string(QUIRK_COMPANIONS_TRAVEL), "companions-travel");
        assert_string_equal(quirk_flag_to_string(QUIRK_SWITCH_COMPANIONS), "switch-companions");
        assert_null(quirk_flag_to_string((enum quirk_flag)0));
        assert_null(quirk_flag_to_string((enum quirk_flag)(1u << 6)));
        assert_null(quirk_flag_to_string((enum quirk_flag)(QUIRK_RESET_BROKEN | QUIRK_KEEP_EFIFB)));
}

static void test_parse_filename(void **state)
{
        _cleanup_free_ char *error = NULL;
        struct quirk_db *db = NULL;

        assert_int_equal(quirk_db_parse("x\n", 2, NULL, &db, &error), -EINVAL);
        assert_string_equal(error, "(quirks):1: cannot parse 'x'; expected '[id]', 'key = value', a '#' comment or a blank line");
        assert_null(db);
        assert_int_equal(quirk_db_parse("", 0, F, NULL, NULL), -EINVAL);
        assert_int_equal(quirk_db_parse(NULL, 1, F, &db, NULL), -EINVAL);
        assert_null(db);
}

/* Writes text to a fresh file in a fresh directory; returns its malloc'd path. */
static char *write_temp(const char *text, size_t len)
{
        char dir[] = "/tmp/test-quirks-XXXXXX";
        char *path = NULL;
        int fd;

        assert_non_null(mkdtemp(dir));
        assert_true(asprintf(&path, "%s/quirks", dir) > 0);
        fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
        assert_true(fd >= 0);
        assert_int_equal(write(fd, text, len), (ssize_t)len);
        assert_int_equal(close(fd), 0);
        return path;
}

static void remove_temp(const char *path)
{
        _cleanup_free_ char *dir = strdup(path);

        assert_int_equal(unlink(path), 0);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(rmdir(dir), 0);
}

static void test_load(void **state)
{
        _cleanup_free_ char *good = write_temp(ENTRY_A, strlen(ENTRY_A));
        _cleanup_free_ char *bad = write_temp("[a]\nbogus = 1\n", 14);
        _cleanup_free_ char *error = NULL, *expected = NULL, *dir = NULL;
        _cleanup_quirk_db_ struct quirk_db *db = NULL;
        struct quirk_db *none = NULL;

        assert_int_equal(quirk_db_load(good, &db, &error), 0);
        assert_null(error);
        assert_int_equal(db->n_quirks, 1);
        assert_string_equal(db->quirks[0].id, "entry-a");

        /* errors name the path as the file */
        assert_int_equal(quirk_db_load(bad, &none, &error), -EINVAL);
        assert_null(none);
        assert_true(asprintf(&expected, "%s:2: unknown key 'bogus'; expected name, match, severity, flags, summary, fix or source",
                             bad) > 0);
        assert_string_equal(error, expected);
        free(error);
        error = NULL;
        free(expected);

        assert_int_equal(quirk_db_load("/nonexistent/gpu-handoff/quirks", &none, &error), -ENOENT);
        assert_null(none);
        assert_string_equal(error, "/nonexistent/gpu-handoff/quirks: No such file or directory");
        free(error);
        error = NULL;

        dir = strdup(good);
        *strrchr(dir, '/') = '\0';
        assert_int_equal(quirk_db_load(dir, &none, &error), -EISDIR);
        assert_null(none);
        assert_true(asprintf(&expected, "%s: Is a directory", dir) > 0);
        assert_string_equal(error, expected);
        free(error);
        error = NULL;

        assert_int_equal(quirk_db_load("/nonexistent", &none, NULL), -ENOENT);
        assert_int_equal(quirk_db_load(NULL, &none, NULL), -EINVAL);

        remove_temp(good);
        remove_temp(bad);
}

static void test_load_empty_file(void **state)
{
        _cleanup_free_ char *path = write_temp("", 0);
        _cleanup_quirk_db_ struct quirk_db *db = NULL;

        assert_int_equal(quirk_db_load(path, &db, NULL), 0);
        assert_int_equal(db->n_quirks, 0);
        remove_temp(path);
}

/* The shipped database: it loads, and the families the tool relies on match. */
static const struct quirk *match_one(const struct quirk_db *db, uint16_t vendor, uint16_t device)
{
        const struct quirk *out[4] = {};

        assert_int_equal(quirk_db_match(db, vendor, device, out, 4), 1);
        return out[0];
}

static void test_real_database(void **state)
{
        const char *path = getenv("GPU_HANDOFF_QUIRKS");
        _cleanup_quirk_db_ struct quirk_db *db = NULL;
        _cleanup_free_ char *error = NULL;
        const struct quirk *q;
        int r;

        assert_non_null(path);
        r = quirk_db_load(path, &db, &error);
        if (r < 0)
                fail_msg("%s", error ? error : "quirk_db_load failed");
        assert_true(db->n_quirks >= 6);

        for (size_t i = 0; i < db->n_quirks; i++) {
                q = &db->quirks[i];
                /* every entry names where it is known from */
                assert_true(strncmp(q->source, "https://", 8) == 0);
                assert_true(q->n_ranges > 0);
                assert_true(q->flags != 0);
        }

        q = match_one(db, 0x10de, 0x2b85); /* RTX 5090 */
        assert_string_equal(q->id, "nvidia-blackwell-reset");
        assert_int_equal(q->flags, QUIRK_RESET_ONCE_PER_BOOT);
        assert_int_equal(q->severity, QUIRK_WARNING);
        assert_ptr_equal(match_one(db, 0x10de, 0x2c02), q); /* RTX 5080 */
        assert_ptr_equal(match_one(db, 0x10de, 0x2c05), q); /* RTX 5070 Ti */
        assert_ptr_equal(match_one(db, 0x10de, 0x2f04), q); /* RTX 5070 */
        assert_ptr_equal(match_one(db, 0x10de, 0x2d04), q); /* RTX 5060 Ti */
        assert_ptr_equal(match_one(db, 0x10de, 0x2d83), q); /* RTX 5050 */

        q = match_one(db, 0x1002, 0x744c); /* RX 7900 XT/XTX */
        assert_string_equal(q->id, "amd-navi3x-reset");
        assert_int_equal(q->flags, QUIRK_RESET_BROKEN);
        assert_ptr_equal(match_one(db, 0x1002, 0x747e), q); /* RX 7800 XT */
        assert_ptr_equal(match_one(db, 0x1002, 0x7480), q); /* RX 7600 */

        q = match_one(db, 0x1002, 0x67df); /* RX 480/580 */
        assert_string_equal(q->id, "amd-polaris-vendor-reset");
        assert_int_equal(q->flags, QUIRK_VENDOR_RESET);
        q = match_one(db, 0x1002, 0x687f); /* RX Vega 56/64 */
        assert_int_equal(q->flags, QUIRK_VENDOR_RESET);
        q = match_one(db, 0x1002, 0x66af); /* Radeon VII */
        assert_int_equal(q->flags, QUIRK_VENDOR_RESET);
        q = match_one(db, 0x1002, 0x731f); /* RX 5700 XT */
        assert_int_equal(q->flags, QUIRK_VENDOR_RESET);

        q = match_one(db, 0x1002, 0x73bf); /* RX 6800/6900 XT */
        assert_string_equal(q->id, "amd-navi2x-keep-efifb");
        assert_int_equal(q->flags, QUIRK_KEEP_EFIFB);
        assert_ptr_equal(match_one(db, 0x1002, 0x73ff), q); /* RX 6600 */

        q = match_one(db, 0x10de, 0x1e04); /* RTX 2080 Ti */
        assert_string_equal(q->id, "nvidia-turing-usb-c");
        assert_int_equal(q->flags, QUIRK_COMPANIONS_TRAVEL);
        assert_ptr_equal(match_one(db, 0x10de, 0x1e07), q);
        q = match_one(db, 0x10de, 0x1ad6); /* its USB xHCI function */
        assert_string_equal(q->id, "nvidia-turing-usb-c-functions");
        assert_ptr_equal(match_one(db, 0x10de, 0x1ad7), q); /* and its UCSI function */

        /* unaffected devices */
        assert_int_equal(quirk_db_match(db, 0x10de, 0x2204, NULL, 0), 0); /* RTX 3090 */
        assert_int_equal(quirk_db_match(db, 0x10de, 0x2684, NULL, 0), 0); /* RTX 4090 */
        assert_int_equal(quirk_db_match(db, 0x1002, 0x73a4, NULL, 0), 0); /* Navi 21 USB */
        assert_int_equal(quirk_db_match(db, 0x1002, 0xab30, NULL, 0), 0); /* Navi 3x HDMI audio */
        assert_int_equal(quirk_db_match(db, 0x8086, 0x2b85, NULL, 0), 0);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_parse_good),
                cmocka_unit_test(test_parse_whitespace),
                cmocka_unit_test(test_parse_utf8),
                cmocka_unit_test(test_parse_empty),
                cmocka_unit_test(test_parse_not_nul_terminated),
                cmocka_unit_test(test_parse_errors_structure),
                cmocka_unit_test(test_parse_errors_keys),
                cmocka_unit_test(test_parse_errors_missing),
                cmocka_unit_test(test_parse_errors_match),
                cmocka_unit_test(test_parse_errors_values),
                cmocka_unit_test(test_parse_errors_bytes),
                cmocka_unit_test(test_parse_long_lines),
                cmocka_unit_test(test_match),
                cmocka_unit_test(test_match_counts_entry_once),
                cmocka_unit_test(test_strings),
                cmocka_unit_test(test_parse_filename),
                cmocka_unit_test(test_load),
                cmocka_unit_test(test_load_empty_file),
                cmocka_unit_test(test_real_database),
        };

        return cmocka_run_group_tests_name("quirks", tests, NULL, NULL);
}
