/*
 * apply.h: putting a rendered ruleset in force, with its DOCKER-USER rule.
 */
#ifndef RF_APPLY_H
#define RF_APPLY_H

/*
 * Ensure the DOCKER-USER rule, then load text in one transaction.  If the
 * load fails, a DOCKER-USER rule added here is removed again, so the
 * kernel is as it was.  Returns 0 or a negative errno with *ret_error set.
 */
int ruleset_apply(const char *text, char **ret_error);

/*
 * Load a delta of the table (render_delta()) in one transaction, without
 * looking at the DOCKER-USER rule: a delta changes nothing that rule
 * depends on.  On failure nothing changed; returns 0 or a negative errno
 * with *ret_error set.
 */
int ruleset_update(const char *text, char **ret_error);

/*
 * For the tests' RINGFENCE_FAULT_INJECT hooks: appended to a load, two
 * chains that jump to each other, reachable from the forward chain.  nft
 * accepts the text and the kernel refuses the whole transaction (ELOOP),
 * which shows that a refused load leaves the previous ruleset untouched.
 */
extern const char ruleset_fault_loop[];

/* 1 if ringfence's table exists, 0 if not, or a negative errno. */
int ruleset_present(void);

#endif
