/*
 * util.h: memory helpers, a growable byte buffer and small string tools.
 *
 * Allocation failure is not an error a caller can do anything useful about
 * in a one-shot compiler, so the x* helpers print one line and abort.
 */
#ifndef RF_UTIL_H
#define RF_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

void *xmalloc(size_t size);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/*
 * Grow an array held as (items, n, cap) so that one more item fits, and
 * return a pointer to the new, zeroed slot.
 */
void *vec_push(void *items_ptr, size_t *n, size_t *cap, size_t item_size);

/* A growable, always NUL-terminated text buffer. */
struct strbuf {
	char	*buf;
	size_t	 len;
	size_t	 cap;
};

void strbuf_init(struct strbuf *sb);
void strbuf_free(struct strbuf *sb);
void strbuf_add(struct strbuf *sb, const char *s, size_t n);
void strbuf_puts(struct strbuf *sb, const char *s);
void strbuf_putc(struct strbuf *sb, char c);
void strbuf_printf(struct strbuf *sb, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
void strbuf_vprintf(struct strbuf *sb, const char *fmt, va_list ap);

/* Milliseconds on the monotonic clock. */
double monotonic_ms(void);

/* Read a whole file; returns 0 or a negative errno. */
int read_file(const char *path, char **ret_text, size_t *ret_len);

#endif
