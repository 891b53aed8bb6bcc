#include "build_info.h"

/* The commit is a compile-time definition so that a static binary knows it without git. */
#ifndef DNSFLOW_COMMIT
#define DNSFLOW_COMMIT "unknown"
#endif

const char *dnsflow_commit(void) { return DNSFLOW_COMMIT; }
