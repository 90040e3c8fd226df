import Containerlab
import Foundation
import FuzzHarness
import Glibc

/// `nstopo-fuzz`: feeds seeded random inputs (token soups and mutated examples) to what
/// `validate` and `plan` do, and reports every input that crashes, takes over 1 s of CPU or
/// peaks over 200 MB. A parent runs workers (one per core) and restarts one that died, after
/// saving the input it died on; a worker silent for 10 s is killed and its input saved as
/// a hang. Every saved input replays alone: `nstopo-fuzz --replay FILE`. With `--import`,
/// the same for `nstopo import`: YAML token soups and mutated containerlab files (`.yml`).
///
///     nstopo-fuzz [--import] [--count N] [--seed S] [--jobs J] [--slow SECONDS] [--out DIR] [--corpus DIR]...
struct Options {
  var count: UInt64 = 100_000
  var seed: UInt64 = 1
  var jobs = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))
  var out = "fuzz-out"
  var corpus: [String] = []
  var worker: (from: UInt64, to: UInt64, slot: Int)?
  var replay: [String] = []
  var slowSeconds = 1.0
  var maxMegabytes = 200
  /// Fuzz `nstopo import` instead of the language.
  var importer = false

  /// What the mode feeds: an input's file name ending, the corpus's, and the run.
  var suffix: String { importer ? ".clab.yml" : ".topo" }
  var corpusSuffix: String { importer ? ".yml" : ".topo" }
  func run(_ bytes: [UInt8]) -> (problems: [String], diagnostics: Int) {
    if importer { return ClabImport.contractProblems(bytes) }
    let o = FuzzHarness.run(bytes)
    return (o.problems, o.diagnostics)
  }
  func input(_ index: UInt64, _ corpus: [[UInt8]]) -> [UInt8] {
    FuzzHarness.input(seed: seed, index: index, corpus: corpus, fragments: importer ? FuzzHarness.yamlFragments : FuzzHarness.fragments)
  }
}

func parse() -> Options {
  var o = Options()
  var args = CommandLine.arguments.dropFirst().makeIterator()
  func value(_ flag: String) -> String {
    guard let v = args.next() else {
      FileHandle.standardError.write("nstopo-fuzz: \(flag) needs a value\n".data(using: .utf8)!)
      exit(64)
    }
    return v
  }
  while let a = args.next() {
    switch a {
    case "--count": o.count = UInt64(value(a)) ?? o.count
    case "--seed": o.seed = UInt64(value(a)) ?? o.seed
    case "--jobs": o.jobs = max(1, Int(value(a)) ?? o.jobs)
    case "--out": o.out = value(a)
    case "--corpus": o.corpus.append(value(a))
    case "--replay": o.replay.append(value(a))
    case "--slow": o.slowSeconds = Double(value(a)) ?? o.slowSeconds
    case "--import": o.importer = true
    case "--worker":
      let parts = value(a).split(separator: ":").compactMap { UInt64($0) }
      guard parts.count == 3 else { exit(64) }
      o.worker = (parts[0], parts[1], Int(parts[2]))
    default:
      FileHandle.standardError.write("usage: nstopo-fuzz [--import] [--count N] [--seed S] [--jobs J] [--slow SECONDS] [--out DIR] [--corpus DIR]... [--replay FILE]...\n".data(using: .utf8)!)
      exit(64)
    }
  }
  return o
}

func monotonic() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_MONOTONIC, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// CPU seconds of the calling thread: what an input costs, whatever else the machine does
/// (two workers on two cores, a build beside them); wall time is reported too.
func cpuSeconds() -> Double {
  var ts = timespec()
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts)
  return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
}

/// Peak resident memory since the last reset, in kB (VmHWM); `reset` clears it
/// (`echo 5 > /proc/self/clear_refs`), so each input is measured alone.
func peakKB(reset: Bool) -> Int {
  let text = (try? String(contentsOfFile: "/proc/self/status", encoding: .utf8)) ?? ""
  let line = text.split(separator: "\n").first { $0.hasPrefix("VmHWM:") }
  let kb = line.flatMap { Int($0.split(separator: " ").dropFirst().first ?? "") } ?? 0
  if reset {
    let fd = open("/proc/self/clear_refs", O_WRONLY)
    if fd >= 0 {
      _ = write(fd, "5", 1)
      close(fd)
    }
  }
  return kb
}

func loadCorpus(_ dirs: [String], suffix: String) -> [[UInt8]] {
  var corpus: [[UInt8]] = []
  for dir in dirs {
    let names = ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(suffix) }.sorted()
    for n in names {
      if let d = FileManager.default.contents(atPath: "\(dir)/\(n)"), d.count < 64 * 1024 { corpus.append([UInt8](d)) }
    }
  }
  return corpus
}

func writeFile(_ path: String, _ bytes: [UInt8]) {
  let fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
  guard fd >= 0 else { return }
  _ = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
  close(fd)
}

/// One line to stdout at once, unbuffered (the parent reads it as it comes).
func emit(_ line: String) {
  let bytes = Array((line + "\n").utf8)
  _ = bytes.withUnsafeBytes { write(1, $0.baseAddress, $0.count) }
}

/// A worker: inputs [from, to). Before each, its index and bytes go to slot files, so that
/// the parent knows what a crash or a hang was on. Reports slow and large inputs as lines
/// `slow INDEX SECONDS` / `large INDEX MB` and ends with `done COUNT MAXSECONDS MAXMB`.
func work(_ o: Options, from: UInt64, to: UInt64, slot: Int) -> Never {
  let corpus = loadCorpus(o.corpus, suffix: o.corpusSuffix)
  let indexFile = "\(o.out)/.slot\(slot).index"
  let inputFile = "\(o.out)/.slot\(slot).topo"
  var slowest = 0.0
  var slowestWall = 0.0
  var largest = 0
  _ = peakKB(reset: true)
  let baseline = peakKB(reset: false)
  for i in from..<to {
    let bytes = o.input(i, corpus)
    writeFile(indexFile, Array("\(i)\n".utf8))
    writeFile(inputFile, bytes)
    _ = peakKB(reset: true)
    let start = cpuSeconds()
    let wallStart = monotonic()
    let outcome = o.run(bytes)
    let seconds = cpuSeconds() - start
    slowestWall = max(slowestWall, monotonic() - wallStart)
    let mb = max(0, peakKB(reset: false) - baseline) / 1024
    slowest = max(slowest, seconds)
    largest = max(largest, mb)
    if !outcome.problems.isEmpty { emit("broken \(i) \(outcome.problems.joined(separator: "; "))") }
    if seconds > o.slowSeconds { emit("slow \(i) \(String(format: "%.3f", seconds))") }
    if mb > o.maxMegabytes { emit("large \(i) \(mb)") }
  }
  emit("done \(to - from) \(String(format: "%.4f", slowest)) \(largest) \(String(format: "%.4f", slowestWall))")
  exit(0)
}

/// Runs one worker over [from, to) to its end, restarting after each crash or hang.
final class Supervisor: @unchecked Sendable {
  let o: Options
  let slot: Int
  var failures: [String] = []
  var inputs: UInt64 = 0
  var slowest = 0.0
  var slowestWall = 0.0
  var largest = 0

  init(_ o: Options, slot: Int) {
    self.o = o
    self.slot = slot
  }

  func save(_ kind: String, _ index: UInt64) {
    let bytes = [UInt8](FileManager.default.contents(atPath: "\(o.out)/.slot\(slot).topo") ?? Data())
    let kept = o.input(index, loadCorpus(o.corpus, suffix: o.corpusSuffix))
    writeFile("\(o.out)/\(kind)-seed\(o.seed)-\(index)\(o.suffix)", bytes.isEmpty ? kept : bytes)
    failures.append("\(kind) at input \(index) (seed \(o.seed)): \(o.out)/\(kind)-seed\(o.seed)-\(index)\(o.suffix)")
  }

  func run(from: UInt64, to: UInt64) {
    var start = from
    while start < to {
      let p = Process()
      p.executableURL = URL(fileURLWithPath: CommandLine.arguments[0])
      p.arguments = ["--worker", "\(start):\(to):\(slot)", "--seed", "\(o.seed)", "--out", o.out, "--slow", "\(o.slowSeconds)"]
        + o.corpus.flatMap { ["--corpus", $0] } + (o.importer ? ["--import"] : [])
      let pipe = Pipe()
      p.standardOutput = pipe
      p.standardError = FileHandle.nullDevice
      do { try p.run() } catch {
        failures.append("cannot start a worker: \(error)")
        return
      }
      var finished = false
      let lines = LineReader(pipe.fileHandleForReading)
      var lastProgress = monotonic()
      var lastIndex = start
      var hung = false
      while true {
        guard let line = lines.next(timeout: 1) else {
          if lines.ended { break }
          // No line: look at the slot's index; no progress for 10 s is a hang.
          let now = UInt64((try? String(contentsOfFile: "\(o.out)/.slot\(slot).index", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? lastIndex
          if now != lastIndex {
            lastIndex = now
            lastProgress = monotonic()
          } else if monotonic() - lastProgress > 10 {
            hung = true
            kill(p.processIdentifier, SIGKILL)
            break
          }
          continue
        }
        let f = line.split(separator: " ")
        switch f.first {
        case "done":
          inputs += UInt64(f[1]) ?? 0
          slowest = max(slowest, Double(f[2]) ?? 0)
          largest = max(largest, Int(f[3]) ?? 0)
          slowestWall = max(slowestWall, f.count > 4 ? Double(f[4]) ?? 0 : 0)
          finished = true
        case "slow", "large", "broken":
          let index = UInt64(f[1]) ?? 0
          failures.append("\(f[0]) at input \(index) (seed \(o.seed)): \(f.dropFirst(2).joined(separator: " "))")
          writeFile("\(o.out)/\(f[0])-seed\(o.seed)-\(index)\(o.suffix)", o.input(index, loadCorpus(o.corpus, suffix: o.corpusSuffix)))
        default: break
        }
      }
      p.waitUntilExit()
      if finished { return }
      let index = UInt64((try? String(contentsOfFile: "\(o.out)/.slot\(slot).index", encoding: .utf8))?.trimmingCharacters(in: .whitespacesAndNewlines) ?? "") ?? start
      save(hung ? "hang" : "crash", index)
      inputs += index - start + 1
      start = index + 1
    }
  }
}

/// Lines from a pipe, with a timeout, on a reader thread.
final class LineReader: @unchecked Sendable {
  private let lock = NSCondition()
  private var lines: [String] = []
  private(set) var ended = false

  init(_ handle: FileHandle) {
    Thread.detachNewThread { [self] in
      var buffer = Data()
      while true {
        let chunk = handle.availableData
        lock.lock()
        if chunk.isEmpty {
          if !buffer.isEmpty { lines.append(String(decoding: buffer, as: UTF8.self)) }
          ended = true
          lock.broadcast()
          lock.unlock()
          return
        }
        buffer += chunk
        while let nl = buffer.firstIndex(of: 10) {
          lines.append(String(decoding: buffer[buffer.startIndex..<nl], as: UTF8.self))
          buffer = Data(buffer[(nl + 1)...])
        }
        lock.broadcast()
        lock.unlock()
      }
    }
  }

  func next(timeout: Double) -> String? {
    lock.lock()
    defer { lock.unlock() }
    let deadline = Date().addingTimeInterval(timeout)
    while lines.isEmpty && !ended {
      if !lock.wait(until: deadline) { break }
    }
    return lines.isEmpty ? nil : lines.removeFirst()
  }
}

let options = parse()
if let w = options.worker { work(options, from: w.from, to: w.to, slot: w.slot) }
if !options.replay.isEmpty {
  var bad = 0
  for path in options.replay {
    let bytes = [UInt8](FileManager.default.contents(atPath: path) ?? Data())
    _ = peakKB(reset: true)
    let start = cpuSeconds()
    let outcome = options.run(bytes)
    let seconds = cpuSeconds() - start
    let mb = peakKB(reset: false) / 1024
    let ok = outcome.problems.isEmpty && seconds <= options.slowSeconds
    if !ok { bad += 1 }
    print("\(path): \(String(format: "%.3f", seconds)) s, peak \(mb) MB, \(outcome.diagnostics) diagnostics\(outcome.problems.isEmpty ? "" : ", " + outcome.problems.joined(separator: "; "))")
  }
  exit(bad == 0 ? 0 : 1)
}

try? FileManager.default.createDirectory(atPath: options.out, withIntermediateDirectories: true)
let started = monotonic()
let supervisors = (0..<options.jobs).map { Supervisor(options, slot: $0) }
let group = DispatchGroup()
for (k, s) in supervisors.enumerated() {
  let from = options.count * UInt64(k) / UInt64(options.jobs)
  let to = options.count * UInt64(k + 1) / UInt64(options.jobs)
  group.enter()
  Thread.detachNewThread {
    s.run(from: from, to: to)
    group.leave()
  }
}
group.wait()
for k in 0..<options.jobs {
  unlink("\(options.out)/.slot\(k).index")
  unlink("\(options.out)/.slot\(k).topo")
}
let failures = supervisors.flatMap(\.failures)
let crashes = failures.filter { $0.hasPrefix("crash") }.count
let hangs = failures.filter { $0.hasPrefix("hang") || $0.hasPrefix("slow") }.count
let large = failures.filter { $0.hasPrefix("large") }.count
let broken = failures.filter { $0.hasPrefix("broken") }.count
for f in failures { print("nstopo-fuzz: \(f)") }
print(
  "nstopo-fuzz\(options.importer ? " --import" : ""): \(supervisors.reduce(0) { $0 + $1.inputs }) inputs (seed \(options.seed)) in \(String(format: "%.1f", monotonic() - started)) s: "
    + "\(crashes) crashes, \(hangs) over \(options.slowSeconds) s of CPU, \(large) over \(options.maxMegabytes) MB, \(broken) broken; "
    + "slowest \(String(format: "%.3f", supervisors.map(\.slowest).max() ?? 0)) s CPU (\(String(format: "%.3f", supervisors.map(\.slowestWall).max() ?? 0)) s wall), "
    + "largest \(supervisors.map(\.largest).max() ?? 0) MB above the baseline")
exit(failures.isEmpty ? 0 : 1)
