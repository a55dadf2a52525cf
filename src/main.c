/*
 * main.c: the ringfence command line.
 *
 * Each command is one function; the table at the bottom dispatches.  This
 * is the boundary where errors become messages and exit codes: 0 success,
 * 1 runtime failure, 2 usage or policy error.
 */
#include <errno.h>
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "daemon/control.h"
#include "daemon/daemon.h"
#include "diag.h"
#include "docker/docker.h"
#include "log.h"
#include "model/model.h"
#include "firewalld/firewalld.h"
#include "nft/apply.h"
#include "nft/dockeruser.h"
#include "nft/load.h"
#include "nft/render.h"
#include "util.h"

#define DEFAULT_POLICY	"/etc/ringfence/ringfence.conf"

enum {
	EXIT_OK = 0,
	EXIT_RUNTIME = 1,
	EXIT_USAGE = 2,
};

static const char usage_text[] =
"usage: ringfence [ -f FILE ] { check | plan | apply | flush }\n"
"       ringfence [ -f FILE ] daemon [ --docker-socket PATH ]\n"
"                 [ --control-socket PATH ] [ --log-level LEVEL ]\n"
"       ringfence status [ --json ] [ --control-socket PATH ]\n"
"       ringfence reload [ --control-socket PATH ]\n"
"       ringfence { -h | --help | -V | --version }\n"
"\n"
"FILE  := policy file (default " DEFAULT_POLICY ")\n"
"LEVEL := { error | warning | info | debug }\n"
"\n"
"  check   parse and validate the policy; report every error\n"
"  plan    print the nftables ruleset that apply would load\n"
"  apply   load that ruleset atomically, replacing ringfence's previous one\n"
"  flush   remove everything ringfence installed\n"
"  daemon  keep the policy in force, following Docker's containers\n"
"  status  show what the daemon confines and how it is doing\n"
"  reload  make the daemon read the policy again (as SIGHUP does)\n"
"\n"
"The Docker socket is " DOCKER_DEFAULT_SOCKET ", or DOCKER_HOST=unix://PATH.\n"
"The policy language is described in ringfence.conf(5).\n";

struct cli {
	const char	*policy_path;
	const char	*docker_socket;
	const char	*control_socket;
	bool		 json;
	int		 log_level;
};

static size_t
count_rules(const struct rf_model *m)
{
	size_t i, n = 0;

	for (i = 0; i < m->ncontainers; i++)
		n += m->containers[i].nrules;
	return n;
}

/* Load and compile; on any problem print it and return EXIT_USAGE. */
static int
load_policy(const struct cli *cli, struct rf_model *m)
{
	struct rf_diags diags;
	int r;

	diags_init(&diags);
	r = model_load(cli->policy_path, m, &diags);
	diags_print(&diags, stderr);
	if (r < 0 && diags.nerrors)
		fprintf(stderr, "ringfence: %u error%s in %s; nothing was "
		    "changed\n", diags.nerrors, diags.nerrors == 1 ? "" : "s",
		    cli->policy_path);
	diags_free(&diags);
	return r < 0 ? EXIT_USAGE : EXIT_OK;
}

static int
cmd_check(const struct cli *cli)
{
	struct rf_model m;
	int r;

	r = load_policy(cli, &m);
	if (r == EXIT_OK)
		printf("%s: ok, %zu container%s, %zu allow rule%s\n",
		    cli->policy_path, m.ncontainers,
		    m.ncontainers == 1 ? "" : "s", count_rules(&m),
		    count_rules(&m) == 1 ? "" : "s");
	model_free(&m);
	return r;
}

static int
cmd_plan(const struct cli *cli)
{
	struct rf_model m;
	struct strbuf sb;
	int r;

	r = load_policy(cli, &m);
	if (r == EXIT_OK) {
		strbuf_init(&sb);
		render_ruleset(&m, NULL, &sb);
		fwrite(sb.buf, 1, sb.len, stdout);
		strbuf_free(&sb);
	}
	model_free(&m);
	return r;
}

/* firewalld on the system bus, or NULL when there is none. */
static struct firewalld *
firewalld_connect(void)
{
	struct firewalld *fw;

	if (firewalld_open(&fw) < 0)
		return NULL;
	if (!firewalld_running(fw)) {
		firewalld_close(fw);
		return NULL;
	}
	return fw;
}

/*
 * firewalld must accept forwarded traffic to the confined addresses and
 * to nothing else: its ipsets are narrowed before the load and set after.
 */
static int
apply_model(const struct rf_model *m)
{
	const char *fault = getenv("RINGFENCE_FAULT_INJECT");
	struct firewalld *fw = firewalld_connect();
	struct firewalld_entries want;
	char *err = NULL;
	struct strbuf sb;
	int r = 0;

	firewalld_entries_from_model(m, &want);
	if (fw)
		r = firewalld_narrow(fw, &want, &err);

	strbuf_init(&sb);
	render_ruleset(m, NULL, &sb);
	if (fault && !strcmp(fault, "kernel-refuse"))
		strbuf_puts(&sb, ruleset_fault_loop);
	if (r == 0)
		r = ruleset_apply(sb.buf, &err);
	strbuf_free(&sb);

	if (r == 0 && fw) {
		r = firewalld_sync(fw, &want, &err);
		if (r < 0)
			fprintf(stderr, "ringfence: the ruleset is in force, "
			    "but firewalld still rejects forwarded traffic to "
			    "new confined addresses\n");
	}
	if (r < 0)
		fprintf(stderr, "ringfence: %s\n", err);
	free(err);
	firewalld_entries_free(&want);
	firewalld_close(fw);
	return r;
}

static int
cmd_apply(const struct cli *cli)
{
	struct rf_model m;
	double start = monotonic_ms();
	int r;

	r = load_policy(cli, &m);
	if (r != EXIT_OK) {
		model_free(&m);
		return r;
	}
	r = apply_model(&m) < 0 ? EXIT_RUNTIME : EXIT_OK;
	if (r == EXIT_OK)
		printf("ringfence: applied %s: %zu container%s, %zu allow "
		    "rule%s in %.0f ms\n", cli->policy_path, m.ncontainers,
		    m.ncontainers == 1 ? "" : "s", count_rules(&m),
		    count_rules(&m) == 1 ? "" : "s", monotonic_ms() - start);
	model_free(&m);
	return r;
}

static int
cmd_flush(const struct cli *cli)
{
	struct firewalld *fw;
	char *err = NULL;
	struct strbuf sb;
	int r, status = EXIT_OK;

	(void)cli;
	/* firewalld first: it must not accept for addresses nobody filters. */
	fw = firewalld_connect();
	if (fw && firewalld_remove(fw, &err) < 0) {
		fprintf(stderr, "ringfence: %s\n", err);
		free(err);
		err = NULL;
		status = EXIT_RUNTIME;
	}
	firewalld_close(fw);

	strbuf_init(&sb);
	render_flush(&sb);
	r = nft_load(sb.buf, &err);
	strbuf_free(&sb);
	if (r < 0) {
		fprintf(stderr, "ringfence: cannot remove table %s %s: %s\n",
		    RF_TABLE_FAMILY, RF_TABLE_NAME, err);
		free(err);
		err = NULL;
		status = EXIT_RUNTIME;
	}
	if (dockeruser_remove(&err) < 0) {
		fprintf(stderr, "ringfence: %s\n", err);
		free(err);
		status = EXIT_RUNTIME;
	}
	return status;
}

static int
cmd_daemon(const struct cli *cli)
{
	struct daemon_options opts = {
		.policy_path = cli->policy_path,
		.docker_socket = cli->docker_socket,
		.control_socket = cli->control_socket,
	};

	log_init((enum log_level)cli->log_level);
	return daemon_run(&opts);
}

static int
call_daemon(const struct cli *cli, const char *request)
{
	int r = control_call(cli->control_socket, request);

	if (r < 0) {
		fprintf(stderr, "ringfence: cannot reach the daemon at %s: "
		    "%s\n", cli->control_socket, strerror(-r));
		return EXIT_RUNTIME;
	}
	return r;
}

static int
cmd_status(const struct cli *cli)
{
	return call_daemon(cli, cli->json ? "status json" : "status");
}

static int
cmd_reload(const struct cli *cli)
{
	return call_daemon(cli, "reload");
}

/* DOCKER_HOST=unix:///path names the socket; other schemes are not ours. */
static const char *
docker_socket_from_env(void)
{
	const char *host = getenv("DOCKER_HOST");

	if (host && !strncmp(host, "unix://", 7) && host[7])
		return host + 7;
	return DOCKER_DEFAULT_SOCKET;
}

static const struct {
	const char	*name;
	int		(*run)(const struct cli *);
} commands[] = {
	{ "check",	cmd_check },
	{ "plan",	cmd_plan },
	{ "apply",	cmd_apply },
	{ "flush",	cmd_flush },
	{ "daemon",	cmd_daemon },
	{ "status",	cmd_status },
	{ "reload",	cmd_reload },
};

static int
usage_error(const char *what, const char *arg)
{
	fprintf(stderr, "ringfence: %s%s%s\n\n%s", what, arg ? " " : "",
	    arg ? arg : "", usage_text);
	return EXIT_USAGE;
}

int
main(int argc, char **argv)
{
	enum { OPT_DOCKER = 256, OPT_CONTROL, OPT_LOG, OPT_JSON };
	static const struct option longopts[] = {
		{ "file",		required_argument,	NULL, 'f' },
		{ "docker-socket",	required_argument,	NULL, OPT_DOCKER },
		{ "control-socket",	required_argument,	NULL, OPT_CONTROL },
		{ "log-level",		required_argument,	NULL, OPT_LOG },
		{ "json",		no_argument,		NULL, OPT_JSON },
		{ "help",		no_argument,		NULL, 'h' },
		{ "version",		no_argument,		NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli cli = {
		.policy_path = DEFAULT_POLICY,
		.docker_socket = docker_socket_from_env(),
		.control_socket = DEFAULT_CONTROL_SOCKET,
		.log_level = LOG_LEVEL_INFO,
	};
	size_t i;
	int c;

	/* Options may stand before or after the command. */
	opterr = 0;
	while ((c = getopt_long(argc, argv, "f:hV", longopts, NULL)) != -1) {
		switch (c) {
		case 'f':
			cli.policy_path = optarg;
			break;
		case OPT_DOCKER:
			cli.docker_socket = optarg;
			break;
		case OPT_CONTROL:
			cli.control_socket = optarg;
			break;
		case OPT_JSON:
			cli.json = true;
			break;
		case OPT_LOG:
			cli.log_level = log_level_parse(optarg);
			if (cli.log_level < 0)
				return usage_error("unknown log level", optarg);
			break;
		case 'h':
			fputs(usage_text, stdout);
			return EXIT_OK;
		case 'V':
			puts("ringfence " RINGFENCE_VERSION);
			return EXIT_OK;
		default:
			return usage_error("unknown or incomplete option",
			    argv[optind - 1]);
		}
	}
	if (optind >= argc)
		return usage_error("a command is required", NULL);
	if (optind + 1 < argc)
		return usage_error("unexpected argument", argv[optind + 1]);

	for (i = 0; i < ARRAY_SIZE(commands); i++)
		if (!strcmp(argv[optind], commands[i].name))
			return commands[i].run(&cli);
	return usage_error("unknown command", argv[optind]);
}
