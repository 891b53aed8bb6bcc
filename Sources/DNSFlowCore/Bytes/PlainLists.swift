/// A short list of plain values (nothing to destroy in them), the first two held inline, the rest in an array: for the
/// lists of the per-packet path that almost always hold one or two. Not an `InlineList`: its inline slots are
/// optionals of a generic element, destroyed and tested through the runtime's generic witnesses (by the type's
/// metadata); a plain list is destroyed by releasing its array. Each conforming type declares its storage; what it does
/// with it is here, specialised for each.
protocol PlainList: RandomAccessCollection where Index == Int {
    /// What fills a slot not in use.
    static var blank: Element { get }
    var held: Int { get set }
    var slots: (Element, Element) { get set }
    var rest: [Element] { get set }
}

extension PlainList {
    var startIndex: Int { 0 }
    var endIndex: Int { held }

    subscript(i: Int) -> Element {
        precondition(i >= 0 && i < held, "index out of range")
        return i == 0 ? slots.0 : i == 1 ? slots.1 : rest[i - 2]
    }

    mutating func append(_ element: Element) {
        switch held {
        case 0: slots.0 = element
        case 1: slots.1 = element
        default: rest.append(element)
        }
        held += 1
    }

    /// Removes and returns the element at `i`; the inline slots are refilled from the array.
    @discardableResult
    mutating func remove(at i: Int) -> Element {
        let element = self[i]
        if i < 2 {
            if i == 0 { slots.0 = slots.1 }
            slots.1 = rest.isEmpty ? Self.blank : rest.removeFirst()
        } else {
            rest.remove(at: i - 2)
        }
        held -= 1
        return element
    }

    mutating func removeAll(where gone: (Element) -> Bool) {
        var i = 0
        while i < held {
            if gone(self[i]) { remove(at: i) } else { i += 1 }
        }
    }
}

/// A short list of sequence numbers — an attempt's sends, a pair's chains, a lookup's members and pairs, the queries a
/// send made unanswerable.
struct SequenceList: PlainList, Sendable {
    typealias Element = Int
    static let blank = 0
    var held = 0
    var slots = (0, 0)
    var rest: [Int] = []

    init() {}

    /// A list of one.
    init(_ sequence: Int) { append(sequence) }
}
