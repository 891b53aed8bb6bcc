import DNSFlowCore

/// A packet behind a row: enough to find it again, in memory (input, frame) or in its file (offset).
/// 16 bytes: the input in the top 16 bits of one word and the frame in the other 48 (65,535 inputs, 2⁴⁸ frames),
/// and the file offset.
public struct PacketRef: Sendable, Equatable {
    private var inputAndFrame: UInt64
    public private(set) var fileOffset: Int64

    private static let frameBits: UInt64 = 48
    private static let frameMask: UInt64 = 1 << frameBits - 1
    static let none = PacketRef(inputAndFrame: .max, fileOffset: -1)

    private init(inputAndFrame: UInt64, fileOffset: Int64) {
        self.inputAndFrame = inputAndFrame
        self.fileOffset = fileOffset
    }

    /// Nil for a point beyond what packs (an input number of 65,535 or more, a frame of 2⁴⁸ or more): such a row keeps
    /// its transaction instead.
    init?(_ p: CapturePoint) {
        guard let input = UInt64(exactly: p.input), input < 0xffff, let frame = UInt64(exactly: p.frame),
              frame <= PacketRef.frameMask
        else { return nil }
        inputAndFrame = input << PacketRef.frameBits | frame
        fileOffset = p.fileOffset
    }

    var isNone: Bool { inputAndFrame == .max }
    public var input: Int { Int(inputAndFrame >> PacketRef.frameBits) }
    public var frame: Int { Int(inputAndFrame & PacketRef.frameMask) }
    public var point: CapturePoint { CapturePoint(input: input, frame: frame, fileOffset: fileOffset) }
}
