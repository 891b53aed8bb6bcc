// libFuzzer entry point, compiled with Sources/DNSFlowCore into one module by scripts/fuzz/run.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzDNSParser(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    FuzzHarness.dnsParser(Array(UnsafeBufferPointer(start: data, count: count)))
    return 0
}
