/* Linked into the static release only. libpcap's D-Bus capture source pulls in libdbus, which asks systemd whether
 * it was socket-activated (sd_listen_fds, sd_is_socket); Debian ships no static libsystemd, and a static dnsflow is
 * never socket-activated: the answer is always "no sockets". */
int sd_listen_fds(int unset_environment) { (void)unset_environment; return 0; }
int sd_is_socket(int fd, int family, int type, int listening) { (void)fd; (void)family; (void)type; (void)listening; return 0; }
