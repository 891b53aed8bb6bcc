#ifndef DNSFLOW_BUILD_INFO_H
#define DNSFLOW_BUILD_INFO_H

/// The commit this binary was built from: set by `scripts/package` (`-Xcc -DDNSFLOW_COMMIT=...`), "unknown" otherwise.
const char *dnsflow_commit(void);

#endif
