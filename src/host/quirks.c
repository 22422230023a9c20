/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The quirks database parser. The format is documented in docs/quirks.md; in short:
 *
 *     # comment
 *     [entry-id]
 *     key = value
 *
 * The parser works on a (pointer, length) buffer, never on a C string, so a NUL byte or a
 * missing final newline cannot make it read past the end. It is strict on purpose: the file
 * decides what the tool does to a user's GPU, so a typo must be an error, not a silently
 * ignored line. */

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/error.h"
#include "basic/macro.h"
#include "basic/sysroot.h"
#include "basic/utf8.h"
#include "host/quirks.h"

/* A database is a few KiB; anything this large is not one and is refused before reading. */
#define QUIRK_DB_MAX_SIZE (16u * 1024 * 1024)
/* Longest excerpt of user text quoted in an error message. */
#define QUOTE_MAX 40

enum quirk_key {
        KEY_NAME,
        KEY_MATCH,
        KEY_SEVERITY,
        KEY_FLAGS,
        KEY_SUMMARY,
        KEY_FIX,
        KEY_SOURCE,
        _KEY_MAX,
};

static const char *const key_names[_KEY_MAX] = {
        [KEY_NAME] = "name",
        [KEY_MATCH] = "match",
        [KEY_SEVERITY] = "severity",
        [KEY_FLAGS] = "flags",
        [KEY_SUMMARY] = "summary",
        [KEY_FIX] = "fix",
        [KEY_SOURCE] = "source",
};

/* flags is the only optional key: an entry may be informational only. */
static const bool key_mandatory[_KEY_MAX] = {
        [KEY_NAME] = true,
        [KEY_MATCH] = true,
        [KEY_SEVERITY] = true,
        [KEY_SUMMARY] = true,
        [KEY_FIX] = true,
        [KEY_SOURCE] = true,
};

static const struct {
        const char *name;
        enum quirk_flag flag;
} flag_table[] = {
        { "reset-broken", QUIRK_RESET_BROKEN },
        { "reset-once-per-boot", QUIRK_RESET_ONCE_PER_BOOT },
        { "vendor-reset", QUIRK_VENDOR_RESET },
        { "keep-efifb", QUIRK_KEEP_EFIFB },
        { "companions-travel", QUIRK_COMPANIONS_TRAVEL },
        { "switch-companions", QUIRK_SWITCH_COMPANIONS },
};

static const char *const severity_names[] = {
        [QUIRK_INFO] = "info",
        [QUIRK_WARNING] = "warning",
        [QUIRK_ERROR] = "error",
};

const char *quirk_severity_to_string(enum quirk_severity s)
{
        if ((unsigned)s >= ELEMENTSOF(severity_names))
                return NULL;
        return severity_names[s];
}

const char *quirk_flag_to_string(enum quirk_flag f)
{
        for (size_t i = 0; i < ELEMENTSOF(flag_table); i++)
                if (flag_table[i].flag == f)
                        return flag_table[i].name;
        return NULL;
}

static void quirk_done(struct quirk *q)
{
        free(q->id);
        free(q->name);
        free(q->summary);
        free(q->fix);
        free(q->source);
        free(q->ranges);
        *q = (struct quirk){};
}

void quirk_db_free(struct quirk_db *db)
{
        if (!db)
                return;
        for (size_t i = 0; i < db->n_quirks; i++)
                quirk_done(&db->quirks[i]);
        free(db->quirks);
        free(db);
}

size_t quirk_db_match(const struct quirk_db *db, uint16_t vendor, uint16_t device,
                      const struct quirk **out, size_t max_out)
{
        size_t n = 0;

        if (!db)
                return 0;
        for (size_t i = 0; i < db->n_quirks; i++) {
                const struct quirk *q = &db->quirks[i];
                for (size_t j = 0; j < q->n_ranges; j++) {
                        const struct quirk_id_range *r = &q->ranges[j];
                        if (r->vendor != vendor || device < r->first || device > r->last)
                                continue;
                        if (out && n < max_out)
                                out[n] = q;
                        n++;
                        break; /* each quirk counts once, however many of its ranges match */
                }
        }
        return n;
}

/* A view into the input: not NUL-terminated. */
struct span {
        const char *p;
        size_t n;
};

static bool span_eq(struct span s, const char *word)
{
        size_t n = strlen(word);
        return s.n == n && memcmp(s.p, word, n) == 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static struct span span_trim(struct span s)
{
        while (s.n > 0 && is_blank(s.p[0])) {
                s.p++;
                s.n--;
        }
        while (s.n > 0 && is_blank(s.p[s.n - 1]))
                s.n--;
        return s;
}

/* Next blank-separated word of *s, consuming it; false at the end. */
static bool span_next_word(struct span *s, struct span *ret)
{
        size_t i = 0, start;

        while (i < s->n && is_blank(s->p[i]))
                i++;
        if (i == s->n) {
                s->p += i;
                s->n = 0;
                return false;
        }
        start = i;
        while (i < s->n && !is_blank(s->p[i]))
                i++;
        *ret = (struct span){ s->p + start, i - start };
        s->p += i;
        s->n -= i;
        return true;
}

/* Quotes user text for an error message: printable ASCII as is, other bytes as \xNN, and
 * at most QUOTE_MAX bytes of input, so a megabyte line cannot make a megabyte message. */
static void quote(struct span s, char buf[static QUOTE_MAX * 4 + 4])
{
        char *b = buf;
        size_t n = s.n < QUOTE_MAX ? s.n : QUOTE_MAX;

        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s.p[i];
                if (c >= 0x20 && c < 0x7f)
                        *b++ = (char)c;
                else
                        b += sprintf(b, "\\x%02x", c);
        }
        if (n < s.n)
                b += sprintf(b, "...");
        *b = '\0';
}

struct parser {
        const char *filename;
        size_t line;          /* line being parsed, 1-based */
        char *error;          /* first error message, "FILE:LINE: ..." */

        struct quirk *quirks;
        size_t *quirk_lines;  /* header line of each entry, for duplicate-id messages */
        size_t n_quirks, n_alloc;

        bool in_entry;
        struct quirk cur;
        size_t cur_line;
        size_t key_line[_KEY_MAX]; /* 0: key not seen yet in this entry */
        size_t n_ranges_alloc;
};

/* Records the error for line (error_setf_at(); parsing stops at the first) and returns -EINVAL,
 * or -ENOMEM when the message can't be built. */
_printf_(3, 4) static int parse_error(struct parser *ps, size_t line, const char *fmt, ...)
{
        va_list ap;
        int r;

        va_start(ap, fmt);
        r = verror_setf_at(&ps->error, -EINVAL, ps->filename, line, fmt, ap);
        va_end(ap);
        return ps->error ? r : -ENOMEM;
}

static int grow(void **p, size_t *n_alloc, size_t n_needed, size_t size)
{
        size_t n;
        void *q;

        if (n_needed <= *n_alloc)
                return 0;
        n = *n_alloc ? *n_alloc : 8;
        while (n < n_needed) {
                if (n > SIZE_MAX / 2 / size)
                        return -ENOMEM;
                n *= 2;
        }
        q = realloc(*p, n * size);
        if (!q)
                return -ENOMEM;
        *p = q;
        *n_alloc = n;
        return 0;
}

/* Every line must be printable UTF-8 (tabs allowed): the values end up on terminals and in
 * JSON. Returns the offset of the first bad byte, or SIZE_MAX when the line is clean. */
static size_t check_text(struct span s, const char **ret_what)
{
        const unsigned char *p = (const unsigned char *)s.p;
        size_t i = 0;

        while (i < s.n) {
                unsigned char c = p[i];
                size_t len;

                if (c == '\0') {
                        *ret_what = "NUL byte";
                        return i;
                }
                if (c == '\r') {
                        *ret_what = "carriage return that does not end the line";
                        return i;
                }
                if ((c < 0x20 && c != '\t') || c == 0x7f) {
                        *ret_what = "control character";
                        return i;
                }
                len = utf8_char_length(s.p + i, s.n - i);
                if (len == 0) {
                        *ret_what = "invalid UTF-8";
                        return i;
                }
                i += len;
        }
        return SIZE_MAX;
}

static bool valid_id(struct span s)
{
        if (s.n == 0)
                return false;
        for (size_t i = 0; i < s.n; i++) {
                char c = s.p[i];
                bool ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || (c == '-' && i > 0);
                if (!ok)
                        return false;
        }
        return true;
}

static int hex4(const char *p, uint16_t *ret)
{
        unsigned v = 0;

        for (size_t i = 0; i < 4; i++) {
                char c = p[i];
                unsigned d;
                if (c >= '0' && c <= '9')
                        d = (unsigned)(c - '0');
                else if (c >= 'a' && c <= 'f')
                        d = (unsigned)(c - 'a' + 10);
                else if (c >= 'A' && c <= 'F')
                        d = (unsigned)(c - 'A' + 10);
                else
                        return -EINVAL;
                v = v << 4 | d;
        }
        *ret = (uint16_t)v;
        return 0;
}

/* "VVVV:DDDD" or "VVVV:DDDD-DDDD"; -ERANGE for a reversed range. */
static int parse_id_range(struct span w, struct quirk_id_range *ret)
{
        struct quirk_id_range r;

        if (w.n != 9 && w.n != 14)
                return -EINVAL;
        if (hex4(w.p, &r.vendor) < 0 || w.p[4] != ':' || hex4(w.p + 5, &r.first) < 0)
                return -EINVAL;
        r.last = r.first;
        if (w.n == 14 && (w.p[9] != '-' || hex4(w.p + 10, &r.last) < 0))
                return -EINVAL;
        if (r.first > r.last)
                return -ERANGE;
        *ret = r;
        return 0;
}

static int range_compare(const void *a, const void *b)
{
        const struct quirk_id_range *x = a, *y = b;

        if (x->vendor != y->vendor)
                return x->vendor < y->vendor ? -1 : 1;
        if (x->first != y->first)
                return x->first < y->first ? -1 : 1;
        return (x->last > y->last) - (x->last < y->last);
}

static void format_range(const struct quirk_id_range *r, char buf[static sizeof("ffff:ffff-ffff")])
{
        if (r->first == r->last)
                snprintf(buf, sizeof("ffff:ffff-ffff"), "%04x:%04x", r->vendor, r->first);
        else
                snprintf(buf, sizeof("ffff:ffff-ffff"), "%04x:%04x-%04x", r->vendor, r->first, r->last);
}

static int parse_match(struct parser *ps, struct span value)
{
        struct quirk *q = &ps->cur;
        _cleanup_free_ struct quirk_id_range *sorted = NULL;
        struct span w;
        char qbuf[QUOTE_MAX * 4 + 4];
        int r;

        while (span_next_word(&value, &w)) {
                struct quirk_id_range range;

                r = parse_id_range(w, &range);
                if (r == -ERANGE) {
                        quote(w, qbuf);
                        return parse_error(ps, ps->line,
                                           "range '%s' runs backwards; expected VVVV:FIRST-LAST with FIRST <= LAST",
                                           qbuf);
                }
                if (r < 0) {
                        quote(w, qbuf);
                        return parse_error(ps, ps->line,
                                           "bad PCI ID '%s'; expected VVVV:DDDD or VVVV:DDDD-DDDD (4 hex digits each)",
                                           qbuf);
                }
                if (grow((void **)&q->ranges, &ps->n_ranges_alloc, q->n_ranges + 1, sizeof(*q->ranges)) < 0)
                        return -ENOMEM;
                q->ranges[q->n_ranges++] = range;
        }

        /* Overlaps inside one entry are copy-and-paste mistakes; sort a copy so that this
         * stays O(n log n) on hostile input, and keep the file's order in the entry. */
        sorted = malloc(q->n_ranges * sizeof(*sorted));
        if (!sorted)
                return -ENOMEM;
        memcpy(sorted, q->ranges, q->n_ranges * sizeof(*sorted));
        qsort(sorted, q->n_ranges, sizeof(*sorted), range_compare);
        for (size_t i = 1; i < q->n_ranges; i++)
                if (sorted[i].vendor == sorted[i - 1].vendor && sorted[i].first <= sorted[i - 1].last) {
                        char a[sizeof("ffff:ffff-ffff")], b[sizeof("ffff:ffff-ffff")];
                        format_range(&sorted[i - 1], a);
                        format_range(&sorted[i], b);
                        return parse_error(ps, ps->line, "IDs '%s' and '%s' overlap; list each device once", a, b);
                }
        return 0;
}

static int parse_flags(struct parser *ps, struct span value)
{
        unsigned flags = 0;
        struct span w;
        char qbuf[QUOTE_MAX * 4 + 4];

        while (span_next_word(&value, &w)) {
                size_t i;

                for (i = 0; i < ELEMENTSOF(flag_table); i++)
                        if (span_eq(w, flag_table[i].name))
                                break;
                quote(w, qbuf);
                if (i == ELEMENTSOF(flag_table))
                        return parse_error(ps, ps->line,
                                           "unknown flag '%s'; expected reset-broken, reset-once-per-boot, "
                                           "vendor-reset, keep-efifb, companions-travel or switch-companions, separated "
                                           "by spaces",
                                           qbuf);
                if (flags & flag_table[i].flag)
                        return parse_error(ps, ps->line, "flag '%s' is listed twice", qbuf);
                flags |= flag_table[i].flag;
        }
        ps->cur.flags = flags;
        return 0;
}

static int parse_severity(struct parser *ps, struct span value)
{
        char qbuf[QUOTE_MAX * 4 + 4];

        for (size_t i = 0; i < ELEMENTSOF(severity_names); i++)
                if (span_eq(value, severity_names[i])) {
                        ps->cur.severity = (enum quirk_severity)i;
                        return 0;
                }
        quote(value, qbuf);
        return parse_error(ps, ps->line, "unknown severity '%s'; expected info, warning or error", qbuf);
}

static int set_string(char **dst, struct span value)
{
        char *s = strndup(value.p, value.n);
        if (!s)
                return -ENOMEM;
        *dst = s;
        return 0;
}

static int parse_key_value(struct parser *ps, struct span line, const char *eq)
{
        struct span key = span_trim((struct span){ line.p, (size_t)(eq - line.p) });
        struct span value = span_trim((struct span){ eq + 1, line.n - (size_t)(eq - line.p) - 1 });
        char qbuf[QUOTE_MAX * 4 + 4];
        size_t k;

        if (!ps->in_entry)
                return parse_error(ps, ps->line, "key outside an entry; expected a section header '[id]' first");
        if (key.n == 0)
                return parse_error(ps, ps->line, "missing key before '='; expected 'key = value'");
        for (k = 0; k < _KEY_MAX; k++)
                if (span_eq(key, key_names[k]))
                        break;
        quote(key, qbuf);
        if (k == _KEY_MAX)
                return parse_error(ps, ps->line,
                                   "unknown key '%s'; expected name, match, severity, flags, summary, fix or source",
                                   qbuf);
        if (ps->key_line[k] != 0)
                return parse_error(ps, ps->line, "duplicate key '%s' in entry '%s' (first set on line %zu)",
                                   key_names[k], ps->cur.id, ps->key_line[k]);
        if (value.n == 0)
                return parse_error(ps, ps->line, "key '%s' has an empty value", key_names[k]);
        ps->key_line[k] = ps->line;

        switch ((enum quirk_key)k) {
        case KEY_NAME:
                return set_string(&ps->cur.name, value);
        case KEY_SUMMARY:
                return set_string(&ps->cur.summary, value);
        case KEY_FIX:
                return set_string(&ps->cur.fix, value);
        case KEY_SOURCE:
                return set_string(&ps->cur.source, value);
        case KEY_SEVERITY:
                return parse_severity(ps, value);
        case KEY_FLAGS:
                return parse_flags(ps, value);
        case KEY_MATCH:
                return parse_match(ps, value);
        case _KEY_MAX:
                break;
        }
        return -EINVAL; /* not reached */
}

/* Validates the entry being built and moves it into the database. */
static int finish_entry(struct parser *ps)
{
        int r;

        if (!ps->in_entry)
                return 0;
        for (size_t k = 0; k < _KEY_MAX; k++)
                if (key_mandatory[k] && ps->key_line[k] == 0)
                        return parse_error(ps, ps->cur_line, "entry '%s' lacks the mandatory key '%s'", ps->cur.id,
                                           key_names[k]);

        r = grow((void **)&ps->quirks, &ps->n_alloc, ps->n_quirks + 1, sizeof(*ps->quirks));
        if (r < 0)
                return r;
        /* quirk_lines grows in step with quirks and shares its n_alloc, so compute it here. */
        {
                size_t *l = realloc(ps->quirk_lines, ps->n_alloc * sizeof(*l));
                if (!l)
                        return -ENOMEM;
                ps->quirk_lines = l;
        }
        /* Shrink to fit: a database lives for the whole run. */
        if (ps->cur.n_ranges < ps->n_ranges_alloc) {
                struct quirk_id_range *rr = realloc(ps->cur.ranges, ps->cur.n_ranges * sizeof(*rr));
                if (rr)
                        ps->cur.ranges = rr;
        }
        ps->quirks[ps->n_quirks] = ps->cur;
        ps->quirk_lines[ps->n_quirks] = ps->cur_line;
        ps->n_quirks++;
        ps->cur = (struct quirk){};
        ps->in_entry = false;
        return 0;
}

static int parse_section(struct parser *ps, struct span line)
{
        struct span id;
        char qbuf[QUOTE_MAX * 4 + 4];
        int r;

        if (line.n < 2 || line.p[line.n - 1] != ']') {
                quote(line, qbuf);
                return parse_error(ps, ps->line, "bad section header '%s'; expected '[id]'", qbuf);
        }
        id = (struct span){ line.p + 1, line.n - 2 };
        if (!valid_id(id)) {
                quote(id, qbuf);
                return parse_error(ps, ps->line,
                                   "bad entry id '%s'; expected lower-case letters, digits and '-', not starting with '-'",
                                   qbuf);
        }

        r = finish_entry(ps);
        if (r < 0)
                return r;

        /* Linear: a database has tens of entries, and a hostile one is bounded by its size. */
        for (size_t i = 0; i < ps->n_quirks; i++)
                if (span_eq(id, ps->quirks[i].id)) {
                        quote(id, qbuf);
                        return parse_error(ps, ps->line, "duplicate entry id '%s' (first defined on line %zu)", qbuf,
                                           ps->quirk_lines[i]);
                }

        r = set_string(&ps->cur.id, id);
        if (r < 0)
                return r;
        ps->in_entry = true;
        ps->cur_line = ps->line;
        ps->n_ranges_alloc = 0;
        memset(ps->key_line, 0, sizeof(ps->key_line));
        return 0;
}

static int parse_line(struct parser *ps, struct span line)
{
        const char *what, *eq;
        size_t bad;

        /* The file's very first bytes: a UTF-8 byte order mark would otherwise give a puzzling
         * "unknown key" error. */
        if (ps->line == 1 && line.n >= 3 && memcmp(line.p, "\xef\xbb\xbf", 3) == 0)
                return parse_error(ps, ps->line, "byte order mark; expected plain UTF-8 without a BOM");

        bad = check_text(line, &what);
        if (bad != SIZE_MAX)
                return parse_error(ps, ps->line, "%s (byte 0x%02x at column %zu); expected printable UTF-8 text",
                                   what, (unsigned char)line.p[bad], bad + 1);

        line = span_trim(line);
        if (line.n == 0 || line.p[0] == '#')
                return 0;
        if (line.p[0] == '[')
                return parse_section(ps, line);
        eq = memchr(line.p, '=', line.n);
        if (!eq) {
                char qbuf[QUOTE_MAX * 4 + 4];
                quote(line, qbuf);
                return parse_error(ps, ps->line,
                                   "cannot parse '%s'; expected '[id]', 'key = value', a '#' comment or a blank line",
                                   qbuf);
        }
        return parse_key_value(ps, line, eq);
}

static void parser_done(struct parser *ps)
{
        for (size_t i = 0; i < ps->n_quirks; i++)
                quirk_done(&ps->quirks[i]);
        free(ps->quirks);
        free(ps->quirk_lines);
        quirk_done(&ps->cur);
        free(ps->error);
}

int quirk_db_parse(const char *text, size_t len, const char *filename, struct quirk_db **ret,
                   char **ret_error)
{
        struct parser ps = {
                .filename = filename ? filename : "(quirks)",
        };
        const char *p = text, *end = text ? text + len : text;
        struct quirk_db *db;
        int r = 0;

        if (!ret || (!text && len > 0))
                return -EINVAL;

        for (ps.line = 1; p < end; ps.line++) {
                const char *nl = memchr(p, '\n', (size_t)(end - p));
                struct span line = { p, (size_t)((nl ? nl : end) - p) };

                p = nl ? nl + 1 : end;
                /* CRLF files are accepted: Windows editors write them and the meaning is clear. */
                if (line.n > 0 && line.p[line.n - 1] == '\r')
                        line.n--;
                r = parse_line(&ps, line);
                if (r < 0)
                        break;
        }
        if (r >= 0) {
                /* An entry left unfinished is reported on its header line. */
                r = finish_entry(&ps);
        }
        if (r < 0) {
                if (ret_error) {
                        *ret_error = ps.error;
                        ps.error = NULL;
                }
                parser_done(&ps);
                return r;
        }

        db = calloc(1, sizeof(*db));
        if (!db) {
                parser_done(&ps);
                return -ENOMEM;
        }
        /* Shrink to fit, as for the ranges. */
        if (ps.n_quirks > 0 && ps.n_quirks < ps.n_alloc) {
                struct quirk *q = realloc(ps.quirks, ps.n_quirks * sizeof(*q));
                if (q)
                        ps.quirks = q;
        }
        db->quirks = ps.quirks;
        db->n_quirks = ps.n_quirks;
        ps.quirks = NULL;
        ps.n_quirks = 0;
        parser_done(&ps);
        *ret = db;
        return 0;
}

/* A directory opens fine but reads EISDIR only later; a huge file is refused before reading. */
static int read_all(int fd, char **ret, size_t *ret_len)
{
        struct stat st;

        if (fstat(fd, &st) < 0)
                return negative_errno();
        if (S_ISDIR(st.st_mode))
                return -EISDIR;
        if (S_ISREG(st.st_mode) && st.st_size > (off_t)QUIRK_DB_MAX_SIZE)
                return -EFBIG;
        return read_fd_full(fd, QUIRK_DB_MAX_SIZE, ret, ret_len);
}

int quirk_db_load(const char *path, struct quirk_db **ret, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *buf = NULL;
        size_t len = 0;
        int r;

        if (!path || !ret)
                return -EINVAL;

        fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
        r = fd < 0 ? negative_errno() : read_all(fd, &buf, &len);
        if (r < 0)
                return error_setf(ret_error, r, "%s: %s", path,
                                  r == -EFBIG ? "file is larger than 16 MiB, not a quirks database" : strerror(-r));
        return quirk_db_parse(buf, len, path, ret, ret_error);
}
