/// A list whose first two elements are held inline, the rest in an array: for the many small lists of the per-packet
/// path (the queries open under one matching key, the sightings under one hash, an attempt's sends, a pair's chains),
/// which almost always hold one or two elements. An array of their own was an allocation each (about 48 bytes with its header).
public struct InlineList<Element>: RandomAccessCollection {
    private var first: Element?, second: Element?
    private var rest: [Element] = []

    public init() {}

    public init(_ elements: some Sequence<Element>) {
        for e in elements { append(e) }
    }

    public var startIndex: Int { 0 }
    public var endIndex: Int { first == nil ? 0 : second == nil ? 1 : 2 + rest.count }

    public subscript(i: Int) -> Element {
        switch i {
        case 0: first!
        case 1: second!
        default: rest[i - 2]
        }
    }

    /// Takes the element over (`consuming`): moved into its slot, not copied.
    public mutating func append(_ e: consuming Element) {
        if first == nil { first = consume e } else if second == nil { second = consume e } else { rest.append(consume e) }
    }

    /// Inserting anywhere but at the end is rare (a row arriving out of order): the list is rebuilt.
    public mutating func insert(_ e: Element, at i: Int) {
        if i == count { return append(e) }
        var all = Array(self)
        all.insert(e, at: i)
        self = InlineList(all)
    }

    /// Removes and returns the element at `i`; the inline slots are refilled from the array (no allocation).
    @discardableResult
    public mutating func remove(at i: Int) -> Element {
        switch i {
        case 0:
            let e = first!
            first = second
            second = rest.isEmpty ? nil : rest.removeFirst()
            return e
        case 1:
            let e = second!
            second = rest.isEmpty ? nil : rest.removeFirst()
            return e
        default:
            return rest.remove(at: i - 2)
        }
    }

    /// Each element, changed where it lies (none copied out and back).
    public mutating func updateEach(_ body: (inout Element) -> Void) {
        if first != nil { body(&first!) }
        if second != nil { body(&second!) }
        if !rest.isEmpty {
            for i in rest.indices { body(&rest[i]) }
        }
    }

    /// Appends every element to `list`, in order, and leaves this list empty: each element moved, so that one held
    /// alone here is held alone there.
    public mutating func moveAll(into list: inout [Element]) {
        guard let f = first.take() else { return }
        list.append(consume f)
        guard let s = second.take() else { return }
        list.append(consume s)
        if !rest.isEmpty {
            list.append(contentsOf: rest)
            rest = []
        }
    }

    public mutating func removeAll(where gone: (Element) -> Bool) {
        var i = 0
        while i < count {
            if gone(self[i]) { remove(at: i) } else { i += 1 }
        }
    }
}

extension InlineList: Sendable where Element: Sendable {}
