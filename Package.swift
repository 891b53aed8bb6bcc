// swift-tools-version:6.0
import PackageDescription

let package = Package(
    name: "dnsflow",
    platforms: [.macOS(.v13)],
    products: [
        .executable(name: "dnsflow", targets: ["dnsflow"]),
        .library(name: "DNSFlowCore", targets: ["DNSFlowCore"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
    ],
    targets: [
        // libpcap, through pkg-config. Only DNSFlowCapture imports it.
        .systemLibrary(
            name: "CPcap",
            pkgConfig: "libpcap",
            providers: [.apt(["libpcap-dev"])]
        ),
        // Bytes → link → IP → UDP/TCP → DNS → transactions → CSV/summary. Pure Swift: no C module, no I/O.
        .target(name: "DNSFlowCore"),
        // PacketSource over libpcap: files, stdin, live interfaces, merged by timestamp.
        .target(name: "DNSFlowCapture", dependencies: ["CPcap", "DNSFlowCore"]),
        // ncurses (wide characters), through pkg-config. Only DNSFlowTUI imports it.
        .systemLibrary(name: "CNcurses", pkgConfig: "ncursesw", providers: [.apt(["libncurses-dev"])]),
        // Screens, key bindings, rendering into a text canvas (ncurses paints it; tests read it).
        .target(name: "DNSFlowTUI", dependencies: ["DNSFlowCore", "CNcurses"]),
        // jemalloc's options for release builds (`malloc_conf`): C, because a global with a C name is what it reads.
        .target(name: "CAllocatorConfig"),
        // capset(2), which Swift cannot reach (syscall is variadic): giving up setcap's capabilities.
        .target(name: "CPrivileges"),
        // The commit a release was built from (`--version`), defined by scripts/package.
        .target(name: "CBuildInfo"),
        .executableTarget(
            name: "dnsflow",
            dependencies: [
                "DNSFlowCore", "DNSFlowCapture", "DNSFlowTUI", "CAllocatorConfig", "CPrivileges", "CBuildInfo",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            // jemalloc as the allocator of release builds (libjemalloc-dev). Packets are decoded on one thread and
            // their messages freed on another; glibc's malloc serialises that on its arena locks (a profile of the
            // interface loading a file: 20 % in futex and lock calls). With jemalloc the interface loads a capture
            // 1.5× as fast, in the same memory. Debug builds (tests, sanitizers) keep the system allocator.
            linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux], configuration: .release))]
        ),
        .testTarget(name: "DNSFlowCoreTests", dependencies: ["DNSFlowCore"]),
        .testTarget(name: "DNSFlowTUITests", dependencies: ["DNSFlowTUI", "DNSFlowCore", "DNSFlowCapture"], exclude: ["Goldens"]),
        // Real captures end to end (Fixtures/, ../shared/corpus) and the command's behaviour.
        .testTarget(name: "DNSFlowCaptureTests", dependencies: ["DNSFlowCore", "DNSFlowCapture", "dnsflow"]),
    ],
    swiftLanguageModes: [.v6]
)
