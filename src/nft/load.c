/*
 * load.c: one libnftables context per call, output and errors captured.
 */
#include <errno.h>
#include <nftables/libnftables.h>
#include <string.h>

#include "nft/load.h"
#include "util.h"

static struct nft_ctx *
ctx_new(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);

	if (!ctx)
		return NULL;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	return ctx;
}

/*
 * Keep nft's "Error: ..." lines and drop its excerpts of the buffer: they
 * quote generated text, and for kernel refusals often the wrong line.
 */
static char *
error_lines(const char *s)
{
	struct strbuf sb;
	const char *eol;

	strbuf_init(&sb);
	for (; s && *s; s = eol + 1) {
		eol = strchrnul(s, '\n');
		if (!strncmp(s, "Error:", 6)) {
			if (sb.len)
				strbuf_putc(&sb, '\n');
			strbuf_add(&sb, s, (size_t)(eol - s));
		}
		if (!*eol)
			break;
	}
	if (!sb.len)
		strbuf_puts(&sb, "Error: nft gave no reason");
	return sb.buf;
}

int
nft_load(const char *text, char **ret_error)
{
	struct nft_ctx *ctx = ctx_new();
	int r = 0;

	if (!ctx) {
		*ret_error = xstrdup("cannot create an nftables context");
		return -ENOMEM;
	}
	if (nft_run_cmd_from_buffer(ctx, text) != 0) {
		*ret_error = error_lines(nft_ctx_get_error_buffer(ctx));
		r = -EINVAL;
	}
	nft_ctx_free(ctx);
	return r;
}
