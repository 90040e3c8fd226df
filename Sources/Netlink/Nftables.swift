import CNftables
import Glibc

/// nftables through libnftables, in the calling thread's network namespace: a context opens
/// its netlink socket where it is created, so one is made (and freed) per call, after `setns`.
public enum Nftables {
  public struct Failure: Error, CustomStringConvertible {
    public var namespace: String
    public var message: String
    public var description: String { "nftables in \(namespace): \(message)" }
  }

  /// Runs `commands` (nft syntax: a ruleset, or `list table …`) in one transaction and returns
  /// what nft prints. Equivalent to `ip netns exec NS nft -f -` (`json`: `nft -j`).
  @discardableResult
  public static func run(_ commands: String, json: Bool = false, namespace: String) throws(Failure) -> String {
    guard let ctx = nft_ctx_new(UInt32(NFT_CTX_DEFAULT)) else { throw Failure(namespace: namespace, message: "cannot create a context") }
    defer { nft_ctx_free(ctx) }
    _ = nft_ctx_buffer_output(ctx)
    _ = nft_ctx_buffer_error(ctx)
    if json { nft_ctx_output_set_flags(ctx, UInt32(NFT_CTX_OUTPUT_JSON)) }
    let rc = nft_run_cmd_from_buffer(ctx, commands)
    let out = nft_ctx_get_output_buffer(ctx).map { String(cString: $0) } ?? ""
    if rc != 0 {
      let err = nft_ctx_get_error_buffer(ctx).map { String(cString: $0) } ?? ""
      throw Failure(namespace: namespace, message: err.isEmpty ? "failed (\(rc))" : err.trimmingTrailingNewlines())
    }
    return out
  }
}

extension String {
  func trimmingTrailingNewlines() -> String {
    var s = self
    while s.last == "\n" { s.removeLast() }
    return s
  }
}
