/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "setup/pe.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "basic/macro.h"

/* Windows "PE Format": the section table may hold up to 96 sections by the spec's loader limit */
#define PE_MAX_SECTIONS 96

static uint32_t le32(const uint8_t *p)
{
        return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint16_t le16(const uint8_t *p)
{
        return (uint16_t)(p[0] | p[1] << 8);
}

/* Exactly n bytes at off, or -EBADMSG when the file ends before. */
static int read_at(int fd, uint64_t size, uint64_t off, void *buf, size_t n)
{
        ssize_t got;

        if (off > size || n > size - off)
                return -EBADMSG;
        got = pread(fd, buf, n, (off_t)off);
        if (got < 0)
                return -errno;
        return (size_t)got == n ? 0 : -EBADMSG;
}

int pe_read_section(const struct sysroot *sr, const char *path, const char *name, size_t max, char **ret)
{
        _cleanup_close_ int fd = -EBADF;
        uint8_t dos[64], coff[24], table[PE_MAX_SECTIONS * 40];
        uint64_t size, pe_off, table_off;
        uint16_t n_sections, opt_size;
        struct stat st;
        size_t name_len = strlen(name);
        int r;

        if (name_len > 8)
                return -EINVAL;
        fd = sysroot_open_regular(sr, path);
        if (fd < 0)
                return fd;
        if (fstat(fd, &st) < 0)
                return -errno;
        size = (uint64_t)st.st_size;
        r = read_at(fd, size, 0, dos, sizeof(dos));
        if (r < 0)
                return r;
        if (dos[0] != 'M' || dos[1] != 'Z')
                return -EBADMSG;
        pe_off = le32(dos + 0x3c);
        r = read_at(fd, size, pe_off, coff, sizeof(coff));
        if (r < 0)
                return r;
        if (memcmp(coff, "PE\0\0", 4) != 0)
                return -EBADMSG;
        n_sections = le16(coff + 6);
        opt_size = le16(coff + 20);
        if (n_sections > PE_MAX_SECTIONS)
                return -EBADMSG;
        table_off = pe_off + sizeof(coff) + opt_size;
        r = read_at(fd, size, table_off, table, (size_t)n_sections * 40);
        if (r < 0)
                return r;
        for (size_t i = 0; i < n_sections; i++) {
                const uint8_t *s = table + i * 40;
                uint32_t vsize = le32(s + 8), raw_size = le32(s + 16), raw_off = le32(s + 20);
                size_t n = vsize < raw_size ? vsize : raw_size;
                char *data;

                /* the name is 8 bytes, NUL-padded when shorter */
                if (memcmp(s, name, name_len) != 0 || (name_len < 8 && s[name_len] != '\0'))
                        continue;
                if (n > max)
                        return -EFBIG;
                data = malloc(n + 1);
                if (!data)
                        return -ENOMEM;
                r = read_at(fd, size, raw_off, data, n);
                if (r < 0) {
                        free(data);
                        return r;
                }
                data[n] = '\0';
                *ret = data;
                return 1;
        }
        return 0;
}
