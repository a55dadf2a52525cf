/*
 * load.h: handing a rendered transaction to the kernel through libnftables.
 */
#ifndef RF_LOAD_H
#define RF_LOAD_H

#include <stdbool.h>

/*
 * Run the transaction in text.  Returns 0, or -EINVAL when nft or the
 * kernel refused it (nothing changed); *ret_error then holds nft's
 * message, to be freed.
 */
int nft_load(const char *text, char **ret_error);

#endif
