/*
 * daemon.h: ringfence as a service that follows Docker.
 */
#ifndef RF_DAEMON_H
#define RF_DAEMON_H

#define DEFAULT_CONTROL_SOCKET	"/run/ringfence/ringfence.sock"

struct daemon_options {
	const char	*policy_path;
	const char	*docker_socket;
	const char	*control_socket;
};

/*
 * Run until SIGTERM or SIGINT; the rules stay in force afterwards.
 * Returns an exit status: 0, 1 on a runtime failure, 2 when the policy is
 * invalid at start.
 */
int daemon_run(const struct daemon_options *opts);

#endif
