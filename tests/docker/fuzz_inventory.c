/*
 * fuzz_inventory.c: libFuzzer harness for docker_inventory_parse().
 *
 * The input is the containers answer, a NUL byte, then the networks
 * answer (without the NUL, the networks answer is "[]").  Build with
 *
 *   clang -g -O1 -fsanitize=fuzzer,address,undefined -std=c11 \
 *	-D_GNU_SOURCE -Isrc -DRINGFENCE_VERSION='"fuzz"' \
 *	tests/docker/fuzz_inventory.c src/docker/api.c src/docker/http.c \
 *	src/model/addr.c src/util.c src/log.c -ljansson \
 *	-o build/fuzz-inventory
 *
 * and run build/fuzz-inventory on a corpus of real answers.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "docker/docker.h"
#include "log.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *nul;
	struct docker_inventory inv;
	char *err = NULL;
	size_t i, j;

	log_init(LOG_LEVEL_ERROR);
	nul = memchr(text, '\0', size);
	if (docker_inventory_parse(text, nul ? (size_t)(nul - text) : size,
	    nul ? nul + 1 : "[]", nul ? size - (size_t)(nul - text) - 1 : 2,
	    &inv, &err) < 0) {
		free(err);
		return 0;
	}
	/* Touch everything, so the sanitizers see any bad pointer. */
	for (i = 0; i < inv.ncontainers; i++) {
		const struct docker_container *c = &inv.containers[i];

		if (strlen(c->id) != 64 || (c->name && !*c->name))
			abort();
		for (j = 0; j < c->nlabels; j++)
			if (docker_label(c, c->labels[j].key) == NULL)
				abort();
		for (j = 0; j < c->nnets; j++)
			if (strlen(c->nets[j].network_id) != 64)
				abort();
	}
	for (i = 0; i < inv.nnetworks; i++)
		if (inv.networks[i].bridge &&
		    strlen(inv.networks[i].bridge) > 15)
			abort();
	docker_inventory_free(&inv);
	return 0;
}
