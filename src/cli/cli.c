/* SPDX-License-Identifier: GPL-2.0-or-later */
/* What every verb of the command line shares: the one way to report (cli_error), the quirks
 * database and the configuration as the options name them, the installed binary the hook runs,
 * and the verb descriptors' lookup and --help (cli.h). It knows no verb: main.c dispatches over
 * their descriptors, and every verb file calls only this. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "build-config.h"
#include "basic/bitmap.h"
#include "basic/parse.h"
#include "basic/strv.h"
#include "cli/cli.h"
#include "host/cpu.h"

/* One line on stderr: the prefix, then the message. */
_printf_(2, 0) static void say(const char *prefix, const char *fmt, va_list ap)
{
        fputs(prefix, stderr);
        vfprintf(stderr, fmt, ap);
        fputc('\n', stderr);
}

int cli_error(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        say("gpu-handoff: ", fmt, ap);
        va_end(ap);
        return EXIT_ERROR;
}

void cli_warning(const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        say("gpu-handoff: warning: ", fmt, ap);
        va_end(ap);
}

int cli_plan_failed(const char *verb, int r, const char *error)
{
        cli_error("%s: %s", verb, r == -ENOMEM ? "out of memory" : error ? error : strerror(-r));
        return r == -EINVAL || r == -ENODEV || r == -ENOMEM ? EXIT_ERROR : EXIT_NOT_READY;
}

/* The database the tool reads unless told otherwise: the installed one, or, for a binary run
 * from its build directory, the source tree's (an installed copy may be missing or older). */
static const char *default_quirks_path(void)
{
        char exe[4096];
        ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
        char *slash;

        if (n <= 0)
                return QUIRKS_PATH;
        exe[n] = '\0';
        slash = strrchr(exe, '/');
        if (slash && slash != exe) {
                *slash = '\0';
                if (strcmp(exe, BUILD_CLI_DIR) == 0)
                        return SOURCE_QUIRKS_PATH;
        }
        return QUIRKS_PATH;
}

const char *cli_quirks_path(const struct cli *cli)
{
        const char *env = getenv("GPU_HANDOFF_QUIRKS");
        return cli->quirks_path ? cli->quirks_path : env && *env ? env : default_quirks_path();
}

int cli_load_quirks(const struct cli *cli, struct quirk_db **ret)
{
        const char *env = getenv("GPU_HANDOFF_QUIRKS");
        const char *path = cli_quirks_path(cli);
        bool named = cli->quirks_path || (env && *env);
        _cleanup_free_ char *error = NULL;
        int r;

        *ret = NULL;
        r = quirk_db_load(path, ret, &error);
        if (r == -ENOENT && !named) {
                cli_warning("quirks database %s not found; known-bad GPU families are not checked", path);
                return 0;
        }
        if (r < 0) {
                cli_error("%s", error ? error : strerror(-r));
                return r;
        }
        return 0;
}

int cli_load_config_warnings(const struct cli *cli, struct config **ret, char ***ret_warnings)
{
        _cleanup_free_ char *error = NULL;
        uint64_t online[BITMAP_WORDS(CPULIST_BITS)];
        int r;

        /* CPU lists are checked against the online CPUs where they can be read */
        r = config_load(cli->sr, cli->vm, cpu_online_read(cli->sr, online) >= 0 ? online : NULL, ret, ret_warnings,
                        &error);
        if (r < 0) {
                /* the hook never passes a name config_vm_name_problem() refuses: this one is --vm's */
                bool vm_name = r == -EINVAL && cli->vm && config_vm_name_problem(cli->vm);
                cli_error("%s%s", vm_name ? "--vm: " : "", error ? error : strerror(-r));
                return EXIT_ERROR;
        }
        return EXIT_OK;
}

int cli_load_config(const struct cli *cli, struct config **ret)
{
        char **warnings = NULL;

        *ret = NULL;
        if (cli_load_config_warnings(cli, ret, &warnings) != EXIT_OK)
                return EXIT_ERROR;
        for (char **p = warnings; p && *p; p++)
                cli_warning("%s", *p);
        strv_free_null(warnings);
        return EXIT_OK;
}

int cli_parse_vm(struct cli *cli, const char *value)
{
        cli->vm = value; /* checked when the configuration is read */
        return 0;
}

const char *hook_binary(void)
{
        const char *env = getenv("GPU_HANDOFF_BINARY");
        return env && *env ? env : SBINDIR "/gpu-handoff";
}

const struct verb *verb_find(const struct verb *table, const char *name)
{
        for (const struct verb *v = table; v && v->name; v++)
                if (strcmp(v->name, name) == 0)
                        return v;
        return NULL;
}

const struct verb_option *verb_option_find(const struct verb *v, const char *name)
{
        for (const struct verb_option *o = v->options; o && o->name; o++)
                if (strcmp(o->name, name) == 0)
                        return o;
        return NULL;
}

/* "  LABEL   text": the text starts at column; its further lines are indented to it. The first
 * entry is set apart from the description by an empty line. */
static void print_entry(FILE *f, int column, const char *label, const char *text, bool first)
{
        int n;

        if (first)
                fputc('\n', f);
        n = fprintf(f, "  %s", label);

        for (const char *line = text; *line;) {
                size_t len = strcspn(line, "\n");
                fprintf(f, "%*s%.*s\n", n < column ? column - n : 1, "", (int)len, line);
                line += len + (line[len] == '\n');
                n = 0;
        }
}

void verb_print_help(FILE *f, const struct verb *v)
{
        bool listed = false;

        fprintf(f, "Usage: gpu-handoff [OPTIONS] %s%s%s\n\n%s.\n\n%s", v->name, *v->args ? " " : "", v->args,
                v->summary, v->description);
        for (const struct verb *s = v->subverbs; s && s->name; s++, listed = true)
                print_entry(f, v->column, s->name, s->summary, !listed);
        for (const struct verb_option *o = v->options; o && o->name; o++, listed = true) {
                char label[64];
                snprintf(label, sizeof(label), "--%s%s%s", o->name, o->value ? " " : "", o->value ? o->value : "");
                print_entry(f, v->column, label, o->help, !listed);
        }
        if (listed && v->epilog)
                fputc('\n', f);
        if (v->epilog)
                fputs(v->epilog, f);
}
