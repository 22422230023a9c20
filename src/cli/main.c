/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The command line: the global options, and dispatch over the verbs' descriptors (verbs.h).
 * Every verb brings its own arguments, options and help (cli.h's struct verb); the options of
 * all of them are parsed here in one pass, before and after the verb's name, so that
 * "gpu-handoff --dry-run attach" and "gpu-handoff attach --dry-run" are one command. */
#include <errno.h>
#include <getopt.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "build-config.h"
#include "basic/quote.h"
#include "basic/strv.h"
#include "cli/verbs.h"

static const struct verb *const verbs[] = {
        &list_verb, &doctor_verb, &attach_verb, &release_verb, &status_verb,
        &recover_verb, &reset_verb, &hook_verb, &config_verb, &xml_verb, &setup_verb,
};

static const struct verb *find_verb(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                if (strcmp(verbs[i]->name, name) == 0)
                        return verbs[i];
        return NULL;
}

static void print_usage(FILE *f)
{
        fputs("Usage: gpu-handoff [OPTIONS] VERB [ARGS...]\n"
              "\n"
              "Lends this host's GPU to a KVM/QEMU virtual machine and takes it back.\n"
              "\n"
              "Verbs:\n",
              f);
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                fprintf(f, "  %-10s %s\n", verbs[i]->name, verbs[i]->summary);
        fputs("\n"
              "Options:\n"
              "  --root DIR       read the machine below DIR instead of / (a fake tree for tests;\n"
              "                   also $GPU_HANDOFF_ROOT; an empty DIR is refused)\n"
              "  --json           machine-readable output (versioned schema, \"schema\": 1)\n"
              "  --quirks FILE    GPU quirks database (default " QUIRKS_PATH ";\n"
              "                   run from its build directory, the source tree's data/quirks;\n"
              "                   also $GPU_HANDOFF_QUIRKS)\n"
              "  --pci-ids FILE   PCI ID database for device names (default " PCI_IDS_PATH ";\n"
              "                   also $GPU_HANDOFF_PCI_IDS)\n"
              "  -h, --help       show this help; \"gpu-handoff VERB --help\" explains a verb\n"
              "  --version        show the version\n"
              "\n"
              "Exit status: 0 success, 1 not ready or refused, 2 usage or runtime error,\n"
              "3 rolled back after a failure, 4 the host needs \"gpu-handoff recover\".\n",
              f);
}

enum {
        ARG_ROOT = 0x100,
        ARG_JSON,
        ARG_QUIRKS,
        ARG_PCI_IDS,
        ARG_VERSION,
        ARG_VERB_OPTION, /* and up: the verbs' options, one value for each name */
};

static const struct option global_options[] = {
        {"root", required_argument, NULL, ARG_ROOT},
        {"json", no_argument, NULL, ARG_JSON},
        {"quirks", required_argument, NULL, ARG_QUIRKS},
        {"pci-ids", required_argument, NULL, ARG_PCI_IDS},
        {"help", no_argument, NULL, 'h'},
        {"version", no_argument, NULL, ARG_VERSION},
};

static bool is_global_option(const char *name)
{
        for (size_t i = 0; i < ELEMENTSOF(global_options); i++)
                if (strcmp(global_options[i].name, name) == 0)
                        return true;
        return false;
}

/* getopt's table: the global options, then every option any verb takes, each name once (the
 * verbs that share a name share its form: --vm NAME, --dry-run). Lives as long as the process;
 * NULL after reporting. */
static struct option *all_options(void)
{
        size_t n = ELEMENTSOF(global_options), cap = n + 1;
        struct option *o;

        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                for (const struct verb_option *vo = verbs[i]->options; vo && vo->name; vo++)
                        cap++;
        o = calloc(cap, sizeof(*o));
        if (!o) {
                cli_error("out of memory");
                return NULL;
        }
        memcpy(o, global_options, sizeof(global_options));
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++)
                for (const struct verb_option *vo = verbs[i]->options; vo && vo->name; vo++) {
                        int has_arg = vo->value ? required_argument : no_argument;
                        size_t k = ELEMENTSOF(global_options);

                        if (is_global_option(vo->name))
                                continue;
                        while (k < n && strcmp(o[k].name, vo->name) != 0)
                                k++;
                        if (k < n && o[k].has_arg != has_arg) {
                                /* a descriptor's mistake, which every run would show at once */
                                cli_error("internal error: verbs disagree whether --%s takes a value", vo->name);
                                free(o);
                                return NULL;
                        }
                        if (k == n)
                                o[n++] = (struct option){vo->name, has_arg, NULL, ARG_VERB_OPTION + (int)k};
                }
        return o;
}

/* A verb's option, before the verb is known: every verb that takes it keeps it (only the one
 * that runs reads it). Returns 0, or the exit status its check reported. */
static int keep_verb_option(struct cli *cli, const char *name, const char *value)
{
        for (size_t i = 0; i < ELEMENTSOF(verbs); i++) {
                const struct verb_option *o = verb_option_find(verbs[i], name);
                int r = 0;

                if (!o)
                        continue;
                if (o->flag)
                        *o->flag = true;
                else if (o->string)
                        *o->string = value;
                else if (o->parse)
                        r = o->parse(cli, value);
                if (r != 0)
                        return r;
        }
        return 0;
}

/* A verb's option given to a verb that does not take it: the first, as typed. */
static int check_verb_options(const struct verb *v, const struct strv *given)
{
        for (size_t i = 0; i < given->n; i++)
                if (!verb_option_find(v, given->v[i]))
                        return cli_error("option --%s does not apply to \"%s\" (see gpu-handoff %s --help)",
                                         given->v[i], v->name, v->name);
        return 0;
}

/* Run by libvirt as a hook file: "VM OP SUBOP EXTRA" become "gpu-handoff -- hook VM OP ...",
 * so that a VM name starting with '-' is not taken for an option. */
static char **hook_argv(int argc, char **argv, int *ret_argc)
{
        char **v = calloc((size_t)argc + 3, sizeof(*v));

        if (!v)
                return NULL;
        v[0] = argv[0];
        v[1] = (char *)"--";
        v[2] = (char *)"hook";
        for (int i = 1; i < argc; i++)
                v[i + 2] = argv[i];
        *ret_argc = argc + 2;
        return v;
}

/* gpu-handoff hook VM OP SUBOP [EXTRA], as libvirt's words reach it through a hook script's
 * `gpu-handoff hook "$@"`: those words are never options, whatever the VM is called ("-h",
 * "--root=/tmp"). "hook install --json" and "hook --help" are not such a call. */
static bool is_libvirt_hook_call(int argc, char **argv, int verb)
{
        return strcmp(argv[verb], "hook") == 0 && argc - verb - 1 >= 3 && argv[verb + 2][0] != '-';
}

int main(int argc, char **argv)
{
        /* static: the process's to the end, not a leak */
        static struct option *options;
        static struct strv given; /* the verbs' options, as typed */
        struct cli cli = {};
        const struct verb *v;
        bool help = false;
        char q[QUOTE_BUF], *root_shown;
        int c, r, nargs;

        /* The character set only: what a name may print as (libsmartcols asks). Messages,
         * numbers and sorting stay as in C, so that output does not depend on the user's language. */
        setlocale(LC_CTYPE, "");
        if (invoked_as_hook(argv[0])) {
                argv = hook_argv(argc, argv, &argc); /* lives as long as the process */
                if (!argv)
                        return cli_error("out of memory");
        }
        options = all_options();
        if (!options)
                return EXIT_ERROR; /* reported */
        opterr = 0;
        /* First the options before the verb ("+": stop there); then, unless the verb is a libvirt
         * hook call, all of them again, now in any place (optind = 0 starts getopt over). */
        const char *optstring = "+:h";
        for (;;) {
                c = getopt_long(argc, argv, optstring, options, NULL);
                if (c < 0) {
                        if (optstring[0] != '+' || optind >= argc || is_libvirt_hook_call(argc, argv, optind))
                                break;
                        optstring = ":h";
                        optind = 0;
                        strv_done(&given); /* seen again in this pass */
                        continue;
                }
                switch (c) {
                case ARG_ROOT:
                        cli.root = optarg;
                        break;
                case ARG_JSON:
                        cli.json = true;
                        break;
                case ARG_QUIRKS:
                        cli.quirks_path = optarg;
                        break;
                case ARG_PCI_IDS:
                        cli.pci_ids = optarg;
                        break;
                case 'h':
                        help = true;
                        break;
                case ARG_VERSION:
                        printf("gpu-handoff %s\n", PACKAGE_VERSION);
                        return EXIT_OK;
                case ':':
                        return cli_error("option %s needs a value (see gpu-handoff --help)", quote(argv[optind - 1], q));
                default:
                        if (c < ARG_VERB_OPTION)
                                return cli_error("unknown option %s (see gpu-handoff --help)",
                                                 quote(argv[optind - 1], q));
                        /* a verb's option, whichever verb this turns out to be: checked below */
                        if (strv_addf(&given, "%s", options[c - ARG_VERB_OPTION].name) < 0)
                                return cli_error("out of memory");
                        r = keep_verb_option(&cli, options[c - ARG_VERB_OPTION].name, optarg);
                        if (r != 0)
                                return r;
                        break;
                }
        }
        if (optind >= argc) {
                print_usage(help ? stdout : stderr);
                return help ? EXIT_OK : EXIT_ERROR;
        }
        v = find_verb(argv[optind]);
        if (!v)
                return cli_error("unknown verb \"%s\" (see gpu-handoff --help)", quote(argv[optind], q));
        if (help) {
                verb_print_help(stdout, v);
                return EXIT_OK;
        }
        nargs = argc - optind - 1;
        if (nargs < v->min_args || nargs > v->max_args) {
                if (v->max_args == 0)
                        return cli_error("\"%s\" takes no arguments, got \"%s\" (see gpu-handoff %s --help)", v->name,
                                         quote(argv[optind + 1], q), v->name);
                return cli_error("\"%s\" takes %d to %d arguments, got %d (see gpu-handoff %s --help)", v->name,
                                 v->min_args, v->max_args, nargs, v->name);
        }
        if (check_verb_options(v, &given))
                return EXIT_ERROR;

        if (cli.root && !*cli.root)
                return cli_error("--root: the path is empty; expected a directory holding the machine's sys/, proc/ "
                                 "and dev/ (leave --root out for this machine)");
        if (!cli.root) {
                const char *env = getenv("GPU_HANDOFF_ROOT");
                /* Set but empty is a script's unset variable, not a wish for this machine. */
                if (env && !*env)
                        return cli_error("GPU_HANDOFF_ROOT is set but empty; expected a directory holding the "
                                         "machine's sys/, proc/ and dev/ (unset it for this machine)");
                cli.root = env ? env : "/";
        }
        r = sysroot_open(cli.root, &cli.sr);
        if (r == -EOPNOTSUPP)
                return cli_error("--root %s: this kernel cannot keep paths inside it (openat2 is missing or blocked by "
                                 "a seccomp filter; Linux 5.6 or later needed), so a fake tree is refused",
                                 quote(cli.root, q));
        if (r < 0)
                return cli_error("--root %s: %s (expected a directory holding the machine's sys/, proc/ and dev/)",
                                 quote(cli.root, q), strerror(-r));
        /* From here on the root is only named in messages: escaped. */
        root_shown = quote_dup(cli.root, SIZE_MAX);
        if (!root_shown) {
                sysroot_free(cli.sr);
                return cli_error("out of memory");
        }
        cli.root = root_shown;
        r = v->run(&cli, nargs, argv + optind + 1);
        sysroot_free(cli.sr);
        free(root_shown);
        if (fflush(stdout) != 0 || ferror(stdout))
                return cli_error("cannot write output: %s", strerror(errno));
        return r;
}
