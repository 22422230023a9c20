/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The domain XML reader: what it reads and refuses in domain.h.
 *
 * The text is checked before libxml2 sees it (size, NUL bytes, UTF-8), parsed with a DOCTYPE
 * refused from the SAX callback that announces it (so no entity or DTD is ever declared, let
 * alone expanded or loaded), and then read as libvirt reads it: values in libvirt's own syntax
 * (scaled integers, cpusets with ^, PCI address attributes in any C base), each element's first
 * occurrence, only elements without a namespace. libxml2's error reports go to a handler for
 * the length of the call, so nothing is printed; the first one becomes the message. */

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/SAX2.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>
#include <libxml/xmlversion.h>

#include "basic/bitmap.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/quote.h"
#include "libvirt/domain.h"

/* The kernel's largest NR_CPUS. */
/* MAX_NUMNODES is at most 1 << 10. */
#define NODE_BITS 1024
/* libxml2's messages can quote the input too; they get more room. */
#define MESSAGE_MAX 160

#if LIBXML_VERSION >= 21200
typedef const xmlError *xml_error_t;
#else
typedef xmlError *xml_error_t;
#endif

/* libxml2 objects */

static inline void xml_freep(void *p)
{
        if (*(void **)p)
                xmlFree(*(void **)p);
}
#define _cleanup_xml_free_ _cleanup_(xml_freep)
DEFINE_TRIVIAL_CLEANUP_FUNC(xmlDoc *, xmlFreeDoc)
DEFINE_TRIVIAL_CLEANUP_FUNC(xmlParserCtxt *, xmlFreeParserCtxt)

static const char *str(const xmlChar *s)
{
        return (const char *)s;
}

static xmlChar *attr(const xmlNode *n, const char *name)
{
        return xmlGetNoNsProp(n, BAD_CAST name);
}

/* Elements of libvirt's schema have no namespace; <metadata> content and extensions such as
 * <qemu:commandline> do, and are not looked at. */
static bool is_element(const xmlNode *n, const char *name)
{
        return n->type == XML_ELEMENT_NODE && !n->ns && xmlStrEqual(n->name, BAD_CAST name);
}

static xmlNode *next_element(xmlNode *n, const char *name)
{
        for (; n; n = n->next)
                if (is_element(n, name))
                        return n;
        return NULL;
}

/* The first child element called name, as libvirt's "./name[1]". */
static xmlNode *child(const xmlNode *parent, const char *name)
{
        return parent ? next_element(parent->children, name) : NULL;
}

#define FOREACH_CHILD(c, parent, name)                                                                      \
        for (xmlNode *c = child(parent, name); c; c = next_element(c->next, name))

/* Messages */

/* A line as libxml2 gives it (0 or -1: none) for error_setf_at(). */
static size_t xml_line(long line)
{
        return line > 0 ? (size_t)line : 0;
}

/* error_setf_at() for the domain XML: "domain XML:LINE: message" ("domain XML: message" without
 * a line). A thin wrapper, the file's name always the same. */
#define fail(error, ret_error, line, ...)                                                                   \
        error_setf_at(ret_error, error, "domain XML", xml_line(line), __VA_ARGS__)
#define fail_at(ret_error, node, ...) fail(-EINVAL, ret_error, xmlGetLineNo(node), __VA_ARGS__)

/* libxml2's reports, captured */

struct capture {
        char *error; /* the first error, formatted */
        bool failed; /* an error was reported (error can be NULL: out of memory) */
        bool no_memory;
        xmlStructuredErrorFunc saved;
        void *saved_data;
        xmlGenericErrorFunc saved_generic;
        void *saved_generic_data;
};

_printf_(3, 4) static void capture_fail(struct capture *c, long line, const char *fmt, ...)
{
        va_list ap;

        c->failed = true;
        /* the first error explains; what follows is usually its consequence */
        if (c->error || c->no_memory)
                return;
        va_start(ap, fmt);
        (void)verror_setf_at(&c->error, -EINVAL, "domain XML", xml_line(line), fmt, ap);
        va_end(ap);
        if (!c->error)
                c->no_memory = true;
}

static void on_error(void *data, xml_error_t e)
{
        struct capture *c = data;
        char buf[MESSAGE_MAX * 4 + sizeof("...")];
        const char *msg;
        size_t len;

        /* warnings are libxml2's advice (a relative namespace URI), not a reason to refuse */
        if (!e || e->level < XML_ERR_ERROR)
                return;
        if (e->code == XML_ERR_NO_MEMORY) {
                c->failed = c->no_memory = true;
                return;
        }
        /* one line: libxml2 ends messages with a newline, some add a second line of bytes */
        msg = e->message ? e->message : "malformed";
        len = strcspn(msg, "\n");
        while (len > 0 && (msg[len - 1] == ' ' || msg[len - 1] == '\t'))
                len--;
        capture_fail(c, e->line, "%s", quote_n(msg, len, MESSAGE_MAX, buf));
}

/* Generic reports are fragments of messages printed by the few places that bypass the
 * structured handler; swallowed so that library code prints nothing. */
static void on_generic_error(void *data, const char *msg, ...)
{
}

static void capture_start(struct capture *c)
{
        c->saved = xmlStructuredError;
        c->saved_data = xmlStructuredErrorContext;
        c->saved_generic = xmlGenericError;
        c->saved_generic_data = xmlGenericErrorContext;
        xmlSetStructuredErrorFunc(c, on_error);
        xmlSetGenericErrorFunc(c, on_generic_error);
}

/* Puts back the caller's handlers (per thread in libxml2). */
static void capture_done(struct capture *c)
{
        xmlSetStructuredErrorFunc(c->saved_data, c->saved);
        xmlSetGenericErrorFunc(c->saved_generic_data, c->saved_generic);
        free(c->error);
}

/* Called by the parser when it reads "<!DOCTYPE": before any declaration in the internal
 * subset is parsed, and before an external one would be looked for. */
static void refuse_doctype(void *ctx, const xmlChar *name, const xmlChar *external_id,
                           const xmlChar *system_id)
{
        xmlParserCtxt *ctxt = ctx;

        capture_fail(ctxt->_private, xmlSAX2GetLineNumber(ctxt),
                     "DOCTYPE refused (no DTD, entity declarations or external subsets in domain XML)");
        xmlStopParser(ctxt);
}

/* Before parsing */

/* Refuses what would make libxml2 read something other than the UTF-8 text libvirt writes: a
 * NUL (a C caller's string would end there; UTF-16 and UTF-32 are full of them) and bytes that
 * are not UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF). */
static int check_text(const char *s, size_t len, char **ret_error)
{
        long line = 1;

        for (size_t i = 0, k; i < len; i += k) {
                k = utf8_char_length(s + i, len - i);
                if (k == 0)
                        return fail(-EINVAL, ret_error, line, "byte 0x%02x is not UTF-8; domain XML must be UTF-8",
                                    (unsigned char)s[i]);
                if (s[i] == '\0')
                        return fail(-EINVAL, ret_error, line, "contains a NUL byte; expected UTF-8 text");
                line += s[i] == '\n';
        }
        return 0;
}

static bool is_utf8_name(const xmlChar *e)
{
        return strcasecmp(str(e), "UTF-8") == 0 || strcasecmp(str(e), "UTF8") == 0;
}

static int parse_document(const char *xml, size_t len, xmlDoc **ret, char **ret_error)
{
        /* declared in this order so that the document and the context are freed while the
         * handler still captures what freeing them might report */
        _cleanup_(capture_done) struct capture c = {0};
        _cleanup_(xmlFreeParserCtxtp) xmlParserCtxt *ctxt = NULL;
        _cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
        char buf[QUOTE_BUF];

        capture_start(&c);
        ctxt = xmlCreateMemoryParserCtxt(xml, (int)len);
        if (!ctxt)
                return -ENOMEM;
        ctxt->_private = &c;
        ctxt->sax->internalSubset = refuse_doctype;
        ctxt->sax->externalSubset = refuse_doctype;
        /* No XML_PARSE_NOENT, DTDLOAD, DTDATTR or HUGE: no entity is substituted, no DTD
         * loaded, and libxml2's limits (depth 256, name and text lengths) stay on. */
        (void)xmlCtxtUseOptions(ctxt, XML_PARSE_NONET | XML_PARSE_BIG_LINES);
        ctxt->linenumbers = 1;
        (void)xmlParseDocument(ctxt);
        doc = TAKE_PTR(ctxt->myDoc);

        if (c.no_memory)
                return -ENOMEM;
        if (c.failed) {
                if (ret_error)
                        *ret_error = TAKE_PTR(c.error);
                return -EINVAL;
        }
        if (!ctxt->wellFormed || !doc)
                return fail(-EINVAL, ret_error, 0, "not well-formed");
        /* not reached while refuse_doctype() stops the parser; kept as the rule's last word */
        if (doc->intSubset || doc->extSubset)
                return fail(-EINVAL, ret_error, 0, "DOCTYPE refused");
        /* The text is UTF-8 (check_text()); a declaration saying otherwise would have libxml2
         * decode it as something else. */
        if (doc->encoding && !is_utf8_name(doc->encoding))
                return fail(-EINVAL, ret_error, 1, "encoding \"%s\" refused; domain XML must be UTF-8",
                            quote(doc->encoding, buf));
        *ret = TAKE_PTR(doc);
        return 0;
}

/* Values in libvirt's syntax */

static bool is_blank(char c)
{
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static const char *skip_blanks(const char *p)
{
        while (is_blank(*p))
                p++;
        return p;
}

/* Decimal digits at *p (nothing before them), moving *p past them. */
static int parse_decimal(const char **p, uint64_t *ret)
{
        unsigned long long v;
        char *end;

        if (!isdigit((unsigned char)**p))
                return -EINVAL;
        errno = 0;
        v = strtoull(*p, &end, 10);
        if (errno == ERANGE)
                return -ERANGE;
        *p = end;
        *ret = v;
        return 0;
}

/* libvirt's unit suffixes (virScaleInteger), any case: b, byte, bytes; k, m, g, t, p, e alone
 * or with "iB" are powers of 1024, with "B" powers of 1000. */
static int unit_scale(const char *unit, uint64_t *ret)
{
        static const char prefixes[] = "kmgtpe";
        const char *p;
        uint64_t base, scale = 1;

        if (strcasecmp(unit, "b") == 0 || strcasecmp(unit, "byte") == 0 || strcasecmp(unit, "bytes") == 0) {
                *ret = 1;
                return 0;
        }
        if (!unit[0] || !(p = strchr(prefixes, tolower((unsigned char)unit[0]))))
                return -EINVAL;
        if (!unit[1] || strcasecmp(unit + 1, "iB") == 0)
                base = 1024;
        else if ((unit[1] == 'b' || unit[1] == 'B') && !unit[2])
                base = 1000;
        else
                return -EINVAL;
        for (const char *q = prefixes; q <= p; q++)
                scale *= base;
        *ret = scale;
        return 0;
}

/* A scaled integer: value (blanks around it allowed) in unit, default_scale when unit is NULL;
 * the result in bytes. what names it in messages. */
static int parse_scaled(const xmlNode *n, const char *what, const char *value, const char *unit,
                        uint64_t default_scale, uint64_t *ret, char **ret_error)
{
        char b1[QUOTE_BUF], b2[QUOTE_BUF];
        const char *p = skip_blanks(value);
        uint64_t v, scale = default_scale;
        int r;

        r = parse_decimal(&p, &v);
        if (r == -EINVAL || (r == 0 && *skip_blanks(p)))
                return fail_at(ret_error, n, "%s \"%s\" is not a whole number", what, quote(value, b1));
        if (unit && unit_scale(unit, &scale) < 0)
                return fail_at(ret_error, n,
                               "%s unit \"%s\" is unknown; expected b, KiB, MiB, GiB, TiB (K, M, G, T) "
                               "or KB, MB, GB, TB",
                               what, quote(unit, b1));
        if (r == -ERANGE || v > UINT64_MAX / scale)
                return fail_at(ret_error, n, "%s \"%s\"%s%s is too large", what, quote(value, b1),
                               unit ? " " : "", unit ? quote(unit, b2) : "");
        *ret = v * scale;
        return 0;
}

/* libvirt keeps memory sizes in KiB, rounded up. */
static int round_up_kib(uint64_t bytes, uint64_t *ret)
{
        uint64_t kib = bytes / 1024 + (bytes % 1024 != 0);

        if (kib > UINT64_MAX / 1024)
                return -ERANGE;
        *ret = kib * 1024;
        return 0;
}

static void bits_assign(uint64_t *b, size_t lo, size_t hi, bool set)
{
        for (size_t w = lo / 64; w <= hi / 64; w++) {
                uint64_t mask = UINT64_MAX;

                if (w == lo / 64)
                        mask &= UINT64_MAX << (lo % 64);
                if (w == hi / 64)
                        mask &= UINT64_MAX >> (63 - hi % 64);
                b[w] = set ? b[w] | mask : b[w] & ~mask;
        }
}

/* libvirt's cpuset and nodeset syntax (virBitmapParse): entries N, N-M and ^N separated by
 * commas, applied left to right ("0-3,^2" is 0-1,3; "^2,0-3" is 0-3), blanks around numbers
 * and a trailing comma allowed as libvirt allows them. A number >= nbits is -ERANGE. The set
 * is written to bitmap (BITMAP_WORDS(nbits) words) only on success. */
static int cpuset_parse(const char *s, uint64_t *bitmap, size_t nbits)
{
        uint64_t set[BITMAP_WORDS(CPULIST_BITS)] = {0};
        const char *p = skip_blanks(s);

        if (nbits > CPULIST_BITS || !*p)
                return -EINVAL;
        while (*p) {
                bool exclude = *p == '^';
                uint64_t lo, hi;
                int r;

                p += exclude;
                r = parse_decimal(&p, &lo);
                if (r < 0)
                        return r;
                p = skip_blanks(p);
                hi = lo;
                if (*p == '-' && !exclude) {
                        p = skip_blanks(p + 1);
                        r = parse_decimal(&p, &hi);
                        if (r < 0)
                                return r;
                        if (hi < lo)
                                return -EINVAL;
                        p = skip_blanks(p);
                }
                if (hi >= nbits)
                        return -ERANGE;
                bits_assign(set, lo, hi, !exclude);
                if (*p == ',')
                        p = skip_blanks(p + 1);
                else if (*p)
                        return -EINVAL;
        }
        memcpy(bitmap, set, BITMAP_WORDS(nbits) * sizeof(uint64_t));
        return 0;
}

/* A non-empty set from attribute name of n, e.g. <vcpupin cpuset='0-3,^2'>. */
static int read_set(const xmlNode *n, const char *name, uint64_t *bitmap, size_t nbits, char **ret_error)
{
        _cleanup_xml_free_ xmlChar *v = attr(n, name);
        const char *kind = nbits == NODE_BITS ? "node" : "CPU";
        char buf[QUOTE_BUF];
        int r;

        if (!v)
                return fail_at(ret_error, n, "<%s> has no %s", str(n->name), name);
        r = cpuset_parse(str(v), bitmap, nbits);
        if (r == -ERANGE)
                return fail_at(ret_error, n, "<%s %s='%s'>: a %s number above %zu", str(n->name), name,
                               quote(v, buf), kind, nbits - 1);
        if (r < 0)
                return fail_at(ret_error, n, "<%s %s='%s'>: not a %s set; expected e.g. 0-3,^2,8",
                               str(n->name), name, quote(v, buf), kind);
        if (bitmap_count(bitmap, nbits) == 0)
                return fail_at(ret_error, n, "<%s %s='%s'>: the set is empty", str(n->name), name,
                               quote(v, buf));
        return 0;
}

/* An on/off attribute (libvirt's virTristateSwitch, or yes/no for virTristateBool); absent
 * leaves *ret as it is, the default. */
static int read_switch(const xmlNode *n, const char *name, const char *on, const char *off, bool *ret,
                       char **ret_error)
{
        _cleanup_xml_free_ xmlChar *v = attr(n, name);
        char buf[QUOTE_BUF];

        if (!v)
                return 0;
        if (strcmp(str(v), on) == 0)
                *ret = true;
        else if (strcmp(str(v), off) == 0)
                *ret = false;
        else
                return fail_at(ret_error, n, "<%s %s='%s'>: expected %s or %s", str(n->name), name,
                               quote(v, buf), on, off);
        return 0;
}

/* libvirt's UUID syntax (virUUIDParse): 32 hex digits, '-' or ' ' allowed between pairs,
 * blanks around; written back in the canonical 8-4-4-4-12 lower-case form. */
static int hex_digit(char c)
{
        return isdigit((unsigned char)c) ? c - '0' : tolower((unsigned char)c) - 'a' + 10;
}

static int uuid_canonical(const char *s, char ret[static 37])
{
        uint8_t u[16];
        const char *p = skip_blanks(s);

        for (size_t i = 0; i < 16;) {
                if (*p == '-' || *p == ' ') {
                        p++;
                        continue;
                }
                if (!isxdigit((unsigned char)p[0]) || !isxdigit((unsigned char)p[1]))
                        return -EINVAL;
                u[i++] = (uint8_t)(hex_digit(p[0]) << 4 | hex_digit(p[1]));
                p += 2;
        }
        if (*skip_blanks(p))
                return -EINVAL;
        snprintf(ret, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x", u[0], u[1],
                 u[2], u[3], u[4], u[5], u[6], u[7], u[8], u[9], u[10], u[11], u[12], u[13], u[14], u[15]);
        return 0;
}

/* A PCI address attribute as libvirt reads it (virXMLPropUInt, base 0): "0x0a", "10", and, as
 * strtoul() has it, "012" in octal. */
static int parse_address_number(const char *s, unsigned long max, unsigned *ret)
{
        unsigned long v;
        char *end;

        if (!isdigit((unsigned char)s[0]))
                return -EINVAL;
        errno = 0;
        v = strtoul(s, &end, 0);
        if (*end)
                return -EINVAL;
        if (errno == ERANGE || v > max)
                return -ERANGE;
        *ret = (unsigned)v;
        return 0;
}

/* "<address domain='0x0000' bus='0x0g' slot='0x00' function='0x0'/>", the attributes as given. */
static void describe_address(const xmlNode *n, char *buf, size_t size)
{
        static const char *const names[] = {"domain", "bus", "slot", "function"};
        size_t o = (size_t)snprintf(buf, size, "<address");

        for (size_t i = 0; i < ELEMENTSOF(names) && o < size; i++) {
                _cleanup_xml_free_ xmlChar *v = attr(n, names[i]);
                char q[QUOTE_BUF];
                if (v)
                        o += (size_t)snprintf(buf + o, size - o, " %s='%s'", names[i], quote(v, q));
        }
        if (o < size)
                snprintf(buf + o, size - o, "/>");
}

/* A PCI <address>; *ret_empty when domain, bus and slot are all 0 (libvirt's "empty" address,
 * one it assigns itself). what says whose address it is. */
static int read_pci_address(const xmlNode *n, const char *what, struct pci_addr *ret, bool *ret_empty,
                            char **ret_error)
{
        static const struct {
                const char *name;
                unsigned long max;
        } fields[] = {{"domain", 0xffff}, {"bus", 0xff}, {"slot", 0x1f}, {"function", 0x7}};
        unsigned v[ELEMENTSOF(fields)] = {0};

        for (size_t i = 0; i < ELEMENTSOF(fields); i++) {
                _cleanup_xml_free_ xmlChar *s = attr(n, fields[i].name);
                char desc[ELEMENTSOF(fields) * (QUOTE_BUF + 16) + 16], q[QUOTE_BUF];
                int r;

                /* absent is 0, as in libvirt */
                if (!s)
                        continue;
                r = parse_address_number(str(s), fields[i].max, &v[i]);
                if (r == 0)
                        continue;
                describe_address(n, desc, sizeof(desc));
                if (r == -ERANGE)
                        return fail_at(ret_error, n, "%s %s: %s '%s' is out of range (at most 0x%lx)", what,
                                       desc, fields[i].name, quote(s, q), fields[i].max);
                return fail_at(ret_error, n, "%s %s: %s '%s' is not a number", what, desc, fields[i].name,
                               quote(s, q));
        }
        *ret = (struct pci_addr){
            .domain = (uint16_t)v[0], .bus = (uint8_t)v[1], .slot = (uint8_t)v[2], .func = (uint8_t)v[3]};
        *ret_empty = v[0] == 0 && v[1] == 0 && v[2] == 0;
        return 0;
}

/* The elements */

static int read_name(struct domain *d, const xmlNode *root, char **ret_error)
{
        xmlNode *n = child(root, "name");
        _cleanup_xml_free_ xmlChar *v = NULL;
        char buf[QUOTE_BUF];

        if (!n)
                return fail_at(ret_error, root, "<domain> has no <name>");
        v = xmlNodeGetContent(n);
        if (!v)
                return -ENOMEM;
        if (!*v)
                return fail_at(ret_error, n, "<name> is empty");
        /* The name becomes a file name (vm.d/NAME.conf) and part of log lines; libvirt refuses
         * a '/' and a newline in it too. */
        for (const xmlChar *p = v; *p; p++)
                if (*p == '/' || *p < 0x20 || *p == 0x7f)
                        return fail_at(ret_error, n, "<name> \"%s\" has a '/' or a control character",
                                       quote(v, buf));
        d->name = strdup(str(v));
        return d->name ? 0 : -ENOMEM;
}

static int read_uuid(struct domain *d, const xmlNode *root, char **ret_error)
{
        xmlNode *n = child(root, "uuid");
        _cleanup_xml_free_ xmlChar *v = NULL;
        char buf[QUOTE_BUF], uuid[37];

        if (!n)
                return 0;
        v = xmlNodeGetContent(n);
        if (!v)
                return -ENOMEM;
        if (uuid_canonical(str(v), uuid) < 0)
                return fail_at(ret_error, n, "<uuid> \"%s\" is not a UUID", quote(v, buf));
        d->uuid = strdup(uuid);
        return d->uuid ? 0 : -ENOMEM;
}

static int read_memory(struct domain *d, const xmlNode *root, char **ret_error)
{
        xmlNode *n = child(root, "memory");
        _cleanup_xml_free_ xmlChar *v = NULL, *unit = NULL;
        uint64_t bytes;
        int r;

        if (!n)
                return 0;
        v = xmlNodeGetContent(n);
        if (!v)
                return -ENOMEM;
        unit = attr(n, "unit");
        r = parse_scaled(n, "<memory>", str(v), str(unit), 1024, &bytes, ret_error);
        if (r < 0)
                return r;
        if (round_up_kib(bytes, &d->memory_bytes) < 0)
                return fail_at(ret_error, n, "<memory> is too large");
        return 0;
}

/* <memoryBacking><hugepages>[<page size unit nodeset/>...]: the first page's size; its node
 * when it is the only page and names one node. */
static int read_hugepages(struct domain *d, const xmlNode *root, char **ret_error)
{
        xmlNode *h = child(child(root, "memoryBacking"), "hugepages"), *page;
        _cleanup_xml_free_ xmlChar *size = NULL, *unit = NULL;
        uint64_t nodes[BITMAP_WORDS(NODE_BITS)], bytes;
        int r;

        if (!h)
                return 0;
        d->hugepages = true;
        page = child(h, "page");
        if (!page)
                return 0;
        size = attr(page, "size");
        if (!size)
                return fail_at(ret_error, page, "<page> has no size");
        unit = attr(page, "unit");
        r = parse_scaled(page, "<page size>", str(size), str(unit), 1024, &bytes, ret_error);
        if (r < 0)
                return r;
        if (bytes == 0)
                return fail_at(ret_error, page, "<page size> is 0");
        if (round_up_kib(bytes, &d->hugepage_size) < 0)
                return fail_at(ret_error, page, "<page size> is too large");

        if (!xmlHasNsProp(page, BAD_CAST "nodeset", NULL))
                return 0;
        r = read_set(page, "nodeset", nodes, NODE_BITS, ret_error);
        if (r < 0)
                return r;
        if (bitmap_count(nodes, NODE_BITS) == 1 && !next_element(page->next, "page"))
                d->hugepage_node = (int)bitmap_first(nodes, NODE_BITS);
        return 0;
}

static int read_os(struct domain *d, const xmlNode *root, char **ret_error)
{
        xmlNode *os = child(root, "os"), *type, *loader;
        _cleanup_xml_free_ xmlChar *firmware = NULL, *machine = NULL, *arch = NULL, *loader_type = NULL;

        if (!os)
                return 0;
        firmware = attr(os, "firmware");
        type = child(os, "type");
        if (type) {
                machine = attr(type, "machine");
                arch = attr(type, "arch");
        }
        loader = child(os, "loader");
        if (loader)
                loader_type = attr(loader, "type");
        d->uefi = (firmware && xmlStrEqual(firmware, BAD_CAST "efi")) ||
                  (loader_type && xmlStrEqual(loader_type, BAD_CAST "pflash"));
        if (machine && !(d->machine = strdup(str(machine))))
                return -ENOMEM;
        if (arch && !(d->arch = strdup(str(arch))))
                return -ENOMEM;
        return 0;
}

/* The union of the cpusets of every <cputune><name>, canonical, or NULL when there is none. */
static int read_pins(const xmlNode *cputune, const char *name, char **ret, char **ret_error)
{
        uint64_t all[BITMAP_WORDS(CPULIST_BITS)] = {0}, set[BITMAP_WORDS(CPULIST_BITS)];
        bool any = false;
        int r;

        FOREACH_CHILD(n, cputune, name)
        {
                r = read_set(n, "cpuset", set, CPULIST_BITS, ret_error);
                if (r < 0)
                        return r;
                for (size_t w = 0; w < BITMAP_WORDS(CPULIST_BITS); w++)
                        all[w] |= set[w];
                any = true;
        }
        if (!any)
                return 0;
        *ret = cpulist_format(all, CPULIST_BITS);
        return *ret ? 0 : -ENOMEM;
}

static int read_cputune(struct domain *d, const xmlNode *root, char **ret_error)
{
        xmlNode *cputune = child(root, "cputune");
        int r;

        if (!cputune)
                return 0;
        r = read_pins(cputune, "vcpupin", &d->vcpu_cpus, ret_error);
        if (r < 0)
                return r;
        r = read_pins(cputune, "emulatorpin", &d->emulator_cpus, ret_error);
        if (r < 0)
                return r;
        return read_pins(cputune, "iothreadpin", &d->iothread_cpus, ret_error);
}

static int read_hostdev(const xmlNode *n, struct domain_hostdev *h, char **ret_error)
{
        xmlNode *address = child(child(n, "source"), "address"), *guest, *rom;
        _cleanup_xml_free_ xmlChar *guest_type = NULL, *rom_file = NULL;
        bool empty;
        int r;

        if (!address)
                return fail_at(ret_error, n, "PCI <hostdev> has no <source><address>");
        /* 0000:00:00.0 is a device too (a host bridge; the first function of an s390x zPCI
         * host): libvirt accepts it, and whether this host has it is the hook's question. */
        r = read_pci_address(address, "hostdev source", &h->host, &empty, ret_error);
        if (r < 0)
                return r;

        /* libvirt manages a device only for managed='yes' (virDomainHostdevDefParseXML): an
         * absent attribute is managed='no', and its own formatter writes it back so. */
        h->managed = false;
        r = read_switch(n, "managed", "yes", "no", &h->managed, ret_error);
        if (r < 0)
                return r;

        guest = child(n, "address");
        if (guest)
                guest_type = attr(guest, "type");
        if (guest_type && xmlStrEqual(guest_type, BAD_CAST "pci")) {
                r = read_pci_address(guest, "hostdev guest", &h->guest, &empty, ret_error);
                if (r < 0)
                        return r;
                r = read_switch(guest, "multifunction", "on", "off", &h->multifunction, ret_error);
                if (r < 0)
                        return r;
                /* an empty one is libvirt's to assign */
                h->has_guest_address = !empty;
        }

        rom = child(n, "rom");
        if (rom) {
                bool bar = true;

                r = read_switch(rom, "bar", "on", "off", &bar, ret_error);
                if (r < 0)
                        return r;
                h->rom_bar_off = !bar;
                rom_file = attr(rom, "file");
                if (rom_file && !(h->rom_file = strdup(str(rom_file))))
                        return -ENOMEM;
        }
        return 0;
}

static bool attr_is(const xmlNode *n, const char *name, const char *value, bool absent)
{
        _cleanup_xml_free_ xmlChar *v = attr(n, name);

        return v ? xmlStrEqual(v, BAD_CAST value) : absent;
}

static int read_devices(struct domain *d, const xmlNode *root, char **ret_error)
{
        xmlNode *devices = child(root, "devices");
        bool shmem_seen = false;
        size_t cap = 0;
        int r;

        FOREACH_CHILD(n, devices, "hostdev")
        {
                /* libvirt's default mode is subsystem; usb, scsi, mdev... are not ours */
                if (!attr_is(n, "mode", "subsystem", true) || !attr_is(n, "type", "pci", false))
                        continue;
                if (d->n_hostdevs == cap) {
                        size_t ncap = cap ? cap * 2 : 4;
                        struct domain_hostdev *a = reallocarray(d->hostdevs, ncap, sizeof(*a));
                        if (!a)
                                return -ENOMEM;
                        d->hostdevs = a;
                        cap = ncap;
                }
                d->hostdevs[d->n_hostdevs] = (struct domain_hostdev){0};
                /* counted first, so that domain_free() frees what a failure left */
                r = read_hostdev(n, &d->hostdevs[d->n_hostdevs++], ret_error);
                if (r < 0)
                        return r;
        }

        FOREACH_CHILD(n, devices, "memballoon")
                d->memballoon_none = attr_is(n, "model", "none", false);

        FOREACH_CHILD(n, devices, "shmem")
        {
                xmlNode *size;
                _cleanup_xml_free_ xmlChar *v = NULL, *unit = NULL;

                if (shmem_seen || !attr_is(n, "name", "looking-glass", false))
                        continue;
                shmem_seen = true;
                size = child(n, "size");
                if (!size)
                        continue;
                v = xmlNodeGetContent(size);
                if (!v)
                        return -ENOMEM;
                unit = attr(size, "unit");
                /* libvirt's default unit for a shmem size is bytes (scale 1), unlike <memory> */
                r = parse_scaled(size, "<shmem><size>", str(v), str(unit), 1, &d->shmem_bytes, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

#define QEMU_NS "http://libvirt.org/schemas/domain/qemu/1.0"

/* QEMU's size suffixes (qemu_strtosz: bytes by default, K M G T in powers of 1024). */
static uint64_t qemu_size(const char *s)
{
        char *end = NULL;
        uint64_t v = strtoull(s, &end, 10);
        int shift = 0;

        if (end == s)
                return 0;
        switch (*end) {
        case 'k': case 'K': shift = 10; break;
        case 'm': case 'M': shift = 20; break;
        case 'g': case 'G': shift = 30; break;
        case 't': case 'T': shift = 40; break;
        default: break;
        }
        return shift && v > (UINT64_MAX >> shift) ? 0 : v << shift;
}

/* One -object argument: "{'qom-type':'memory-backend-file',...,'mem-path':'/dev/kvmfr0','size':N}"
 * or "memory-backend-file,id=...,mem-path=/dev/kvmfr0,size=64M". */
static void read_kvmfr_arg(struct domain *d, const char *v)
{
        const char *p = strstr(v, "/dev/kvmfr"), *size;
        size_t n;

        if (d->kvmfr || !p || !strstr(v, "mem-path"))
                return;
        n = strspn(p + strlen("/dev/kvmfr"), "0123456789") + strlen("/dev/kvmfr");
        if (n >= sizeof(d->kvmfr_path))
                return;
        d->kvmfr = true;
        memcpy(d->kvmfr_path, p, n);
        d->kvmfr_path[n] = '\0';
        if ((size = strstr(v, "'size':")) || (size = strstr(v, "\"size\":")))
                d->kvmfr_bytes = qemu_size(size + 7 + strspn(size + 7, " "));
        else if ((size = strstr(v, "size=")))
                d->kvmfr_bytes = qemu_size(size + 5);
}

/* <qemu:commandline><qemu:arg value=.../>: Looking Glass's kvmfr device. */
static int read_qemu_commandline(struct domain *d, const xmlNode *root, char **ret_error)
{
        for (xmlNode *c = root->children; c; c = c->next) {
                if (c->type != XML_ELEMENT_NODE || !c->ns || !xmlStrEqual(c->ns->href, BAD_CAST QEMU_NS) ||
                    !xmlStrEqual(c->name, BAD_CAST "commandline"))
                        continue;
                for (xmlNode *a = c->children; a; a = a->next) {
                        _cleanup_xml_free_ xmlChar *v = NULL;
                        if (a->type != XML_ELEMENT_NODE || !xmlStrEqual(a->name, BAD_CAST "arg"))
                                continue;
                        v = attr(a, "value");
                        if (v)
                                read_kvmfr_arg(d, str(v));
                }
        }
        return 0;
}

static int read_features(struct domain *d, const xmlNode *root, char **ret_error)
{
        xmlNode *features = child(root, "features"), *n;
        int r;

        n = child(child(features, "kvm"), "hidden");
        if (n) {
                r = read_switch(n, "state", "on", "off", &d->kvm_hidden, ret_error);
                if (r < 0)
                        return r;
        }
        n = child(child(features, "hyperv"), "vendor_id");
        if (n) {
                r = read_switch(n, "state", "on", "off", &d->hyperv_vendor_id, ret_error);
                if (r < 0)
                        return r;
        }
        return 0;
}

int domain_parse(const char *xml, size_t len, struct domain **ret, char **ret_error)
{
        static int (*const readers[])(struct domain *, const xmlNode *, char **) = {
            read_name, read_uuid,    read_memory,  read_hugepages,
            read_os,   read_cputune, read_devices, read_features, read_qemu_commandline,
        };
        _cleanup_(xmlFreeDocp) xmlDoc *doc = NULL;
        _cleanup_(domain_freep) struct domain *d = NULL;
        _cleanup_free_ char *error = NULL;
        char buf[QUOTE_BUF];
        xmlNode *root;
        int r;

        if (!xml && len > 0)
                return -EINVAL;
        if (len > DOMAIN_XML_MAX)
                return fail(-EFBIG, ret_error, 0, "%zu bytes is too large (at most %u)", len,
                            DOMAIN_XML_MAX);
        if (len == 0)
                return fail(-EINVAL, ret_error, 0, "empty");
        r = check_text(xml, len, ret_error);
        if (r < 0)
                return r;

        xmlInitParser();
        r = parse_document(xml, len, &doc, ret_error);
        if (r < 0)
                return r;
        root = xmlDocGetRootElement(doc);
        if (!root)
                return fail(-EINVAL, ret_error, 0, "no root element");
        if (!xmlStrEqual(root->name, BAD_CAST "domain"))
                return fail_at(ret_error, root, "the root element is <%s>, not <domain>",
                               quote(root->name, buf));

        d = calloc(1, sizeof(*d));
        if (!d)
                return -ENOMEM;
        d->hugepage_node = -1;
        for (size_t i = 0; i < ELEMENTSOF(readers); i++) {
                /* a reader's message goes out only with the failure, *ret_error untouched otherwise */
                r = readers[i](d, root, &error);
                if (r < 0) {
                        if (ret_error && error)
                                *ret_error = TAKE_PTR(error);
                        return r;
                }
        }
        *ret = TAKE_PTR(d);
        return 0;
}

void domain_free(struct domain *d)
{
        if (!d)
                return;
        free(d->name);
        free(d->uuid);
        free(d->machine);
        free(d->arch);
        free(d->vcpu_cpus);
        free(d->emulator_cpus);
        free(d->iothread_cpus);
        for (size_t i = 0; i < d->n_hostdevs; i++)
                free(d->hostdevs[i].rom_file);
        free(d->hostdevs);
        free(d);
}
