/*
 * events.c: a thread that follows Docker's event stream and only says
 * "look again".  The owner answers every notification with a full listing,
 * so the thread never needs to understand an event beyond whether it can
 * change the inventory, and when in doubt it notifies.
 */
#include <errno.h>
#include <fcntl.h>
#include <jansson.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "docker/docker.h"
#include "docker/http.h"
#include "log.h"
#include "util.h"

#define BACKOFF_MIN_MS	100
#define BACKOFF_MAX_MS	5000
/* A stream that stayed up this long starts the backoff over. */
#define STABLE_MS	BACKOFF_MAX_MS

/*
 * The thread's stack.  jansson's parser recurses once per nesting level,
 * up to 2048 levels (about 190 KiB, more under ASan); events nested
 * deeper than EVENT_MAX_DEPTH never reach it, so this is a wide margin.
 * Only the pages touched count as resident, but 8 MiB is glibc's default.
 */
#define EVENTS_STACK	(512u << 10)
#define EVENT_MAX_DEPTH	32	/* Docker's events nest 3 levels */

/* Filtered by Docker already; checked again in event_relevant(). */
#define EVENTS_FILTER	"{\"type\":[\"container\",\"network\"]," \
	"\"event\":[\"start\",\"die\",\"stop\",\"destroy\",\"rename\"," \
	"\"connect\",\"disconnect\",\"create\",\"remove\"]}"

struct docker_events {
	char		*socket_path;
	char		*path;		/* /events?filters=... */
	int		 notify_fd;
	int		 wake[2];	/* stop writes, the thread polls */
	pthread_t	 thread;
	atomic_bool	 stop;
	atomic_bool	 connected;

	/* The rest belongs to the thread. */
	int		 inotify_fd;	/* on the socket's directory */
	struct strbuf	 line;		/* the event read so far */
	bool		 discarding;	/* inside an over-long line */
	struct docker_http http;	/* this attempt */
};

static void
events_notify(struct docker_events *ev)
{
	uint64_t one = 1;

	/* EAGAIN: the counter is full, so the owner has plenty to read. */
	while (write(ev->notify_fd, &one, sizeof(one)) < 0 && errno == EINTR)
		;
}

static bool
in_list(const char *s, const char *const *list)
{
	for (; *list; list++)
		if (!strcmp(s, *list))
			return true;
	return false;
}

/* Whether JSON text nests arrays and objects deeper than max. */
static bool
nests_deeper(const char *s, size_t len, unsigned max)
{
	bool in_string = false;
	unsigned depth = 0;
	size_t i;

	for (i = 0; i < len; i++) {
		if (in_string) {
			if (s[i] == '\\')
				i++;
			else if (s[i] == '"')
				in_string = false;
		} else if (s[i] == '"') {
			in_string = true;
		} else if (s[i] == '[' || s[i] == '{') {
			if (++depth > max)
				return true;
		} else if ((s[i] == ']' || s[i] == '}') && depth > 0) {
			depth--;
		}
	}
	return false;
}

/*
 * Whether an event can change the inventory.  Container creation is not
 * enough (no addresses yet), nor are exec, health and the like.
 */
static bool
event_relevant(const char *line, size_t len)
{
	static const char *const container_actions[] = {
		"start", "die", "stop", "destroy", "rename", NULL,
	};
	static const char *const network_actions[] = {
		"connect", "disconnect", "create", "destroy", "remove", NULL,
	};
	const char *type, *action;
	bool relevant = true;
	json_t *root;

	if (nests_deeper(line, len, EVENT_MAX_DEPTH)) {
		log_debug("Docker sent an event nested deeper than %d levels; "
		    "looking again", EVENT_MAX_DEPTH);
		return true;
	}
	root = json_loadb(line, len, 0, NULL);
	type = json_string_value(json_object_get(root, "Type"));
	action = json_string_value(json_object_get(root, "Action"));
	if (!root)
		log_debug("Docker sent an event that is not JSON; looking "
		    "again");
	else if (!type || !action)
		log_debug("Docker sent an event without Type and Action; "
		    "looking again");
	else if (!strcmp(type, "container"))
		relevant = in_list(action, container_actions);
	else if (!strcmp(type, "network"))
		relevant = in_list(action, network_actions);
	else
		relevant = false;
	json_decref(root);
	return relevant;
}

static void
line_reset(struct docker_events *ev)
{
	/* Give back what an over-long line made us hold. */
	if (ev->line.cap > 65536) {
		strbuf_free(&ev->line);
		strbuf_init(&ev->line);
	}
	ev->line.len = 0;
	ev->line.buf[0] = '\0';
}

/* Split the stream into lines, one JSON object each. */
static void
events_split(struct docker_events *ev, const char *data, size_t len)
{
	const char *p = data, *end = data + len, *nl;
	size_t seg;

	while (p < end) {
		nl = memchr(p, '\n', (size_t)(end - p));
		seg = (size_t)((nl ? nl : end) - p);
		if (!ev->discarding && seg > DOCKER_MAX_EVENT - ev->line.len) {
			log_warn("Docker sent an event longer than %u bytes; "
			    "dropped it and looking again", DOCKER_MAX_EVENT);
			ev->discarding = true;
			line_reset(ev);
			events_notify(ev);
		}
		if (!ev->discarding)
			strbuf_add(&ev->line, p, seg);
		if (!nl)
			break;
		if (!ev->discarding && ev->line.len > 0 &&
		    event_relevant(ev->line.buf, ev->line.len))
			events_notify(ev);
		ev->discarding = false;
		line_reset(ev);
		p = nl + 1;
	}
}

/* The stream is up: whatever happened while we were away, look again. */
static void
events_up(struct docker_events *ev)
{
	atomic_store(&ev->connected, true);
	log_info("connected to Docker at %s", ev->socket_path);
	events_notify(ev);
}

/*
 * One attempt: connect, follow the stream until it ends or stop is asked.
 * Returns whether the stream came up, with *ret_reason set when it ended
 * other than by stop.
 */
static bool
events_follow(struct docker_events *ev, char **ret_reason)
{
	struct docker_http *h = &ev->http;
	const char *data;
	bool up = false;
	size_t len;
	int r;

	*ret_reason = NULL;
	ev->discarding = false;
	line_reset(ev);
	r = docker_http_open(h, ev->socket_path, ev->path, ev->wake[0],
	    ret_reason);
	if (r == 0 && h->status != 200) {
		*ret_reason = xasprintf("Docker answered GET %s with HTTP %d",
		    "/events", h->status);
		docker_http_close(h);
		return false;
	}
	if (r < 0)
		goto out;

	events_up(ev);
	up = true;
	h->deadline = 0;	/* a stream may stay quiet for days */
	while ((r = docker_http_read(h, &data, &len, ret_reason)) > 0)
		events_split(ev, data, len);
	if (r == 0)
		*ret_reason = xstrdup("Docker closed it");
	docker_http_close(h);
out:
	if (r == -ECANCELED) {
		free(*ret_reason);	/* stop was asked: nothing to say */
		*ret_reason = NULL;
	}
	return up;
}

/*
 * Watch the socket's directory: dockerd creates its socket anew when it
 * starts, and seeing that cuts the wait short, so a long backoff does not
 * keep us away from a Docker that is back.
 */
static void
watch_open(struct docker_events *ev)
{
	char *dir = xstrdup(ev->socket_path), *slash = strrchr(dir, '/');

	ev->inotify_fd = -1;
	if (slash == dir)
		slash[1] = '\0';
	else if (slash)
		*slash = '\0';
	else
		strcpy(dir, ".");
	ev->inotify_fd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ev->inotify_fd >= 0 && inotify_add_watch(ev->inotify_fd, dir,
	    IN_CREATE | IN_MOVED_TO) < 0) {
		log_debug("cannot watch %s for Docker's socket: %s", dir,
		    strerror(errno));
		close(ev->inotify_fd);
		ev->inotify_fd = -1;
	}
	free(dir);
}

/* Whether the pending inotify events name the socket. */
static bool
watch_saw_socket(struct docker_events *ev)
{
	union {
		struct inotify_event	ie;
		char			buf[4096];
	} u;
	const char *base = strrchr(ev->socket_path, '/');
	const struct inotify_event *ie;
	bool seen = false;
	ssize_t n;
	char *p;

	base = base ? base + 1 : ev->socket_path;
	while ((n = read(ev->inotify_fd, u.buf, sizeof(u.buf))) > 0)
		for (p = u.buf; p < u.buf + n; p += sizeof(*ie) + ie->len) {
			ie = (const struct inotify_event *)p;
			if (ie->len > 0 && !strcmp(ie->name, base))
				seen = true;
		}
	return seen;
}

/*
 * Sleep ms unless stop is asked (returns true) or Docker's socket
 * appears (sets *ret_appeared).
 */
static bool
events_sleep(struct docker_events *ev, unsigned ms, bool *ret_appeared)
{
	long long deadline = (long long)monotonic_ms() + ms, left;
	struct pollfd pfd[2] = {
		{ .fd = ev->wake[0], .events = POLLIN },
		{ .fd = ev->inotify_fd, .events = POLLIN },
	};

	*ret_appeared = false;
	while (!atomic_load(&ev->stop)) {
		left = deadline - (long long)monotonic_ms();
		if (left <= 0)
			break;
		if (poll(pfd, ev->inotify_fd >= 0 ? 2 : 1, (int)left) < 0 &&
		    errno != EINTR)
			break;
		if (ev->inotify_fd >= 0 && (pfd[1].revents & POLLIN) &&
		    watch_saw_socket(ev)) {
			*ret_appeared = true;
			break;
		}
	}
	return atomic_load(&ev->stop);
}

static void *
events_main(void *arg)
{
	struct docker_events *ev = arg;
	unsigned delay = BACKOFF_MIN_MS;
	bool quiet = false;	/* the current outage is already logged */
	bool up, appeared;
	long long started;
	char *reason;

	watch_open(ev);
	while (!atomic_load(&ev->stop)) {
		started = (long long)monotonic_ms();
		up = events_follow(ev, &reason);
		atomic_store(&ev->connected, false);
		/* The owner stops trusting what it knew of Docker. */
		if (up)
			events_notify(ev);
		if (atomic_load(&ev->stop)) {
			free(reason);
			break;
		}
		if (up) {
			quiet = false;
			if ((long long)monotonic_ms() - started >= STABLE_MS)
				delay = BACKOFF_MIN_MS;
		}
		if (!quiet && up)
			log_warn("lost Docker event stream: %s; retrying in "
			    "%u ms", reason, delay);
		else if (!quiet)
			log_warn("no Docker event stream: %s; retrying in %u "
			    "ms", reason, delay);
		else
			log_debug("still no Docker event stream: %s; "
			    "retrying in %u ms", reason, delay);
		quiet = true;
		free(reason);
		if (events_sleep(ev, delay, &appeared))
			break;
		if (appeared) {
			log_debug("Docker's socket %s appeared",
			    ev->socket_path);
			delay = BACKOFF_MIN_MS;
		} else {
			delay = delay * 2 < BACKOFF_MAX_MS ? delay * 2 :
			    BACKOFF_MAX_MS;
		}
	}
	if (ev->inotify_fd >= 0)
		close(ev->inotify_fd);
	return NULL;
}

/* A query value percent-encoded: all but RFC 3986's unreserved bytes. */
static char *
url_escape(const char *s)
{
	static const char hex[] = "0123456789ABCDEF";
	struct strbuf sb;
	unsigned char c;

	strbuf_init(&sb);
	for (; (c = (unsigned char)*s) != '\0'; s++) {
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || strchr("-._~", c)) {
			strbuf_putc(&sb, (char)c);
		} else {
			strbuf_putc(&sb, '%');
			strbuf_putc(&sb, hex[c >> 4]);
			strbuf_putc(&sb, hex[c & 15]);
		}
	}
	return sb.buf;
}

int
docker_events_start(const char *socket_path, int notify_fd,
	struct docker_events **ret)
{
	struct docker_events *ev;
	pthread_attr_t attr;
	sigset_t all, old;
	char *filter;
	int r;

	if (notify_fd < 0)
		return -EBADF;
	if (strlen(socket_path) >= sizeof(((struct sockaddr_un *)0)->sun_path))
		return -ENAMETOOLONG;

	ev = xcalloc(1, sizeof(*ev));
	ev->socket_path = xstrdup(socket_path);
	filter = url_escape(EVENTS_FILTER);
	ev->path = xasprintf("/events?filters=%s", filter);
	free(filter);
	ev->notify_fd = notify_fd;
	atomic_init(&ev->stop, false);
	atomic_init(&ev->connected, false);
	strbuf_init(&ev->line);
	if (pipe2(ev->wake, O_CLOEXEC | O_NONBLOCK) < 0) {
		r = -errno;
		goto fail;
	}

	/* Signals are the owner's business: the thread blocks them all. */
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	pthread_attr_init(&attr);
	pthread_attr_setstacksize(&attr, EVENTS_STACK);
	r = -pthread_create(&ev->thread, &attr, events_main, ev);
	pthread_attr_destroy(&attr);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (r < 0) {
		close(ev->wake[0]);
		close(ev->wake[1]);
		goto fail;
	}
	*ret = ev;
	return 0;

fail:
	strbuf_free(&ev->line);
	free(ev->path);
	free(ev->socket_path);
	free(ev);
	return r;
}

void
docker_events_stop(struct docker_events *ev)
{
	if (!ev)
		return;
	atomic_store(&ev->stop, true);
	while (write(ev->wake[1], "", 1) < 0 && errno == EINTR)
		;
	pthread_join(ev->thread, NULL);
	close(ev->wake[0]);
	close(ev->wake[1]);
	strbuf_free(&ev->line);
	free(ev->path);
	free(ev->socket_path);
	free(ev);
}

bool
docker_events_connected(const struct docker_events *ev)
{
	return atomic_load(&ev->connected);
}
