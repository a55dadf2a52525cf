/*
 * firewalld.h: ringfence's policy object in firewalld, over D-Bus.
 */
#ifndef RF_FIREWALLD_H
#define RF_FIREWALLD_H

#include <stdbool.h>
#include <stddef.h>

#include "model/model.h"

#define FIREWALLD_POLICY	"ringfence"
#define FIREWALLD_IPSET4	"ringfence4"
#define FIREWALLD_IPSET6	"ringfence6"

/* What firewalld_dispatch() saw happen. */
enum {
	FIREWALLD_RELOADED	= 1 << 0,	/* reloaded, or (re)started */
	FIREWALLD_STOPPED	= 1 << 1,
};

/* The confined addresses, normalised, that the ipsets should hold. */
struct firewalld_entries {
	struct rf_rangeset	v4;
	struct rf_rangeset	v6;
};

struct firewalld;

/*
 * Connect to the system bus (DBUS_SYSTEM_BUS_ADDRESS, or the usual
 * socket) and listen for firewalld's signals.  A host without a system
 * bus has no firewalld: the caller may try again later.
 */
int firewalld_open(struct firewalld **ret);
void firewalld_close(struct firewalld *fw);

/* For poll(): the bus socket and the events it waits for. */
int firewalld_fd(const struct firewalld *fw);
short firewalld_events(const struct firewalld *fw);

/* Read what arrived; ORs FIREWALLD_* into *flags. */
int firewalld_dispatch(struct firewalld *fw, unsigned *flags);

/* Whether firewalld holds its bus name now. */
bool firewalld_running(struct firewalld *fw);

/*
 * Make firewalld accept forwarded traffic to exactly these addresses:
 * create the policy object and its ipsets if they are missing (which
 * costs one firewalld reload), then set the ipsets' runtime entries.
 * Skipped when the entries are those of the last successful call and
 * firewalld has not reloaded since.  Returns 0 when firewalld is not
 * running.
 */
int firewalld_sync(struct firewalld *fw, const struct firewalld_entries *e,
	char **ret_error);

/*
 * Before addresses leave the confined set: remove from the ipsets every
 * entry that want does not have, so that firewalld never accepts for an
 * address ringfence no longer filters.  Adds nothing.
 */
int firewalld_narrow(struct firewalld *fw, const struct firewalld_entries *want,
	char **ret_error);

/* Whether the last sync succeeded and firewalld has not reloaded since. */
bool firewalld_in_place(const struct firewalld *fw);

/* Remove the policy object and the ipsets, and reload firewalld. */
int firewalld_remove(struct firewalld *fw, char **ret_error);

/* The addresses of every confined container of m. */
void firewalld_entries_from_model(const struct rf_model *m,
	struct firewalld_entries *ret);

/* ret = the entries of both a and b. */
void firewalld_entries_common(const struct firewalld_entries *a,
	const struct firewalld_entries *b, struct firewalld_entries *ret);

bool firewalld_entries_equal(const struct firewalld_entries *a,
	const struct firewalld_entries *b);
void firewalld_entries_free(struct firewalld_entries *e);

#endif
