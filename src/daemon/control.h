/*
 * control.h: the daemon's control socket and its client.
 *
 * A request is one line ("status", "status json", "reload") of at most
 * CONTROL_MAX_REQUEST bytes.  The answer is one line holding the exit
 * status the client should end with, then the text to print.
 */
#ifndef RF_CONTROL_H
#define RF_CONTROL_H

#include "util.h"

#define CONTROL_MAX_REQUEST	256
#define CONTROL_MAX_ANSWER	(64u << 20)

/* Create the socket, root-only; returns a listening fd or -errno. */
int control_listen(const char *path);

/*
 * Read one request from a freshly accepted connection into buf (NUL
 * terminated, newline removed).  Returns 0, or -errno for a request that
 * is too long, too slow or malformed.
 */
int control_read_request(int fd, char *buf, size_t size);
void control_answer(int fd, int status, const char *text, size_t len);

/*
 * Client side: send request, print the answer's text to out (or to
 * stderr when the status is not 0), and return the status; -errno when
 * the daemon cannot be reached.
 */
int control_call(const char *path, const char *request);

#endif
