/// A short list of sequence numbers — an attempt's sends, a pair's chains, a lookup's members and pairs, the queries a
/// send made unanswerable — the first two held inline, the rest in an array. What `InlineList<Int>` holds, as plain
/// integers: an `InlineList`'s inline slots are optionals of its generic element, destroyed and tested through the
/// runtime's generic witnesses (by the type's metadata); this one is destroyed by releasing its array.
struct SequenceList: RandomAccessCollection, Sendable {
    private var held = 0
    private var first = 0, second = 0
    private var rest: [Int] = []

    init() {}

    /// A list of one.
    init(_ sequence: Int) { append(sequence) }

    var startIndex: Int { 0 }
    var endIndex: Int { held }

    subscript(i: Int) -> Int {
        precondition(i >= 0 && i < held, "SequenceList index out of range")
        return i == 0 ? first : i == 1 ? second : rest[i - 2]
    }

    mutating func append(_ sequence: Int) {
        switch held {
        case 0: first = sequence
        case 1: second = sequence
        default: rest.append(sequence)
        }
        held += 1
    }
}
