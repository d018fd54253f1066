/// Publisher confirms of one batch on one channel. RabbitMQ may ack a later message singly while an earlier one
/// is still unconfirmed, and an ack with `multiple` covers every tag up to it; only the leading run of acked
/// messages counts as stored. Tags outside the batch (a broker's mistake, or tag 0) are ignored, never trapped on.
public struct ConfirmTracker: Sendable {
    private let firstTag: UInt64
    private var acked: [Bool]
    /// Messages of the batch with no ack yet.
    public private(set) var unsettled: Int

    /// A batch whose first message got delivery tag `firstTag` and that sent `count` messages.
    public init(firstTag: UInt64, count: Int) {
        self.firstTag = firstTag
        acked = [Bool](repeating: false, count: max(count, 0))
        unsettled = acked.count
    }

    /// Records `basic.ack` for `tag` (and every earlier tag when `multiple`).
    public mutating func ack(_ tag: UInt64, multiple: Bool) {
        guard tag >= firstTag, tag - firstTag < UInt64(acked.count) else { return }
        let index = Int(tag - firstTag)
        for i in (multiple ? 0 : index)...index where !acked[i] {
            acked[i] = true
            unsettled -= 1
        }
    }

    /// How many leading messages are acked.
    public var confirmed: Int { acked.firstIndex(of: false) ?? acked.count }
}
