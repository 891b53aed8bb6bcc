/* The baseline dnsflow is measured against: libpcap's pcap_next_ex and the cheapest DNS decoding there is
 * (Ethernet, 802.1Q, IPv4, UDP, the 12-octet DNS header), counting queries and responses. No matching, no
 * names, no output per packet. Build: cc -O2 -o c-loop c-loop.c -lpcap */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) { fprintf(stderr, "usage: c-loop FILE.pcap\n"); return 2; }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) { fprintf(stderr, "c-loop: %s\n", err); return 1; }
    struct pcap_pkthdr *h;
    const u_char *d;
    unsigned long packets = 0, queries = 0, responses = 0, other = 0;
    while (pcap_next_ex(p, &h, &d) == 1) {
        packets++;
        uint32_t n = h->caplen, off = 12;
        if (n < 14) { other++; continue; }
        uint16_t type = (uint16_t)(d[12] << 8 | d[13]);
        while (type == 0x8100 && n >= off + 6) { off += 4; type = (uint16_t)(d[off] << 8 | d[off + 1]); }
        off += 2;
        if (type != 0x0800 || n < off + 20 || (d[off] >> 4) != 4) { other++; continue; }
        uint32_t ihl = (uint32_t)(d[off] & 15) * 4;
        if (d[off + 9] != 17 || n < off + ihl + 8 + 12) { other++; continue; }
        const u_char *udp = d + off + ihl;
        uint16_t sport = (uint16_t)(udp[0] << 8 | udp[1]), dport = (uint16_t)(udp[2] << 8 | udp[3]);
        if (sport != 53 && dport != 53) { other++; continue; }
        const u_char *dns = udp + 8;
        if (dns[2] & 0x80) responses++; else queries++;
    }
    printf("%lu packets, %lu queries, %lu responses, %lu other\n", packets, queries, responses, other);
    pcap_close(p);
    return 0;
}
