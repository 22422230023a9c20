/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The configuration file: format and rules in config.h and gpu-handoff.conf(5).
 *
 * A file is parsed into staged values, one per key, and applied to the configuration only when
 * all of it is valid: a failed parse leaves the configuration as it was, and a vm.d file
 * overrides the main file key by key simply by being applied after it. */

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/bitmap.h"
#include "basic/error.h"
#include "basic/macro.h"
#include "basic/parse.h"
#include "basic/utf8.h"
#include "basic/strv.h"
#include "basic/sysroot.h"
#include "basic/time-util.h"
#include "config/config.h"

/* A configuration file is a few hundred bytes; a bigger one is a mistake, not a config. */
#define CONFIG_FILE_MAX (1024 * 1024)
/* The kernel's largest NR_CPUS. */
/* MAX_NUMNODES is at most 1 << 10. */
#define NODE_MAX 1023
/* TASK_COMM_LEN - 1: /proc/PID/comm never holds more. */
#define COMM_MAX 15
/* systemd's UNIT_NAME_MAX - 1. */
#define UNIT_NAME_MAX 255
/* NAME.conf must still be a file name (NAME_MAX 255). */
#define VM_NAME_MAX (255 - (int)strlen(".conf"))
/* Warnings per file; a file of a thousand unknown keys is one mistake, not a thousand. */
#define WARNINGS_MAX 20
/* Longest excerpt of a file quoted in a message: a 200 KB value makes a useless error line. */
#define QUOTE_MAX 64


enum key_id {
        KEY_GPU,
        KEY_WITH_GROUP,
        KEY_SINGLE_GPU,
        KEY_HOLDERS_POLICY,
        KEY_SETTLE,
        KEY_WRITE,
        KEY_UNIT_JOB,
        KEY_SESSIONS,
        KEY_LOCK,
        KEY_HUGEPAGES_DEADLINE,
        KEY_HOUSEKEEPING,
        KEY_CPU_UNITS,
        KEY_WRITEBACK,
        KEY_IRQ_AFFINITY,
        KEY_DROP_CACHES,
        KEY_COMPACT,
        KEY_HUGEPAGES,
        KEY_HUGEPAGE_SIZE,
        KEY_HUGEPAGE_NODE,
        KEY_FREEZE_UNITS,
        KEY_FREEZE_PROCESSES,
        _KEY_MAX,
};

/* Documentation order: gpu-handoff.conf(5) and "gpu-handoff config" list the keys this way. */
static const struct config_key_info keys[_KEY_MAX] = {
        [KEY_GPU] = {"Devices", "GPU", "pci-addresses"},
        [KEY_WITH_GROUP] = {"Devices", "WithGroup", "bool"},
        [KEY_SINGLE_GPU] = {"Devices", "SingleGPU", "bool"},
        [KEY_HOLDERS_POLICY] = {"Holders", "Policy", "enum"},
        [KEY_SETTLE] = {"Deadlines", "Settle", "duration"},
        [KEY_WRITE] = {"Deadlines", "Write", "duration"},
        [KEY_UNIT_JOB] = {"Deadlines", "UnitJob", "duration"},
        [KEY_SESSIONS] = {"Deadlines", "Sessions", "duration"},
        [KEY_LOCK] = {"Deadlines", "Lock", "duration"},
        [KEY_HUGEPAGES_DEADLINE] = {"Deadlines", "Hugepages", "duration"},
        [KEY_HOUSEKEEPING] = {"CPU", "Housekeeping", "cpulist"},
        [KEY_CPU_UNITS] = {"CPU", "Units", "names"},
        [KEY_WRITEBACK] = {"CPU", "Writeback", "bool"},
        [KEY_IRQ_AFFINITY] = {"CPU", "IRQAffinity", "bool"},
        [KEY_DROP_CACHES] = {"Memory", "DropCaches", "bool"},
        [KEY_COMPACT] = {"Memory", "Compact", "enum"},
        [KEY_HUGEPAGES] = {"Memory", "Hugepages", "size"},
        [KEY_HUGEPAGE_SIZE] = {"Memory", "HugepageSize", "size"},
        [KEY_HUGEPAGE_NODE] = {"Memory", "HugepageNode", "numa-node"},
        [KEY_FREEZE_UNITS] = {"Freeze", "Units", "names"},
        [KEY_FREEZE_PROCESSES] = {"Freeze", "Processes", "names"},
};

static const char *const sections[] = {"Devices", "Holders", "Deadlines", "CPU", "Memory", "Freeze"};

#define DEFAULT_CPU_UNITS "system.slice user.slice init.scope"

/* systemd's unit types (unit_type_table). */
static const char *const unit_suffixes[] = {".service", ".socket",    ".target", ".device",
                                            ".mount",   ".automount", ".swap",   ".timer",
                                            ".path",    ".slice",     ".scope"};

size_t config_n_keys(void)
{
        return _KEY_MAX;
}

const struct config_key_info *config_key(size_t i)
{
        return i < _KEY_MAX ? &keys[i] : NULL;
}

/* Lists */

/* The words of s, split at blanks; never NULL on success (an empty list for an empty s). */
static int split_words(const char *s, char ***ret)
{
        struct strv w = {};

        for (const char *p = s;;) {
                size_t n;

                p += strspn(p, " \t");
                if (!*p)
                        break;
                n = strcspn(p, " \t");
                if (strv_addf(&w, "%.*s", (int)n, p) < 0) {
                        strv_done(&w);
                        return -ENOMEM;
                }
                p += n;
        }
        *ret = strv_take(&w);
        if (!*ret) {
                strv_done(&w);
                return -ENOMEM;
        }
        return 0;
}

/* The first word listed twice, or NULL. Sorted copy: a 200 KB list must not take n² compares. */
static int find_duplicate(char *const *v, const char **ret)
{
        size_t n = strv_length(v);
        _cleanup_free_ char **sorted = NULL;

        *ret = NULL;
        if (n < 2)
                return 0;
        sorted = malloc(n * sizeof(char *));
        if (!sorted)
                return -ENOMEM;
        memcpy(sorted, v, n * sizeof(char *));
        qsort(sorted, n, sizeof(char *), strv_compare);
        for (size_t i = 1; i < n; i++)
                if (strcmp(sorted[i - 1], sorted[i]) == 0) {
                        *ret = sorted[i];
                        return 0;
                }
        return 0;
}

/* Messages */

/* Up to QUOTE_MAX bytes of s, cut at a character boundary (the text is valid UTF-8 by then),
 * "..." when cut. */
#define QUOTE_BUF (QUOTE_MAX + sizeof("..."))
static const char *quote(const char *s, char buf[static QUOTE_BUF])
{
        size_t n = strlen(s);

        if (n <= QUOTE_MAX)
                return s;
        n = QUOTE_MAX;
        while (n > 0 && ((unsigned char)s[n] & 0xc0) == 0x80)
                n--;
        snprintf(buf, QUOTE_BUF, "%.*s...", (int)n, s);
        return buf;
}

/* Value types */

struct value {
        bool b;
        int i;      /* enums, the NUMA node */
        uint64_t u; /* durations (usec), sizes (bytes) */
        char *s;    /* the cpulist; NULL: empty */
        char **v;   /* lists, NULL-terminated */
};

static void value_done(struct value *v)
{
        free(v->s);
        strv_free_null(v->v);
        *v = (struct value){0};
}

static int parse_bool_word(const char *s, bool *ret)
{
        static const char *const yes[] = {"yes", "true", "on", "1"}, *const no[] = {"no", "false", "off",
                                                                                    "0"};

        for (size_t i = 0; i < ELEMENTSOF(yes); i++) {
                if (strcmp(s, yes[i]) == 0) {
                        *ret = true;
                        return 0;
                }
                if (strcmp(s, no[i]) == 0) {
                        *ret = false;
                        return 0;
                }
        }
        return -EINVAL;
}

static int parse_bool(const char *s, struct value *ret, char **why)
{
        if (parse_bool_word(s, &ret->b) < 0)
                return error_setf(why, -EINVAL,
                                  "not a boolean; expected yes or no (also true/false, on/off, 1/0)");
        return 0;
}

/* A decimal number and what follows it, blanks skipped: "10 s" -> 10, "s". Saturates at
 * UINT64_MAX, which every caller's limit refuses. */
static int parse_number(const char *s, uint64_t *ret, const char **ret_unit)
{
        unsigned long long n;
        char *end;

        if (!isdigit((unsigned char)*s))
                return -EINVAL;
        errno = 0;
        n = strtoull(s, &end, 10);
        if (errno == ERANGE)
                n = UINT64_MAX;
        end += strspn(end, " \t");
        *ret = n;
        *ret_unit = end;
        return 0;
}

static const struct {
        const char *name;
        uint64_t usec;
} duration_units[] = {
        {"h", 3600 * USEC_PER_SEC}, {"min", 60 * USEC_PER_SEC}, {"s", USEC_PER_SEC}, {"ms", 1000}, {"us", 1},
};

static int parse_duration(const char *s, struct value *ret, char **why)
{
        char buf[QUOTE_BUF];
        const char *unit;
        uint64_t n, mult = 0;
        int r;

        r = parse_number(s, &n, &unit);
        if (r < 0)
                return error_setf(
                    why, -EINVAL,
                    "not a duration; expected a whole number with a unit, e.g. 10s, 500ms, 2min");
        if (*unit == '.' || *unit == ',')
                return error_setf(why, -EINVAL, "not a whole number; expected e.g. 1500ms for 1.5s");
        if (!*unit)
                mult = USEC_PER_SEC; /* a plain number means seconds */
        for (size_t i = 0; i < ELEMENTSOF(duration_units) && mult == 0; i++)
                if (strcmp(unit, duration_units[i].name) == 0)
                        mult = duration_units[i].usec;
        if (mult == 0)
                return error_setf(why, -EINVAL,
                                  "unknown unit \"%s\"; expected us, ms, s, min or h, e.g. 10s",
                                  quote(unit, buf));
        if (n > UINT64_MAX / mult || n * mult >= USEC_PER_DAY)
                return error_setf(why, -EINVAL, "too long; expected less than a day (24h)");
        if (n == 0)
                return error_setf(why, -EINVAL, "a deadline must be longer than 0; expected e.g. 10s");
        ret->u = n * mult;
        return 0;
}

/* The largest unit that divides exactly: 100s, 2min, 1500ms. */
static char *format_duration(uint64_t usec)
{
        char *s;

        for (size_t i = 0; i < ELEMENTSOF(duration_units); i++)
                if (usec % duration_units[i].usec == 0)
                        return asprintf(&s, "%" PRIu64 "%s", usec / duration_units[i].usec,
                                        duration_units[i].name) < 0
                                   ? NULL
                                   : s;
        return NULL; /* not reached: every value is a multiple of 1us */
}

static const struct {
        const char *name, *long_name;
        unsigned shift;
} size_units[] = {
        {"T", "TiB", 40},
        {"G", "GiB", 30},
        {"M", "MiB", 20},
        {"K", "KiB", 10},
};

static int parse_size(const char *s, uint64_t *ret, char **why)
{
        char buf[QUOTE_BUF];
        const char *unit;
        uint64_t n;
        unsigned shift = 0;
        int r;

        r = parse_number(s, &n, &unit);
        if (r < 0)
                return error_setf(why, -EINVAL,
                                  "not a size; expected a whole number with a unit, e.g. 16G, 512M");
        if (*unit == '.' || *unit == ',')
                return error_setf(why, -EINVAL, "not a whole number; expected e.g. 1536M for 1.5G");
        if (!*unit) {
                if (n == 0) {
                        *ret = 0;
                        return 0;
                }
                return error_setf(why, -EINVAL, "a size needs a unit; expected e.g. 16G, 512M");
        }
        for (size_t i = 0; i < ELEMENTSOF(size_units) && shift == 0; i++)
                if (strcmp(unit, size_units[i].name) == 0 || strcmp(unit, size_units[i].long_name) == 0)
                        shift = size_units[i].shift;
        if (shift == 0)
                return error_setf(why, -EINVAL,
                                  "unknown unit \"%s\"; expected K, M, G or T (powers of 1024), e.g. 16G",
                                  quote(unit, buf));
        if (n > UINT64_MAX >> shift)
                return error_setf(why, -EINVAL, "too large");
        *ret = n << shift;
        return 0;
}

/* The largest unit that divides exactly: 16G, 1536M; "0" for nothing. */
static char *format_size(uint64_t bytes)
{
        char *s;

        for (size_t i = 0; bytes > 0 && i < ELEMENTSOF(size_units); i++)
                if (bytes % (UINT64_C(1) << size_units[i].shift) == 0)
                        return asprintf(&s, "%" PRIu64 "%s", bytes >> size_units[i].shift,
                                        size_units[i].name) < 0
                                   ? NULL
                                   : s;
        /* 0, or not a whole number of KiB (only a caller setting the field can make that) */
        return asprintf(&s, "%" PRIu64, bytes) < 0 ? NULL : s;
}

static int parse_pci_list(const char *s, struct value *ret, char **why)
{
        char buf[QUOTE_BUF];
        const char *dup;
        char **v = NULL;
        int r;

        r = split_words(s, &v);
        if (r < 0)
                return r;
        for (char **p = v; *p; p++) {
                struct pci_addr a;
                char canonical[PCI_ADDR_STRLEN];

                if (pci_addr_parse_user(*p, &a) < 0) {
                        r = error_setf(why, -EINVAL,
                                       "\"%s\" is not a PCI address; expected e.g. 0000:01:00.0 or 01:00.0",
                                       quote(*p, buf));
                        strv_free_null(v);
                        return r;
                }
                pci_addr_format(&a, canonical);
                free(*p);
                *p = strdup(canonical); /* "01:00.0" grows to "0000:01:00.0" */
                if (!*p) {
                        /* keep the list NULL-terminated for the free below */
                        for (char **q = p + 1; *q; q++)
                                free(*q);
                        strv_free_null(v);
                        return -ENOMEM;
                }
        }
        r = find_duplicate(v, &dup);
        if (r == 0 && dup)
                r = error_setf(why, -EINVAL, "%s is listed twice", dup);
        if (r < 0) {
                strv_free_null(v);
                return r;
        }
        ret->v = v;
        return 0;
}

/* Loose on purpose: systemd is the judge of a unit name; this catches typos and paths. */
static int check_unit_name(const char *s, char **why)
{
        char buf[QUOTE_BUF];
        size_t n = strlen(s);

        if (n > UNIT_NAME_MAX)
                return error_setf(why, -EINVAL, "unit name \"%s\" is longer than %d bytes", quote(s, buf),
                                  UNIT_NAME_MAX);
        for (const char *p = s; *p; p++)
                if (*p == '/' || (unsigned char)*p < 0x21 || (unsigned char)*p > 0x7e)
                        return error_setf(
                            why, -EINVAL,
                            "\"%s\" is not a unit name: '/' and non-ASCII characters are not allowed",
                            quote(s, buf));
        for (size_t i = 0; i < ELEMENTSOF(unit_suffixes); i++) {
                size_t k = strlen(unit_suffixes[i]);
                if (n > k && strcmp(s + n - k, unit_suffixes[i]) == 0)
                        return 0;
        }
        return error_setf(
            why, -EINVAL,
            "\"%s\" is not a unit name; expected a name with its type, e.g. system.slice or foo.service",
            quote(s, buf));
}

static int check_process_name(const char *s, char **why)
{
        char buf[QUOTE_BUF];

        if (strlen(s) > COMM_MAX)
                return error_setf(
                    why, -EINVAL,
                    "process name \"%s\" is longer than %d bytes; expected the name as /proc/PID/comm "
                    "shows it (the kernel keeps the first %d bytes)",
                    quote(s, buf), COMM_MAX, COMM_MAX);
        return 0;
}

static int parse_names(const char *s, int (*check)(const char *name, char **why), struct value *ret,
                       char **why)
{
        const char *dup;
        char **v = NULL;
        int r;

        r = split_words(s, &v);
        if (r < 0)
                return r;
        for (char **p = v; *p && r >= 0; p++)
                r = check(*p, why);
        if (r >= 0) {
                r = find_duplicate(v, &dup);
                if (r == 0 && dup) {
                        char buf[QUOTE_BUF];
                        r = error_setf(why, -EINVAL, "%s is listed twice", quote(dup, buf));
                }
        }
        if (r < 0) {
                strv_free_null(v);
                return r;
        }
        ret->v = v;
        return 0;
}

static int parse_housekeeping(const char *s, const uint64_t *online, struct value *ret, char **why)
{
        uint64_t set[BITMAP_WORDS(CPULIST_BITS)], off[BITMAP_WORDS(CPULIST_BITS)];
        const uint64_t *on = online;
        bool rest = false;
        int r;

        r = cpulist_parse(s, set, CPULIST_BITS);
        if (r == -ERANGE)
                return error_setf(why, -EINVAL, "CPU numbers above %d do not exist; expected e.g. 0-3,8-11",
                                  CPULIST_BITS - 1);
        if (r < 0)
                return error_setf(why, -EINVAL, "not a CPU list; expected e.g. 0-3,8-11");
        if (bitmap_count(set, CPULIST_BITS) == 0)
                return 0; /* empty: no isolation */

        /* No online CPUs known (unreadable, or garbage: the kernel's problem, not the file's): nothing
         * is checked. */
        if (on && bitmap_count(on, CPULIST_BITS) > 0) {
                _cleanup_free_ char *missing = NULL, *canonical = cpulist_format(on, CPULIST_BITS);
                unsigned n_off;

                for (size_t i = 0; i < ELEMENTSOF(set); i++) {
                        off[i] = set[i] & ~on[i];
                        rest |= (on[i] & ~set[i]) != 0;
                }
                n_off = (unsigned)bitmap_count(off, CPULIST_BITS);
                if (!canonical)
                        return -ENOMEM;
                if (n_off > 0) {
                        missing = cpulist_format(off, CPULIST_BITS);
                        if (!missing)
                                return -ENOMEM;
                        return error_setf(why, -EINVAL, "%s %s %s not online (online: %s)",
                                          n_off == 1 ? "CPU" : "CPUs", missing, n_off == 1 ? "is" : "are",
                                          canonical);
                }
                if (!rest)
                        return error_setf(
                            why, -EINVAL,
                            "that is every online CPU (online: %s); leave at least one for the guest, "
                            "e.g. Housekeeping=0-1",
                            canonical);
        }
        ret->s = cpulist_format(set, CPULIST_BITS);
        return ret->s ? 0 : -ENOMEM;
}

static int parse_key_value(enum key_id k, const char *s, const uint64_t *online, struct value *ret, char **why)
{
        uint64_t u;
        int r;

        switch (k) {
        case KEY_GPU:
                return parse_pci_list(s, ret, why);
        case KEY_WITH_GROUP:
        case KEY_SINGLE_GPU:
        case KEY_WRITEBACK:
        case KEY_IRQ_AFFINITY:
        case KEY_DROP_CACHES:
                return parse_bool(s, ret, why);
        case KEY_HOLDERS_POLICY:
                if (strcmp(s, "refuse") == 0)
                        ret->i = HOLDER_POLICY_REFUSE;
                else if (strcmp(s, "terminate") == 0)
                        ret->i = HOLDER_POLICY_TERMINATE;
                else
                        return error_setf(why, -EINVAL, "expected refuse or terminate");
                return 0;
        case KEY_SETTLE:
        case KEY_WRITE:
        case KEY_UNIT_JOB:
        case KEY_SESSIONS:
        case KEY_LOCK:
        case KEY_HUGEPAGES_DEADLINE:
                return parse_duration(s, ret, why);
        case KEY_HOUSEKEEPING:
                return parse_housekeeping(s, online, ret, why);
        case KEY_CPU_UNITS:
        case KEY_FREEZE_UNITS:
                return parse_names(s, check_unit_name, ret, why);
        case KEY_FREEZE_PROCESSES:
                return parse_names(s, check_process_name, ret, why);
        case KEY_COMPACT: {
                bool b;
                if (strcmp(s, "auto") == 0)
                        ret->i = COMPACT_AUTO;
                else if (parse_bool_word(s, &b) == 0)
                        ret->i = b ? COMPACT_YES : COMPACT_NO;
                else
                        return error_setf(why, -EINVAL, "expected auto, yes or no");
                return 0;
        }
        case KEY_HUGEPAGES:
                return parse_size(s, &ret->u, why);
        case KEY_HUGEPAGE_SIZE:
                r = parse_size(s, &u, why);
                if (r < 0)
                        return r;
                if (u != UINT64_C(2) << 20 && u != UINT64_C(1) << 30)
                        return error_setf(why, -EINVAL, "expected 2M or 1G, the x86-64 hugepage sizes");
                ret->u = u;
                return 0;
        case KEY_HUGEPAGE_NODE: {
                const char *unit;
                if (strcmp(s, "all") == 0) {
                        ret->i = -1;
                        return 0;
                }
                r = parse_number(s, &u, &unit);
                if (r < 0 || *unit)
                        return error_setf(why, -EINVAL, "expected all or a NUMA node number (0, 1, ...)");
                if (u > NODE_MAX)
                        return error_setf(why, -EINVAL, "NUMA node numbers go up to %d", NODE_MAX);
                ret->i = (int)u;
                return 0;
        }
        default:
                return -EINVAL;
        }
}

/* Hands the value to the configuration; what it replaces is freed. */
static void config_take(struct config *c, enum key_id k, struct value *v)
{
        switch (k) {
        case KEY_GPU:
                strv_free_null(c->gpus);
                c->gpus = TAKE_PTR(v->v);
                break;
        case KEY_WITH_GROUP:
                c->with_group = v->b;
                break;
        case KEY_SINGLE_GPU:
                c->single_gpu = v->b;
                break;
        case KEY_HOLDERS_POLICY:
                c->holders = (enum holder_policy)v->i;
                break;
        case KEY_SETTLE:
                c->settle_usec = v->u;
                break;
        case KEY_WRITE:
                c->write_usec = v->u;
                break;
        case KEY_UNIT_JOB:
                c->unit_job_usec = v->u;
                break;
        case KEY_SESSIONS:
                c->sessions_usec = v->u;
                break;
        case KEY_LOCK:
                c->lock_usec = v->u;
                break;
        case KEY_HUGEPAGES_DEADLINE:
                c->hugepages_usec = v->u;
                break;
        case KEY_HOUSEKEEPING:
                free(c->housekeeping);
                c->housekeeping = TAKE_PTR(v->s);
                break;
        case KEY_CPU_UNITS:
                strv_free_null(c->cpu_units);
                c->cpu_units = TAKE_PTR(v->v);
                break;
        case KEY_WRITEBACK:
                c->writeback = v->b;
                break;
        case KEY_IRQ_AFFINITY:
                c->irq_affinity = v->b;
                break;
        case KEY_DROP_CACHES:
                c->drop_caches = v->b;
                break;
        case KEY_COMPACT:
                c->compact = (enum compact_mode)v->i;
                break;
        case KEY_HUGEPAGES:
                c->hugepages = v->u;
                break;
        case KEY_HUGEPAGE_SIZE:
                c->hugepage_size = v->u;
                break;
        case KEY_HUGEPAGE_NODE:
                c->hugepage_node = v->i;
                break;
        case KEY_FREEZE_UNITS:
                strv_free_null(c->freeze_units);
                c->freeze_units = TAKE_PTR(v->v);
                break;
        case KEY_FREEZE_PROCESSES:
                strv_free_null(c->freeze_processes);
                c->freeze_processes = TAKE_PTR(v->v);
                break;
        default:
                break;
        }
        value_done(v);
}

char *config_value_string(const struct config *c, size_t i)
{
        static const char *const compact[] = {
                [COMPACT_AUTO] = "auto",
                [COMPACT_YES] = "yes",
                [COMPACT_NO] = "no",
        };
        char *s;

        if (!c || i >= _KEY_MAX)
                return NULL;
        switch ((enum key_id)i) {
        case KEY_GPU:
                return strv_join(c->gpus, " ");
        case KEY_WITH_GROUP:
                return strdup(c->with_group ? "yes" : "no");
        case KEY_SINGLE_GPU:
                return strdup(c->single_gpu ? "yes" : "no");
        case KEY_HOLDERS_POLICY:
                return strdup(c->holders == HOLDER_POLICY_TERMINATE ? "terminate" : "refuse");
        case KEY_SETTLE:
                return format_duration(c->settle_usec);
        case KEY_WRITE:
                return format_duration(c->write_usec);
        case KEY_UNIT_JOB:
                return format_duration(c->unit_job_usec);
        case KEY_SESSIONS:
                return format_duration(c->sessions_usec);
        case KEY_LOCK:
                return format_duration(c->lock_usec);
        case KEY_HUGEPAGES_DEADLINE:
                return format_duration(c->hugepages_usec);
        case KEY_HOUSEKEEPING:
                return strdup(c->housekeeping ? c->housekeeping : "");
        case KEY_CPU_UNITS:
                return strv_join(c->cpu_units, " ");
        case KEY_WRITEBACK:
                return strdup(c->writeback ? "yes" : "no");
        case KEY_IRQ_AFFINITY:
                return strdup(c->irq_affinity ? "yes" : "no");
        case KEY_DROP_CACHES:
                return strdup(c->drop_caches ? "yes" : "no");
        case KEY_COMPACT:
                return strdup((unsigned)c->compact < ELEMENTSOF(compact) ? compact[c->compact] : "auto");
        case KEY_HUGEPAGES:
                return format_size(c->hugepages);
        case KEY_HUGEPAGE_SIZE:
                return format_size(c->hugepage_size);
        case KEY_HUGEPAGE_NODE:
                if (c->hugepage_node < 0)
                        return strdup("all");
                return asprintf(&s, "%d", c->hugepage_node) < 0 ? NULL : s;
        case KEY_FREEZE_UNITS:
                return strv_join(c->freeze_units, " ");
        case KEY_FREEZE_PROCESSES:
                return strv_join(c->freeze_processes, " ");
        default:
                return NULL;
        }
}

struct config_origin config_value_origin(const struct config *c, size_t i)
{
        if (!c || !c->origins || i >= _KEY_MAX)
                return (struct config_origin){0};
        return c->origins[i];
}

void config_free(struct config *c)
{
        if (!c)
                return;
        strv_free_null(c->gpus);
        free(c->housekeeping);
        strv_free_null(c->cpu_units);
        strv_free_null(c->freeze_units);
        strv_free_null(c->freeze_processes);
        strv_free_null(c->files);
        free(c->origins);
        free(c);
}

int config_new_default(struct config **ret)
{
        _cleanup_(config_freep) struct config *c = calloc(1, sizeof(*c));
        int r;

        if (!c)
                return -ENOMEM;
        *c = (struct config){
                .holders = HOLDER_POLICY_REFUSE,
                .settle_usec = 10 * USEC_PER_SEC,
                .write_usec = 20 * USEC_PER_SEC,
                .unit_job_usec = 100 * USEC_PER_SEC,
                .sessions_usec = 10 * USEC_PER_SEC,
                .lock_usec = 15 * USEC_PER_SEC,
                .hugepages_usec = 10 * USEC_PER_SEC,
                .compact = COMPACT_AUTO,
                .hugepage_size = UINT64_C(2) << 20,
                .hugepage_node = -1,
        };
        c->gpus = strv_new_empty();
        c->freeze_units = strv_new_empty();
        c->freeze_processes = strv_new_empty();
        c->files = strv_new_empty();
        c->origins = calloc(_KEY_MAX, sizeof(*c->origins));
        if (!c->gpus || !c->freeze_units || !c->freeze_processes || !c->files || !c->origins)
                return -ENOMEM;
        r = split_words(DEFAULT_CPU_UNITS, &c->cpu_units);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        return 0;
}

/* Parsing */

/* A line must be UTF-8 text: no control characters but tab. */
static int check_text(const char *line, const char *file, unsigned line_no, char **ret_error)
{
        const unsigned char *p = (const unsigned char *)line;
        size_t n = strlen(line);

        for (size_t i = 0; i < n;) {
                size_t k;

                if ((p[i] < 0x20 && p[i] != '\t') || p[i] == 0x7f)
                        return error_setf_at(
                            ret_error, -EINVAL, file, line_no,
                            "control character 0x%02x; expected text (a tab is the only one allowed)", p[i]);
                k = utf8_char_length(line + i, n - i);
                if (k == 0)
                        return error_setf_at(ret_error, -EINVAL, file, line_no,
                                             "invalid UTF-8 (byte 0x%02x); expected UTF-8 text", p[i]);
                i += k;
        }
        return 0;
}

static bool is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static char *trim(char *s)
{
        size_t n;

        while (is_blank(*s))
                s++;
        n = strlen(s);
        while (n > 0 && is_blank(s[n - 1]))
                s[--n] = '\0';
        return s;
}

static int find_section(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(sections); i++)
                if (strcmp(sections[i], name) == 0)
                        return (int)i;
        return -1;
}

static int find_key(int section, const char *key)
{
        for (int k = 0; k < _KEY_MAX; k++)
                if (strcmp(keys[k].section, sections[section]) == 0 && strcmp(keys[k].key, key) == 0)
                        return k;
        return -1;
}

/* "[Deadlines]" or "[Deadlines] and [Memory]": where a known key belongs; "" for none. */
static char *sections_of_key(const char *key)
{
        char *buf = NULL;
        size_t len = 0, n = 0, total = 0;
        FILE *f;

        for (int k = 0; k < _KEY_MAX; k++)
                total += strcmp(keys[k].key, key) == 0;
        f = open_memstream(&buf, &len);
        if (!f)
                return NULL;
        for (int k = 0; k < _KEY_MAX; k++)
                if (strcmp(keys[k].key, key) == 0)
                        fprintf(f, "%s[%s]", n++ == 0 ? "" : n == total ? " and " : ", ", keys[k].section);
        if (fclose(f) != 0) {
                free(buf);
                return NULL;
        }
        return buf;
}

struct staged {
        unsigned line; /* 0: not in this file */
        struct value value;
};

static void staged_done(struct staged (*st)[_KEY_MAX])
{
        for (size_t k = 0; k < _KEY_MAX; k++)
                value_done(&(*st)[k].value);
}

/* One line, blanks trimmed and not a comment, into the staged values or warnings. */
static int parse_line(char *s, unsigned line, int *section, struct staged *st, const char *file,
                      const uint64_t *online, struct strv *warnings, unsigned *more_warnings,
                      unsigned *first_more, char **ret_error)
{
        char buf[QUOTE_BUF], buf2[QUOTE_BUF];
        _cleanup_free_ char *why = NULL, *where = NULL;
        char *eq, *key, *value;
        int k, r;

        if (*s == '[') {
                size_t n = strlen(s);

                if (n < 2 || s[n - 1] != ']')
                        return error_setf_at(ret_error, -EINVAL, file, line,
                                             "\"%s\": a section header ends with ']'; expected e.g. [CPU]",
                                             quote(s, buf));
                s[n - 1] = '\0';
                k = find_section(s + 1);
                if (k < 0)
                        return error_setf_at(
                            ret_error, -EINVAL, file, line,
                            "unknown section [%s]; expected [Devices], [Holders], [Deadlines], [CPU], "
                            "[Memory] or [Freeze]",
                            quote(s + 1, buf));
                *section = k;
                return 0;
        }

        eq = strchr(s, '=');
        if (!eq)
                return error_setf_at(
                    ret_error, -EINVAL, file, line,
                    "\"%s\" is not a Key=Value line, a [Section] header or a comment; expected e.g. "
                    "Settle=10s",
                    quote(s, buf));
        *eq = '\0';
        key = trim(s);
        value = trim(eq + 1);
        if (!*key)
                return error_setf_at(ret_error, -EINVAL, file, line,
                                     "\"=%s\": no key before '='; expected Key=Value", quote(value, buf));
        if (*section < 0) {
                where = sections_of_key(key);
                if (!where)
                        return -ENOMEM;
                if (*where)
                        return error_setf_at(
                            ret_error, -EINVAL, file, line,
                            "%s= outside any section; expected a section header before it (%s= "
                            "belongs in %s)",
                            quote(key, buf), quote(key, buf2), where);
                return error_setf_at(
                    ret_error, -EINVAL, file, line,
                    "%s= outside any section; expected a section header before it, e.g. [Devices]",
                    quote(key, buf));
        }
        k = find_key(*section, key);
        if (k < 0 && warnings->n >= WARNINGS_MAX) {
                (*more_warnings)++;
                if (*more_warnings == 1)
                        *first_more = line;
                return 0;
        }
        if (k < 0) {
                where = sections_of_key(key);
                if (!where)
                        return -ENOMEM;
                if (*where)
                        r = strv_addf(warnings,
                                      "%s:%u: unknown key %s= in [%s], ignored (%s= belongs in %s)", file,
                                      line, quote(key, buf), sections[*section], quote(key, buf2), where);
                else
                        r = strv_addf(warnings, "%s:%u: unknown key %s= in [%s], ignored", file, line,
                                      quote(key, buf), sections[*section]);
                return r;
        }
        if (st[k].line > 0)
                return error_setf_at(ret_error, -EINVAL, file, line,
                                     "%s= given twice in [%s] (first on line %u)", keys[k].key,
                                     keys[k].section, st[k].line);
        r = parse_key_value((enum key_id)k, value, online, &st[k].value, &why);
        if (r == -EINVAL)
                return error_setf_at(ret_error, -EINVAL, file, line, "%s=%s: %s%s", keys[k].key,
                                     quote(value, buf), why ? why : "invalid value",
                                     strstr(value, " #") || strstr(value, "\t#") || strstr(value, " ;") ||
                                             strstr(value, "\t;")
                                         ? " (a comment must be on a line of its own)"
                                         : "");
        if (r < 0)
                return r;
        st[k].line = line;
        return 0;
}

int config_parse(struct config *c, const char *text, size_t len, const char *filename, const uint64_t *online,
                 char ***ret_warnings, char **ret_error)
{
        _cleanup_(staged_done) struct staged st[_KEY_MAX] = {};
        _cleanup_(strv_done) struct strv warnings = {};
        _cleanup_free_ char *buf = NULL, *file_copy = NULL;
        const char *nul;
        int section = -1, r;
        unsigned line = 0, more_warnings = 0, first_more = 0;
        size_t n_files;
        char **files;

        if (!c || !c->origins || (!text && len > 0))
                return -EINVAL;
        if (!filename)
                filename = "(config)";

        nul = len > 0 ? memchr(text, '\0', len) : NULL;
        if (nul) {
                unsigned l = 1;
                for (const char *p = text; p < nul; p++)
                        l += *p == '\n';
                return error_setf_at(ret_error, -EINVAL, filename, l, "NUL byte; expected a text file");
        }
        buf = malloc(len + 1);
        if (!buf)
                return -ENOMEM;
        if (len > 0)
                memcpy(buf, text, len);
        buf[len] = '\0';

        /* Windows editors start UTF-8 files with a byte order mark: like CRLF, not worth a refusal. */
        for (char *p = buf + (strncmp(buf, "\xef\xbb\xbf", 3) == 0 ? 3 : 0); *p;) {
                char *nl = strchr(p, '\n'), *s;
                size_t n;

                if (nl)
                        *nl = '\0';
                line++;
                /* CRLF files (edited on Windows) are fine: one '\r' before the newline is dropped. */
                n = strlen(p);
                if (n > 0 && p[n - 1] == '\r')
                        p[n - 1] = '\0';
                r = check_text(p, filename, line, ret_error);
                if (r < 0)
                        return r;
                s = trim(p);
                if (*s && *s != '#' && *s != ';') {
                        r = parse_line(s, line, &section, st, filename, online, &warnings, &more_warnings,
                                       &first_more, ret_error);
                        if (r < 0)
                                return r;
                }
                if (!nl)
                        break;
                p = nl + 1;
        }

        if (more_warnings > 0) {
                r = strv_addf(&warnings, "%s:%u: %u more unknown key%s from here on, ignored", filename,
                              first_more, more_warnings, more_warnings == 1 ? "" : "s");
                if (r < 0)
                        return r;
        }

        /* Everything that can fail before the configuration changes. */
        file_copy = strdup(filename);
        if (!file_copy)
                return -ENOMEM;
        n_files = strv_length(c->files);
        files = realloc(c->files, (n_files + 2) * sizeof(char *));
        if (!files)
                return -ENOMEM;
        c->files = files;

        c->files[n_files] = file_copy;
        c->files[n_files + 1] = NULL;
        for (size_t k = 0; k < _KEY_MAX; k++)
                if (st[k].line > 0) {
                        config_take(c, (enum key_id)k, &st[k].value);
                        c->origins[k] = (struct config_origin){.file = file_copy, .line = st[k].line};
                }
        TAKE_PTR(file_copy);
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(warnings.v);
        return 0;
}

int config_check(const struct config *c, char **ret_error)
{
        struct config_origin o, os;
        _cleanup_free_ char *pages = NULL, *size = NULL, *lo = NULL, *hi = NULL, *size_origin = NULL;
        uint64_t down, up;

        if (!c || !c->origins || c->hugepage_size == 0)
                return -EINVAL;
        if (c->hugepages % c->hugepage_size == 0)
                return 0;

        o = config_value_origin(c, KEY_HUGEPAGES);
        os = config_value_origin(c, KEY_HUGEPAGE_SIZE);
        down = c->hugepages - c->hugepages % c->hugepage_size;
        up = down + c->hugepage_size;
        pages = format_size(c->hugepages);
        size = format_size(c->hugepage_size);
        lo = format_size(down);
        hi = up > down ? format_size(up) : strdup("0");
        if (os.file) {
                if (asprintf(&size_origin, "from %s:%u", os.file, os.line) < 0)
                        size_origin = NULL;
        } else
                size_origin = strdup("the default");
        if (!pages || !size || !lo || !hi || !size_origin)
                return -ENOMEM;
        if (down == 0)
                return error_setf_at(
                    ret_error, -EINVAL, o.file ? o.file : "(config)", o.line,
                    "Hugepages=%s: not a multiple of HugepageSize=%s (%s); expected e.g. %s", pages, size,
                    size_origin, hi);
        return error_setf_at(ret_error, -EINVAL, o.file ? o.file : "(config)", o.line,
                             "Hugepages=%s: not a multiple of HugepageSize=%s (%s); expected e.g. %s or %s",
                             pages, size, size_origin, lo, hi);
}

/* Loading */

const char *config_vm_name_problem(const char *vm)
{
        size_t n = strlen(vm);

        if (n == 0)
                return "it is empty";
        if (n > (size_t)VM_NAME_MAX)
                return "it is longer than 250 bytes";
        if (strchr(vm, '/'))
                return "it contains '/'";
        for (const unsigned char *p = (const unsigned char *)vm; *p; p++)
                if (*p < 0x20 || *p == 0x7f)
                        return "it contains a control character";
        return NULL;
}

/* The name, printable: control characters as \xNN, cut after QUOTE_MAX bytes. */
static char *vm_name_printable(const char *vm)
{
        char *s = malloc(QUOTE_MAX * 4 + sizeof("..."));
        char *q = s;
        size_t i;

        if (!s)
                return NULL;
        for (i = 0; vm[i] && i < QUOTE_MAX; i++) {
                unsigned char ch = (unsigned char)vm[i];
                if (ch < 0x20 || ch == 0x7f || ch == '\\')
                        q += sprintf(q, "\\x%02x", ch);
                else
                        *q++ = (char)ch;
        }
        strcpy(q, vm[i] ? "..." : "");
        return s;
}

/* A file or directory that configures a root process: nobody but root (or, under --root in a
 * test, the user running us) may be able to change it. */
static int check_owner_mode(const struct stat *st, const char *display, char **ret_error)
{
        mode_t w = st->st_mode & (S_IWGRP | S_IWOTH);
        uid_t euid = geteuid();

        if (w)
                return error_setf(
                    ret_error, -EPERM,
                    "%s is writable by %s (mode %04o): it configures a root process; chmod go-w it", display,
                    w == (S_IWGRP | S_IWOTH) ? "group and others"
                    : w == S_IWGRP           ? "group"
                                             : "others",
                    (unsigned)(st->st_mode & 07777));
        if (st->st_uid != 0 && st->st_uid != euid) {
                if (euid == 0)
                        return error_setf(
                            ret_error, -EPERM,
                            "%s is owned by uid %u, not root: it configures a root process; chown root it",
                            display, (unsigned)st->st_uid);
                return error_setf(
                    ret_error, -EPERM,
                    "%s is owned by uid %u, neither root nor the user running gpu-handoff (uid %u): it "
                    "configures a root process; chown root it",
                    display, (unsigned)st->st_uid, (unsigned)euid);
        }
        return 0;
}

/* path: as the user sees it ("/etc/gpu-handoff"), below the root. 0 when the directory is safe,
 * 1 when it does not exist. */
static int check_dir(const struct sysroot *sr, const char *path, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        struct stat st;

        fd = sysroot_openat(sr, path, O_PATH | O_DIRECTORY);
        if (fd == -ENOENT)
                return 1;
        if (fd == -ENOTDIR)
                return error_setf(ret_error, -ENOTDIR,
                                  "%s is not a directory; expected the configuration directory", path);
        if (fd < 0)
                return error_setf_at(ret_error, fd, path, 0, "%s", strerror(-fd));
        if (fstat(fd, &st) < 0)
                return error_setf_at(ret_error, negative_errno(), path, 0, "%s", strerror(errno));
        return check_owner_mode(&st, path, ret_error);
}

/* Reads and applies path (as the user sees it, below the root); 1 when it does not exist. */
static int load_file(const struct sysroot *sr, const char *display, struct config *c, const uint64_t *online,
                     struct strv *warnings, char **ret_error)
{
        _cleanup_close_ int fd = -1;
        _cleanup_free_ char *text = NULL;
        char **w = NULL;
        struct stat st;
        size_t len = 0;
        int r;

        /* O_NONBLOCK: a FIFO planted there must not hang us before fstat() says what it is. */
        fd = sysroot_openat(sr, display, O_RDONLY | O_NOCTTY | O_NONBLOCK);
        if (fd == -ENOENT)
                return 1;
        if (fd < 0)
                return error_setf_at(ret_error, fd, display, 0, "%s", strerror(-fd));
        if (fstat(fd, &st) < 0)
                return error_setf_at(ret_error, negative_errno(), display, 0, "%s", strerror(errno));
        if (!S_ISREG(st.st_mode))
                return error_setf(ret_error, -EINVAL,
                                  "%s is not a regular file; expected a configuration file", display);
        r = check_owner_mode(&st, display, ret_error);
        if (r < 0)
                return r;
        r = read_fd_full(fd, CONFIG_FILE_MAX, &text, &len);
        if (r == -EFBIG)
                return error_setf(ret_error, -EFBIG,
                                  "%s is larger than 1 MiB; expected a configuration file", display);
        if (r < 0)
                return error_setf_at(ret_error, r, display, 0, "%s", strerror(-r));
        r = config_parse(c, text, len, display, online, &w, ret_error);
        if (r < 0)
                return r;
        for (char **p = w; p && *p && r >= 0; p++)
                r = strv_addf(warnings, "%s", *p);
        strv_free_null(w);
        return r;
}

int config_load(const struct sysroot *sr, const char *vm, const uint64_t *online, struct config **ret,
                char ***ret_warnings, char **ret_error)
{
        _cleanup_(config_freep) struct config *c = NULL;
        _cleanup_(strv_done) struct strv warnings = {};
        _cleanup_free_ char *vm_display = NULL;
        const char *problem;
        int r;

        if (!sr || !ret)
                return -EINVAL;
        if (vm) {
                problem = config_vm_name_problem(vm);
                if (problem) {
                        _cleanup_free_ char *printable = vm_name_printable(vm);
                        if (!printable)
                                return -ENOMEM;
                        /* no option named: the caller knows where the name came from */
                        return error_setf(
                            ret_error, -EINVAL,
                            "\"%s\" is not a VM name: %s; expected the libvirt domain name, a file name "
                            "of 1 to %d bytes (no '/', no control characters)",
                            printable, problem, VM_NAME_MAX);
                }
                if (asprintf(&vm_display, "/" CONFIG_VM_DIR "/%s.conf", vm) < 0)
                        return -ENOMEM;
        }

        r = config_new_default(&c);
        if (r < 0)
                return r;

        r = check_dir(sr, "/" CONFIG_DIR, ret_error);
        if (r < 0)
                return r;
        if (r == 0) {
                r = load_file(sr, "/" CONFIG_PATH, c, online, &warnings, ret_error);
                if (r < 0)
                        return r;
                if (vm) {
                        r = check_dir(sr, "/" CONFIG_VM_DIR, ret_error);
                        if (r < 0)
                                return r;
                        if (r == 0) {
                                r = load_file(sr, vm_display, c, online, &warnings, ret_error);
                                if (r < 0)
                                        return r;
                        }
                }
        }
        r = config_check(c, ret_error);
        if (r < 0)
                return r;
        *ret = TAKE_PTR(c);
        if (ret_warnings)
                *ret_warnings = TAKE_PTR(warnings.v);
        return 0;
}

bool config_is_default(const struct config *c, const char *section, const char *key)
{
        for (size_t i = 0; i < config_n_keys(); i++)
                if (strcmp(config_key(i)->section, section) == 0 && strcmp(config_key(i)->key, key) == 0)
                        return !config_value_origin(c, i).file;
        return true;
}
