/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for src/libvirt/hostdev-xml.h: the text gpu-handoff xml prints, what a ROM path may
 * hold, and the rule that XML comments never contain "--". The whole outputs are in the golden
 * cases (tests/golden/cases, xml-*); here the corners the fixtures do not reach. */

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "basic/macro.h"
#include "libvirt/hostdev-xml.h"

/* A GPU at 0000:0b:00.0 with n functions, the companions following in order. */
static struct hostdev_spec spec(size_t n)
{
        struct hostdev_spec s = {.n_functions = n, .whole_slot = true, .vga = true, .guest_bus = 0x06};

        for (size_t i = 0; i < n; i++)
                s.host[i] = (struct pci_addr){.domain = 0, .bus = 0x0b, .slot = 0, .func = (uint8_t)i};
        return s;
}

static char *xml(const struct hostdev_spec *s)
{
        char *text = NULL;

        assert_int_equal(hostdev_format_xml(s, &text), 0);
        assert_non_null(text);
        return text;
}

static char *proxmox(const struct hostdev_spec *s)
{
        char *text = NULL;

        assert_int_equal(hostdev_format_proxmox(s, &text), 0);
        assert_non_null(text);
        return text;
}

/* XML forbids "--" inside a comment: virsh edit would refuse the whole domain. */
static void assert_comments_clean(const char *text)
{
        const char *p = text, *open, *close;
        size_t n = 0;

        while ((open = strstr(p, "<!--"))) {
                close = strstr(open + 4, "-->");
                assert_non_null(close);
                for (const char *q = open + 4; q < close; q++)
                        assert_false(q[0] == '-' && q[1] == '-');
                assert_int_not_equal(close[-1], '-'); /* "--->" is "--" too */
                p = close + 3;
                n++;
        }
        assert_true(n > 0);
}

static size_t count(const char *text, const char *what)
{
        size_t n = 0;

        for (const char *p = text; (p = strstr(p, what)); p += strlen(what))
                n++;
        return n;
}

static void test_xml_functions(void **state)
{
        struct hostdev_spec s = spec(4);
        _cleanup_free_ char *text = NULL;

        text = xml(&s);
        assert_int_equal(count(text, "<hostdev mode='subsystem' type='pci' managed='no'>"), 4);
        assert_int_equal(count(text, "</hostdev>"), 4);
        /* Only function 0 says multifunction, and each function keeps its number. */
        assert_int_equal(count(text, "multifunction='on'"), 1);
        assert_non_null(strstr(text, "<address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x0' "
                                     "multifunction='on'/>"));
        assert_non_null(strstr(text, "<address type='pci' domain='0x0000' bus='0x06' slot='0x00' function='0x3'/>"));
        assert_non_null(strstr(text, "<address domain='0x0000' bus='0x0b' slot='0x00' function='0x3'/>"));
        assert_null(strstr(text, "<rom"));
        assert_null(strstr(text, "<features>"));
        assert_comments_clean(text);
}

static void test_xml_one_function(void **state)
{
        struct hostdev_spec s = spec(1);
        _cleanup_free_ char *text = NULL;

        text = xml(&s);
        assert_int_equal(count(text, "<hostdev "), 1);
        assert_null(strstr(text, "multifunction"));
        assert_comments_clean(text);
}

/* The guest function follows the order given, not the host's function number. */
static void test_xml_guest_functions_in_order(void **state)
{
        struct hostdev_spec s = spec(2);
        _cleanup_free_ char *text = NULL;
        const char *gpu, *audio;

        s.host[0].func = 1;
        s.host[1].func = 0;
        s.whole_slot = false;
        text = xml(&s);
        gpu = strstr(text, "function='0x1'/>\n  </source>\n  <address type='pci' domain='0x0000' bus='0x06' "
                           "slot='0x00' function='0x0' multifunction='on'/>");
        audio = strstr(text, "function='0x0'/>\n  </source>\n  <address type='pci' domain='0x0000' bus='0x06' "
                             "slot='0x00' function='0x1'/>");
        assert_non_null(gpu);
        assert_non_null(audio);
        assert_true(gpu < audio);
}

static void test_xml_options(void **state)
{
        struct hostdev_spec s = spec(2);
        _cleanup_free_ char *text = NULL;

        s.managed = true;
        s.guest_bus = 0xff;
        s.rom = "/srv/roms/a&b \xc3\xa9.rom";
        s.nvidia_legacy = true;
        text = xml(&s);
        assert_int_equal(count(text, "managed='yes'"), 3); /* two elements and the comment */
        assert_non_null(strstr(text, "bus='0xff' slot='0x00' function='0x1'/>"));
        assert_non_null(strstr(text, "index='255'"));
        /* The ROM only on the GPU, between <source> and <address>, escaped. */
        assert_int_equal(count(text, "<rom "), 1);
        assert_non_null(strstr(text, "function='0x0'/>\n  </source>\n  <rom file='/srv/roms/a&amp;b \xc3\xa9.rom'/>\n"
                                     "  <address type='pci'"));
        assert_non_null(strstr(text, "<vendor_id state='on' value='" HOSTDEV_HYPERV_VENDOR_ID "'/>"));
        assert_non_null(strstr(text, "<kvm>\n    <hidden state='on'/>\n  </kvm>"));
        assert_int_equal(count(text, "<!--"), 2);
        assert_comments_clean(text);
}

static void test_xml_every_bus_comment_clean(void **state)
{
        for (unsigned bus = 1; bus <= 0xff; bus++)
                for (size_t n = 1; n <= HOSTDEV_MAX_FUNCTIONS; n++) {
                        struct hostdev_spec s = spec(n);
                        _cleanup_free_ char *text = NULL;

                        s.guest_bus = (uint8_t)bus;
                        s.managed = bus & 1;
                        s.rom = bus & 2 ? "/a.rom" : NULL;
                        s.nvidia_legacy = bus & 4;
                        text = xml(&s);
                        assert_comments_clean(text);
                }
}

static void test_bad_specs(void **state)
{
        struct hostdev_spec s = spec(1);
        char *text = NULL;

        s.n_functions = 0;
        assert_int_equal(hostdev_format_xml(&s, &text), -EINVAL);
        assert_int_equal(hostdev_format_proxmox(&s, &text), -EINVAL);
        s.n_functions = HOSTDEV_MAX_FUNCTIONS + 1;
        assert_int_equal(hostdev_format_xml(&s, &text), -EINVAL);
        s = spec(1);
        s.guest_bus = 0; /* slot 0 of bus 0 is the host bridge */
        assert_int_equal(hostdev_format_xml(&s, &text), -EINVAL);
        s = spec(1);
        s.rom = "/x'/><hostdev>.rom"; /* the generator checks too, not only the verb */
        assert_int_equal(hostdev_format_xml(&s, &text), -EINVAL);
        s.rom = "/a,b.rom"; /* fine for libvirt, not for Proxmox */
        assert_int_equal(hostdev_format_proxmox(&s, &text), -EINVAL);
        assert_null(text);
}

static void test_rom_problem(void **state)
{
        static const char *const good[] = {
                "/usr/share/vgabios/gpu.rom",
                "/a",
                "/srv/my roms/a&b.rom",
                "/srv/r\xc3\xa9sum\xc3\xa9.rom",      /* é */
                "/srv/\xe2\x82\xac.rom",              /* € */
                "/srv/\xf0\x9f\x8e\xae.rom",          /* U+1F3AE */
        };
        static const char *const bad[] = {
                "",
                "gpu.rom",
                "./gpu.rom",
                "/a'b.rom",
                "/a\"b.rom",
                "/a<b.rom",
                "/a>b.rom",
                "/a\nb.rom",
                "/a\tb.rom",
                "/a\033[31m.rom",
                "/a\x7f.rom",
                "/a\xc2\x85.rom",                     /* U+0085, a C1 control */
                "/a\xff.rom",
                "/a\xc0\xaf.rom",                     /* overlong '/' */
                "/a\xed\xa0\x80.rom",                 /* a surrogate */
                "/a\xf4\x90\x80\x80.rom",             /* above U+10FFFF */
                "/a\xe2\x82.rom",                     /* truncated */
                "/a\xef\xbf\xbe.rom",                 /* U+FFFE */
                "/usr/share/kvm/",
                "/",
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                assert_null(hostdev_rom_problem(good[i], false));
                assert_null(hostdev_rom_problem(good[i], true));
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                assert_non_null(hostdev_rom_problem(bad[i], false));
                assert_non_null(hostdev_rom_problem(bad[i], true));
        }
        assert_non_null(hostdev_rom_problem(NULL, false));
        assert_null(hostdev_rom_problem("/a,b;c.rom", false));
        assert_non_null(hostdev_rom_problem("/a,b.rom", true));
        assert_non_null(hostdev_rom_problem("/a;b.rom", true));
}

static void test_proxmox_romfile(void **state)
{
        bool elsewhere = false;

        assert_string_equal(hostdev_proxmox_romfile("/usr/share/kvm/gp104.rom", &elsewhere), "gp104.rom");
        assert_false(elsewhere);
        assert_string_equal(hostdev_proxmox_romfile("/usr/share/kvm/old/gp104.rom", &elsewhere), "gp104.rom");
        assert_true(elsewhere);
        assert_string_equal(hostdev_proxmox_romfile("/root/gp104.rom", &elsewhere), "gp104.rom");
        assert_true(elsewhere);
        assert_string_equal(hostdev_proxmox_romfile("/usr/share/kvmx.rom", &elsewhere), "kvmx.rom");
        assert_true(elsewhere);
        assert_null(hostdev_proxmox_romfile("/root/", &elsewhere));
        assert_null(hostdev_proxmox_romfile("", &elsewhere));
}

static void test_proxmox(void **state)
{
        struct hostdev_spec s = spec(2);
        char *text;

        text = proxmox(&s);
        assert_string_equal(text, "hostpci0: 0000:0b:00,pcie=1,x-vga=1\n");
        free(text);

        /* Part of a slot (an APU's platform functions stay): each function, GPU first. */
        s.whole_slot = false;
        s.rom = "/usr/share/kvm/vbios.rom";
        s.vga = false;
        s.nvidia_legacy = true;
        text = proxmox(&s);
        assert_string_equal(text, "hostpci0: 0000:0b:00.0;0000:0b:00.1,pcie=1,romfile=vbios.rom\n"
                                  "cpu: host,hidden=1,hv-vendor-id=" HOSTDEV_HYPERV_VENDOR_ID "\n");
        free(text);

        /* The whole slot, but the GPU not function 0: Proxmox would put function 0 first. */
        s = spec(2);
        s.host[0].func = 1;
        s.host[1].func = 0;
        s.host[0].domain = 0x10;
        s.host[1].domain = 0x10;
        text = proxmox(&s);
        assert_string_equal(text, "hostpci0: 0010:0b:00.1;0010:0b:00.0,pcie=1,x-vga=1\n");
        free(text);

        /* guest_bus and managed do not apply: bus 0 is no error here. */
        s = spec(1);
        s.guest_bus = 0;
        s.managed = true;
        text = proxmox(&s);
        assert_string_equal(text, "hostpci0: 0000:0b:00,pcie=1,x-vga=1\n");
        free(text);
}

/* Proxmox accepts letters and digits only, 12 at most; libvirt 12 characters. */
static void test_vendor_id(void **state)
{
        const char *v = HOSTDEV_HYPERV_VENDOR_ID;

        assert_true(strlen(v) >= 1 && strlen(v) <= 12);
        for (; *v; v++)
                assert_true((*v >= 'a' && *v <= 'z') || (*v >= 'A' && *v <= 'Z') || (*v >= '0' && *v <= '9'));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
                cmocka_unit_test(test_xml_functions),
                cmocka_unit_test(test_xml_one_function),
                cmocka_unit_test(test_xml_guest_functions_in_order),
                cmocka_unit_test(test_xml_options),
                cmocka_unit_test(test_xml_every_bus_comment_clean),
                cmocka_unit_test(test_bad_specs),
                cmocka_unit_test(test_rom_problem),
                cmocka_unit_test(test_proxmox_romfile),
                cmocka_unit_test(test_proxmox),
                cmocka_unit_test(test_vendor_id),
        };

        return cmocka_run_group_tests_name("hostdev-xml", tests, NULL, NULL);
}
