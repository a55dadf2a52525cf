/*
 * lexer.h: splits policy text into tokens.
 *
 * The language has few token kinds: punctuation, quoted strings, line ends,
 * and words.  A word is a run of letters, digits and "._-:/[]$", so
 * "10.0.0.0/8", "5000/tcp" and "[2001:db8::1]:5000" are one word each and
 * the parser, which knows what it expects, reads them.  Any other character
 * is reported where it stands.
 */
#ifndef RF_LEXER_H
#define RF_LEXER_H

#include <stdbool.h>
#include <stddef.h>

#include "diag.h"

enum tok_kind {
	TOK_EOF,
	TOK_NEWLINE,
	TOK_WORD,
	TOK_STRING,	/* text excludes the quotes */
	TOK_LBRACE,
	TOK_RBRACE,
	TOK_COMMA,
	TOK_EQUALS,
	TOK_BAD,	/* a character that starts no token; already reported */
};

struct token {
	enum tok_kind	 kind;
	const char	*text;
	size_t		 len;
	struct rf_loc	 loc;
};

struct lexer {
	const struct rf_source	*src;
	const char		*p;
	const char		*end;
	unsigned		 line;
	unsigned		 col;
	struct rf_diags		*diags;
};

void lexer_init(struct lexer *lx, const struct rf_source *src,
	struct rf_diags *diags);
void lexer_next(struct lexer *lx, struct token *ret);

bool tok_is(const struct token *t, const char *word);
const char *tok_kind_name(enum tok_kind kind);

#endif
