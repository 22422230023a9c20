/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Tests for the domain XML reader (src/libvirt/domain.h): the real-world domains of
 * tests/libvirt/domains read field by field, the hostile and broken ones refused with their
 * exact message and nothing read, and every value syntax (units, cpusets, PCI addresses,
 * switches, UUIDs) with its boundaries and errors. libxml2 must print nothing and leave the
 * caller's error handlers as they were. */

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
#include <libxml/parser.h>
#include <libxml/xmlerror.h>

#include "basic/macro.h"
#include "libvirt/domain.h"

/* A domain no parse returns, to see that a failed call left *ret alone. */
static struct domain poison_domain;
#define POISON (&poison_domain)

/* Most inline cases are one line: their messages say "domain XML:1: ...". */
#define DOM(body) "<domain type='kvm'><name>t</name>" body "</domain>"

static char *read_domain_file(const char *name, size_t *ret_len)
{
        const char *dir = getenv("GPU_HANDOFF_DOMAINS");
        _cleanup_free_ char *path = NULL;
        _cleanup_fclose_ FILE *f = NULL;
        char *buf;
        size_t n;

        assert_non_null(dir);
        assert_true(asprintf(&path, "%s/%s", dir, name) > 0);
        f = fopen(path, "rb");
        if (!f)
                fail_msg("cannot open %s", path);
        buf = malloc(DOMAIN_XML_MAX + 1);
        assert_non_null(buf);
        n = fread(buf, 1, DOMAIN_XML_MAX + 1, f);
        assert_true(n > 0 && n <= DOMAIN_XML_MAX);
        *ret_len = n;
        return buf;
}

static struct domain *parse_ok_len(const char *xml, size_t len)
{
        struct domain *d = NULL;
        char *error = NULL;
        int r = domain_parse(xml, len, &d, &error);

        if (r < 0)
                fail_msg("domain_parse: %d %s", r, error ? error : "(no message)");
        assert_null(error);
        assert_non_null(d);
        return d;
}

static struct domain *parse_ok(const char *xml)
{
        return parse_ok_len(xml, strlen(xml));
}

static struct domain *parse_file(const char *name)
{
        size_t len;
        _cleanup_free_ char *xml = read_domain_file(name, &len);

        return parse_ok_len(xml, len);
}

static void assert_fails_len(const char *xml, size_t len, int expected, const char *message)
{
        struct domain *d = POISON;
        _cleanup_free_ char *error = NULL;

        assert_int_equal(domain_parse(xml, len, &d, &error), expected);
        assert_ptr_equal(d, POISON);
        if (!error)
                fail_msg("no message; expected \"%s\"", message);
        assert_string_equal(error, message);
        /* nor without a place for the message */
        assert_int_equal(domain_parse(xml, len, &d, NULL), expected);
        assert_ptr_equal(d, POISON);
}

static void assert_fails(const char *xml, const char *message)
{
        assert_fails_len(xml, strlen(xml), -EINVAL, message);
}

static void assert_file_fails(const char *name, const char *message)
{
        size_t len;
        _cleanup_free_ char *xml = read_domain_file(name, &len);

        assert_fails_len(xml, len, -EINVAL, message);
}

static void assert_hostdev(const struct domain_hostdev *h, const char *host, bool managed, const char *guest,
                           bool multifunction, const char *rom_file, bool rom_bar_off)
{
        char buf[PCI_ADDR_STRLEN];

        assert_string_equal(pci_addr_format(&h->host, buf), host);
        assert_int_equal(h->managed, managed);
        assert_int_equal(h->has_guest_address, guest != NULL);
        if (guest)
                assert_string_equal(pci_addr_format(&h->guest, buf), guest);
        assert_int_equal(h->multifunction, multifunction);
        if (rom_file)
                assert_string_equal(h->rom_file, rom_file);
        else
                assert_null(h->rom_file);
        assert_int_equal(h->rom_bar_off, rom_bar_off);
}

static void assert_string_or_null(const char *s, const char *expected)
{
        if (expected)
                assert_string_equal(s, expected);
        else
                assert_null(s);
}

#define GiB (UINT64_C(1) << 30)
#define MiB (UINT64_C(1) << 20)

/* The real-world domains */

static void test_win11_gpu(void **state)
{
        _cleanup_(domain_freep) struct domain *d = parse_file("win11-gpu.xml");

        assert_string_equal(d->name, "win11");
        assert_string_equal(d->uuid, "5f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4f10");
        assert_int_equal(d->memory_bytes, 16 * GiB);
        assert_false(d->hugepages);
        assert_int_equal(d->hugepage_size, 0);
        assert_int_equal(d->hugepage_node, -1);
        assert_string_equal(d->machine, "pc-q35-8.2");
        assert_string_equal(d->arch, "x86_64");
        assert_true(d->uefi);
        assert_null(d->vcpu_cpus);
        assert_null(d->emulator_cpus);
        assert_null(d->iothread_cpus);
        assert_int_equal(d->n_hostdevs, 1);
        assert_hostdev(&d->hostdevs[0], "0000:01:00.0", true, "0000:05:00.0", false, NULL, false);
        assert_int_equal(d->shmem_bytes, 0);
        assert_false(d->kvm_hidden);
        assert_false(d->hyperv_vendor_id);
}

static void test_gpu_audio_usb(void **state)
{
        _cleanup_(domain_freep) struct domain *d = parse_file("gpu-audio-usb.xml");

        assert_string_equal(d->name, "win10-gaming");
        assert_string_equal(d->uuid, "c7a5fdbd-edaf-9455-926a-d65c16db1809");
        assert_int_equal(d->memory_bytes, 12 * GiB);
        assert_false(d->hugepages);
        assert_string_equal(d->machine, "pc-q35-7.2");
        assert_string_equal(d->arch, "x86_64");
        /* no firmware='efi', a pflash loader */
        assert_true(d->uefi);
        assert_null(d->vcpu_cpus);
        /* the two USB hostdevs are not PCI */
        assert_int_equal(d->n_hostdevs, 3);
        assert_hostdev(&d->hostdevs[0], "0000:0c:00.0", true, "0000:06:00.0", true,
                       "/var/lib/libvirt/vbios/gtx1080-patched.rom", false);
        assert_hostdev(&d->hostdevs[1], "0000:0c:00.1", true, "0000:06:00.1", false, NULL, false);
        assert_hostdev(&d->hostdevs[2], "0000:0e:00.3", false, "0000:07:00.0", false, NULL, true);
        assert_int_equal(d->shmem_bytes, 0);
        assert_false(d->kvm_hidden);
        assert_false(d->hyperv_vendor_id);
}

static void test_hugepages_pinned(void **state)
{
        _cleanup_(domain_freep) struct domain *d = parse_file("hugepages-pinned.xml");

        assert_string_equal(d->name, "win11-pinned");
        assert_string_equal(d->uuid, "0b6f2f0e-3c94-4f57-8d1a-6e5c2b7d9a41");
        assert_int_equal(d->memory_bytes, 16 * GiB);
        assert_true(d->hugepages);
        assert_int_equal(d->hugepage_size, GiB);
        assert_int_equal(d->hugepage_node, 0);
        assert_string_equal(d->machine, "pc-q35-9.0");
        assert_true(d->uefi);
        assert_string_equal(d->vcpu_cpus, "4-7,12-15");
        assert_string_equal(d->emulator_cpus, "0-1,8-9");
        assert_string_equal(d->iothread_cpus, "2-3,10-11");
        assert_int_equal(d->n_hostdevs, 2);
        assert_hostdev(&d->hostdevs[0], "0000:2d:00.0", true, "0000:05:00.0", true, NULL, false);
        assert_hostdev(&d->hostdevs[1], "0000:2d:00.1", true, "0000:05:00.1", false, NULL, false);
        assert_false(d->kvm_hidden);
        assert_false(d->hyperv_vendor_id);
}

static void test_metadata(void **state)
{
        _cleanup_(domain_freep) struct domain *d = parse_file("metadata.xml");

        /* nothing of the <metadata> (names, memory and hostdevs of other namespaces) is read */
        assert_string_equal(d->name, "fedora-cuda");
        assert_string_equal(d->uuid, "e2d1c9a4-55b7-4c0f-a3e8-9b1f6d27c358");
        assert_int_equal(d->memory_bytes, 32 * GiB);
        assert_string_equal(d->machine, "pc-q35-6.2");
        assert_string_equal(d->arch, "x86_64");
        assert_false(d->uefi);
        /* the mdev and SCSI hostdevs are not PCI ones */
        assert_int_equal(d->n_hostdevs, 1);
        assert_hostdev(&d->hostdevs[0], "0000:41:00.0", false, "0000:07:00.0", false, NULL, false);
        assert_int_equal(d->shmem_bytes, 0);
}

static void test_looking_glass(void **state)
{
        _cleanup_(domain_freep) struct domain *d = parse_file("looking-glass.xml");

        assert_string_equal(d->name, "win10-lg");
        assert_int_equal(d->memory_bytes, 8 * GiB);
        assert_string_equal(d->machine, "pc-q35-8.0");
        assert_true(d->uefi);
        assert_int_equal(d->n_hostdevs, 2);
        assert_hostdev(&d->hostdevs[0], "0000:03:00.0", true, "0000:06:00.0", true, NULL, false);
        assert_hostdev(&d->hostdevs[1], "0000:03:00.1", true, "0000:06:00.1", false, NULL, false);
        assert_int_equal(d->shmem_bytes, 64 * MiB);
        assert_true(d->kvm_hidden);
        assert_true(d->hyperv_vendor_id);
}

/* libvirt's own test domains (tests/qemuxmlconfdata): an s390x zPCI hostdev, source 0000:00:00.0,
 * without a managed attribute, and libvirt's formatted output of such a domain. */
static void test_libvirt_zpci(void **state)
{
        {
                _cleanup_(domain_freep) struct domain *d = parse_file("libvirt-zpci-autogenerate.xml");

                assert_string_equal(d->name, "QEMUGuest1");
                assert_string_equal(d->arch, "s390x");
                assert_int_equal(d->memory_bytes, 219100 * UINT64_C(1024));
                assert_int_equal(d->n_hostdevs, 1);
                assert_hostdev(&d->hostdevs[0], "0000:00:00.0", false, NULL, false, NULL, false);
        }
        {
                _cleanup_(domain_freep) struct domain *d = parse_file("libvirt-zpci.xml");

                assert_int_equal(d->n_hostdevs, 1);
                assert_hostdev(&d->hostdevs[0], "0000:00:00.0", false, "0000:00:08.0", false, NULL, false);
        }
}

/* Written by hand: a hostdev without managed= is unmanaged, like the one that says so. */
static void test_handwritten(void **state)
{
        {
                _cleanup_(domain_freep) struct domain *d = parse_file("handwritten-no-managed.xml");

                assert_string_equal(d->name, "win11");
                assert_int_equal(d->memory_bytes, 16 * GiB);
                assert_string_equal(d->machine, "q35");
                assert_true(d->uefi);
                assert_int_equal(d->n_hostdevs, 2);
                assert_hostdev(&d->hostdevs[0], "0000:01:00.0", false, NULL, false, NULL, false);
                assert_hostdev(&d->hostdevs[1], "0000:01:00.1", false, NULL, false, NULL, false);
        }
        {
                _cleanup_(domain_freep) struct domain *d = parse_file("dot-name.xml");

                assert_string_equal(d->name, ".win11");
                assert_int_equal(d->n_hostdevs, 2);
        }
        {
                /* each one read as it is: naming a device once is the hook's business */
                _cleanup_(domain_freep) struct domain *d = parse_file("gpu-seventeen-times.xml");

                assert_int_equal(d->n_hostdevs, 17);
                for (size_t i = 0; i < d->n_hostdevs; i++)
                        assert_hostdev(&d->hostdevs[i], "0000:01:00.0", false, NULL, false, NULL, false);
        }
}

/* The hostile and broken ones */

#define DOCTYPE_REFUSED "DOCTYPE refused (no DTD, entity declarations or external subsets in domain XML)"

static void test_hostile_files(void **state)
{
        static const struct {
                const char *file, *message;
        } cases[] = {
            {"bad-internal-entity.xml", "domain XML:2: " DOCTYPE_REFUSED},
            {"bad-billion-laughs.xml", "domain XML:2: " DOCTYPE_REFUSED},
            {"bad-external-dtd.xml", "domain XML:2: " DOCTYPE_REFUSED},
            {"bad-external-entity-attribute.xml", "domain XML:2: " DOCTYPE_REFUSED},
            {"bad-encoding-latin1.xml",
             "domain XML:1: encoding \"ISO-8859-1\" refused; domain XML must be UTF-8"},
            {"bad-invalid-utf8.xml", "domain XML:2: byte 0xe9 is not UTF-8; domain XML must be UTF-8"},
            {"bad-missing-name.xml", "domain XML:1: <domain> has no <name>"},
            {"bad-not-domain.xml", "domain XML:1: the root element is <network>, not <domain>"},
            {"bad-truncated.xml", "domain XML:81: Premature end of data in tag controller line 78"},
            {"bad-hostdev-address.xml", "domain XML:7: hostdev source <address domain='0x0000' bus='0x0g' "
                                        "slot='0x00' function='0x0'/>: bus '0x0g' is not a number"},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                print_message("# %s\n", cases[i].file);
                assert_file_fails(cases[i].file, cases[i].message);
        }
}

static void test_doctype_forms(void **state)
{
        /* even an empty one: nothing a domain needs comes from a DTD */
        assert_fails("<!DOCTYPE domain>" DOM(""), "domain XML:1: " DOCTYPE_REFUSED);
        assert_fails(
            "<?xml version='1.0'?>\n\n<!DOCTYPE domain PUBLIC '-//x//y' 'http://example.com/x.dtd'>" DOM(""),
            "domain XML:3: " DOCTYPE_REFUSED);
        /* parameter entities, external ones by URL */
        assert_fails("<!DOCTYPE d [<!ENTITY % p SYSTEM 'http://127.0.0.1:1/x.dtd'> %p;]>" DOM(""),
                     "domain XML:1: " DOCTYPE_REFUSED);
        /* an entity never declared is libxml2's error, not a lookup */
        assert_fails("<domain type='&xxe;'><name>t</name></domain>",
                     "domain XML:1: Entity 'xxe' not defined");
        assert_fails(DOM("<memory>&big;</memory>"), "domain XML:1: Entity 'big' not defined");
}

static void test_too_large(void **state)
{
        static const char head[] = "<domain type='kvm'><name>big</name><!--", tail[] = "--></domain>";
        size_t big = 10 * 1024 * 1024;
        _cleanup_free_ char *xml = malloc(big);
        struct domain *d;

        assert_non_null(xml);
        memset(xml, 'x', big);
        memcpy(xml, head, strlen(head));
        memcpy(xml + big - strlen(tail), tail, strlen(tail));
        assert_fails_len(xml, big, -EFBIG, "domain XML: 10485760 bytes is too large (at most 1048576)");

        /* the limit itself is fine, one byte more is not */
        memcpy(xml + DOMAIN_XML_MAX - strlen(tail), tail, strlen(tail));
        d = parse_ok_len(xml, DOMAIN_XML_MAX);
        assert_string_equal(d->name, "big");
        domain_free(d);
        memcpy(xml + DOMAIN_XML_MAX + 1 - strlen(tail), tail, strlen(tail));
        assert_fails_len(xml, DOMAIN_XML_MAX + 1, -EFBIG,
                         "domain XML: 1048577 bytes is too large (at most 1048576)");
}

static void test_not_utf8(void **state)
{
        static const char nul[] = "<domain type='kvm'>\n<name>t</name>\0<x/></domain>";

        assert_fails_len(nul, sizeof(nul) - 1, -EINVAL,
                         "domain XML:2: contains a NUL byte; expected UTF-8 text");
        /* UTF-16 is NUL bytes for ASCII text */
        assert_fails_len("\xff\xfe<\0d\0", 6, -EINVAL,
                         "domain XML:1: byte 0xff is not UTF-8; domain XML must be UTF-8");
        assert_fails_len("<\0d\0", 4, -EINVAL, "domain XML:1: contains a NUL byte; expected UTF-8 text");
        /* overlong, surrogate, above U+10FFFF, truncated, lone continuation */
        assert_fails(DOM("<!--\xc0\xaf-->"),
                     "domain XML:1: byte 0xc0 is not UTF-8; domain XML must be UTF-8");
        assert_fails(DOM("<!--\xe0\x80\xaf-->"),
                     "domain XML:1: byte 0xe0 is not UTF-8; domain XML must be UTF-8");
        assert_fails(DOM("<!--\xed\xa0\x80-->"),
                     "domain XML:1: byte 0xed is not UTF-8; domain XML must be UTF-8");
        assert_fails(DOM("<!--\xf4\x90\x80\x80-->"),
                     "domain XML:1: byte 0xf4 is not UTF-8; domain XML must be UTF-8");
        assert_fails("<domain><name>t</name></domain>\xe2\x82",
                     "domain XML:1: byte 0xe2 is not UTF-8; domain XML must be UTF-8");
        assert_fails(DOM("\n\n<!--\x80-->"),
                     "domain XML:3: byte 0x80 is not UTF-8; domain XML must be UTF-8");
        /* declared encodings */
        assert_fails("<?xml version='1.0' encoding='UTF-16'?>" DOM(""),
                     "domain XML:1: Document labelled UTF-16 but has UTF-8 content");
        assert_fails("<?xml version='1.0' encoding='US-ASCII'?>" DOM(""),
                     "domain XML:1: encoding \"US-ASCII\" refused; domain XML must be UTF-8");
        assert_fails("<?xml version='1.0' encoding='x-unknown'?>" DOM(""),
                     "domain XML:1: Unsupported encoding x-unknown");
        assert_fails_len("", 0, -EINVAL, "domain XML: empty");
}

static void test_utf8_accepted(void **state)
{
        _cleanup_(domain_freep) struct domain *a = NULL, *b = NULL, *c = NULL;

        a = parse_ok("<?xml version='1.0' encoding='utf-8'?><domain><name>caf\xc3\xa9 \xe2\x82\xac "
                     "\xf0\x9f\x8e\xae</name></domain>");
        assert_string_equal(a->name, "caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x8e\xae");
        /* a byte order mark */
        b = parse_ok("\xef\xbb\xbf<domain><name>bom</name></domain>");
        assert_string_equal(b->name, "bom");
        /* character references and CDATA are text */
        c = parse_ok("<domain><name>a&amp;b&#x2d;<![CDATA[c]]></name></domain>");
        assert_string_equal(c->name, "a&b-c");
}

static void test_malformed(void **state)
{
        assert_fails("<domain><name>t</name>", "domain XML:1: Premature end of data in tag domain line 1");
        assert_fails("<domain><name>t</nam></domain>",
                     "domain XML:1: Opening and ending tag mismatch: name line 1 and nam");
        assert_fails(DOM("") "<domain/>", "domain XML:1: Extra content at the end of the document");
        assert_fails("just text", "domain XML:1: Start tag expected, '<' not found");
        assert_fails("<domain><name a='1' a='2'>t</name></domain>", "domain XML:1: Attribute a redefined");
        /* an undeclared prefix is an error, not an element to ignore */
        assert_fails(DOM("<q:x/>"), "domain XML:1: Namespace prefix q on x is not defined");
        /* libxml2's depth limit (256) stays on */
        {
                char xml[8192] = "<domain><name>t</name>";
                for (int i = 0; i < 300; i++)
                        strcat(xml, "<a>");
                assert_fails(xml,
                             "domain XML:1: Excessive depth in document: 256 use XML_PARSE_HUGE option");
        }
}

/* libxml2 prints nothing and the caller's handlers are back after each call. */
static int errors_seen;
#if LIBXML_VERSION >= 21200
static void count_error(void *data, const xmlError *e)
#else
static void count_error(void *data, xmlError *e)
#endif
{
        errors_seen++;
}

static void test_quiet(void **state)
{
        static const char *const bad[] = {
            "<domain>",
            "<!DOCTYPE d [<!ENTITY a 'b'>]><d/>",
            "<?xml version='1.0' encoding='x'?><d/>",
            "<domain><name>t</name><q:x/></domain>",
            "<domain><name>&e;</name></domain>",
        };
        char path[] = "/tmp/test-domain-stderr-XXXXXX";
        int fd = mkstemp(path), saved = dup(STDERR_FILENO);
        struct stat st;
        xmlDoc *doc;

        assert_true(fd >= 0 && saved >= 0);
        unlink(path);
        assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
        xmlSetStructuredErrorFunc(&errors_seen, count_error);
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                struct domain *d = POISON;
                _cleanup_free_ char *error = NULL;
                assert_int_equal(domain_parse(bad[i], strlen(bad[i]), &d, &error), -EINVAL);
                assert_non_null(error);
                assert_ptr_equal(xmlStructuredError, count_error);
                assert_ptr_equal(xmlStructuredErrorContext, &errors_seen);
        }
        assert_int_equal(errors_seen, 0);
        /* the caller's handler gets the caller's errors again */
        doc = xmlReadMemory("<a>", 3, NULL, NULL, 0);
        assert_null(doc);
        assert_true(errors_seen > 0);
        xmlSetStructuredErrorFunc(NULL, NULL);
        assert_int_equal(dup2(saved, STDERR_FILENO), STDERR_FILENO);
        close(saved);
        assert_int_equal(fstat(fd, &st), 0);
        assert_int_equal(st.st_size, 0);
        close(fd);
}

/* Values */

static void test_memory_units(void **state)
{
        static const struct {
                const char *xml;
                uint64_t bytes;
        } cases[] = {
            {"<memory>1048576</memory>", GiB}, /* KiB by default */
            {"<memory unit='b'>1024</memory>", 1024},
            {"<memory unit='bytes'>2048</memory>", 2048},
            {"<memory unit='byte'>3072</memory>", 3072},
            {"<memory unit='KB'>1024</memory>", 1024000},
            {"<memory unit='KB'>1000</memory>", 1000448}, /* rounded up to whole KiB, as libvirt does */
            {"<memory unit='K'>4</memory>", 4096},
            {"<memory unit='KiB'>4</memory>", 4096},
            {"<memory unit='MB'>1</memory>", 1000448},
            {"<memory unit='M'>3</memory>", 3 * MiB},
            {"<memory unit='MiB'>3</memory>", 3 * MiB},
            {"<memory unit='GB'>2</memory>", 2000000000},
            {"<memory unit='G'>2</memory>", 2 * GiB},
            {"<memory unit='GiB'>2</memory>", 2 * GiB},
            {"<memory unit='TB'>1</memory>", UINT64_C(1000000000000)},
            {"<memory unit='T'>1</memory>", UINT64_C(1) << 40},
            {"<memory unit='TiB'>1</memory>", UINT64_C(1) << 40},
            {"<memory unit='gib'>1</memory>", GiB}, /* libvirt ignores case */
            {"<memory unit='PiB'>1</memory>", UINT64_C(1) << 50},
            {"<memory unit='E'>15</memory>", UINT64_C(15) << 60},
            {"<memory unit='b'>1</memory>", 1024},
            {"<memory unit='b'>0</memory>", 0},
            {"<memory>&#10;  16 </memory>", 16384},
            {"<memory unit='KiB'>18014398509481983</memory>", UINT64_C(18014398509481983) * 1024},
            {"<currentMemory unit='GiB'>1</currentMemory>", 0},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char xml[256];
                struct domain *d;

                snprintf(xml, sizeof(xml), DOM("%s"), cases[i].xml);
                print_message("# %s\n", cases[i].xml);
                d = parse_ok(xml);
                assert_int_equal(d->memory_bytes, cases[i].bytes);
                domain_free(d);
        }

        assert_fails(DOM("<memory unit='KiB'>abc</memory>"),
                     "domain XML:1: <memory> \"abc\" is not a whole number");
        assert_fails(DOM("<memory>-1</memory>"), "domain XML:1: <memory> \"-1\" is not a whole number");
        assert_fails(DOM("<memory>1.5</memory>"), "domain XML:1: <memory> \"1.5\" is not a whole number");
        assert_fails(DOM("<memory></memory>"), "domain XML:1: <memory> \"\" is not a whole number");
        assert_fails(DOM("<memory>0x10</memory>"), "domain XML:1: <memory> \"0x10\" is not a whole number");
        assert_fails(DOM("<memory>1\n2</memory>"),
                     "domain XML:1: <memory> \"1\\x0a2\" is not a whole number");
        assert_fails(
            DOM("<memory unit='XB'>1</memory>"),
            "domain XML:1: <memory> unit \"XB\" is unknown; expected b, KiB, MiB, GiB, TiB (K, M, G, T) or "
            "KB, MB, GB, TB");
        assert_fails(DOM("<memory unit='KiBB'>1</memory>"),
                     "domain XML:1: <memory> unit \"KiBB\" is unknown; expected b, KiB, MiB, GiB, TiB (K, "
                     "M, G, T) or "
                     "KB, MB, GB, TB");
        assert_fails(
            DOM("<memory unit=''>1</memory>"),
            "domain XML:1: <memory> unit \"\" is unknown; expected b, KiB, MiB, GiB, TiB (K, M, G, T) or "
            "KB, MB, GB, TB");
        assert_fails(DOM("<memory unit='E'>16</memory>"), "domain XML:1: <memory> \"16\" E is too large");
        assert_fails(DOM("<memory>99999999999999999999</memory>"),
                     "domain XML:1: <memory> \"99999999999999999999\" is too large");
        assert_fails(DOM("<memory unit='b'>18446744073709551615</memory>"),
                     "domain XML:1: <memory> is too large");
        assert_fails(DOM("<memory unit='KiB'>18014398509481984</memory>"),
                     "domain XML:1: <memory> \"18014398509481984\" KiB is too large");
}

static void test_hugepages(void **state)
{
        static const struct {
                const char *xml;
                bool hugepages;
                uint64_t size;
                int node;
        } cases[] = {
            {"", false, 0, -1},
            {"<memoryBacking><locked/></memoryBacking>", false, 0, -1},
            {"<memoryBacking><hugepages/></memoryBacking>", true, 0, -1},
            {"<memoryBacking><hugepages><page size='2048'/></hugepages></memoryBacking>", true, 2 * MiB, -1},
            {"<memoryBacking><hugepages><page size='1' unit='G' nodeset='1'/></hugepages></memoryBacking>",
             true, GiB, 1},
            {"<memoryBacking><hugepages><page size='1' unit='G' nodeset='0-1'/></hugepages></memoryBacking>",
             true, GiB, -1},
            {"<memoryBacking><hugepages><page size='1' unit='G' nodeset='0,2'/></hugepages></memoryBacking>",
             true, GiB, -1},
            {"<memoryBacking><hugepages><page size='1' unit='G' "
             "nodeset='2-3,^3'/></hugepages></memoryBacking>",
             true, GiB, 2},
            {"<memoryBacking><hugepages><page size='1' unit='G' "
             "nodeset='1023'/></hugepages></memoryBacking>",
             true, GiB, 1023},
            /* more than one page: the first one's size, no single node */
            {"<memoryBacking><hugepages><page size='2' unit='M' nodeset='0'/><page size='1' unit='G' "
             "nodeset='1'/></hugepages></memoryBacking>",
             true, 2 * MiB, -1},
            /* sizes in KiB, rounded up as libvirt does */
            {"<memoryBacking><hugepages><page size='1000' unit='b'/></hugepages></memoryBacking>", true,
             1024, -1},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char xml[512];
                struct domain *d;

                snprintf(xml, sizeof(xml), DOM("%s"), cases[i].xml);
                print_message("# %s\n", cases[i].xml);
                d = parse_ok(xml);
                assert_int_equal(d->hugepages, cases[i].hugepages);
                assert_int_equal(d->hugepage_size, cases[i].size);
                assert_int_equal(d->hugepage_node, cases[i].node);
                domain_free(d);
        }

        assert_fails(DOM("<memoryBacking><hugepages><page unit='G'/></hugepages></memoryBacking>"),
                     "domain XML:1: <page> has no size");
        assert_fails(DOM("<memoryBacking><hugepages><page size='0'/></hugepages></memoryBacking>"),
                     "domain XML:1: <page size> is 0");
        assert_fails(DOM("<memoryBacking><hugepages><page size='1' unit='Q'/></hugepages></memoryBacking>"),
                     "domain XML:1: <page size> unit \"Q\" is unknown; expected b, KiB, MiB, GiB, TiB (K, "
                     "M, G, T) or "
                     "KB, MB, GB, TB");
        assert_fails(DOM("<memoryBacking><hugepages><page size='1' unit='G' "
                         "nodeset='x'/></hugepages></memoryBacking>"),
                     "domain XML:1: <page nodeset='x'>: not a node set; expected e.g. 0-3,^2,8");
        assert_fails(DOM("<memoryBacking><hugepages><page size='1' unit='G' nodeset='1024'/></hugepages>"
                         "</memoryBacking>"),
                     "domain XML:1: <page nodeset='1024'>: a node number above 1023");
        assert_fails(DOM("<memoryBacking><hugepages><page size='1' unit='G' nodeset='0,^0'/></hugepages>"
                         "</memoryBacking>"),
                     "domain XML:1: <page nodeset='0,^0'>: the set is empty");
}

static void test_cpusets(void **state)
{
        static const struct {
                const char *cpuset, *canonical;
        } good[] = {
            {"0", "0"},
            {"0-3,^2,8", "0-1,3,8"},
            {"^2,0-3", "0-3"}, /* left to right, as libvirt applies them */
            {"0-7,^0,^7,^3", "1-2,4-6"},
            {" 1 - 3 , 5 ", "1-3,5"},
            {"5,", "5"}, /* libvirt tolerates a trailing comma */
            {"3,2,1,0,1", "0-3"},
            {"0-8191", "0-8191"},
            {"63-64,127-128", "63-64,127-128"},
            {"8191,^8191,8190", "8190"},
        };
        static const struct {
                const char *cpuset, *message;
        } bad[] = {
            {"", "not a CPU set; expected e.g. 0-3,^2,8"},
            {" ", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"a", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"0-", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"3-1", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"^1-2", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"^", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"1,,2", "not a CPU set; expected e.g. 0-3,^2,8"},
            {",1", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"-1", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"+1", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"0-15:2", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"1 2", "not a CPU set; expected e.g. 0-3,^2,8"},
            {"8192", "a CPU number above 8191"},
            {"0-8192", "a CPU number above 8191"},
            {"99999999999999999999999", "a CPU number above 8191"},
            {"0,^0", "the set is empty"},
        };

        for (size_t i = 0; i < ELEMENTSOF(good); i++) {
                char xml[512];
                struct domain *d;

                snprintf(xml, sizeof(xml), DOM("<cputune><emulatorpin cpuset='%s'/></cputune>"),
                         good[i].cpuset);
                print_message("# %s\n", good[i].cpuset);
                d = parse_ok(xml);
                assert_string_equal(d->emulator_cpus, good[i].canonical);
                assert_null(d->vcpu_cpus);
                assert_null(d->iothread_cpus);
                domain_free(d);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad); i++) {
                char xml[512], message[512];

                snprintf(xml, sizeof(xml), DOM("<cputune><vcpupin vcpu='0' cpuset='%s'/></cputune>"),
                         bad[i].cpuset);
                snprintf(message, sizeof(message), "domain XML:1: <vcpupin cpuset='%s'>: %s", bad[i].cpuset,
                         bad[i].message);
                print_message("# %s\n", bad[i].cpuset);
                assert_fails(xml, message);
        }
        assert_fails(DOM("<cputune><iothreadpin iothread='1'/></cputune>"),
                     "domain XML:1: <iothreadpin> has no cpuset");

        /* unions */
        {
                _cleanup_(domain_freep) struct domain *d = parse_ok(
                    DOM("<cputune><vcpupin vcpu='0' cpuset='2-3'/><vcpupin vcpu='1' "
                        "cpuset='0-7,^1,^2,^3,^4,^5,^6'/>"
                        "<vcpupin vcpu='2' cpuset='3'/><emulatorpin cpuset='1'/><iothreadpin "
                        "iothread='1' cpuset='4'/><iothreadpin iothread='2' cpuset='5'/></cputune>"));
                assert_string_equal(d->vcpu_cpus, "0,2-3,7");
                assert_string_equal(d->emulator_cpus, "1");
                assert_string_equal(d->iothread_cpus, "4-5");
        }
}

static void test_hostdevs(void **state)
{
        _cleanup_(domain_freep) struct domain *d = parse_ok(DOM(
            "<devices>"
            /* decimal, and libvirt's base 0: a leading 0 is octal */
            "<hostdev mode='subsystem' type='pci'><source><address domain='0' bus='10' slot='31' "
            "function='7'/></source></hostdev>"
            "<hostdev type='pci' managed='no'><source><address bus='0x0A' slot='010' function='0'/></source>"
            "<address type='pci' domain='0x0000' bus='0x00' slot='0x00' function='0x0'/></hostdev>"
            "<hostdev mode='capabilities' type='storage'><source><block>/dev/sdf1</block></source></hostdev>"
            "<hostdev mode='subsystem' type='usb'><source><vendor id='0x1234'/><product id='0xbeef'/>"
            "</source></hostdev>"
            "<hostdev mode='subsystem' type='pci' managed='yes'><source><address domain='0xffff' bus='0xff' "
            "slot='0x1f' function='0x7'/></source><rom bar='on' file=''/>"
            "<address type='pci' bus='0x01' slot='0x02' function='0x3' multifunction='off'/></hostdev>"
            "<hostdev mode='subsystem' type='pci'><source><address domain='0x0000' bus='0x01' slot='0x00' "
            "function='0x0'/></source><address type='drive' controller='0' bus='0' unit='0'/></hostdev>"
            "</devices>"));

        assert_int_equal(d->n_hostdevs, 4);
        /* no managed attribute: libvirt's default is no */
        assert_hostdev(&d->hostdevs[0], "0000:0a:1f.7", false, NULL, false, NULL, false);
        /* an empty guest address is one libvirt assigns */
        assert_hostdev(&d->hostdevs[1], "0000:0a:08.0", false, NULL, false, NULL, false);
        assert_hostdev(&d->hostdevs[2], "ffff:ff:1f.7", true, "0000:01:02.3", false, "", false);
        assert_hostdev(&d->hostdevs[3], "0000:01:00.0", false, NULL, false, NULL, false);

        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source/></hostdev></devices>"),
                     "domain XML:1: PCI <hostdev> has no <source><address>");
        /* domain, bus and slot 0 is a device on the host side (libvirt accepts it) */
        {
                _cleanup_(domain_freep) struct domain *z = parse_ok(
                    DOM("<devices><hostdev mode='subsystem' type='pci'><source><address function='0x1'/>"
                        "</source></hostdev></devices>"));
                assert_int_equal(z->n_hostdevs, 1);
                assert_hostdev(&z->hostdevs[0], "0000:00:00.1", false, NULL, false, NULL, false);
        }
        assert_fails(
            DOM("<devices><hostdev mode='subsystem' type='pci'><source><address domain='0x0000' "
                "bus='0x01' slot='0x20' function='0x0'/></source></hostdev></devices>"),
            "domain XML:1: hostdev source <address domain='0x0000' bus='0x01' slot='0x20' function='0x0'/>: "
            "slot '0x20' is out of range (at most 0x1f)");
        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source><address domain='0x10000' "
                         "bus='0x01' slot='0x00' function='0x0'/></source></hostdev></devices>"),
                     "domain XML:1: hostdev source <address domain='0x10000' bus='0x01' slot='0x00' "
                     "function='0x0'/>: "
                     "domain '0x10000' is out of range (at most 0xffff)");
        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0' "
                         "function='8'/></source></hostdev></devices>"),
                     "domain XML:1: hostdev source <address bus='1' slot='0' function='8'/>: "
                     "function '8' is out of range (at most 0x7)");
        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='08' slot='0'/>"
                         "</source></hostdev></devices>"),
                     "domain XML:1: hostdev source <address bus='08' slot='0'/>: bus '08' is not a number");
        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='-1' slot='0'/>"
                         "</source></hostdev></devices>"),
                     "domain XML:1: hostdev source <address bus='-1' slot='0'/>: bus '-1' is not a number");
        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus=' 1' slot='0'/>"
                         "</source></hostdev></devices>"),
                     "domain XML:1: hostdev source <address bus=' 1' slot='0'/>: bus ' 1' is not a number");
        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='0x' slot='0'/>"
                         "</source></hostdev></devices>"),
                     "domain XML:1: hostdev source <address bus='0x' slot='0'/>: bus '0x' is not a number");
        assert_fails(
            DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='99999999999999999999' "
                "slot='0'/></source></hostdev></devices>"),
            "domain XML:1: hostdev source <address bus='99999999999999999999' slot='0'/>: "
            "bus '99999999999999999999' is out of range (at most 0xff)");
        assert_fails(
            DOM("<devices><hostdev mode='subsystem' type='pci' managed='maybe'><source><address bus='1' "
                "slot='0'/></source></hostdev></devices>"),
            "domain XML:1: <hostdev managed='maybe'>: expected yes or no");
        assert_fails(
            DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0'/>"
                "</source><address type='pci' bus='0x05' slot='0x00' function='0x0' multifunction='yes'/>"
                "</hostdev></devices>"),
            "domain XML:1: <address multifunction='yes'>: expected on or off");
        assert_fails(
            DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0'/>"
                "</source><address type='pci' bus='0x05' slot='0x00' function='0x9'/></hostdev></devices>"),
            "domain XML:1: hostdev guest <address bus='0x05' slot='0x00' function='0x9'/>: "
            "function '0x9' is out of range (at most 0x7)");
        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='1' slot='0'/>"
                         "</source><rom bar='no'/></hostdev></devices>"),
                     "domain XML:1: <rom bar='no'>: expected on or off");
        /* long and control-character values are quoted short and on one line */
        assert_fails(
            DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='1&#10;' slot='0'/>"
                "</source></hostdev></devices>"),
            "domain XML:1: hostdev source <address bus='1\\x0a' slot='0'/>: bus '1\\x0a' is not a number");
        assert_fails(DOM("<devices><hostdev mode='subsystem' type='pci'><source><address bus='1' slot='"
                         "0000000000000000000000000000000000000000000000000000000000000000000000x'/>"
                         "</source></hostdev></devices>"),
                     "domain XML:1: hostdev source <address bus='1' slot='"
                     "0000000000000000000000000000000000000000000000000000000000000000...'/>: slot '"
                     "0000000000000000000000000000000000000000000000000000000000000000...' is not a number");
}

static void test_hostdev_line(void **state)
{
        /* the message names the line of the element at fault */
        assert_fails(
            "<domain>\n<name>t</name>\n<devices>\n<hostdev mode='subsystem' type='pci'>\n<source>\n"
            "<address bus='0x100' slot='0'/>\n</source>\n</hostdev>\n</devices>\n</domain>\n",
            "domain XML:6: hostdev source <address bus='0x100' slot='0'/>: bus '0x100' is out of range "
            "(at most 0xff)");
}

static void test_os_features(void **state)
{
        static const struct {
                const char *xml;
                bool uefi, hidden, vendor_id;
                const char *machine, *arch;
        } cases[] = {
            {"<os><type>hvm</type></os>", false, false, false, NULL, NULL},
            {"<os firmware='efi'><type arch='aarch64' machine='virt-8.2'>hvm</type></os>", true, false,
             false, "virt-8.2", "aarch64"},
            {"<os firmware='bios'><loader type='rom'>/usr/share/seabios/bios.bin</loader></os>", false,
             false, false, NULL, NULL},
            {"<os><loader readonly='yes' type='pflash'>/usr/share/OVMF/OVMF_CODE.fd</loader></os>", true,
             false, false, NULL, NULL},
            {"<features><kvm><hidden state='off'/></kvm><hyperv><vendor_id state='off' value='x'/></hyperv>"
             "</features>",
             false, false, false, NULL, NULL},
            {"<features><kvm><hidden state='on'/></kvm></features>", false, true, false, NULL, NULL},
            {"<features><hyperv mode='custom'><vendor_id state='on' value='KVMKVMKVM'/></hyperv></features>",
             false, false, true, NULL, NULL},
            /* only <features>' own: a <kvm> elsewhere is something else */
            {"<kvm><hidden state='on'/></kvm>", false, false, false, NULL, NULL},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char xml[512];
                struct domain *d;

                snprintf(xml, sizeof(xml), DOM("%s"), cases[i].xml);
                print_message("# %s\n", cases[i].xml);
                d = parse_ok(xml);
                assert_int_equal(d->uefi, cases[i].uefi);
                assert_int_equal(d->kvm_hidden, cases[i].hidden);
                assert_int_equal(d->hyperv_vendor_id, cases[i].vendor_id);
                assert_string_or_null(d->machine, cases[i].machine);
                assert_string_or_null(d->arch, cases[i].arch);
                domain_free(d);
        }
        assert_fails(DOM("<features><kvm><hidden state='yes'/></kvm></features>"),
                     "domain XML:1: <hidden state='yes'>: expected on or off");
        assert_fails(DOM("<features><hyperv><vendor_id state='1'/></hyperv></features>"),
                     "domain XML:1: <vendor_id state='1'>: expected on or off");
}

static void test_shmem(void **state)
{
        static const struct {
                const char *xml;
                uint64_t bytes;
        } cases[] = {
            {"<shmem name='looking-glass'><model type='ivshmem-plain'/><size unit='M'>32</size></shmem>",
             32 * MiB},
            /* libvirt's default unit for a shmem size is bytes */
            {"<shmem name='looking-glass'><size>4194304</size></shmem>", 4 * MiB},
            {"<shmem name='looking-glass'><model type='ivshmem-plain'/></shmem>", 0},
            {"<shmem name='other'><size unit='M'>8</size></shmem>", 0},
            {"<shmem name='other'><size unit='M'>8</size></shmem><shmem name='looking-glass'><size "
             "unit='MiB'>128</size></shmem><shmem name='looking-glass'><size unit='M'>2</size></shmem>",
             128 * MiB},
        };

        for (size_t i = 0; i < ELEMENTSOF(cases); i++) {
                char xml[512];
                struct domain *d;

                snprintf(xml, sizeof(xml), DOM("<devices>%s</devices>"), cases[i].xml);
                print_message("# %s\n", cases[i].xml);
                d = parse_ok(xml);
                assert_int_equal(d->shmem_bytes, cases[i].bytes);
                domain_free(d);
        }
        assert_fails(
            DOM("<devices><shmem name='looking-glass'><size unit='M'>lots</size></shmem></devices>"),
            "domain XML:1: <shmem><size> \"lots\" is not a whole number");
}

static void test_name_uuid(void **state)
{
        static const struct {
                const char *uuid, *canonical;
        } uuids[] = {
            {"5f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4f10", "5f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4f10"},
            {"5F0E3C1A8B7D4E2A9C613D2B7A9E4F10", "5f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4f10"},
            {" 5f0e3c1a 8b7d-4e2a-9c61-3d2b7a9e4f10\n", "5f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4f10"},
        };
        static const char *const bad_uuids[] = {
            "", "5f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4f1", "5f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4f100",
            "5f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4fgg", "5-f0e3c1a-8b7d-4e2a-9c61-3d2b7a9e4f10"};

        for (size_t i = 0; i < ELEMENTSOF(uuids); i++) {
                char xml[512];
                struct domain *d;

                snprintf(xml, sizeof(xml), DOM("<uuid>%s</uuid>"), uuids[i].uuid);
                d = parse_ok(xml);
                assert_string_equal(d->uuid, uuids[i].canonical);
                domain_free(d);
        }
        for (size_t i = 0; i < ELEMENTSOF(bad_uuids); i++) {
                char xml[512], message[512];

                snprintf(xml, sizeof(xml), DOM("<uuid>%s</uuid>"), bad_uuids[i]);
                snprintf(message, sizeof(message), "domain XML:1: <uuid> \"%s\" is not a UUID",
                         bad_uuids[i]);
                assert_fails(xml, message);
        }

        {
                /* the first <name> without a namespace; the root's own namespace does not matter */
                _cleanup_(domain_freep) struct domain *d = parse_ok(
                    "<domain xmlns:x='http://example.com/x'><x:name>other</x:name>"
                    "<name xmlns='http://example.com/y'>also-other</name><name>vm</name><name>second</name>"
                    "</domain>");
                assert_string_equal(d->name, "vm");
        }
        assert_fails("<domain><name></name></domain>", "domain XML:1: <name> is empty");
        assert_fails("<domain><name>../../etc/passwd</name></domain>",
                     "domain XML:1: <name> \"../../etc/passwd\" has a '/' or a control character");
        assert_fails("<domain><name>a&#10;b</name></domain>",
                     "domain XML:1: <name> \"a\\x0ab\" has a '/' or a control character");
        assert_fails("<domain>\n<metadata><name>t</name></metadata>\n</domain>",
                     "domain XML:1: <domain> has no <name>");
        /* a default namespace puts <name> in it */
        assert_fails("<domain xmlns='http://example.com/x'><name>t</name></domain>",
                     "domain XML:1: <domain> has no <name>");
        assert_fails("<?xml version='1.0'?>\n<!-- a comment -->\n<Domain><name>t</name></Domain>",
                     "domain XML:3: the root element is <Domain>, not <domain>");
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_win11_gpu),
            cmocka_unit_test(test_gpu_audio_usb),
            cmocka_unit_test(test_hugepages_pinned),
            cmocka_unit_test(test_metadata),
            cmocka_unit_test(test_looking_glass),
            cmocka_unit_test(test_hostile_files),
            cmocka_unit_test(test_doctype_forms),
            cmocka_unit_test(test_too_large),
            cmocka_unit_test(test_not_utf8),
            cmocka_unit_test(test_utf8_accepted),
            cmocka_unit_test(test_malformed),
            cmocka_unit_test(test_quiet),
            cmocka_unit_test(test_memory_units),
            cmocka_unit_test(test_hugepages),
            cmocka_unit_test(test_cpusets),
            cmocka_unit_test(test_hostdevs),
            cmocka_unit_test(test_libvirt_zpci),
            cmocka_unit_test(test_handwritten),
            cmocka_unit_test(test_hostdev_line),
            cmocka_unit_test(test_os_features),
            cmocka_unit_test(test_shmem),
            cmocka_unit_test(test_name_uuid),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
