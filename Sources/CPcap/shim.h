#ifndef DNSFLOW_CPCAP_SHIM_H
#define DNSFLOW_CPCAP_SHIM_H
#include <pcap/pcap.h>
#include <stdio.h>
#endif
