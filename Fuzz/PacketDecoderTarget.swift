// libFuzzer entry point, compiled with Sources/DNSFlowCore into one module by scripts/fuzz/run.

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzPacketDecoder(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    FuzzHarness.packetDecoder(Array(UnsafeBufferPointer(start: data, count: count)))
    return 0
}
