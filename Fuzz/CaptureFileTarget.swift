// libFuzzer entry point, compiled with Sources/DNSFlowCore and Sources/DNSFlowCapture into one module (named
// DNSFlowCore, so that the capture layer's imports of it resolve to the module itself) by scripts/fuzz/run, with libpcap.
#if canImport(Glibc)
import Glibc
#endif

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzCaptureFile(_ data: UnsafePointer<UInt8>, _ count: Int) -> CInt {
    let outcome = CaptureFileFuzzing.run(Array(UnsafeBufferPointer(start: data, count: count)), directory: "/dev/shm")
    // A packet read back by its offset must be the packet libpcap read; a packet read directly, the packet libpcap reads.
    if outcome.mismatches > 0 || outcome.directDifferences > 0 { abort() }
    return 0
}
