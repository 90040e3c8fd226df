import Planner
import Realizer
import TestSupport
import TopologyDSL
import TopologyModel
import XCTest

struct InjectedFailure: Error {}

/// A recording fake of the kernel, in the spirit of swift-system's Mocking: it keeps a trace
/// of every step, tracks which objects exist, and can be told to fail the Nth call.
final class FakeKernel: KernelBackend {
  var trace: [Step] = []
  var failAt: Int?
  var namespaces = Set<String>()
  /// Links keyed by "ns/name" (root: "/name").
  var links = Set<String>()
  var calls = 0

  func apply(_ step: Step) throws {
    defer { calls += 1 }
    if calls == failAt { throw InjectedFailure() }
    trace.append(step)
    switch step {
    case .network(.createNamespace(let n)):
      XCTAssertFalse(namespaces.contains(n), "namespace \(n) created twice")
      namespaces.insert(n)
    case .network(.deleteNamespace(let n)):
      XCTAssertTrue(namespaces.contains(n), "deleting missing namespace \(n)")
      namespaces.remove(n)
      links = links.filter { !$0.hasPrefix(n + "/") }
      // A veth dies with its peer's namespace.
      links = links.filter { link in !(peers[link]?.hasPrefix(n + "/") ?? false) }
    case .network(.createVeth(let v)):
      let local = "\(v.ns ?? "")/\(v.name)"
      let remote = "\(v.peerNamespace ?? "")/\(v.peerName)"
      if let ns = v.ns { XCTAssertTrue(namespaces.contains(ns), "veth in missing namespace \(ns)") }
      links.insert(local)
      links.insert(remote)
      peers[local] = remote
      peers[remote] = local
    case .node(.createCgroup(let path, _)):
      XCTAssertFalse(cgroups.contains(path), "cgroup \(path) created twice")
      cgroups.insert(path)
    case .node(.deleteCgroup(let path)):
      XCTAssertTrue(cgroups.contains(path), "deleting missing cgroup \(path)")
      XCTAssertFalse(cgroups.contains { $0.hasPrefix(path + "/") }, "deleting \(path) before its children")
      cgroups.remove(path)
    case .network(.createBridge(let ns, let name, _)):
      links.insert("\(ns)/\(name)")
    case .network(.deleteLink(let ns, let name)):
      let key = "\(ns ?? "")/\(name)"
      XCTAssertTrue(links.contains(key), "deleting missing link \(key)")
      links.remove(key)
      if let p = peers[key] { links.remove(p) }
    default:
      break
    }
  }

  var peers: [String: String] = [:]
  var cgroups = Set<String>()

  /// Behave like a backend that applies namespace groups at once: every group runs even when
  /// another fails (creating `failNamespace` fails).
  var concurrent = false
  var failNamespace: String?
  var groupsApplied = 0

  func applyConcurrently(_ groups: [[Step]]) -> [GroupOutcome] {
    var failed = false
    return groups.map { group in
      var outcome = GroupOutcome(applied: 0, error: nil)
      for step in group where concurrent || !failed {
        if case .network(.createNamespace(let n)) = step, n == failNamespace {
          outcome.error = InjectedFailure()
        } else {
          do { try apply(step) } catch { outcome.error = error }
        }
        if outcome.error != nil {
          failed = true
          break
        }
        outcome.applied += 1
      }
      if outcome.applied == group.count { groupsApplied += 1 }
      return outcome
    }
  }

  /// Objects that would outlive the process: namespaces and root-namespace links.
  var leftovers: [String] { namespaces.sorted() + links.filter { $0.hasPrefix("/") }.sorted() + cgroups.sorted() }
}

final class RecordingJournal: JournalSink {
  var entries: [JournalEntry] = []
  func record(_ e: [JournalEntry]) throws { entries += e }
}

func labWithHost() -> Topology {
  Fixtures.load(Fixtures.twoLANs(b: ["run sleep 100", "cpu 50%"], extra: ["link host:nsttveth 10.99.0.1/24 -- a:eth1 10.99.0.2/24"])).0!
}
