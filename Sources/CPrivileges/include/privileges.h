// What Swift cannot call directly: capset(2) is reached through syscall(2), a variadic function.

/// Clears every capability of the process (permitted, effective, inheritable): what a binary given
/// cap_net_raw,cap_net_admin by setcap does once its capture is open. 0 on success, -1 with errno set.
int dnsflow_drop_capabilities(void);

/// Whether the process has any effective or permitted capability (1), none (0), or could not tell (-1).
int dnsflow_has_capabilities(void);
