// The pure-Go resolver, as a Go application in a pod sees it: net.Resolver{PreferGo: true}.LookupIPAddr for each
// name, addresses printed like `getent ahosts` ("ADDR  STREAM NAME", what scripts/lab/lookup.py reads). Exit status 2
// when a lookup fails, with Go's error on stderr. Standard library only; the lab builds it statically
// (CGO_ENABLED=0) and runs it with GODEBUG=netdns=go.
package main

import (
	"context"
	"fmt"
	"net"
	"os"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintf(os.Stderr, "usage: %s NAME...\n", os.Args[0])
		os.Exit(2)
	}
	r := &net.Resolver{PreferGo: true}
	status := 0
	for _, name := range os.Args[1:] {
		addrs, err := r.LookupIPAddr(context.Background(), name)
		if err != nil {
			fmt.Fprintf(os.Stderr, "error %v\n", err)
			status = 2
			continue
		}
		for _, a := range addrs {
			fmt.Printf("%-15s STREAM %s\n", a.IP, name)
		}
	}
	os.Exit(status)
}
