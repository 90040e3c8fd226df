/// What `up` records before and after creating an object that outlives the process: a
/// namespace, or an interface in the root namespace. Everything else lives inside a
/// namespace and dies with it. `down` reads these lines back, even after `kill -9`.
///
///     +netns lab-h1        about to create (written before the syscall)
///     =netns lab-h1 4026532913   created; the number proves which namespace: its nsfs inode
///     !netns lab-h1        creation failed: not ours, never delete
///     +link veth1          about to create a root-namespace veth (alias nstopo:<topology>)
///     =link veth1
///     +cgroup nstopo-lab/h1   a cgroup (path under each cgroup mount)
///     =cgroup nstopo-lab/h1
///     bridges lab          the bridge namespace (deleted last, after its veths are released)
///     format 2             first line since namespaces carry nstopo's mark (see Ownership);
///                          a journal without it was written before, and is read as then
///     change link r1 r2 down   a change at run time, about to be applied
///     changed link r1 r2 down  applied, and links.json says so
///     unchanged link r1 r2 down  failed or interrupted, and undone
public enum JournalEntry: Hashable, Sendable {
  case intent(Kind, String)
  /// `proof`: what identifies the object once it exists (a namespace's nsfs inode), so that
  /// `down` deletes this object and not another that later took its name.
  case created(Kind, String, proof: UInt64? = nil)
  case failed(Kind, String)
  case bridgeNamespace(String)
  case format(Int)
  /// A change at run time (`nstopo link …`, `nstopo node …`), before it is applied.
  case change(String)
  /// The change is applied and recorded in links.json.
  case changed(String)
  /// The change failed or was interrupted, and was undone.
  case unchanged(String)

  /// The journal format this version writes.
  public static let currentFormat = 2

  public enum Kind: String, Sendable {
    case netns
    case link
    case cgroup
  }

  public var line: String {
    switch self {
    case .intent(let k, let n): return "+\(k.rawValue) \(n)"
    case .created(let k, let n, let proof): return "=\(k.rawValue) \(n)" + (proof.map { " \($0)" } ?? "")
    case .failed(let k, let n): return "!\(k.rawValue) \(n)"
    case .bridgeNamespace(let n): return "bridges \(n)"
    case .format(let f): return "format \(f)"
    case .change(let c): return "change \(c)"
    case .changed(let c): return "changed \(c)"
    case .unchanged(let c): return "unchanged \(c)"
    }
  }

  public init?(line: String) {
    let parts = line.split(separator: " ", maxSplits: 1).map(String.init)
    guard parts.count == 2 else { return nil }
    if parts[0] == "bridges" {
      self = .bridgeNamespace(parts[1])
      return
    }
    switch parts[0] {
    case "change":
      self = .change(parts[1])
      return
    case "changed":
      self = .changed(parts[1])
      return
    case "unchanged":
      self = .unchanged(parts[1])
      return
    default:
      break
    }
    if parts[0] == "format" {
      guard let f = Int(parts[1]) else { return nil }
      self = .format(f)
      return
    }
    guard let mark = parts[0].first, let kind = Kind(rawValue: String(parts[0].dropFirst())) else { return nil }
    switch mark {
    case "+": self = .intent(kind, parts[1])
    case "=":
      // Names have no spaces (NameRules); a second word is the proof.
      let words = parts[1].split(separator: " ")
      guard words.count == 1 || words.count == 2, let name = words.first else { return nil }
      guard words.count == 2 else {
        self = .created(kind, String(name))
        return
      }
      guard let proof = UInt64(words[1]) else { return nil }
      self = .created(kind, String(name), proof: proof)
    case "!": self = .failed(kind, parts[1])
    default: return nil
    }
  }
}

public protocol JournalSink: AnyObject {
  func record(_ entries: [JournalEntry]) throws
}

/// The objects a journal says are nstopo's, in creation order.
public struct JournalSummary: Equatable, Sendable {
  /// Namespaces that were created, or whose creation was under way when the process died
  /// (their file, if present, was made by nstopo with O_EXCL).
  public var namespaces: [String] = []
  /// Root-namespace interfaces; delete only when they carry the topology's alias.
  public var hostLinks: [String] = []
  /// Cgroups, parents before children.
  public var cgroups: [String] = []
  public var bridgeNamespace: String?
  /// Objects (`"netns NAME"`) with an intent and no outcome: the process died in between, so
  /// nothing says whether the object that has the name now is nstopo's.
  public var unconfirmed: Set<String> = []
  /// Namespace name → the nsfs inode recorded once it existed.
  public var proofs: [String: UInt64] = [:]
  /// 1 for a journal written before the `format` line existed.
  public var format = 1
  /// A change at run time that began and neither finished nor was undone (the process died
  /// in between): the kernel may be part way.
  public var unfinishedChange: String?
  /// A scenario that a test put in force and did not revert (the test was killed).
  public var scenarioInForce: String?

  /// Whether `up` journaled its intent to create the object and died before the outcome.
  public func isUnconfirmed(_ kind: JournalEntry.Kind, _ name: String) -> Bool {
    unconfirmed.contains("\(kind.rawValue) \(name)")
  }

  public init(_ entries: [JournalEntry]) {
    var failed = Set<String>()
    var confirmed = Set<String>()
    for e in entries {
      switch e {
      case .failed(let k, let n): failed.insert("\(k.rawValue) \(n)")
      case .intent(let k, let n): unconfirmed.insert("\(k.rawValue) \(n)")
      case .created(let k, let n, let proof):
        confirmed.insert("\(k.rawValue) \(n)")
        if k == .netns, let proof { proofs[n] = proof }
      case .bridgeNamespace: break
      case .format(let f): format = f
      case .change(let c): unfinishedChange = c
      case .changed(let c):
        unfinishedChange = nil
        if c.hasPrefix("scenario ") {
          scenarioInForce = c.hasSuffix(" reverted") ? nil : String(c.dropFirst("scenario ".count))
        }
      case .unchanged: unfinishedChange = nil
      }
    }
    unconfirmed.subtract(confirmed)
    unconfirmed.subtract(failed)
    var seen = Set<String>()
    for e in entries {
      switch e {
      case .intent(let k, let n), .created(let k, let n, _):
        let key = "\(k.rawValue) \(n)"
        guard !failed.contains(key), seen.insert(key).inserted else { continue }
        switch k {
        case .netns: namespaces.append(n)
        case .link: hostLinks.append(n)
        case .cgroup: cgroups.append(n)
        }
      case .bridgeNamespace(let n):
        bridgeNamespace = n
      case .failed, .format, .change, .changed, .unchanged:
        break
      }
    }
  }
}
