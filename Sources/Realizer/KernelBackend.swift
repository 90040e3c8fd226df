import Planner

/// Applies single kernel steps. The seam between the realizer and the kernel: the real one
/// speaks netlink, a recording fake proves rollback order without root.
public protocol KernelBackend: AnyObject {
  func apply(_ step: Step) throws
}
