/* A paced DNS flood for the live-capture measurements (scripts/live/flood-check.sh): A and AAAA query pairs
 * (`svcN.nsM.svc.cluster.local`, random ids) from a few hundred client sockets, each with its own ephemeral
 * port, to 198.18.0.1:53, and for every query its answer (same id, ports and question, QR set) sent back from
 * a socket bound to 198.18.0.1:53 in the server's namespace. RATE counts both: 200000 = 100k queries/s and
 * 100k responses/s on the wire. Batches go out with sendmmsg; the clock is read every batch and the sender
 * sleeps to the batch's due time (absolute), so the average rate holds. If it cannot keep up it sends as fast
 * as it can and says so.
 *
 * Run it in the client's namespace; -n names the server's (`ip netns` creates /run/netns/NAME):
 *   ip netns exec CLIENT bench/.data/flood -n /run/netns/SERVER 200000 10
 * Without -n only queries are sent (nothing answers them).
 * Build: cc -O2 -o bench/.data/flood bench/flood.c
 *
 * Options: -p SOCKETS (client sockets, default 256), -b LOOKUPS (A+AAAA lookups per batch, default 16: a batch
 *          is a burst of 4 × LOOKUPS packets within about 100 µs, whatever the average rate),
 *          -s SEED (default 1), -d SERVER_ADDRESS (default 198.18.0.1).
 * Prints one line: `flood: sent N packets (Q queries, R responses) in T s: X pkt/s, E send errors, cpu C%`
 * (C: this process, user + system, which includes the kernel's work for both namespaces done in its context). */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_BATCH 64   /* lookups per batch: 4 packets each */
#define PKT_MAX 128    /* the longest message here is 45 + 28 + 33 octets */

static uint64_t rng;
static uint64_t next_random(void) { /* xorshift64 */
    rng ^= rng << 13; rng ^= rng >> 7; rng ^= rng << 17;
    return rng;
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

static void sleep_until(double t) {
    struct timespec ts = { (time_t)t, (long)((t - (double)(time_t)t) * 1e9) };
    if (ts.tv_nsec >= 1000000000L) { ts.tv_sec++; ts.tv_nsec -= 1000000000L; }
    while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR) {}
}

/* RFC 1035 4.1.1 header, 4.1.2 question. Returns the length. */
static size_t put_query(uint8_t *p, uint16_t id, unsigned svc, unsigned ns, uint16_t qtype) {
    p[0] = id >> 8; p[1] = id & 0xff;
    p[2] = 0x01; p[3] = 0x00;                      /* RD */
    p[4] = 0; p[5] = 1;                            /* QDCOUNT 1 */
    memset(p + 6, 0, 6);                           /* AN, NS, AR 0 */
    size_t o = 12;
    char label[16];
    int n = snprintf(label, sizeof label, "svc%u", svc);
    p[o++] = (uint8_t)n; memcpy(p + o, label, (size_t)n); o += (size_t)n;
    n = snprintf(label, sizeof label, "ns%u", ns);
    p[o++] = (uint8_t)n; memcpy(p + o, label, (size_t)n); o += (size_t)n;
    static const uint8_t tail[] = "\3svc\7cluster\5local";   /* + the terminating root label */
    memcpy(p + o, tail, sizeof tail); o += sizeof tail;
    p[o++] = qtype >> 8; p[o++] = qtype & 0xff;
    p[o++] = 0; p[o++] = 1;                        /* IN */
    return o;
}

/* The answer to a query of length qlen: the same header and question, QR|RD|RA, one record (RFC 1035 4.1.3)
 * whose owner is a pointer to the question name (0xc00c). */
static size_t put_response(uint8_t *r, const uint8_t *q, size_t qlen, uint16_t qtype, unsigned svc, unsigned ns) {
    memcpy(r, q, qlen);
    r[2] = 0x81; r[3] = 0x80;                      /* QR, RD, RA, NOERROR */
    r[7] = 1;                                      /* ANCOUNT 1 */
    size_t o = qlen;
    r[o++] = 0xc0; r[o++] = 0x0c;
    r[o++] = qtype >> 8; r[o++] = qtype & 0xff;
    r[o++] = 0; r[o++] = 1;
    r[o++] = 0; r[o++] = 0; r[o++] = 0; r[o++] = 30; /* TTL 30 */
    if (qtype == 1) {
        r[o++] = 0; r[o++] = 4;
        r[o++] = 10; r[o++] = 96; r[o++] = (uint8_t)ns; r[o++] = (uint8_t)svc;
    } else {
        r[o++] = 0; r[o++] = 16;
        static const uint8_t pre[] = { 0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0 };
        memcpy(r + o, pre, sizeof pre); o += sizeof pre;
        r[o++] = (uint8_t)ns; r[o++] = (uint8_t)svc;
    }
    return o;
}

static int udp_socket(void) {
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    if (s < 0) { perror("flood: socket"); exit(1); }
    /* Nobody reads the answers (or, on the server, the queries): keep the buffers small and let them overflow.
     * That is the socket's drop, counted in Udp RcvbufErrors, not the capture's. */
    int small = 4096;
    setsockopt(s, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    return s;
}

static void usage(void) {
    fprintf(stderr, "usage: flood [-n SERVER_NETNS] [-p SOCKETS] [-b LOOKUPS] [-s SEED] [-d ADDRESS] RATE SECONDS\n");
    exit(2);
}

int main(int argc, char **argv) {
    const char *server_ns = NULL, *server_addr = "198.18.0.1";
    int nsockets = 256, lookups = 16;
    rng = 1;
    int c;
    while ((c = getopt(argc, argv, "n:p:b:s:d:")) != -1) {
        switch (c) {
        case 'n': server_ns = optarg; break;
        case 'p': nsockets = atoi(optarg); break;
        case 'b': lookups = atoi(optarg); break;
        case 's': rng = strtoull(optarg, NULL, 10) | 1; break;
        case 'd': server_addr = optarg; break;
        default: usage();
        }
    }
    if (argc - optind != 2) usage();
    double rate = atof(argv[optind]), seconds = atof(argv[optind + 1]);
    if (rate <= 0 || seconds <= 0 || nsockets < 1 || lookups < 1 || lookups > MAX_BATCH) usage();

    struct sockaddr_in server = { .sin_family = AF_INET, .sin_port = htons(53) };
    if (inet_pton(AF_INET, server_addr, &server.sin_addr) != 1) usage();

    /* Client sockets, in this namespace: each bound to its own ephemeral port and connected to the server, so
     * the answers have a socket to land in (no ICMP port unreachable). */
    int *clients = calloc((size_t)nsockets, sizeof *clients);
    struct sockaddr_in *client_addr = calloc((size_t)nsockets, sizeof *client_addr);
    for (int i = 0; i < nsockets; i++) {
        clients[i] = udp_socket();
        if (connect(clients[i], (struct sockaddr *)&server, sizeof server) < 0) { perror("flood: connect"); return 1; }
        socklen_t len = sizeof client_addr[i];
        getsockname(clients[i], (struct sockaddr *)&client_addr[i], &len);
    }
    /* The server socket, in the server's namespace: setns moves this thread; the client sockets stay where
     * they were made. */
    int srv = -1;
    if (server_ns) {
        int fd = open(server_ns, O_RDONLY | O_CLOEXEC);
        if (fd < 0 || setns(fd, CLONE_NEWNET) < 0) { perror(server_ns); return 1; }
        close(fd);
        srv = udp_socket();
        int one = 1;
        setsockopt(srv, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
        if (bind(srv, (struct sockaddr *)&server, sizeof server) < 0) { perror("flood: bind server :53"); return 1; }
    }

    /* Per batch: per lookup, 2 queries on one client socket; then all the answers on the server socket. */
    static uint8_t qbuf[MAX_BATCH * 2][PKT_MAX], rbuf[MAX_BATCH * 2][PKT_MAX];
    static struct iovec qiov[MAX_BATCH * 2], riov[MAX_BATCH * 2];
    static struct mmsghdr qmsg[MAX_BATCH * 2], rmsg[MAX_BATCH * 2];
    static struct sockaddr_in rdst[MAX_BATCH * 2];
    for (int i = 0; i < MAX_BATCH * 2; i++) {
        qiov[i].iov_base = qbuf[i]; riov[i].iov_base = rbuf[i];
        qmsg[i].msg_hdr.msg_iov = &qiov[i]; qmsg[i].msg_hdr.msg_iovlen = 1;
        rmsg[i].msg_hdr.msg_iov = &riov[i]; rmsg[i].msg_hdr.msg_iovlen = 1;
        rmsg[i].msg_hdr.msg_name = &rdst[i]; rmsg[i].msg_hdr.msg_namelen = sizeof rdst[i];
    }
    prctl(PR_SET_TIMERSLACK, 1UL);   /* wake at the due time, not up to 50 µs later: smaller catch-up bursts */
    const int per_lookup = srv >= 0 ? 4 : 2;
    const uint64_t total = (uint64_t)(rate * seconds);
    uint64_t sent = 0, queries = 0, responses = 0, errors = 0, behind = 0;
    unsigned next_socket = 0;
    const double start = now(), deadline = start + seconds;
    double t = start;
    while (sent < total) {
        /* Due time of this batch: the average rate holds even if one batch is late. */
        double due = start + (double)sent / rate;
        if (due > t) { sleep_until(due); t = now(); }
        else if (t - due > 0.01) behind++;
        if (t >= deadline + 0.5) break;   /* cannot keep up: stop at the duration */
        int n = lookups;
        uint64_t left = (total - sent + (uint64_t)per_lookup - 1) / (uint64_t)per_lookup;
        if ((uint64_t)n > left) n = (int)left;
        for (int k = 0; k < n; k++) {
            unsigned svc = (unsigned)(next_random() % 500), ns = (unsigned)(next_random() % 40);
            int s = (int)(next_socket++ % (unsigned)nsockets);
            for (int j = 0; j < 2; j++) {
                int m = 2 * k + j;
                uint16_t qtype = j == 0 ? 1 : 28, id = (uint16_t)next_random();
                /* The pair's two ids differ, as glibc's do: equal ones would read as a re-send. */
                if (j == 1 && id == (uint16_t)(qbuf[m - 1][0] << 8 | qbuf[m - 1][1])) id ^= 1;
                qiov[m].iov_len = put_query(qbuf[m], id, svc, ns, qtype);
                riov[m].iov_len = put_response(rbuf[m], qbuf[m], qiov[m].iov_len, qtype, svc, ns);
                rdst[m] = client_addr[s];   /* connect chose 198.18.0.2 and the port */
            }
            int r = sendmmsg(clients[s], &qmsg[2 * k], 2, 0);
            if (r < 0) r = 0;
            queries += (uint64_t)r; errors += (uint64_t)(2 - r);
        }
        if (srv >= 0) {
            int done = 0;
            while (done < 2 * n) {
                int r = sendmmsg(srv, rmsg + done, (unsigned)(2 * n - done), 0);
                if (r <= 0) { errors += (uint64_t)(2 * n - done); break; }
                done += r;
            }
            responses += (uint64_t)done;
        }
        sent += (uint64_t)(n * per_lookup);
        t = now();
    }
    double elapsed = now() - start;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    double cpu = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec * 1e-6
               + (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec * 1e-6;
    printf("flood: sent %llu packets (%llu queries, %llu responses) in %.3f s: %.0f pkt/s, %llu send errors, "
           "cpu %.0f%%%s\n",
           (unsigned long long)(queries + responses), (unsigned long long)queries, (unsigned long long)responses,
           elapsed, (double)(queries + responses) / elapsed, (unsigned long long)errors, 100 * cpu / elapsed,
           behind ? " (fell behind the target rate)" : "");
    return 0;
}
