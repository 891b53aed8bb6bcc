extension Array {
    /// For a first-in-first-out list kept as an array read from `head`: the consumed front goes when it is all of the
    /// array (the capacity kept), or when it is more than `threshold` elements and more than half of the array (one
    /// move for as many reads: amortised constant).
    @inlinable @inline(__always) public mutating func dropConsumed(head: inout Int, threshold: Int = 4096) {
        if head == count {
            removeAll(keepingCapacity: true)
            head = 0
        } else if head > threshold, head * 2 > count {
            removeFirst(head)
            head = 0
        }
    }

    /// Empties a short list kept between uses, its capacity kept: one element at a time from its end, where
    /// `removeAll(keepingCapacity:)` takes the general path of a replacement, even for a list of one.
    @inlinable @inline(__always) public mutating func empty() {
        while !isEmpty { removeLast() }
    }
}
