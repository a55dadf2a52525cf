/*
 * dockeruser.c: the DOCKER-USER rule, through the iptables programs.
 *
 * Why the programs and not libnftables: Docker may run on the legacy
 * iptables backend, which netlink for nftables cannot see, and with
 * iptables-nft a rule written natively could be a form iptables-nft does
 * not parse back, which would break Docker's own iptables calls.  The
 * iptables binary speaks whichever backend Docker uses.  Every argument
 * vector is a constant: no data from the policy or elsewhere reaches it,
 * and no shell is involved.
 */
#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nft/dockeruser.h"
#include "nft/render.h"
#include "util.h"

#define CHAIN		"DOCKER-USER"
#define MAX_STDERR	4096

static const char *const programs[2][3] = {
	{ "/usr/sbin/iptables", "/sbin/iptables", NULL },
	{ "/usr/sbin/ip6tables", "/sbin/ip6tables", NULL },
};

static const char *const child_env[] = {
	"PATH=/usr/sbin:/usr/bin:/sbin:/bin", "LC_ALL=C", NULL,
};

/* The rule after "-X CHAIN"; the same words for -C, -I and -D. */
#define RULE_WORDS \
	"-m", "mark", "--mark", RF_MARK_STR "/" RF_MARK_STR, \
	"-m", "comment", "--comment", "ringfence", "-j", "ACCEPT"

static const char *
program(int fam)
{
	size_t i;

	for (i = 0; programs[fam][i]; i++)
		if (access(programs[fam][i], X_OK) == 0)
			return programs[fam][i];
	return NULL;
}

/*
 * Run path with argv; returns its exit status, or a negative errno.
 * Its stderr is kept in *ret_stderr when that is not NULL.
 */
static int
run(const char *path, const char *const argv[], char **ret_stderr)
{
	posix_spawn_file_actions_t fa;
	struct strbuf err;
	int pipefd[2], status, r;
	char buf[512];
	ssize_t n;
	pid_t pid;

	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return -errno;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, pipefd[1], 2);
	r = posix_spawn(&pid, path, &fa, NULL, (char *const *)argv,
	    (char *const *)child_env);
	posix_spawn_file_actions_destroy(&fa);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		return -r;
	}

	strbuf_init(&err);
	while ((n = read(pipefd[0], buf, sizeof(buf))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (err.len < MAX_STDERR)
			strbuf_add(&err, buf, (size_t)n);
	}
	close(pipefd[0]);

	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR) {
			strbuf_free(&err);
			return -errno;
		}
	if (ret_stderr) {
		while (err.len && err.buf[err.len - 1] == '\n')
			err.buf[--err.len] = '\0';
		*ret_stderr = err.buf;
	} else {
		strbuf_free(&err);
	}
	if (!WIFEXITED(status))
		return -EINTR;
	return WEXITSTATUS(status);
}

static bool
chain_exists(const char *path)
{
	const char *const argv[] = { path, "-w", "5", "-S", CHAIN, NULL };

	return run(path, argv, NULL) == 0;
}

static bool
rule_exists(const char *path)
{
	const char *const argv[] = {
		path, "-w", "5", "-C", CHAIN, RULE_WORDS, NULL,
	};

	return run(path, argv, NULL) == 0;
}

static int
change(const char *path, bool insert, char **ret_error)
{
	const char *const ins[] = {
		path, "-w", "5", "-I", CHAIN, "1", RULE_WORDS, NULL,
	};
	const char *const del[] = {
		path, "-w", "5", "-D", CHAIN, RULE_WORDS, NULL,
	};
	char *err = NULL;
	int r;

	r = run(path, insert ? ins : del, &err);
	if (r == 0) {
		free(err);
		return 0;
	}
	*ret_error = xasprintf("%s %s DOCKER-USER rule: %s", path,
	    insert ? "could not add the" : "could not delete the",
	    r < 0 ? strerror(-r) : err);
	free(err);
	return -EIO;
}

int
dockeruser_ensure(struct dockeruser_state *ret, char **ret_error)
{
	struct dockeruser_state st = { { false, false } };
	int fam, r;

	for (fam = 0; fam < 2; fam++) {
		const char *path = program(fam);

		/* No iptables or no chain: Docker is not filtering here. */
		if (!path || !chain_exists(path) || rule_exists(path))
			continue;
		r = change(path, true, ret_error);
		if (r < 0) {
			dockeruser_undo(&st);
			return r;
		}
		st.added[fam] = true;
	}
	*ret = st;
	return 0;
}

void
dockeruser_undo(const struct dockeruser_state *st)
{
	char *err = NULL;
	int fam;

	for (fam = 0; fam < 2; fam++) {
		const char *path = program(fam);

		if (st->added[fam] && path && change(path, false, &err) < 0) {
			/* The caller already reports the first failure. */
			free(err);
			err = NULL;
		}
	}
}

int
dockeruser_remove(char **ret_error)
{
	int fam, tries, r;

	for (fam = 0; fam < 2; fam++) {
		const char *path = program(fam);

		if (!path || !chain_exists(path))
			continue;
		/* Bounded: a copy added by hand is removed too. */
		for (tries = 0; tries < 16 && rule_exists(path); tries++) {
			r = change(path, false, ret_error);
			if (r < 0)
				return r;
		}
	}
	return 0;
}
