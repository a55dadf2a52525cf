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

/* 1 if ringfence's table exists, 0 if not, or a negative errno. */
int ruleset_present(void);

#endif
