import ClerkKit
import Store

extension Backfill {
    /// `items` as the store takes them: the decoded ones as records (through `record`), the refused ones set
    /// aside as `kind`.
    static func split<Resource, Record>(
        _ items: [ClerkListItem<Resource>], kind: BackfillSkip.Kind,
        record: (Resource, String) -> Record
    ) -> (records: [Record], skips: [BackfillSkip]) {
        var records: [Record] = []
        var skips: [BackfillSkip] = []
        records.reserveCapacity(items.count)
        for item in items {
            switch item {
            case .decoded(let resource, let json): records.append(record(resource, json))
            case .refused(let refused): skips.append(skip(refused, kind: kind))
            }
        }
        return (records, skips)
    }

    /// A refused item, set aside as `kind`.
    static func skip(_ item: ClerkRefusedItem, kind: BackfillSkip.Kind) -> BackfillSkip {
        BackfillSkip(kind: kind, clerkId: item.id, reason: item.reason, detail: item.detail, body: item.json)
    }
}
