/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/looking-glass-size.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "basic/error.h"

#define MIB (UINT64_C(1) << 20)
/* Larger than any display: 16384 x 16384 keeps every product below in 64 bits with room. */
#define LG_DIMENSION_MAX 16384u

static int parse_dimension(const char *s, const char **end, uint32_t *ret)
{
        uint64_t v = 0;
        const char *p = s;

        for (; *p >= '0' && *p <= '9'; p++) {
                v = v * 10 + (uint64_t)(*p - '0');
                if (v > UINT32_MAX)
                        v = UINT32_MAX; /* saturate: reported as too large below */
        }
        if (p == s)
                return -EINVAL;
        *end = p;
        *ret = (uint32_t)v;
        return 0;
}

int lg_mode_parse(const char *s, struct lg_mode *ret, char **ret_error)
{
        struct lg_mode m = {0};
        const char *p;

        if (!s || parse_dimension(s, &p, &m.width) < 0 || (*p != 'x' && *p != 'X') ||
            parse_dimension(p + 1, &p, &m.height) < 0 || (*p && strcasecmp(p, "@hdr") != 0))
                return error_setf(ret_error, -EINVAL,
                                  "\"%s\" is not a resolution; expected WIDTHxHEIGHT or WIDTHxHEIGHT@hdr "
                                  "(2560x1440, 3840x2160@hdr)",
                                  s ? s : "");
        m.hdr = *p != '\0';
        if (m.width == 0 || m.height == 0)
                return error_setf(ret_error, -EINVAL, "%s: a width and a height of at least 1", s);
        if (m.width > LG_DIMENSION_MAX || m.height > LG_DIMENSION_MAX)
                return error_setf(ret_error, -EINVAL, "%s: at most %ux%u", s, LG_DIMENSION_MAX,
                                  LG_DIMENSION_MAX);
        *ret = m;
        return 0;
}

uint32_t lg_size_mib(const struct lg_mode *m, enum lg_version version)
{
        uint64_t need, size = 1;

        if (version == LG_VERSION_B7)
                need = (uint64_t)m->width * m->height * (m->hdr ? 8 : 4) * 2 + 10 * MIB;
        else
                need = ((uint64_t)m->width * 4 + 255) / 256 * 256 * m->height * 3 + 4 * MIB;
        while (size * MIB < need) {
                size <<= 1;
                if (size > LG_SIZE_MAX_MIB)
                        return 0;
        }
        return (uint32_t)size;
}

int lg_version_from_string(const char *s)
{
        if (s && strcasecmp(s, "B7") == 0)
                return LG_VERSION_B7;
        if (s && strcmp(s, "current") == 0)
                return LG_VERSION_CURRENT;
        return -EINVAL;
}

const char *lg_version_to_string(enum lg_version v)
{
        return v == LG_VERSION_B7 ? "B7" : "current";
}
