/// A hint to the processor to bring the cache line at `address` into its caches before it is read: it never faults
/// and never waits (unlike a read, an atomic update of a reference count does not wait for it either).
#if DEBUG
// Debug builds prefetch nothing: ThreadSanitizer's instrumentation turns a call of the intrinsic into an `invoke`, which
// LLVM refuses (sanitizer builds are debug builds).
@inline(__always) func prefetch(_ address: UnsafeRawPointer, lines: Int) {}
#else
@_silgen_name("llvm.prefetch.p0")
private func llvmPrefetch(_ address: UnsafeRawPointer, _ write: Int32, _ locality: Int32, _ cacheType: Int32)

@inline(__always) func prefetch(_ address: UnsafeRawPointer, lines: Int) {
    for i in 0..<lines { llvmPrefetch(address + 64 * i, 0, 3, 1) }
}
#endif
