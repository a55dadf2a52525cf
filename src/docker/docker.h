/*
 * docker.h: what ringfence needs from the Docker Engine API.
 *
 * The client speaks HTTP over Docker's unix socket (http.c) with a pinned
 * API version, and parses JSON with jansson.  Everything Docker says is
 * untrusted: names, labels and interface names are checked here, and only
 * values that passed are handed on.  Nothing from Docker is ever rendered
 * into nft text except addresses (parsed into binary form) and bridge
 * interface names (checked against a strict pattern).
 */
#ifndef RF_DOCKER_H
#define RF_DOCKER_H

#include <stdbool.h>
#include <stddef.h>

#include "model/addr.h"

/* Engine API version ringfence speaks; Docker 20.10 and later serve it. */
#define DOCKER_API_VERSION	"v1.41"
#define DOCKER_DEFAULT_SOCKET	"/var/run/docker.sock"

/* Bounds on what Docker may make us hold. */
#define DOCKER_MAX_NAME		128	/* container names, as the policy */
#define DOCKER_MAX_LABEL	4096	/* key or value; longer: ignored */
#define DOCKER_MAX_RESPONSE	(64u << 20)	/* one HTTP response body */
/* More containers or networks: the listing is refused. */
#define DOCKER_MAX_CONTAINERS	100000
#define DOCKER_MAX_NETWORKS	100000
/* More labels or networks on one container: the container is left out. */
#define DOCKER_MAX_LABELS	4096
#define DOCKER_MAX_ATTACH	1024
/* One line of the event stream; longer: dropped, and the owner told. */
#define DOCKER_MAX_EVENT	(1u << 20)

struct docker_label {
	char	*key;
	char	*value;
};

/* A container's attachment to one network. */
struct docker_attachment {
	char			*network_id;	/* 64 hex digits */
	char			*network_name;	/* NULL unless it fits
						 * the name rules */
	bool			 has_v4;
	struct rf_prefix	 v4;		/* one address, len 32 */
	bool			 has_v6;
	struct rf_prefix	 v6;		/* one address, len 128 */
};

struct docker_container {
	char			  *id;		/* 64 hex digits */
	char			  *name;	/* without Docker's leading '/';
						 * NULL if Docker's name does not
						 * fit the policy's name rules */
	struct docker_label	  *labels;	/* sorted by key */
	size_t			   nlabels;
	struct docker_attachment *nets;		/* by network_id */
	size_t			   nnets;
};

struct docker_network {
	char	*id;		/* 64 hex digits */
	char	*name;		/* NULL unless it fits name rules */
	char	*bridge;	/* host interface, e.g. "docker0" or "br-<id12>";
				 * NULL unless driver is "bridge" and the name
				 * passed the interface-name check */
};

/*
 * A consistent picture of running containers and their networks, each
 * array sorted by id with no id twice.  Two containers claiming one name
 * both get name NULL.  An entry Docker described badly (an id that is not
 * 64 hex digits, a field of the wrong JSON type, too many labels) is left
 * out with a warning; an unusable address is left out of its attachment.
 */
struct docker_inventory {
	struct docker_container	*containers;
	size_t			 ncontainers;
	struct docker_network	*networks;
	size_t			 nnetworks;
};

/*
 * Read every running container (GET /containers/json) and every network
 * (GET /networks) through the socket at socket_path.  Returns 0, or a
 * negative errno with *ret_error set (to be freed): -ECONNREFUSED,
 * -ENOENT or -EACCES when Docker is not there, -ETIMEDOUT when it does
 * not answer within 10 s, -EPROTO for a bad answer (also an HTTP status
 * other than 200), -ENAMETOOLONG for a socket path over 107 bytes.
 */
int docker_inventory_load(const char *socket_path,
	struct docker_inventory *ret, char **ret_error);
void docker_inventory_free(struct docker_inventory *inv);

/*
 * The parsing half of docker_inventory_load(): the bodies of the two
 * answers in, the inventory out.  For tests and fuzzing.
 */
int docker_inventory_parse(const char *containers_json, size_t containers_len,
	const char *networks_json, size_t networks_len,
	struct docker_inventory *ret, char **ret_error);

/* The value of a label, or NULL. */
const char *docker_label(const struct docker_container *c, const char *key);

/*
 * The event stream.  docker_events_start() runs a thread that holds
 * GET /events open (container and network events), and reconnects with
 * backoff (100 ms doubling to 5 s) when it ends or fails.  Each time a
 * relevant event arrives, and each time the stream (re)connects, it writes
 * to the eventfd notify_fd, so the owner resynchronises with a full
 * docker_inventory_load().  The thread never touches anything else.
 */
struct docker_events;

int docker_events_start(const char *socket_path, int notify_fd,
	struct docker_events **ret);
void docker_events_stop(struct docker_events *ev);

/*
 * Whether the stream is connected now: the daemon reports it in status
 * and logs transitions.
 */
bool docker_events_connected(const struct docker_events *ev);

#endif
