/*
 * log.h: the daemon's log, one line per event.
 *
 * In the foreground lines go to stderr with a level word.  Under systemd
 * (JOURNAL_STREAM set) stderr is the journal, and each line starts with
 * the "<N>" priority prefix that journald reads.  Thread-safe: a line is
 * written with one write().  Never changes errno.
 */
#ifndef RF_LOG_H
#define RF_LOG_H

enum log_level {
	LOG_LEVEL_ERROR,
	LOG_LEVEL_WARNING,
	LOG_LEVEL_INFO,
	LOG_LEVEL_DEBUG,
};

void log_init(enum log_level max);
/* Parse "error", "warning", "info" or "debug"; -1 if none. */
int log_level_parse(const char *s);

void log_msg(enum log_level level, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

#define log_error(...)	log_msg(LOG_LEVEL_ERROR, __VA_ARGS__)
#define log_warn(...)	log_msg(LOG_LEVEL_WARNING, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LEVEL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LEVEL_DEBUG, __VA_ARGS__)

#endif
