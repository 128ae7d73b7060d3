/* selftest.h — `dispatchd --selftest`: the webhook verifier and schema checks run against fixed
 * vectors (the Standard Webhooks specification's example among them) without any server. */
#ifndef DISPATCHD_SELFTEST_H
#define DISPATCHD_SELFTEST_H

#include <stdio.h>

/* Prints one TAP line per check ("ok - ..." / "not ok - ..."); returns the number of failures. */
int selftest_run(FILE *out);

#endif
