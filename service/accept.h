/* accept.h — POST /orders/{order_id}/accept (vendors race; exactly one wins) and
 * GET /orders/{order_id}. */
#ifndef DISPATCHD_ACCEPT_H
#define DISPATCHD_ACCEPT_H

#include "config.h"
#include "reply.h"

#include <stddef.h>

void acc_init(const dcfg *c);
/* order_id as decoded from the path; body NUL-terminated. */
void acc_accept(const char *order_id, const char *body, size_t body_len, reply *rep);
void acc_get(const char *order_id, reply *rep);

#endif
