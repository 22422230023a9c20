/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/qemu-conf.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "basic/error.h"
#include "basic/macro.h"

#define KEY "cgroup_device_acl"

/* The '[' of an assignment "KEY = [" starting at line (after blanks); NULL when line is not one. */
static const char *assignment(const char *line)
{
        const char *p = line + strspn(line, " \t");

        if (strncmp(p, KEY, strlen(KEY)) != 0)
                return NULL;
        p += strlen(KEY);
        p += strspn(p, " \t");
        if (*p != '=')
                return NULL;
        p++;
        p += strspn(p, " \t\r\n");
        return *p == '[' ? p : NULL;
}

/* The first active assignment's '['; NULL when there is none. */
static const char *find_list(const char *text)
{
        for (const char *line = text; line && *line;) {
                const char *b = assignment(line);
                if (b)
                        return b;
                line = strchr(line, '\n');
                line = line ? line + 1 : NULL;
        }
        return NULL;
}

struct list {
        const char *close;      /* its ']' */
        const char *last_end;   /* just after the last entry's closing quote; NULL: no entry */
        const char *last_start; /* that entry's opening quote */
        bool has;               /* device is an entry */
};

/* Reads the list from open ('['): strings in either quote, '#' comments to the end of the line.
 * -EINVAL when it does not end. */
static int read_list(const char *open, const char *device, struct list *ret)
{
        struct list l = {0};
        size_t dlen = strlen(device);

        for (const char *p = open + 1; *p; p++) {
                if (*p == ']') {
                        l.close = p;
                        *ret = l;
                        return 0;
                }
                if (*p == '#') {
                        p += strcspn(p, "\n");
                        if (!*p)
                                break;
                        continue;
                }
                if (*p == '"' || *p == '\'') {
                        const char *end = strchr(p + 1, *p);
                        if (!end)
                                break;
                        if ((size_t)(end - p - 1) == dlen && strncmp(p + 1, device, dlen) == 0)
                                l.has = true;
                        l.last_start = p;
                        l.last_end = end + 1;
                        p = end;
                }
        }
        return -EINVAL;
}

int qemu_conf_acl_has(const char *text, const char *device)
{
        const char *open = find_list(text);
        struct list l;

        if (!open)
                return -ENOENT;
        if (read_list(open, device, &l) < 0)
                return 0;
        return l.has;
}

/* text with insert put at offset at. */
static char *splice(const char *text, size_t at, const char *insert)
{
        size_t len = strlen(text), ilen = strlen(insert);
        char *s = malloc(len + ilen + 1);

        if (!s)
                return NULL;
        memcpy(s, text, at);
        memcpy(s + at, insert, ilen);
        memcpy(s + at + ilen, text + at, len - at + 1);
        return s;
}

/* Adds to the active list of text; 0 when it has device already, -ENOENT without a list. */
static int add_to_list(const char *text, const char *device, char **ret, char **ret_error)
{
        const char *open = find_list(text);
        _cleanup_free_ char *insert = NULL;
        struct list l;
        size_t at;
        int r;

        if (!open)
                return -ENOENT;
        if (read_list(open, device, &l) < 0)
                return error_setf(ret_error, -EINVAL, "the cgroup_device_acl list in %s does not end with ]",
                                  QEMU_CONF_PATH);
        if (l.has) {
                *ret = NULL;
                return 0;
        }
        if (!l.last_end) { /* an empty list: the user wants nothing else */
                at = (size_t)(open + 1 - text);
                if (asprintf(&insert, " \"%s\" ", device) < 0)
                        return -ENOMEM;
        } else {
                const char *after = l.last_end + strspn(l.last_end, " \t");
                bool comma = *after == ',';
                bool lines = memchr(l.last_end, '\n', (size_t)(l.close - l.last_end)) != NULL;
                const char *bol = l.last_start;

                while (bol > text && bol[-1] != '\n')
                        bol--;
                int indent = (int)strspn(bol, " \t");
                if (indent > (int)(l.last_start - bol))
                        indent = (int)(l.last_start - bol);
                /* one entry a line where the list has several lines, else on the same line */
                at = (size_t)((comma ? after + 1 : l.last_end) - text);
                r = lines ? asprintf(&insert, "%s\n%.*s\"%s\"%s", comma ? "" : ",", indent, bol, device,
                                     comma ? "," : "")
                          : asprintf(&insert, "%s \"%s\"%s", comma ? "" : ",", device, comma ? "," : "");
                if (r < 0)
                        return -ENOMEM;
        }
        *ret = splice(text, at, insert);
        return *ret ? 1 : -ENOMEM;
}

/* The commented sample: "#KEY = [" up to the next line "#]", every line commented. Its first
 * line's start and the end of its last line (after the '\n' when there is one); false when
 * there is none. */
static bool find_sample(const char *text, const char **ret_start, const char **ret_end)
{
        for (const char *line = text; line && *line;) {
                const char *next = strchr(line, '\n');
                next = next ? next + 1 : NULL;
                if (line[0] == '#' && assignment(line + 1)) {
                        for (const char *l = line; l && *l == '#';) {
                                const char *n = strchr(l, '\n');
                                const char *body = l + 1 + strspn(l + 1, " \t");
                                if (*body == ']' || (l == line && strchr(l, ']') && strchr(l, ']') < (n ? n : l + strlen(l)))) {
                                        *ret_start = line;
                                        *ret_end = n ? n + 1 : l + strlen(l);
                                        return true;
                                }
                                l = n ? n + 1 : NULL;
                        }
                }
                line = next;
        }
        return false;
}

int qemu_conf_acl_add(const char *text, const char *device, char **ret, char **ret_error)
{
        const char *start, *end;
        _cleanup_free_ char *uncommented = NULL;
        int r;

        *ret = NULL;
        r = add_to_list(text, device, ret, ret_error);
        if (r != -ENOENT)
                return r;
        if (find_sample(text, &start, &end)) {
                /* the sample as shipped, each line's '#' taken away, every other byte kept */
                size_t len = strlen(text);
                char *o = uncommented = malloc(len + 1);
                if (!o)
                        return -ENOMEM;
                memcpy(o, text, (size_t)(start - text));
                o += start - text;
                for (const char *p = start; p < end; p++)
                        if (!(*p == '#' && (p == start || p[-1] == '\n')))
                                *o++ = *p;
                memcpy(o, end, len - (size_t)(end - text) + 1);
        } else {
                size_t len = strlen(text);
                if (asprintf(&uncommented,
                             "%s%s\n# Looking Glass (gpu-handoff setup --looking-glass): libvirt's default devices "
                             "and kvmfr\n" KEY " = [\n" QEMU_CONF_DEFAULT_ACL "\n]\n",
                             text, len && text[len - 1] != '\n' ? "\n" : "") < 0)
                        return -ENOMEM;
        }
        r = add_to_list(uncommented, device, ret, ret_error);
        if (r == 0) { /* the sample had it: uncommenting it is the change */
                *ret = TAKE_PTR(uncommented);
                return 1;
        }
        return r == -ENOENT ? error_setf(ret_error, -EINVAL, "cannot find cgroup_device_acl in %s", QEMU_CONF_PATH)
                            : r;
}
