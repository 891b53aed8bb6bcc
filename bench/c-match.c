/* A floor for what dnsflow's `--summary` must do, written as plain C: c-loop.c's reading and link/IP/UDP decoding
 * (IPv6 too), then what any DNS analysis needs at the least — the question's name decoded (compression followed,
 * loops refused, lowercased), every record's owner name and RDATA framing checked, and each response matched to
 * its query by 5-tuple, id and question in an open-addressing table, with its latency in a histogram. No pairs,
 * chains, re-send detection, flows, findings or output per packet: dnsflow does all of that on top, so this
 * program's speed is an upper bound on what dnsflow could reach on the same file and machine.
 * With --tables, three more lookups of the kind an analysis makes: every packet's payload hash in a table of
 * sightings (re-sends, duplicates), every packet's 5-tuple in a table of flows, every query's client and name in a
 * table of lookups (A/AAAA pairs); entries idle for 60 s are dropped. dnsflow's analysis makes these and more.
 * Build: cc -O2 -o c-match c-match.c -lpcap */
#include <pcap/pcap.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One query waiting for its response. The name is kept as a second 64-bit hash, not its octets: cheaper than any
 * exact comparison (a floor may cut corners dnsflow cannot). */
typedef struct {
    uint64_t hash;     /* 0: empty, 1: deleted */
    uint64_t namehash;
    uint8_t addrs[32]; /* client, server (IPv4 in the first 4 of each 16) */
    uint16_t cport, sport, id, qtype;
    int64_t t;         /* query time, nanoseconds */
} entry;

static entry *table;
static size_t mask, used, live;
static unsigned long matched, unmatched_responses, malformed, latency_buckets[64];

/* --tables: a key's hash and when it was last seen (0: empty). Keys are compared by their 64-bit hash alone. */
typedef struct { uint64_t key; int64_t seen; } mark;
typedef struct { mark *m; size_t mask, used; unsigned long found; } marks;
static marks sightings, flows, lookups;
static int with_tables;

static void marks_put(marks *t, uint64_t key, int64_t now);
static void marks_rehash(marks *t, int64_t now) {
    size_t old = t->mask + 1;
    mark *o = t->m;
    size_t live = 0;
    for (size_t i = 0; i < old; i++) live += o[i].seen && now - o[i].seen < 60000000000LL;
    t->mask = live * 4 > old ? old * 2 - 1 : old - 1;
    t->m = calloc(t->mask + 1, sizeof(mark));
    t->used = 0;
    for (size_t i = 0; i < old; i++)
        if (o[i].seen && now - o[i].seen < 60000000000LL) marks_put(t, o[i].key, o[i].seen);
    free(o);
}
static void marks_put(marks *t, uint64_t key, int64_t now) {
    if (!t->m) { t->mask = 1023; t->m = calloc(t->mask + 1, sizeof(mark)); }
    if ((t->used + 1) * 2 > t->mask + 1) marks_rehash(t, now);
    key |= 1;
    size_t i = key & t->mask;
    for (; t->m[i].seen; i = (i + 1) & t->mask)
        if (t->m[i].key == key) { t->found++; t->m[i].seen = now; return; }
    t->m[i].key = key;
    t->m[i].seen = now;
    t->used++;
}

/* A word at a time: eight octets, a multiply and a shift. */
static uint64_t mix(const uint8_t *p, size_t n, uint64_t h) {
    for (; n > 0; p += 8, n = n > 8 ? n - 8 : 0) {
        uint64_t v = 0;
        memcpy(&v, p, n < 8 ? n : 8);
        h = (h ^ v) * 0x9E3779B97F4A7C15ULL;
        h ^= h >> 29;
    }
    return h;
}

/* Decodes the name at *off (following pointers) into out as length-prefixed lowercase labels; advances *off past
 * the name in place. Returns the length written, or -1 for a malformed name. */
static int read_name(const uint8_t *m, uint32_t n, uint32_t *off, uint8_t *out) {
    uint32_t p = *off, jumps = 0, len = 0;
    int jumped = 0;
    for (;;) {
        if (p >= n) return -1;
        uint8_t l = m[p];
        if (l == 0) { if (!jumped) *off = p + 1; return (int)len; }
        if ((l & 0xC0) == 0xC0) {
            if (p + 1 >= n || ++jumps > 127) return -1;
            uint32_t target = (uint32_t)(l & 0x3F) << 8 | m[p + 1];
            if (!jumped) { *off = p + 2; jumped = 1; }
            if (target >= p) return -1;
            p = target;
            continue;
        }
        if (l > 63 || p + 1 + l > n || len + 1 + l > 255) return -1;
        if (out) {
            out[len] = l;
            for (uint32_t i = 0; i < l; i++) {
                uint8_t c = m[p + 1 + i];
                out[len + 1 + i] = (c >= 'A' && c <= 'Z') ? c + 32 : c;
            }
        }
        len += 1 + l;
        p += 1 + l;
    }
}

/* Rehashes into a table twice the size, or the same size when most of what fills it is deleted entries. */
static void grow(void) {
    size_t old = mask + 1;
    entry *o = table;
    mask = live * 4 > old ? old * 2 - 1 : old - 1;
    table = calloc(mask + 1, sizeof(entry));
    used = 0;
    live = 0;
    for (size_t i = 0; i < old; i++) {
        if (o[i].hash < 2) continue;
        size_t j = o[i].hash & mask;
        while (table[j].hash) j = (j + 1) & mask;
        table[j] = o[i];
        used++;
        live++;
    }
    free(o);
}

static void dns(const uint8_t *m, uint32_t n, const uint8_t *src, const uint8_t *dst, uint16_t sport, uint16_t dport,
                int64_t t) {
    if (n < 12) { malformed++; return; }
    uint16_t id = (uint16_t)(m[0] << 8 | m[1]);
    int response = m[2] & 0x80;
    uint16_t counts[4] = {(uint16_t)(m[4] << 8 | m[5]), (uint16_t)(m[6] << 8 | m[7]), (uint16_t)(m[8] << 8 | m[9]),
                          (uint16_t)(m[10] << 8 | m[11])};
    uint32_t off = 12;
    entry e;
    uint8_t name[256];
    int namelen = 0;
    e.qtype = 0;
    for (uint16_t q = 0; q < counts[0]; q++) {
        int l = read_name(m, n, &off, q == 0 ? name : NULL);
        if (l < 0 || off + 4 > n) { malformed++; return; }
        if (q == 0) { namelen = l; e.qtype = (uint16_t)(m[off] << 8 | m[off + 1]); }
        off += 4;
    }
    e.namehash = mix(name, (size_t)namelen, 0x84222325cbf29ce4ULL);
    if (with_tables) {
        marks_put(&sightings, mix(m, n, 0x1234567), t);
        uint64_t tuple = mix(src, 16, mix(dst, 16, (uint64_t)sport << 16 | dport));
        marks_put(&flows, tuple, t);
        if (!response) marks_put(&lookups, mix(src, 16, e.namehash ^ sport), t);
    }
    for (int s = 1; s < 4; s++)
        for (uint16_t r = 0; r < counts[s]; r++) {
            if (read_name(m, n, &off, NULL) < 0 || off + 10 > n) { malformed++; return; }
            uint16_t rdlen = (uint16_t)(m[off + 8] << 8 | m[off + 9]);
            off += 10;
            if (off + rdlen > n) { malformed++; return; }
            off += rdlen;
        }
    /* The client's side first, whichever way the packet went. */
    const uint8_t *client = response ? dst : src, *server = response ? src : dst;
    memcpy(e.addrs, client, 16);
    memcpy(e.addrs + 16, server, 16);
    e.cport = response ? dport : sport;
    e.sport = response ? sport : dport;
    e.id = id;
    uint64_t h = mix(e.addrs, 32, 0xcbf29ce484222325ULL);
    h = mix((const uint8_t *)&e.cport, 8, h);
    h ^= e.namehash * 0x9E3779B97F4A7C15ULL;
    if (h < 2) h += 2;
    e.hash = h;
    size_t i = h & mask;
    if (!response) {
        if ((used + 1) * 2 > mask + 1) { grow(); i = h & mask; }
        while (table[i].hash >= 2) i = (i + 1) & mask;
        if (table[i].hash == 0) used++;
        live++;
        e.t = t;
        table[i] = e;
        return;
    }
    for (; table[i].hash; i = (i + 1) & mask) {
        entry *c = &table[i];
        if (c->hash == h && !memcmp(c->addrs, e.addrs, 32) && c->cport == e.cport && c->sport == e.sport &&
            c->id == id && c->qtype == e.qtype && c->namehash == e.namehash) {
            int64_t ns = t - c->t;
            int b = 0;
            while (ns > 1 && b < 63) { ns >>= 1; b++; }
            latency_buckets[b]++;
            c->hash = 1;
            live--;
            matched++;
            return;
        }
    }
    unmatched_responses++;
}

int main(int argc, char **argv) {
    with_tables = argc == 3 && !strcmp(argv[1], "--tables");
    if (argc != 2 + with_tables) { fprintf(stderr, "usage: c-match [--tables] FILE.pcap\n"); return 2; }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline_with_tstamp_precision(argv[argc - 1], PCAP_TSTAMP_PRECISION_NANO, err);
    if (!p) { fprintf(stderr, "c-match: %s\n", err); return 1; }
    mask = 1023;
    table = calloc(mask + 1, sizeof(entry));
    struct pcap_pkthdr *hd;
    const u_char *d;
    unsigned long packets = 0, other = 0;
    while (pcap_next_ex(p, &hd, &d) == 1) {
        packets++;
        uint32_t n = hd->caplen, off = 12;
        if (n < 14) { other++; continue; }
        uint16_t type = (uint16_t)(d[12] << 8 | d[13]);
        while (type == 0x8100 && n >= off + 6) { off += 4; type = (uint16_t)(d[off] << 8 | d[off + 1]); }
        off += 2;
        uint8_t src[16] = {0}, dst[16] = {0};
        uint32_t l4;
        if (type == 0x0800 && n >= off + 20 && (d[off] >> 4) == 4) {
            if (d[off + 9] != 17) { other++; continue; }
            memcpy(src, d + off + 12, 4);
            memcpy(dst, d + off + 16, 4);
            l4 = off + (uint32_t)(d[off] & 15) * 4;
        } else if (type == 0x86DD && n >= off + 40) {
            if (d[off + 6] != 17) { other++; continue; }
            memcpy(src, d + off + 8, 16);
            memcpy(dst, d + off + 24, 16);
            l4 = off + 40;
        } else { other++; continue; }
        if (n < l4 + 8) { other++; continue; }
        const u_char *udp = d + l4;
        uint16_t sport = (uint16_t)(udp[0] << 8 | udp[1]), dport = (uint16_t)(udp[2] << 8 | udp[3]);
        if (sport != 53 && dport != 53) { other++; continue; }
        int64_t t = (int64_t)hd->ts.tv_sec * 1000000000 + hd->ts.tv_usec;
        dns(udp + 8, n - l4 - 8, src, dst, sport, dport, t);
    }
    size_t open = 0;
    for (size_t i = 0; i <= mask; i++) open += table[i].hash >= 2;
    printf("%lu packets, %lu matched, %lu unanswered, %lu responses without a query, %lu malformed, %lu other\n",
           packets, matched, (unsigned long)open, unmatched_responses, malformed, other);
    if (with_tables)
        printf("sightings seen before %lu, flows seen before %lu, lookups seen before %lu\n", sightings.found, flows.found,
               lookups.found);
    pcap_close(p);
    return 0;
}
