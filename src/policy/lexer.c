/*
 * lexer.c: policy text to tokens, with line and column of each.
 */
#include <string.h>

#include "policy/lexer.h"

void
lexer_init(struct lexer *lx, const struct rf_source *src,
	struct rf_diags *diags)
{
	lx->src = src;
	lx->p = src->text;
	lx->end = src->text + src->len;
	lx->line = 1;
	lx->col = 1;
	lx->diags = diags;
}

static bool
is_word_char(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c && strchr("._-:/[]$", c);
}

static void
advance(struct lexer *lx, size_t n)
{
	lx->p += n;
	lx->col += (unsigned)n;
}

static void
skip_blanks(struct lexer *lx)
{
	while (lx->p < lx->end) {
		char c = *lx->p;

		if (c == ' ' || c == '\t' || c == '\r') {
			advance(lx, 1);
		} else if (c == '#') {
			while (lx->p < lx->end && *lx->p != '\n')
				advance(lx, 1);
		} else {
			break;
		}
	}
}

static void
lex_string(struct lexer *lx, struct token *t)
{
	const char *start = lx->p + 1, *q = start;

	while (q < lx->end && *q != '"' && *q != '\n')
		q++;
	if (q == lx->end || *q != '"') {
		diag_error(lx->diags, &t->loc, "unterminated string");
		t->kind = TOK_BAD;
		advance(lx, (size_t)(q - lx->p));
		return;
	}
	t->kind = TOK_STRING;
	t->text = start;
	t->len = (size_t)(q - start);
	advance(lx, (size_t)(q - lx->p) + 1);
}

void
lexer_next(struct lexer *lx, struct token *t)
{
	static const char punct[] = "{},=";
	static const enum tok_kind punct_kind[] = {
		TOK_LBRACE, TOK_RBRACE, TOK_COMMA, TOK_EQUALS,
	};
	const char *pc;
	unsigned char c;

	skip_blanks(lx);
	t->loc.src = lx->src;
	t->loc.line = lx->line;
	t->loc.col = lx->col;
	t->text = lx->p;
	t->len = 0;

	if (lx->p >= lx->end) {
		t->kind = TOK_EOF;
		return;
	}

	c = (unsigned char)*lx->p;
	if (c == '\n') {
		t->kind = TOK_NEWLINE;
		t->len = 1;
		lx->p++;
		lx->line++;
		lx->col = 1;
		return;
	}
	if (c == '"') {
		lex_string(lx, t);
		return;
	}
	pc = c ? strchr(punct, c) : NULL;
	if (pc) {
		t->kind = punct_kind[pc - punct];
		t->len = 1;
		advance(lx, 1);
		return;
	}
	if (is_word_char(c)) {
		const char *q = lx->p;

		while (q < lx->end && is_word_char((unsigned char)*q))
			q++;
		t->kind = TOK_WORD;
		t->len = (size_t)(q - lx->p);
		advance(lx, t->len);
		return;
	}

	t->kind = TOK_BAD;
	t->len = 1;
	if (c >= 0x20 && c < 0x7f) {
		diag_error(lx->diags, &t->loc, "unexpected character '%c'", c);
	} else if (c >= 0x80) {
		/* One error for a whole UTF-8 character (or run of them). */
		while (lx->p + t->len < lx->end &&
		    (unsigned char)lx->p[t->len] >= 0x80)
			t->len++;
		diag_error(lx->diags, &t->loc, "unexpected non-ASCII "
		    "character (policy text is ASCII)");
	} else {
		diag_error(lx->diags, &t->loc, "unexpected control character "
		    "0x%02x", c);
	}
	advance(lx, t->len);
}

bool
tok_is(const struct token *t, const char *word)
{
	size_t n = strlen(word);

	return t->kind == TOK_WORD && t->len == n && !memcmp(t->text, word, n);
}

const char *
tok_kind_name(enum tok_kind kind)
{
	switch (kind) {
	case TOK_EOF:		return "end of file";
	case TOK_NEWLINE:	return "end of line";
	case TOK_WORD:		return "word";
	case TOK_STRING:	return "string";
	case TOK_LBRACE:	return "'{'";
	case TOK_RBRACE:	return "'}'";
	case TOK_COMMA:		return "','";
	case TOK_EQUALS:	return "'='";
	case TOK_BAD:		return "bad character";
	}
	return "token";
}
