/* SPDX-License-Identifier: GPL-2.0-or-later */
/* quirk_db_parse() on arbitrary bytes. Invariants: it returns 0, -EINVAL or -ENOMEM; an
 * error comes with a short "fuzz:LINE: ..." message and leaves *ret alone; a success yields
 * complete entries whose IDs match, and writing the database back out in the documented
 * format and parsing that again gives the same database. */

#include <errno.h>
#include <stdbool.h>
#include <string.h>

#include "basic/macro.h"
#include "host/quirks.h"
#include "fuzz.h"

#define ALL_FLAGS                                                                                                    \
        (QUIRK_RESET_BROKEN | QUIRK_RESET_ONCE_PER_BOOT | QUIRK_VENDOR_RESET | QUIRK_KEEP_EFIFB |                    \
         QUIRK_COMPANIONS_TRAVEL)

static void check_entry(const struct quirk_db *db, const struct quirk *q)
{
        fuzz_check(q->id && q->id[0] && strspn(q->id, "abcdefghijklmnopqrstuvwxyz0123456789-") == strlen(q->id));
        fuzz_check(q->id[0] != '-');
        fuzz_check(q->name && q->name[0] && q->summary && q->summary[0] && q->fix && q->fix[0] && q->source &&
                   q->source[0]);
        fuzz_check(q->severity == QUIRK_INFO || q->severity == QUIRK_WARNING || q->severity == QUIRK_ERROR);
        fuzz_check(quirk_severity_to_string(q->severity));
        fuzz_check((q->flags & ~(unsigned)ALL_FLAGS) == 0);
        fuzz_check(q->n_ranges > 0 && q->ranges);

        for (size_t j = 0; j < q->n_ranges; j++) {
                const struct quirk_id_range *r = &q->ranges[j];
                const struct quirk *out[1];
                size_t n;

                fuzz_check(r->first <= r->last);
                /* both ends match this entry; limit the work on databases with many IDs */
                if (j >= 64)
                        continue;
                n = quirk_db_match(db, r->vendor, r->first, out, 0);
                fuzz_check(n >= 1 && n <= db->n_quirks);
                n = quirk_db_match(db, r->vendor, r->last, out, 1);
                fuzz_check(n >= 1);
        }
}

static void write_quirk(FILE *f, const struct quirk *q)
{
        fprintf(f, "[%s]\nname = %s\nmatch =", q->id, q->name);
        for (size_t j = 0; j < q->n_ranges; j++)
                fprintf(f, " %04x:%04x-%04x", q->ranges[j].vendor, q->ranges[j].first, q->ranges[j].last);
        fprintf(f, "\nseverity = %s\n", quirk_severity_to_string(q->severity));
        if (q->flags) {
                fputs("flags =", f);
                for (unsigned bit = 1; bit <= ALL_FLAGS; bit <<= 1)
                        if (q->flags & bit)
                                fprintf(f, " %s", quirk_flag_to_string((enum quirk_flag)bit));
                fputc('\n', f);
        }
        fprintf(f, "summary = %s\nfix = %s\nsource = %s\n", q->summary, q->fix, q->source);
}

static void check_roundtrip(const struct quirk_db *db)
{
        _cleanup_free_ char *text = NULL, *error = NULL;
        struct quirk_db *again = NULL;
        size_t len = 0;
        FILE *f = open_memstream(&text, &len);
        int r;

        fuzz_check(f);
        for (size_t i = 0; i < db->n_quirks; i++)
                write_quirk(f, &db->quirks[i]);
        fuzz_check(fclose(f) == 0);

        r = quirk_db_parse(text, len, "again", &again, &error);
        if (r == -ENOMEM)
                return;
        if (r < 0)
                fprintf(stderr, "re-parse failed: %s\n", error ? error : "?");
        fuzz_check(r == 0);
        fuzz_check(again->n_quirks == db->n_quirks);
        for (size_t i = 0; i < db->n_quirks; i++) {
                const struct quirk *a = &db->quirks[i], *b = &again->quirks[i];
                fuzz_check(strcmp(a->id, b->id) == 0 && strcmp(a->name, b->name) == 0 &&
                           strcmp(a->summary, b->summary) == 0 && strcmp(a->fix, b->fix) == 0 &&
                           strcmp(a->source, b->source) == 0);
                fuzz_check(a->severity == b->severity && a->flags == b->flags && a->n_ranges == b->n_ranges);
                fuzz_check(memcmp(a->ranges, b->ranges, a->n_ranges * sizeof(*a->ranges)) == 0);
        }
        quirk_db_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        struct quirk_db *const poison = (struct quirk_db *)(uintptr_t)0x10;
        struct quirk_db *db = poison;
        _cleanup_free_ char *error = NULL;
        int r;

        r = quirk_db_parse((const char *)data, size, "fuzz", &db, &error);
        fuzz_check(r == 0 || r == -EINVAL || r == -ENOMEM);
        if (r < 0) {
                fuzz_check(db == poison);
                if (r == -EINVAL) {
                        /* "fuzz:LINE: message", and quoting keeps it short whatever the input */
                        fuzz_check(error && strncmp(error, "fuzz:", 5) == 0);
                        fuzz_check(strspn(error + 5, "0123456789") > 0);
                        fuzz_check(error[5 + strspn(error + 5, "0123456789")] == ':');
                        fuzz_check(strlen(error) < 512);
                }
                return 0;
        }
        fuzz_check(db && db != poison && !error);
        fuzz_check(db->n_quirks == 0 || db->quirks);
        for (size_t i = 0; i < db->n_quirks; i++) {
                check_entry(db, &db->quirks[i]);
                for (size_t k = 0; k < i; k++)
                        fuzz_check(strcmp(db->quirks[i].id, db->quirks[k].id) != 0);
        }
        check_roundtrip(db);
        quirk_db_free(db);
        return 0;
}
