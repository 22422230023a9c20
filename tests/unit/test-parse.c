/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for src/basic/parse.h: every parser with good, bad and boundary input, and the rule
 * that out-parameters are untouched on failure. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "basic/parse.h"

/* A value no parser produces, to see that a failed call left the out-parameter alone. */
static const struct pci_addr poison_addr = { 0xdead, 0xbe, 0x1f, 0x7 };

static void assert_addr(const struct pci_addr *a, uint16_t domain, uint8_t bus, uint8_t slot, uint8_t func)
{
        assert_int_equal(a->domain, domain);
        assert_int_equal(a->bus, bus);
        assert_int_equal(a->slot, slot);
        assert_int_equal(a->func, func);
}

/* Field by field: the struct has a padding byte that assignment need not copy. */
static void assert_addr_equal(const struct pci_addr *a, const struct pci_addr *b)
{
        assert_addr(a, b->domain, b->bus, b->slot, b->func);
}

static void assert_addr_fails(int (*parse)(const char *, struct pci_addr *), const char *s, int expected)
{
        struct pci_addr a = poison_addr;

        assert_int_equal(parse(s, &a), expected);
        assert_addr_equal(&a, &poison_addr);
}

static void test_pci_addr_parse_good(void **state)
{
        struct pci_addr a = poison_addr;

        assert_int_equal(pci_addr_parse("0000:01:00.0", &a), 0);
        assert_addr(&a, 0, 1, 0, 0);
        assert_int_equal(pci_addr_parse("0000:00:1f.3", &a), 0);
        assert_addr(&a, 0, 0, 0x1f, 3);
        assert_int_equal(pci_addr_parse("10de:ff:1f.7", &a), 0);
        assert_addr(&a, 0x10de, 0xff, 0x1f, 7);
        assert_int_equal(pci_addr_parse("ffff:ff:00.0", &a), 0);
        assert_addr(&a, 0xffff, 0xff, 0, 0);
        /* upper case hex is accepted */
        assert_int_equal(pci_addr_parse("ABCD:EF:1F.7", &a), 0);
        assert_addr(&a, 0xabcd, 0xef, 0x1f, 7);
        assert_int_equal(pci_addr_parse("0000:0A:0b.1", &a), 0);
        assert_addr(&a, 0, 0x0a, 0x0b, 1);
}

static void test_pci_addr_parse_bad(void **state)
{
        /* short forms are for the command line only */
        assert_addr_fails(pci_addr_parse, "01:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "1:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "", -EINVAL);
        assert_addr_fails(pci_addr_parse, NULL, -EINVAL);
        /* wrong digit counts */
        assert_addr_fails(pci_addr_parse, "000:01:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "00000:01:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:1:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:001:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:0.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:000.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:00.", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:00.00", -EINVAL);
        /* out of range slot and function */
        assert_addr_fails(pci_addr_parse, "0000:01:00.8", -ERANGE);
        assert_addr_fails(pci_addr_parse, "0000:01:00.f", -ERANGE);
        assert_addr_fails(pci_addr_parse, "0000:01:20.0", -ERANGE);
        assert_addr_fails(pci_addr_parse, "0000:01:ff.0", -ERANGE);
        /* trailing and leading garbage, wrong separators, signs, non-hex */
        assert_addr_fails(pci_addr_parse, "0000:01:00.0x", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:00.0\n", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:00.0 ", -EINVAL);
        assert_addr_fails(pci_addr_parse, " 0000:01:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000.01:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01.00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:00:0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "000g:01:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:0g:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:0g.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0000:01:00.g", -EINVAL);
        assert_addr_fails(pci_addr_parse, "+000:01:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "-000:01:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse, "0x00:01:00.0", -EINVAL);
}

static void test_pci_addr_parse_user(void **state)
{
        struct pci_addr a = poison_addr;

        assert_int_equal(pci_addr_parse_user("01:00.0", &a), 0);
        assert_addr(&a, 0, 1, 0, 0);
        assert_int_equal(pci_addr_parse_user("0A:1F.7", &a), 0);
        assert_addr(&a, 0, 0x0a, 0x1f, 7);
        assert_int_equal(pci_addr_parse_user("0001:02:03.4", &a), 0);
        assert_addr(&a, 1, 2, 3, 4);

        assert_addr_fails(pci_addr_parse_user, "1:00.0", -EINVAL);
        assert_addr_fails(pci_addr_parse_user, "01:0.0", -EINVAL);
        assert_addr_fails(pci_addr_parse_user, "01:00.0 ", -EINVAL);
        assert_addr_fails(pci_addr_parse_user, "01:00.0x", -EINVAL);
        assert_addr_fails(pci_addr_parse_user, "01:00:0", -EINVAL);
        assert_addr_fails(pci_addr_parse_user, "01:00.8", -ERANGE);
        assert_addr_fails(pci_addr_parse_user, "01:20.0", -ERANGE);
        assert_addr_fails(pci_addr_parse_user, "0000:01:00.8", -ERANGE);
        assert_addr_fails(pci_addr_parse_user, "0000:01:20.0", -ERANGE);
        assert_addr_fails(pci_addr_parse_user, "0000:01:00.0x", -EINVAL);
        assert_addr_fails(pci_addr_parse_user, "", -EINVAL);
        assert_addr_fails(pci_addr_parse_user, NULL, -EINVAL);
        assert_addr_fails(pci_addr_parse_user, "gpu", -EINVAL);
}

static void test_pci_addr_format(void **state)
{
        char buf[PCI_ADDR_STRLEN];
        struct pci_addr a = { 0xabcd, 0xef, 0x1f, 7 }, b;
        static const char *const canonical[] = {
                "0000:00:00.0", "0000:01:00.0", "0000:00:1f.3", "10de:ff:1f.7", "ffff:ff:1f.7",
        };

        assert_int_equal(sizeof(buf), 13);
        assert_ptr_equal(pci_addr_format(&a, buf), buf);
        assert_string_equal(buf, "abcd:ef:1f.7");

        /* format(parse(s)) == s for canonical strings */
        for (size_t i = 0; i < ELEMENTSOF(canonical); i++) {
                assert_int_equal(pci_addr_parse(canonical[i], &b), 0);
                assert_string_equal(pci_addr_format(&b, buf), canonical[i]);
        }
        /* upper case and short input come back canonical */
        assert_int_equal(pci_addr_parse("ABCD:EF:1F.7", &b), 0);
        assert_string_equal(pci_addr_format(&b, buf), "abcd:ef:1f.7");
        assert_int_equal(pci_addr_parse_user("0a:00.1", &b), 0);
        assert_string_equal(pci_addr_format(&b, buf), "0000:0a:00.1");

        /* every slot and function round-trips */
        for (unsigned slot = 0; slot < 32; slot++)
                for (unsigned func = 0; func < 8; func++) {
                        struct pci_addr x = { 0x1234, 0x56, (uint8_t)slot, (uint8_t)func }, y;
                        assert_int_equal(pci_addr_parse(pci_addr_format(&x, buf), &y), 0);
                        assert_addr_equal(&x, &y);
                }
}

static void test_pci_addr_compare(void **state)
{
        struct pci_addr a = { 0, 1, 0, 0 }, b = { 0, 1, 0, 1 }, c = { 0, 2, 0, 0 }, d = { 1, 0, 0, 0 },
                        e = { 0, 1, 1, 0 };

        assert_int_equal(pci_addr_compare(&a, &a), 0);
        assert_int_equal(pci_addr_compare(&a, &b), -1);
        assert_int_equal(pci_addr_compare(&b, &a), 1);
        assert_int_equal(pci_addr_compare(&b, &e), -1); /* function < slot < bus < domain */
        assert_int_equal(pci_addr_compare(&e, &c), -1);
        assert_int_equal(pci_addr_compare(&c, &d), -1);
        assert_int_equal(pci_addr_compare(&d, &a), 1);

        assert_true(pci_addr_same_slot(&a, &b));
        assert_false(pci_addr_same_slot(&a, &e));
        assert_false(pci_addr_same_slot(&a, &c));
        assert_false(pci_addr_same_slot(&a, &d));
}

/* Parses s into a 128-bit map and returns its formatted form, or NULL with *ret_r set. */
static char *cpulist_roundtrip(const char *s, int *ret_r)
{
        uint64_t map[2] = { 0, 0 };

        *ret_r = cpulist_parse(s, map, 128);
        if (*ret_r < 0)
                return NULL;
        return cpulist_format(map, 128);
}

static void assert_cpulist(const char *s, const char *formatted)
{
        _cleanup_free_ char *f = NULL;
        int r;

        f = cpulist_roundtrip(s, &r);
        assert_int_equal(r, 0);
        assert_non_null(f);
        assert_string_equal(f, formatted);
}

static void assert_cpulist_fails(const char *s, size_t nbits, int expected)
{
        uint64_t map[2] = { UINT64_C(0x5a5a5a5a5a5a5a5a), UINT64_C(0xa5a5a5a5a5a5a5a5) };

        assert_int_equal(cpulist_parse(s, map, nbits), expected);
        assert_true(map[0] == UINT64_C(0x5a5a5a5a5a5a5a5a));
        assert_true(map[1] == UINT64_C(0xa5a5a5a5a5a5a5a5));
}

static void test_cpulist_parse_good(void **state)
{
        uint64_t map[2] = { ~UINT64_C(0), ~UINT64_C(0) };

        /* the old contents are replaced, not merged */
        assert_int_equal(cpulist_parse("0", map, 128), 0);
        assert_true(map[0] == 1 && map[1] == 0);
        assert_int_equal(cpulist_parse("0-3,8-11", map, 128), 0);
        assert_true(map[0] == UINT64_C(0xf0f) && map[1] == 0);
        assert_int_equal(cpulist_parse("63-64", map, 128), 0);
        assert_true(map[0] == UINT64_C(1) << 63 && map[1] == 1);
        assert_int_equal(cpulist_parse("127", map, 128), 0);
        assert_true(map[0] == 0 && map[1] == UINT64_C(1) << 63);
        assert_int_equal(cpulist_parse("0-127", map, 128), 0);
        assert_true(map[0] == ~UINT64_C(0) && map[1] == ~UINT64_C(0));

        /* empty set: "" and the kernel's "\n" */
        assert_int_equal(cpulist_parse("", map, 128), 0);
        assert_true(map[0] == 0 && map[1] == 0);
        map[0] = 7;
        assert_int_equal(cpulist_parse("\n", map, 128), 0);
        assert_true(map[0] == 0 && map[1] == 0);

        /* trailing newline and blanks as sysfs prints them */
        assert_int_equal(cpulist_parse("2,4\n", map, 128), 0);
        assert_true(map[0] == 0x14 && map[1] == 0);
        assert_int_equal(cpulist_parse("2,4 \t\n", map, 128), 0);
        assert_true(map[0] == 0x14);

        /* a bitmap that is not a multiple of 64 bits wide */
        map[0] = ~UINT64_C(0);
        assert_int_equal(cpulist_parse("0-4", map, 5), 0);
        assert_true(map[0] == 0x1f);

        /* unsorted, overlapping and repeated ranges are the union */
        assert_cpulist("8-11,0-3", "0-3,8-11");
        assert_cpulist("1,1,1", "1");
        assert_cpulist("0-5,3-7", "0-7");
        assert_cpulist("3-3", "3");
        assert_cpulist("007", "7");
}

static void test_cpulist_parse_bad(void **state)
{
        assert_cpulist_fails("3-1", 128, -EINVAL);
        assert_cpulist_fails("1,,2", 128, -EINVAL);
        assert_cpulist_fails("0-", 128, -EINVAL);
        assert_cpulist_fails("-1", 128, -EINVAL);
        assert_cpulist_fails("1-2-3", 128, -EINVAL);
        assert_cpulist_fails(",1", 128, -EINVAL);
        assert_cpulist_fails("1,", 128, -EINVAL);
        assert_cpulist_fails("1,\n", 128, -EINVAL);
        assert_cpulist_fails("1, 2", 128, -EINVAL);
        assert_cpulist_fails("1 ,2", 128, -EINVAL);
        assert_cpulist_fails("1 2", 128, -EINVAL);
        assert_cpulist_fails(" 1", 128, -EINVAL);
        assert_cpulist_fails("1\n2", 128, -EINVAL);
        assert_cpulist_fails("+1", 128, -EINVAL);
        assert_cpulist_fails("0x1", 128, -EINVAL);
        assert_cpulist_fails("a", 128, -EINVAL);
        assert_cpulist_fails("1a", 128, -EINVAL);
        assert_cpulist_fails("0-15:2", 128, -EINVAL); /* strides are rejected */
        assert_cpulist_fails(NULL, 128, -EINVAL);
        /* a syntax error after good ranges still leaves the map untouched */
        assert_cpulist_fails("0-3,8-11,x", 128, -EINVAL);

        /* out of range */
        assert_cpulist_fails("128", 128, -ERANGE);
        assert_cpulist_fails("0-128", 128, -ERANGE);
        assert_cpulist_fails("5", 5, -ERANGE);
        assert_cpulist_fails("0", 0, -ERANGE);
        assert_cpulist_fails("0,200", 128, -ERANGE);
        assert_cpulist_fails("99999999999999999999999999", 128, -ERANGE);
        assert_cpulist_fails("0-99999999999999999999999999", 128, -ERANGE);
        assert_cpulist_fails("1048577", 128, -ERANGE);
}

static void test_cpulist_huge_nbits(void **state)
{
        /* nbits far beyond the CPU number limit must not be used to size anything on the
         * stack; the map itself only needs room for the bits the caller says it has, so use
         * a list whose validation fails before any write. */
        assert_cpulist_fails("x", SIZE_MAX, -EINVAL);
        assert_cpulist_fails("1-0", SIZE_MAX - 63, -EINVAL);
}

static void test_cpulist_format(void **state)
{
        uint64_t map[2] = { 0, 0 };
        _cleanup_free_ char *empty = NULL, *zero = NULL, *all = NULL, *mixed = NULL, *edge = NULL;

        empty = cpulist_format(map, 128);
        assert_non_null(empty);
        assert_string_equal(empty, "");
        zero = cpulist_format(map, 0);
        assert_non_null(zero);
        assert_string_equal(zero, "");

        map[0] = ~UINT64_C(0);
        map[1] = ~UINT64_C(0);
        all = cpulist_format(map, 128);
        assert_string_equal(all, "0-127");

        map[0] = UINT64_C(0xf0f) | UINT64_C(1) << 14 | UINT64_C(1) << 63;
        map[1] = 1 | UINT64_C(1) << 2;
        mixed = cpulist_format(map, 128);
        assert_string_equal(mixed, "0-3,8-11,14,63-64,66");

        /* bits beyond nbits are ignored */
        map[0] = ~UINT64_C(0);
        edge = cpulist_format(map, 3);
        assert_string_equal(edge, "0-2");
}

static void test_cpulist_roundtrip(void **state)
{
        static const char *const lists[] = {
                "", "0", "1", "0-1", "0-3,8-11", "0,2,4,6", "5-9,11,13-127", "127", "0-127", "62-65",
        };

        for (size_t i = 0; i < ELEMENTSOF(lists); i++)
                assert_cpulist(lists[i], lists[i]);
}

static void assert_hex(const char *s, uint32_t max, int expected_r, uint32_t expected)
{
        uint32_t v = 0xdeadbeef;

        assert_int_equal(sysfs_parse_hex(s, max, &v), expected_r);
        assert_int_equal(v, expected_r == 0 ? expected : 0xdeadbeef);
}

static void test_sysfs_parse_hex(void **state)
{
        assert_hex("0x10de\n", 0xffff, 0, 0x10de);
        assert_hex("0x10de", 0xffff, 0, 0x10de);
        assert_hex("0x10DE", 0xffff, 0, 0x10de);
        assert_hex("0X10de", 0xffff, 0, 0x10de);
        assert_hex("0x030000\n", 0xffffff, 0, 0x030000);
        assert_hex("0x0\n", 0xffff, 0, 0);
        assert_hex("0x00000000000010de\n", 0xffff, 0, 0x10de);
        assert_hex("0xffff\n", 0xffff, 0, 0xffff);
        assert_hex("0xffffffff", UINT32_MAX, 0, UINT32_MAX);
        assert_hex("0x10de  \n", 0xffff, 0, 0x10de);

        assert_hex("0x", 0xffff, -EINVAL, 0);
        assert_hex("0x\n", 0xffff, -EINVAL, 0);
        assert_hex("10de", 0xffff, -EINVAL, 0);
        assert_hex("10de\n", 0xffff, -EINVAL, 0);
        assert_hex("", 0xffff, -EINVAL, 0);
        assert_hex(NULL, 0xffff, -EINVAL, 0);
        assert_hex("x10de", 0xffff, -EINVAL, 0);
        assert_hex(" 0x10de", 0xffff, -EINVAL, 0);
        assert_hex("0x 10de", 0xffff, -EINVAL, 0);
        assert_hex("0x-1", 0xffff, -EINVAL, 0);
        assert_hex("0x+1", 0xffff, -EINVAL, 0);
        assert_hex("0x10dez", 0xffff, -EINVAL, 0);
        assert_hex("0x10de\nx", 0xffff, -EINVAL, 0);
        assert_hex("0x10de 1", 0xffff, -EINVAL, 0);
        assert_hex("0x0x10", 0xffff, -EINVAL, 0);
        assert_hex("0x0X10", 0xffff, -EINVAL, 0);
        assert_hex("0xg", 0xffff, -EINVAL, 0);

        assert_hex("0x10000", 0xffff, -ERANGE, 0);
        assert_hex("0x100000000", UINT32_MAX, -ERANGE, 0);
        assert_hex("0xffffffffffffffffffffffff", UINT32_MAX, -ERANGE, 0);
}

static void assert_uint(const char *s, uint32_t max, int expected_r, uint32_t expected)
{
        uint32_t v = 0xdeadbeef;

        assert_int_equal(sysfs_parse_uint(s, max, &v), expected_r);
        assert_int_equal(v, expected_r == 0 ? expected : 0xdeadbeef);
}

static void test_sysfs_parse_uint(void **state)
{
        assert_uint("0\n", 10, 0, 0);
        assert_uint("42\n", 100, 0, 42);
        assert_uint("42", 42, 0, 42);
        assert_uint("042", 100, 0, 42);
        assert_uint("4294967295\n", UINT32_MAX, 0, UINT32_MAX);
        assert_uint("7 \n", 10, 0, 7);

        assert_uint("", 10, -EINVAL, 0);
        assert_uint("\n", 10, -EINVAL, 0);
        assert_uint(NULL, 10, -EINVAL, 0);
        assert_uint("-1", 10, -EINVAL, 0);
        assert_uint("+1", 10, -EINVAL, 0);
        assert_uint(" 1", 10, -EINVAL, 0);
        assert_uint("1x", 10, -EINVAL, 0);
        assert_uint("0x10", 100, -EINVAL, 0);
        assert_uint("1.5", 10, -EINVAL, 0);
        assert_uint("1 2", 10, -EINVAL, 0);

        assert_uint("11", 10, -ERANGE, 0);
        assert_uint("4294967296", UINT32_MAX, -ERANGE, 0);
        assert_uint("99999999999999999999999999", UINT32_MAX, -ERANGE, 0);
}

static void assert_bool(const char *s, int expected_r, bool expected)
{
        bool v = !expected;

        assert_int_equal(sysfs_parse_bool(s, &v), expected_r);
        assert_int_equal(v, expected_r == 0 ? expected : !expected);
}

static void test_sysfs_parse_bool(void **state)
{
        bool v = true;

        assert_bool("1\n", 0, true);
        assert_bool("1", 0, true);
        assert_bool("0\n", 0, false);
        assert_bool("0", 0, false);

        /* failures leave the value alone in both directions */
        assert_int_equal(sysfs_parse_bool("2", &v), -EINVAL);
        assert_true(v);
        v = false;
        assert_int_equal(sysfs_parse_bool("2", &v), -EINVAL);
        assert_false(v);

        assert_bool("", -EINVAL, true);
        assert_bool("Y", -EINVAL, true);
        assert_bool("true", -EINVAL, true);
        assert_bool("-1", -EINVAL, true);
        assert_bool("10", -EINVAL, true);
        assert_bool("1x", -EINVAL, true);
        assert_bool(NULL, -EINVAL, false);
}

static void test_strip_trailing(void **state)
{
        char a[] = "flr bus\n", b[] = "  x \t\r\n ", c[] = "\n\n", d[] = "", e[] = "no-space";

        assert_ptr_equal(strip_trailing(a), a);
        assert_string_equal(a, "flr bus");
        assert_string_equal(strip_trailing(b), "  x");
        assert_string_equal(strip_trailing(c), "");
        assert_string_equal(strip_trailing(d), "");
        assert_string_equal(strip_trailing(e), "no-space");
}

static void test_word_in_list(void **state)
{
        const char *flags = "fpu vme de pse avx avx2 avx512f\n";

        assert_true(word_in_list(flags, "fpu"));
        assert_true(word_in_list(flags, "avx"));
        assert_true(word_in_list(flags, "avx2"));
        assert_true(word_in_list(flags, "avx512f"));
        assert_true(word_in_list("a\tb", "b"));
        assert_true(word_in_list("x", "x"));

        assert_false(word_in_list(flags, "av"));
        assert_false(word_in_list(flags, "avx512"));
        assert_false(word_in_list(flags, "pu"));
        assert_false(word_in_list(flags, "fp"));
        assert_false(word_in_list(flags, ""));
        assert_false(word_in_list("", "x"));
        assert_false(word_in_list("xx", "x"));
        assert_false(word_in_list("flr bus", "flr bus x"));
        /* a partial hit earlier in the list must not hide a whole-word hit later */
        assert_true(word_in_list("bus_x busx bus", "bus"));
        assert_true(word_in_list("aab ab", "ab"));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_pci_addr_parse_good),
                cmocka_unit_test(test_pci_addr_parse_bad),
                cmocka_unit_test(test_pci_addr_parse_user),
                cmocka_unit_test(test_pci_addr_format),
                cmocka_unit_test(test_pci_addr_compare),
                cmocka_unit_test(test_cpulist_parse_good),
                cmocka_unit_test(test_cpulist_parse_bad),
                cmocka_unit_test(test_cpulist_huge_nbits),
                cmocka_unit_test(test_cpulist_format),
                cmocka_unit_test(test_cpulist_roundtrip),
                cmocka_unit_test(test_sysfs_parse_hex),
                cmocka_unit_test(test_sysfs_parse_uint),
                cmocka_unit_test(test_sysfs_parse_bool),
                cmocka_unit_test(test_strip_trailing),
                cmocka_unit_test(test_word_in_list),
        };

        return cmocka_run_group_tests_name("parse", tests, NULL, NULL);
}
