/*
 * apply.c: the DOCKER-USER rule and the table, in that order.
 *
 * The DOCKER-USER rule goes in first: it accepts only RF_MARK, which
 * nothing sets until the table is loaded, so it is harmless on its own.
 */
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

#include "nft/apply.h"
#include "nft/dockeruser.h"
#include "nft/load.h"
#include "nft/render.h"
#include "util.h"

int
ruleset_apply(const char *text, char **ret_error)
{
	struct dockeruser_state du;
	char *err = NULL;
	int r;

	r = dockeruser_ensure(&du, ret_error);
	if (r < 0)
		return r;
	r = nft_load(text, &err);
	if (r < 0) {
		dockeruser_undo(&du);
		*ret_error = xasprintf("the kernel did not accept the ruleset; "
		    "the previous one stays in force:\n%s", err);
		free(err);
	}
	return r;
}

int
ruleset_present(void)
{
	struct nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
	const char *out;
	int r;

	if (!ctx)
		return -ENOMEM;
	nft_ctx_buffer_output(ctx);
	nft_ctx_buffer_error(ctx);
	if (nft_run_cmd_from_buffer(ctx, "list tables " RF_TABLE_FAMILY)) {
		nft_ctx_free(ctx);
		return -EIO;
	}
	out = nft_ctx_get_output_buffer(ctx);
	r = out && strstr(out, "table " RF_TABLE_FAMILY " " RF_TABLE_NAME
	    "\n") != NULL;
	nft_ctx_free(ctx);
	return r;
}
