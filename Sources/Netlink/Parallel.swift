import Glibc

/// Runs `body(0..<count)` on `count` threads (the caller's is worker 0) and waits for all:
/// the one thread launcher of the realizer and the probe engine. Plain pthreads: the work
/// enters namespaces, which must not hop between threads.
///
/// When a thread cannot be started, `fallback` runs that share on the caller's thread; without
/// it (for workers that wait on each other), `onFailure` is called, the threads already started
/// are joined, worker 0 never runs, and the errno is returned. Otherwise returns 0.
@discardableResult
public func parallel(
  _ count: Int, fallback: Bool = true, onFailure: () -> Void = {}, _ body: @escaping (Int) -> Void
) -> Int32 {
  final class Context {
    let body: (Int) -> Void
    let worker: Int
    init(_ body: @escaping (Int) -> Void, _ worker: Int) {
      self.body = body
      self.worker = worker
    }
  }
  var threads: [pthread_t] = []
  for w in 1..<max(1, count) {
    let context = Unmanaged.passRetained(Context(body, w)).toOpaque()
    var t = pthread_t()
    let rc = pthread_create(&t, nil, { arg in
      let c = Unmanaged<Context>.fromOpaque(arg!).takeRetainedValue()
      c.body(c.worker)
      return nil
    }, context)
    if rc == 0 {
      threads.append(t)
      continue
    }
    Unmanaged<Context>.fromOpaque(context).release()
    if fallback {
      body(w)
    } else {
      onFailure()
      for t in threads { pthread_join(t, nil) }
      return rc
    }
  }
  body(0)
  for t in threads { pthread_join(t, nil) }
  return 0
}

/// A fixed number of slots that threads fill, each its own: no shared Swift array is mutated
/// from two threads.
public final class Slots<T>: @unchecked Sendable {
  private let buffer: UnsafeMutableBufferPointer<T>

  public init(_ count: Int, _ initial: T) {
    buffer = .allocate(capacity: count)
    buffer.initialize(repeating: initial)
  }

  deinit {
    _ = buffer.deinitialize()
    buffer.deallocate()
  }

  public subscript(i: Int) -> T {
    get { buffer[i] }
    set { buffer[i] = newValue }
  }
}
