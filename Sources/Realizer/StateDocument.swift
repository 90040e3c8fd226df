import CShim
import Foundation
import Glibc
import Netlink
import TopologyModel

/// What `up` leaves in /run/nstopo/<topology>/ (documented in the README):
///
///     state.json   the resolved topology and the file it came from, as `up` built it
///     links.json   every link's state since a change at run time (ends down, properties),
///                  replaced atomically by each change; it overrides state.json's
///     journal      what was created (see JournalEntry), appended as it happens
///     pid          the process that ran `up`
///     complete     present once `up` finished
///     test.lock    flock'ed by the `nstopo test` running on the topology, if any
///     scenario-base.json   the links before the scenario a test put in force
///     change-target.json   the links a change is making, until it is journaled done or undone
///
/// The journal is flock'ed by whichever nstopo is bringing the topology up or down.
public struct StateDocument: Codable, Sendable {
  /// 1: written before the field existed (read as it is); 2: this version.
  public var format: Int
  public var file: String
  public var created: Date
  public var topology: Topology
  /// `up --static-neighbours`: the permanent neighbour entries stay for as long as the
  /// topology is up, and `test` leaves them alone (nil in documents from before the option).
  public var staticNeighbours: Bool?
  /// Who brought it up: the user's name (or uid) and the pid of `nstopo up` (nil in
  /// documents from before they were kept).
  public var user: String?
  public var pid: Int32?

  /// The format this version writes, and the newest it reads. 1: no format field; 2: the
  /// field; 3: a link end's `addresses` list in place of its one `address`; 4: a bridge's and
  /// a link's `subnets` list in place of one `subnet`; 5: an owner as one string (`node:h1`),
  /// link ends that are down and link properties (every older form is still read).
  public static let currentFormat = 5

  public init(file: String, created: Date, topology: Topology, staticNeighbours: Bool = false, user: String? = nil, pid: Int32? = nil) {
    self.format = Self.currentFormat
    self.file = file
    self.created = created
    self.topology = topology
    self.staticNeighbours = staticNeighbours
    self.user = user
    self.pid = pid
  }

  enum CodingKeys: String, CodingKey {
    case format, file, created, topology, staticNeighbours, user, pid
  }

  public init(from decoder: Decoder) throws {
    let c = try decoder.container(keyedBy: CodingKeys.self)
    format = try c.decodeIfPresent(Int.self, forKey: .format) ?? 1
    file = try c.decode(String.self, forKey: .file)
    created = try c.decode(Date.self, forKey: .created)
    topology = try c.decode(Topology.self, forKey: .topology)
    staticNeighbours = try c.decodeIfPresent(Bool.self, forKey: .staticNeighbours)
    user = try c.decodeIfPresent(String.self, forKey: .user)
    pid = try c.decodeIfPresent(Int32.self, forKey: .pid)
  }

  /// Reads a document of any format this version knows; a newer or damaged one is an error
  /// that says so, not "not up".
  public static func decode(_ data: [UInt8], path: String) throws(StateError) -> StateDocument {
    struct Format: Decodable { var format: Int? }
    let decoder = JSONDecoder()
    decoder.dateDecodingStrategy = .iso8601
    let format = (try? decoder.decode(Format.self, from: Data(data)))?.format ?? 1
    if format > currentFormat {
      throw .unreadable("\(path) was written by a newer nstopo (format \(format); this one reads up to \(currentFormat)); use that version to test or take it down")
    }
    do {
      return try decoder.decode(StateDocument.self, from: Data(data))
    } catch {
      throw .unreadable("\(path) cannot be read (\(error)); `nstopo down` still removes what the journal lists")
    }
  }
}

public enum StateError: Error, CustomStringConvertible {
  case alreadyUp(String)
  case busy(String, pid: String?)
  case interrupted(String)
  case notUp(String)
  case testing(String)
  case io(String)
  /// A name that the language's rules refuse: it never becomes part of a path.
  case badName(String, problem: String)
  /// State that nstopo did not make, or that others could have changed: left alone.
  case unsafe(String)
  /// A state.json this version cannot read (newer, or damaged).
  case unreadable(String)

  public var description: String {
    switch self {
    case .alreadyUp(let n): return "topology '\(n)' is already up (run `nstopo down \(n)` first, or use `up --replace`)"
    case .busy(let n, let pid):
      return "topology '\(n)' is being changed by another nstopo\(pid.map { " (pid \($0))" } ?? ""); try again when it is done"
    case .interrupted(let n):
      return "a previous `up` of '\(n)' did not finish (it was interrupted); run `nstopo down \(n)` to clean it up"
    case .notUp(let n): return "topology '\(n)' is not up"
    case .testing(let n): return "topology '\(n)' is being tested by another `nstopo test`; try again when it is done"
    case .io(let m): return m
    case .badName(let n, let problem): return "'\(n.debugDescription.dropFirst().dropLast())' is not a topology name: it \(problem)"
    case .unsafe(let m), .unreadable(let m): return m
    }
  }
}
