/*
 * log.c: leveled lines to stderr or, under systemd, to the journal.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

static enum log_level log_max = LOG_LEVEL_INFO;
static int log_journal;

static const char *const level_words[] = {
	"error", "warning", "info", "debug",
};

/* syslog priorities: err, warning, info, debug */
static const int level_prio[] = { 3, 4, 6, 7 };

void
log_init(enum log_level max)
{
	log_max = max;
	log_journal = getenv("JOURNAL_STREAM") != NULL;
}

int
log_level_parse(const char *s)
{
	int i;

	for (i = 0; i <= LOG_LEVEL_DEBUG; i++)
		if (!strcmp(s, level_words[i]))
			return i;
	return -1;
}

void
log_msg(enum log_level level, const char *fmt, ...)
{
	int saved = errno;
	char line[2048];
	size_t n;
	va_list ap;

	if (level > log_max) {
		errno = saved;
		return;
	}
	if (log_journal)
		n = (size_t)snprintf(line, sizeof(line), "<%d>",
		    level_prio[level]);
	else
		n = (size_t)snprintf(line, sizeof(line), "ringfence: %s: ",
		    level_words[level]);

	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n - 1, fmt, ap);
	va_end(ap);

	/* One line per message, even if the text held newlines. */
	for (char *p = line + n; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	n = strlen(line);
	line[n++] = '\n';
	if (write(STDERR_FILENO, line, n) < 0) {
		/* Nowhere left to report it. */
	}
	errno = saved;
}
