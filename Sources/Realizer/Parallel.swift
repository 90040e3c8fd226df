import Glibc

/// Runs `body(0..<count)` on `count` threads (the caller's is worker 0) and waits for all.
/// Plain pthreads: the work enters namespaces, which must not hop between threads.
func parallel(_ count: Int, _ body: @escaping (Int) -> Void) {
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
    if pthread_create(&t, nil, { arg in
      let c = Unmanaged<Context>.fromOpaque(arg!).takeRetainedValue()
      c.body(c.worker)
      return nil
    }, context) == 0 {
      threads.append(t)
    } else {
      // No thread: do that share here.
      Unmanaged<Context>.fromOpaque(context).release()
      body(w)
    }
  }
  body(0)
  for t in threads { pthread_join(t, nil) }
}

/// A fixed number of slots that threads fill, each its own: no shared Swift array is mutated
/// from two threads.
final class Slots<T>: @unchecked Sendable {
  private let buffer: UnsafeMutableBufferPointer<T>

  init(_ count: Int, _ initial: T) {
    buffer = .allocate(capacity: count)
    buffer.initialize(repeating: initial)
  }

  deinit {
    _ = buffer.deinitialize()
    buffer.deallocate()
  }

  subscript(i: Int) -> T {
    get { buffer[i] }
    set { buffer[i] = newValue }
  }
}
