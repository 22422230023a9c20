/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "basic/quote.h"
#include "cli/json.h"

json_object *json_new_document(void)
{
        json_object *o = json_object_new_object();
        if (o)
                json_object_object_add(o, "schema", json_object_new_int(JSON_SCHEMA_VERSION));
        return o;
}

json_object *json_string_or_null(const char *s)
{
        return s ? json_object_new_string(s) : NULL;
}

static json_object *hex_id(unsigned v, unsigned digits, const char *prefix)
{
        char buf[16];
        snprintf(buf, sizeof(buf), "%s%0*x", prefix, (int)digits, v);
        return json_object_new_string(buf);
}

json_object *json_pci_device(const struct pci_device *d, struct pci_names *names)
{
        json_object *o = json_object_new_object();
        bool ids = !(d->problems & PCI_PROBLEM_IDS), cls = !(d->problems & PCI_PROBLEM_CLASS);
        char buf[256];

        if (!o)
                return NULL;
        json_object_object_add(o, "address", json_object_new_string(d->address));
        json_object_object_add(o, "vendor_id", ids ? hex_id(d->vendor, 4, "") : NULL);
        json_object_object_add(o, "device_id", ids ? hex_id(d->device, 4, "") : NULL);
        json_object_object_add(o, "class", cls ? hex_id(d->class, 6, "0x") : NULL);
        json_object_object_add(o, "class_name",
                               cls ? json_object_new_string(pci_names_class(names, buf, sizeof(buf), d->class, false)) : NULL);
        json_object_object_add(o, "name",
                               ids ? json_object_new_string(pci_names_device(names, buf, sizeof(buf), d->vendor, d->device, false))
                                   : NULL);
        json_object_object_add(o, "driver", json_string_or_null(d->driver));
        return o;
}

json_object *json_address_array(struct pci_device *const *devs, size_t n)
{
        json_object *a = json_object_new_array();
        for (size_t i = 0; a && i < n; i++)
                json_object_array_add(a, json_object_new_string(devs[i]->address));
        return a;
}

json_object *json_plan_step(const struct step *s, size_t index)
{
        _cleanup_free_ char *text = step_describe(s);
        json_object *o = json_object_new_object(), *args = json_object_new_array();

        if (!o || !args) {
                json_object_put(o);
                json_object_put(args);
                return NULL;
        }
        for (size_t a = 0; a < s->n_args; a++)
                json_object_array_add(args, json_object_new_string(s->args[a]));
        json_object_object_add(o, "index", index ? json_object_new_int((int)index) : NULL);
        json_object_object_add(o, "kind", json_object_new_string(step_kind_to_string(s->kind)));
        json_object_object_add(o, "args", args);
        json_object_object_add(o, "description", json_string_or_null(text));
        return o;
}

#define PRETTY (JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | JSON_C_TO_STRING_NOSLASHESCAPE)

/* JSON text is UTF-8 (RFC 8259), but json-c copies a string's bytes as they are. A byte that is
 * not part of a well-formed UTF-8 character (a driver link named with 0xff, a --pci-ids file in
 * Latin-1) goes out as U+FFFD, the replacement character. Everything outside strings is ASCII,
 * so the document's structure is never touched. */
static void put_utf8(const char *s, size_t n)
{
        size_t i = 0, start = 0;

        while (i < n) {
                size_t k = utf8_char_length(s + i, n - i);
                if (k) {
                        i += k;
                        continue;
                }
                fwrite(s + start, 1, i - start, stdout);
                fputs("\xef\xbf\xbd", stdout);
                start = ++i;
        }
        fwrite(s + start, 1, n - start, stdout);
}

static size_t stream_elements; /* elements printed in the open array */

void json_stream_begin(void)
{
        printf("{\n  \"schema\": %d", JSON_SCHEMA_VERSION);
}

void json_stream_array_begin(const char *key)
{
        printf(",\n  \"%s\": [", key); /* keys are our own identifiers: nothing to escape */
        stream_elements = 0;
}

int json_stream_array_add(json_object *element)
{
        const char *s, *nl;

        if (!element)
                return -ENOMEM;
        s = json_object_to_json_string_ext(element, PRETTY);
        if (!s) {
                json_object_put(element);
                return -ENOMEM;
        }
        fputs(stream_elements++ ? ",\n" : "\n", stdout);
        /* Strings are escaped, so every newline is json-c's own: indent each line by two levels. */
        for (; (nl = strchr(s, '\n')); s = nl + 1) {
                fputs("    ", stdout);
                put_utf8(s, (size_t)(nl - s) + 1);
        }
        fputs("    ", stdout);
        put_utf8(s, strlen(s));
        json_object_put(element);
        return 0;
}

void json_stream_array_end(void)
{
        fputs("\n  ]", stdout);
}

int json_stream_end(void)
{
        fputs("\n}\n", stdout);
        return ferror(stdout) ? -EIO : 0;
}

int json_print(json_object *doc)
{
        const char *s = json_object_to_json_string_ext(doc, PRETTY);
        if (!s)
                return -ENOMEM;
        put_utf8(s, strlen(s));
        return putchar('\n') == EOF || ferror(stdout) ? -EIO : 0;
}
