#ifndef DNSFLOW_CPCAP_SHIM_H
#define DNSFLOW_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <stdio.h>
#include <poll.h>

/* A capture read from a pipe (`-r -`, a FIFO, an ssh or kubectl stream): whether the next packet can be read without
 * waiting — bytes already in the stream's buffer (glibc's FILE), or on the descriptor. */
static inline int dnsflow_stream_ready(FILE *f) {
    if (f->_IO_read_ptr < f->_IO_read_end) return 1;
    struct pollfd p = { .fd = fileno(f), .events = POLLIN, .revents = 0 };
    return poll(&p, 1, 0) > 0;
}
#endif
